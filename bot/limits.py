"""Request body limits, enforced while the body streams in.

A route that parses JSON or a form reads the whole body before FastAPI validates it or
resolves a sign-in dependency, so without a limit anyone can make the gateway hold
megabytes in memory and then answer 401 or 422. This pure ASGI middleware refuses a
body that is too large *before* the route sees it: a ``Content-Length`` above the limit
is answered 413 at once, without reading a byte; a chunked body is counted as it
arrives and cut off at the first chunk over the limit (the route then sees a
disconnect and its answer is dropped in favour of the 413).

The default (1 MB) fits every JSON and webhook body; upload routes get their own,
larger limit (:func:`upload_limits`).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.validation import request_locale
from knowledge_base.messages import render

log = logging.getLogger(__name__)

MEGABYTE = 1024 * 1024
DEFAULT_MAX_BODY_BYTES = MEGABYTE
MULTIPART_OVERHEAD = 64 * 1024
"""Form boundaries, headers and small text fields around the files of an upload."""


@dataclass(frozen=True)
class RouteLimit:
    """A larger (or smaller) body limit for the paths matching ``pattern`` (whole path, ``re.fullmatch``)."""

    pattern: str
    max_bytes: int
    extra: dict[str, Any] | None = field(default=None, hash=False)
    """More keys of the 413 body, for a route whose clients read more than ``detail``."""

    def __post_init__(self) -> None:
        if self.max_bytes <= 0:
            raise ValueError(f"max_bytes must be positive, got {self.max_bytes}")
        re.compile(self.pattern)


def upload_limits() -> list[RouteLimit]:
    """The upload routes and what they may receive: the file limits of their own modules plus form overhead."""
    from knowledge_base.legal_files import MAX_FILE_BYTES as LEGAL_FILE_BYTES
    from motcua.dossiers.attachments import MAX_FILE_BYTES, MAX_FILES

    attachments = MAX_FILES * MAX_FILE_BYTES + MEGABYTE
    return [
        RouteLimit(r"/api/v1/kb/legal/upload", LEGAL_FILE_BYTES + MULTIPART_OVERHEAD,
                   {"kind": "too_large", "stored": False}),
        RouteLimit(r"/api/v1/dossiers/[^/]+/attachments", attachments),
        RouteLimit(r"/api/v1/staff/dossiers/[^/]+/attachments", attachments),
    ]


def too_large_detail(max_bytes: int, locale: str | None = None) -> str:
    """The answer of a 413 (read by citizens on the kiosk as well as by staff), Vietnamese by default."""
    size = f"{max_bytes / MEGABYTE:.0f} MB" if max_bytes >= MEGABYTE else f"{max(1, max_bytes // 1024)} KB"
    return render("gateway.too_large", locale=locale, size=size)


class BodyLimitMiddleware:
    """Answers 413 to any HTTP request whose body is larger than its route's limit."""

    def __init__(self, app: ASGIApp, max_bytes: int = DEFAULT_MAX_BODY_BYTES,
                 routes: Iterable[RouteLimit] = ()) -> None:
        if max_bytes <= 0:
            raise ValueError(f"max_bytes must be positive, got {max_bytes}")
        self.app = app
        self.max_bytes = max_bytes
        self.default = RouteLimit(".*", max_bytes)
        self.routes = [(re.compile(r.pattern), r) for r in routes]

    def limit_for(self, path: str) -> RouteLimit:
        return next((route for pattern, route in self.routes if pattern.fullmatch(path)), self.default)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope.get("path", ""))
        declared = _content_length(scope)
        if declared is not None and declared > limit.max_bytes:
            log.info("refused %s %s: Content-Length %d > %d", scope.get("method"), scope.get("path"), declared,
                     limit.max_bytes)
            await _send_413(send, limit, scope)
            return
        await _LimitedRequest(self.app, limit).run(scope, receive, send)


class _LimitedRequest:
    """One request whose body is counted; over the limit the app is cut off and 413 sent instead."""

    def __init__(self, app: ASGIApp, limit: RouteLimit) -> None:
        self.app = app
        self.limit = limit
        self.received = 0
        self.refused = False
        self.app_started = False

    async def run(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def counted_receive() -> Message:
            if self.refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                self.received += len(message.get("body", b""))
                if self.received > self.limit.max_bytes:
                    self.refused = True
                    log.info("refused %s %s: body over %d bytes", scope.get("method"), scope.get("path"),
                             self.limit.max_bytes)
                    if not self.app_started:
                        await _send_413(send, self.limit, scope)
                    return {"type": "http.disconnect"}  # the app stops reading; nothing more is received
            return message

        async def guarded_send(message: Message) -> None:
            if self.refused:
                return  # the 413 was already sent; whatever the app answers to the disconnect is dropped
            if message["type"] == "http.response.start":
                self.app_started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, guarded_send)
        except Exception:
            if not self.refused:
                raise
            # The app failed on the cut-off body (e.g. ClientDisconnect); the 413 is the answer.


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            text = value.decode("latin-1").strip()
            return int(text) if text.isdigit() else None
    return None


async def _send_413(send: Send, limit: RouteLimit, scope: Scope) -> None:
    locale = request_locale(HTTPConnection(scope))
    body = json.dumps({"detail": too_large_detail(limit.max_bytes, locale), **(limit.extra or {})},
                      ensure_ascii=False).encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json; charset=utf-8"),
                            (b"content-length", str(len(body)).encode()), (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})
