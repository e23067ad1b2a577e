"""Throttles counted for every process of a deployment (issue 24): with Redis, the dossier lookup's
lock-outs, the sign-in lock-outs and the handoff limit per address do not grow with the number of gateway
and action server processes; without Redis (or while it does not answer) each process counts alone, as
before. Against the machine's Redis (127.0.0.1:6379), each test under a namespace of its own."""

from __future__ import annotations

import time
import uuid

import pytest

from motcua.settings import Settings
from motcua.throttle import Lockout, RedisLockout, RedisSlidingWindow, SlidingWindow, lockout, sliding_window

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
def namespace() -> str:
    import redis

    try:
        client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
        client.ping()
    except Exception as exc:
        pytest.skip(f"Redis không truy cập được tại 127.0.0.1:6379, bỏ qua ({exc})")
    name = f"t{uuid.uuid4().hex[:12]}"
    yield name
    for key in client.scan_iter(f"{name}:*"):
        client.delete(key)


def _settings(tmp_path, namespace: str, **extra) -> Settings:
    return Settings(data_dir=tmp_path, redis_url=REDIS_URL, redis_namespace=namespace, **extra)


def test_a_window_is_one_count_for_every_process(namespace):
    one, other = (RedisSlidingWindow(REDIS_URL, "handoff-address", 3, 60, namespace=namespace) for _ in range(2))
    assert [one.hit("10.0.0.7"), other.hit("10.0.0.7"), one.hit("10.0.0.7")] == [0.0, 0.0, 0.0]
    wait = other.hit("10.0.0.7")  # the fourth, on the other process: refused, and not recorded
    assert 59 < wait <= 60
    assert 59 < one.retry_after("10.0.0.7") <= 60
    assert other.hit("10.0.0.8") == 0.0  # another address has its own count
    elsewhere = RedisSlidingWindow(REDIS_URL, "handoff-address", 3, 60, namespace=namespace + "x")
    assert elsewhere.hit("10.0.0.7") == 0.0  # another deployment on the same Redis counts its own
    one.reset("10.0.0.7")
    assert other.hit("10.0.0.7") == 0.0


def test_a_window_lets_events_out_as_they_age(namespace):
    window = RedisSlidingWindow(REDIS_URL, "short", 2, 0.3, namespace=namespace)
    assert window.hit("k") == window.hit("k") == 0.0
    assert 0 < window.hit("k") <= 0.3
    time.sleep(0.35)
    assert window.hit("k") == 0.0


def test_a_lockout_locks_for_every_process_and_expires(namespace):
    one, other = (RedisLockout(REDIS_URL, "dossier-code", 3, 60, 0.4, namespace=namespace) for _ in range(2))
    assert one.fail("000.00.04.H51-240315-0001") == 0.0
    assert other.fail("000.00.04.H51-240315-0001") == 0.0
    assert one.locked_for("000.00.04.H51-240315-0001") == 0.0
    assert other.fail("000.00.04.H51-240315-0001") == pytest.approx(0.4)  # the third failure, anywhere, locks
    assert 0 < one.locked_for("000.00.04.H51-240315-0001") <= 0.4
    assert 0 < one.fail("000.00.04.H51-240315-0001") <= 0.4  # while locked a failure only tells the time left
    time.sleep(0.45)
    assert one.locked_for("000.00.04.H51-240315-0001") == 0.0
    assert one.fail("000.00.04.H51-240315-0001") == 0.0  # the count started again after the lock


def test_a_success_forgets_the_failures_for_every_process(namespace):
    one, other = (RedisLockout(REDIS_URL, "signin-name", 2, 60, 60, namespace=namespace) for _ in range(2))
    key = ("10.0.0.9", "canbo01")
    assert one.fail(key) == 0.0
    other.succeed(key)
    assert one.fail(key) == 0.0  # one failure since the success: not locked
    assert other.fail(key) == 60.0


def test_redis_holds_digests_not_addresses_or_names(namespace):
    import redis

    RedisLockout(REDIS_URL, "signin-name", 2, 60, 60, namespace=namespace).fail(("10.1.2.3", "nguyenvana"))
    RedisSlidingWindow(REDIS_URL, "handoff-address", 2, 60, namespace=namespace).hit("10.1.2.3")
    keys = [k.decode() for k in redis.Redis.from_url(REDIS_URL).scan_iter(f"{namespace}:*")]
    assert len(keys) == 2
    assert not any("10.1.2.3" in k or "nguyenvana" in k for k in keys)


