"""Browser defences of the gateway: who the client is, which pages may talk to us, CSRF, headers.

- :func:`client_ip` — the socket peer, or the address a *trusted* reverse proxy put in
  ``X-Forwarded-For`` (``MOTCUA_TRUSTED_PROXIES``); a client cannot choose its own IP
  by sending the header itself, so per-IP limits hold.
- :class:`SecurityMiddleware` — refuses a websocket handshake or an unsafe request
  (POST/PUT/PATCH/DELETE) whose ``Origin`` is neither this gateway, ``public_url``, a
  ``cors_origins`` entry nor a site an admin allowed for the web widget
  (:mod:`motcua.widget_origins`, on /admin) — browsers apply no CORS to websockets, and a
  cross-site form POST carries cookies with ``SameSite=Lax``; a request without ``Origin``
  is not a browser page (device agents, webhooks, the CLI) and passes. The admin's sites
  get the same CORS answers as ``cors_origins`` entries (no credentials). Every HTTP
  response gets CSP, ``frame-ancestors 'none'``, nosniff, a referrer policy and, behind
  https, HSTS.
- CSRF for cookie-signed-in staff: the ``motcua_csrf`` cookie set at sign-in holds a hash
  of the session token, and staff scripts echo it in ``X-CSRF-Token``
  (:func:`csrf_token_for`, checked in :mod:`bot.auth`). A cross-site page can neither
  read the cookie nor compute the hash; Bearer clients are not exposed to CSRF and are exempt.
- :func:`safe_next` — where the sign-in page may send the browser afterwards.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import json
import re
from collections.abc import Callable, Collection, Iterable
from functools import lru_cache
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from motcua import widget_origins
from motcua.db import Database
from motcua.settings import Settings

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
CSRF_COOKIE = "motcua_csrf"
CSRF_HEADER = "X-CSRF-Token"
ORIGIN_REFUSED = ("Yêu cầu đến từ một trang web không được phép (Origin không hợp lệ). "
                  "Xin mở trang từ địa chỉ chính thức của trung tâm.")
CSRF_REFUSED = "Thiếu hoặc sai mã chống giả mạo (CSRF). Xin tải lại trang hoặc đăng nhập lại."
DOCS_PATHS = ("/docs", "/redoc")
"""FastAPI's API pages load Swagger UI / ReDoc from a CDN with inline scripts: a looser policy."""

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


# --- who is the client --------------------------------------------------------------------------

@lru_cache(maxsize=16)
def _networks(entries: tuple[str, ...]) -> tuple[IpNetwork, ...]:
    return tuple(ipaddress.ip_network(entry.strip(), strict=False) for entry in entries if entry.strip())


def _trusted(host: str, networks: tuple[IpNetwork, ...]) -> bool:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return any(address in network for network in networks)


def forwarded_client(peer: str, forwarded_for: str, trusted_proxies: Iterable[str]) -> str:
    """The client's address: ``peer`` unless it is a trusted proxy, then the last address in
    ``X-Forwarded-For`` that is not one (proxies append, so only the right end is believable)."""
    networks = _networks(tuple(trusted_proxies))
    if not networks or not _trusted(peer, networks):
        return peer
    hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _trusted(hop, networks):
            return hop
    return hops[0] if hops else peer


def limit_key(address: str) -> str:
    """What per-address limits count: an IPv4 address as it is, an IPv6 address as its /64 — one
    subscriber is given a whole /64 and could otherwise take a fresh address for every request."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is None:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip.ipv4_mapped or ip) if isinstance(ip, ipaddress.IPv6Address) else address


def client_ip(conn: HTTPConnection, trusted_proxies: Iterable[str]) -> str:
    """The address per-IP limits key on, for a request or a websocket (``Settings.trusted_proxies``):
    the client's address, an IPv6 one as its /64 (:func:`limit_key`)."""
    peer = conn.client.host if conn.client else ""
    return limit_key(forwarded_client(peer, conn.headers.get("x-forwarded-for", ""), trusted_proxies)) or "?"


# --- origins --------------------------------------------------------------------------------------

