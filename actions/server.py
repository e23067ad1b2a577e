"""The action server: rasa-sdk's executor behind FastAPI, at Rasa's action endpoint.

Rasa posts each custom action call to ``/webhook``; heavy things (the knowledge
base, the retrieval index) load once at start-up.
Run: ``uvicorn actions.server:create_app --factory --port 5055 --ws wsproto``.
"""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from rasa_sdk.executor import ActionExecutor
from rasa_sdk.interfaces import ActionExecutionRejection, ActionMissingDomainException, ActionNotFoundException

from actions.center import ActionCenterInfo, ActionNotYetAvailable
from actions.dossiers import ActionCheckDossierStatus
from actions.knowledge import KnowledgeBase
from actions.legal import ActionAnswerLegal
from actions.procedures import ActionAnswerProcedure, ActionClarify, ActionHandoff, ActionResetFallback
from actions.queue import ActionIssueQueueNumber
from motcua.dossiers.service import DossierService
from motcua.settings import Settings, get_settings

log = logging.getLogger(__name__)


def center_info_text(settings: Settings) -> str:
    try:
        from knowledge_base.defaults import load_center_info

        info = load_center_info()
        return info.describe() if hasattr(info, "describe") else str(info)
    except (ImportError, ValueError, OSError) as exc:
        log.warning("center info unavailable: %s", exc)
        return f"{settings.center_name}. Xin hỏi cán bộ tại quầy về giờ làm việc."


def build_executor(settings: Settings) -> tuple[ActionExecutor, KnowledgeBase]:
    knowledge = KnowledgeBase(settings.sqlalchemy_url, settings)
    knowledge.warm_up()
    executor = ActionExecutor()
    for action in (
        ActionAnswerProcedure(knowledge),
        ActionClarify(),
        ActionHandoff(),
        ActionResetFallback(),
        ActionCenterInfo(center_info_text(settings)),
        ActionIssueQueueNumber(knowledge, settings),
        ActionCheckDossierStatus(DossierService.from_settings(settings)),
        ActionNotYetAvailable("action_start_form", "điền tờ khai qua trợ lý"),
        ActionNotYetAvailable("action_rate_service", "đánh giá qua trợ lý"),
        ActionAnswerLegal(knowledge),
    ):
        executor.register_action(action)
    return executor, knowledge


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        app.state.executor, app.state.knowledge = build_executor(settings)
        yield

    app = FastAPI(title="Một Cửa — máy chủ hành động (action server)", lifespan=lifespan)

    @app.get("/health")
    async def health(request: Request) -> dict[str, object]:
        return {"ok": True, "procedures": len(request.app.state.knowledge)}

    @app.get("/actions")
    async def actions(request: Request) -> list[dict[str, str]]:
        return [a.model_dump() for a in request.app.state.executor.list_actions()]

    @app.post("/webhook")
    async def webhook(request: Request) -> JSONResponse:
        try:
            action_call = await request.json()
        except ValueError:
            return JSONResponse({"error": "Invalid body request"}, status_code=400)
        executor: ActionExecutor = request.app.state.executor
        try:
            result = await executor.run(action_call)
        except ActionExecutionRejection as exc:
            return JSONResponse({"error": exc.message, "action_name": exc.action_name}, status_code=400)
        except ActionNotFoundException as exc:
            log.error("action not found: %s", exc.action_name)
            return JSONResponse({"error": exc.message, "action_name": exc.action_name}, status_code=404)
        except ActionMissingDomainException as exc:
            return JSONResponse({"error": exc.message, "action_name": exc.action_name}, status_code=449)
        return JSONResponse(result.model_dump() if result else None)

    return app
