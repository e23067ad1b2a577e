"""Dossiers over HTTP: the citizen's lookup, receipt and upload; the staff desk's API and page.

Citizens (``/api/v1/dossiers``) see only the status and dates of a dossier unless they give
a second factor: the lookup PIN (told when filing, printed on the receipt), or the CCCD AND
the phone recorded on it; those travel in POST bodies or headers, never in URLs. Wrong
factors and unknown codes are counted per client IP and per dossier code
(:class:`~motcua.dossiers.guard.LookupGuard`): too many answer 429 with ``Retry-After``.
Uploads are read as a stream, capped, and checked against the applicant before any file.
The declaration link answers one identical 404 for every refusal.

Staff (``/api/v1/staff/dossiers``, page ``/staff/dossiers``): signed-in staff only
(:func:`bot.auth.require_staff`), limited to their centre's dossiers (:func:`staff_center`; another
centre's dossier answers 404 as if it did not exist; admins: every centre); a dossier filed at the
desk belongs to the staff member's centre; each change records ``staff:<username>`` as its actor and
every view of personal data is written to the audit log.

The business rules live in :mod:`motcua.dossiers`; this module only translates HTTP.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from html import escape as html_escape
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from bot.auth import Principal, require_staff
from bot.deps import ClientIP, DatabaseDep, DossiersDep, LookupGuardDep, SettingsDep
from bot.message_log import cleaned
from bot.routes.dossier_access import (
    call_service,
    check_second_factor,
    count_failure,
    guard_code,
    http_error,
    link_refused,
    pdf_response,
    throttled,
)
from bot.routes.pages import STATIC, request_locale
from knowledge_base.messages import render
from knowledge_base.text import clean_text
from motcua.centers import DEFAULT_CENTER, find_center, resolve_center
from motcua.centers import staff_center as centre_of_staff
from motcua.db import Database
from motcua.dossiers.attachments import prepare_attachment, too_large
from motcua.dossiers.errors import DossierError
from motcua.dossiers.filing import FilingKeyReused
from motcua.dossiers.outbox import outbox_summary
from motcua.dossiers.service import (
    Applicant,
    DossierApplication,
    DossierDetail,
    DossierService,
    is_second_factor,
)
from motcua.dossiers.upload_stream import MAX_TOTAL_BYTES, StreamedForm, read_multipart
from motcua.workdays import VIETNAM_TZ

router = APIRouter(tags=["dossiers"])

FACTOR_HEADERS = {"pin": "x-lookup-pin", "cccd": "x-applicant-cccd", "phone": "x-applicant-phone"}
"""Where a citizen's upload may carry its second factor, so it is checked before the body is read."""


Service = DossiersDep
Guard = LookupGuardDep


async def _read_uploads(request: Request,
                        before_first_file: Callable[[dict[str, str]], Awaitable[None]] | None = None) -> StreamedForm:
    """Files (field ``files``) and text fields of a multipart upload, read as a capped stream.

    A declared Content-Length over the cap is refused without reading; a chunked body is
    refused at the first byte over it.
    """
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > MAX_TOTAL_BYTES:
        everything = render("page.dossier.all_files", locale=request_locale(request))
        raise HTTPException(413, detail=str(too_large(everything, int(length), MAX_TOTAL_BYTES)))
    try:
        return await read_multipart(request.headers.get("content-type", ""), request.stream(),
                                    before_first_file=before_first_file)
    except DossierError as exc:
        raise http_error(exc) from None


# --- citizens -----------------------------------------------------------------------------


class LookupIn(BaseModel):
    code: str = Field("", max_length=200, description="mã số hồ sơ người dân gõ")
    qr: str = Field("", max_length=2000, description="nội dung mã QR quét từ giấy tiếp nhận")
    pin: str = Field("", max_length=20, description="mã tra cứu in trên giấy tiếp nhận")
    cccd: str = Field("", max_length=40)
    phone: str = Field("", max_length=40)


class ApplicantCheckIn(BaseModel):
    pin: str = Field("", max_length=20)
    cccd: str = Field("", max_length=40)
    phone: str = Field("", max_length=40)


