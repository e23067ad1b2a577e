"""What the kiosk page needs beside its chat socket (``/ws/kiosk`` in ``chat.py``).

- ``GET /api/v1/tts?text=…`` — the reply read aloud in Vietnamese (espeak-ng, WAV).
- ``POST /api/v1/devices/events`` — a device agent (``devices/agent.py``) reports a scan.
- ``/ws/kiosk/events?session=…&device=…[&key=…]`` — pushes to one kiosk page: its device's scans
  (``{"type": "device", "event": "cccd_scanned", "data": "…"}``; the page passes them on
  over its chat socket) and notifications for its session (``{"type": "bot", …}``).
  Scans carry personal data, so a page may watch a device only from the gateway's own
  machine, or with ``key`` equal to ``MOTCUA_DEVICE_TOKEN``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import re
import struct
from collections import OrderedDict
from typing import Literal

from fastapi import APIRouter, Header, HTTPException, Query, Request, Response, WebSocket, WebSocketDisconnect
from pydantic import BaseModel, Field

from bot.ratelimit import TokenBuckets
from bot.routes.widget import FrameSender, forward_pushes, own_origin
from channels import web
from channels.base import clean_text

log = logging.getLogger(__name__)

router = APIRouter(tags=["kiosk"])

DEVICE_PATTERN = r"^[A-Za-z0-9_.-]{1,64}$"
TTS_MAX_CHARS = 600
TTS_TIMEOUT_S = 10.0
LOOPBACK = {"127.0.0.1", "::1", "localhost"}


# --- read-out ---------------------------------------------------------------------------


class SpeechCache:
    """Recent syntheses (the same greeting is read many times a day), bounded."""

    def __init__(self, maxsize: int = 64):
        self.maxsize = maxsize
        self._items: OrderedDict[tuple[str, str], bytes] = OrderedDict()
        self.running = asyncio.Semaphore(2)  # two espeak-ng processes at most on a small machine
        self.limits = TokenBuckets.per_minute(60, 20)

    def get(self, key: tuple[str, str]) -> bytes | None:
        if key in self._items:
            self._items.move_to_end(key)
            return self._items[key]
        return None

    def put(self, key: tuple[str, str], wav: bytes) -> None:
        self._items[key] = wav
        if len(self._items) > self.maxsize:
            self._items.popitem(last=False)


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


def _speech(request: Request) -> SpeechCache:
    cache = getattr(request.app.state, "speech", None)
    if cache is None:
        cache = request.app.state.speech = SpeechCache()
    return cache


@router.get("/api/v1/tts", summary="Đọc to câu trả lời / Vietnamese read-out (WAV)",
            responses={200: {"content": {"audio/wav": {}}}})
async def text_to_speech(request: Request, text: str = Query(..., min_length=1, max_length=4000)) -> Response:
    settings = request.app.state.settings
    spoken = re.sub(r"\s+", " ", clean_text(text))[:TTS_MAX_CHARS]
    if not spoken:
        raise HTTPException(422, "Không có gì để đọc.")
    cache = _speech(request)
    client = request.client.host if request.client else "?"
    if not cache.limits.take(client).allowed:
        raise HTTPException(429, "Đọc quá nhiều trong thời gian ngắn, xin thử lại sau.")
    key = (settings.tts_voice, spoken)
    wav = cache.get(key)
    if wav is None:
        try:
            async with cache.running:
                wav = await synthesise(settings.tts_command, settings.tts_voice, spoken)
        except (TimeoutError, OSError, RuntimeError) as exc:
            log.warning("read-out failed: %r", exc)
            raise HTTPException(503, "Chức năng đọc to tạm thời không dùng được.") from exc
        cache.put(key, wav)
    return Response(wav, media_type="audio/wav", headers={"Cache-Control": "private, max-age=3600"})


# --- device events ----------------------------------------------------------------------


class DeviceEventIn(BaseModel):
    device: str = Field(..., pattern=DEVICE_PATTERN, description="mã kiosk, ví dụ quay-1")
    event: Literal["cccd_scanned", "dossier_scanned"]
    data: str = Field(..., min_length=1, max_length=2000)


class DeviceEventOut(BaseModel):
    delivered: int = Field(description="số trang kiosk đã nhận / kiosk pages that got it")


@router.post("/api/v1/devices/events", response_model=DeviceEventOut,
             summary="Sự kiện thiết bị kiosk / a kiosk device event (scanner)")
async def device_event(body: DeviceEventIn, request: Request,
                       x_device_token: str | None = Header(None)) -> DeviceEventOut:
    expected = request.app.state.settings.device_token
    if expected:
        if not x_device_token:
            raise HTTPException(401, "Thiếu mã thiết bị.")
        if not hmac.compare_digest(x_device_token.encode(), expected.encode()):
            raise HTTPException(403, "Mã thiết bị không đúng.")
    elif (request.client.host if request.client else "") not in LOOPBACK:
        raise HTTPException(403, "Thiết bị ngoài máy này cần MOTCUA_DEVICE_TOKEN.")
    data = clean_text(body.data)
    if not data:
        raise HTTPException(422, "Dữ liệu quét trống.")
    frame = {"type": "device", "event": body.event, "data": data}
    delivered = request.app.state.channels.devices.publish(f"device:{body.device}", frame)
    return DeviceEventOut(delivered=delivered)


def _may_watch_device(websocket: WebSocket, token: str) -> bool:
    """With a device token, the page must carry it (``/kiosk?device=quay-1&key=…``); without, be local."""
    if token:
        return hmac.compare_digest((websocket.query_params.get("key") or "").encode(), token.encode())
    return (websocket.client.host if websocket.client else "") in LOOPBACK


@router.websocket("/ws/kiosk/events")
async def kiosk_events(websocket: WebSocket) -> None:
    settings = websocket.app.state.settings
    if not web.origin_allowed(websocket.headers.get("origin"), settings.cors_origins, own_origin(websocket)):
        await websocket.close(code=1008)
        return
    session = (websocket.query_params.get("session") or "")[:64]
    device = websocket.query_params.get("device") or ""
    if not session or (device and not re.match(DEVICE_PATTERN, device)):
        await websocket.close(code=1008)
        return
    if device and not _may_watch_device(websocket, settings.device_token):
        await websocket.close(code=1008)  # scans carry personal data: only the kiosk itself may listen
        return
    await websocket.accept()
    channels = websocket.app.state.channels
    send = FrameSender(websocket)
    subscriptions = [(channels.sessions, f"kiosk:{session}", lambda m: web.render_messages(m, pushed=True))]
    if device:
        subscriptions.append((channels.devices, f"device:{device}", lambda frame: frame))
    tasks, queues = [], []
    for hub, key, render in subscriptions:
        queue = hub.subscribe(key)
        queues.append((hub, key, queue))
        tasks.append(asyncio.create_task(forward_pushes(queue, send, render)))
    try:
        await send({"type": "ready", "device": device})
        for messages in channels.sessions.drain(f"kiosk:{session}"):
            await send(web.render_messages(messages, pushed=True))
        while True:  # the page sends nothing but keep-alives; wait for it to leave
            event = await websocket.receive()
            if event["type"] == "websocket.disconnect":
                break
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        for hub, key, queue in queues:
            hub.unsubscribe(key, queue)
