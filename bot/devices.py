"""Who is calling a kiosk function: a registered device, a signed-in staff member, or anyone.

The registry itself is :mod:`motcua.devices`; this module reads the key a request
presents — the ``X-Device-Key`` header (device agents, printers) or the HttpOnly
``motcua_device`` cookie an enrolled kiosk or board browser carries — and answers
with a :class:`Caller`. Routes ask ``caller.may(Capability.PRINT)``, or depend on
:func:`require` to refuse with 401/403 and a ``detail`` from the message catalogue
(``gateway.refused.*``, in the request's language).

Enrolment (``/kiosk/enrol`` in :mod:`bot.routes.kiosk`) is the simplest sound design for a
browser: the admin pastes the device's key once on the kiosk; the cookie holds that key,
HttpOnly (page scripts never see it), SameSite=Strict, Secure on https, and dies with the
device's revocation. Nothing secret ever travels in a URL.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request, Response, WebSocket
from starlette.concurrency import run_in_threadpool

from bot import auth
from bot.deps import AuthPolicyDep, DatabaseDep
from bot.validation import request_locale
from knowledge_base.messages import render
from motcua.db import Database
from motcua.devices import Capability, DeviceView, device_for_key
from motcua.staff.accounts import Principal

DEVICE_COOKIE = "motcua_device"
DEVICE_HEADER = "X-Device-Key"
COOKIE_MAX_AGE_S = 400 * 24 * 3600  # browsers cap cookies at 400 days; revocation is the real end
REFUSED = {
    Capability.PRIORITY: "gateway.refused.priority",
    Capability.PRINT: "gateway.refused.print",
    Capability.VOICE: "gateway.refused.voice",
    Capability.EVENTS: "gateway.refused.events",
}
"""What a caller without the capability is told: ids in the message catalogue."""


@dataclass(frozen=True)
class Caller:
    device: DeviceView | None = None
    principal: Principal | None = None

    @property
    def anonymous(self) -> bool:
        return self.device is None and self.principal is None

    def may(self, capability: Capability) -> bool:
        return self.principal is not None or (self.device is not None and self.device.can(capability))

    @property
    def actor(self) -> str:
        if self.principal is not None:
            return f"staff:{self.principal.username}"
        return f"device:{self.device.name}" if self.device is not None else "kiosk"


def presented_key(connection: Request | WebSocket) -> str:
    return connection.headers.get(DEVICE_HEADER, "") or connection.cookies.get(DEVICE_COOKIE, "")


async def device_of(database: Database, connection: Request | WebSocket,
                    key: str | None = None) -> DeviceView | None:
    """The active device whose key this request (or ``key``) presents, or None."""
    key = presented_key(connection) if key is None else key
    if not key:
        return None

    def look_up() -> DeviceView | None:
        with database.session() as session:
            return device_for_key(session, key)

    return await run_in_threadpool(look_up)


async def current_caller(request: Request, database: DatabaseDep, rules: AuthPolicyDep) -> Caller:
    """FastAPI dependency: the device and/or staff member behind this request."""
    device = await device_of(database, request)
    principal = None if device is not None else await auth.current_principal(request, database, rules)
    return Caller(device, principal)


def refuse(caller: Caller, capability: Capability, locale: str | None = None) -> HTTPException:
    """401 when nobody is identified (a key or a sign-in would help), 403 when the device lacks the right."""
    detail = render(REFUSED[capability], locale=locale)
    if caller.anonymous:
        return HTTPException(401, detail, headers={"WWW-Authenticate": DEVICE_HEADER})
    return HTTPException(403, detail)


def require(capability: Capability) -> Callable[..., Awaitable[Caller]]:
    """Route dependency: a device allowed ``capability`` or a signed-in staff member, else 401/403."""

    async def dependency(request: Request, caller: Annotated[Caller, Depends(current_caller)]) -> Caller:
        if not caller.may(capability):
            raise refuse(caller, capability, request_locale(request))
        return caller

    return dependency


MayPrint = Annotated[Caller, Depends(require(Capability.PRINT))]
"""Route parameter: a printing device (kiosk, ticket printer) or staff."""
MayVoice = Annotated[Caller, Depends(require(Capability.VOICE))]
"""Route parameter: a display board or staff."""
AnyCaller = Annotated[Caller, Depends(current_caller)]
"""Route parameter: whoever calls, identified or not."""


def set_device_cookie(response: Response, key: str, *, secure: bool) -> None:
    """``secure``: :func:`bot.security.secure_cookies` of the request."""
    response.set_cookie(DEVICE_COOKIE, key, max_age=COOKIE_MAX_AGE_S, httponly=True, samesite="strict",
                        secure=secure, path="/")


def clear_device_cookie(response: Response, *, secure: bool) -> None:
    response.delete_cookie(DEVICE_COOKIE, path="/", httponly=True, samesite="strict", secure=secure)
