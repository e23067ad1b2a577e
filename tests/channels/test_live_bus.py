"""Live events between gateway processes through Redis (motcua/bus.py, issue 24 item 2).

Two buses on one Redis stand for two gateways of one deployment: a page open on one gets what the
other publishes; «is a page open» is answered for every gateway; items for a closed page wait in Redis
and the page gets them on whichever gateway it reconnects; a board on one wakes for a number taken on
the other. The last test runs two whole gateway apps on one database and one Redis.
"""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest

from bot.queue_runtime import BoardHub
from channels.base import BotMessage, Button
from channels.kiosk import KioskChannel
from channels.registry import RecipientGone, live_hubs
from motcua.bus import RedisBus

REDIS_URL = "redis://127.0.0.1:6379/0"


def _redis_reason() -> str | None:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except Exception as exc:  # the machine's Redis: CI's has one
        return f"{type(exc).__name__}: {exc}"
    return None


@pytest.fixture
async def gateways():
    """Two buses on one Redis, each its own gateway process's, under a prefix of this test's own."""
    reason = _redis_reason()
    if reason:
        pytest.skip(f"Redis không truy cập được tại 127.0.0.1:6379, bỏ qua ({reason})")
    prefix = f"motcua:test:{uuid.uuid4().hex[:8]}:"
    buses = [RedisBus(REDIS_URL, prefix=prefix), RedisBus(REDIS_URL, prefix=prefix)]
    for bus in buses:
        await bus.start()
    yield buses
    for bus in buses:
        await bus.aclose()


async def received(queue: asyncio.Queue, timeout: float = 5.0):
    return await asyncio.wait_for(queue.get(), timeout)


async def test_a_page_open_on_one_gateway_gets_what_another_publishes(gateways):
    one, other = (live_hubs(bus) for bus in gateways)
    page = await one.sessions.subscribe("web:s1")
    message = BotMessage("Hồ sơ của ông/bà đã có kết quả.", buttons=(Button("Xem", "/check_dossier_status"),))
    assert await other.sessions.listening("web:s1") == 1  # one gateway has that page open
    assert await other.sessions.publish("web:s1", [message]) == 1
    assert await received(page) == [message]  # the same message, buttons and all, on the other process
    assert await other.sessions.listening("web:nobody") == 0
    await one.sessions.unsubscribe("web:s1", page)
    assert await other.sessions.listening("web:s1") == 0


async def test_several_pages_of_one_key_on_one_gateway_cost_one_subscription_and_all_get_the_item(gateways):
    one, other = (live_hubs(bus) for bus in gateways)
    first, second = await one.sessions.subscribe("web:two"), await one.sessions.subscribe("web:two")
    assert await other.sessions.publish("web:two", [BotMessage("a")]) == 1  # one process listens
    assert [m.text for m in await received(first)] == ["a"] and [m.text for m in await received(second)] == ["a"]
    await one.sessions.unsubscribe("web:two", first)
    assert await other.sessions.listening("web:two") == 1  # the second page still listens
    await one.sessions.unsubscribe("web:two", second)
    assert await other.sessions.listening("web:two") == 0


async def test_a_notice_for_a_closed_page_waits_in_redis_for_any_gateway(gateways):
    one, other = (live_hubs(bus) for bus in gateways)
    assert await one.sessions.publish("web:away", [BotMessage("Đến lượt ông/bà.")]) == 0
    await one.sessions.publish("web:away", [BotMessage("second")])
    kept = await other.sessions.drain("web:away")  # the page came back on the other gateway
    assert [[m.text for m in item] for item in kept] == [["Đến lượt ông/bà."], ["second"]]
    assert await other.sessions.drain("web:away") == []  # handed over once
    # a kiosk scan is never kept: nobody should find a citizen's card data later
    assert await one.devices.publish("device:k1", {"type": "device", "data": "0123"}) == 0
    assert await other.devices.drain("device:k1") == []


async def test_pending_items_are_capped_per_page(gateways):
    hub = live_hubs(gateways[0]).sessions
    hub.max_pending = 3
    for i in range(5):
        await hub.publish("web:many", [BotMessage(str(i))])
    assert [item[0].text for item in await hub.drain("web:many")] == ["2", "3", "4"]


async def test_the_kiosk_channel_on_one_gateway_reaches_a_kiosk_page_open_on_another(gateways):
    one, other = (live_hubs(bus) for bus in gateways)
    channel = KioskChannel(other.sessions)
    with pytest.raises(RecipientGone):  # no page of that session anywhere
        await channel.send("kiosk:k9", [BotMessage("x")])
    page = await one.sessions.subscribe("kiosk:k9")
    assert await channel.send("k9", [BotMessage("Mời ông/bà đến quầy 2.")]) is True
    assert [m.text for m in await received(page)] == ["Mời ông/bà đến quầy 2."]