_DEFAULT_PORTS = {"http": "80", "https": "443", "ws": "80", "wss": "443"}


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` in lower case without a default port; "" when ``url`` has no host."""
    parts = urlsplit(url.strip())
    if not parts.scheme or not parts.hostname:
        return ""
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        return ""
    suffix = f":{port}" if port and str(port) != _DEFAULT_PORTS.get(parts.scheme.lower()) else ""
    return f"{parts.scheme.lower()}://{host}{suffix}"


def _host_of(origin: str) -> str:
    """``host[:port]`` of an origin (the part a ``Host`` header carries)."""
    return origin.split("://", 1)[-1]


def _normal_host(host: str) -> str:
    host = host.strip().lower()
    for port in (":80", ":443"):
        if host.endswith(port):
            return host[: -len(port)]
    return host


def origin_allowed(origin: str | None, host_header: str, settings: Settings,
                   admitted: Collection[str] = ()) -> bool:
    """May a page from ``origin`` send us a websocket or an unsafe request?

    No ``Origin`` (not a browser page) — yes; this gateway's own host, ``public_url``, a
    ``cors_origins`` entry (``*`` allows any) or one of the ``admitted`` origins (the sites an
    admin allowed, :func:`admitted_origins`) — yes; anything else, ``null`` included — no.
    """
    if origin is None:
        return True
    normal = origin_of(origin)
    if not normal:
        return False
    if host_header and _host_of(normal) == _normal_host(host_header):
        return True
    allowed = {origin_of(entry) for entry in settings.cors_origins}
    if settings.public_url:
        allowed.add(origin_of(settings.public_url))
    return "*" in settings.cors_origins or normal in allowed or normal in admitted


_T = TypeVar("_T")


async def _from_allowed_sites(database: Database, read: Callable[[], _T]) -> _T:
    """``read()`` of the allowed sites (:mod:`motcua.widget_origins`' cache): at once when the cache holds
    them, else off the event loop (it reads the database)."""
    if widget_origins.is_cached(database):
        return read()
    return await run_in_threadpool(read)


async def admitted_origins(database: Database | None) -> frozenset[str]:
    """The sites an admin allowed to embed the widget: from memory, or read off the event loop."""
    if database is None:
        return frozenset()
    return await _from_allowed_sites(database, lambda: widget_origins.cached_origins(database))


def site_center_for(origin: str | None, database: Database | None, host_header: str = "") -> str | None:
    """The centre the site at ``origin`` was allowed for (:func:`motcua.widget_origins.site_center`); None for
    a site of every centre, or no site — and for the gateway's own pages (``origin`` is the request's
    ``host_header``), which name their centre in their path (``/c/<code>/kiosk``) even if an admin listed the
    gateway's own address as one centre's site. ``origin`` is read as the allow check reads it
    (:func:`origin_of`), so an odd header the check lets in (a path, a user) keeps its site's centre."""
    if database is None or not origin:
        return None
    normal = origin_of(origin)
    if not normal or (host_header and _host_of(normal) == _normal_host(host_header)):
        return None
    return widget_origins.site_center(database, normal)


async def own_site_center(origin: str | None, database: Database | None, host_header: str = "") -> str | None:
    """:func:`site_center_for` from memory, or read off the event loop."""
    if database is None or not origin:
        return None
    return await _from_allowed_sites(database, lambda: site_center_for(origin, database, host_header))


async def page_allowed(origin: str | None, host_header: str, settings: Settings, database: Database | None) -> bool:
    """:func:`origin_allowed`, asking the database (through its cache) only when the settings say no."""
    if origin_allowed(origin, host_header, settings):
        return True
    return origin_allowed(origin, host_header, settings, await admitted_origins(database))


# --- CSRF -----------------------------------------------------------------------------------------

def csrf_token_for(session_token: str) -> str:
    """The CSRF token of a staff session: a hash of the session token, so it needs no storage and
    dies with the session, and a page from another site cannot produce it."""
    return hashlib.sha256(f"motcua-csrf:{session_token}".encode()).hexdigest()


def csrf_matches(conn: HTTPConnection, session_token: str) -> bool:
    sent = conn.headers.get(CSRF_HEADER, "")
    return bool(sent) and hmac.compare_digest(sent.encode(), csrf_token_for(session_token).encode())


def secure_cookies(conn: HTTPConnection, public_url: str) -> bool:
    """Cookies are Secure when the gateway is published over https (``Settings.public_url``: TLS
    usually ends at a proxy, so the request's own scheme says nothing), or when this request itself
    came over https."""
    return public_url.lower().startswith("https://") or conn.url.scheme == "https"


# --- redirects after sign-in ------------------------------------------------------------------------

def safe_next(target: str | None, default: str) -> str:
    """``target`` when it is a path on this site, else ``default``.

    Only ``/something``: no ``//host`` (scheme-relative), no backslash (browsers read ``/\\host``
    as ``//host``), no control characters or spaces, no scheme.
    """
    if not target or not target.startswith("/") or target.startswith("//"):
        return default
    if "\\" in target or any(ord(c) < 0x21 or ord(c) == 0x7F for c in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target


# --- security headers -------------------------------------------------------------------------------

_INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc\s*=)[^>]*>(.*?)</script>", re.IGNORECASE | re.DOTALL)


def inline_script_hashes(static_dir: Path) -> list[str]:
    """CSP hashes of the inline scripts of our own page files (never of a rendered response, which
    could carry injected text): the pages keep their small inline scripts under ``script-src 'self'``."""
    hashes: set[str] = set()
    for page in sorted(static_dir.rglob("*.html")):
        for script in _INLINE_SCRIPT.findall(page.read_text(encoding="utf-8")):
            digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode()
            hashes.add(f"'sha256-{digest}'")
    return sorted(hashes)


def content_security_policy(settings: Settings, script_hashes: Iterable[str]) -> str:
    """The pages' policy: everything from this origin; inline styles allowed (style attributes and the
    legal page's ``<style>``); inline scripts only by hash; blob: for the desk's PDFs; never framed."""
    connect = ["'self'"]
    public = origin_of(settings.public_url) if settings.public_url else ""
    if public:  # 'self' covers ws(s) to the same host in CSP 3; older engines need it spelled out
        connect.append(public.replace("https://", "wss://").replace("http://", "ws://"))
    directives = [
        "default-src 'self'",
        "script-src " + " ".join(["'self'", *script_hashes]),
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "media-src 'self' blob:",
        "connect-src " + " ".join(connect),
        "font-src 'self'",
        "object-src 'self' blob:",
        "frame-src 'self' blob:",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
    return "; ".join(directives)


DOCS_POLICY = ("default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
               "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; img-src 'self' data: https:; "
               "worker-src 'self' blob:; frame-ancestors 'none'; base-uri 'self'; form-action 'self'")


def security_headers(settings: Settings, script_hashes: Iterable[str]) -> dict[str, str]:
    headers = {
        "content-security-policy": content_security_policy(settings, script_hashes),
        "x-frame-options": "DENY",
        "x-content-type-options": "nosniff",
        "referrer-policy": "same-origin",
    }
    if settings.public_url.lower().startswith("https://"):
        headers["strict-transport-security"] = "max-age=31536000; includeSubDomains"
    return headers


# --- the middleware ---------------------------------------------------------------------------------

class SecurityMiddleware:
    """Origin check on websockets and unsafe methods; security headers on every HTTP response;
    CORS for the sites an admin allowed (the settings' ``cors_origins`` have Starlette's CORSMiddleware)."""

    def __init__(self, app: ASGIApp, settings: Settings, static_dir: Path,
                 database: Callable[[], Database | None] = lambda: None) -> None:
        self.app = app
        self.settings = settings
        self.database = database  # the app's, once its services started (bot/app.py); None before
        self.headers = [(k.encode(), v.encode())
                        for k, v in security_headers(settings, inline_script_hashes(static_dir)).items()]
        self.docs_headers = [(k, DOCS_POLICY.encode() if k == b"content-security-policy" else v)
                             for k, v in self.headers]

    @staticmethod
    def _headers(scope: Scope) -> dict[str, str]:
        return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}

    async def _allowed(self, scope: Scope, headers: dict[str, str]) -> bool:
        return await page_allowed(headers.get("origin"), headers.get("host", ""), self.settings, self.database())

    async def _cors_origin(self, scope: Scope, headers: dict[str, str]) -> str:
        """The request's ``Origin`` when it is a site only the admin allowed (CORS is ours to answer), else ""."""
        origin = headers.get("origin")
        if origin is None or origin_allowed(origin, headers.get("host", ""), self.settings):
            return ""
        normal = origin_of(origin)
        return origin if normal and normal in await admitted_origins(self.database()) else ""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            if not await self._allowed(scope, self._headers(scope)):
                await receive()  # websocket.connect; closing before accept refuses the handshake (403)
                await send({"type": "websocket.close", "code": 1008})
                return
            await self.app(scope, receive, send)
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = self._headers(scope)
        extra = self.docs_headers if scope["path"].startswith(DOCS_PATHS) else self.headers
        if scope["method"] not in SAFE_METHODS and not await self._allowed(scope, headers):
            await self._refuse(send, extra)
            return
        cors = await self._cors_origin(scope, headers)
        if cors and scope["method"] == "OPTIONS" and "access-control-request-method" in headers:
            await self._preflight(send, cors, extra)
            return
        if cors:
            extra = [*extra, (b"access-control-allow-origin", cors.encode("latin-1"))]

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                added = [*message.get("headers", []), *((k, v) for k, v in extra if k not in present)]
                if cors:
                    added = _vary_origin(added)
                message = {**message, "headers": added}
            await send(message)

        await self.app(scope, receive, with_headers)

    @staticmethod
    async def _refuse(send: Send, extra: list[tuple[bytes, bytes]]) -> None:
        body = json.dumps({"detail": ORIGIN_REFUSED}, ensure_ascii=False).encode()
        await send({"type": "http.response.start", "status": 403,
                    "headers": [(b"content-type", b"application/json; charset=utf-8"),
                                (b"content-length", str(len(body)).encode()), *extra]})
        await send({"type": "http.response.body", "body": body})

    @staticmethod
    async def _preflight(send: Send, origin: str, extra: list[tuple[bytes, bytes]]) -> None:
        """What CORSMiddleware answers for a ``cors_origins`` entry (bot/app.py), for an admin's site."""
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"access-control-allow-origin", origin.encode("latin-1")),
                                (b"access-control-allow-methods", b"GET, POST"),
                                (b"access-control-allow-headers", b"Content-Type"),
                                (b"access-control-max-age", b"600"), (b"vary", b"Origin"),
                                (b"content-length", b"0"), *extra]})
        await send({"type": "http.response.body", "body": b""})


def _vary_origin(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """``headers`` whose ``Vary`` names ``Origin`` (added to the one there, or a new one)."""
    out, seen = [], False
    for key, value in headers:
        if key.lower() == b"vary":
            seen = True
            names = {part.strip().lower() for part in value.split(b",")}
            if b"origin" not in names and b"*" not in names:
                value = value + b", Origin"
        out.append((key, value))
    return out if seen else [*out, (b"vary", b"Origin")]
