"""Everything the gateway's routes use, built once when the app starts and closed when it stops.

:func:`open_services` makes one :class:`~motcua.db.Database` from the settings and hands it
to each service; the app keeps the resulting :class:`Services` and routes receive its parts
through the typed dependencies of :mod:`bot.deps`.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from bot.dialogue import DialogueClient
from bot.event_ledger import EventLedger
from bot.gateway import Gateway
from bot.message_log import MessageLog
from bot.notifications import NotificationRelay
from bot.queue_runtime import QueueRuntime
from bot.ratelimit import RateLimitedGateway, SignInThrottle, TokenBuckets, limits
from bot.sender_centers import SenderCenters
from bot.speech import SpeechCache
from bot.staff_desk import StaffDesk
from bot.typed_choices import TypedChoices
from bot.webhook_inbox import InboxStore, WebhookInbox, handling_timeout_s
from channels import registry
from channels.registry import Channels, live_hubs
from motcua.bus import bus_from_settings, redis_client
from motcua.db import Database
from motcua.delivery import DeliveryPolicy, NoticeKeeper
from motcua.dossiers.guard import LookupGuard
from motcua.dossiers.outbox import OutboxWorker
from motcua.dossiers.service import DossierService
from motcua.payments.provider import FakeProvider, PaymentProvider
from motcua.payments.service import PaymentService
from motcua.privacy import RetentionJob
from motcua.settings import Settings
from motcua.staff.accounts import DEFAULT_POLICY, AuthPolicy
from motcua.training import DEFAULT_TOLERANCE, RasaModelLoader

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainingOptions:
    """Where retraining reads the project (``None``: this checkout) and how much worse a model may score."""

    project_root: Path | None = None
    tolerance: float = DEFAULT_TOLERANCE


@dataclass
class Services:
    """The gateway's parts, one of each per app; routes ask for them through :mod:`bot.deps`."""

    settings: Settings
    database: Database
    dialogue: DialogueClient
    message_log: MessageLog
    staff_desk: StaffDesk
    gateway: RateLimitedGateway
    rate_limits: TokenBuckets
    """Per sender, in front of the gateway (every channel)."""
    chat_ip_limits: TokenBuckets
    """Per client IP, for the chat routes whose sender ids the client chooses."""
    signin_throttle: SignInThrottle
    event_ledger: EventLedger
    webhook_inbox: WebhookInbox
    """Telegram/Zalo events stored before their 200, and the worker that answers those a crash left."""
    channels: Channels
    queue: QueueRuntime
    dossiers: DossierService
    lookup_guard: LookupGuard
    retention: RetentionJob
    relay: NotificationRelay
    outbox: OutboxWorker | None
    speech: SpeechCache
    model_loader: RasaModelLoader
    payments: PaymentService
    payment_providers: dict[str, PaymentProvider]
    """The payment gateways whose signed webhooks are believed (the fake one outside production)."""
    auth_policy: AuthPolicy = DEFAULT_POLICY
    training: TrainingOptions = field(default_factory=TrainingOptions)


def payment_providers(settings: Settings) -> dict[str, PaymentProvider]:
    """The gateways whose webhooks this installation believes: the fake one (which shows how a real
    gateway plugs in) once ``MOTCUA_PAYMENT_WEBHOOK_SECRET`` is set — never in production."""
    secret = settings.payment_webhook_secret.strip()
    if not secret:
        return {}
    if settings.environment == "production":
        log.warning("payments: MOTCUA_PAYMENT_WEBHOOK_SECRET is set but the fake payment gateway is not run in "
                    "production; plug in a real PaymentProvider")
        return {}
    return {FakeProvider.name: FakeProvider(secret)}


STOP_TIMEOUT_S = 20.0
"""How long one service may take to stop before the gateway goes on without it (a stop that never ends
would keep the process from exiting: the supervisor's restart waits on it, a test client never returns)."""


async def _bounded(stop: Callable[[], Awaitable[object]], name: str) -> None:
    """Await ``stop()`` for at most :data:`STOP_TIMEOUT_S`; one that does not end is logged by name and left."""
    try:
        await asyncio.wait_for(stop(), STOP_TIMEOUT_S)
    except TimeoutError:
        log.error("stopping %s took over %.0f s; going on without waiting for it", name, STOP_TIMEOUT_S)


