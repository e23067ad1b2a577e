"""``motcua centers add|list``: the centres one deployment serves (:mod:`motcua.centers`).

Wired into ``motcua/cli.py`` with :func:`register`. Staff-facing text (the admin's terminal).
"""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from motcua.settings import get_settings

console = Console()
centers_app = typer.Typer(help="Các trung tâm của bản cài đặt / the centres of this deployment.", no_args_is_help=True)


def _session():
    """A transaction on the migrated database, with the default centre filled from ``center.yaml``."""
    from motcua.centers import ensure_default_center_from_files
    from motcua.db import session_scope, upgrade_database

    url = get_settings().sqlalchemy_url
    upgrade_database(url)
    with session_scope(url) as session:
        ensure_default_center_from_files(session)
    return session_scope(url)


@centers_app.command("add", help="Thêm một trung tâm / add a centre.")
def centers_add(
    code: str = typer.Argument(..., help="mã: chữ thường không dấu, số, gạch ngang (ví dụ xa-dong) / code"),
    name: str = typer.Option(..., "--name", help="Tên trung tâm / name"),
    short_name: str = typer.Option("", "--short-name", help="Tên ngắn / short name"),
    address: str = typer.Option("", "--address", help="Địa chỉ / address"),
    phone: str = typer.Option("", "--phone", help="Điện thoại / phone"),
    hours: str = typer.Option("", "--hours", help="Giờ làm việc / opening hours"),
    agency: str = typer.Option("", "--agency", help="Mã cơ quan (trong mã hồ sơ) / agency code"),
) -> None:
    from motcua.centers import CenterError, add_center

    try:
        with _session() as session:
            center = add_center(session, code, name, short_name=short_name, address=address, phone=phone,
                                hours=hours, agency_code=agency, actor="cli")
    except CenterError as exc:
        console.print(f"[bold red]Lỗi:[/] {exc}")
        raise typer.Exit(1) from exc
    console.print(f"✓ Đã thêm trung tâm «{center.name}» (mã {center.code}). "
                  f"Kiosk: /c/{center.code}/kiosk, bảng hiển thị: /c/{center.code}/board", markup=False)


@centers_app.command("list", help="Danh sách trung tâm / list the centres.")
def centers_list() -> None:
    from motcua.centers import list_centers

    with _session() as session:
        centers = list_centers(session)
    table = Table("Mã", "Tên", "Mã cơ quan", "Địa chỉ", "Điện thoại")
    for c in centers:
        table.add_row(c.code, c.display_name, c.agency_code, c.address, c.phone)
    console.print(table)


def register(app: typer.Typer) -> None:
    app.add_typer(centers_app, name="centers")
