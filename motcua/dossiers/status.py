"""The life of a dossier: its statuses, their names, which changes are allowed, what the citizen is told.

Plain Python. ::

    received ──► in_processing ──► completed ──► result_returned
       │  ▲           │  ▲
       │  └───────────┼──┘ (bổ sung xong: tiếp tục giải quyết)
       ▼              ▼
    supplement_requested ──► rejected   (received and in_processing may be rejected too)

A request for a supplement and a rejection must say why (a note for the citizen).
The names a citizen reads (``status.dossier.*``) and the notices of a change
(``notify.dossier.*``, :func:`change_text`) are in the message catalogue; the desk's
button labels and the errors for staff stay here.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from knowledge_base.messages import render
from motcua.dossiers.errors import DossierError

__all__ = [
    "NOTE_REQUIRED",
    "TERMINAL",
    "TRANSITIONS",
    "DossierStatus",
    "InvalidTransition",
    "change_text",
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
        return self.label_in()

    def label_in(self, locale: str | None = None) -> str:
        """The name a citizen reads, in ``locale`` when the catalogue has it."""
        return render(f"status.dossier.{self.value}", locale=locale)

    @property
    def action_label(self) -> str:
        """The desk button that moves a dossier into this status."""
        return _ACTION_LABELS[self]


_ACTION_LABELS = {
    DossierStatus.RECEIVED: "Tiếp nhận",  # staff-facing: the desk's buttons
    DossierStatus.IN_PROCESSING: "Chuyển giải quyết",  # staff-facing
    DossierStatus.SUPPLEMENT_REQUESTED: "Yêu cầu bổ sung",  # staff-facing
    DossierStatus.COMPLETED: "Đã có kết quả",  # staff-facing
    DossierStatus.RESULT_RETURNED: "Đã trả kết quả",  # staff-facing
    DossierStatus.REJECTED: "Từ chối",  # staff-facing
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


def change_text(target: DossierStatus, previous: DossierStatus, *, code: str, procedure: str,
                due: date | None = None, note: str = "", locale: str | None = None) -> str | None:
    """What the citizen is told when their dossier moved from ``previous`` to ``target``;
    None when the new status says nothing to them (it never moves back to «received»)."""
    if target == DossierStatus.RECEIVED:
        return None
    resumed = target == DossierStatus.IN_PROCESSING and previous == DossierStatus.SUPPLEMENT_REQUESTED
    key = "resumed" if resumed else target.value
    text = render(f"notify.dossier.{key}", locale=locale, code=code, procedure=procedure, note=note)
    if target == DossierStatus.IN_PROCESSING and due is not None:
        text += " " + render("notify.dossier.due", locale=locale, date=f"{due:%d/%m/%Y}")
    return text


class InvalidTransition(DossierError):
    """A status change the rules do not allow; the message is for staff, in Vietnamese."""

    kind = "conflict"


def parse_status(value: str | DossierStatus) -> DossierStatus:
    try:
        return DossierStatus(value)
    except ValueError:
        known = ", ".join(s.value for s in DossierStatus)
        raise InvalidTransition(f"Tình trạng «{value}» không có. Các tình trạng: {known}.") from None  # staff-facing


def check_transition(current: str | DossierStatus, target: str | DossierStatus, note: str = "") -> DossierStatus:
    """Return ``target`` as a :class:`DossierStatus`, or raise :class:`InvalidTransition`."""
    current, target = parse_status(current), parse_status(target)
    if target not in TRANSITIONS[current]:
        allowed = ", ".join(f"«{s.label}»" for s in sorted(TRANSITIONS[current])) or "không chuyển được nữa"  # staff-facing
        raise InvalidTransition(
            f"Hồ sơ đang ở tình trạng «{current.label}», không chuyển sang «{target.label}» được. "  # staff-facing
            f"Từ tình trạng này chỉ chuyển được sang: {allowed}."
        )
    if target in NOTE_REQUIRED and not note.strip():
        missing = InvalidTransition(
            f"Chuyển sang «{target.label}» cần ghi rõ lý do hoặc nội dung cần bổ sung để báo cho người dân."  # staff-facing
        )
        missing.kind = "invalid"
        raise missing
    return target
