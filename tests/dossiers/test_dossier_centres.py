"""Two centres on one database (motcua/centers.py): each dossier belongs to the centre it was filed at.

SQLite and PostgreSQL (the ``database_url`` fixture): the service (code prefix, list, get), the staff
desk over HTTP (staff of one centre never see another's dossier: 404 as if absent; an admin sees all),
a chat filing at a centre's kiosk, and the migration.
"""

from __future__ import annotations

import io
import re
import unicodedata

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlalchemy import select, text

from actions.forms import DeclarationFiler, FormCatalog
from bot.app import create_app
from bot.deps import get_dossier_service
from motcua.centers import DEFAULT_CENTER, add_center
from motcua.db import alembic_config, session_scope, upgrade_database
from motcua.dossiers.attachments import Upload, prepare_attachment
from motcua.dossiers.errors import DossierNotFound
from motcua.dossiers.models import DossierRow
from motcua.staff.accounts import create_user, open_session
from motcua.staff.models import StaffUser
from tests.actions.test_form_dialogue import BIRTH, CERTIFY, FORMS, FakeKnowledge, FormLoop
from tests.dossiers.support import AGENCY, STAFF_PASSWORD, add_staff, application, gateway_settings, jpeg

B = "xa-dong"
B_AGENCY = "000.00.31.H01"
C = "xa-tay"  # a centre without an agency code of its own
DESK = "/api/v1/staff/dossiers"
PAYMENTS = "/api/v1/staff/payments"


def add_centres(url: str) -> None:
    with session_scope(url) as session:
        add_center(session, B, "Trung tâm PVHCC xã Đông", agency_code=B_AGENCY.lower(), actor="test")
        add_center(session, C, "Trung tâm PVHCC xã Tây", actor="test")


@pytest.fixture
def centres(catalogue) -> str:
    add_centres(catalogue)
    return catalogue


def filed_at(db, service, center: str = DEFAULT_CENTER, **kwargs) -> str:
    return db.run(service.file_dossier, application(center=center, **kwargs)).code


# --- the service ---------------------------------------------------------------------------------------


def test_a_dossier_belongs_to_its_centre_and_bears_its_agency_code(centres, service, db):
    a, b, c = filed_at(db, service), filed_at(db, service, B), filed_at(db, service, C)
    assert a.startswith(f"{AGENCY}-260310-") and b == f"{B_AGENCY}-260310-0001"
    assert c.startswith(f"{AGENCY}-260310-") and c != a  # no agency code of its own: the deployment's numbering
    assert [db.run(service.get, code).center_code for code in (a, b, c)] == [DEFAULT_CENTER, B, C]
    assert [d.code for d in db.run(service.list_dossiers, center=DEFAULT_CENTER)] == [a]
    assert [d.code for d in db.run(service.list_dossiers, center=B)] == [b]
    assert {d.code for d in db.run(service.list_dossiers)} == {a, b, c}  # an admin: every centre
    for code, other in ((b, DEFAULT_CENTER), (a, B), (c, B)):
        with pytest.raises(DossierNotFound):
            db.run(service.get, code, center=other)
        with pytest.raises(DossierNotFound):
            db.run(service.check_center, code, other)
    assert db.run(service.get, b, center=B).code == b


def test_filing_at_a_centre_that_does_not_exist_is_a_mistake_of_the_calling_code(centres, service, db):
    with pytest.raises(ValueError, match="khong-co"):
        filed_at(db, service, "khong-co")
    with session_scope(centres) as session:
        assert session.scalar(select(DossierRow.id)) is None


# --- the staff desk over HTTP -----------------------------------------------------------------------


@pytest.fixture
def desk(tmp_path, centres, service):
    """The gateway with staff «thuha» (default centre), «canbo-dong» (centre B, named by its agency code)
    and an admin «tinh»."""
    add_staff(centres)
    with session_scope(centres) as session:
        create_user(session, "canbo-dong", STAFF_PASSWORD, role="staff", full_name="Lê Văn Đông",
                    center_code=B_AGENCY)
        create_user(session, "tinh", STAFF_PASSWORD, role="admin", full_name="Quản trị tỉnh")
    app = create_app(gateway_settings(tmp_path, centres))
    app.dependency_overrides[get_dossier_service] = lambda: service
    with TestClient(app) as client:
        client.url = centres
        yield client


