"""action_rate_service with a real Tracker: the rating is stored as the ratings API stores it."""

from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions.ratings import ActionRateService, rating_score
from knowledge_base.messages import render
from motcua.db import session_scope, upgrade_database
from motcua.settings import Settings
from motcua.staff.models import Rating


def tracker(text: str, entities: list | None = None, slots: dict | None = None, metadata: dict | None = None) -> Tracker:
    latest = {"text": text, "intent": {"name": "rate_service", "confidence": 0.95}, "entities": entities or [],
              "metadata": metadata or {}}
    return Tracker("telegram:42", slots or {}, latest, [], False, None, {}, "action_listen")


async def run(action, t: Tracker):
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, t, {})
    return dispatcher.messages, events


def settings(tmp_path) -> Settings:
    url = f"sqlite:///{tmp_path / 'ratings.sqlite3'}"
    upgrade_database(url)
    return Settings(data_dir=tmp_path, database_url=url, agency_code="000.00.04.H51")


def test_rating_scores_are_read_from_entity_values():
    assert rating_score(["5"]) == 5 and rating_score(["4/5"]) == 4 and rating_score(["sao", "2 sao"]) == 2
    assert rating_score(["9"]) is None and rating_score([]) is None


async def test_a_rating_with_stars_is_stored_and_thanked(tmp_path):
    config = settings(tmp_path)
    messages, _ = await run(ActionRateService(config),
                            tracker("tôi cho 5 sao", [{"entity": "rating", "value": "5"}], {"procedure_code": "1.001193"}))
    assert "Cảm ơn ông/bà đã đánh giá" in messages[0]["text"] and "5/5" in messages[0]["text"]
    with session_scope(config.sqlalchemy_url) as session:
        row = session.scalars(select(Rating)).one()
        assert (row.kind, row.score, row.channel, row.sender_id, row.center_code, row.procedure_code, row.comment) == (
            "service", 5, "telegram", "telegram:42", "default", "1.001193", "tôi cho 5 sao")  # no centre named: the default


async def test_a_rating_written_at_a_centres_kiosk_is_that_centres(tmp_path):
    config = settings(tmp_path)
    await run(ActionRateService(config), tracker("4 sao", [{"entity": "rating", "value": "4"}], metadata={"center": "xa-b"}))
    with session_scope(config.sqlalchemy_url) as session:
        assert session.scalars(select(Rating.center_code)).one() == "xa-b"


async def test_without_stars_the_citizen_gets_five_buttons_and_nothing_is_stored(tmp_path):
    config = settings(tmp_path)
    messages, _ = await run(ActionRateService(config), tracker("tôi muốn đánh giá dịch vụ"))
    assert [b["payload"] for b in messages[0]["buttons"]][0] == '/rate_service{"rating": "5"}'
    assert len(messages[0]["buttons"]) == 5
    with session_scope(config.sqlalchemy_url) as session:
        assert session.scalars(select(Rating)).all() == []


async def test_an_unhappy_rating_is_thanked_for_the_comment_in_the_catalogues_words(tmp_path):
    messages, _ = await run(ActionRateService(settings(tmp_path)),
                            tracker("chờ lâu quá", [{"entity": "rating", "value": "2"}]))
    assert messages[0]["text"] == render("action.ratings.thanks_unhappy", score=2)
    assert messages[0]["text"].endswith("(2/5 sao)") and "góp ý" in messages[0]["text"]
