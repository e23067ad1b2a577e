"""Ask the running action server to bring its search index up to date with the database.

The action server holds the index in memory; after staff change the knowledge base (the
curation page, ``motcua kb ingest``, ``kb import-dichvucong``, ``kb load-defaults``) it is
asked to catch up through ``POST /index/refresh``, which re-embeds only what changed. When
it is not running, nothing is lost: it syncs the index when it starts. The outcome is a
small dict with a Vietnamese ``message`` for the person who made the change.
"""

from __future__ import annotations

import logging
from typing import Any

import httpx

from motcua.settings import Settings

log = logging.getLogger(__name__)

REFRESH_TIMEOUT_S = 5.0


def refresh_url(settings: Settings) -> str:
    webhook = settings.action_webhook_url.rstrip("/")
    base = webhook[: -len("/webhook")] if webhook.endswith("/webhook") else webhook
    return base + "/index/refresh"


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


async def request_refresh(settings: Settings, timeout: float = REFRESH_TIMEOUT_S) -> dict[str, Any]:
    url = refresh_url(settings)
    try:
        async with httpx.AsyncClient(timeout=timeout) as client:
            return _outcome(await client.post(url), None, url)
    except httpx.HTTPError as exc:
        return _outcome(None, exc, url)


def request_refresh_sync(settings: Settings, timeout: float = REFRESH_TIMEOUT_S) -> dict[str, Any]:
    url = refresh_url(settings)
    try:
        return _outcome(httpx.post(url, timeout=timeout), None, url)
    except httpx.HTTPError as exc:
        return _outcome(None, exc, url)