def signed_in(client: TestClient, username: str) -> dict[str, str]:
    """The headers of a signed-in staff member (a session token, as a script sends it)."""
    with session_scope(client.url) as session:
        user = session.scalar(select(StaffUser).where(StaffUser.username == username))
        return {"Authorization": f"Bearer {open_session(session, user)}"}


def test_staff_of_one_centre_never_see_another_centres_dossiers_and_an_admin_sees_both(desk, service, db):
    a = filed_at(db, service)
    b = filed_at(db, service, B)
    b_file = db.run(service.add_attachment, b, prepare_attachment([Upload("a.jpg", jpeg())], label="Giấy"),
                    actor="staff:canbo-dong").id
    own, dong, admin = (signed_in(desk, name) for name in ("thuha", "canbo-dong", "tinh"))
    assert [d["code"] for d in desk.get(DESK, headers=own).json()] == [a]
    assert [d["code"] for d in desk.get(DESK, params={"q": "Lan"}, headers=own).json()] == [a]
    assert [(d["code"], d["center_code"]) for d in desk.get(DESK, headers=dong).json()] == [(b, B)]
    assert {d["code"] for d in desk.get(DESK, headers=admin).json()} == {a, b}
    for method, url, body in (
            ("GET", f"{DESK}/{b}", None), ("GET", f"{DESK}/{b}/attachments/{b_file}", None),
            ("GET", f"{DESK}/{b}/receipt.pdf", None), ("POST", f"{DESK}/{b}/receipt.pdf", None),
            ("POST", f"{DESK}/{b}/receive", None), ("POST", f"{DESK}/{b}/status", {"status": "in_processing"}),
            ("POST", f"{DESK}/{b}/supplement", {"note": "Thiếu giấy chứng sinh."}),
            ("POST", f"{DESK}/{b}/links/revoke", None), ("GET", f"{DESK}/{b}/declaration.pdf", None),
            ("GET", f"{PAYMENTS}/{b}", None), ("POST", f"{PAYMENTS}/{b}/cash", None),
            ("GET", f"{PAYMENTS}/{b}/receipt.pdf", None)):
        refused = desk.request(method, url, headers=own, json=body)
        unknown = desk.request(method, url.replace(b, f"{B_AGENCY}-260310-0099"), headers=own, json=body)
        assert refused.status_code == unknown.status_code == 404, (method, url, refused.text)
        assert "Nguyễn Thị Lan" not in refused.text
    assert desk.get(f"{DESK}/{a}", headers=dong).status_code == 404
    assert db.run(service.get, b).status == "received"  # the refused changes changed nothing
    assert desk.get(f"{DESK}/{b}", headers=admin).json()["center_code"] == B
    assert desk.post(f"{DESK}/{b}/receive", headers=dong).json()["status"] == "in_processing"
    receipt = desk.get(f"{DESK}/{b}/receipt.pdf", headers=dong)
    assert receipt.status_code == 200
    printed = " ".join(unicodedata.normalize("NFC", PdfReader(io.BytesIO(receipt.content)).pages[0]
                                             .extract_text()).split())
    assert "XÃ ĐÔNG" in printed.upper() and "HÒA BÌNH" not in printed.upper()  # B's name, not the default's


def test_a_dossier_filed_at_the_desk_belongs_to_the_staff_members_centre(desk, service, db):
    body = {"procedure_code": "1.001193", "applicant_name": "Lê Văn Cường", "applicant_phone": "0901234567"}
    dong, own, admin = (signed_in(desk, name) for name in ("canbo-dong", "thuha", "tinh"))
    at_b = desk.post(DESK, headers=dong, json=body)
    at_a = desk.post(DESK, headers=own, json=body)
    by_admin = desk.post(DESK, headers=admin, json=body)
    assert (at_b.status_code, at_a.status_code, by_admin.status_code) == (201, 201, 201)
    assert at_b.json()["code"] == f"{B_AGENCY}-260310-0001" and at_a.json()["code"].startswith(AGENCY)
    assert [db.run(service.get, r.json()["code"]).center_code for r in (at_b, at_a, by_admin)] == [
        B, DEFAULT_CENTER, DEFAULT_CENTER]
    with session_scope(desk.url) as session:
        create_user(session, "lac-loi", STAFF_PASSWORD, role="staff", center_code="khong-co")
    assert "Trung tâm PVHCC xã Đông" in desk.get("/staff/dossiers", headers=dong).text  # the desk's heading
    assert "xã Hòa Bình" in desk.get("/staff/dossiers", headers=own).text
    lost = signed_in(desk, "lac-loi")  # a centre that does not exist: sees nothing, files nothing
    assert desk.get(DESK, headers=lost).json() == []
    assert desk.post(DESK, headers=lost, json=body).status_code == 403


