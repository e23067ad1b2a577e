"""Sign-in for staff and admins, and the role checks every staff/admin route depends on.

Accounts, argon2 hashes, lock-out and sessions are plain Python in
:mod:`motcua.staff.accounts` (re-exported here); this module adds what FastAPI needs:
the session cookie (or ``Authorization: Bearer``), :func:`require_staff` and
:func:`require_admin`. Pages answer an anonymous visitor with a redirect to the sign-in
page and a wrong role with 403; APIs answer 401 and 403.

A browser signed in by cookie must also send ``X-CSRF-Token`` on every unsafe request
(:func:`bot.security.csrf_token_for`); without it a staff route answers 403, and
:func:`current_principal` treats the request as anonymous. Bearer clients are exempt.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from bot.deps import AuthPolicyDep, DatabaseDep
from bot.security import CSRF_REFUSED, SAFE_METHODS, csrf_matches
from motcua.db import Database
from motcua.staff.accounts import (  # noqa: F401 - the account API, re-exported
    DEFAULT_POLICY,
    AccountError,
    AuthPolicy,
    Principal,
    SignInError,
    authenticate,
    check_password_rules,
    close_session,
    create_user,
    hash_password,
    open_session,
    record_audit,
    resolve_session,
    verify_password,
)

COOKIE = "motcua_staff"
LOGIN_PAGE = "/staff/login"
PUBLIC_ROUTES = frozenset({("GET", "/staff/login"), ("POST", "/api/v1/staff/login"),
                           ("POST", "/api/v1/staff/logout")})
"""The only routes under /staff, /admin, /api/v1/staff and /api/v1/admin open to anyone."""
PROTECTED_PREFIXES = ("/staff", "/admin", "/api/v1/staff", "/api/v1/admin")


class PageRefused(Exception):
    """A signed-in person opened a page their role does not allow."""

    def __init__(self, message: str):
        self.message = message


def _bearer(request: Request) -> str:
    header = request.headers.get("authorization", "")
    return header[7:].strip() if header.lower().startswith("bearer ") else ""


def session_token(request: Request) -> str:
    return _bearer(request) or request.cookies.get(COOKIE, "")


def csrf_refused(request: Request) -> bool:
    """A cookie-signed-in browser sent an unsafe request without the session's CSRF token."""
    if request.method in SAFE_METHODS or _bearer(request):
        return False
    token = request.cookies.get(COOKIE, "")
    return bool(token) and not csrf_matches(request, token)


def _is_page(request: Request) -> bool:
    return not request.url.path.startswith("/api/")


async def current_principal(request: Request, database: DatabaseDep, rules: AuthPolicyDep) -> Principal | None:
    """Who is signed in, or None (also for a cookie-signed-in unsafe request without its CSRF token)."""
    if csrf_refused(request):
        return None
    return await _resolve(request, database, rules)


async def _resolve(request: Request, database: Database, rules: AuthPolicy) -> Principal | None:
    token = session_token(request)
    if not token:
        return None

    def resolve() -> Principal | None:
        with database.session() as session:
            return resolve_session(session, token, policy=rules)

    return await run_in_threadpool(resolve)


async def _require(request: Request, database: Database, rules: AuthPolicy, admin: bool) -> Principal:
    principal = await _resolve(request, database, rules)
    if principal is not None and csrf_refused(request):
        raise HTTPException(403, CSRF_REFUSED)
    if principal is None:
        if _is_page(request):
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            raise HTTPException(303, "Cần đăng nhập.", headers={"Location": f"{LOGIN_PAGE}?next={quote(target)}"})
        raise HTTPException(401, "Cần đăng nhập / sign-in required.", headers={"WWW-Authenticate": "Bearer"})
    if admin and not principal.is_admin:
        message = "Tài khoản của bạn không có quyền quản trị / admin role required."
        if _is_page(request):
            raise PageRefused(message)
        raise HTTPException(403, message)
    request.state.principal = principal
    return principal


async def require_staff(request: Request, database: DatabaseDep, rules: AuthPolicyDep) -> Principal:
    """Any signed-in staff member or admin."""
    return await _require(request, database, rules, admin=False)


async def require_admin(request: Request, database: DatabaseDep, rules: AuthPolicyDep) -> Principal:
    """Admins only."""
    return await _require(request, database, rules, admin=True)


Staff = Annotated[Principal, Depends(require_staff)]
"""Route parameter: the signed-in staff member or admin (``principal: Staff``)."""
Admin = Annotated[Principal, Depends(require_admin)]
"""Route parameter: the signed-in admin (``principal: Admin``)."""


def install(app: FastAPI) -> None:
    """Render a role refusal on a page as a Vietnamese page (403)."""

    @app.exception_handler(PageRefused)
    async def _refused(_request: Request, exc: PageRefused) -> HTMLResponse:
        return HTMLResponse(
            '<!doctype html><html lang="vi"><head><meta charset="utf-8"><title>Không có quyền</title>'
            '<link rel="stylesheet" href="/static/staff/staff.css"></head><body><main class="narrow">'
            f"<h1>Không có quyền truy cập</h1><p>{exc.message}</p>"
            '<p><a href="/staff">Về trang cán bộ</a></p></main></body></html>', status_code=403)
