"""``motcua users …``, ``motcua models …`` and the retraining command, as typer sub-apps.

Wired into ``motcua/cli.py`` with :func:`register`.
"""

from __future__ import annotations

import getpass

import typer
from rich.console import Console
from rich.table import Table

from motcua.settings import get_settings

console = Console()
users_app = typer.Typer(help="Tài khoản cán bộ / staff accounts.", no_args_is_help=True)
models_app = typer.Typer(help="Các phiên bản mô hình Rasa / model registry.", no_args_is_help=True)


def _fail(message: str) -> None:
    console.print(f"[bold red]Lỗi:[/] {message}")
    raise typer.Exit(1)


@users_app.command("create", help="Tạo tài khoản (quản trị viên đầu tiên: --role admin) / create an account.")
def users_create(
    username: str = typer.Argument(..., help="Tên đăng nhập / username"),
    role: str = typer.Option("staff", "--role", help="staff | admin"),
    full_name: str = typer.Option("", "--name", help="Họ tên / full name"),
    center: str = typer.Option("", "--center", help="Mã trung tâm / center code"),
    password: str = typer.Option("", "--password", envvar="MOTCUA_NEW_PASSWORD",
                                 help="Mật khẩu (bỏ trống: nhập khi chạy) / password (empty: prompt)"),
) -> None:
    from motcua.db import session_scope, upgrade_database
    from motcua.staff.accounts import AccountError, create_user

    settings = get_settings()
    if not password:
        password = getpass.getpass("Mật khẩu / password: ")
        if password != getpass.getpass("Nhập lại / again: "):
            _fail("hai lần nhập mật khẩu không khớp.")
    upgrade_database(settings.sqlalchemy_url)
    if center:
        from motcua.centers import find_center, staff_center

        with session_scope(settings.sqlalchemy_url) as session:
            known = find_center(session, staff_center(session, center)) is not None
        if not known:  # such an account would find no counter and no ticket
            _fail(f"không có trung tâm «{center}» (xem `motcua centers list`).")
    try:
        with session_scope(settings.sqlalchemy_url) as session:
            user = create_user(session, username, password, role=role, full_name=full_name, center_code=center,
                               actor="cli")
            name, role_ = user.username, user.role
    except AccountError as exc:
        _fail(str(exc))
    console.print(f"✓ Đã tạo tài khoản «{name}» ({role_}). Đăng nhập tại /staff/login")


@users_app.command("list", help="Danh sách tài khoản / list accounts.")
def users_list() -> None:
    from motcua.db import session_scope
    from motcua.staff.accounts import list_users

    table = Table("Tên đăng nhập", "Họ tên", "Vai trò", "Hoạt động", "Khóa đến")
    with session_scope(get_settings().sqlalchemy_url) as session:
        for u in list_users(session):
            table.add_row(u.username, u.full_name, u.role, "có" if u.active else "không",
                          u.locked_until.isoformat() if u.locked_until else "")
    console.print(table)


@models_app.command("list", help="Các phiên bản mô hình và điểm đánh giá / versions and scores.")
def models_list() -> None:
    from motcua.db import session_scope
    from motcua.training import RasaModelLoader, list_versions, version_dict

    settings = get_settings()
    running = RasaModelLoader(settings.rasa_base_urls, settings.rasa_token).running_model()
    table = Table("#", "Tệp", "Dấu vân tay", "Trạng thái", "F1 ý định", "F1 thực thể", "Kịch bản lỗi", "Đưa vào dùng")
    with session_scope(settings.sqlalchemy_url) as session:
        for v in map(version_dict, list_versions(session)):
            table.add_row(str(v["id"]), v["file"] + (" ◀ đang chạy" if v["file"] == running else ""), v["fingerprint"],
                          v["status"], str(v["intent_f1"]), str(v["entity_f1"]),
                          f"{v['stories_failed']}/{v['stories_total']}", v["promoted_at"] or "")
    console.print(table)
    console.print(f"Rasa đang chạy: {running or '(không trả lời)'}")


@models_app.command("rollback", help="Nạp lại mô hình trước vào Rasa đang chạy / roll back the running model.")
def models_rollback() -> None:
    from motcua.training import RasaModelLoader, TrainingProblem, rollback

    settings = get_settings()
    try:
        version = rollback(settings, RasaModelLoader(settings.rasa_base_urls, settings.rasa_token), actor="cli")
    except TrainingProblem as exc:
        _fail(str(exc))
    console.print(f"✓ Đã quay lại phiên bản {version.id} ({version.path})")


def train_command(
    promote_if_better: bool = typer.Option(False, "--promote-if-better",
                                           help="Đánh giá, so sánh và nạp vào Rasa đang chạy nếu không kém hơn"),
    force: bool = typer.Option(False, "--force", help="Huấn luyện lại dù không đổi / retrain anyway"),
) -> None:
    """Huấn luyện mô hình Rasa / train the Rasa model (with --promote-if-better: the gated retraining)."""
    from motcua.runtime import RuntimeProblem, ensure_model
    from motcua.training import RasaModelLoader, TrainingRequest, create_run, run_training

    settings = get_settings()
    if not promote_if_better:
        try:
            ensure_model(settings, force=force, echo=console.print)
        except RuntimeProblem as exc:
            _fail(str(exc))
        return
    from motcua.db import upgrade_database

    upgrade_database(settings.sqlalchemy_url)
    request = TrainingRequest(actor="cli", promote_if_better=True)
    run_id = create_run(settings, request)
    status = run_training(settings, run_id, request, RasaModelLoader(settings.rasa_base_urls, settings.rasa_token), echo=console.print)
    if status == "failed":
        raise typer.Exit(1)
    if status == "refused":
        raise typer.Exit(2)


def register(app: typer.Typer, with_train: bool = False) -> None:
    """Add ``users`` and ``models`` to the ``motcua`` command; with ``with_train`` also ``train``
    (``--force`` as before, plus ``--promote-if-better``) in place of the plain one."""
    app.add_typer(users_app, name="users")
    app.add_typer(models_app, name="models")
    if with_train:
        app.command("train", help="Huấn luyện mô hình Rasa nếu dữ liệu đã đổi; --promote-if-better: đánh giá, "
                                  "so sánh, nạp vào Rasa đang chạy / train, gate and promote.")(train_command)