def test_an_admin_files_at_the_centre_they_choose_and_staff_only_at_their_own(desk, service, db):
    body = {"procedure_code": "1.001193", "applicant_name": "Phạm Thị Dung", "applicant_cccd": "001199001234"}
    dong, own, admin = (signed_in(desk, name) for name in ("canbo-dong", "thuha", "tinh"))
    at_c = desk.post(DESK, headers=admin, json={**body, "center": C})
    at_b = desk.post(DESK, headers=admin, json={**body, "center": B_AGENCY})  # a centre named by its agency code
    assert (at_c.status_code, at_b.status_code) == (201, 201)
    assert [db.run(service.get, r.json()["code"]).center_code for r in (at_c, at_b)] == [C, B]
    assert at_b.json()["code"] == f"{B_AGENCY}-260310-0001"
    nowhere = desk.post(DESK, headers=admin, json={**body, "center": "khong-co"})
    assert nowhere.status_code == 422 and "khong-co" in nowhere.json()["detail"]
    elsewhere = desk.post(DESK, headers=dong, json={**body, "center": DEFAULT_CENTER})
    assert elsewhere.status_code == 403 and "trung tâm của mình" in elsewhere.json()["detail"]
    assert desk.post(DESK, headers=dong, json={**body, "center": B}).status_code == 201  # their own: fine
    assert desk.post(DESK, headers=own, json={**body, "center": C}).status_code == 403
    assert len(db.run(service.list_dossiers)) == 3  # the refused filed nothing


# --- the chat -------------------------------------------------------------------------------------------


async def test_a_declaration_filed_in_a_centres_kiosk_chat_is_that_centres(centres, service, db):
    filer = DeclarationFiler(service, db, "https://motcua.example")
    codes = []
    for sender, metadata in (("kiosk:s1", {"channel": "kiosk", "center": B}), ("kiosk:s2", {"channel": "kiosk"})):
        loop = FormLoop(FormCatalog(FORMS, FakeKnowledge([BIRTH, CERTIFY])), filer, sender=sender)
        await loop.start("tôi muốn điền tờ khai khai sinh", [{"entity": "procedure", "value": "đăng ký khai sinh"}])
        await loop.answer_until()
        said = "\n".join(m.get("text") or "" for m in await loop.say("/affirm", "affirm", 1.0, metadata=metadata))
        codes.append(re.search(r"Mã số hồ sơ: (\S+)", said)[1])
    with session_scope(centres) as session:
        rows = session.execute(select(DossierRow.code, DossierRow.center_code).order_by(DossierRow.id)).all()
    assert [tuple(r) for r in rows] == [(codes[0], B), (codes[1], DEFAULT_CENTER)]
    assert codes[0].startswith(B_AGENCY) and codes[1].startswith(AGENCY)


# --- the migration ----------------------------------------------------------------------------------------


def test_the_dossier_centres_migration_matches_the_table_and_keeps_old_dossiers_in_the_default_centre(
        catalogue, service, db):
    from alembic import command
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from motcua.db import Base, get_engine, import_all_models

    import_all_models()
    with get_engine(catalogue).connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert [change for change in diff if "'dossiers'" in repr(change) or "dossiers." in repr(change)] == []
    code = filed_at(db, service)
    command.downgrade(alembic_config(catalogue), "0015_dossier_payments")  # as before centres had dossiers
    with get_engine(catalogue).connect() as connection:
        assert "center_code" not in {c["name"] for c in _columns(connection, "dossiers")}
    db.engine.dispose()
    upgrade_database(catalogue)
    with session_scope(catalogue) as session:
        assert session.execute(text("SELECT code, center_code FROM dossiers")).all() == [(code, DEFAULT_CENTER)]


def _columns(connection, table: str) -> list[dict]:
    from sqlalchemy import inspect

    return inspect(connection).get_columns(table)
