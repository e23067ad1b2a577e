"""Ask the running action server to bring its search index up to date with the database.

The action server holds the index in memory; after staff change the knowledge base (the
curation page, ``motcua kb ingest``, ``kb import-dichvucong``, ``kb load-defaults``) it is
asked to catch up through ``POST /index/refresh``, which re-embeds only what changed. When
it is not running, nothing is lost: it syncs the index when it starts. The outcome is a
small dict with a Vietnamese ``message`` for the person who made the change.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Container
from typing import Any

import httpx

from motcua.settings import Settings

log = logging.getLogger(__name__)

REFRESH_TIMEOUT_S = 5.0


def refresh_urls(settings: Settings) -> list[str]:
    """Every action server's refresh endpoint (one per worker)."""
    urls = []
    for webhook in settings.action_webhook_urls:
        webhook = webhook.rstrip("/")
        base = webhook[: -len("/webhook")] if webhook.endswith("/webhook") else webhook
        urls.append(base + "/index/refresh")
    return urls


def refresh_url(settings: Settings) -> str:
    return refresh_urls(settings)[0]


Posted = tuple[httpx.Response | None, Exception | None, str]


def new_refresh_id() -> str:
    """A refresh's id (``rid``): its POST and its notice carry the same, so a server makes one pass for both."""
    return uuid.uuid4().hex


async def post_everywhere(settings: Settings, timeout: float = REFRESH_TIMEOUT_S, rid: str = "") -> Posted:
    """``POST /index/refresh`` to every action server at once; what the worst of them answered (an error,
    then a refusal, else the first server's report), so «updated» means every worker has the change.
    ``rid`` names this refresh: the notice :func:`announce_refresh` sends after it with the same id is then
    skipped by the servers that already refreshed."""
    async def one(client: httpx.AsyncClient, url: str) -> Posted:
        try:
            return await client.post(url, json={"rid": rid}), None, url
        except httpx.HTTPError as exc:
            return None, exc, url

    async with httpx.AsyncClient(timeout=timeout) as client:
        answers = await asyncio.gather(*(one(client, url) for url in refresh_urls(settings)))
    return min(answers, key=lambda a: (a[1] is None, a[0] is not None and a[0].status_code == 200))


def _outcome(response: httpx.Response | None, error: Exception | None, url: str) -> dict[str, Any]:
    if isinstance(error, httpx.TimeoutException):
        return {"updated": False, "message": "Chỉ mục tìm kiếm đang được cập nhật (quá thời gian chờ); "
                                             "thay đổi đã được lưu và sẽ có hiệu lực sau ít phút."}
    if error is not None or response is None:
        log.info("action server unreachable at %s: %s", url, error)
        return {"updated": False, "message": "Máy chủ hành động chưa chạy nên trợ lý chưa dùng thay đổi này; "
                                             "thay đổi đã được lưu và chỉ mục sẽ tự cập nhật khi khởi động."}
    if response.status_code != 200:
        return {"updated": False, "message": f"Máy chủ hành động không cập nhật được chỉ mục (mã "
                                             f"{response.status_code}); thay đổi đã được lưu, chỉ mục sẽ cập "
                                             "nhật khi khởi động lại."}
    report = response.json()
    return {"updated": True, "changed": report.get("changed", 0), "removed": report.get("removed", 0),
            "message": f"Trợ lý đã dùng thay đổi này (chỉ mục tìm kiếm: {report.get('changed', 0)} tài liệu "
                       f"cập nhật, {report.get('removed', 0)} bỏ đi)."}


REFRESH_CHANNEL = "index-refresh"
"""Live-bus channel every action server listens on (:func:`listen_for_refresh`): with replicas behind a proxy
(``deploy/compose.yaml``) a POST reaches one of them; this notice reaches them all."""


async def announce_refresh(settings: Settings, rid: str = "") -> int:
    """Tell every action server of the deployment, through Redis, that the knowledge base changed (how many
    listened); nothing without Redis. Sent after :func:`post_everywhere` with its ``rid``: a server the POST
    reached has refreshed already and lets the notice go."""
    from motcua.bus import bus_from_settings

    bus = bus_from_settings(settings)
    if bus is None:
        return 0
    try:
        return await bus.publish(REFRESH_CHANNEL, {"rid": rid})
    except Exception:  # Redis away: the POST before it reached the servers it could
        log.warning("could not announce the index refresh through Redis", exc_info=True)
        return 0
    finally:
        await bus.aclose()


async def listen_for_refresh(bus, refresh, done: Container[str] = ()) -> Callable[[Any], None]:
    """In an action server: on each notice, ``refresh()`` (the knowledge base catching up) in a thread, one at
    a time; a notice that comes while one runs makes one more run after it. Returns the handler (to
    unsubscribe)."""
    state = {"running": False, "again": False}

    async def run() -> None:
        state["running"] = True
        try:
            while True:
                state["again"] = False
                try:
                    await asyncio.to_thread(refresh)
                except Exception:  # the database or the index is unusable now: the next notice tries again
                    log.exception("index refresh after a notice failed")
                if not state["again"]:
                    break
        finally:
            state["running"] = False

    tasks: set[asyncio.Task] = set()

    def heard(item: Any) -> None:
        if isinstance(item, dict) and item.get("rid") in done:
            return  # this server made that refresh when the POST came
        if state["running"]:
            state["again"] = True
            return
        task = asyncio.get_running_loop().create_task(run())
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    await bus.subscribe(REFRESH_CHANNEL, heard)
    return heard


async def refresh_everywhere(settings: Settings, timeout: float = REFRESH_TIMEOUT_S) -> Posted:
    """One staff edit's refresh: POSTed to every action server, then announced under the same id through Redis
    for replicas behind a proxy the POST did not reach (a server the POST reached lets the notice go)."""
    rid = new_refresh_id()
    posted = await post_everywhere(settings, timeout, rid)
    await announce_refresh(settings, rid)
    return posted


async def request_refresh(settings: Settings, timeout: float = REFRESH_TIMEOUT_S) -> dict[str, Any]:
    return _outcome(*await refresh_everywhere(settings, timeout))


def request_refresh_sync(settings: Settings, timeout: float = REFRESH_TIMEOUT_S) -> dict[str, Any]:
    return asyncio.run(request_refresh(settings, timeout))
