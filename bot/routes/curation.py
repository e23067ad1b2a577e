"""Staff curation of the knowledge base: the page ``/staff/kb`` and the API under ``/api/v1/kb``.

Procedures (search, view, edit), synonyms and FAQ entries (add, edit, delete), legal
documents (upload, edit metadata), the amounts of the center's fee table (edit; the YAML is
the seed, :mod:`knowledge_base.curation.fees`); every change is versioned and can be reverted
(:mod:`knowledge_base.curation`) and is written to the audit log. After a change the
action server is asked to catch up (``POST <action server>/index/refresh``): it reloads
names and aliases and re-embeds only the changed documents. When it is not running the
change is still saved, and the index catches up when it starts.

Every route depends on :func:`bot.auth.require_staff`; creating a procedure needs an admin.
Errors answer ``{"detail": "<Vietnamese message>"}`` with 404, 409, 413, 415 or 422.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import cache
from typing import Any

import httpx
from fastapi import APIRouter, HTTPException, Path, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import func, select
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from bot.auth import Admin, Staff, record_audit
from bot.deps import DatabaseDep, SettingsDep
from bot.routes.staff import page
from knowledge_base import curation
from knowledge_base.curation import ChangeResult, EntityKind
from knowledge_base.curation.history import readable_revision
from knowledge_base.forms import load_forms
from knowledge_base.ingest import check_docx
from knowledge_base.legal_files import MAX_FILE_BYTES, LegalFileError
from knowledge_base.store import LegalUnitRow, ProcedureRow
from motcua.db import Database
from motcua.index_refresh import REFRESH_TIMEOUT_S, refresh_everywhere, refresh_url
from motcua.settings import Settings

log = logging.getLogger(__name__)
router = APIRouter(tags=["curation"])

COLLECTIONS = {"procedures": EntityKind.PROCEDURE, "synonyms": EntityKind.SYNONYM, "faq": EntityKind.FAQ,
               "legal": EntityKind.LEGAL, "fees": EntityKind.FEE}
COLLECTION_PATTERN = "^(procedures|synonyms|faq|legal|fees)$"
MULTIPART_OVERHEAD = 64 * 1024  # form boundaries and headers around the file


async def in_db(database: Database, work):
    """Run ``work(session)`` in one transaction off the event loop; curation errors become 404/409/422
    (a refused upload is re-raised for the upload route to answer)."""

    def run():
        with database.session() as session:
            return work(session)

    try:
        return await run_in_threadpool(run)
    except curation.UploadRefused:
        raise
    except curation.NotFound as exc:
        raise HTTPException(404, str(exc)) from exc
    except curation.Conflict as exc:
        raise HTTPException(409, str(exc)) from exc
    except curation.CurationError as exc:
        raise HTTPException(422, str(exc)) from exc


# --- the index in the action server ------------------------------------------------------------

STATUS_TIMEOUT_S = 2.0
SAVED = "thay đổi đã được lưu"


async def refresh_index(settings: Settings) -> dict[str, Any]:
    """Ask the action server to catch up with the database; what happened, in plain Vietnamese
    for the staff member who made the change (no talk of indexes or documents)."""
    response, error, url = await refresh_everywhere(settings, REFRESH_TIMEOUT_S)  # every action server
    if isinstance(error, httpx.TimeoutException):
        return {"updated": False, "message": f"Trợ lý đang cập nhật nội dung tìm kiếm; {SAVED} "
                                             "và sẽ có hiệu lực sau ít phút."}
    if error is not None or response is None:
        log.info("action server unreachable at %s: %s", url, error)
        return {"updated": False, "message": f"Trợ lý chưa chạy nên chưa dùng thay đổi này; {SAVED} "
                                             "và sẽ có hiệu lực khi trợ lý khởi động."}
    if response.status_code != 200:
        return {"updated": False, "message": f"Trợ lý chưa cập nhật được (mã {response.status_code}); "
                                             f"{SAVED} và sẽ có hiệu lực khi trợ lý khởi động lại."}
    report = response.json()
    return {"updated": True, "changed": report.get("changed", 0), "removed": report.get("removed", 0),
            "message": "Trợ lý đã dùng thay đổi này: người dân hỏi là tìm thấy nội dung mới."}


def _count(number: int) -> str:
    return f"{number:,}".replace(",", ".")


async def _assistant_knows(settings: Settings) -> int | None:
    """How many procedures the running action server knows; None when it does not answer yet."""
    url = refresh_url(settings).removesuffix("/index/refresh") + "/health"
    try:
        async with httpx.AsyncClient(timeout=STATUS_TIMEOUT_S) as client:
            response = await client.get(url)
        if response.status_code == 200:
            return int(response.json().get("procedures", 0))
    except (httpx.HTTPError, ValueError, TypeError, AttributeError):
        pass
    return None


def _search_counts(session) -> tuple[int, int]:
    procedures = session.scalar(select(func.count()).select_from(ProcedureRow)) or 0
    articles = session.scalar(select(func.count()).select_from(LegalUnitRow)
                              .where(LegalUnitRow.kind == "article")) or 0
    return int(procedures), int(articles)


async def _answer(settings: Settings, result: ChangeResult, status_code: int = 200) -> JSONResponse:
    body = result.to_dict()
    body["index"] = await refresh_index(settings) if result.changed else {"updated": False,
                                                                         "message": "Không có gì thay đổi."}
    return JSONResponse(body, status_code=status_code)


def _audit(session, principal, action: str, result: ChangeResult, before: Any = None) -> None:
    if result.changed:
        record_audit(session, principal.username, action, f"{result.kind}:{result.key}"[:255], before, result.current)


async def _change(
    database: Database, settings: Settings, principal, action: str, change: Callable[[Any], ChangeResult],
    status_code: int = 200,
) -> JSONResponse:
    """Apply ``change(session)`` in the database, audit it as ``action`` in the same transaction, answer."""

    def work(session):
        result = change(session)
        _audit(session, principal, action, result)
        return result

    return await _answer(settings, await in_db(database, work), status_code)


# --- the page ----------------------------------------------------------------------------------

@router.get("/staff/kb", response_class=HTMLResponse, summary="Cơ sở tri thức / knowledge base curation page")
async def kb_page(settings: SettingsDep, _: Staff) -> HTMLResponse:
    return page(settings, "kb.html")


# --- procedures --------------------------------------------------------------------------------

class ProcedureIn(BaseModel):
    procedure: dict[str, Any]
    version: int | None = Field(None, description="the version the edit started from (409 when stale)")
    reason: str = Field("", max_length=500)


@router.get("/api/v1/kb/procedures", summary="Tìm thủ tục (mã, tên, có dấu hoặc không dấu)")
async def search_procedures(database: DatabaseDep, _: Staff, q: str = Query("", max_length=200),
                            limit: int = Query(curation.SEARCH_LIMIT, ge=1, le=200)) -> list[dict]:
    found = await in_db(database, lambda s: curation.search_procedures(s, q, limit))
    return [vars(p) for p in found]


@router.post("/api/v1/kb/procedures", status_code=201, summary="Tạo thủ tục mới (quản trị viên)")
async def create_procedure(body: ProcedureIn, database: DatabaseDep, settings: SettingsDep,
                           principal: Admin) -> JSONResponse:
    return await _change(
        database, settings, principal, "kb.procedure.create",
        lambda session: curation.create_procedure(
            session, body.procedure, actor=principal.username, reason=body.reason
        ),
        201,
    )


@router.get("/api/v1/kb/procedures/{code}", summary="Một thủ tục, với phiên bản hiện tại")
async def get_procedure(code: str, database: DatabaseDep, _: Staff) -> dict:
    return vars(await in_db(database, lambda s: curation.get_procedure_detail(s, code)))


@router.put("/api/v1/kb/procedures/{code}", summary="Sửa thủ tục (lưu một phiên bản mới)")
async def update_procedure(code: str, body: ProcedureIn, database: DatabaseDep, settings: SettingsDep,
                           principal: Staff) -> JSONResponse:
    def work(session):
        before = curation.get_procedure_detail(session, code).procedure
        result = curation.update_procedure(session, code, body.procedure, actor=principal.username,
                                           reason=body.reason, expected_version=body.version)
        _audit(session, principal, "kb.procedure.update", result, before)
        return result

    return await _answer(settings, await in_db(database, work))


# --- synonyms ----------------------------------------------------------------------------------

class SynonymIn(BaseModel):
    phrase: str = Field("", max_length=300)
    canonical: str = Field("", max_length=300)
    reason: str = Field("", max_length=500)


@router.get("/api/v1/kb/synonyms", summary="Từ đồng nghĩa")
async def synonyms(database: DatabaseDep, _: Staff, q: str = Query("", max_length=200)) -> list[dict]:
    return [vars(s) for s in await in_db(database, lambda s: curation.list_synonym_items(s, q))]


@router.post("/api/v1/kb/synonyms", status_code=201, summary="Thêm từ đồng nghĩa")
async def add_synonym(body: SynonymIn, database: DatabaseDep, settings: SettingsDep,
                      principal: Staff) -> JSONResponse:
    return await _change(
        database, settings, principal, "kb.synonym.add",
        lambda session: curation.add_synonym(
            session, body.phrase, body.canonical, actor=principal.username, reason=body.reason
        ),
        201,
    )


@router.put("/api/v1/kb/synonyms/{synonym_id}", summary="Sửa từ đồng nghĩa")
async def update_synonym(synonym_id: int, body: SynonymIn, database: DatabaseDep, settings: SettingsDep,
                         principal: Staff) -> JSONResponse:
    return await _change(
        database, settings, principal, "kb.synonym.update",
        lambda session: curation.update_synonym(
            session, synonym_id, body.phrase, body.canonical, actor=principal.username, reason=body.reason
        ),
    )


@router.delete("/api/v1/kb/synonyms/{synonym_id}", summary="Xóa từ đồng nghĩa (khôi phục được)")
async def delete_synonym(synonym_id: int, database: DatabaseDep, settings: SettingsDep,
                         principal: Staff) -> JSONResponse:
    return await _change(
        database, settings, principal, "kb.synonym.delete",
        lambda session: curation.delete_synonym(session, synonym_id, actor=principal.username),
    )


# --- FAQ ---------------------------------------------------------------------------------------

class FaqIn(BaseModel):
    question: str = Field("", max_length=1200)
    answer: str = Field("", max_length=6000)
    procedures: list[str] = Field(default_factory=list, max_length=20)
    reason: str = Field("", max_length=500)


@router.get("/api/v1/kb/faq", summary="Câu hỏi thường gặp")
async def faq(database: DatabaseDep, _: Staff, q: str = Query("", max_length=200)) -> list[dict]:
    return [vars(f) for f in await in_db(database, lambda s: curation.list_faq_items(s, q))]


@router.post("/api/v1/kb/faq", status_code=201, summary="Thêm câu hỏi thường gặp")
async def add_faq(body: FaqIn, database: DatabaseDep, settings: SettingsDep, principal: Staff) -> JSONResponse:
    return await _change(
        database, settings, principal, "kb.faq.add",
        lambda session: curation.add_faq_entry(
            session, body.question, body.answer, body.procedures, actor=principal.username, reason=body.reason
        ),
        201,
    )


@router.put("/api/v1/kb/faq/{faq_id}", summary="Sửa câu hỏi thường gặp")
async def update_faq(faq_id: int, body: FaqIn, database: DatabaseDep, settings: SettingsDep,
                     principal: Staff) -> JSONResponse:
    return await _change(
        database, settings, principal, "kb.faq.update",
        lambda session: curation.update_faq_entry(
            session, faq_id, body.question, body.answer, body.procedures,
            actor=principal.username, reason=body.reason,
        ),
    )


@router.delete("/api/v1/kb/faq/{faq_id}", summary="Xóa câu hỏi thường gặp (khôi phục được)")
async def delete_faq(faq_id: int, database: DatabaseDep, settings: SettingsDep,
                     principal: Staff) -> JSONResponse:
    return await _change(
        database, settings, principal, "kb.faq.delete",
        lambda session: curation.delete_faq_entry(session, faq_id, actor=principal.username),
    )


# --- the center's fee table --------------------------------------------------------------------

FEE_IN_FORCE = {"updated": True, "message": "Mức phí mới áp dụng cho hồ sơ nộp từ bây giờ; "  # staff-facing
                "hồ sơ đã nộp giữ mức phí đã tính khi nộp."}


class FeeIn(BaseModel):
    # checked by knowledge_base.fee_table.check_amounts, whose errors are Vietnamese
    amount: Any = Field(None, description="số tiền, đồng (số nguyên ≥ 0; 0 = không thu)")
    amounts: dict[str, Any] = Field(default_factory=dict, max_length=3,
                                    description="mức riêng theo cách nộp: truc_tiep, truc_tuyen, buu_chinh")
    version: int | None = Field(None, description="the version the edit started from (409 when stale)")
    reason: str = Field("", max_length=500)


def _fee_answer(result: ChangeResult) -> JSONResponse:
    body = result.to_dict()
    body["index"] = FEE_IN_FORCE if result.changed else {"updated": False, "message": "Không có gì thay đổi."}
    return JSONResponse(body)


@router.get("/api/v1/kb/fees", summary="Bảng phí của Trung tâm: các mức phí và số tiền đang áp dụng")
async def fee_table(database: DatabaseDep, _: Staff) -> list[dict]:
    return [vars(item) for item in await in_db(database, curation.list_fee_items)]


@router.put("/api/v1/kb/fees/{key}", summary="Sửa số tiền của một mức phí (lưu một phiên bản mới)")
async def update_fee(key: str, body: FeeIn, database: DatabaseDep, principal: Staff) -> JSONResponse:
    def work(session):
        result = curation.update_fee(session, key, body.amount, body.amounts, actor=principal.username,
                                     reason=body.reason, expected_version=body.version)
        if result.changed:  # who, when (the audit row), old → new
            before = curation.list_revisions(session, EntityKind.FEE, key)[0].before
            record_audit(session, principal.username, "kb.fee.update", f"fee:{key}"[:255], before, result.current)
        return result

    return _fee_answer(await in_db(database, work))


# --- legal documents ---------------------------------------------------------------------------

@router.get("/api/v1/kb/legal", summary="Văn bản pháp luật đã nạp")
async def legal_documents(database: DatabaseDep, _: Staff) -> list[dict]:
    return [vars(d) for d in await in_db(database, curation.list_legal_documents)]


@router.get("/api/v1/kb/legal/{document_id}", summary="Một văn bản pháp luật")
async def legal_document(document_id: int, database: DatabaseDep, _: Staff) -> dict:
    return vars(await in_db(database, lambda s: curation.get_legal_document(s, document_id)))


@router.put("/api/v1/kb/legal/{document_id}", summary="Sửa thông tin văn bản (tên, ngày, thay thế)")
async def update_legal(document_id: int, body: dict[str, Any], database: DatabaseDep,
                       settings: SettingsDep, principal: Staff) -> JSONResponse:
    def work(session):
        changes = {k: v for k, v in body.items() if k != "reason"}
        result = curation.update_legal_metadata(session, document_id, changes, actor=principal.username,
                                                reason=str(body.get("reason") or ""))
        _audit(session, principal, "kb.legal.update", result)
        return result

    return await _answer(settings, await in_db(database, work))


UPLOAD_BODY = {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["file"],
    "properties": {"file": {"type": "string", "format": "binary", "description": "văn bản pháp luật"}}}}}}}
"""The form the upload takes, for /docs: the route reads it itself, after the sign-in check."""


@router.post("/api/v1/kb/legal/upload", status_code=201, summary="Tải lên văn bản pháp luật (.md .txt .pdf .docx .html)",
             openapi_extra=UPLOAD_BODY)
async def upload_legal(request: Request, database: DatabaseDep, settings: SettingsDep,
                       principal: Staff) -> JSONResponse:
    """The file is read here, after ``Staff`` has checked the signed-in staff member: declared as a
    ``File()`` parameter, FastAPI would read and parse the whole body before any dependency ran.
    The body limit (:mod:`bot.limits`) has already refused anything over the file limit."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_FILE_BYTES + MULTIPART_OVERHEAD:
        return _refused("too_large", f"Tệp quá lớn; giới hạn là {MAX_FILE_BYTES // (1024 * 1024)} MB. "
                                     "Vui lòng tách văn bản thành các tệp nhỏ hơn.")
    received = await _uploaded_file(request)
    if received is None:
        return JSONResponse({"detail": "Chưa có tệp nào được gửi lên: hãy chọn một tệp văn bản (trường «file»).",
                             "kind": "empty", "stored": False}, status_code=422)
    filename, content = received
    if filename.lower().endswith(".docx"):
        try:
            check_docx(content, filename)
        except LegalFileError as exc:
            return _refused("unreadable", str(exc))

    def work(session):
        report = curation.upload_legal_document(session, content, filename, actor=principal.username)
        record_audit(session, principal.username, "kb.legal.upload", f"legal:{report.document.id}", None,
                     {"number": report.document.number, "file": filename, "units": report.units})
        return report

    try:
        report = await in_db(database, work)
    except curation.UploadRefused as exc:  # nothing was written
        return _refused(exc.kind, str(exc))
    body = report.to_dict()
    body["stored"] = True
    body["index"] = await refresh_index(settings)
    return JSONResponse(body, status_code=201)


