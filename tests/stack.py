"""Start the real stack (Rasa with a trained model, action server, gateway) for tests and benchmarks."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

from knowledge_base.sync import sync_defaults
from motcua.db import upgrade_database
from motcua.runtime import Stack, ensure_model
from motcua.search_index import open_index
from motcua.settings import ROOT, Settings
from retrieval.embedders import default_cache_dir
from tests.servers import free_port

MODEL_CACHE = ROOT / "var" / "models"
EMBEDDING_CACHE = default_cache_dir()


def stack_settings(data_dir: Path, database_url: str = "", **extra) -> Settings:
    return Settings(data_dir=data_dir, database_url=database_url, models_dir=MODEL_CACHE,
                    gateway_port=free_port(), rasa_port=free_port(), action_port=free_port(),
                    demo_portal_port=free_port(), **extra)


@contextmanager
def running_stack(settings: Settings, echo=lambda _: None, embedding_cache: Path | None = EMBEDDING_CACHE):
    """What ``motcua serve`` does: migrate, load the defaults, build the search index, train, start.

    The index is built here, before the services start (as ``serve`` does), so the action
    server only loads it. Embeddings are cached in ``var/embeddings`` (the benchmarks' and the
    retrieval tests' cache), so a text is embedded once per machine, not once per test module.
    """
    upgrade_database(settings.sqlalchemy_url)
    sync_defaults(settings.sqlalchemy_url)
    _, report = open_index(settings, cache_dir=embedding_cache)
    print(report.describe())
    model = ensure_model(settings, echo=print)
    stack = Stack(settings, model, echo=echo)
    stack.start()
    try:
        yield stack
    finally:
        stack.stop()
