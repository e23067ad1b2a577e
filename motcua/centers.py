"""The centres (Trung tâm Phục vụ hành chính công) one deployment serves.

A centre is a row of ``centers``: its code (in the pages' addresses, ``/c/<code>/kiosk``), name,
short name, address, phone, opening hours as people read them, and agency code (mã cơ quan, the
one in dossier codes). The queue's tickets, counters and day numbering, and the enrolled devices,
each belong to one centre (their ``center_code``).

A single-centre installation never names one: :data:`DEFAULT_CENTER` is created by the
migration and filled from ``knowledge_base/center.yaml`` and the settings' agency code at
``motcua db upgrade`` and at the gateway's start (:func:`ensure_default_center`); every page
without ``/c/<code>`` is that centre's. More centres come from ``motcua centers add``.

Which centre a staff account works in: :func:`staff_center` (the account's ``center_code``, a
centre's code or agency code; empty means the default centre). An admin sees every centre.
Plain Python: no FastAPI here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from motcua.db import Base, utcnow

DEFAULT_CENTER = "default"
"""The code of the centre a single-centre installation runs as (rows from before centres exist)."""
CODE = re.compile(r"^[a-z0-9][a-z0-9-]{0,31}$")
"""A centre's code: lower-case letters without accents, digits, dashes (it is part of URLs)."""
CENTER_METADATA = "center"
"""The key of a chat message's metadata naming the centre it was written at (a kiosk of that centre;
set by the gateway only, absent for the default centre)."""


class Center(Base):
    """One centre of the deployment."""

    __tablename__ = "centers"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(255), default="")
    short_name: Mapped[str] = mapped_column(String(128), default="")
    address: Mapped[str] = mapped_column(String(255), default="")
    phone: Mapped[str] = mapped_column(String(32), default="")
    hours: Mapped[str] = mapped_column(Text, default="")  # the opening hours as a citizen reads them
    agency_code: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class SenderCenter(Base):
    """The centre a citizen on a platform chat chose (a centre's Telegram link names it)."""

    __tablename__ = "sender_centers"

    sender_id: Mapped[str] = mapped_column(String(160), primary_key=True)
    center_code: Mapped[str] = mapped_column(String(32))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class CenterError(ValueError):
    """A centre cannot be added; the message is Vietnamese, for the admin."""


class CenterNotFound(CenterError):
    pass


@dataclass(frozen=True)
class CenterView:
    code: str
    name: str
    short_name: str
    address: str
    phone: str
    hours: str
    agency_code: str

    @property
    def display_name(self) -> str:
        return self.name or self.short_name or self.code

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "name": self.name, "short_name": self.short_name, "address": self.address,
                "phone": self.phone, "hours": self.hours, "agency_code": self.agency_code}


def _view(row: Center) -> CenterView:
    return CenterView(row.code, row.name, row.short_name, row.address, row.phone, row.hours, row.agency_code)


def center_in(metadata: Mapping[str, Any] | None) -> str:
    """The centre a message's metadata names (:data:`CENTER_METADATA`), else the default centre."""
    value = (metadata or {}).get(CENTER_METADATA)
    return value if isinstance(value, str) and CODE.match(value) else DEFAULT_CENTER


def list_centers(session: Session) -> list[CenterView]:
    """Every centre, the default one first, then by code."""
    rows = session.scalars(select(Center).order_by(Center.code != DEFAULT_CENTER, Center.code))
    return [_view(row) for row in rows]


def get_center(session: Session, code: str) -> CenterView:
    row = session.get(Center, code)
    if row is None:
        raise CenterNotFound(f"Không có trung tâm «{code}».")  # staff-facing
    return _view(row)


def find_center(session: Session, code: str | None) -> CenterView | None:
    """The centre with this code; None for no such centre (a malformed code, from an address, is none)."""
    row = session.get(Center, code) if code and CODE.match(code) else None
    return _view(row) if row is not None else None


def resolve_center(session: Session, wanted: str | None) -> str | None:
    """The code of the centre called ``wanted``: its code, else the centre with that agency code (the
    default centre first); None for no such centre."""
    wanted = (wanted or "").strip()
    if not wanted:
        return None
    if session.get(Center, wanted.lower()) is not None:
        return wanted.lower()
    return session.scalar(select(Center.code).where(Center.agency_code == wanted.upper())
                          .order_by(Center.code != DEFAULT_CENTER, Center.code).limit(1))


