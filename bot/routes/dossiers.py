"""Dossiers over HTTP: the citizen's lookup, receipt and upload; the staff desk's API and page.

Citizens (``/api/v1/dossiers``) see only the safe fields of a dossier unless they give the
CCCD number or phone recorded on it; those travel in POST bodies, never in URLs.

Staff (``/api/v1/staff/dossiers``, page ``/staff/dossiers``): signed-in staff only
(:func:`bot.auth.require_staff`); each change records ``staff:<username>`` as its actor.

The business rules live in :mod:`motcua.dossiers`; this module only translates HTTP.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from bot.auth import Principal, require_staff
from bot.routes.pages import STATIC
from motcua.dossiers.attachments import MAX_FILE_BYTES, MAX_FILES, Upload, prepare_attachment, too_large
from motcua.dossiers.errors import DossierError
from motcua.dossiers.links import is_declaration_token
from motcua.dossiers.outbox import outbox_summary
from motcua.dossiers.service import Applicant, DossierApplication, DossierService
from motcua.workdays import VIETNAM_TZ

router = APIRouter(tags=["dossiers"])

_HTTP_STATUS = {"not_found": 404, "invalid": 422, "conflict": 409, "forbidden": 403, "too_large": 413,
                "unsupported": 415}


def dossier_service(request: Request) -> DossierService:
    """One service per app, built on first use from the app's settings.

    A deployment (or a test) may put its own ``dossier_notifier`` or ``dossier_service``
    on ``app.state`` beforehand.
    """
    state = request.app.state
    service = getattr(state, "dossier_service", None)
    if service is None:
        service = DossierService.from_settings(state.settings, notifier=getattr(state, "dossier_notifier", None))
        state.dossier_service = service
    return service


Service = Annotated[DossierService, Depends(dossier_service)]


def _http_error(exc: DossierError) -> HTTPException:
    return HTTPException(status_code=_HTTP_STATUS.get(exc.kind, 422), detail=str(exc))


async def _call(function, *args, **kwargs):
    """Run a (blocking) service call in the thread pool, turning its errors into HTTP answers."""
    try:
        return await run_in_threadpool(function, *args, **kwargs)
    except DossierError as exc:
        raise _http_error(exc) from None


def _pdf(data: bytes, filename: str) -> Response:
    return Response(data, media_type="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{filename}"', "Cache-Control": "no-store"})


async def _read_uploads(request: Request) -> tuple[list[Upload], dict[str, str]]:
    """Files (field ``files``) and text fields of a multipart upload, refusing oversized files early."""
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > MAX_FILES * MAX_FILE_BYTES + 1024 * 1024:
        raise HTTPException(413, detail=str(too_large("(toàn bộ tệp gửi lên)", int(length), MAX_FILE_BYTES)))
    try:
        form = await request.form(max_files=MAX_FILES + 1, max_fields=20)
    except Exception:
        raise HTTPException(400, detail="Dữ liệu gửi lên không đúng dạng tệp đính kèm (multipart/form-data).") from None
    uploads: list[Upload] = []
    fields: dict[str, str] = {}
    try:
        for key, value in form.multi_items():
            if isinstance(value, UploadFile):
                if key != "files":
                    continue
                if value.size is not None and value.size > MAX_FILE_BYTES:
                    raise _http_error(too_large(value.filename or "", value.size))
                data = await value.read(MAX_FILE_BYTES + 1)
                uploads.append(Upload(value.filename or "", data))
            else:
                fields[key] = str(value)
    finally:
        await form.close()
    return uploads, fields


# --- citizens -----------------------------------------------------------------------------


class LookupIn(BaseModel):
    code: str = Field("", max_length=200, description="mã số hồ sơ người dân gõ")
    qr: str = Field("", max_length=2000, description="nội dung mã QR quét từ giấy tiếp nhận")
    cccd: str = Field("", max_length=40)
    phone: str = Field("", max_length=40)


class ApplicantCheckIn(BaseModel):
    cccd: str = Field("", max_length=40)
    phone: str = Field("", max_length=40)


@router.get("/api/v1/dossiers/{code}", summary="Tình trạng hồ sơ (thông tin chung) / public dossier status")
async def public_status(code: str, service: Service) -> Any:
    return await _call(service.lookup, code)


@router.post("/api/v1/dossiers/lookup", summary="Tra cứu hồ sơ theo mã hoặc mã QR / look a dossier up")
async def lookup(body: LookupIn, service: Service) -> Any:
    if body.qr and not body.code:
        return await _call(service.lookup, body.qr, cccd=body.cccd, phone=body.phone, scanned=True)
    return await _call(service.lookup, body.code, cccd=body.cccd, phone=body.phone)


@router.post("/api/v1/dossiers/{code}/receipt", summary="Giấy tiếp nhận hồ sơ (PDF) cho người nộp")
async def citizen_receipt(code: str, body: ApplicantCheckIn, request: Request,
                          service: Service) -> Response:
    if not await _call(service.verify_applicant, code, cccd=body.cccd, phone=body.phone):
        raise HTTPException(403, detail="Số căn cước hoặc số điện thoại không khớp với hồ sơ này.")
    data = await _call(service.receipt_pdf, code, center_name=request.app.state.settings.center_name)
    return _pdf(data, f"giay-tiep-nhan-{code}.pdf")


def _declaration_pdf(service: DossierService, code: str) -> bytes:
    from motcua.declaration import render_declaration_pdf

    detail = service.get(code)
    form = service.forms.get(detail.form_id) if detail.form_id else None
    if form is None:
        raise HTTPException(404, detail="Hồ sơ này không được khai bằng tờ khai điện tử.")
    values = {k: v for k, v in detail.values.items() if k in form.field_names}
    signed_on = detail.received_at.astimezone(VIETNAM_TZ).date()
    return render_declaration_pdf(form, values, detail.code, signed_on=signed_on)


@router.get("/api/v1/dossiers/{code}/declaration.pdf",
            summary="Tờ khai đã điền (PDF), theo đường dẫn trợ lý gửi / the filled declaration")
async def citizen_declaration(code: str, request: Request, service: Service,
                              token: Annotated[str, Query(max_length=64)] = "") -> Response:
    if not is_declaration_token(request.app.state.settings.secret_key, code, token):
        # Same answer for a wrong token and an unknown code: the link reveals nothing.
        raise HTTPException(404, detail="Đường dẫn tải tờ khai không đúng hoặc đã hết hiệu lực.")
    data = await _call(_declaration_pdf, service, code)
    return _pdf(data, f"to-khai-{code}.pdf")


@router.post("/api/v1/dossiers/{code}/attachments", status_code=201,
             summary="Người dân gửi giấy tờ (ảnh JPEG/PNG hoặc PDF) / citizen uploads documents")
async def citizen_upload(code: str, request: Request, service: Service) -> Any:
    uploads, fields = await _read_uploads(request)
    if not await _call(service.verify_applicant, code, cccd=fields.get("cccd", ""), phone=fields.get("phone", "")):
        raise HTTPException(403, detail="Số căn cước hoặc số điện thoại không khớp với hồ sơ này, "
                                        "nên chưa nhận được giấy tờ.")
    prepared = await _call(prepare_attachment, uploads, label=fields.get("label", ""))
    return await _call(service.add_attachment, code, prepared, actor="citizen", cccd=fields.get("cccd", ""),
                       phone=fields.get("phone", ""), verify=True)


# --- staff --------------------------------------------------------------------------------


SignedIn = Annotated[Principal, Depends(require_staff)]


async def staff_actor(principal: SignedIn) -> str:
    """The signed-in staff member, as recorded in a dossier's history."""
    return f"staff:{principal.username}"


