"""The life of a dossier: its statuses, their Vietnamese names, and which changes are allowed.

Plain Python. ::

    received ──► in_processing ──► completed ──► result_returned
       │  ▲           │  ▲
       │  └───────────┼──┘ (bổ sung xong: tiếp tục giải quyết)
       ▼              ▼
    supplement_requested ──► rejected   (received and in_processing may be rejected too)

A request for a supplement and a rejection must say why (a note for the citizen).
"""

from __future__ import annotations

from enum import StrEnum

from motcua.dossiers.errors import DossierError

__all__ = [
    "NOTE_REQUIRED",
    "TERMINAL",
    "TRANSITIONS",
    "DossierStatus",
    "InvalidTransition",
    "check_transition",
    "parse_status",
]


class DossierStatus(StrEnum):
    RECEIVED = "received"
    IN_PROCESSING = "in_processing"
    SUPPLEMENT_REQUESTED = "supplement_requested"
    COMPLETED = "completed"
    RESULT_RETURNED = "result_returned"
    REJECTED = "rejected"

    @property
    def label(self) -> str:
        """The name a citizen reads (tình trạng hồ sơ)."""
        return _LABELS[self]

    @property
    def action_label(self) -> str:
        """The desk button that moves a dossier into this status."""
        return _ACTION_LABELS[self]


_LABELS = {
    DossierStatus.RECEIVED: "Đã tiếp nhận",
    DossierStatus.IN_PROCESSING: "Đang giải quyết",
    DossierStatus.SUPPLEMENT_REQUESTED: "Cần bổ sung hồ sơ",
    DossierStatus.COMPLETED: "Đã có kết quả, chờ trả",
    DossierStatus.RESULT_RETURNED: "Đã trả kết quả",
    DossierStatus.REJECTED: "Từ chối giải quyết",
}
_ACTION_LABELS = {
    DossierStatus.RECEIVED: "Tiếp nhận",
    DossierStatus.IN_PROCESSING: "Chuyển giải quyết",
    DossierStatus.SUPPLEMENT_REQUESTED: "Yêu cầu bổ sung",
    DossierStatus.COMPLETED: "Đã có kết quả",
    DossierStatus.RESULT_RETURNED: "Đã trả kết quả",
    DossierStatus.REJECTED: "Từ chối",
}

TRANSITIONS: dict[DossierStatus, frozenset[DossierStatus]] = {
    DossierStatus.RECEIVED: frozenset(
        {DossierStatus.IN_PROCESSING, DossierStatus.SUPPLEMENT_REQUESTED, DossierStatus.REJECTED}
    ),
    DossierStatus.IN_PROCESSING: frozenset(
        {DossierStatus.SUPPLEMENT_REQUESTED, DossierStatus.COMPLETED, DossierStatus.REJECTED}
    ),
    DossierStatus.SUPPLEMENT_REQUESTED: frozenset({DossierStatus.IN_PROCESSING, DossierStatus.REJECTED}),
    DossierStatus.COMPLETED: frozenset({DossierStatus.RESULT_RETURNED}),
    DossierStatus.RESULT_RETURNED: frozenset(),
    DossierStatus.REJECTED: frozenset(),
}
"""From each status, the statuses it may move to."""

TERMINAL = frozenset(s for s, targets in TRANSITIONS.items() if not targets)
"""Statuses a dossier never leaves (result returned, rejected)."""

NOTE_REQUIRED = frozenset({DossierStatus.SUPPLEMENT_REQUESTED, DossierStatus.REJECTED})
"""Changes that must tell the citizen why."""


class InvalidTransition(DossierError):
    """A status change the rules do not allow; the message is for staff, in Vietnamese."""

    kind = "conflict"


def parse_status(value: str | DossierStatus) -> DossierStatus:
    try:
        return DossierStatus(value)
    except ValueError:
        known = ", ".join(s.value for s in DossierStatus)
        raise InvalidTransition(f"Tình trạng «{value}» không có. Các tình trạng: {known}.") from None


def check_transition(current: str | DossierStatus, target: str | DossierStatus, note: str = "") -> DossierStatus:
    """Return ``target`` as a :class:`DossierStatus`, or raise :class:`InvalidTransition`."""
    current, target = parse_status(current), parse_status(target)
    if target not in TRANSITIONS[current]:
        allowed = ", ".join(f"«{s.label}»" for s in sorted(TRANSITIONS[current])) or "không chuyển được nữa"
        raise InvalidTransition(
            f"Hồ sơ đang ở tình trạng «{current.label}», không chuyển sang «{target.label}» được. "
            f"Từ tình trạng này chỉ chuyển được sang: {allowed}."
        )
    if target in NOTE_REQUIRED and not note.strip():
        missing = InvalidTransition(
            f"Chuyển sang «{target.label}» cần ghi rõ lý do hoặc nội dung cần bổ sung để báo cho người dân."
        )
        missing.kind = "invalid"
        raise missing
    return target