async def _uploaded_file(request: Request) -> tuple[str, bytes] | None:
    """The name and bytes of the form's ``file`` field; None when the body is not a form with a file."""
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        return None
    try:
        form = await request.form(max_files=1, max_fields=10)
    except Exception:  # a malformed form, or more than one file
        return None
    try:
        file = form.get("file")
        if not isinstance(file, UploadFile):
            return None
        return file.filename or "", await file.read(MAX_FILE_BYTES + 1)
    finally:
        await form.close()


def _refused(kind: str, message: str) -> JSONResponse:
    status = {"too_large": 413, "unsupported": 415}.get(kind, 422)
    return JSONResponse({"detail": message, "kind": kind, "stored": False}, status_code=status)


# --- history and revert ------------------------------------------------------------------------

@router.get("/api/v1/kb/history", summary="Các thay đổi gần đây của cán bộ")
async def history(database: DatabaseDep, _: Staff,
                  kind: str = Query("", pattern="^(|procedure|synonym|faq|legal|fee)$"),
                  limit: int = Query(50, ge=1, le=500)) -> list[dict]:
    found = await in_db(database, lambda s: curation.recent_revisions(s, kind or None, limit))
    return [readable_revision(r) for r in found]


@router.get("/api/v1/kb/{collection}/{key}/revisions", summary="Lịch sử phiên bản (ai, khi nào, trước/sau)")
async def revisions(database: DatabaseDep, _: Staff, key: str,
                    collection: str = Path(..., pattern=COLLECTION_PATTERN)) -> list[dict]:
    kind = COLLECTIONS[collection]
    return [readable_revision(r) for r in await in_db(database, lambda s: curation.list_revisions(s, kind, key))]


