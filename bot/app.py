"""The FastAPI gateway: owns the channels, the pages and the APIs.

Run with ``motcua serve`` (everything) or
``uvicorn bot.app:create_app --factory --ws wsproto`` (the gateway alone).
"""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from pathlib import Path

import fastapi_offline
from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.staticfiles import StaticFiles

from bot import auth, validation
from bot.limits import BodyLimitMiddleware, upload_limits
from bot.routes import (
    admin,
    chat,
    counter,
    curation,
    deliveries,
    dossiers,
    health,
    legal,
    pages,
    payments,
    queue,
    ratings,
    staff,
    webhooks,
)
from bot.routes import kiosk as kiosk_routes
from bot.routes import widget as widget_routes
from bot.routes.pages import STATIC
from bot.security import SecurityMiddleware
from bot.services import open_services
from channels import registry
from motcua.db import Database
from motcua.privacy import install_log_masking
from motcua.settings import Settings, get_settings

log = logging.getLogger(__name__)
DOCS_ASSETS = Path(fastapi_offline.__file__).parent / "static"
"""Swagger UI and ReDoc as the fastapi-offline package ships them: /docs works without the internet."""


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
        docs_url=None,  # served by _install_docs from the package's own files, not from a CDN
        redoc_url=None,
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
    app.include_router(payments.router)  # /api/v1/staff/payments: fees, VietQR, cash, waivers
    app.include_router(payments.citizen_router)  # /api/v1/dossiers/{code}/payment…: token links; gateway webhook
    app.include_router(staff.router)
    app.include_router(counter.router)  # /staff/counter: calling numbers
    app.include_router(deliveries.router)  # /staff/deliveries: dead letters
    app.include_router(admin.router)
    app.include_router(ratings.router)
    app.include_router(legal.router)  # /phap-luat/…
    app.include_router(curation.router)  # staff curation
    auth.install(app)
    validation.install(app)
    if settings.api_docs_enabled:
        _install_docs(app)
    app.add_route("/favicon.ico", _favicon, include_in_schema=False)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    # Origin check on websockets and unsafe methods, CSP and the other headers (outermost)
    app.add_middleware(SecurityMiddleware, settings=settings, static_dir=STATIC, database=lambda: _database(app))
    return app


def _database(app: FastAPI) -> Database | None:
    """The app's database once its services started; None before (a test app run without its lifespan)."""
    services = getattr(app.state, "services", None)
    return None if services is None else services.database


async def _favicon(request: Request) -> FileResponse:
    return FileResponse(STATIC / "favicon.ico", media_type="image/x-icon",
                        headers={"Cache-Control": "public, max-age=86400"})


def _install_docs(app: FastAPI) -> None:
    """/docs, its OAuth2 redirect and /redoc, with their scripts under /static/docs (mounted before /static)."""
    app.mount("/static/docs", StaticFiles(directory=DOCS_ASSETS), name="docs-assets")
    openapi_url, redirect_url = app.openapi_url or "/openapi.json", app.swagger_ui_oauth2_redirect_url

    async def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "").rstrip("/")
        return get_swagger_ui_html(
            openapi_url=root + openapi_url, title=f"{app.title} — Swagger UI",
            swagger_js_url=f"{root}/static/docs/swagger-ui-bundle.js",
            swagger_css_url=f"{root}/static/docs/swagger-ui.css", swagger_favicon_url=f"{root}/favicon.ico",
            oauth2_redirect_url=root + redirect_url if redirect_url else None,
            swagger_ui_parameters={"validatorUrl": None})  # no badge fetched from swagger.io

    async def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "").rstrip("/")
        return get_redoc_html(openapi_url=root + openapi_url, title=f"{app.title} — ReDoc",
                              redoc_js_url=f"{root}/static/docs/redoc.standalone.js",
                              redoc_favicon_url=f"{root}/favicon.ico", with_google_fonts=False)

    async def oauth2_redirect(request: Request) -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    app.add_route("/docs", swagger_ui, include_in_schema=False)
    if redirect_url:
        app.add_route(redirect_url, oauth2_redirect, include_in_schema=False)
    app.add_route("/redoc", redoc, include_in_schema=False)