Actor = Annotated[str, Depends(staff_actor)]


class DeskFilingIn(BaseModel):
    procedure_code: str = Field(..., min_length=1, max_length=32)
    applicant_name: str = Field(..., max_length=128)
    applicant_cccd: str = Field("", max_length=40)
    applicant_phone: str = Field("", max_length=40)
    form_id: str = Field("", max_length=64)
    values: dict[str, Any] = Field(default_factory=dict)
    submission_kind: str = Field("truc_tiep", description="truc_tiep | truc_tuyen | buu_chinh")


class StatusIn(BaseModel):
    status: str = Field(..., max_length=32)
    note: str = Field("", max_length=2000)


class NoteIn(BaseModel):
    note: str = Field(..., max_length=2000)


desk = APIRouter(prefix="/api/v1/staff/dossiers", tags=["staff desk"], dependencies=[Depends(require_staff)])


@desk.get("", summary="Danh sách hồ sơ / list dossiers")
async def desk_list(
    service: Service,
    status: Annotated[str, Query(max_length=32)] = "",
    q: Annotated[str, Query(max_length=100)] = "",
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Any:
    return await _call(service.list_dossiers, status=status, search=q, limit=limit, offset=offset)


@desk.post("", status_code=201, summary="Tiếp nhận hồ sơ tại quầy / file a dossier at the counter")
async def desk_file(body: DeskFilingIn, actor: Actor,
                    service: Service) -> Any:
    application = DossierApplication(
        procedure_code=body.procedure_code,
        applicant=Applicant(body.applicant_name, body.applicant_cccd, body.applicant_phone),
        values=body.values, form_id=body.form_id, channel="counter", sender_id="",
        submission_kind=body.submission_kind,
    )
    try:
        return await _call(service.file_dossier, application, actor=actor)
    except (ValueError, TypeError) as exc:  # a form id, values or submission kind that do not fit
        raise HTTPException(422, detail=str(exc)) from None


@desk.get("/sync", summary="Đồng bộ Cổng Dịch vụ công / portal sync state")
async def desk_sync(request: Request) -> Any:
    settings = request.app.state.settings
    summary = await run_in_threadpool(outbox_summary, settings.sqlalchemy_url)
    return {"pending": summary.pending, "failing": summary.failing, "delivered": summary.delivered,
            "oldest_pending_at": summary.oldest_pending_at, "last_error": summary.last_error,
            "message": summary.message, "portal_configured": bool(settings.portal_url)}


@desk.get("/{code}", summary="Chi tiết hồ sơ / dossier detail")
async def desk_detail(code: str, service: Service) -> Any:
    return await _call(service.get, code)


@desk.post("/{code}/receive", summary="Tiếp nhận xử lý / take into processing")
async def desk_receive(code: str, actor: Actor,
                       service: Service) -> Any:
    return await _call(service.receive, code, actor=actor)


@desk.post("/{code}/supplement", summary="Yêu cầu bổ sung / request a supplement")
async def desk_supplement(code: str, body: NoteIn, actor: Actor,
                          service: Service) -> Any:
    return await _call(service.request_supplement, code, body.note, actor=actor)


@desk.post("/{code}/status", summary="Chuyển tình trạng / change status")
async def desk_status(code: str, body: StatusIn, actor: Actor,
                      service: Service) -> Any:
    return await _call(service.change_status, code, body.status, actor=actor, note=body.note)


@desk.post("/{code}/attachments", status_code=201, summary="Đính kèm giấy tờ / attach documents")
async def desk_upload(code: str, request: Request, actor: Actor,
                      service: Service) -> Any:
    uploads, fields = await _read_uploads(request)
    prepared = await _call(prepare_attachment, uploads, label=fields.get("label", ""))
    return await _call(service.add_attachment, code, prepared, actor=actor)


@desk.get("/{code}/attachments/{attachment_id}", summary="Tải giấy tờ (PDF) / download")
async def desk_attachment(code: str, attachment_id: int, service: Service):
    info, data = await _call(service.attachment_content, code, attachment_id)
    return _pdf(data, info.filename)


@desk.get("/{code}/receipt.pdf", summary="In giấy tiếp nhận / print the receipt")
async def desk_receipt(code: str, request: Request, principal: SignedIn,
                       service: Service):
    data = await _call(service.receipt_pdf, code, center_name=request.app.state.settings.center_name,
                       received_by=principal.full_name or principal.username)
    return _pdf(data, f"giay-tiep-nhan-{code}.pdf")


router.include_router(desk)


@router.get("/staff/dossiers", response_class=HTMLResponse, include_in_schema=False)
async def desk_page(request: Request, _: SignedIn) -> HTMLResponse:
    html = (STATIC / "desk.html").read_text(encoding="utf-8")
    return HTMLResponse(html.replace("{{CENTER_NAME}}", request.app.state.settings.center_name))