def test_without_an_answer_from_redis_the_process_counts_alone():
    window = RedisSlidingWindow("redis://127.0.0.1:1/0", "nowhere", 2, 60, timeout_s=0.1)
    assert [window.hit("k") == 0 for _ in range(3)] == [True, True, False]  # still a limit
    locks = RedisLockout("redis://127.0.0.1:1/0", "nowhere", 2, 60, 60, timeout_s=0.1)
    assert [locks.fail("k"), locks.fail("k")] == [0.0, 60.0]
    assert locks.locked_for("k") > 59


def test_a_deployment_without_redis_keeps_its_throttles_in_the_process(tmp_path):
    settings = Settings(data_dir=tmp_path)
    assert type(sliding_window(settings, "x", 2, 60)) is SlidingWindow
    assert type(lockout(settings, "x", 2, 60, 60)) is Lockout


def test_the_dossier_lookup_shares_a_codes_failures_between_the_page_and_the_chat(tmp_path, namespace):
    from motcua.dossiers.guard import LookupGuard

    settings = _settings(tmp_path, namespace)
    page, chat, other_gateway = (LookupGuard.from_settings(settings, clients=kind)
                                 for kind in ("dossier-ip", "dossier-chat", "dossier-ip"))
    code = "000.00.04.H51-240315-0002"
    for guard in (page, chat, other_gateway, page):
        assert guard.failed("10.0.0.5", code) == 0.0
    assert chat.failed("telegram:42", code) == 15 * 60  # the code's fifth failure, wherever it was made
    assert other_gateway.wait("10.0.0.6", code) > 0  # locked for whoever asks
    assert page.wait("10.0.0.6") == 0.0  # clients are counted apart
    # the page's client count (IPs) is one for every gateway (three failures so far), apart from the chat's
    for i in range(LookupGuard.client_failures - 3 - 1):
        (page if i % 2 else other_gateway).failed("10.0.0.5")
    assert page.failed("10.0.0.5") == 15 * 60
    assert other_gateway.wait("10.0.0.5") > 0
    assert chat.wait("10.0.0.5") == 0.0


def test_sign_in_failures_count_on_every_gateway(tmp_path, namespace):
    from bot.ratelimit import SignInThrottle

    settings = _settings(tmp_path, namespace, signin_failures_per_name=3)
    gateways = [SignInThrottle.from_settings(settings) for _ in range(3)]
    for gateway in gateways:
        assert gateway.wait("10.0.0.4", "quantri") == 0
        gateway.failed("10.0.0.4", "quantri")
    assert all(g.wait("10.0.0.4", "quantri") > 0 for g in gateways)
    assert gateways[0].wait("10.0.0.4", "canbo") == 0  # another name from that IP: its own count
    alone = SignInThrottle.from_settings(Settings(data_dir=tmp_path, signin_failures_per_name=3))
    assert type(alone.per_name) is Lockout


def test_handoffs_per_address_count_on_every_action_server(tmp_path, namespace):
    from actions.procedures import ActionHandoff

    settings = _settings(tmp_path, namespace, handoffs_per_address=2)
    servers = [ActionHandoff.from_settings(settings, database=object()) for _ in range(2)]
    assert all(isinstance(s.per_address, RedisSlidingWindow) for s in servers)
    assert [servers[0].per_address.hit("web:10.0.0.3"), servers[1].per_address.hit("web:10.0.0.3")] == [0.0, 0.0]
    assert servers[0].per_address.hit("web:10.0.0.3") > 0
    assert all(isinstance(s.per_chat, RedisSlidingWindow) for s in servers)  # a Telegram/Zalo chat's, likewise
    assert [servers[i % 2].per_chat.hit("zalo:1234") for i in range(3)] == [0.0, 0.0, 0.0]
    assert servers[1].per_chat.hit("zalo:1234") > 0


def test_the_namespace_names_every_key_of_the_deployment(tmp_path):
    from bot.ratelimit import limits
    from motcua.bus import bus_from_settings
    from motcua.runtime import endpoints_config

    settings = Settings(data_dir=tmp_path, redis_url=REDIS_URL, redis_namespace="tinhA")
    assert bus_from_settings(settings).prefix == "tinhA:live:"
    assert limits(settings, "chat-ip", 30, 10).prefix == "tinhA:limits:chat-ip:"
    assert sliding_window(settings, "handoff-address", 2, 60).prefix == "tinhA:throttle:handoff-address:"
    assert endpoints_config(settings)["lock_store"]["key_prefix"] == "tinhA"  # Rasa takes letters and digits only
    for wrong in ("tinh-a", "", "tỉnh"):
        with pytest.raises(ValueError):
            Settings(data_dir=tmp_path, redis_namespace=wrong)
