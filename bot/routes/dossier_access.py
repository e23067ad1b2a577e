"""A dossier reached over HTTP: shared by the dossier and payment routes (no router here).

- :func:`call_service` runs a blocking service call off the event loop and turns a
  :class:`~motcua.dossiers.errors.DossierError` into its HTTP answer (:func:`http_error`);
- :func:`guard_code` and :func:`check_second_factor` let a citizen's client try a code and a
  second factor only as often as the :class:`~motcua.dossiers.guard.LookupGuard` allows
  (429 with ``Retry-After`` once locked);
- :func:`link_refused` is the one answer to every refused link (its words name the kind of link),
  :func:`pdf_response` a PDF shown in the browser, never cached nor indexed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import HTTPException
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from bot.routes.pages import NOINDEX
from knowledge_base.messages import render
from motcua.db import Database
from motcua.dossiers.errors import DossierError, DossierNotFound
from motcua.dossiers.guard import LookupGuard, throttled_text
from motcua.dossiers.service import DossierService, is_second_factor, parse_lookup_payload
from motcua.throttle import retry_after_header

__all__ = ["call_service", "check_second_factor", "count_failure", "guard_code", "http_error", "link_refused",
           "pdf_response", "throttled"]

_HTTP_STATUS = {"not_found": 404, "invalid": 422, "conflict": 409, "forbidden": 403, "too_large": 413,
                "unsupported": 415}


def http_error(exc: DossierError) -> HTTPException:
    """The HTTP answer for a dossier error (its ``kind`` picks the status; 422 when unknown)."""
    return HTTPException(status_code=_HTTP_STATUS.get(exc.kind, 422), detail=str(exc))


async def call_service(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run a (blocking) service call in the thread pool, turning its errors into HTTP answers."""
    try:
        return await run_in_threadpool(function, *args, **kwargs)
    except DossierError as exc:
        raise http_error(exc) from None


def pdf_response(data: bytes, filename: str) -> Response:
    return Response(data, media_type="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{filename}"', "Cache-Control": "no-store",
                             **NOINDEX})


def throttled(seconds: float) -> HTTPException:
    return HTTPException(429, detail=throttled_text(seconds), headers={"Retry-After": retry_after_header(seconds)})


def count_failure(guard: LookupGuard, client: str, exc: DossierError, code: str = "") -> HTTPException:
    """Count a failure; the answer is 429 when it started a lock, else the error's own."""
    wait = guard.failed(client, code)
    return throttled(wait) if wait > 0 else http_error(exc)


def guard_code(guard: LookupGuard, client: str, payload: str, *, scanned: bool = False) -> str:
    """The dossier code in ``payload`` once the client and the code may try; 429 or 422 otherwise."""
    wait = guard.wait(client)
    if wait > 0:
        raise throttled(wait)
    try:
        code = parse_lookup_payload(payload, scanned=scanned)
    except DossierError as exc:
        raise count_failure(guard, client, exc) from None
    wait = guard.wait(client, code)
    if wait > 0:
        raise throttled(wait)
    return code


async def check_second_factor(database: Database, service: DossierService, guard: LookupGuard, client: str,
                              code: str,
                              factors: dict[str, str], refusal: str) -> None:
    """Check the applicant's second factor; count a failure (429 once locked) and answer 403 or 404."""
    try:
        ok = await run_in_threadpool(lambda: database.run(service.verify_applicant, code, **factors))
    except DossierNotFound as exc:
        raise count_failure(guard, client, exc) from None
    except DossierError as exc:
        raise http_error(exc) from None
    if not ok:
        wait = guard.failed(client, code) if is_second_factor(**factors) else 0
        if wait > 0:
            raise throttled(wait)
        raise HTTPException(403, detail=refusal)
    guard.succeeded(client, code)


def link_refused(locale: str, message: str = "page.dossier.link_refused") -> Response:
    """The one answer to every refused link of a kind (``message``, the catalogue key that names it):
    same status, body and headers, whatever the reason (only the language follows the browser's)."""
    return JSONResponse({"detail": render(message, locale=locale)}, status_code=404,
                        headers={"Cache-Control": "no-store", "Vary": "Accept-Language", **NOINDEX})
