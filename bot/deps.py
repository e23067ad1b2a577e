"""Typed route dependencies: a route names what it needs (``gateway: GatewayDep``) and FastAPI
hands it the app's one instance, made at start-up (:mod:`bot.services`). Tests swap any of
them with ``app.dependency_overrides[get_x] = lambda: fake``. They work on websocket routes too.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from starlette.requests import HTTPConnection

from bot.dialogue import DialogueClient
from bot.event_ledger import EventLedger
from bot.message_log import MessageLog
from bot.queue_runtime import QueueRuntime
from bot.ratelimit import RateLimitedGateway, SignInThrottle, TokenBuckets
from bot.security import client_ip
from bot.services import Services, TrainingOptions
from bot.speech import SpeechCache
from bot.staff_desk import StaffDesk
from bot.webhook_inbox import WebhookInbox
from channels.registry import Channels
from motcua.db import Database
from motcua.dossiers.guard import LookupGuard
from motcua.dossiers.service import DossierService
from motcua.payments.provider import PaymentProvider
from motcua.payments.service import PaymentService
from motcua.settings import Settings
from motcua.staff.accounts import AuthPolicy
from motcua.training import RasaModelLoader


def get_services(conn: HTTPConnection) -> Services:
    """The app's services (stored once by :func:`bot.app.create_app`'s lifespan)."""
    return conn.app.state.services


ServicesDep = Annotated[Services, Depends(get_services)]


def get_app_settings(services: ServicesDep) -> Settings:
    return services.settings


SettingsDep = Annotated[Settings, Depends(get_app_settings)]


def get_database(services: ServicesDep) -> Database:
    return services.database


def get_dialogue(services: ServicesDep) -> DialogueClient:
    return services.dialogue


def get_gateway(services: ServicesDep) -> RateLimitedGateway:
    return services.gateway


def get_message_log(services: ServicesDep) -> MessageLog:
    return services.message_log


def get_staff_desk(services: ServicesDep) -> StaffDesk:
    return services.staff_desk


def get_channels(services: ServicesDep) -> Channels:
    return services.channels


def get_queue(services: ServicesDep) -> QueueRuntime:
    return services.queue


def get_dossier_service(services: ServicesDep) -> DossierService:
    return services.dossiers


def get_lookup_guard(services: ServicesDep) -> LookupGuard:
    return services.lookup_guard


def get_event_ledger(services: ServicesDep) -> EventLedger:
    return services.event_ledger


def get_webhook_inbox(services: ServicesDep) -> WebhookInbox:
    return services.webhook_inbox


def get_rate_limits(services: ServicesDep) -> TokenBuckets:
    return services.rate_limits


def get_chat_ip_limits(services: ServicesDep) -> TokenBuckets:
    return services.chat_ip_limits


def get_signin_throttle(services: ServicesDep) -> SignInThrottle:
    return services.signin_throttle


def get_auth_policy(services: ServicesDep) -> AuthPolicy:
    return services.auth_policy


def get_speech(services: ServicesDep) -> SpeechCache:
    return services.speech


def get_model_loader(services: ServicesDep) -> RasaModelLoader:
    return services.model_loader


def get_training_options(services: ServicesDep) -> TrainingOptions:
    return services.training


def get_payments(services: ServicesDep) -> PaymentService:
    return services.payments


def get_payment_providers(services: ServicesDep) -> dict[str, PaymentProvider]:
    return services.payment_providers


def get_client_ip(conn: HTTPConnection, settings: SettingsDep) -> str:
    """The address per-IP limits key on (behind a trusted proxy, the forwarded one)."""
    return client_ip(conn, settings.trusted_proxies)


DatabaseDep = Annotated[Database, Depends(get_database)]
DialogueDep = Annotated[DialogueClient, Depends(get_dialogue)]
GatewayDep = Annotated[RateLimitedGateway, Depends(get_gateway)]
MessageLogDep = Annotated[MessageLog, Depends(get_message_log)]
StaffDeskDep = Annotated[StaffDesk, Depends(get_staff_desk)]
ChannelsDep = Annotated[Channels, Depends(get_channels)]
QueueDep = Annotated[QueueRuntime, Depends(get_queue)]
DossiersDep = Annotated[DossierService, Depends(get_dossier_service)]
PaymentsDep = Annotated[PaymentService, Depends(get_payments)]
PaymentProvidersDep = Annotated[dict[str, PaymentProvider], Depends(get_payment_providers)]
LookupGuardDep = Annotated[LookupGuard, Depends(get_lookup_guard)]
EventLedgerDep = Annotated[EventLedger, Depends(get_event_ledger)]
WebhookInboxDep = Annotated[WebhookInbox, Depends(get_webhook_inbox)]
RateLimitsDep = Annotated[TokenBuckets, Depends(get_rate_limits)]
ChatIpLimitsDep = Annotated[TokenBuckets, Depends(get_chat_ip_limits)]
SignInThrottleDep = Annotated[SignInThrottle, Depends(get_signin_throttle)]
AuthPolicyDep = Annotated[AuthPolicy, Depends(get_auth_policy)]
SpeechDep = Annotated[SpeechCache, Depends(get_speech)]
ModelLoaderDep = Annotated[RasaModelLoader, Depends(get_model_loader)]
TrainingDep = Annotated[TrainingOptions, Depends(get_training_options)]
ClientIP = Annotated[str, Depends(get_client_ip)]
