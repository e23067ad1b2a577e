"""The device registry: kiosks, ticket printers and display boards the centre trusts.

Anyone on the network can reach the gateway, so what only the centre's own machines may
do (issue a number with a priority group, print, synthesise the call-out voice, report a
scanned identity card) is tied to a **device key**: a random secret made once by
``motcua devices add`` or the admin page, shown once, stored only as its SHA-256.
A device agent sends it as the ``X-Device-Key`` header; a kiosk or board browser is
enrolled once (``/kiosk/enrol``) and then carries it in an HttpOnly cookie.

What each kind may do is one table (:data:`KIND_CAPABILITIES`); a revoked key stops
working at its next request. Plain Python: no FastAPI here.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from motcua.centers import DEFAULT_CENTER, find_center
from motcua.db import Base, utcnow
from motcua.staff.accounts import record_audit


class Capability(StrEnum):
    """Something only a registered device (or a signed-in staff member) may do."""

    PRIORITY = "priority"  # issue a ticket in a priority group
    PRINT = "print"  # print a ticket (again)
    VOICE = "voice"  # synthesise the call-out of a called number
    EVENTS = "events"  # report scans, watch the scans of its own device


KINDS = ("kiosk", "printer", "board")
KIND_CAPABILITIES: dict[str, frozenset[Capability]] = {
    "kiosk": frozenset({Capability.PRIORITY, Capability.PRINT, Capability.EVENTS}),
    "printer": frozenset({Capability.PRIORITY, Capability.PRINT}),  # a ticket dispenser with buttons
    "board": frozenset({Capability.VOICE}),
}
KIND_NAMES = {"kiosk": "Kiosk", "printer": "Máy in phiếu", "board": "Bảng hiển thị"}
NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
"""Device names double as the ``device`` of scan events (``quay-1``): no spaces, no slashes."""
KEY_PREFIX = "mcd_"
MAX_KEY_LENGTH = 128
SEEN_EVERY = timedelta(minutes=5)
"""``last_seen_at`` is written at most this often per device: a board asks for voice all day."""


class Device(Base):
    """A registered device; only the SHA-256 of its key is stored."""

    __tablename__ = "devices"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    center_code: Mapped[str] = mapped_column(String(32), default=DEFAULT_CENTER)  # the centre it stands in
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    key_hint: Mapped[str] = mapped_column(String(16))  # the key's first characters, to tell keys apart
    created_by: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime | None] = mapped_column(default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)


class DeviceError(ValueError):
    """A device cannot be added or revoked; the message is Vietnamese, for the admin."""


class DeviceNotFound(DeviceError):
    pass


@dataclass(frozen=True)
class DeviceView:
    id: int
    name: str
    kind: str
    key_hint: str
    created_by: str
    created_at: datetime
    last_seen_at: datetime | None
    revoked_at: datetime | None
    center_code: str = DEFAULT_CENTER

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def can(self, capability: Capability) -> bool:
        return self.active and capability in KIND_CAPABILITIES.get(self.kind, frozenset())

    def to_dict(self) -> dict:
        return {"id": self.id, "name": self.name, "kind": self.kind, "kind_name": KIND_NAMES.get(self.kind, self.kind),
                "key_hint": self.key_hint, "created_by": self.created_by, "created_at": _iso(self.created_at),
                "last_seen_at": _iso(self.last_seen_at), "revoked_at": _iso(self.revoked_at), "active": self.active,
                "center_code": self.center_code}


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _view(row: Device) -> DeviceView:
    return DeviceView(row.id, row.name, row.kind, row.key_hint, row.created_by, row.created_at, row.last_seen_at,
                      row.revoked_at, row.center_code or DEFAULT_CENTER)


def new_device_key() -> str:
    """256 random bits: a plain SHA-256 of it is as good as a slow hash, and fast on every request."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_device_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def add_device(session: Session, name: str, kind: str, actor: str = "",
               center: str = DEFAULT_CENTER) -> tuple[DeviceView, str]:
    """Register a device of the centre ``center`` and return it with its key (the only time the key
    exists in clear). A kiosk takes that centre's numbers, a board shows that centre's calls.

    A revoked device's name may be registered again: it gets a new key, the old one stays dead.
    """
    name = name.strip()
    if not NAME.match(name):
        raise DeviceError("Tên thiết bị chỉ gồm chữ không dấu, số, dấu chấm, gạch ngang, gạch dưới (tối đa 64 ký tự).")
    if kind not in KINDS:
        raise DeviceError(f"Loại thiết bị phải là một trong: {', '.join(KINDS)}.")
    if center != DEFAULT_CENTER and find_center(session, center) is None:
        raise DeviceError(f"Không có trung tâm «{center}».")
    key = new_device_key()
    row = session.scalar(select(Device).where(Device.name == name))
    if row is not None and row.revoked_at is None:
        raise DeviceError(f"Đã có thiết bị «{name}»; thu hồi nó trước nếu muốn cấp khóa mới.")
    if row is None:
        row = Device(name=name)
        session.add(row)
    row.kind, row.key_hash, row.key_hint, row.center_code = kind, hash_device_key(key), key[:10], center
    row.created_by, row.created_at, row.last_seen_at, row.revoked_at = actor or "system", utcnow(), None, None
    session.flush()
    record_audit(session, actor, "device.add", f"device:{name}", None, {"kind": kind, "key_hint": row.key_hint,
                                                                          "center_code": center})
    return _view(row), key


def list_devices(session: Session) -> list[DeviceView]:
    return [_view(row) for row in session.scalars(select(Device).order_by(Device.name))]


def revoke_device(session: Session, device: int | str, actor: str = "") -> DeviceView:
    """Revoke by id or name; its key (and every browser enrolled with it) stops working at once."""
    query = select(Device).where(Device.id == device if isinstance(device, int) else Device.name == device)
    row = session.scalar(query)
    if row is None:
        raise DeviceNotFound("Không tìm thấy thiết bị.")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        record_audit(session, actor, "device.revoke", f"device:{row.name}", {"kind": row.kind}, None)
    return _view(row)


def device_for_key(session: Session, key: str) -> DeviceView | None:
    """The active device holding ``key``, or None (unknown, malformed or revoked)."""
    if not key or len(key) > MAX_KEY_LENGTH or not key.startswith(KEY_PREFIX):
        return None
    row = session.scalar(select(Device).where(Device.key_hash == hash_device_key(key)))
    if row is None or row.revoked_at is not None:
        return None
    now = utcnow()
    seen = row.last_seen_at
    if seen is None or (seen if seen.tzinfo else seen.replace(tzinfo=now.tzinfo)) < now - SEEN_EVERY:
        row.last_seen_at = now
    return _view(row)
