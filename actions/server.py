"""The action server: rasa-sdk's executor behind FastAPI, at Rasa's action endpoint.

Rasa posts each custom action call to ``/webhook``; heavy things (the knowledge
base, the retrieval index) load once at start-up.
Run: ``uvicorn actions.server:create_app --factory --port 5055 --ws wsproto``.
"""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import partial
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from rasa_sdk.executor import ActionExecutor
from rasa_sdk.interfaces import (
    ActionExecutionRejection,
    ActionMissingDomainException,
    ActionNotFoundException,
)
from starlette.concurrency import run_in_threadpool
from starlette.requests import HTTPConnection

from actions.answering import ActionAnswer
from actions.center import ActionCenterInfo, ActionGreet, CenterPlaces
from actions.dossiers import ActionCheckDossierStatus
from actions.fees import FeeTableInForce
from actions.forms import (
    ActionAskFormAnswer,
    ActionCorrectOutsideForm,
    ActionFinishDeclaration,
    ActionStartForm,
    DeclarationFiler,
    FormCatalog,
    ValidateDeclarationForm,
)
from actions.knowledge import KnowledgeBase
from actions.language import run_in_language
from actions.legal import ActionAnswerLegal
from actions.procedures import ActionHandoff, ActionResetFallback
from actions.queue import ActionIssueQueueNumber, ChatHours
from actions.ratings import ActionRateService
from channels.delivery import RecentIds
from knowledge_base.defaults import CenterInfo, load_center_info
from knowledge_base.forms import load_forms
from knowledge_base.messages import render
from motcua.bus import bus_from_settings
from motcua.db import Database, shared_database
from motcua.dossiers.guard import LookupGuard
from motcua.dossiers.service import DossierService
from motcua.index_refresh import listen_for_refresh
from motcua.privacy import install_log_masking
from motcua.settings import Settings, get_settings
from motcua.workdays import HolidayCalendar

log = logging.getLogger(__name__)


def center_info_text(settings: Settings, info: CenterInfo | None = None) -> str:
    """The default centre's card (``info``: center.yaml as :func:`default_center_info` read it; None: read now)."""
    return _card(settings, info or default_center_info())


def _card(settings: Settings, info: CenterInfo | None) -> str:
    """:func:`center_info_text` of a centre already read (None: the card says it cannot be read, without reading)."""
    return info.describe() if info is not None else render("action.server.center_info_unavailable",
                                                           center=settings.center_name)


def default_center_info() -> CenterInfo | None:
    """The default centre's ``center.yaml``; None when it cannot be read (logged; the card says so itself)."""
    try:
        return load_center_info()
    except (ValueError, OSError) as exc:
        log.warning("center info unavailable: %s", exc)
        return None


def chat_hours(settings: Settings, info: CenterInfo | None = None) -> ChatHours | None:
    """The hours the chat gives numbers in (the default centre's ``info``, read now when not given; holidays off);
    None: at any hour (the setting, or hours that cannot be read — the centre card says so on its own)."""
    if settings.chat_numbers_after_hours:
        return None
    info = info or default_center_info()
    try:
        return ChatHours(info, HolidayCalendar.load()) if info is not None else None
    except (ValueError, OSError) as exc:
        log.warning("holidays unreadable, chat numbers at any hour: %s", exc)
        return None


