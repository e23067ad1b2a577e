"""Start the real stack (Rasa with a trained model, action server, gateway) for tests and benchmarks."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

from knowledge_base.sync import sync_defaults
from motcua.db import upgrade_database
from motcua.runtime import Stack, ensure_model
from motcua.settings import ROOT, Settings
from tests.servers import free_port

MODEL_CACHE = ROOT / "var" / "models"


def stack_settings(data_dir: Path, database_url: str = "", **extra) -> Settings:
    return Settings(data_dir=data_dir, database_url=database_url, models_dir=MODEL_CACHE,
                    gateway_port=free_port(), rasa_port=free_port(), action_port=free_port(),
                    demo_portal_port=free_port(), **extra)


@contextmanager
def running_stack(settings: Settings, echo=lambda _: None):
    upgrade_database(settings.sqlalchemy_url)
    sync_defaults(settings.sqlalchemy_url)
    model = ensure_model(settings, echo=print)
    stack = Stack(settings, model, echo=echo)
    stack.start()
    try:
        yield stack
    finally:
        stack.stop()
