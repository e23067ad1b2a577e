"""Rate limiting per sender, for every channel: a token bucket in memory.

Each sender (``telegram:…``, ``zalo:…``, ``web:…``, ``kiosk:…``, ``rest:…``) has a bucket
of ``burst`` tokens refilled at ``rate`` per second; a message takes one. A message that
finds the bucket empty never reaches Rasa: the citizen gets one polite sentence, and
repeats while still limited are marked so push platforms stay quiet instead of answering
a flood message by message.

Sender ids are chosen by the client (REST, kiosk and widget sockets), so those three are
also limited per client IP (``Services.chat_ip_limits``, ``MOTCUA_CHAT_IP_PER_MINUTE``);
Telegram and Zalo arrive from the platforms' servers and are limited per sender only.
Sign-in failures are throttled per IP and per (IP, username) by :class:`SignInThrottle`.
Both live in this process's memory when the deployment is one process (the embedded default: a
restart only hands an attacker a fresh, small budget). With Redis (``MOTCUA_REDIS_URL``: several
gateway processes, ``MOTCUA_WORKERS``) the chat buckets (:class:`SharedTokenBuckets`) and the sign-in
lock-outs (:func:`motcua.throttle.lockout`) live there, so N processes do not allow N times as much.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from bot.dialogue import DialogueReply
from channels.base import BotMessage, UserMessage
from knowledge_base.messages import render
from motcua.bus import redis_client
from motcua.throttle import Lockout, lockout

RATE_LIMITED_TEXT = render("gateway.rate_limited")
IP_LIMITED_DETAIL = render("gateway.ip_limited")
"""In Vietnamese, for code that compares; the citizen gets :func:`rate_limited_text` in their language."""
RATE_LIMITED = "rate_limited"
REPEAT = "repeat"  # in DialogueReply.events: the citizen was already told, push channels send nothing


@dataclass(frozen=True)
class Decision:
    allowed: bool
    first_refusal: bool = False  # the first refusal since the sender was last allowed
    retry_after_s: float = 0.0  # when refused: seconds until the next token


class TokenBuckets:
    def __init__(self, rate_per_s: float, burst: int, max_senders: int = 50_000,
                 clock: Callable[[], float] = time.monotonic):
        if rate_per_s <= 0:
            raise ValueError("rate_per_s must be positive")
        if burst < 1:
            raise ValueError("burst must be at least 1")
        self.rate = rate_per_s
        self.burst = burst
        self.max_senders = max_senders
        self._clock = clock
        self._buckets: OrderedDict[str, list[float]] = OrderedDict()  # key -> [tokens, last, warned]

    @classmethod
    def per_minute(cls, per_minute: float, burst: int, **kwargs) -> TokenBuckets:
        return cls(per_minute / 60.0, burst, **kwargs)

    def take(self, key: str) -> Decision:
        now = self._clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = [float(self.burst), now, 0.0]
            self._buckets[key] = bucket
            if len(self._buckets) > self.max_senders:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(key)
            bucket[0] = min(float(self.burst), bucket[0] + (now - bucket[1]) * self.rate)
            bucket[1] = now
        if bucket[0] >= 1.0:
            bucket[0] -= 1.0
            bucket[2] = 0.0
            return Decision(True)
        first = not bucket[2]
        bucket[2] = 1.0
        return Decision(False, first_refusal=first, retry_after_s=(1.0 - bucket[0]) / self.rate)


_SHARED_TAKE = """
local now = redis.call('TIME')
local t = tonumber(now[1]) + tonumber(now[2]) / 1000000
local rate, burst, ttl = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local b = redis.call('HMGET', KEYS[1], 'tokens', 'last', 'warned')
local tokens, warned = burst, 0
if b[1] then
  tokens = math.min(burst, tonumber(b[1]) + (t - tonumber(b[2])) * rate)
  warned = tonumber(b[3])
end
local allowed, first = 0, 0
if tokens >= 1 then
  tokens = tokens - 1
  warned = 0
  allowed = 1
