"""What the kiosk page needs beside its chat socket (``/ws/kiosk`` in ``chat.py``).

- ``POST /api/v1/tts`` ``{"text": "…"}`` — the reply read aloud in Vietnamese (espeak-ng, WAV).
  The text is in the body, never in the address: replies carry personal data, and
  addresses end up in logs and browser history.
- ``GET/POST /kiosk/enrol`` — the admin pastes a device key (``motcua devices add``) once on
  a kiosk or board browser; it then carries the key in an HttpOnly cookie (:mod:`bot.devices`).
- ``POST /api/v1/devices/events`` — a device agent (``devices/agent.py``) reports a scan with
  its ``X-Device-Key``; the event's ``device`` must be the key's own device.
- ``/ws/kiosk/events?session=…`` — pushes to one kiosk page: notifications for its session
  (``{"type": "bot", …}``) and, for a page enrolled as a kiosk, its own device's scans
  (``{"type": "device", "event": "cccd_scanned", "data": "…"}``; the page passes them on
  over its chat socket). Scans carry personal data: no key, no scans — whatever the address.
"""

from __future__ import annotations

import asyncio
import hmac
import html
import logging
import re
import struct
from typing import Literal

from fastapi import APIRouter, Form, Header, HTTPException, Request, Response, WebSocket, WebSocketDisconnect
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, Field

from bot.deps import ChannelsDep, ClientIP, DatabaseDep, SettingsDep, SpeechDep
from bot.devices import DEVICE_COOKIE, clear_device_cookie, device_of, set_device_cookie
from bot.routes.pages import request_locale
from bot.routes.widget import FrameSender, forward_pushes
from bot.security import secure_cookies
from channels import web
from channels.base import clean_text
from knowledge_base.messages import render
from motcua.background import cancel_and_wait
from motcua.centers import DEFAULT_CENTER
from motcua.db import Database
from motcua.devices import Capability, DeviceView
from motcua.settings import Settings

log = logging.getLogger(__name__)

router = APIRouter(tags=["kiosk"])

DEVICE_PATTERN = r"^[A-Za-z0-9_.-]{1,64}$"
TTS_MAX_CHARS = 600
"""What is spoken at most; the kiosk cuts its text here too."""
TTS_MAX_BODY_CHARS = 2000
"""A longer text is refused (422), not read: nothing on the kiosk is that long."""
TTS_TIMEOUT_S = 10.0


# --- read-out ---------------------------------------------------------------------------


def fix_wav_sizes(wav: bytes) -> bytes:
    """espeak-ng --stdout writes a streaming header (sizes 0x7fffffff); write the real ones."""
    if len(wav) < 44 or wav[:4] != b"RIFF" or wav[8:12] != b"WAVE":
        return wav
    data_at = wav.find(b"data", 12)
    if data_at < 0:
        return wav
    fixed = bytearray(wav)
    fixed[4:8] = struct.pack("<I", len(wav) - 8)
    fixed[data_at + 4:data_at + 8] = struct.pack("<I", len(wav) - data_at - 8)
    return bytes(fixed)


async def synthesise(command: str, voice: str, text: str) -> bytes:
    process = await asyncio.create_subprocess_exec(
        command, "-v", voice, "-s", "150", "-b", "1", "--stdin", "--stdout",
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL)
    try:
        out, _ = await asyncio.wait_for(process.communicate(text.encode("utf-8")), TTS_TIMEOUT_S)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    if process.returncode != 0 or not out:
        raise RuntimeError(f"{command} exited with {process.returncode}")
    return fix_wav_sizes(out)


class SpeechIn(BaseModel):
    text: str = Field(..., min_length=1, max_length=TTS_MAX_BODY_CHARS, description="câu cần đọc to")


@router.post("/api/v1/tts", summary="Đọc to câu trả lời / Vietnamese read-out (WAV)",
             responses={200: {"content": {"audio/wav": {}}}})
async def text_to_speech(body: SpeechIn, request: Request, settings: SettingsDep, cache: SpeechDep,
                         ip: ClientIP) -> Response:
    locale = request_locale(request)
    spoken = re.sub(r"\s+", " ", clean_text(body.text))[:TTS_MAX_CHARS]
    if not spoken:
        raise HTTPException(422, render("page.tts.nothing", locale=locale))
    if not cache.limits.take(ip).allowed:
        raise HTTPException(429, render("page.tts.too_many", locale=locale))
    key = (settings.tts_voice, spoken)
    wav = cache.get(key)
    if wav is None:
        try:
            async with cache.running:
                wav = await synthesise(settings.tts_command, settings.tts_voice, spoken)
        except (TimeoutError, OSError, RuntimeError) as exc:
            log.warning("read-out failed: %r", exc)
            raise HTTPException(503, render("page.tts.unavailable", locale=locale)) from exc
        cache.put(key, wav)
    return Response(wav, media_type="audio/wav", headers={"Cache-Control": "no-store"})


