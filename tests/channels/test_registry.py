"""A channel is one module: registered, it gets ``/webhooks/<name>`` and the notices of its citizens.

:class:`FakeChat` is such a module in miniature — a platform with a shared-key header, no
buttons and short messages — registered here only, with no other production file touched.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from bot.app import create_app
from channels import registry
from channels.base import (
    BotMessage,
    Button,
    Capabilities,
    Channel,
    Incoming,
    Refused,
    UserMessage,
    WebhookChannel,
    WebhookRequest,
)
from motcua.queue.models import QueueNotification
from tests.channels.conftest import channel_settings
from tests.channels.fakes import BIRTH_QUESTION, BIRTH_TEXT, received_from, wait_for

KEY = "fake-shared-key"


class FakeChat:
    """A made-up platform: ``{"id": …, "user": …, "text": …}`` with an ``X-Fake-Key`` header."""

    name: ClassVar[str] = "fakechat"
    title: ClassVar[str] = "FakeChat"
    capabilities: ClassVar[Capabilities] = Capabilities(buttons=False, images=False, max_text=60)
    opened: ClassVar[list[FakeChat]] = []
    enabled: ClassVar[bool] = True

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []
        self.closed = False

    @classmethod
    def from_settings(cls, settings, shared) -> FakeChat | None:
        if not cls.enabled:
            return None
        channel = cls()
        cls.opened.append(channel)
        return channel

    def verify(self, request: WebhookRequest) -> None:
        if request.header("X-Fake-Key") != KEY:
            raise Refused(403, "wrong key")

    def parse(self, request: WebhookRequest) -> list[Incoming]:
        try:
            event = json.loads(request.body)
        except ValueError as exc:
            raise Refused(400, "not JSON") from exc
        sender = f"{self.name}:{event['user']}"
        return [Incoming(sender, UserMessage(self.name, sender, event["text"]), event_id=str(event["id"]))]

    @staticmethod
    def answer(status: int, detail: str) -> dict[str, Any]:
        return {"status": detail}

    async def acknowledge(self, incoming: Incoming) -> None:
        return None

    async def send(self, recipient_id: str, messages: list[BotMessage]) -> bool:
        self.sent += [(recipient_id, m.text) for m in messages]
        return True

    async def aclose(self) -> None:
        self.closed = True


@pytest.fixture
def fakechat():
    registry.register(FakeChat)
    FakeChat.opened.clear()
    FakeChat.enabled = True
    yield FakeChat
    registry.unregister(FakeChat.name)


def post(client, event: dict, key: str = KEY):
    return client.post("/webhooks/fakechat", json=event, headers={"X-Fake-Key": key})


def test_a_registered_channel_gets_a_webhook_and_answers_in_what_it_can_show(fakechat, settings, fakes):
    with TestClient(create_app(settings)) as client:
        assert post(client, {"id": 1, "user": "u1", "text": BIRTH_QUESTION}).json() == {"status": "accepted"}
        assert post(client, {"id": 1, "user": "u1", "text": BIRTH_QUESTION}).json() == {"status": "duplicate"}
        assert post(client, {"id": 2, "user": "u1", "text": "x"}, key="forged").status_code == 403
        assert client.post("/webhooks/fakechat", content=b"\xff", headers={"X-Fake-Key": KEY}).status_code == 400
        [channel] = fakechat.opened
    assert received_from(fakes.rasa, "fakechat:u1") == [BIRTH_QUESTION]
    texts = [text for recipient, text in channel.sent if recipient == "fakechat:u1"]
    # no buttons on this platform: the choices numbered in the text; 60 characters a message at most
    assert all(len(t) <= 60 for t in texts) and len(texts) > 1
    assert "\n".join(texts).replace("\n", " ").split() == \
        f"{BIRTH_TEXT}\n1. Lệ phí\n2. Lấy số thứ tự".replace("\n", " ").split()
    assert channel.closed  # the gateway closed it at shutdown


def test_a_notice_recorded_for_a_registered_channel_is_sent_through_it(fakechat, settings):
    with TestClient(create_app(settings)) as client:
        [channel] = fakechat.opened
        with Session(create_engine(settings.sqlalchemy_url)) as session:
            session.add(QueueNotification(channel="fakechat", sender_id="fakechat:u9", text="Sắp đến lượt A012"))
            session.commit()
        wait_for(lambda: channel.sent)  # the gateway's notification relay, through the registry
        direct = client.portal.call(client.app.state.services.channels.notify, "fakechat", "u9", "Số A012 đã được gọi.")
    assert direct.delivered and direct.sender_id == "fakechat:u9"
    assert channel.sent == [("fakechat:u9", "Sắp đến lượt A012"), ("fakechat:u9", "Số A012 đã được gọi.")]


def test_a_channel_its_settings_leave_off_answers_404_and_is_not_sent_to(fakechat, settings, fakes):
    fakechat.enabled = False
    with TestClient(create_app(settings)) as client:
        response = post(client, {"id": 1, "user": "u1", "text": "chào"})
        result = client.portal.call(client.app.state.services.channels.notify, "fakechat", "u1", "Hồ sơ đã có kết quả.")
    assert response.status_code == 404
    assert fakes.rasa.state.received == []
    assert not result.delivered and not result.queued and result.error


def test_an_unregistered_channel_has_no_webhook(settings):
    with TestClient(create_app(settings)) as client:
        assert post(client, {"id": 1, "user": "u1", "text": "chào"}).status_code == 404
        assert "/webhooks/fakechat" not in {getattr(r, "path", "") for r in client.app.routes}


def test_the_builtin_channels_open_from_the_settings_and_keep_the_contract(tmp_path, fakes, migrated):
    import asyncio

    async def enabled(settings) -> list[str]:
        async with registry.open_channels(settings) as channels:
            for name in channels.enabled():
                assert isinstance(channels.get(name), Channel), name
            return channels.enabled()

    everything = channel_settings(tmp_path, fakes)
    assert asyncio.run(enabled(everything)) == ["kiosk", "telegram", "web", "zalo"]
    assert asyncio.run(enabled(everything.model_copy(update={"telegram_token": "", "zalo_app_id": ""}))) == \
        ["kiosk", "web"]
    assert {kind.name for kind in registry.webhook_kinds()} == {"telegram", "zalo"}
    for kind in registry.webhook_kinds():
        assert isinstance(kind.from_settings(everything, registry.Shared()), WebhookChannel), kind.name


def test_names_are_checked_and_taken_once():
    class Nameless:
        name = "Không hợp lệ"

        @classmethod
        def from_settings(cls, settings, shared):
            return None

    with pytest.raises(ValueError, match="name"):
        registry.register(Nameless)
    assert "telegram" in registry.kinds()  # the package's own modules are loaded on first use
    impostor = type("Telegram", (Nameless,), {"name": "telegram"})
    with pytest.raises(ValueError, match="already registered"):
        registry.register(impostor)


def test_capabilities_fit_buttons_images_and_length():
    choices = (Button("Khai sinh", "/k"),)
    plain = Capabilities(buttons=False, max_text=30).fit([BotMessage("Mời chọn thủ tục cần hỏi", choices)])
    assert [(p.text, p.buttons) for p in plain] == [("Mời chọn thủ tục cần hỏi", ()), ("1. Khai sinh", ())]
    short = Capabilities(max_text=20).fit([BotMessage("Mời chọn thủ tục cần hỏi", choices)])
    assert [(p.text, p.buttons) for p in short] == [("Mời chọn thủ tục", ()), ("cần hỏi", choices)]  # buttons last
    long_pictured = Capabilities(max_text=10).fit([BotMessage("aaaa bbbb cccc", choices, image="https://x.vn/a.png")])
    assert [(p.text, p.image, p.buttons) for p in long_pictured] == [
        ("aaaa bbbb", "https://x.vn/a.png", ()), ("cccc", "", choices)]  # the picture first, the choices last
    assert [p.text for p in Capabilities(max_text=10).fit([BotMessage("x" * 10 + "   ")])] == ["x" * 10]
    [pictured] = Capabilities(images=False).fit([BotMessage("Ảnh mẫu tờ khai", image="https://x.vn/a.png")])
    assert (pictured.text, pictured.image) == ("Ảnh mẫu tờ khai\nhttps://x.vn/a.png", "")
    rich = Capabilities()
    message = BotMessage("x" * 5000, (Button("A", "/a"),), image="https://x.example/a.png")
    assert rich.fit([message]) == [message]
    with pytest.raises(ValueError):
        Capabilities(max_text=-1)