def chat_center(session: Session, sender_id: str, wanted: str | None = None) -> str | None:
    """The centre a platform chat belongs to: ``wanted`` (a code or agency code, remembered for ``sender_id``
    from now on) when it is a centre's, else the centre the chat chose before if it still exists."""
    if not sender_id:
        return None
    code = resolve_center(session, wanted)
    row = session.get(SenderCenter, sender_id)
    if code is not None:
        if row is None:
            session.add(SenderCenter(sender_id=sender_id, center_code=code, updated_at=utcnow()))
        else:
            row.center_code, row.updated_at = code, utcnow()
        session.flush()
        return code
    if row is None or find_center(session, row.center_code) is None:
        return None
    return row.center_code


def named_center(session: Session, wanted: str | None) -> str:
    """The centre a public page or widget names (``/c/<code>/kiosk``, the widget's ``data-center``, the REST
    ``center``) by its code or agency code (as ``/start`` and the admin API take it) if it exists, else the
    default centre: a page naming no centre, or one that does not exist, is the default's."""
    return resolve_center(session, wanted) or DEFAULT_CENTER


def add_center(session: Session, code: str, name: str, *, short_name: str = "", address: str = "", phone: str = "",
               hours: str = "", agency_code: str = "", actor: str = "") -> CenterView:
    """Register a new centre; its code must be new and well formed (:data:`CODE`)."""
    from motcua.staff.accounts import record_audit

    code = code.strip().lower()
    if not CODE.match(code):
        raise CenterError("Mã trung tâm chỉ gồm chữ thường không dấu, số và dấu gạch ngang "  # staff-facing
                          "(tối đa 32 ký tự), bắt đầu bằng chữ hoặc số.")
    name = name.strip()
    if not name:
        raise CenterError("Xin nhập tên trung tâm.")  # staff-facing
    if session.get(Center, code) is not None:
        raise CenterError(f"Đã có trung tâm mã «{code}».")  # staff-facing
    now = utcnow()
    row = Center(code=code, name=name, short_name=short_name.strip(), address=address.strip(), phone=phone.strip(),
                 hours=hours.strip(), agency_code=agency_code.strip().upper(), created_at=now, updated_at=now)
    session.add(row)
    session.flush()
    record_audit(session, actor or "system", "center.add", f"center:{code}", None, _view(row).to_dict())
    return _view(row)


def ensure_default_center(session: Session, *, name: str, short_name: str = "", address: str = "", phone: str = "",
                          hours: str = "", agency_code: str = "") -> CenterView:
    """The default centre, created if missing; its empty fields are filled from these values
    (``center.yaml`` and the settings), what an admin already wrote is kept."""
    row = session.get(Center, DEFAULT_CENTER)
    if row is None:
        row = Center(code=DEFAULT_CENTER, name="", short_name="", address="", phone="", hours="", agency_code="",
                     created_at=utcnow())
        session.add(row)
    changed = False
    for field, value in (("name", name), ("short_name", short_name), ("address", address), ("phone", phone),
                         ("hours", hours), ("agency_code", agency_code.upper())):
        if not getattr(row, field) and value:
            setattr(row, field, value)
            changed = True
    if changed or row.updated_at is None:
        row.updated_at = utcnow()
    session.flush()
    return _view(row)


def ensure_default_center_from_files(session: Session) -> CenterView:
    """:func:`ensure_default_center` with ``center.yaml`` and the settings' agency code."""
    from knowledge_base.defaults import load_center_info
    from motcua.settings import get_settings

    settings = get_settings()
    try:
        info = load_center_info()
    except (OSError, ValueError):  # a broken or missing file must not stop the start; the name is in the settings
        return ensure_default_center(session, name=settings.center_name, agency_code=settings.agency_code)
    return ensure_default_center(session, name=info.name or settings.center_name, short_name=info.short_name,
                                 address=info.address, phone=info.phone, hours=info.describe_hours(),
                                 agency_code=settings.agency_code)


def staff_center(session: Session, center_code: str) -> str:
    """The code of the centre a staff account with this ``center_code`` works in: a centre's code,
    else the centre with that agency code, else (empty) the default centre. An unknown code is
    returned as it is: such an account finds no counter and no ticket (it fails closed)."""
    wanted = (center_code or "").strip()
    if not wanted:
        return DEFAULT_CENTER
    return resolve_center(session, wanted) or wanted
