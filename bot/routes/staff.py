"""Staff pages and APIs: sign-in, the review list of unanswered questions, the handoff inbox,
the dashboard. Every route but sign-in/out depends on :func:`bot.auth.require_staff`."""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from bot.auth import (
    COOKIE,
    Principal,
    SignInError,
    Staff,
    authenticate,
    close_session,
    open_session,
    record_audit,
    session_token,
)
from bot.deps import (
    AuthPolicyDep,
    ChannelsDep,
    ClientIP,
    DatabaseDep,
    MessageLogDep,
    SettingsDep,
    SignInThrottleDep,
    StaffDeskDep,
    TrainingDep,
)
from bot.message_log import LogEntry, MessageLog
from bot.routes.pages import STATIC
from bot.security import CSRF_COOKIE, csrf_token_for, safe_next, secure_cookies
from bot.staff_desk import RESUMED_TEXT, Delivery, StaffDesk
from channels.base import BotMessage, clean_text
from channels.registry import Channels
from knowledge_base.curation import search_procedures
from knowledge_base.messages import render
from motcua.centers import staff_center as centre_of_staff
from motcua.db import Database
from motcua.settings import Settings
from motcua.staff import service
from motcua.staff.dashboard import SECTIONS, VIETNAM_TZ, DateRange, build_dashboard, to_csv
from motcua.staff.models import HandoffConversation

router = APIRouter(tags=["staff"])
PAGES = STATIC / "staff"


def page(settings: Settings, name: str) -> HTMLResponse:
    html = (PAGES / name).read_text(encoding="utf-8")
    return HTMLResponse(html.replace("{{CENTER_NAME}}", settings.center_name),
                        headers={"Cache-Control": "no-store"})


async def in_db(database: Database, work):
    """Run ``work(session)`` in one transaction off the event loop; review errors become 400/404."""

    def run():
        with database.session() as session:
            return work(session)

    try:
        return await run_in_threadpool(run)
    except service.ReviewError as exc:
        raise HTTPException(404 if "Không tìm thấy" in str(exc) else 400, str(exc)) from exc


# --- sign-in -------------------------------------------------------------------------------------

class LoginIn(BaseModel):
    username: str = Field(..., min_length=1, max_length=64)
    password: str = Field(..., min_length=1, max_length=256)
    next: str = Field("", max_length=2000, description="trang muốn mở sau khi đăng nhập (chỉ đường dẫn trong trang)")


SIGNIN_THROTTLED = "Đăng nhập sai quá nhiều lần từ máy này. Xin thử lại sau {minutes} phút."


@router.get("/staff/login", response_class=HTMLResponse, summary="Trang đăng nhập cán bộ / sign-in page")
async def login_page(settings: SettingsDep) -> HTMLResponse:
    return page(settings, "login.html")


def _throttled(wait_s: float) -> JSONResponse:
    minutes = max(1, math.ceil(wait_s / 60))
    return JSONResponse({"detail": SIGNIN_THROTTLED.format(minutes=minutes)}, status_code=429,
                        headers={"Retry-After": str(max(1, math.ceil(wait_s)))})


@router.post("/api/v1/staff/login", summary="Đăng nhập / sign in",
             responses={401: {"description": "sai tên, sai mật khẩu hoặc tài khoản tạm khóa (một câu trả lời)"},
                        429: {"description": "quá nhiều lần sai từ một địa chỉ IP"}})