# --- device events ----------------------------------------------------------------------


class DeviceEventIn(BaseModel):
    device: str = Field(..., pattern=DEVICE_PATTERN, description="mã kiosk, ví dụ quay-1")
    event: Literal["cccd_scanned", "dossier_scanned"]
    data: str = Field(..., min_length=1, max_length=2000)


class DeviceEventOut(BaseModel):
    delivered: int = Field(description="số trang kiosk đã nhận / kiosk pages that got it")


@router.post("/api/v1/devices/events", response_model=DeviceEventOut,
             summary="Sự kiện thiết bị kiosk / a kiosk device event (scanner)")
async def device_event(body: DeviceEventIn, request: Request, database: DatabaseDep, settings: SettingsDep,
                       channels: ChannelsDep, x_device_token: str | None = Header(None)) -> DeviceEventOut:
    """A scan from a registered kiosk, for its own page only.

    The legacy shared ``MOTCUA_DEVICE_TOKEN`` (header ``X-Device-Token``) still works when
    set; the caller's address never counts (behind a reverse proxy everyone is 127.0.0.1).
    """
    device = await device_of(database, request)
    if device is not None:
        if not device.can(Capability.EVENTS):
            raise HTTPException(403, "Thiết bị này không được gửi sự kiện quét.")  # staff-facing (device agent)
        if device.name != body.device:
            raise HTTPException(403, "Thiết bị chỉ được gửi sự kiện của chính nó.")  # staff-facing
    elif not _legacy_token_matches(settings.device_token, x_device_token):
        raise HTTPException(401, "Cần khóa thiết bị đã đăng ký (X-Device-Key).",  # staff-facing
                            headers={"WWW-Authenticate": "X-Device-Key"})
    data = clean_text(body.data)
    if not data:
        raise HTTPException(422, "Dữ liệu quét trống.")  # staff-facing
    frame = {"type": "device", "event": body.event, "data": data}
    delivered = await channels.devices.publish(f"device:{body.device}", frame)
    return DeviceEventOut(delivered=delivered)


def _legacy_token_matches(expected: str, given: str | None) -> bool:
    return bool(expected and given) and hmac.compare_digest(given.encode(), expected.encode())


async def _watched_device(database: Database, websocket: WebSocket) -> tuple[bool, str]:
    """(allowed, device name) for an events socket: scans only for a page enrolled as that kiosk."""
    asked = websocket.query_params.get("device") or ""
    if asked and not re.match(DEVICE_PATTERN, asked):
        return False, ""
    device = await device_of(database, websocket, websocket.cookies.get(DEVICE_COOKIE, ""))
    if device is None or not device.can(Capability.EVENTS):
        return not asked, ""  # a plain page gets its session's notifications, never scans
    if asked and asked != device.name:
        return False, ""
    return True, device.name


@router.websocket("/ws/kiosk/events")
async def kiosk_events(websocket: WebSocket, database: DatabaseDep, channels: ChannelsDep) -> None:
    session = (websocket.query_params.get("session") or "")[:64]
    allowed, device = await _watched_device(database, websocket)
    if not session or not allowed:
        await websocket.close(code=1008)  # scans carry personal data: only the kiosk itself may listen
        return
    await websocket.accept()
    send = FrameSender(websocket)
    subscriptions = [(channels.sessions, f"kiosk:{session}", lambda m: web.render_messages(m, pushed=True))]
    tasks, queues = [], []
    for hub, key, to_frame in subscriptions:
        queue = await hub.subscribe(key)
        queues.append((hub, key, queue))
        tasks.append(asyncio.create_task(forward_pushes(queue, send, to_frame)))
    if device:
        queue = await channels.devices.subscribe(f"device:{device}")
        queues.append((channels.devices, f"device:{device}", queue))
        tasks.append(asyncio.create_task(_forward_scans(queue, send, database, websocket, device)))
    try:
        await send({"type": "ready", "device": device})
        for messages in await channels.sessions.drain(f"kiosk:{session}"):
            await send(web.render_messages(messages, pushed=True))
        while True:  # the page sends nothing but keep-alives; wait for it to leave
            event = await websocket.receive()
            if event["type"] == "websocket.disconnect":
                break
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        try:
            await cancel_and_wait(*tasks)
        finally:  # also when this handler is itself cancelled while waiting
            for hub, key, queue in queues:
                await hub.unsubscribe(key, queue)