@router.get("/api/v1/dossiers/{code}", summary="Tình trạng hồ sơ (thông tin chung) / public dossier status")
async def public_status(code: str, client: ClientIP, service: Service, database: DatabaseDep,
                        guard: Guard) -> Any:
    code = guard_code(guard, client, code)
    try:
        return await run_in_threadpool(database.run, service.lookup, code)
    except DossierError as exc:
        raise count_failure(guard, client, exc) from None


@router.post("/api/v1/dossiers/lookup", summary="Tra cứu hồ sơ theo mã hoặc mã QR / look a dossier up")
async def lookup(body: LookupIn, client: ClientIP, service: Service, database: DatabaseDep,
                 guard: Guard) -> Any:
    scanned = bool(body.qr and not body.code)
    code = guard_code(guard, client, body.qr if scanned else body.code, scanned=scanned)
    try:
        view = await run_in_threadpool(database.run, service.lookup, code, cccd=body.cccd, phone=body.phone,
                                       pin=body.pin)
    except DossierError as exc:
        raise count_failure(guard, client, exc) from None
    if view.verified:
        guard.succeeded(client, code)
    elif is_second_factor(cccd=body.cccd, phone=body.phone, pin=body.pin):
        wait = guard.failed(client, code)
        if wait > 0:
            raise throttled(wait)
    return view


@router.post("/api/v1/dossiers/{code}/receipt", summary="Giấy tiếp nhận hồ sơ (PDF) cho người nộp")
async def citizen_receipt(code: str, body: ApplicantCheckIn, request: Request, client: ClientIP,
                          settings: SettingsDep, service: Service, database: DatabaseDep, guard: Guard) -> Response:
    code = guard_code(guard, client, code)
    refusal = render("page.dossier.factors_mismatch", locale=request_locale(request))
    await check_second_factor(database, service, guard, client, code, body.model_dump(), refusal)
    pin = "".join(ch for ch in body.pin if ch.isdigit())
    known_pin = await run_in_threadpool(database.run, service.verify_applicant, code, pin=pin)
    data = await call_service(database.run, service.receipt_pdf, code, center_name=settings.center_name,
                              lookup_pin=pin if known_pin else "")
    return pdf_response(data, f"giay-tiep-nhan-{code}.pdf")


def _declaration_pdf(service: DossierService, detail: DossierDetail) -> bytes | None:
    from motcua.declaration import render_declaration_pdf

    form = service.forms.get(detail.form_id) if detail.form_id else None
    if form is None:
        return None
    values = {k: v for k, v in detail.values.items() if k in form.field_names}
    signed_on = detail.received_at.astimezone(VIETNAM_TZ).date()
    return render_declaration_pdf(form, values, detail.code, signed_on=signed_on)


@router.get("/api/v1/dossiers/{code}/declaration.pdf",
            summary="Tờ khai đã điền (PDF), theo đường dẫn trợ lý gửi / the filled declaration")
async def citizen_declaration(code: str, request: Request, service: Service, database: DatabaseDep,
                              token: str = "") -> Response:
    # no max_length on the query: a 422 for an overlong token would answer differently (the service refuses it)
    detail = await run_in_threadpool(database.run, service.linked_dossier, code, token)
    data = await run_in_threadpool(_declaration_pdf, service, detail) if detail is not None else None
    if data is None:  # a bad, expired, revoked or foreign token, an unknown code: nothing tells them apart
        return link_refused(request_locale(request))
    return pdf_response(data, f"to-khai-{detail.code}.pdf")


def _factors(request: Request) -> dict[str, str]:
    """The second factor sent in headers (``X-Lookup-Pin``, or ``X-Applicant-Cccd`` + ``-Phone``)."""
    return {name: request.headers.get(header, "")[:40] for name, header in FACTOR_HEADERS.items()
            if request.headers.get(header)}


@router.post("/api/v1/dossiers/{code}/attachments", status_code=201,
             summary="Người dân gửi giấy tờ (ảnh JPEG/PNG hoặc PDF) / citizen uploads documents")
