"""Local fake servers that speak the real protocols, for the channel tests.

- :func:`story_rasa` — Rasa's REST webhook (``/webhooks/rest/webhook``), answering a small
  scripted story and remembering, per sender, what was asked (so a conversation that
  keeps its identity gets the follow-up answers).
- :func:`fake_telegram_api` — the Bot API (``POST /bot<token>/<method>``, form or JSON
  parameters, ``{"ok": …, "result": …}`` answers, the real limits on text and
  ``callback_data``).
- :func:`fake_zalo_api` — Zalo OA Open API v3 (``/v3.0/oa/message/cs`` with the
  ``access_token`` header, error -216 for a bad token) and OAuth v4
  (``/v4/oa/access_token``, single-use refresh tokens).
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import time
import uuid
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"

BIRTH_QUESTION = "làm giấy khai sinh cần giấy tờ gì"
BIRTH_TEXT = ("Đăng ký khai sinh (1.001193) cần: Tờ khai đăng ký khai sinh; "
              "Giấy chứng sinh hoặc giấy tờ thay thế.")
BIRTH_BUTTONS = [{"title": "Lệ phí", "payload": "/ask_fee"},
                 {"title": "Lấy số thứ tự", "payload": "/request_queue_number"}]
QUEUE_TEXT_AFTER_BIRTH = "Mời ông/bà lấy số thứ tự tại kiosk, lĩnh vực Hộ tịch, để nộp hồ sơ đăng ký khai sinh."
QUEUE_TEXT_ALONE = "Mời ông/bà lấy số thứ tự tại kiosk. Ông/bà cần làm thủ tục gì ạ?"
FEE_TEXT_AFTER_BIRTH = "Đăng ký khai sinh đúng hạn được miễn lệ phí."
GREET_TEXT = "Xin chào! Tôi là trợ lý Một Cửa. Ông/bà cần hỏi thủ tục gì ạ?"
HELP_TEXT = "Tôi trả lời về giấy tờ, lệ phí, thời gian của thủ tục hành chính, cấp số thứ tự và tra cứu hồ sơ."

STORY = [(BIRTH_QUESTION, None), ("Lấy số thứ tự", "/request_queue_number")]
STORY_TEXTS = [[BIRTH_TEXT], [QUEUE_TEXT_AFTER_BIRTH]]


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def wait_for(predicate, timeout: float = 5.0, interval: float = 0.02):
    """Poll until ``predicate()`` is truthy; return its value (or fail the test)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout} s")


def story_rasa(delay: float = 0.0) -> FastAPI:
    app = FastAPI()
    app.state.received = []  # bodies as Rasa got them
    asked: dict[str, set[str]] = {}

    def answer(sender: str, text: str, metadata: dict) -> list[dict]:
        topics = asked.setdefault(sender, set())
        if metadata.get("device_event"):
            return [{"text": f"Đã nhận dữ liệu từ máy quét ({metadata['device_event']})."}]
        if "khai sinh" in text.lower():
            topics.add("birth")
            return [{"text": BIRTH_TEXT, "buttons": BIRTH_BUTTONS}]
        if text == "/request_queue_number":
            return [{"text": QUEUE_TEXT_AFTER_BIRTH if "birth" in topics else QUEUE_TEXT_ALONE}]
        if text == "/ask_fee":
            return [{"text": FEE_TEXT_AFTER_BIRTH if "birth" in topics else "Ông/bà hỏi lệ phí của thủ tục nào ạ?"}]
        if text == "/greet":
            return [{"text": GREET_TEXT}]
        if text == "/help":
            return [{"text": HELP_TEXT}]
        if text.startswith("/check_dossier_status"):
            entities = json.loads(text[len("/check_dossier_status"):] or "{}")
            code = entities.get("dossier_code")
            return [{"text": f"Hồ sơ {code} đang được giải quyết." if code else "Xin cho biết mã hồ sơ."}]
        return [{"text": f"Bạn nói: {text}"}]

    @app.post("/webhooks/rest/webhook")
    async def webhook(request: Request):
        body = await request.json()
        app.state.received.append(body)
        if delay:
            await asyncio.sleep(delay)
        return [{"recipient_id": body["sender"], **m} for m in answer(body["sender"], body["message"],
                                                                      body.get("metadata") or {})]

    @app.get("/status")
    async def status():
        return {"model_file": "story.tar.gz"}

    return app