@asynccontextmanager
async def open_services(settings: Settings) -> AsyncIterator[Services]:
    """Build and start every service for ``settings``; stop them and close the database on exit."""
    async with AsyncExitStack() as stack:
        database = Database.open(settings.sqlalchemy_url)
        stack.callback(database.close)
        dialogue = DialogueClient(settings.rasa_base_urls, settings.rasa_timeout_s, token=settings.rasa_token)
        stack.push_async_callback(_bounded, dialogue.aclose, "dialogue")
        message_log = MessageLog(database)
        message_log.start()
        stack.push_async_callback(_bounded, message_log.stop, "message_log")
        # staff: review list, handoff inbox; its writes are queued like the message log
        # several gateways (MOTCUA_REDIS_URL): live events cross between them through Redis (motcua/bus.py)
        bus = bus_from_settings(settings)
        if bus is not None:
            await bus.start()
            stack.push_async_callback(_bounded, bus.aclose, "live_bus")
        staff_desk = StaffDesk(database, bus=bus)
        await staff_desk.start()
        stack.push_async_callback(_bounded, staff_desk.stop, "staff_desk")
        # conversations, trackers, handoff and rating texts deleted after retention_days, daily
        retention = RetentionJob(database.url, settings.retention_days)
        retention.start()
        stack.push_async_callback(_bounded, retention.stop, "retention")
        rate_limits = limits(settings, "sender", settings.rate_limit_per_minute, settings.rate_limit_burst)
        channels = await stack.enter_async_context(registry.open_channels(settings, live_hubs(bus)))
        # One delivery policy (tries, backoff, dead letters) for the portal outbox and citizen notices;
        # a reply a platform refused is kept in the notice outbox and tried again.
        delivery = DeliveryPolicy.from_settings(settings)
        channels.keeper = NoticeKeeper(database)
        queue = QueueRuntime(settings, database, bus=bus)
        await queue.hub.start()
        try:
            await asyncio.to_thread(queue.seed)
        except SQLAlchemyError:  # tables missing (not migrated): the gateway still starts, /health tells
            log.exception("could not seed the queue's services and counters")
        # dossiers to the national portal; notifications to citizens' own channels
        outbox = None
        if settings.portal_url:
            from motcua.dossiers.portal import HttpPortalClient

            outbox = OutboxWorker(database, HttpPortalClient(settings.portal_url), policy=delivery)
            outbox.start()
            stack.push_async_callback(_bounded, functools.partial(asyncio.to_thread, outbox.stop), "outbox")
        relay = NotificationRelay(database, channels, policy=delivery, bus=bus)
        relay.start()
        stack.push_async_callback(_bounded, relay.stop, "relay")
        choices = TypedChoices(redis_client(bus.url), bus.prefix) if bus is not None else TypedChoices()
        gateway = RateLimitedGateway(Gateway(dialogue, message_log, staff_desk, origin_secret=settings.secret_key,
                                             centers=SenderCenters(database), choices=choices),
                                     rate_limits)
        event_ledger = EventLedger(database)  # Telegram/Zalo redeliveries, across restarts
        # webhook events stored before the platform's 200; the worker answers those a crash left behind
        webhook_inbox = WebhookInbox(
            InboxStore(database, event_ledger, delivery.leased_for(handling_timeout_s(settings.rasa_timeout_s))),
            channels, gateway, rate_limits)
        webhook_inbox.start()
        stack.push_async_callback(_bounded, webhook_inbox.stop, "webhook_inbox")
        yield Services(
            settings=settings,
            database=database,
            dialogue=dialogue,
            message_log=message_log,
            staff_desk=staff_desk,
            gateway=gateway,
            rate_limits=rate_limits,
            chat_ip_limits=limits(settings, "chat-ip", settings.chat_ip_per_minute, settings.chat_ip_burst),
            signin_throttle=SignInThrottle.from_settings(settings),
            event_ledger=event_ledger,
            webhook_inbox=webhook_inbox,
            channels=channels,
            queue=queue,
            dossiers=DossierService.from_settings(settings),
            payments=PaymentService.from_settings(settings),
            payment_providers=payment_providers(settings),
            lookup_guard=LookupGuard.from_settings(settings, clients="dossier-ip"),
            retention=retention,
            relay=relay,
            outbox=outbox,
            speech=SpeechCache(),
            model_loader=RasaModelLoader(settings.rasa_base_urls, settings.rasa_token),
        )
