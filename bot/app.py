"""The FastAPI gateway: owns the channels, the pages and the APIs.

Run with ``motcua serve`` (everything) or
``uvicorn bot.app:create_app --factory --ws wsproto`` (the gateway alone).
"""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.staticfiles import StaticFiles

from bot import auth, validation
from bot.limits import BodyLimitMiddleware, upload_limits
from bot.routes import admin, chat, curation, dossiers, health, legal, pages, queue, ratings, staff, webhooks
from bot.routes import kiosk as kiosk_routes
from bot.routes import widget as widget_routes
from bot.routes.pages import STATIC
from bot.security import SecurityMiddleware
from bot.services import open_services
from channels import registry
from motcua.privacy import install_log_masking
from motcua.settings import Settings, get_settings

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    install_log_masking()  # no CCCD or phone number in the gateway's logs

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        async with open_services(settings) as services:
            app.state.services = services  # the one place app.state is written; routes use bot.deps
            yield

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
    app.include_router(webhooks.webhook_router(registry.webhook_kinds()))  # /webhooks/telegram, /webhooks/zalo…
    app.include_router(dossiers.router)
    app.include_router(staff.router)
    app.include_router(admin.router)
    app.include_router(ratings.router)
    app.include_router(legal.router)  # /phap-luat/…
    app.include_router(curation.router)  # staff curation
    auth.install(app)
    validation.install(app)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    # Origin check on websockets and unsafe methods, CSP and the other headers (outermost)
    app.add_middleware(SecurityMiddleware, settings=settings, static_dir=STATIC)
    return app