async def login(body: LoginIn, request: Request, database: DatabaseDep, settings: SettingsDep,
                rules: AuthPolicyDep, throttle: SignInThrottleDep, ip: ClientIP) -> JSONResponse:
    name = body.username.strip().lower()
    wait = throttle.wait(ip, name)
    if wait > 0:  # before any database or argon2 work: the same for every name
        return _throttled(wait)

    def work(session):
        try:
            user = authenticate(session, body.username, body.password, policy=rules)
        except SignInError as exc:
            return None, exc
        record_audit(session, user.username, "auth.login", f"user:{user.username}")
        return (open_session(session, user, policy=rules), Principal.of(user)), None

    result, error = await in_db(database, work)
    if error is not None:
        throttle.failed(ip, name)
        return JSONResponse({"detail": str(error)}, status_code=401)
    throttle.succeeded(ip, name)
    token, principal = result
    response = JSONResponse({"user": _principal(principal),
                             "redirect": safe_next(body.next, "/admin" if principal.is_admin else "/staff")})
    secure, max_age = secure_cookies(request, settings.public_url), int(rules.session_ttl.total_seconds())
    response.set_cookie(COOKIE, token, max_age=max_age, httponly=True, samesite="strict", secure=secure, path="/")
    # read by the staff pages' scripts and echoed as X-CSRF-Token (see bot/security.py)
    response.set_cookie(CSRF_COOKIE, csrf_token_for(token), max_age=max_age, httponly=False, samesite="strict",
                        secure=secure, path="/")
    return response