async def test_a_board_on_one_gateway_wakes_when_another_changes_the_queue(gateways):
    boards = [BoardHub(bus) for bus in gateways]
    for board in boards:
        await board.start()
    wake = boards[0].subscribe()
    boards[1].publish()  # a number taken on the other gateway (thread-safe, returns at once)
    await asyncio.wait_for(wake.wait(), 5.0)
    assert wake.is_set()


async def test_without_redis_the_hubs_stay_in_memory():
    hubs = live_hubs(None)
    assert hubs.sessions.bus is None and hubs.devices.bus is None and not hubs.devices.keep_pending
    page = await hubs.sessions.subscribe("web:local")
    assert await hubs.sessions.publish("web:local", [BotMessage("x")]) == 1
    assert [m.text for m in page.get_nowait()] == ["x"]


def test_two_gateways_on_one_database_and_redis_carry_a_kiosk_scan_across(settings, migrated):
    """The deployment way: two gateway apps, one database and one Redis; a kiosk's events socket is
    open on the first, its scanner posts to the second, the page gets the scan."""
    reason = _redis_reason()
    if reason:
        pytest.skip(f"Redis không truy cập được tại 127.0.0.1:6379, bỏ qua ({reason})")
    from fastapi.testclient import TestClient

    from bot.app import create_app
    from devices.fake_scanner import CCCD_EXAMPLE
    from motcua.db import session_scope
    from motcua.devices import add_device

    shared = settings.model_copy(update={"redis_url": REDIS_URL})
    with session_scope(migrated) as session:
        key = add_device(session, "quay-cross", "kiosk", actor="test")[1]
    body = {"device": "quay-cross", "event": "cccd_scanned", "data": CCCD_EXAMPLE}
    with TestClient(create_app(shared)) as first, TestClient(create_app(shared)) as second:
        first.cookies.set("motcua_device", key)  # the enrolled kiosk's browser talks to the first gateway
        with first.websocket_connect("/ws/kiosk/events?session=s-cross&device=quay-cross") as page:
            assert json.loads(page.receive_text()) == {"type": "ready", "device": "quay-cross"}
            answer = second.post("/api/v1/devices/events", json=body, headers={"X-Device-Key": key})
            assert answer.json() == {"delivered": 1}  # one gateway process has the page open
            assert json.loads(page.receive_text()) == {"type": "device", "event": "cccd_scanned",
                                                       "data": CCCD_EXAMPLE}
        gone = second.post("/api/v1/devices/events", json=body, headers={"X-Device-Key": key})
        assert gone.json() == {"delivered": 0}  # the page closed: the scan is not kept anywhere


async def wait_until(check, timeout: float = 5.0) -> bool:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            return False
        await asyncio.sleep(0.02)
    return True


async def test_a_conversation_handed_to_staff_on_one_gateway_is_with_staff_on_every_gateway(gateways, migrated):
    """The citizen's next message may reach another gateway: it must go to the inbox there too, and back
    to the assistant everywhere once staff hand it back."""
    from bot.dialogue import DialogueReply
    from bot.staff_desk import StaffDesk
    from channels.base import UserMessage
    from motcua.db import Database

    database = Database.open(migrated)
    desks = [StaffDesk(database, bus=bus) for bus in gateways]
    for desk in desks:
        await desk.start()
    try:
        asked = UserMessage("telegram", "telegram:77", "cho tôi gặp cán bộ")
        desks[0].observe(asked, DialogueReply([BotMessage("Tôi chuyển ông/bà tới cán bộ.",
                                                          custom={"handoff": True, "reason": "citizen_request"})]))
        assert desks[0].is_handed_off("telegram:77")
        assert await wait_until(lambda: desks[1].is_handed_off("telegram:77"))
        desks[1].release("telegram:77")  # staff signed in on the other gateway hand it back
        assert await wait_until(lambda: not desks[0].is_handed_off("telegram:77"))
        assert not desks[1].is_handed_off("telegram:77")
    finally:
        for desk in desks:
            await desk.stop()
        database.close()


