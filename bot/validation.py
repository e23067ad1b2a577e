"""Request validation errors in the citizen's words, and the language a request asks for.

FastAPI answers a request that does not fit a route's model with 422 and pydantic's English
error list. Here every such answer becomes ``{"detail": "<one sentence>", "errors": [...]}``:
``detail`` is what a page shows a citizen or a staff member (the pages' scripts show a string
``detail`` as it is), and ``errors`` keeps, for each problem, the field, a sentence from the
message catalogue (``gateway.invalid.*``), and pydantic's own ``type``/``msg`` for the developers.

The sentences are Vietnamese unless the request asks for another language the catalogue has:
:func:`request_locale` reads a ``lang`` query parameter, then the ``Accept-Language`` header.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.requests import HTTPConnection

from knowledge_base.messages import DEFAULT_LOCALE, LOCALES, normalise_locale, render

_WHERE = {"body", "query", "path", "header", "cookie"}
_COMPARISONS = {"greater_than_equal": "ge", "greater_than": "gt", "less_than_equal": "le", "less_than": "lt"}
_SIMPLE = {
    **dict.fromkeys(("int_parsing", "int_type", "int_from_float"), "integer"),
    **dict.fromkeys(("float_parsing", "float_type", "decimal_parsing", "decimal_type"), "number"),
    **dict.fromkeys(("bool_parsing", "bool_type"), "boolean"),
    **dict.fromkeys(("string_type", "string_unicode"), "text"),
    **dict.fromkeys(("model_attributes_type", "dict_type", "model_type"), "object"),
    **dict.fromkeys(("list_type", "tuple_type", "set_type"), "list"),
}
"""Pydantic error types whose sentence needs only the subject → the id under ``gateway.invalid.``."""


def preferred_locale(accept_language: str | None, lang: str | None = None) -> str:
    """``lang`` when given, else the language of ``Accept-Language`` the catalogue has and the
    client likes best (``"fr;q=1, en;q=0.8, vi;q=0.5"`` → ``"en"``); Vietnamese when none."""
    if lang and lang.strip():
        return normalise_locale(lang)
    liked: list[tuple[float, int, str]] = []
    for order, part in enumerate((accept_language or "").split(",")):
        tag, *params = part.split(";")
        quality = 1.0
        for param in params:
            name, _, value = param.strip().partition("=")
            if name.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        head = tag.strip().lower().replace("_", "-").split("-")[0]
        if head in LOCALES and quality > 0:
            liked.append((-quality, order, head))
    return min(liked)[2] if liked else DEFAULT_LOCALE


def request_locale(connection: HTTPConnection) -> str:
    """The language a request or websocket asks for (``?lang=en``, ``Accept-Language``)."""
    return preferred_locale(connection.headers.get("accept-language"), connection.query_params.get("lang"))


def field_name(location: Sequence[Any]) -> str:
    """``("body", "items", 0, "name")`` → ``"items[0].name"``; the request part is left out."""
    parts = list(location)
    if parts and parts[0] in _WHERE:
        parts = parts[1:]
    name = ""
    for part in parts:
        name += f"[{part}]" if isinstance(part, int) else (f".{part}" if name else str(part))
    return name


def _expected(context: dict[str, Any], locale: str | None) -> str:
    return str(context.get("expected", "")).replace(" or ", f" {render('gateway.invalid.or', locale=locale)} ")


def vietnamese_message(error: dict[str, Any], locale: str | None = None) -> str:
    """One pydantic error as a sentence (Vietnamese unless ``locale`` asks otherwise)."""
    kind = str(error.get("type", ""))
    context = error.get("ctx") or {}
    field = field_name(error.get("loc", ()))

    def say(key: str, **params: Any) -> str:
        return render(f"gateway.invalid.{key}", locale=locale, **params)

    subject = say("subject_field", field=field) if field else say("subject_body")
    if kind == "json_invalid":
        return say("json")
    if kind == "missing":
        return say("missing_field", field=field) if field else say("missing_body")
    if kind in _COMPARISONS:
        bound = next((context[key] for key in ("ge", "gt", "le", "lt") if key in context), "")
        return say(kind, subject=subject, bound=bound)
    if kind == "string_too_long":
        return say("string_too_long", subject=subject, max_length=context.get("max_length", ""))
    if kind == "string_too_short":
        least = context.get("min_length", 1)
        return say("string_empty", subject=subject) if least == 1 else say("string_too_short", subject=subject,
                                                                             min_length=least)
    if kind in {"too_long", "too_short"}:
        bound = context.get("max_length" if kind == "too_long" else "min_length", "")
        return say(kind, subject=subject, bound=bound)
    if kind in _SIMPLE:
        return say(_SIMPLE[kind], subject=subject)
    if kind in {"literal_error", "enum"}:
        return say("choice", subject=subject, expected=_expected(context, locale))
    if kind.startswith("date") or kind.startswith("datetime") or kind.startswith("time"):
        return say("date", subject=subject)
    if kind == "extra_forbidden":
        return say("extra", field=field)
    if kind in {"value_error", "assertion_error"}:
        reason = str(context.get("error") or error.get("msg", "")).removeprefix("Value error, ")
        return say("value_error", subject=subject, reason=reason) if field else reason
    return say("other", subject=subject)


def describe(errors: Sequence[dict[str, Any]], locale: str | None = None) -> dict[str, Any]:
    """The 422 body for a list of pydantic errors."""
    items = [
        {"field": field_name(e.get("loc", ())), "message": vietnamese_message(e, locale), "type": e.get("type"),
         "msg": e.get("msg")}
        for e in errors
    ]
    messages = list(dict.fromkeys(str(item["message"]) for item in items))
    detail = (render("gateway.invalid.detail", locale=locale, problems=" ".join(messages)) if messages
              else render("gateway.invalid.detail_none", locale=locale))
    return {"detail": detail, "errors": items}


def install(app: FastAPI) -> None:
    """Answer every request validation error (422) with :func:`describe`, in the request's language."""

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse(describe(exc.errors(), request_locale(request)), status_code=422)