def received_from(rasa: FastAPI, sender: str) -> list[str]:
    return [b["message"] for b in rasa.state.received if b["sender"] == sender]


# --- Telegram Bot API -------------------------------------------------------------------

TELEGRAM_TOKEN = "7012345678:AAHfake-token_for_tests"
TELEGRAM_SECRET = "motcua-test-secret_1"
BOT_USER = {"id": 7012345678, "is_bot": True, "first_name": "Một Cửa", "username": "motcua_xa_bot"}


def fake_telegram_api(token: str = TELEGRAM_TOKEN) -> FastAPI:
    app = FastAPI()
    app.state.calls = []  # (method, params) in arrival order
    message_ids = itertools.count(2000)

    def error(code: int, description: str) -> JSONResponse:
        return JSONResponse({"ok": False, "error_code": code, "description": description}, status_code=code)

    @app.post("/bot{bot_token}/{method}")
    async def call(bot_token: str, method: str, request: Request):
        if bot_token != token:
            return error(401, "Unauthorized")
        if request.headers.get("content-type", "").startswith("application/json"):
            params = await request.json()
        else:
            params = dict(await request.form())
        for key in ("reply_markup", "allowed_updates", "commands"):
            if isinstance(params.get(key), str):
                params[key] = json.loads(params[key])
        app.state.calls.append((method, params))
        if method == "getMe":
            return {"ok": True, "result": BOT_USER}
        if method in ("setWebhook", "setMyCommands", "deleteWebhook", "answerCallbackQuery"):
            return {"ok": True, "result": True}
        if method in ("sendMessage", "sendPhoto"):
            text = str(params.get("text", ""))
            if method == "sendMessage" and not text.strip():
                return error(400, "Bad Request: message text is empty")
            if len(text) > 4096:
                return error(400, "Bad Request: message is too long")
            for row in (params.get("reply_markup") or {}).get("inline_keyboard", []):
                for button in row:
                    if len(str(button.get("callback_data", "")).encode()) > 64:
                        return error(400, "Bad Request: BUTTON_DATA_INVALID")
            chat_id = int(params["chat_id"])
            result = {"message_id": next(message_ids), "from": BOT_USER, "date": int(time.time()),
                      "chat": {"id": chat_id, "type": "private"}}
            if text:
                result["text"] = text
            if params.get("reply_markup"):
                result["reply_markup"] = params["reply_markup"]
            return {"ok": True, "result": result}
        return error(404, "Not Found")

    return app


def sent_texts(api: FastAPI, chat_id: int | None = None) -> list[str]:
    return [p["text"] for m, p in api.state.calls
            if m == "sendMessage" and (chat_id is None or int(p["chat_id"]) == chat_id)]


def telegram_update(name: str, update_id: int | None = None, **message_changes) -> dict:
    update = fixture(name)
    if update_id is not None:
        update["update_id"] = update_id
    if message_changes:
        update["message"].update(message_changes)
    return update


# --- Zalo OA Open API v3 and OAuth v4 ---------------------------------------------------

ZALO_APP_ID = "1460371839465716412"
ZALO_OA_SECRET = "Zq9vT3oaSecretKeyForWebhook"
ZALO_APP_SECRET = "AppSecretK3yForOAuthRefresh"


