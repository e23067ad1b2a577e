"""What the gateway says itself comes from the message catalogue, in the language the citizen's client asks for."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from pydantic import BaseModel, Field, ValidationError

from bot.app import create_app
from bot.limits import too_large_detail
from bot.ratelimit import RATE_LIMITED, RateLimitedGateway, TokenBuckets, ip_limited_reply
from bot.validation import describe, preferred_locale
from channels.base import UserMessage
from knowledge_base.messages import render
from tests.bot.test_gateway import gateway_settings, migrated_sqlite  # noqa: F401  (fixture)
from tests.servers import free_port


@pytest.mark.parametrize(
    ("accept_language", "lang", "expected"),
    [
        (None, None, "vi"),
        ("", "", "vi"),
        ("vi-VN,vi;q=0.9,en-US;q=0.8,en;q=0.7", None, "vi"),
        ("en-US,en;q=0.9", None, "en"),
        ("fr-FR,fr;q=0.9,en;q=0.8,vi;q=0.5", None, "en"),  # French is not in the catalogue: the best one that is
        ("vi;q=0.2, en;q=0.7", None, "en"),
        ("en;q=0, vi", None, "vi"),  # q=0 means «not this one»
        ("de, ja", None, "vi"),
        ("en-US", "vi", "vi"),  # an explicit lang wins over the header
        (None, "EN_gb", "en"),
    ],
)
def test_the_preferred_language_is_one_the_catalogue_has(accept_language, lang, expected):
    assert preferred_locale(accept_language, lang) == expected


class _Form(BaseModel):
    score: int = Field(ge=1, le=5)


def test_validation_sentences_come_from_the_catalogue_in_either_language():
    with pytest.raises(ValidationError) as caught:
        _Form(score=9)
    errors = caught.value.errors()
    problem = render("gateway.invalid.less_than_equal", subject=render("gateway.invalid.subject_field", field="score"),
                     bound=5)
    assert describe(errors)["detail"] == render("gateway.invalid.detail", problems=problem)
    english = describe(errors, "en")
    assert english["detail"] == "What was sent is not right: The field «score» must not be greater than 5."
    assert english["errors"][0]["type"] == "less_than_equal"  # the developers' part is unchanged


def test_busy_and_empty_answers_speak_the_clients_language_with_their_buttons(tmp_path, migrated_sqlite):  # noqa: F811
    dead = f"http://127.0.0.1:{free_port()}"
    with TestClient(create_app(gateway_settings(tmp_path, dead))) as client:
        english = client.post("/api/v1/messages", json={"sender": "x", "text": "hello"},
                              headers={"Accept-Language": "en-US,en;q=0.9"}).json()
        chosen = client.post("/api/v1/messages", json={"sender": "y", "text": "hello", "lang": "en"}).json()
        vietnamese = client.post("/api/v1/messages", json={"sender": "z", "text": "alo"}).json()
        empty = client.post("/api/v1/messages", json={"sender": "z", "text": "\x00", "lang": "en"}).json()
        bad = client.post("/api/v1/messages", json={"sender": "z"}, headers={"Accept-Language": "en"})
    assert english["outcome"] == chosen["outcome"] == vietnamese["outcome"] == "busy"
    assert english["messages"][0]["text"] == chosen["messages"][0]["text"] == render("gateway.busy", locale="en")
    assert vietnamese["messages"][0]["text"] == render("gateway.busy")
    assert [b["payload"] for b in vietnamese["messages"][0]["buttons"]] == ["/request_queue_number", "/request_human"]
    assert [b["title"] for b in vietnamese["messages"][0]["buttons"]] == [
        render("button.request_queue_number"), render("button.request_human")]
    assert empty == {"messages": [{"text": render("channel.ask_question", locale="en")}], "outcome": "empty"}
    missing_text = render("gateway.invalid.missing_field", locale="en", field="text")
    assert bad.status_code == 422 and bad.json()["detail"] == render("gateway.invalid.detail", locale="en",
                                                                     problems=missing_text)


async def test_a_flooding_sender_is_told_in_their_own_language():
    class Inner:
        async def handle(self, message):
            raise AssertionError("a refused message never reaches the gateway")

    gateway = RateLimitedGateway(Inner(), TokenBuckets(rate_per_s=0.001, burst=1))
    gateway.buckets.take("telegram:1")
    refused = await gateway.handle(UserMessage("telegram", "telegram:1", "hi", {"language": "en"}))
    assert refused.outcome == RATE_LIMITED
    assert refused.messages[0].text == render("gateway.rate_limited", locale="en") != render("gateway.rate_limited")
    assert ip_limited_reply().messages[0].text == render("gateway.rate_limited")


def test_the_413_and_the_ratings_answers_come_from_the_catalogue(tmp_path, migrated_sqlite):  # noqa: F811
    assert too_large_detail(1024 * 1024) == render("gateway.too_large", size="1 MB")
    assert too_large_detail(2048, "en") == render("gateway.too_large", locale="en", size="2 KB")
    with TestClient(create_app(gateway_settings(tmp_path, "http://127.0.0.1:9", migrated_sqlite))) as client:
        missing = client.post("/api/v1/ratings", json={"kind": "service"}, headers={"Accept-Language": "en"})
        rated = client.post("/api/v1/ratings", json={"kind": "service", "score": 5})
        huge = client.post("/api/v1/messages", content=b"x" * (2 * 1024 * 1024),
                           headers={"Content-Type": "application/json", "Accept-Language": "en"})
    assert missing.status_code == 422 and missing.json()["detail"] == render("gateway.rating_missing", locale="en")
    assert rated.status_code == 201 and rated.json()["message"] == render("gateway.rating_thanks")
    assert huge.status_code == 413 and huge.json()["detail"] == render("gateway.too_large", locale="en", size="1 MB")