else
  if warned == 0 then first = 1 end
  warned = 1
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'last', tostring(t), 'warned', warned)
redis.call('EXPIRE', KEYS[1], ttl)
return {allowed, first, tostring(tokens)}
"""


class SharedTokenBuckets(TokenBuckets):
    """The same buckets, kept in Redis for every gateway process of the deployment (one Lua script a take:
    refill by Redis's clock, take a token, remember the first refusal). A bucket left alone expires once it
    would be full again. When Redis does not answer within ``timeout_s`` the process's own buckets decide
    (a citizen is never refused because Redis is slow, and a flood still meets a limit)."""

    def __init__(self, url: str, name: str, rate_per_s: float, burst: int, timeout_s: float = 0.25,
                 namespace: str = "motcua", **kwargs):
        super().__init__(rate_per_s, burst, **kwargs)
        self.prefix = f"{namespace}:limits:{name}:"
        self._redis = redis_client(url, timeout_s)
        self._script = self._redis.register_script(_SHARED_TAKE)
        self._ttl = max(int(burst / rate_per_s) + 1, 1)

    def take(self, key: str) -> Decision:
        try:
            allowed, first, tokens = self._script(keys=[self.prefix + key], args=[self.rate, self.burst, self._ttl])
        except Exception:  # Redis slow or away: this process's buckets decide meanwhile
            return super().take(key)
        if int(allowed):
            return Decision(True)
        return Decision(False, first_refusal=bool(int(first)), retry_after_s=(1.0 - float(tokens)) / self.rate)


def limits(settings, name: str, per_minute: float, burst: int) -> TokenBuckets:
    """The deployment's buckets called ``name``: in Redis when the deployment has one (several gateway
    processes, on one machine or several, share it), else in this process."""
    if settings.redis_url:
        return SharedTokenBuckets(settings.redis_url, name, per_minute / 60.0, burst,
                                  namespace=settings.redis_namespace)
    return TokenBuckets.per_minute(per_minute, burst)


def rate_limited_text(locale: str | None = None) -> str:
    """The polite sentence a flooding sender gets."""
    return render("gateway.rate_limited", locale=locale)


def ip_limited_detail(locale: str | None = None) -> str:
    """The ``detail`` of a 429 for a client IP over its chat limit."""
    return render("gateway.ip_limited", locale=locale)


class RateLimitedGateway:
    """The gateway with a bucket per sender in front of it; same ``handle`` as :class:`bot.gateway.Gateway`."""

    def __init__(self, inner, buckets: TokenBuckets):
        self.inner = inner
        self.buckets = buckets

    def join(self, sender_id: str, send):
        """See :meth:`bot.gateway.Gateway.join` (staff replies are not rate limited)."""
        return self.inner.join(sender_id, send)

    async def handle(self, message: UserMessage) -> DialogueReply:
        decision = self.buckets.take(message.sender_id)
        if decision.allowed:
            return await self.inner.handle(message)
        return DialogueReply([BotMessage(rate_limited_text(message.locale))], RATE_LIMITED,
                             events=[] if decision.first_refusal else [REPEAT])


def should_stay_quiet(reply: DialogueReply) -> bool:
    """For push platforms: a repeat refusal is not worth another message."""
    return reply.outcome == RATE_LIMITED and REPEAT in reply.events


def ip_limited_reply(locale: str | None = None) -> DialogueReply:
    """What a socket gets when its IP is over the limit: the same polite sentence as a flooding sender."""
    return DialogueReply([BotMessage(rate_limited_text(locale))], RATE_LIMITED)


class SignInThrottle:
    """Failed sign-ins per IP and per (IP, username); either over its limit blocks that IP for a while.

    Keyed on the name as typed, with no database lookup, so an unknown name is throttled exactly
    like a real one, and an attacker elsewhere cannot lock a staff member out of their own desk.
    """

    def __init__(self, per_ip: int, per_name: int, window_s: float, **kwargs) -> None:
        self.per_ip = Lockout(per_ip, window_s, window_s, **kwargs)
        self.per_name = Lockout(per_name, window_s, window_s, **kwargs)

    @classmethod
    def from_settings(cls, settings) -> SignInThrottle:
        """The deployment's: in Redis when it has one (every gateway process counts the same failures)."""
        window = settings.signin_window_minutes * 60.0
        throttle = cls(settings.signin_failures_per_ip, settings.signin_failures_per_name, window)
        throttle.per_ip = lockout(settings, "signin-ip", settings.signin_failures_per_ip, window, window)
        throttle.per_name = lockout(settings, "signin-name", settings.signin_failures_per_name, window, window)
        return throttle

    def wait(self, ip: str, username: str) -> float:
        """Seconds before this IP may try this name again; 0 when it may now."""
        return max(self.per_ip.locked_for(ip), self.per_name.locked_for((ip, username)))

    def failed(self, ip: str, username: str) -> None:
        self.per_ip.fail(ip)
        self.per_name.fail((ip, username))

    def succeeded(self, ip: str, username: str) -> None:
        self.per_name.succeed((ip, username))
