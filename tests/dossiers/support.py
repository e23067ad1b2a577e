"""What the dossier tests share: procedures in the catalogue, an applicant, a settable clock."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from fpdf import FPDF
from PIL import Image

from knowledge_base.schema import ChannelKind, Fee, Procedure, ProcessingTime, SubmissionChannel, TimeUnit
from knowledge_base.store import save_procedure
from motcua.db import session_scope
from motcua.dossiers.service import Applicant, DossierApplication
from motcua.workdays import VIETNAM_TZ

AGENCY = "000.00.04.H51"
STAFF_PASSWORD = "mat-khau-quay-hs-1"
BIRTH = Procedure(
    code="1.001193", name="Đăng ký khai sinh", levels=["Cấp xã"], field="Hộ tịch",
    channels=[SubmissionChannel(ChannelKind.IN_PERSON, ProcessingTime(1), Fee(free=True)),
              SubmissionChannel(ChannelKind.ONLINE, ProcessingTime(2), Fee(free=True))],
)
RESIDENCE = Procedure(
    code="1.004194", name="Đăng ký thường trú", levels=["Cấp xã"], field="Đăng ký, quản lý cư trú",
    channels=[SubmissionChannel(ChannelKind.IN_PERSON, ProcessingTime(3, TimeUnit.WORKING_DAY), Fee(amount=20000))],
)
CERTIFY = Procedure(
    code="2.000815", name="Chứng thực bản sao từ bản chính", levels=["Cấp xã"], field="Chứng thực",
    channels=[SubmissionChannel(ChannelKind.IN_PERSON, ProcessingTime(8, TimeUnit.HOUR), Fee(amount=2000))],
)
UNTIMED = Procedure(
    code="9.999999", name="Thủ tục chưa rõ thời hạn", levels=["Cấp xã"],
    channels=[SubmissionChannel(ChannelKind.IN_PERSON, ProcessingTime(0, TimeUnit.UNSPECIFIED))],
)
LAN = Applicant("Nguyễn Thị Lan", "001190012345", "0912345678")


class Clock:
    """A clock tests move by hand; times are Vietnam time."""

    def __init__(self, at: datetime):
        self.at = at if at.tzinfo else at.replace(tzinfo=VIETNAM_TZ)

    def __call__(self) -> datetime:
        return self.at

    def advance(self, **delta) -> None:
        self.at += timedelta(**delta)


def seed_procedures(url: str) -> None:
    with session_scope(url) as session:
        for procedure in (BIRTH, RESIDENCE, CERTIFY, UNTIMED):
            save_procedure(session, procedure, actor="test")


def add_staff(url: str) -> None:
    """A staff account «thuha» (Đỗ Thu Hà) for the desk."""
    from motcua.staff.accounts import create_user

    with session_scope(url) as session:
        create_user(session, "thuha", STAFF_PASSWORD, role="staff", full_name="Đỗ Thu Hà")


def gateway_settings(tmp_path, url: str, **extra):
    """Settings of a gateway over ``url``; Rasa and the action server are never reached."""
    from motcua.settings import Settings
    from tests.servers import free_port

    return Settings(data_dir=tmp_path, database_url=url, rasa_url=f"http://127.0.0.1:{free_port()}",
                    action_url=f"http://127.0.0.1:{free_port()}/webhook", agency_code=AGENCY,
                    center_name="Trung tâm Phục vụ hành chính công xã Hòa Bình", **extra)


@contextmanager
def desk_in_browser(tmp_path, url: str, service, page, username: str = "thuha") -> Iterator[tuple[str, list[str]]]:
    """The gateway over ``url`` (its dossier service ``service``) served in a thread, and ``page`` signed in
    as ``username`` on the desk page; yields the base address and the page's script errors as they come."""
    from bot.app import create_app
    from bot.deps import get_dossier_service
    from tests.servers import serve_in_thread

    app = create_app(gateway_settings(tmp_path, url))
    app.dependency_overrides[get_dossier_service] = lambda: service
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    with serve_in_thread(app) as base:
        assert page.request.post(f"{base}/api/v1/staff/login", data={"username": username, "password": STAFF_PASSWORD}).ok
        page.goto(f"{base}/staff/dossiers")
        yield base, errors


def application(procedure_code: str = "1.001193", applicant: Applicant = LAN, **kwargs) -> DossierApplication:
    kwargs.setdefault("channel", "telegram")
    kwargs.setdefault("sender_id", "telegram:42")
    return DossierApplication(procedure_code=procedure_code, applicant=applicant, **kwargs)


# --- documents as a scanner or a phone makes them -----------------------------------------


def jpeg(size=(1240, 1754), color=(250, 250, 245)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format="JPEG", quality=80)
    return buffer.getvalue()


def png(size=(800, 600), mode="RGBA") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, (0, 0, 255, 128) if mode == "RGBA" else 200).save(buffer, format="PNG")
    return buffer.getvalue()


def pdf(pages: int = 2) -> bytes:
    document = FPDF()
    for i in range(pages):
        document.add_page()
        document.set_font("helvetica", size=12)
        document.cell(40, 10, f"page {i + 1}")
    return bytes(document.output())