@router.post("/api/v1/kb/{collection}/{key}/revisions/{revision_id}/revert",
             summary="Khôi phục về một phiên bản (ghi thành phiên bản mới)")
async def revert(database: DatabaseDep, settings: SettingsDep, principal: Staff, key: str, revision_id: int,
                 collection: str = Path(..., pattern=COLLECTION_PATTERN),
                 to: str = Query("after", pattern="^(after|before)$",
                                 description="after: về phiên bản này; before: hoàn tác thay đổi này")
                 ) -> JSONResponse:
    kind = COLLECTIONS[collection]

    def work(session):
        result = curation.revert(session, kind, key, revision_id, actor=principal.username, to=to)
        before = None
        if kind is EntityKind.FEE and result.changed:  # old → new in the audit log, as for an edit
            before = curation.list_revisions(session, kind, key)[0].before
        _audit(session, principal, f"kb.{kind}.revert", result, before)
        return result

    if kind is EntityKind.FEE:  # read when a dossier is priced: nothing for the assistant's index
        return _fee_answer(await in_db(database, work))
    return await _answer(settings, await in_db(database, work))


@router.post("/api/v1/kb/index/refresh", summary="Yêu cầu trợ lý dùng ngay nội dung mới để tìm kiếm")
async def refresh(settings: SettingsDep, _: Staff) -> dict:
    return await refresh_index(settings)


