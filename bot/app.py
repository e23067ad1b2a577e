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

from bot.dialogue import DialogueClient
from bot.gateway import Gateway
from bot.message_log import MessageLog
from bot.routes import chat, health, pages
from bot.routes.pages import STATIC
from motcua.settings import Settings, get_settings

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        dialogue = DialogueClient(settings.rasa_base_url, settings.rasa_timeout_s)
        message_log = MessageLog(settings.sqlalchemy_url)
        message_log.start()
        app.state.settings = settings
        app.state.gateway = Gateway(dialogue, message_log)
        try:
            yield
        finally:
            await message_log.stop()
            await dialogue.aclose()

    app = FastAPI(
        title="Một Cửa — cổng trợ lý hành chính công",
        description="Cổng (gateway) nối kiosk, Zalo, Telegram, web với trợ lý Rasa. "
        "Gateway between the kiosk, Zalo, Telegram, the web widget and the Rasa assistant.",
        version="0.1.0",
        lifespan=lifespan,
    )
    if settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins, allow_methods=["GET", "POST"],
                           allow_headers=["Content-Type"])
    app.include_router(pages.router)
    app.include_router(chat.router)
    app.include_router(health.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app