async def test_a_tap_on_another_gateway_puts_the_typed_question_on_the_review_list(gateways, migrated):
    """A citizen types a question (gateway 0) then taps «Gặp cán bộ» (gateway 1): the inbox and the review list
    show what was typed — kept in Redis for an hour, its CCCD masked — not the button's title."""
    from sqlalchemy import select

    from bot.dialogue import DialogueReply
    from bot.staff_desk import StaffDesk
    from channels.base import UserMessage
    from motcua.db import Database
    from motcua.staff.models import HandoffConversation

    database = Database.open(migrated)
    desks = [StaffDesk(database, bus=bus) for bus in gateways]
    for desk in desks:
        await desk.start()
    sender = f"web:{uuid.uuid4().hex[:8]}"
    try:
        desks[0].observe(UserMessage("web", sender, "tôi số 001090012345 muốn đổi tên cho con"),
                         DialogueReply([BotMessage("Ông/bà muốn hỏi thủ tục nào?")]))
        await desks[0].stop()  # its writer has flushed: the question is in Redis
        tap = UserMessage("web", sender, "/request_human", metadata={"display_text": "Gặp cán bộ"})
        desks[1].observe(tap, DialogueReply([BotMessage("Tôi chuyển ông/bà tới cán bộ.",
                                                        custom={"handoff": True, "reason": "citizen_request"})]))
        await desks[1].stop()
        with database.session() as session:
            question = session.scalar(select(HandoffConversation.question)
                                      .where(HandoffConversation.sender_id == sender))
        assert question is not None and "muốn đổi tên cho con" in question
        assert "001090012345" not in question  # the identifier did not sit in Redis as typed
    finally:
        for desk in desks:
            await desk.stop()  # again when the test got there: stopping twice is harmless
        database.close()


async def test_one_notice_relay_of_the_deployment_passes_at_a_time_and_hands_over_when_it_stops(gateways, migrated):
    """Every gateway starts a relay; only the one holding the lead sends, so no notice goes twice; when
    it stops, another gateway's relay takes over."""
    from bot.notifications import NotificationRelay
    from motcua.db import Database

    database = Database.open(migrated)

    class Nowhere:
        async def notify(self, channel, sender_id, text, **_):  # no rows in this test: never called
            raise AssertionError("nothing to send")

    relays = [NotificationRelay(database, Nowhere(), interval_s=0.05, bus=bus) for bus in gateways]
    ran = [0, 0]  # passes that read the outbox, per relay

    def counted(i, run_once):
        async def run() -> int:
            ran[i] += 1
            return await run_once()
        return run

    for i, relay in enumerate(relays):
        relay.run_once = counted(i, relay.run_once)
    try:
        for relay in relays:
            relay.start()
        assert await wait_until(lambda: sum(r.passes for r in relays) >= 10)
        held = [await relay.leadership.held() for relay in relays]
        assert held.count(True) == 1  # the holder renews; the other is refused
        leader = held.index(True)
        assert ran[leader] >= 3 and ran[1 - leader] == 0  # only the holder ever read the outbox
        await relays[leader].stop()
        other = relays[1 - leader]
        assert await wait_until(lambda: other.leadership is not None and other.passes > 0)
        assert await other.leadership.held()  # the key was let go at stop: taken at once
    finally:
        for relay in relays:
            if relay._task is not None:
                await relay.stop()
        database.close()


def test_rate_limits_are_shared_by_the_gateway_processes_through_redis():
    """Two processes' buckets of one name are one bucket: a sender's burst is spent across both."""
    reason = _redis_reason()
    if reason:
        pytest.skip(f"Redis không truy cập được tại 127.0.0.1:6379, bỏ qua ({reason})")
    from bot.ratelimit import SharedTokenBuckets

    name = f"test-{uuid.uuid4().hex[:8]}"
    one, other = (SharedTokenBuckets(REDIS_URL, name, rate_per_s=1 / 60, burst=3) for _ in range(2))
    assert [one.take("rest:a").allowed, other.take("rest:a").allowed, one.take("rest:a").allowed] == [True] * 3
    refused = other.take("rest:a")  # the fourth message, on the other process: the shared bucket is empty
    assert not refused.allowed and refused.first_refusal and 0 < refused.retry_after_s <= 60
    again = one.take("rest:a")
    assert not again.allowed and not again.first_refusal  # told once, then quiet
    assert other.take("rest:b").allowed  # another sender has its own bucket


def test_rate_limits_fall_back_to_the_process_when_redis_does_not_answer():
    from bot.ratelimit import SharedTokenBuckets

    unreachable = SharedTokenBuckets("redis://127.0.0.1:1/0", "nowhere", rate_per_s=1 / 60, burst=2, timeout_s=0.1)
    assert [unreachable.take("rest:a").allowed for _ in range(3)] == [True, True, False]  # still a limit