def build_executor(settings: Settings, database: Database | None = None) -> tuple[ActionExecutor, KnowledgeBase]:
    """The executor with every action registered, all reading and writing ``database`` (default:
    the process's one for the settings' URL)."""
    database = database or shared_database(settings.sqlalchemy_url)
    knowledge = KnowledgeBase(settings.sqlalchemy_url, settings, database=database)
    knowledge.warm_up()
    executor = ActionExecutor()
    dossiers = DossierService.from_settings(settings)
    forms = FormCatalog(load_forms(), knowledge)
    center = default_center_info()  # center.yaml, read once for the card, the places and the chat's hours
    places = CenterPlaces(center, database)
    answer_action = ActionAnswer(knowledge, ActionAnswerLegal(knowledge), fees=FeeTableInForce(database),
                                 places=places,
                                 has_form=lambda code: forms.for_procedure(code) is not None)
    center_info = ActionCenterInfo(partial(_card, settings, center), database)  # written in the call's language
    hours = chat_hours(settings, center)
    queue_action = ActionIssueQueueNumber(knowledge, settings, database=database, hours=hours, answer=answer_action)
    # Questions a citizen may ask in the middle of a declaration, answered as anywhere else, and a
    # queue number taken without losing what was declared.
    form_interruptions = {
        **dict.fromkeys(("ask_procedure", "ask_documents", "ask_fee", "ask_processing_time", "ask_submission",
                         "ask_legal_basis", "ask_legal"), answer_action),
        "ask_center_info": center_info,
        "request_queue_number": queue_action,
    }
    for action in (
        answer_action,
        ActionHandoff.from_settings(settings, database, hours=hours, zone=queue_action.config.zone),
        ActionResetFallback(),
        ActionGreet(places),
        center_info,
        queue_action,
        ActionCheckDossierStatus(dossiers, database, LookupGuard.from_settings(settings, clients="dossier-chat")),
        ActionStartForm(forms),
        ActionAskFormAnswer(forms),
        ValidateDeclarationForm(forms, DeclarationFiler.from_settings(settings, dossiers, database),
                                form_interruptions),
        ActionFinishDeclaration(),
        ActionCorrectOutsideForm(knowledge, answer_action),
        ActionRateService(settings, database),
    ):
        executor.register_action(action)
    return executor, knowledge


@dataclass(frozen=True)
class ActionServices:
    """What the action server's routes use, built once at start-up."""

    executor: ActionExecutor
    knowledge: KnowledgeBase


def get_action_services(conn: HTTPConnection) -> ActionServices:
    return conn.app.state.services


Services = Annotated[ActionServices, Depends(get_action_services)]


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    install_log_masking()  # no CCCD or phone number in the action server's logs

    refreshed = RecentIds(256)  # the refreshes this server made on a POST: their notices are let go

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        database = Database.open(settings.sqlalchemy_url)
        bus = bus_from_settings(settings)
        try:
            executor, knowledge = build_executor(settings, database)
            app.state.services = ActionServices(executor, knowledge)  # routes use get_action_services
            if bus is not None:  # replicas: a staff edit's refresh notice reaches every one (motcua/index_refresh.py)
                await bus.start()
                await listen_for_refresh(bus, knowledge.refresh, refreshed)
            yield
        finally:
            if bus is not None:
                await bus.aclose()
            database.close()

    app = FastAPI(title="Một Cửa — máy chủ hành động (action server)", lifespan=lifespan)  # staff-facing
    app.state.refreshed = refreshed

    @app.get("/health")
    async def health(services: Services) -> dict[str, object]:
        return {"ok": True, "procedures": len(services.knowledge)}

    @app.get("/actions")
    async def actions(services: Services) -> list[dict[str, str]]:
        return [a.model_dump() for a in services.executor.list_actions()]

    @app.post("/index/refresh")
    async def refresh_index(services: Services, request: Request) -> JSONResponse:
        """After a staff edit (the gateway calls this): procedures, aliases, synonyms and the
        search index catch up with the database; only changed documents are re-embedded. The body may
        name the refresh (``{"rid": …}``): the Redis notice with that id is then let go here."""
        try:
            body = await request.json()
        except ValueError:
            body = None
        rid = str(body.get("rid") or "")[:64] if isinstance(body, dict) else ""
        try:
            report = await run_in_threadpool(services.knowledge.refresh)
        except Exception as exc:  # the database or the index is unusable: say so, keep serving
            log.exception("index refresh failed")
            return JSONResponse({"ok": False, "error": f"{type(exc).__name__}: {exc}"}, status_code=503)
        if rid:
            refreshed.seen(rid)
        return JSONResponse({"ok": True, **report.to_dict()})

    @app.post("/webhook")
    async def webhook(request: Request, services: Services) -> JSONResponse:
        try:
            action_call = await request.json()
        except ValueError:
            return JSONResponse({"error": "Invalid body request"}, status_code=400)
        executor = services.executor
        try:  # in the citizen's language (actions/language.py)
            result = await run_in_language(executor, action_call)
        except ActionExecutionRejection as exc:
            return JSONResponse({"error": exc.message, "action_name": exc.action_name}, status_code=400)
        except ActionNotFoundException as exc:
            log.error("action not found: %s", exc.action_name)
            return JSONResponse({"error": exc.message, "action_name": exc.action_name}, status_code=404)
        except ActionMissingDomainException as exc:
            return JSONResponse({"error": exc.message, "action_name": exc.action_name}, status_code=449)
        return JSONResponse(result)

    return app
