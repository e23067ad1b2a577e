"""The status words and notices a citizen reads about a queue ticket or a dossier come from the message catalogue."""

from __future__ import annotations

from datetime import date, datetime
from types import SimpleNamespace

import pytest

from knowledge_base.messages import render
from motcua.dossiers.access import ASK_SECOND_FACTOR, not_found, parse_lookup_payload
from motcua.dossiers.changes import change_notice
from motcua.dossiers.errors import DossierError
from motcua.dossiers.status import TRANSITIONS, DossierStatus, change_text
from motcua.queue.models import TicketStatus
from motcua.queue.views import WaitEstimate, call_announcement, near_turn_text, ticket_status_text

CODE = "000.00.04.H51-260310-0001"


@pytest.mark.parametrize("status", list(TicketStatus))
def test_a_tickets_status_word_is_the_catalogues_and_agrees_with_the_enum(status):
    assert ticket_status_text(status) == render(f"status.ticket.{status.value}") == status.label


@pytest.mark.parametrize("status", list(DossierStatus))
def test_a_dossiers_status_name_is_the_catalogues(status):
    assert status.label == status.label_in("vi") == render(f"status.dossier.{status.value}")


def test_waits_calls_and_turns_are_said_from_the_catalogue():
    assert WaitEstimate(0, 1, 5.0, 0, False).describe() == render("status.queue.serve_now")
    closed = WaitEstimate(2, 0, 5.0, 10, False).describe()
    assert closed == render("status.queue.wait", ahead=2, minutes=10) + " " + render("status.queue.no_counter")
    assert call_announcement("A012", 3) == "Mời số A012 đến quầy số 3" == render("notify.queue.called", label="A012",
                                                                                   counter=3)
    assert near_turn_text("A006", "Hộ tịch", 0) == render("notify.queue.next", label="A006", service="Hộ tịch")
    assert near_turn_text("A006", "Hộ tịch", 3) == render("notify.queue.near", label="A006", service="Hộ tịch",
                                                          ahead=3)


def _moves() -> list[tuple[DossierStatus, DossierStatus]]:
    return [(before, after) for before, targets in TRANSITIONS.items() for after in sorted(targets)]


@pytest.mark.parametrize(("previous", "target"), _moves())
def test_the_notice_of_each_status_change_is_the_catalogues_and_what_the_citizen_is_sent(previous, target):
    row = SimpleNamespace(code=CODE, procedure_name="Đăng ký khai sinh", due_date=date(2026, 3, 20),
                          channel="telegram", sender_id="telegram:1", status=target)
    note = "Thiếu bản chính giấy chứng sinh."
    text = change_text(target, previous, code=CODE, procedure="Đăng ký khai sinh", due=row.due_date, note=note)
    sent = change_notice(row, previous, note, datetime(2026, 3, 12, 9, 0))
    assert text == sent.text
    resumed = previous == DossierStatus.SUPPLEMENT_REQUESTED and target == DossierStatus.IN_PROCESSING
    key = "resumed" if resumed else target.value
    assert text.startswith(render(f"notify.dossier.{key}", code=CODE, procedure="Đăng ký khai sinh", note=note))
    if target == DossierStatus.IN_PROCESSING:
        assert text.endswith(render("notify.dossier.due", date="20/03/2026"))


def test_no_notice_for_a_dossier_back_at_received_and_none_without_a_due_date_line():
    assert change_text(DossierStatus.RECEIVED, DossierStatus.RECEIVED, code=CODE, procedure="x") is None
    plain = change_text(DossierStatus.IN_PROCESSING, DossierStatus.RECEIVED, code=CODE, procedure="x")
    assert plain == render("notify.dossier.in_processing", code=CODE, procedure="x")


def test_the_lookup_answers_come_from_the_catalogue():
    assert ASK_SECOND_FACTOR == render("status.lookup.ask_second_factor")
    assert not_found(CODE) == render("status.lookup.not_found", code=CODE)
    with pytest.raises(DossierError) as empty:
        parse_lookup_payload("  ")
    assert str(empty.value) == render("status.lookup.ask_code")
    with pytest.raises(DossierError) as qr:
        parse_lookup_payload("001190012345||Nguyễn Thị Lan", scanned=True)
    assert str(qr.value) == render("status.lookup.qr_without_code")