async def _forward_scans(queue: asyncio.Queue, send: FrameSender, database: Database, websocket: WebSocket,
                         device: str) -> None:
    """Scans of ``device`` to its page while the page is still enrolled as it: each scan re-reads the
    key (a revoked kiosk, or a new kiosk under the same name, never feeds an old page); once revoked,
    the socket is closed (the page reconnects as a plain page, without scans)."""
    while True:
        frame = await queue.get()
        if (await _watched_device(database, websocket))[1] != device:
            await websocket.close(code=1008)  # the page's chat socket tells the citizen (gateway.kiosk_revoked)
            return
        await send(frame)


# --- enrolment of a kiosk or board browser ----------------------------------------------

ENROL_HOME = {"kiosk": "kiosk", "board": "board"}


def device_home(device: DeviceView) -> str:
    """The page an enrolled device opens: its centre's kiosk or board (the plain ``/kiosk`` and
    ``/board`` for the default centre); the enrolment page for any other kind."""
    page = ENROL_HOME.get(device.kind)
    if page is None:
        return "/kiosk/enrol"
    return f"/{page}" if device.center_code == DEFAULT_CENTER else f"/c/{device.center_code}/{page}"


@router.get("/kiosk/enrol", response_class=HTMLResponse, summary="Đăng ký trình duyệt kiosk/bảng hiển thị")
async def enrol_page(request: Request, database: DatabaseDep, settings: SettingsDep) -> HTMLResponse:
    device = await device_of(database, request)
    return _enrol_page(settings, device, "")


@router.post("/kiosk/enrol", response_class=HTMLResponse, summary="Ghi khóa thiết bị vào trình duyệt này")
async def enrol(request: Request, database: DatabaseDep, settings: SettingsDep, ip: ClientIP,
                key: str = Form("", max_length=200), forget: str = Form("")) -> Response:
    """Check a pasted device key and keep it in an HttpOnly cookie of this browser; or forget it."""
    secure = secure_cookies(request, settings.public_url)
    if forget:
        response = _enrol_page(settings, None, "Đã xóa khóa thiết bị khỏi trình duyệt này.")  # staff-facing
        clear_device_cookie(response, secure=secure)
        return response
    key = key.strip()
    device = await device_of(database, request, key)
    if device is None:
        log.info("kiosk enrolment refused from %s", ip)
        return _enrol_page(settings, None, "Khóa thiết bị không đúng hoặc đã bị thu hồi.", status=403)  # staff-facing
    response: Response = RedirectResponse(device_home(device), status_code=303)
    set_device_cookie(response, key, secure=secure)
    return response


def _enrol_page(settings: Settings, device: DeviceView | None, message: str, status: int = 200) -> HTMLResponse:
    """The enrolment page: the admin's, never a citizen's (its words stay here, marked staff-facing)."""
    center = html.escape(settings.center_name)
    now = (f"<p>Trình duyệt này đang là thiết bị <strong>{html.escape(device.name)}</strong> "  # staff-facing
           f"({html.escape(device.kind)}).</p>" if device else "<p>Trình duyệt này chưa được đăng ký.</p>")  # staff-facing
    note = f'<p class="status" role="alert">{html.escape(message)}</p>' if message else ""
    page = (f'<!doctype html><html lang="vi"><head><meta charset="utf-8"><meta name="robots" content="noindex">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>Đăng ký thiết bị — {center}'  # staff-facing
            f'</title><link rel="stylesheet" href="/static/kiosk.css"></head><body><main class="enrol">'
            f"<h1>Đăng ký thiết bị</h1>{now}{note}"  # staff-facing
            '<form method="post" action="/kiosk/enrol" autocomplete="off">'
            '<label for="key">Khóa thiết bị (do quản trị viên tạo bằng <code>motcua devices add</code> '  # staff-facing
            'hoặc trang Quản trị)</label><input id="key" name="key" type="password" required maxlength="200">'  # staff-facing
            '<button type="submit">Ghi khóa</button></form>'  # staff-facing
            '<form method="post" action="/kiosk/enrol"><input type="hidden" name="forget" value="1">'
            '<button type="submit">Xóa khóa khỏi trình duyệt này</button></form></main></body></html>')  # staff-facing
    return HTMLResponse(page, status_code=status, headers={"Cache-Control": "no-store"})