@router.get("/api/v1/kb/index/status", summary="Trợ lý đã sẵn sàng tìm kiếm chưa, trên bao nhiêu thủ tục, điều luật")
async def index_status(settings: SettingsDep, database: DatabaseDep, _: Staff) -> dict:
    procedures, articles = await in_db(database, _search_counts)
    known = await _assistant_knows(settings)
    if known is None:
        return {"ready": False, "procedures": procedures, "articles": articles,
                "message": "Đang chuẩn bị tìm kiếm…"}
    procedures = known or procedures
    return {"ready": True, "procedures": procedures, "articles": articles,
            "message": f"Đã sẵn sàng tìm kiếm: {_count(procedures)} thủ tục, {_count(articles)} điều luật"}


# --- the electronic forms' field labels (the dossier desk shows labels, not field names) ---------

@cache
def _form_labels() -> list[dict[str, Any]]:
    return [{"id": form.id, "title": form.title,
             "sections": [{"title": title, "fields": [{"name": f.name, "label": f.label, "type": f.type}
                                                      for f in fields]}
                          for title, fields in form.sections]}
            for form in load_forms().values()]


@router.get("/api/v1/kb/forms", summary="Các tờ khai điện tử: mục và nhãn của từng trường")
async def forms(_: Staff) -> list[dict[str, Any]]:
    return await run_in_threadpool(_form_labels)
