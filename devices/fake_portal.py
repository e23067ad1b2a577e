"""A stand-in for the national portal's receiving endpoint, for tests and demonstrations.

It speaks the protocol :class:`motcua.dossiers.portal.HttpPortalClient` expects:

- ``POST /api/v1/dossier-events`` with a JSON body and an ``Idempotency-Key`` header.
  A new key is recorded and answered ``201``; a key seen before is answered ``200`` with
  ``"duplicate": true`` and is *not* recorded again. No key: ``400``.
- ``POST /admin/behaviour`` ``{"fail_with": 503 | null, "delay_s": 0.0, "fail_next": 0}``:
  answer every request (or only the next ``fail_next`` ones) with that status, and/or wait
  ``delay_s`` before answering (a slow portal: with ``fail_with`` unset the event is
  recorded *before* the wait, so a client that times out has in fact been heard).
- ``GET /admin/deliveries``: every request received, what was accepted, and per key how
  many times it was accepted (always 1) and how many requests carried it.
- ``POST /admin/reset``.

Run: ``python -m devices.fake_portal --port 8090``; then set
``MOTCUA_PORTAL_URL=http://127.0.0.1:8090/api/v1/dossier-events``.
"""

from __future__ import annotations

import argparse
import asyncio
import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

EVENTS_PATH = "/api/v1/dossier-events"


@dataclass
class PortalState:
    fail_with: int | None = None
    fail_next: int = 0
    delay_s: float = 0.0
    requests: list[dict[str, Any]] = field(default_factory=list)
    accepted: dict[str, dict[str, Any]] = field(default_factory=dict)
    accepted_order: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def reset(self) -> None:
        with self.lock:
            self.fail_with, self.fail_next, self.delay_s = None, 0, 0.0
            self.requests.clear()
            self.accepted.clear()
            self.accepted_order.clear()


class Behaviour(BaseModel):
    fail_with: int | None = Field(None, ge=400, le=599)
    fail_next: int = Field(0, ge=0)
    delay_s: float = Field(0.0, ge=0, le=60)


def create_portal_app(state: PortalState | None = None) -> FastAPI:
    state = state or PortalState()
    app = FastAPI(title="Cổng Dịch vụ công giả lập (fake national portal)")
    app.state.portal = state

    @app.post(EVENTS_PATH)
    async def receive(request: Request, idempotency_key: str = Header("", alias="Idempotency-Key")):
        try:
            body = await request.json()
        except ValueError:
            body = None
        with state.lock:
            status = state.fail_with
            if status is not None and state.fail_next > 0:
                state.fail_next -= 1
                if state.fail_next == 0:
                    state.fail_with = None
            delay = state.delay_s
            state.requests.append({"key": idempotency_key, "at": datetime.now(UTC).isoformat(),
                                   "answered": status or 0, "event": (body or {}).get("event")})
        if status is not None:
            if delay:
                await asyncio.sleep(delay)
            return JSONResponse({"error": "Hệ thống đang bảo trì (giả lập)"}, status_code=status)
        if not idempotency_key:
            return JSONResponse({"error": "thiếu header Idempotency-Key"}, status_code=400)
        if not isinstance(body, dict) or "event" not in body or "dossier_code" not in body:
            return JSONResponse({"error": "cần JSON có event và dossier_code"}, status_code=422)
        with state.lock:
            duplicate = idempotency_key in state.accepted
            if not duplicate:
                state.accepted[idempotency_key] = body
                state.accepted_order.append(idempotency_key)
        if delay:
            await asyncio.sleep(delay)
        if duplicate:
            return JSONResponse({"received": True, "duplicate": True, "key": idempotency_key}, status_code=200)
        return JSONResponse({"received": True, "duplicate": False, "key": idempotency_key}, status_code=201)

    @app.post("/admin/behaviour")
    async def behaviour(change: Behaviour):
        with state.lock:
            state.fail_with, state.fail_next, state.delay_s = change.fail_with, change.fail_next, change.delay_s
        return change.model_dump()

    @app.get("/admin/deliveries")
    async def deliveries():
        with state.lock:
            per_key = Counter(r["key"] for r in state.requests)
            return {
                "requests": list(state.requests),
                "accepted": [{"key": k, "body": state.accepted[k]} for k in state.accepted_order],
                "accepted_per_key": dict(Counter(state.accepted_order)),
                "requests_per_key": dict(per_key),
            }

    @app.post("/admin/reset")
    async def reset():
        state.reset()
        return {"reset": True}

    return app


def main(argv: list[str] | None = None) -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description="Cổng Dịch vụ công giả lập / fake national portal")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8090)
    args = parser.parse_args(argv)
    uvicorn.run(create_portal_app(), host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
