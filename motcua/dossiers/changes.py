"""A dossier's status changes: the move checked against the table of :mod:`.status`, written
with its history entry and its portal outbox row in the caller's transaction, and the notice
the citizen gets about it.

When a requested supplement arrives (supplement requested → in processing), the processing
time starts again from that moment (Nghị định 118/2025/NĐ-CP: the time runs from receipt of a
complete dossier).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session

from motcua.dossiers.models import DossierRow, DossierStatusChange, PortalEvent
from motcua.dossiers.notifications import DossierNotice
from motcua.dossiers.outbox import add_outbox_row
from motcua.dossiers.status import DossierStatus, change_text, check_transition
from motcua.payments.outbox import payment_block
from motcua.workdays import HolidayCalendar, compute_due_date


def apply_change(session: Session, row: DossierRow, to: str | DossierStatus, *, actor: str, note: str,
                 now: datetime, calendar: Callable[[], HolidayCalendar]) -> DossierStatus:
    """Move the locked ``row`` to ``to`` and record it; answers the status it left.

    Raises :class:`~motcua.dossiers.status.InvalidTransition` for a change the rules refuse
    (or a supplement request or rejection without a note). ``calendar`` gives the holidays, read
    only when the due date starts again.
    """
    previous = row.status
    target = check_transition(previous, to, note)
    row.status = target
    row.updated_at = now
    if target == DossierStatus.SUPPLEMENT_REQUESTED:
        row.supplement_note = note
    elif previous == DossierStatus.SUPPLEMENT_REQUESTED and target == DossierStatus.IN_PROCESSING:
        row.supplement_note = ""
        if row.processing_value is not None and row.processing_unit:
            row.due_date = compute_due_date(now, row.processing_value, row.processing_unit, calendar())
    session.add(DossierStatusChange(dossier_id=row.id, from_status=previous.value, to_status=target,
                                    actor=actor, note=note, created_at=now))
    add_outbox_row(session, row, PortalEvent.STATUS_CHANGED, {
        "code": row.code, "from": previous.value, "to": target.value, "note": note, "actor": actor,
        "changed_at": now.isoformat(), "due_date": row.due_date.isoformat() if row.due_date else None,
        "payment": payment_block(session, row.id),
    }, now)  # fmt: skip
    session.flush()
    return previous


def change_notice(row: DossierRow, previous: DossierStatus, note: str, now: datetime) -> DossierNotice | None:
    """What the citizen hears about the change ``row`` just made, on the channel they filed from;
    None when they filed at the counter (no channel) or the new status says nothing to them."""
    if not row.channel or not row.sender_id:
        return None
    target = row.status
    text = change_text(target, previous, code=row.code, procedure=row.procedure_name, due=row.due_date, note=note)
    if text is None:
        return None
    return DossierNotice(row.code, row.channel, row.sender_id, target.value, text, now)