async def citizen_upload(code: str, request: Request, client: ClientIP, service: Service,
                         database: DatabaseDep, guard: Guard) -> Any:
    """The applicant is checked (headers, or the fields before the first file) before any file is read."""
    code = guard_code(guard, client, code)
    refusal = render("page.dossier.factors_mismatch_upload", locale=request_locale(request))
    factors = _factors(request)

    async def check(fields: dict[str, str]) -> None:
        factors.update({k: fields.get(k, "") for k in FACTOR_HEADERS})
        await check_second_factor(database, service, guard, client, code, factors, refusal)

    if factors:
        await check_second_factor(database, service, guard, client, code, factors, refusal)
    form = await _read_uploads(request, before_first_file=None if factors else check)
    prepared = await call_service(prepare_attachment, form.files, label=form.fields.get("label", ""))
    return await call_service(database.run, service.add_attachment, code, prepared, actor="citizen",
                              verify=True, **factors)


# --- staff --------------------------------------------------------------------------------


SignedIn = Annotated[Principal, Depends(require_staff)]


async def staff_actor(principal: SignedIn) -> str:
    """The signed-in staff member, as recorded in a dossier's history."""
    return f"staff:{principal.username}"


Actor = Annotated[str, Depends(staff_actor)]


async def staff_center(principal: SignedIn, database: DatabaseDep) -> str | None:
    """The centre whose dossiers the staff member may see: their account's
    (:func:`motcua.centers.staff_center`: a centre's code or agency code, empty for the default centre;
    an unknown one sees nothing), or ``None`` (every centre) for an admin."""
    if principal.is_admin:
        return None
    return await run_in_threadpool(database.run, centre_of_staff, principal.center_code)


Center = Annotated[str | None, Depends(staff_center)]


async def desk_code(code: str, center: Center, service: Service, database: DatabaseDep) -> str:
    """The dossier's code when it belongs to the staff member's center; 404 otherwise (as if absent)."""
    return await call_service(database.run, service.check_center, code, center)


DeskCode = Annotated[str, Depends(desk_code)]


async def _audit_view(database: Database, service: DossierService, principal: Principal, code: str,
                      what: str, **detail: Any) -> None:
    """Record that a staff member saw a dossier's personal data (who and when: the audit row)."""
    await run_in_threadpool(database.run, service.record_view, code, actor=principal.username, what=what,
                            detail=detail)


class DeskFilingIn(BaseModel):
    procedure_code: str = Field(..., min_length=1, max_length=32)
    applicant_name: str = Field(..., max_length=128)
    applicant_cccd: str = Field("", max_length=40)
    applicant_phone: str = Field("", max_length=40)
    form_id: str = Field("", max_length=64)
    values: dict[str, Any] = Field(default_factory=dict)
    submission_kind: str = Field("truc_tiep", description="truc_tiep | truc_tuyen | buu_chinh")
    center: str = Field("", max_length=32, description="the centre the dossier is filed at (its code or agency "
                        "code): an admin's choice, default the default centre; staff file at their own centre")


class StatusIn(BaseModel):
    status: str = Field(..., max_length=32)
    note: str = Field("", max_length=2000)


class NoteIn(BaseModel):
    note: str = Field(..., max_length=2000)


desk = APIRouter(prefix="/api/v1/staff/dossiers", tags=["staff desk"], dependencies=[Depends(require_staff)])