def zalo_signature(app_id: str, raw: bytes, timestamp: str, oa_secret: str) -> str:
    """Computed here from the documented formula, independently of channels.zalo."""
    return "mac=" + hashlib.sha256(app_id.encode() + raw + timestamp.encode() + oa_secret.encode()).hexdigest()


def signed(event: dict, secret: str = ZALO_OA_SECRET) -> tuple[bytes, dict[str, str]]:
    raw = json.dumps(event, ensure_ascii=False).encode()
    return raw, {"X-ZEvent-Signature": zalo_signature(ZALO_APP_ID, raw, str(event["timestamp"]), secret),
                 "Content-Type": "application/json"}


def zalo_event(name: str, msg_id: str | None = None, text: str | None = None, **changes) -> dict:
    event = fixture(name)
    if msg_id is not None:
        event["message"]["msg_id"] = msg_id
    if text is not None:
        event["message"]["text"] = text
    event.update(changes)
    return event


def fake_zalo_api(access_token: str, refresh_token: str, app_id: str = ZALO_APP_ID,
                  app_secret: str = ZALO_APP_SECRET) -> FastAPI:
    """``access_token`` may be one the fake does not accept (an expired one): pass ``valid=False``
    by calling :func:`expire` after creation."""
    app = FastAPI()
    app.state.valid = {access_token}
    app.state.refresh_token = refresh_token
    app.state.sent = []  # (token used, body)
    app.state.rejected = []  # tokens refused with -216
    app.state.refreshes = []  # (headers secret_key, form)

    @app.post("/v3.0/oa/message/cs")
    async def consultation(request: Request):
        token = request.headers.get("access_token", "")
        if token not in app.state.valid:
            app.state.rejected.append(token)
            return {"error": -216, "message": "Access token is invalid"}
        try:
            body = await request.json()
            user_id = body["recipient"]["user_id"]
            message = body["message"]
        except (ValueError, KeyError, TypeError):
            return {"error": -201, "message": "Parameters are invalid"}
        text = message.get("text", "")
        attachment = message.get("attachment")
        if not text and not attachment:
            return {"error": -201, "message": "Message is empty"}
        if len(text) > 2000:
            return {"error": -201, "message": "Text is too long"}
        if attachment:
            buttons = attachment.get("payload", {}).get("buttons", [])
            if len(buttons) > 5 or any(b.get("type") not in {"oa.query.show", "oa.query.hide", "oa.open.url",
                                                                "oa.open.sms", "oa.open.phone"} for b in buttons):
                return {"error": -201, "message": "Buttons are invalid"}
        app.state.sent.append((token, body))
        return {"error": 0, "message": "Success", "data": {"message_id": uuid.uuid4().hex, "user_id": user_id}}

    @app.post("/v4/oa/access_token")
    async def access_token_endpoint(request: Request):
        form = dict(await request.form())
        app.state.refreshes.append((request.headers.get("secret_key"), form))
        if request.headers.get("secret_key") != app_secret or form.get("app_id") != app_id:
            return {"error": -14002, "error_name": "Invalid app", "error_description": "App id or secret is invalid"}
        if form.get("grant_type") != "refresh_token" or form.get("refresh_token") != app.state.refresh_token:
            return {"error": -14014, "error_name": "Invalid refresh token",
                    "error_description": "Refresh token is invalid or expired"}
        new_access, new_refresh = f"access-{uuid.uuid4().hex}", f"refresh-{uuid.uuid4().hex}"
        app.state.valid = {new_access}  # the old access token stops working
        app.state.refresh_token = new_refresh  # refresh tokens are single use
        return {"access_token": new_access, "refresh_token": new_refresh, "expires_in": "90000"}

    return app


def expire(api: FastAPI) -> None:
    """Every access token the fake issued so far is now expired."""
    api.state.valid = set()


def zalo_texts(api: FastAPI, user_id: str | None = None) -> list[str]:
    return [b["message"].get("text", "") for _t, b in api.state.sent
            if user_id is None or b["recipient"]["user_id"] == user_id]
