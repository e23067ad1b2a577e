"""The FastAPI gateway: owns the channels, the pages and the APIs.

Run with ``motcua serve`` (everything) or
``uvicorn bot.app:create_app --factory --ws wsproto`` (the gateway alone).
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.staticfiles import StaticFiles

from bot import auth, validation
from bot.dialogue import DialogueClient
from bot.event_ledger import EventLedger
from bot.gateway import Gateway
from bot.limits import BodyLimitMiddleware, upload_limits
from bot.message_log import MessageLog
from bot.notifications import NotificationRelay
from bot.ratelimit import RateLimitedGateway, TokenBuckets
from bot.routes import admin, chat, dossiers, health, pages, queue, ratings, staff
from bot.routes import kiosk as kiosk_routes
from bot.routes import telegram as telegram_routes
from bot.routes import widget as widget_routes
from bot.routes import zalo as zalo_routes
from bot.routes.pages import STATIC
from bot.staff_desk import StaffDesk
from channels.notify import open_channels
from motcua.dossiers.outbox import OutboxWorker
from motcua.privacy import RetentionJob, install_log_masking
from motcua.settings import Settings, get_settings

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    install_log_masking()  # no CCCD or phone number in the gateway's logs

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        dialogue = DialogueClient(settings.rasa_base_url, settings.rasa_timeout_s, token=settings.rasa_token)
        message_log = MessageLog(settings.sqlalchemy_url)
        message_log.start()
        app.state.settings = settings
        # conversations, trackers, handoff and rating texts deleted after retention_days, daily
        app.state.retention = RetentionJob(settings.sqlalchemy_url, settings.retention_days)
        app.state.retention.start()
        app.state.event_ledger = EventLedger(settings.sqlalchemy_url)  # Telegram/Zalo redeliveries, across restarts
        # channels: a token bucket per sender in front of the gateway; Telegram, Zalo, pushes
        app.state.rate_limits = TokenBuckets.per_minute(settings.rate_limit_per_minute, settings.rate_limit_burst)
        # staff: review list, handoff inbox; its writes are queued like the message log
        app.state.staff_desk = StaffDesk(settings.sqlalchemy_url)
        await app.state.staff_desk.start()
        app.state.gateway = RateLimitedGateway(Gateway(dialogue, message_log, app.state.staff_desk),
                                               app.state.rate_limits)
        try:
            async with open_channels(settings, getattr(app.state, "telegram_bot", None),
                                     getattr(app.state, "zalo_http", None)) as channels:
                app.state.channels = channels
                # dossiers to the national portal; notifications to citizens' own channels
                app.state.outbox = OutboxWorker.from_settings(settings)
                if app.state.outbox is not None:
                    app.state.outbox.start()
                app.state.relay = NotificationRelay(settings.sqlalchemy_url, channels.notifier)
                app.state.relay.start()
                try:
                    yield
                finally:
                    await app.state.relay.stop()
                    if app.state.outbox is not None:
                        await asyncio.to_thread(app.state.outbox.stop)
        finally:
            await app.state.retention.stop()
            await app.state.staff_desk.stop()
            await message_log.stop()
            await dialogue.aclose()

    app = FastAPI(
        title="Một Cửa — cổng trợ lý hành chính công",
        description="Cổng (gateway) nối kiosk, Zalo, Telegram, web với trợ lý Rasa. "
        "Gateway between the kiosk, Zalo, Telegram, the web widget and the Rasa assistant.",
        version="0.1.0",
        lifespan=lifespan,
        docs_url="/docs" if settings.api_docs_enabled else None,
        redoc_url="/redoc" if settings.api_docs_enabled else None,
        openapi_url="/openapi.json" if settings.api_docs_enabled else None,
    )
    if settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins, allow_methods=["GET", "POST"],
                           allow_headers=["Content-Type"])
    # bodies over the limit are refused (413) before any route reads or parses them
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_request_bytes, routes=upload_limits())
    app.include_router(pages.router)
    app.include_router(chat.router)
    app.include_router(health.router)
    app.include_router(queue.router)
    app.include_router(kiosk_routes.router)
    app.include_router(widget_routes.router)
    app.include_router(telegram_routes.router)
    app.include_router(zalo_routes.router)
    app.include_router(dossiers.router)
    app.include_router(staff.router)
    app.include_router(admin.router)
    app.include_router(ratings.router)
    app.include_router(__import__("bot.routes.legal", fromlist=["router"]).router)  # /phap-luat/…
    app.include_router(__import__("bot.routes.curation", fromlist=["router"]).router)  # staff curation
    auth.install(app)
    validation.install(app)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    # Origin check on websockets and unsafe methods, CSP and the other headers (outermost)
    app.add_middleware(__import__("bot.security", fromlist=["x"]).SecurityMiddleware, settings=settings,
                       static_dir=STATIC)
    return app
