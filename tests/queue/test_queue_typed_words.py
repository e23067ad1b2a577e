"""``action_issue_queue_number`` on typed words rather than buttons: «xem lại số», a label typed with a
space («số B 001 còn bao lâu», the queue_ticket entity the NLU reads), English requests for a service,
and a NUL between the words (cleaned into a word break first)."""

from __future__ import annotations

import pytest

from knowledge_base.messages import render
from knowledge_base.text import clean_text
from motcua.queue.config import load_queue_config
from tests.queue.test_queue_action import run
from tests.queue.test_queue_action_review import action, labels, said, service_of


@pytest.mark.parametrize("typed", ["B 001", "b-001", "b001", "B001"])
async def test_a_typed_label_shows_that_number_and_issues_none(tmp_path, database_url, clock, typed):
    act = action(tmp_path, database_url, clock)
    await run(act, said("zalo:7", "zalo", "lấy số chứng thực"))  # B001
    await run(act, said("zalo:7", "zalo", "lấy số hộ tịch"))  # A001, the newest
    again, events = await run(act, said("zalo:7", "zalo", f"số {typed} còn bao lâu",
                                        entities=[{"entity": "queue_ticket", "value": typed}]))
    assert events == []
    assert again[0]["text"].startswith(render("action.queue.holding", label="B001", service="Chứng thực"))
    assert labels(database_url) == ["B001", "A001"]


async def test_asking_to_see_ones_number_in_words_shows_the_number_held(tmp_path, database_url, clock):
    act = action(tmp_path, database_url, clock)
    await run(act, said("telegram:4", "telegram", "lay so chung thuc"))  # B001
    for text in ("xem lại số", "còn bao nhiêu người nữa", "tới lượt tôi chưa", "so cua toi"):
        again, _ = await run(act, said("telegram:4", "telegram", text))
        assert again[0]["text"].startswith(render("action.queue.holding", label="B001", service="Chứng thực")), text
    assert labels(database_url) == ["B001"]


@pytest.mark.parametrize(("text", "code"), [
    ("a queue number for notarization", "CT"),
    ("I need a number for birth registration", "HT"),
    ("can I get a ticket for temporary residence", "CU"),
    ("number for a building permit please", "DD"),
])
async def test_an_english_request_gets_a_number_of_the_service_it_names(tmp_path, database_url, clock, text, code):
    act = action(tmp_path, database_url, clock, load_queue_config())
    await run(act, said("web:1", "web", text))
    (label,) = labels(database_url)
    assert service_of(database_url, label) == code


async def test_a_nul_between_the_words_does_not_glue_the_service_name(tmp_path, database_url, clock):
    act = action(tmp_path, database_url, clock, load_queue_config())
    await run(act, said("web:2", "web", clean_text("lay so\x00chung thuc")))
    (label,) = labels(database_url)
    assert service_of(database_url, label) == "CT"


@pytest.mark.parametrize("channel", ["kiosk", "web", "telegram"])
async def test_asking_about_a_number_when_none_is_held_issues_none(tmp_path, database_url, clock, channel):
    """At a kiosk each session is one citizen: «còn bao nhiêu người nữa» there must not print a new number."""
    act = action(tmp_path, database_url, clock)
    for text in ("còn bao nhiêu người nữa", "xem lai so", "tới lượt tôi chưa"):
        reply, events = await run(act, said(f"{channel}:9", channel, text))
        assert events == []
        assert reply[0]["text"] == render("action.queue.none_held"), text
        assert reply[0]["buttons"][0]["payload"] == "/request_queue_number"
    assert labels(database_url) == []


async def test_asking_at_a_kiosk_shows_the_number_this_session_took(tmp_path, database_url, clock):
    act = action(tmp_path, database_url, clock)
    await run(act, said("kiosk:s1", "kiosk", "lấy số chứng thực"))  # B001
    again, _ = await run(act, said("kiosk:s1", "kiosk", "còn bao nhiêu người nữa"))
    assert again[0]["text"].startswith(render("action.queue.holding", label="B001", service="Chứng thực"))
    assert labels(database_url) == ["B001"]