async def test_every_action_server_hears_that_the_knowledge_base_changed(tmp_path):
    """Action server replicas behind a proxy: a POST reaches one; the notice through Redis reaches each, and
    notices that come while a refresh runs make one more run, not a pile."""
    reason = _redis_reason()
    if reason:
        pytest.skip(f"Redis không truy cập được tại 127.0.0.1:6379, bỏ qua ({reason})")
    import threading

    from motcua.index_refresh import announce_refresh, listen_for_refresh
    from motcua.settings import Settings

    runs = [0, 0]
    release = threading.Event()

    def slow_refresh(i: int):
        def refresh() -> None:
            runs[i] += 1
            release.wait(5)
        return refresh

    buses = [RedisBus(REDIS_URL), RedisBus(REDIS_URL)]  # the deployment's prefix, as announce_refresh uses
    try:
        for i, bus in enumerate(buses):
            await bus.start()
            await listen_for_refresh(bus, slow_refresh(i))
        settings = Settings(data_dir=tmp_path, redis_url=REDIS_URL)
        assert await announce_refresh(settings) >= 2  # both replicas listen
        assert await wait_until(lambda: runs == [1, 1])
        for _ in range(3):  # three more edits while both still refresh
            await announce_refresh(settings)
        await asyncio.sleep(0.3)
        release.set()
        assert await wait_until(lambda: runs == [2, 2])  # caught up once more each, not three times
        await asyncio.sleep(0.3)
        assert runs == [2, 2]
        assert await announce_refresh(Settings(data_dir=tmp_path)) == 0  # no Redis: nothing to announce
    finally:
        release.set()
        for bus in buses:
            await bus.aclose()


async def test_a_server_that_refreshed_on_the_post_lets_its_notice_go(tmp_path):
    """A staff edit is POSTed to the action servers, then announced with the same name: a server the POST
    reached has refreshed and lets the notice go; a replica it did not reach refreshes on the notice."""
    reason = _redis_reason()
    if reason:
        pytest.skip(f"Redis không truy cập được tại 127.0.0.1:6379, bỏ qua ({reason})")
    from channels.delivery import RecentIds
    from motcua.index_refresh import announce_refresh, listen_for_refresh, new_refresh_id
    from motcua.settings import Settings

    runs = [0, 0]
    ledgers = [RecentIds(), RecentIds()]
    buses = [RedisBus(REDIS_URL), RedisBus(REDIS_URL)]
    try:
        for i, bus in enumerate(buses):
            await bus.start()
            await listen_for_refresh(bus, lambda i=i: runs.__setitem__(i, runs[i] + 1), ledgers[i])
        settings = Settings(data_dir=tmp_path, redis_url=REDIS_URL)
        posted = new_refresh_id()
        ledgers[0].seen(posted)  # the POST reached the first server, which refreshed then
        await announce_refresh(settings, posted)
        assert await wait_until(lambda: runs[1] == 1)
        await asyncio.sleep(0.3)
        assert runs == [0, 1]
        await announce_refresh(settings, new_refresh_id())  # an edit whose POST reached neither
        assert await wait_until(lambda: runs == [1, 2])
    finally:
        for bus in buses:
            await bus.aclose()


async def test_a_page_that_could_not_subscribe_leaves_nothing_half_done():
    """Redis refusing a subscription: the page's socket fails (it reconnects), and its next try subscribes
    again instead of finding a half-registered key."""
    from channels.sessions import PushHub

    class Refusing:
        calls = 0

        async def subscribe(self, channel, handler):
            type(self).calls += 1
            if type(self).calls == 1:
                raise ConnectionError("Redis away")

        async def listeners(self, channel):
            return 0

    hub = PushHub(bus=Refusing())
    with pytest.raises(ConnectionError):
        await hub.subscribe("web:x")
    await hub.subscribe("web:x")  # the page came back: subscribed this time
    assert Refusing.calls == 2


def test_the_plain_numbers_one_address_may_take_are_counted_once_for_every_gateway(tmp_path):
    reason = _redis_reason()
    if reason:
        pytest.skip(f"Redis không truy cập được tại 127.0.0.1:6379, bỏ qua ({reason})")
    from bot.queue_runtime import ANONYMOUS_TICKETS, QueueRuntime
    from bot.ratelimit import SharedTokenBuckets, TokenBuckets
    from motcua.settings import Settings

    shared = Settings(data_dir=tmp_path, redis_url=REDIS_URL)
    gateways = [QueueRuntime(shared, database=None) for _ in range(2)]
    assert all(isinstance(g.anonymous_tickets, SharedTokenBuckets) for g in gateways)
    address = f"10.9.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"
    burst = ANONYMOUS_TICKETS[0]
    taken = [gateways[i % 2].anonymous_tickets.take(address).allowed for i in range(burst + 1)]
    assert taken == [True] * burst + [False]  # the burst is spent across both gateways, not each
    assert isinstance(QueueRuntime(Settings(data_dir=tmp_path), database=None).anonymous_tickets, TokenBuckets)
