"""``motcua``: every command a user or admin runs by hand.

Help is bilingual: Vietnamese first, English after the slash.
"""

from __future__ import annotations

import signal
import sys
from contextlib import contextmanager
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import TaskID

from motcua.settings import get_settings

console = Console()
app = typer.Typer(help="Một Cửa — trợ lý hành chính công / public-service assistant.", no_args_is_help=True,
                  add_completion=False, pretty_exceptions_enable=False)
db_app = typer.Typer(help="Cơ sở dữ liệu / database.", no_args_is_help=True)
kb_app = typer.Typer(help="Cơ sở tri thức / knowledge base.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(kb_app, name="kb")
eval_app = typer.Typer(help="Đánh giá / evaluation.", no_args_is_help=True)
app.add_typer(eval_app, name="eval")


@contextmanager
def index_progress():
    """``progress(description, done, total)`` for :func:`motcua.search_index.open_index`, drawn on stderr.

    Building the index embeds every document (minutes the first time on an old computer);
    stdout stays clean for ``--json``.
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        tasks: dict[str, TaskID] = {}

        def report(description: str, done: int, total: int) -> None:
            if description not in tasks:
                tasks[description] = bar.add_task(description, total=total)
            bar.update(tasks[description], completed=done, total=total)

        yield report


def tell_running_assistant() -> None:
    """After a knowledge-base change: a running action server updates its search index now."""
    from motcua.index_refresh import request_refresh_sync

    console.print(f"… {request_refresh_sync(get_settings())['message']}")


def open_search_index(settings, **options):
    """The search index, loaded or built, with a progress bar."""
    from motcua.search_index import open_index

    with index_progress() as progress:
        return open_index(settings, progress=progress, **options)


@eval_app.command("retrieval", help="hit@1, hit@5, MRR, từ chối đúng — có dấu và không dấu / retrieval figures.")
def eval_retrieval(file: Path = typer.Argument(...), as_json: bool = typer.Option(False, "--json"),
                   details: bool = typer.Option(False, "--details", help="Từng câu hỏi / per question.")) -> None:
    import json

    from retrieval.evaluate import evaluate, read_questions

    try:
        questions = read_questions(file)
    except (ValueError, OSError) as exc:
        fail(str(exc))
    service, _ = open_search_index(get_settings())
    report = evaluate(service, questions)
    if as_json:
        print(json.dumps(report.to_dict(details), ensure_ascii=False, indent=2))
        return
    print(report.summary())
    if details:
        for half in ("as_written", "without_diacritics"):
            for r in getattr(report, half).results:
                mark = "✓" if r.resolved or (not r.expected and r.abstained) else "✗"
                print(f"{mark} {half[:7]} {r.id} {r.move:7} {','.join(r.shown) or '-':30} {r.question}")


@eval_app.command("legal", help="Điều luật chuẩn trong các đoạn trích dẫn: hit@1, hit@5, MRR / legal citations.")
def eval_legal(file: Path = typer.Argument(...), as_json: bool = typer.Option(False, "--json"),
               details: bool = typer.Option(False, "--details", help="Từng câu hỏi / per question.")) -> None:
    import json

    from motcua.legal_eval import evaluate_legal, read_legal_questions

    try:
        questions = read_legal_questions(file)
    except (ValueError, OSError) as exc:
        fail(str(exc))
    service, _ = open_search_index(get_settings())
    figures = evaluate_legal(service, questions, details=details)
    if as_json:
        print(json.dumps(figures, ensure_ascii=False, indent=2))
        return
    for label, f in figures.items():
        console.print(f"{label:20} n={f['questions']}+{f['outside_library']}  hit@1={f['hit_at_1']:.3f}  "
                      f"hit@5={f['hit_at_5']:.3f}  MRR={f['mrr']:.3f}  abstained={f['abstained']:.3f}  "
                      f"resolved={f['resolved']:.3f}  wrong={f['wrong_answer']:.3f}  offered={f['offered']:.3f}  "
                      f"abstain-outside={f['abstention_recall']:.3f}")
        for d in f.get("details", []):
            print(f"  {d['id']} {d['move']:7} {d['shown']} resolved={d['resolved']} {d['question']}")


nlu_app = typer.Typer(help="Dữ liệu huấn luyện NLU / NLU training data.", no_args_is_help=True)
app.add_typer(nlu_app, name="nlu")


def fail(message: str, code: int = 1) -> None:
    console.print(f"[bold red]Lỗi:[/] {message}")
    raise typer.Exit(code)


def _prepare_database() -> None:
    from knowledge_base.sync import sync_defaults
    from motcua.db import upgrade_database

    settings = get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    console.print(f"… Cơ sở dữ liệu: {_safe_url(settings.sqlalchemy_url)}")
    try:
        upgrade_database(settings.sqlalchemy_url)
    except Exception as exc:  # shown to a person: say what and where
        fail(f"không mở được cơ sở dữ liệu ({type(exc).__name__}: {exc}). Kiểm tra MOTCUA_DATABASE_URL.")
    report = sync_defaults(settings.sqlalchemy_url)
    console.print(f"✓ Cơ sở tri thức mặc định: {report.describe()}")


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@db_app.command("upgrade", help="Nâng cấp lược đồ CSDL lên bản mới nhất / apply migrations.")
def db_upgrade() -> None:
    from motcua.centers import ensure_default_center_from_files
    from motcua.db import current_revision, session_scope, upgrade_database

    settings = get_settings()
    upgrade_database(settings.sqlalchemy_url)
    with session_scope(settings.sqlalchemy_url) as session:
        ensure_default_center_from_files(session)  # a single-centre installation's centre, from center.yaml
    console.print(f"✓ CSDL ở phiên bản {current_revision(settings.sqlalchemy_url)}: {_safe_url(settings.sqlalchemy_url)}")


@db_app.command("current", help="Phiên bản lược đồ hiện tại / current schema revision.")
def db_current() -> None:
    from motcua.db import current_revision

    console.print(current_revision(get_settings().sqlalchemy_url) or "(chưa có / none)")


@kb_app.command("load-defaults", help="Nạp cơ sở tri thức mặc định / load the default knowledge base.")
def kb_load_defaults(
    overwrite: bool = typer.Option(False, "--overwrite", help="Ghi đè cả chỉnh sửa của cán bộ / overwrite staff edits"),
) -> None:
    from knowledge_base.sync import sync_defaults

    report = sync_defaults(get_settings().sqlalchemy_url, overwrite_staff_edits=overwrite)
    console.print(f"✓ {report.describe()}")
    tell_running_assistant()


@kb_app.command("stats", help="Thống kê cơ sở tri thức / knowledge-base figures.")
def kb_stats() -> None:
    from sqlalchemy import func, select

    from knowledge_base.store import FaqRow, LegalDocumentRow, LegalUnitRow, ProcedureRow, SynonymRow
    from motcua.db import session_scope

    with session_scope(get_settings().sqlalchemy_url) as session:
        counted = [
            ("Thủ tục / procedures", select(func.count()).select_from(ProcedureRow)),
            # deleted by staff (kept for revert) do not count
            ("Từ đồng nghĩa / synonyms", select(func.count()).select_from(SynonymRow).where(SynonymRow.deleted.is_(False))),
            ("Hỏi đáp / FAQ", select(func.count()).select_from(FaqRow).where(FaqRow.deleted.is_(False))),
            ("Văn bản pháp luật / legal documents", select(func.count()).select_from(LegalDocumentRow)),
            ("Điều, khoản / legal units", select(func.count()).select_from(LegalUnitRow)),
        ]
        for label, query in counted:
            console.print(f"{label}: {session.scalar(query)}")


@kb_app.command("import-dichvucong", help="Nhập danh mục thủ tục của Cổng DVC (.json .jsonl .gz) / import the portal catalogue.")
def kb_import_dichvucong(
    path: Path = typer.Argument(..., help="Tệp danh mục / catalogue file"),
    overwrite: bool = typer.Option(False, "--overwrite-staff-edits", help="Ghi đè chỉnh sửa của cán bộ"),
) -> None:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from knowledge_base.dichvucong import CatalogueFileError
    from knowledge_base.importer import import_dichvucong

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("Đang nhập thủ tục", total=None)
        try:
            report = import_dichvucong(get_settings().sqlalchemy_url, path, overwrite_staff_edits=overwrite,
                                       progress=lambda n: progress.advance(task, n))
        except CatalogueFileError as exc:
            progress.stop()
            fail(f"{exc} Cơ sở tri thức không thay đổi.")
        progress.update(task, total=report.records)
    console.print(report.describe())
    if report.created or report.updated:
        tell_running_assistant()


@kb_app.command("reindex", help="Cập nhật chỉ mục tìm kiếm từ CSDL / sync or rebuild the search index.")
def kb_reindex(rebuild: bool = typer.Option(False, "--rebuild", help="Xây lại từ đầu / from scratch")) -> None:

    _, report = open_search_index(get_settings(), rebuild=rebuild, echo=console.print)
    console.print(f"✓ {report.describe()}")


@kb_app.command("search", help="Tìm thủ tục và điều luật / search procedures and legal passages.")
def kb_search(
    question: str = typer.Argument(..., help="Câu hỏi / question"),
    top: int = typer.Option(5, "--top", min=1, max=50, help="Số kết quả / results"),
    as_json: bool = typer.Option(False, "--json", help="In JSON / print JSON"),
) -> None:
    import json


    service, _ = open_search_index(get_settings())
    response = service.search(question, top_k=top)
    if as_json:
        print(json.dumps(response.to_json(), ensure_ascii=False))
        return
    if response.abstained:
        console.print("Không tìm thấy thủ tục phù hợp (abstained).")
    for hit in response.procedures:
        console.print(f"{hit.score:6.3f}  {hit.code}  {hit.name}")
    for passage in response.passages:
        console.print(f"{passage.score:6.3f}  {passage.citation or passage.article}: {passage.text[:100]}")


@kb_app.command("export", help="Xuất thủ tục ra tệp YAML để rà soát / export procedures to editable YAML.")
def kb_export(
    directory: Path = typer.Argument(Path("knowledge_base/procedures"), help="Thư mục đích / target folder"),
    source: str = typer.Option("", "--source", help="Chỉ nguồn này (default, dichvucong, staff) / only this source"),
) -> None:
    import yaml

    from knowledge_base.store import list_procedures
    from motcua.db import session_scope

    directory.mkdir(parents=True, exist_ok=True)
    with session_scope(get_settings().sqlalchemy_url) as session:
        procedures = [p for p in list_procedures(session) if not source or p.source == source]
    existing = {}
    for path in directory.glob("*.yaml"):
        code = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("code")
        if code:
            existing[str(code)] = path
    for procedure in procedures:
        path = existing.get(procedure.code, directory / f"{procedure.code}.yaml")
        path.write_text(yaml.safe_dump(procedure.to_dict(), allow_unicode=True, sort_keys=False, width=110),
                        encoding="utf-8")
    console.print(f"✓ Đã xuất {len(procedures)} thủ tục vào {directory}")


@kb_app.command("ingest", help="Nạp văn bản pháp luật (.md .txt .pdf .docx .html) / ingest legal documents.")
def kb_ingest(files: list[Path] = typer.Argument(..., help="Tệp văn bản / files")) -> None:
    from rich.progress import Progress

    from knowledge_base.ingest import ingest_legal_files

    failures = 0
    with Progress(console=console) as progress:
        task = progress.add_task("Đang nạp văn bản", total=len(files))

        def report(outcome) -> None:
            nonlocal failures
            if outcome.ok:
                progress.console.print(f"✓ {outcome.number}: {outcome.articles} điều, {outcome.units} mục ({outcome.path})")
            else:
                failures += 1
                progress.console.print(f"[red]✗ {outcome.path}: {outcome.error}[/]")
            progress.advance(task)

        ingest_legal_files(get_settings().sqlalchemy_url, files, report)
    if failures < len(files):
        tell_running_assistant()
    if failures:
        fail(f"{failures}/{len(files)} tệp không nạp được (các tệp khác đã nạp xong).")


@nlu_app.command("sync", help="Cập nhật bảng tra tên thủ tục từ cơ sở tri thức / regenerate lookup tables.")
def nlu_sync() -> None:
    from motcua.nlu_sync import main as sync_main

    sync_main()


telegram_app = typer.Typer(help="Telegram.", no_args_is_help=True)
app.add_typer(telegram_app, name="telegram")


@telegram_app.command("set-webhook", help="Đăng ký webhook Telegram / register the Telegram webhook.")
def telegram_set_webhook(url: str = typer.Argument("", help="https://…/webhooks/telegram")) -> None:
    from channels.telegram import set_webhook_command

    try:
        console.print(set_webhook_command(get_settings(), url or None))
    except ValueError as exc:
        fail(str(exc))


devices_app = typer.Typer(help="Thiết bị: kiosk, máy in phiếu, bảng hiển thị / registered devices.",
                          no_args_is_help=True)
app.add_typer(devices_app, name="devices")


def _devices_session():
    """A transaction on the migrated database (the registry may be used before the first ``serve``)."""
    from motcua.db import session_scope, upgrade_database

    url = get_settings().sqlalchemy_url
    upgrade_database(url)
    return session_scope(url)


@devices_app.command("add", help="Đăng ký thiết bị, in khóa MỘT lần / register a device, print its key once.")
def devices_add(name: str = typer.Argument(..., help="ví dụ quay-1, bang-sanh / e.g. quay-1"),
                kind: str = typer.Option(..., "--kind", help="kiosk | printer | board"),
                center: str = typer.Option("default", "--center", help="Mã trung tâm / centre code")) -> None:
    from motcua.devices import DeviceError, add_device

    try:
        with _devices_session() as session:
            device, key = add_device(session, name, kind, actor="cli", center=center)
    except DeviceError as exc:
        fail(str(exc))
    console.print(f"✓ Đã đăng ký {device.kind} «{device.name}». Khóa (chỉ hiện lần này, hãy lưu lại):")
    print(key)
    console.print("  Kiosk/bảng hiển thị: mở /kiosk/enrol trên máy đó và dán khóa. "
                  "Máy quét: python -m devices.agent --device " + device.name + " --key <khóa>")


@devices_app.command("list", help="Danh sách thiết bị / list devices.")
def devices_list() -> None:
    from motcua.devices import list_devices

    with _devices_session() as session:
        devices = list_devices(session)
    if not devices:
        console.print("(chưa có thiết bị nào / no devices)")
    for d in devices:
        state = f"thu hồi {d.revoked_at:%d/%m/%Y}" if d.revoked_at else "đang dùng"
        seen = f"{d.last_seen_at:%d/%m/%Y %H:%M}" if d.last_seen_at else "chưa"
        console.print(f"{d.name:20} {d.kind:8} {d.key_hint}…  {state:20} lần cuối: {seen}", markup=False)


@devices_app.command("revoke", help="Thu hồi khóa của thiết bị / revoke a device's key.")
def devices_revoke(name: str = typer.Argument(...)) -> None:
    from motcua.devices import DeviceError, revoke_device

    try:
        with _devices_session() as session:
            device = revoke_device(session, name, actor="cli")
    except DeviceError as exc:
        fail(str(exc))
    console.print(f"✓ Đã thu hồi khóa của «{device.name}»; thiết bị và trình duyệt đã đăng ký bằng khóa đó bị từ chối.")


def _index_in_child(settings) -> None:
    """Bring the search index in step with the knowledge base in a child process («motcua kb reindex»).

    The embedder and the index it loads (about 1 GB) leave with that process: ``serve`` itself only
    supervises, and the action server loads the index it finds saved.
    """
    import os
    import subprocess

    from motcua.runtime import settings_environment

    command = [sys.executable, "-m", "motcua.cli", "kb", "reindex"]
    result = subprocess.run(command, env={**os.environ, **settings_environment(settings)}, check=False)
    if result.returncode != 0:
        fail(f"không cập nhật được chỉ mục tìm kiếm (mã {result.returncode}); xem thông báo ở trên.")


def _prepare_assistant(settings) -> Path:
    """Steps 1 and 2 of ``serve``, also ``motcua prepare``: database, knowledge base, search index, model."""
    from motcua.runtime import RuntimeProblem, serving_model

    console.print("Bước 1/3: cơ sở dữ liệu và cơ sở tri thức")
    _prepare_database()
    _index_in_child(settings)
    console.print("Bước 2/3: mô hình hội thoại Rasa")
    try:
        # A model promoted from the admin page wins, as long as it was trained on today's data.
        model = serving_model(settings, echo=console.print)
    except RuntimeProblem as exc:
        fail(str(exc))
    return model


@app.command(help="Chuẩn bị mọi thứ «serve» cần mà không khởi động dịch vụ: CSDL, cơ sở tri thức, chỉ mục tìm kiếm, "
             "mô hình Rasa (Docker, systemd: chạy một lần trước các dịch vụ) / prepare, start nothing.")
def prepare() -> None:
    model = _prepare_assistant(get_settings())
    console.print(f"✓ Đã chuẩn bị xong; Rasa sẽ dùng mô hình {model.name}")


@app.command("serve-one", help="Chạy MỘT tiến trình con của «serve» ở tiền cảnh, đúng dòng lệnh «serve» dùng (Docker, "
             "systemd; chạy «motcua prepare» trước) / run one of serve's children in the foreground.")
def serve_one(
    name: str = typer.Argument(..., help="action-server | rasa | gateway | fake-portal"),
    show: bool = typer.Option(False, "--print", help="Chỉ in dòng lệnh (JSON, mã thông báo của Rasa bị che), không "
                              "chạy / print the command line only"),
    check: bool = typer.Option(False, "--check", help="Tiến trình đang chạy đã sẵn sàng chưa (mã 0: rồi), như «serve» "
                               "kiểm tra / readiness probe"),
) -> None:
    import json
    import os

    from motcua.runtime import (
        CHILDREN,
        RuntimeProblem,
        Service,
        child_names,
        child_service,
        endpoints_path,
        ready_url,
        serve_settings,
        service_ready,
        serving_model,
        worker_of,
        write_endpoints,
    )
    from motcua.settings import ROOT

    settings = serve_settings(get_settings())
    if worker_of(name)[0] not in CHILDREN:
        fail(f"không có tiến trình «{name}»; chọn một trong: {', '.join(CHILDREN)} (rasa-2, action-server-2… khi "
             f"MOTCUA_WORKERS > 1).")
    if name not in child_names(settings):
        fail(f"«{name}» chỉ chạy khi chưa đặt MOTCUA_PORTAL_URL và MOTCUA_DEMO_PORTAL_PORT > 0 (bản trình diễn).")
    if check:
        raise typer.Exit(0 if service_ready(Service(name, [], ready_url(settings, name), {})) else 1)
    model = endpoints = None
    if worker_of(name)[0] == "rasa":
        try:
            model = serving_model(settings, train=False, echo=lambda _: None)
        except RuntimeProblem as exc:
            fail(str(exc))
        worker = worker_of(name)[1]
        endpoints = endpoints_path(settings, worker) if show else write_endpoints(settings, worker)
    service = child_service(settings, name, model, endpoints)
    if show:
        print(json.dumps(shown_command(service.command), ensure_ascii=False))
        return
    sys.stdout.flush()
    os.chdir(ROOT)
    os.execve(service.command[0], service.command, service.env)  # the child takes this process's place


def shown_command(command: list[str]) -> list[str]:
    """A child's command line fit to print: Rasa's API token is hidden."""
    return [("…" if index and command[index - 1] == "--auth-token" else part) for index, part in enumerate(command)]


@app.command(help="Khởi động toàn bộ trợ lý / start the whole assistant (Rasa, actions, gateway).")
def serve(
    port: int = typer.Option(None, "--port", help="Cổng của gateway / gateway port"),
    workers: int = typer.Option(None, "--workers", min=1, max=16,
                                help="Số Rasa, máy chủ hành động và tiến trình gateway (cần Redis và PostgreSQL khi > 1) "
                                     "/ N of each (MOTCUA_WORKERS)"),
) -> None:
    from motcua.runtime import Stack, workers_problem

    settings = get_settings()
    if port:
        settings = settings.model_copy(update={"gateway_port": port})
    if workers:
        settings = settings.model_copy(update={"workers": workers})
    if problem := workers_problem(settings):
        fail(problem)
    console.rule("[bold]Một Cửa[/]")
    model = _prepare_assistant(settings)
    console.print("Bước 3/3: khởi động các dịch vụ")
    stack = Stack(settings, model, echo=console.print)
    stopping = False

    def _stop(*_args) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)  # Ctrl-C, also when started from a script that ignores SIGINT
    from rich.text import Text

    from motcua.supervisor import StartupFailed, Supervisor, status_path

    # A process that dies, while starting or later, is started again (with back-off); see motcua/supervisor.py.
    supervisor = Supervisor(stack.services, stack.restart, status_path(settings.data_dir),
                            echo=lambda line: console.print(Text(line, style="yellow")),
                            warn=lambda line: console.print(Text(line, style="bold red")))
    try:
        if not supervisor.start_up(stack.is_ready, lambda: stopping):
            supervisor.stop()
            stack.stop()
            raise typer.Exit(130)
    except StartupFailed as exc:
        supervisor.stop()
        stack.stop()
        raise typer.Exit(1) from exc  # the supervisor has said which service, how, and its last lines
    except KeyboardInterrupt:
        supervisor.stop()
        stack.stop()
        raise typer.Exit(130) from None
    console.rule("[bold green]Đã sẵn sàng / ready[/]")
    for label, url in stack.urls().items():
        console.print(f"  {label}: [link={url}]{url}[/link]")
    console.print("Nhấn Ctrl-C để dừng tất cả / press Ctrl-C to stop everything.")
    console.print(f"Các dịch vụ được giám sát; tình trạng ghi ở {supervisor.status_file}")
    try:
        supervisor.run(lambda: stopping)
    except KeyboardInterrupt:
        supervisor.stop()
    console.print("… Đang dừng các dịch vụ")
    stack.stop()
    console.print("✓ Đã dừng.")


privacy_app = typer.Typer(help="Dữ liệu cá nhân / personal data.", no_args_is_help=True)
app.add_typer(privacy_app, name="privacy")


@privacy_app.command("purge", help="Xóa hội thoại, tracker Rasa, tin chuyển cán bộ, nhận xét cũ hơn MOTCUA_RETENTION_DAYS "
                     "(mặc định 90 ngày); hồ sơ được giữ / delete expired conversation data, dossiers are kept.")
def privacy_purge(dry_run: bool = typer.Option(False, "--dry-run", help="Chỉ đếm, không xóa / count only")) -> None:
    from motcua.privacy import PURGED_LABELS, purge_expired

    settings = get_settings()
    try:
        report = purge_expired(settings.sqlalchemy_url, settings.retention_days, dry_run=dry_run)
    except Exception as exc:  # shown to a person: say what and where
        fail(f"không xóa được ({type(exc).__name__}: {exc}). Đã chạy «motcua db upgrade» chưa?")
    verb = "Sẽ xóa" if dry_run else "Đã xóa"
    console.print(f"{verb} dữ liệu cũ hơn {settings.retention_days} ngày (trước {report.cutoff:%d/%m/%Y %H:%M} UTC):")
    for name, count in report.counts.items():
        console.print(f"  {PURGED_LABELS.get(name, name)}: {count}")
    console.print(f"✓ Tổng: {report.total}. Hồ sơ (hồ sơ pháp lý) và nhật ký thao tác của cán bộ được giữ nguyên.")


messages_app = typer.Typer(help="Lời của trợ lý (knowledge_base/locale/*.po) / the message catalogue.", no_args_is_help=True)
app.add_typer(messages_app, name="messages")


@messages_app.command("domain", help="Chép câu trả lời và nút của domain.yml từ danh mục lời / copy Rasa's responses "
                      "from the catalogue into domain.yml (then retrain).")
def messages_domain(check: bool = typer.Option(False, "--check", help="Chỉ kiểm tra, không ghi / only report a "
                                               "difference")) -> None:
    from knowledge_base.domain_responses import DOMAIN_FILE, sync_domain

    current = DOMAIN_FILE.read_text(encoding="utf-8")
    try:
        wanted = sync_domain(current)
    except KeyError as exc:
        fail(f"domain.yml dùng một câu không có trong danh mục lời: {exc.args[0]}")
    if wanted == current:
        console.print("✓ domain.yml đã khớp với danh mục lời.")
        return
    if check:
        fail("domain.yml khác danh mục lời: chạy «motcua messages domain» rồi huấn luyện lại («motcua train»).")
    DOMAIN_FILE.write_text(wanted, encoding="utf-8")
    console.print("✓ Đã chép lời từ danh mục vào domain.yml. Huấn luyện lại để trợ lý dùng: motcua train")


fees_app = typer.Typer(help="Lệ phí và thanh toán (VietQR, tiền mặt, sao kê) / fees and payments.", no_args_is_help=True)
app.add_typer(fees_app, name="fees")


@fees_app.command("vietqr", help="In chuỗi VietQR cho tài khoản đã cấu hình (dòng cuối) / print a VietQR payload.")
def fees_vietqr(amount: int = typer.Option(..., "--amount", help="Số tiền, đồng / amount in đồng"),
                note: str = typer.Option(..., "--note", help="Nội dung chuyển khoản, ví dụ mã hồ sơ / transfer note")) -> None:
    from motcua.payments.vietqr import VietQRError, build_payload

    account = get_settings().payment_account
    if account is None:
        fail("chưa cấu hình tài khoản nhận tiền: đặt MOTCUA_PAYMENT_BANK_BIN, MOTCUA_PAYMENT_ACCOUNT_NUMBER, "
             "MOTCUA_PAYMENT_ACCOUNT_NAME.")
    try:
        payload = build_payload(account, amount, note)
    except VietQRError as exc:
        fail(str(exc))
    shown = f"{amount:,}".replace(",", ".")
    console.print(f"Tài khoản {account.account_number} ({account.account_name}), ngân hàng BIN {account.bank_bin}; "
                  f"số tiền {shown} đồng; nội dung «{note}»", markup=False, highlight=False, soft_wrap=True)
    print(payload)


def _payments_service():
    """The payment service and the database it works in (migrated first)."""
    from motcua.db import shared_database, upgrade_database
    from motcua.payments.service import PaymentService

    settings = get_settings()
    upgrade_database(settings.sqlalchemy_url)
    return PaymentService.from_settings(settings), shared_database(settings.sqlalchemy_url)


@fees_app.command("show", help="Lệ phí và tình trạng nộp phí của một hồ sơ / a dossier's fee and payment.")
def fees_show(code: str = typer.Argument(..., help="Mã hồ sơ / dossier code")) -> None:
    from motcua.dossiers.errors import DossierError

    try:
        payments, database = _payments_service()
        view = database.run(payments.payment, code, actor="cli")
    except DossierError as exc:
        fail(str(exc))
    console.print(view.describe(), markup=False, highlight=False)
    if view.fee_note:
        console.print(f"  Mức phí: {view.fee_note}", markup=False, highlight=False)


@fees_app.command("import-statement", help="Nhập sao kê ngân hàng (CSV: ngày, số tiền, nội dung), khớp theo mã hồ sơ "
                  "và số tiền / import a bank statement.")
def fees_import_statement(file: Path = typer.Argument(..., help="Tệp CSV / CSV file"),
                          actor: str = typer.Option("cli", "--actor", help="Người nhập / who imports")) -> None:
    from motcua.payments.models import LineOutcome
    from motcua.payments.statement import read_statement

    try:
        text = file.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"không đọc được {file} ({exc}); cần tệp CSV mã hóa UTF-8.")
    lines = read_statement(text)
    if not lines:
        fail(f"{file} không có dòng giao dịch nào.")
    payments, database = _payments_service()
    report = payments.import_statement(database, lines, actor=actor, source=file.name)  # one transaction a line
    marks = {LineOutcome.MATCHED: "✓", LineOutcome.DUPLICATE: "="}
    for line in report.lines:
        console.print(f"{marks.get(line.outcome, '✗')} {line.describe()}", markup=False, highlight=False)
    console.print(report.summary(), markup=False, highlight=False)


from motcua.staff.cli import register as register_staff  # noqa: E402

register_staff(app, with_train=True)  # users, models, and train [--force] [--promote-if-better]

from motcua.centers_cli import register as register_centers  # noqa: E402

register_centers(app)  # centers add|list


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