@router.post("/api/v1/staff/logout", summary="Đăng xuất / sign out")
async def logout(request: Request, database: DatabaseDep) -> JSONResponse:
    token = session_token(request)
    if token:
        await in_db(database, lambda session: close_session(session, token))
    response = JSONResponse({"ok": True})
    response.delete_cookie(COOKIE, path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")
    return response


def _principal(p: Principal) -> dict[str, Any]:
    return {"username": p.username, "full_name": p.full_name, "role": p.role, "center_code": p.center_code}


@router.get("/api/v1/staff/me", summary="Tài khoản đang đăng nhập / who am I")
async def me(principal: Staff) -> dict:
    return _principal(principal)


# --- pages ---------------------------------------------------------------------------------------

@router.get("/staff", include_in_schema=False)
async def staff_home(_: Staff) -> RedirectResponse:
    return RedirectResponse("/staff/unanswered", status_code=303)


@router.get("/staff/unanswered", response_class=HTMLResponse, summary="Câu hỏi chưa trả lời được")
async def unanswered_page(settings: SettingsDep, _: Staff) -> HTMLResponse:
    return page(settings, "unanswered.html")


@router.get("/staff/inbox", response_class=HTMLResponse, summary="Hộp thư chuyển cán bộ / handoff inbox")
async def inbox_page(settings: SettingsDep, _: Staff) -> HTMLResponse:
    return page(settings, "inbox.html")


@router.get("/staff/dashboard", response_class=HTMLResponse, summary="Bảng số liệu / dashboard")
async def dashboard_page(settings: SettingsDep, _: Staff) -> HTMLResponse:
    return page(settings, "dashboard.html")


# --- unanswered questions ------------------------------------------------------------------------

async def inbox_center(principal: Staff, database: DatabaseDep) -> str | None:
    """The centre whose review list and handed-over conversations a staff member answers: their account's
    (:func:`motcua.centers.staff_center`), or ``None`` (every centre) for an admin."""
    if principal.is_admin:
        return None
    return await in_db(database, lambda s: centre_of_staff(s, principal.center_code))


InboxCenter = Annotated[str | None, Depends(inbox_center)]


# What each intent of domain.yml means, for the staff who pick one (the raw name is a tooltip only).
INTENT_LABELS: dict[str, str] = {
    "greet": "Chào hỏi",
    "goodbye": "Chào tạm biệt",
    "thank": "Cảm ơn",
    "affirm": "Đồng ý, xác nhận",
    "deny": "Không đồng ý, phủ nhận",
    "help": "Hỏi trợ lý làm được gì",
    "ask_procedure": "Hỏi về một thủ tục",
    "ask_documents": "Hỏi giấy tờ cần nộp",
    "ask_fee": "Hỏi lệ phí",
    "ask_processing_time": "Hỏi thời hạn giải quyết",
    "ask_submission": "Hỏi nơi nộp, cách nộp hồ sơ",
    "ask_legal_basis": "Hỏi căn cứ pháp lý của thủ tục",
    "ask_legal": "Hỏi về văn bản, điều luật",
    "ask_center_info": "Hỏi thông tin trung tâm (giờ làm việc, địa chỉ)",
    "request_queue_number": "Lấy số thứ tự",
    "check_dossier_status": "Tra cứu tình trạng hồ sơ",
    "fill_form": "Điền tờ khai",
    "correct_field": "Sửa thông tin đã khai",
    "cancel": "Hủy, dừng việc đang làm",
    "request_human": "Muốn gặp cán bộ",
    "rate_service": "Đánh giá dịch vụ",
    "out_of_scope": "Ngoài phạm vi trợ lý",
    "bot_challenge": "Hỏi có phải người thật không",
    "inform": "Chỉ nói tên thủ tục, thông tin",
}
PICKER_LIMIT = 20


def intent_label(name: str | None) -> str:
    """The Vietnamese label of an intent; an intent added to domain.yml without one shows its name."""
    return INTENT_LABELS.get(name, name) if name else ""


def _question(row) -> dict[str, Any]:
    # no sender_id: staff turn a question into examples and answers, they do not need who asked it
    return {"id": row.id, "channel": row.channel, "question": row.question,
            "reply": row.reply, "reason": row.reason, "reason_label": service.REASON_LABELS.get(row.reason, row.reason),
            "status": row.status, "status_label": service.STATUS_LABELS.get(row.status, row.status),
            "procedure_code": row.procedure_code, "intent": row.intent, "intent_label": intent_label(row.intent),
            "resolved_by": row.resolved_by, "center_code": row.center_code,
            "created_at": row.created_at.isoformat()}


@router.get("/api/v1/staff/unanswered", summary="Danh sách câu hỏi chưa trả lời được")
async def list_unanswered(database: DatabaseDep, center: InboxCenter,
                          status: str = Query("open", pattern="^(open|linked|training|faq|dismissed|all)$")
                          ) -> list[dict]:
    return await in_db(database, lambda s: [_question(r) for r in service.list_unanswered(s, status, center=center)])


class LinkIn(BaseModel):
    procedure_code: str = Field(..., min_length=1, max_length=32)


class TrainingIn(BaseModel):
    intent: str = Field(..., min_length=1, max_length=64)
    text: str = Field("", max_length=500)


class FaqIn(BaseModel):
    answer: str = Field(..., min_length=1, max_length=5000)
    question: str = Field("", max_length=1000)
    procedure_codes: list[str] = Field(default_factory=list, max_length=10)


@router.post("/api/v1/staff/unanswered/{question_id}/link", summary="Gắn với một thủ tục")
async def link_question(question_id: int, body: LinkIn, database: DatabaseDep,
                        principal: Staff, center: InboxCenter) -> dict:
    return await in_db(database, lambda s: _question(service.link_to_procedure(
        s, question_id, body.procedure_code.strip(), actor=principal.username, center=center)))


@router.post("/api/v1/staff/unanswered/{question_id}/training", summary="Thêm làm câu ví dụ huấn luyện")
async def question_to_training(question_id: int, body: TrainingIn, database: DatabaseDep, settings: SettingsDep,
                               options: TrainingDep, principal: Staff, center: InboxCenter) -> dict:
    root = options.project_root
    extra = {"project_root": root} if root else {}
    examples_file = settings.staff_nlu_file
    return await in_db(database, lambda s: _question(service.add_as_training_example(
        s, question_id, body.intent, actor=principal.username, examples_file=examples_file,
        text=clean_text(body.text), center=center, **extra)))


@router.post("/api/v1/staff/unanswered/{question_id}/faq", summary="Thêm vào mục hỏi đáp")
async def question_to_faq(question_id: int, body: FaqIn, database: DatabaseDep,
                          principal: Staff, center: InboxCenter) -> dict:
    return await in_db(database, lambda s: _question(service.add_as_faq(
        s, question_id, body.answer, actor=principal.username, question=body.question,
        procedure_codes=tuple(c.strip() for c in body.procedure_codes if c.strip()), center=center)))


@router.post("/api/v1/staff/unanswered/{question_id}/dismiss", summary="Bỏ qua")
async def dismiss_question(question_id: int, database: DatabaseDep, principal: Staff, center: InboxCenter) -> dict:
    return await in_db(database, lambda s: _question(service.dismiss(s, question_id, actor=principal.username,
                                                                     center=center)))


@router.get("/api/v1/staff/intents", summary="Các ý định trong domain.yml, với nhãn tiếng Việt")
async def intents(options: TrainingDep, _: Staff) -> list[dict[str, str]]:
    root = options.project_root
    names = service.domain_intents(root) if root else service.domain_intents()
    return [{"name": name, "label": intent_label(name)} for name in names]


@router.get("/api/v1/staff/procedures", summary="Tìm thủ tục để gắn câu hỏi (mã, tên, có dấu hoặc không dấu)")
async def procedures(database: DatabaseDep, _: Staff, q: str = Query("", max_length=200),
                     limit: int = Query(PICKER_LIMIT, ge=1, le=100)) -> list[dict]:
    """The best ``limit`` matches of ``q`` among every procedure (see
    :func:`knowledge_base.curation.search_procedures`: folded, so «dang ky khai sinh» finds «Đăng ký
    khai sinh»; a code or its beginning first); an empty ``q``: those staff edited, then by name."""
    found = await in_db(database, lambda s: search_procedures(s, q, limit))
    return [{"code": p.code, "name": p.name, "field": p.field, "levels": p.levels} for p in found]


# --- the handoff inbox -----------------------------------------------------------------------------

class ReplyIn(BaseModel):
    text: str = Field(..., min_length=1, max_length=4000)


@router.get("/api/v1/staff/handoffs", summary="Cuộc trò chuyện chuyển cán bộ")
async def handoffs(database: DatabaseDep, center: InboxCenter,
                   status: str = Query("open", pattern="^(open|closed|all)$")) -> list[dict]:
    return await in_db(database, lambda s: service.list_handoffs(s, status, center=center))


@router.get("/api/v1/staff/handoffs/{conversation_id}", summary="Một cuộc trò chuyện và các tin nhắn")
async def handoff(conversation_id: int, database: DatabaseDep, center: InboxCenter) -> dict:
    def work(session):
        row = service.get_handoff(session, conversation_id, center)
        messages = service.handoff_messages(session, conversation_id)
        return {**service.handoff_summary(row, len(messages)),
                "items": [{"direction": m.direction, "author": m.author, "text": m.text,
                           "created_at": m.created_at.isoformat()} for m in messages]}

    return await in_db(database, work)


def _conversation_for_staff(session, conversation_id: int, center: str | None) -> HandoffConversation:
    row = service.get_handoff(session, conversation_id, center)
    if row.status != "open":
        raise service.ReviewError("Cuộc trò chuyện đã được trả lại cho trợ lý ảo.")
    return row


@router.post("/api/v1/staff/handoffs/{conversation_id}/reply", summary="Trả lời người dân qua kênh của họ")
async def reply(conversation_id: int, body: ReplyIn, database: DatabaseDep, desk: StaffDeskDep,
                channels: ChannelsDep, message_log: MessageLogDep, principal: Staff, center: InboxCenter) -> dict:
    text = clean_text(body.text)
    if not text:
        raise HTTPException(400, "Nội dung trả lời trống.")

    def work(session):
        row = _conversation_for_staff(session, conversation_id, center)
        service.add_handoff_message(session, row, "out", text, author=principal.username)
        row.assigned_to = row.assigned_to or principal.username
        return row.channel, row.sender_id

    channel, sender_id = await in_db(database, work)
    name = principal.full_name or principal.username
    message = BotMessage(text=render("notify.handoff.staff_reply", name=name, text=text),
                         custom={"staff": principal.username})
    delivery = await _deliver(desk, channels, message_log, channel, sender_id, message)
    # «delivered» only when a connected citizen got it (or their platform accepted it); the note
    # is the inbox's honest sentence: shown, sent through Zalo/Telegram, or the kiosk was left.
    return {"delivered": delivery.delivered, "status": delivery.status.value, "note": delivery.note}


@router.post("/api/v1/staff/handoffs/{conversation_id}/release", summary="Trả cuộc trò chuyện cho trợ lý ảo")
async def release(conversation_id: int, database: DatabaseDep, desk: StaffDeskDep, channels: ChannelsDep,
                  message_log: MessageLogDep, principal: Staff, center: InboxCenter) -> dict:
    def work(session):
        row = service.close_handoff(session, conversation_id, actor=principal.username, center=center)
        service.add_handoff_message(session, row, "bot", RESUMED_TEXT, author="trợ lý ảo")
        return row.channel, row.sender_id

    channel, sender_id = await in_db(database, work)
    desk.release(sender_id)
    delivery = await _deliver(desk, channels, message_log, channel, sender_id, BotMessage(RESUMED_TEXT))
    return {"released": True, "delivered": delivery.delivered, "status": delivery.status.value}


async def _deliver(desk: StaffDesk, channels: Channels, message_log: MessageLog, channel: str, sender_id: str,
                   message: BotMessage) -> Delivery:
    """To the citizen's open page, else through the citizen's channel; logged with the conversation."""
    delivery = await desk.deliver(channel, sender_id, [message], channels)
    message_log.record(LogEntry(channel, sender_id, "out", message.text, message.to_dict(), "staff"))
    return delivery


# --- dashboard -----------------------------------------------------------------------------------

def _period(start: date | None, end: date | None) -> DateRange:
    today = datetime.now(VIETNAM_TZ).date()
    end = end or today
    start = start or end - timedelta(days=6)
    try:
        return DateRange(start, end)
    except ValueError as exc:
        raise HTTPException(400, "Khoảng ngày không hợp lệ (ngày đầu phải trước ngày cuối, tối đa một năm).") \
            from exc


async def dashboard_center(principal: Staff, database: DatabaseDep, center: str = Query("", max_length=64)) -> str:
    """Whose figures: a staff member's own centre, whatever is asked; for an admin the centre asked for
    (its code or agency code), every centre when none is."""
    asked = center.strip() if principal.is_admin else principal.center_code
    if principal.is_admin and not asked:
        return ""
    return await in_db(database, lambda s: centre_of_staff(s, asked))


DashboardCenter = Annotated[str, Depends(dashboard_center)]


@router.get("/api/v1/staff/dashboard", summary="Số liệu bảng điều khiển / dashboard figures")
async def dashboard(database: DatabaseDep, center: DashboardCenter, start: date | None = None,
                    end: date | None = None) -> dict:
    period = _period(start, end)
    return await in_db(database, lambda s: build_dashboard(s, period, center).to_dict())


@router.get("/api/v1/staff/dashboard/export.csv", summary="Xuất CSV / CSV export")
async def dashboard_csv(database: DatabaseDep, center: DashboardCenter, start: date | None = None,
                        end: date | None = None, section: str = Query("all")) -> Response:
    if section != "all" and section not in SECTIONS:
        raise HTTPException(400, f"Mục không hợp lệ; chọn một trong: all, {', '.join(SECTIONS)}.")
    period = _period(start, end)
    body = await in_db(database, lambda s: to_csv(build_dashboard(s, period, center), section))
    filename = f"motcua-{section}-{period.start.isoformat()}-{period.end.isoformat()}.csv"
    return Response(body, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
