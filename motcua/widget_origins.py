"""The sites allowed to embed the web widget: origins an admin adds on /admin, kept in the database.

A commune's site shows the widget with one ``<script src="…/static/widget.js">`` line; its page
then talks to the gateway from its own origin (``https://xa-an-binh.gov.vn``), which the gateway
refuses unless the origin is allowed. The allowed origins are this table's rows plus the settings'
``cors_origins`` (``MOTCUA_CORS_ORIGINS``, kept for installations configured that way).

A site belongs to one centre, or to none (every centre): a commune's own site is its centre's, and its
widget speaks for that centre whatever centre the page names (:func:`site_center`) — another commune's
site cannot take numbers or file declarations in its name. A site of no centre (the province's portal)
names its centre with ``data-center`` as before.

An origin is a scheme (http or https), a host and maybe a port: no path, query, fragment or user.
It is stored normalised the way browsers send the ``Origin`` header (lower case, no default port,
an internationalised host in its ``xn--`` form), so a lookup is a set membership.

:func:`cached_origins` keeps the set per database in memory: the gateway's origin check runs on
every websocket and every unsafe request. A change made through :func:`add_origin` or
:func:`remove_origin` drops the cached set when its transaction commits (a session hook), and the
set is read again at most :data:`CACHE_SECONDS` later in any case (a change made by another process).
Plain Python: no FastAPI here.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import Engine, String, event, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Mapped, Session, mapped_column

from motcua.db import Base, Database, utcnow
from motcua.staff.accounts import record_audit

log = logging.getLogger(__name__)

CACHE_SECONDS = 60.0
"""How long a read set is trusted when nothing in this process changed it."""
MAX_ORIGIN_LENGTH = 255
MAX_NOTE_LENGTH = 255
_DEFAULT_PORTS = {"http": 80, "https": 443}
_HOST_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_")
_CHANGED = "motcua.widget_origins.changed"


class WidgetOrigin(Base):
    """One site allowed to embed the widget."""

    __tablename__ = "widget_origins"

    id: Mapped[int] = mapped_column(primary_key=True)
    origin: Mapped[str] = mapped_column(String(MAX_ORIGIN_LENGTH), unique=True)
    note: Mapped[str] = mapped_column(String(MAX_NOTE_LENGTH), default="")  # whose site: «UBND xã An Bình»
    center_code: Mapped[str | None] = mapped_column(String(32), nullable=True, default=None)  # None: every centre
    created_by: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class OriginError(ValueError):
    """An origin cannot be added or removed; the message is Vietnamese, for the admin."""


class OriginNotFound(OriginError):
    pass


@dataclass(frozen=True)
class OriginView:
    id: int
    origin: str
    note: str
    created_by: str
    created_at: datetime
    center_code: str | None = None

    def to_dict(self) -> dict:
        return {"id": self.id, "origin": self.origin, "note": self.note, "created_by": self.created_by,
                "created_at": self.created_at.isoformat(), "center": self.center_code}


def _view(row: WidgetOrigin) -> OriginView:
    return OriginView(row.id, row.origin, row.note, row.created_by, row.created_at, row.center_code)


# --- what an origin is ------------------------------------------------------------------------------

def normalise_origin(text: str) -> str:
    """``scheme://host[:port]`` as a browser sends it in ``Origin``, or :class:`OriginError` saying why not.

    One trailing ``/`` is forgiven (an address copied from the browser's bar); any other path is not.
    """
    value = (text or "").strip()
    if not value:
        raise OriginError("Xin nhập địa chỉ trang, ví dụ https://xa-an-binh.gov.vn.")
    if len(value) > MAX_ORIGIN_LENGTH:
        raise OriginError(f"Địa chỉ dài quá {MAX_ORIGIN_LENGTH} ký tự.")
    if any(ord(c) < 0x21 or ord(c) == 0x7F or c == "\\" for c in value):
        raise OriginError("Địa chỉ có khoảng trắng hoặc ký tự không hợp lệ.")
    parts = urlsplit(value)
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not value.lower().startswith(scheme + "://"):
        raise OriginError("Địa chỉ phải bắt đầu bằng https:// (hoặc http://), ví dụ https://xa-an-binh.gov.vn.")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise OriginError("Địa chỉ không được chứa tên đăng nhập hay mật khẩu.")
    if parts.path not in ("", "/") or parts.query or parts.fragment or value.endswith(("?", "#")):
        raise OriginError("Chỉ nhập phần đầu của địa chỉ (giao thức, tên miền và cổng nếu có), "
                          "không kèm đường dẫn: ví dụ https://xa-an-binh.gov.vn chứ không phải "
                          "https://xa-an-binh.gov.vn/lien-he.")
    host = parts.hostname or ""
    if not host or host.startswith(".") or host.endswith(".") or ".." in host:
        raise OriginError("Địa chỉ thiếu tên miền hợp lệ.")
    try:
        port = parts.port
    except ValueError:
        raise OriginError("Cổng (số sau dấu hai chấm) không hợp lệ.") from None
    if "*" in host:  # a browser sends one site's name, never a pattern: «*.gov.vn» would match nothing
        raise OriginError("Mỗi dòng là một trang cụ thể, ví dụ https://xa-an-binh.gov.vn; "
                          "không dùng dấu * để chỉ nhiều trang.")
    if ":" in host:  # an IPv6 literal
        host = f"[{host}]"
    elif not host.isascii():
        host = _ascii_host(host)
    elif not set(host) <= _HOST_CHARS:
        raise OriginError("Tên miền chỉ gồm chữ, số, dấu chấm và gạch ngang.")
    suffix = f":{port}" if port is not None and port != _DEFAULT_PORTS[scheme] else ""
    return f"{scheme}://{host.lower()}{suffix}"


def _ascii_host(host: str) -> str:
    """An internationalised host in the ``xn--`` form browsers send (UTS #46, as the WHATWG URL
    standard: «ß» stays «ß», where Python's own IDNA 2003 codec would make it «ss»)."""
    import idna  # installed with httpx

    try:
        return idna.encode(host, uts46=True).decode("ascii")
    except idna.IDNAError:
        raise OriginError("Tên miền không hợp lệ.") from None


# --- the table ---------------------------------------------------------------------------------------

def list_origins(session: Session) -> list[OriginView]:
    return [_view(row) for row in session.scalars(select(WidgetOrigin).order_by(WidgetOrigin.origin))]


def add_origin(session: Session, text: str, actor: str = "", note: str = "", center: str | None = None) -> OriginView:
    """Allow the site at ``text`` (normalised first) for the centre ``center`` (a code, or its agency code),
    or for every centre when ``center`` is empty; an origin already allowed, or a centre that does not
    exist, is an error."""
    from motcua.centers import resolve_center

    origin = normalise_origin(text)
    note = (note or "").strip()[:MAX_NOTE_LENGTH]
    center_code, named = None, (center or "").strip()
    if named:
        center_code = resolve_center(session, named)
        if center_code is None:
            raise OriginError(f"Không có trung tâm «{named}».")
    if session.scalar(select(WidgetOrigin).where(WidgetOrigin.origin == origin)) is not None:
        raise OriginError(f"Trang {origin} đã có trong danh sách.")
    row = WidgetOrigin(origin=origin, note=note, center_code=center_code, created_by=actor or "system",
                       created_at=utcnow())
    session.add(row)
    session.flush()
    after = {"origin": origin, "note": note} | ({"center": center_code} if center_code else {})
    record_audit(session, actor, "widget.origin.add", f"widget_origin:{origin}", None, after)
    session.info[_CHANGED] = True
    return _view(row)


def remove_origin(session: Session, origin: int | str, actor: str = "") -> OriginView:
    """Remove by id or by address; pages of that site are refused from the next connection on."""
    if isinstance(origin, int):
        query = select(WidgetOrigin).where(WidgetOrigin.id == origin)
    else:
        try:
            query = select(WidgetOrigin).where(WidgetOrigin.origin == normalise_origin(origin))
        except OriginError:  # a line saved before the check refused it («https://*.gov.vn»): as it was written
            query = select(WidgetOrigin).where(WidgetOrigin.origin == (origin or "").strip())
    row = session.scalar(query)
    if row is None:
        raise OriginNotFound("Không tìm thấy trang này trong danh sách.")
    view = _view(row)
    session.delete(row)
    session.flush()
    before = {"origin": view.origin, "note": view.note} | ({"center": view.center_code} if view.center_code else {})
    record_audit(session, actor, "widget.origin.remove", f"widget_origin:{view.origin}", before, None)
    session.info[_CHANGED] = True
    return view


@dataclass(frozen=True)
class AllowedSites:
    """What the gateway checks: the allowed origins, and the centre each belongs to (absent: every centre)."""

    origins: frozenset[str] = frozenset()
    centers: Mapping[str, str] = field(default_factory=dict)


def read_sites(session: Session) -> AllowedSites:
    rows = session.execute(select(WidgetOrigin.origin, WidgetOrigin.center_code)).all()
    return AllowedSites(frozenset(origin for origin, _ in rows),
                        {origin: center for origin, center in rows if center})


# --- the cache -------------------------------------------------------------------------------------

_cache: dict[str, tuple[float, AllowedSites]] = {}
"""Database URL → (when read, the allowed sites): by URL, so that a change through any engine of this
process (the admin page, a test's own session) reaches the gateway's."""
_cache_lock = threading.Lock()
_generation = 0
"""Counts invalidations: a read that overlapped one is returned but not kept."""


def _key(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def cached_sites(database: Database, *, now: float | None = None) -> AllowedSites:
    """The allowed sites of ``database``, read at most once per :data:`CACHE_SECONDS` (or after a
    change in this process). A database without the table (not migrated yet) allows none."""
    moment = time.monotonic() if now is None else now
    with _cache_lock:
        kept = _cache.get(_key(database.engine))
        generation = _generation
    if kept is not None and moment - kept[0] < CACHE_SECONDS:
        return kept[1]
    try:
        with database.session() as session:
            sites = read_sites(session)
    except SQLAlchemyError:
        log.warning("could not read the widget's allowed origins (is the database migrated?)", exc_info=True)
        sites = AllowedSites()
    with _cache_lock:
        if generation == _generation:
            _cache[_key(database.engine)] = (moment, sites)
    return sites


def cached_origins(database: Database, *, now: float | None = None) -> frozenset[str]:
    """The allowed origins of ``database`` (:func:`cached_sites`)."""
    return cached_sites(database, now=now).origins


def site_center(database: Database, origin: str | None, *, now: float | None = None) -> str | None:
    """The centre the site at ``origin`` (a browser's ``Origin`` header) belongs to; None for a site of
    every centre, one not allowed, or no origin."""
    if not origin:
        return None
    try:
        normal = normalise_origin(origin)
    except OriginError:
        return None
    return cached_sites(database, now=now).centers.get(normal)


def is_cached(database: Database, *, now: float | None = None) -> bool:
    """Whether :func:`cached_origins` would answer without reading the database."""
    moment = time.monotonic() if now is None else now
    with _cache_lock:
        kept = _cache.get(_key(database.engine))
    return kept is not None and moment - kept[0] < CACHE_SECONDS


def invalidate(engine: Engine | None = None) -> None:
    """Forget the cached set of ``engine`` (every engine's when ``None``)."""
    global _generation
    with _cache_lock:
        _generation += 1
        if engine is None:
            _cache.clear()
        else:
            _cache.pop(_key(engine), None)


@event.listens_for(Session, "after_commit")
def _forget_after_a_change(session: Session) -> None:
    """A committed add or remove: the next check reads the table again."""
    if session.info.pop(_CHANGED, False):
        bind = session.get_bind()
        invalidate(bind if isinstance(bind, Engine) else getattr(bind, "engine", None))


@event.listens_for(Session, "after_rollback")
def _nothing_changed(session: Session) -> None:
    session.info.pop(_CHANGED, None)