@desk.get("", summary="Danh sách hồ sơ / list dossiers")
async def desk_list(
    service: Service, database: DatabaseDep,
    center: Center,
    status: Annotated[str, Query(max_length=32)] = "",
    q: Annotated[str, Query(max_length=100)] = "",
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Any:
    return await call_service(database.run, service.list_dossiers, status=status, search=q, limit=limit,
                              offset=offset,
                              center=center)


IdempotencyKey = Annotated[str, Header(
    alias="Idempotency-Key", pattern=r"^[A-Za-z0-9._:-]{8,100}$",
    description="made by the desk page when its filing form opens: the same key again files nothing more "
                "and answers the dossier filed with it",
)]


@desk.post("", status_code=201, summary="Tiếp nhận hồ sơ tại quầy / file a dossier at the counter")
async def desk_file(body: DeskFilingIn, actor: Actor, center: Center,
                    service: Service, database: DatabaseDep, idempotency_key: IdempotencyKey = "") -> Any:
    chosen = await run_in_threadpool(database.run, resolve_center, body.center) if body.center else None
    if body.center and chosen is None:
        raise HTTPException(422, detail=f"Không có trung tâm «{body.center}» trong hệ thống.")  # staff-facing
    if center is None:  # an admin files where they choose, else at the default centre
        home = chosen or DEFAULT_CENTER
    elif chosen is not None and chosen != center:
        raise HTTPException(403, detail="Cán bộ chỉ tiếp nhận hồ sơ tại trung tâm của mình.")  # staff-facing
    elif center != DEFAULT_CENTER and await run_in_threadpool(database.run, find_center, center) is None:
        raise HTTPException(403, detail="Tài khoản thuộc một trung tâm không có trong hệ thống, "  # staff-facing
                                        "không tiếp nhận hồ sơ được.")
    else:
        home = center
    application = DossierApplication(
        procedure_code=body.procedure_code,
        applicant=Applicant(clean_text(body.applicant_name), body.applicant_cccd, body.applicant_phone),
        values=cleaned(body.values), form_id=body.form_id, channel="counter", sender_id="",
        submission_kind=body.submission_kind, center=home,
    )
    key = f"desk:{actor}:{idempotency_key}" if idempotency_key else ""  # one staff member's keys never meet another's
    try:
        return await run_in_threadpool(database.run, service.file_dossier, application, actor=actor,
                                       filing_key=key)
    except FilingKeyReused as exc:
        raise HTTPException(409, detail=f"Biểu mẫu này đã nộp hồ sơ {exc.code} với nội dung khác; "  # staff-facing
                                        "mở lại biểu mẫu để nộp một hồ sơ mới.") from None
    except DossierError as exc:
        raise http_error(exc) from None
    except (ValueError, TypeError) as exc:  # a form id, values or submission kind that do not fit
        raise HTTPException(422, detail=str(exc)) from None


@desk.get("/sync", summary="Đồng bộ Cổng Dịch vụ công / portal sync state")
async def desk_sync(settings: SettingsDep) -> Any:
    summary = await run_in_threadpool(outbox_summary, settings.sqlalchemy_url)
    return {"pending": summary.pending, "failing": summary.failing, "delivered": summary.delivered,
            "oldest_pending_at": summary.oldest_pending_at, "last_error": summary.last_error,
            "message": summary.message, "portal_configured": bool(settings.portal_url)}


@desk.get("/{code}", summary="Chi tiết hồ sơ / dossier detail")
async def desk_detail(code: DeskCode, principal: SignedIn, center: Center, service: Service,
                      database: DatabaseDep) -> Any:
    detail = await call_service(database.run, service.get, code, center=center)
    await _audit_view(database, service, principal, code, "detail")
    return detail


@desk.post("/{code}/receive", summary="Tiếp nhận xử lý / take into processing")
async def desk_receive(code: DeskCode, actor: Actor,
                       service: Service, database: DatabaseDep) -> Any:
    return await call_service(database.run, service.receive, code, actor=actor)


@desk.post("/{code}/supplement", summary="Yêu cầu bổ sung / request a supplement")
async def desk_supplement(code: DeskCode, body: NoteIn, actor: Actor,
                          service: Service, database: DatabaseDep) -> Any:
    return await call_service(database.run, service.request_supplement, code, body.note, actor=actor)


@desk.post("/{code}/status", summary="Chuyển tình trạng / change status")
async def desk_status(code: DeskCode, body: StatusIn, actor: Actor,
                      service: Service, database: DatabaseDep) -> Any:
    return await call_service(database.run, service.change_status, code, body.status, actor=actor,
                              note=body.note)


@desk.post("/{code}/attachments", status_code=201, summary="Đính kèm giấy tờ / attach documents")
async def desk_upload(code: DeskCode, request: Request, actor: Actor, center: Center,
                      service: Service, database: DatabaseDep) -> Any:
    form = await _read_uploads(request)
    prepared = await call_service(prepare_attachment, form.files, label=form.fields.get("label", ""))
    return await call_service(database.run, service.add_attachment, code, prepared, actor=actor,
                              center=center)


@desk.get("/{code}/attachments/{attachment_id}", summary="Tải giấy tờ (PDF) / download")
async def desk_attachment(code: DeskCode, attachment_id: int, principal: SignedIn, center: Center,
                          service: Service, database: DatabaseDep):
    info, data = await call_service(database.run, service.attachment_content, code, attachment_id,
                                    center=center)
    await _audit_view(database, service, principal, code, "attachment", attachment_id=attachment_id,
                      label=info.label)
    return pdf_response(data, info.filename)


@desk.get("/{code}/receipt.pdf", summary="In lại giấy tiếp nhận (không có mã tra cứu) / reprint the receipt")
async def desk_receipt(code: DeskCode, settings: SettingsDep, principal: SignedIn, center: Center,
                       service: Service, database: DatabaseDep):
    data = await call_service(database.run, service.receipt_pdf, code, center_name=settings.center_name,
                              received_by=principal.full_name or principal.username, center=center)
    await _audit_view(database, service, principal, code, "receipt")
    return pdf_response(data, f"giay-tiep-nhan-{code}.pdf")


@desk.post("/{code}/receipt.pdf",
           summary="In giấy tiếp nhận với mã tra cứu mới / print the receipt with a new lookup PIN")
async def desk_receipt_with_pin(code: DeskCode, settings: SettingsDep, principal: SignedIn, center: Center,
                                service: Service, database: DatabaseDep):
    """The PIN is stored hashed, so printing it means making a new one (the old one stops working)."""
    pin = await call_service(database.run, service.reissue_pin, code, actor=principal.username, center=center)
    data = await call_service(database.run, service.receipt_pdf, code, center_name=settings.center_name,
                              received_by=principal.full_name or principal.username, lookup_pin=pin,
                              center=center)
    await _audit_view(database, service, principal, code, "receipt")
    return pdf_response(data, f"giay-tiep-nhan-{code}.pdf")


@desk.get("/{code}/declaration.pdf", summary="Tờ khai đã điền (PDF) / the filled declaration")
async def desk_declaration(code: DeskCode, principal: SignedIn, center: Center, service: Service,
                           database: DatabaseDep):
    detail = await call_service(database.run, service.get, code, center=center)
    data = await run_in_threadpool(_declaration_pdf, service, detail)
    if data is None:
        raise HTTPException(404, detail="Hồ sơ này không được khai bằng tờ khai điện tử.")  # staff-facing
    await _audit_view(database, service, principal, code, "declaration")
    return pdf_response(data, f"to-khai-{code}.pdf")


@desk.post("/{code}/links/revoke", summary="Thu hồi đường dẫn tải tờ khai / revoke download links")
async def desk_revoke_links(code: DeskCode, principal: SignedIn, center: Center, service: Service,
                            database: DatabaseDep) -> Any:
    revoked = await call_service(database.run, service.revoke_links, code, actor=principal.username,
                                 center=center)
    return {"code": code, "revoked": revoked,
            "message": f"Đã thu hồi {revoked} đường dẫn tải tờ khai của hồ sơ {code}." if revoked  # staff-facing
            else f"Hồ sơ {code} không có đường dẫn nào đang hiệu lực."}  # staff-facing


router.include_router(desk)


@router.get("/staff/dossiers", response_class=HTMLResponse, include_in_schema=False)
async def desk_page(settings: SettingsDep, center: Center, database: DatabaseDep, _: SignedIn) -> HTMLResponse:
    """The desk, headed with the staff member's centre (the deployment's name for the default centre and admins)."""
    name = settings.center_name
    if center is not None and center != DEFAULT_CENTER:
        found = await run_in_threadpool(database.run, find_center, center)
        name = found.display_name if found is not None else name
    html = (STATIC / "desk.html").read_text(encoding="utf-8")
    return HTMLResponse(html.replace("{{CENTER_NAME}}", html_escape(name)))
