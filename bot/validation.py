"""Request validation errors in Vietnamese.

FastAPI answers a request that does not fit a route's model with 422 and pydantic's English
error list. Here every such answer becomes ``{"detail": "<one Vietnamese sentence>",
"errors": [...]}``: ``detail`` is what a page shows a citizen or a staff member (the pages'
scripts show a string ``detail`` as it is), and ``errors`` keeps, for each problem, the field,
a Vietnamese message, and pydantic's own ``type``/``msg`` for the developers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

_WHERE = {"body", "query", "path", "header", "cookie"}


def field_name(location: Sequence[Any]) -> str:
    """``("body", "items", 0, "name")`` → ``"items[0].name"``; the request part is left out."""
    parts = list(location)
    if parts and parts[0] in _WHERE:
        parts = parts[1:]
    name = ""
    for part in parts:
        name += f"[{part}]" if isinstance(part, int) else (f".{part}" if name else str(part))
    return name


def _expected(context: dict[str, Any]) -> str:
    return str(context.get("expected", "")).replace(" or ", " hoặc ")


def vietnamese_message(error: dict[str, Any]) -> str:
    """One pydantic error as a Vietnamese sentence."""
    kind = str(error.get("type", ""))
    context = error.get("ctx") or {}
    field = field_name(error.get("loc", ()))
    subject = f"Trường «{field}»" if field else "Nội dung gửi lên"
    if kind == "json_invalid":
        return "Nội dung gửi lên không phải JSON hợp lệ."
    if kind == "missing":
        return f"Thiếu trường «{field}»." if field else "Thiếu nội dung gửi lên."
    if kind in {"greater_than_equal", "greater_than", "less_than_equal", "less_than"}:
        words = {"greater_than_equal": "không được nhỏ hơn", "greater_than": "phải lớn hơn",
                 "less_than_equal": "không được lớn hơn", "less_than": "phải nhỏ hơn"}[kind]
        bound = next((context[key] for key in ("ge", "gt", "le", "lt") if key in context), "")
        return f"{subject} {words} {bound}."
    if kind == "string_too_long":
        return f"{subject} dài quá {context.get('max_length', '')} ký tự."
    if kind == "string_too_short":
        least = context.get("min_length", 1)
        return f"{subject} không được để trống." if least == 1 else f"{subject} cần ít nhất {least} ký tự."
    if kind in {"too_long", "too_short"}:
        bound = context.get("max_length" if kind == "too_long" else "min_length", "")
        return f"{subject} có {'quá nhiều' if kind == 'too_long' else 'quá ít'} mục (giới hạn {bound})."
    if kind in {"int_parsing", "int_type", "int_from_float"}:
        return f"{subject} phải là một số nguyên."
    if kind in {"float_parsing", "float_type", "decimal_parsing", "decimal_type"}:
        return f"{subject} phải là một số."
    if kind in {"bool_parsing", "bool_type"}:
        return f"{subject} phải là đúng hoặc sai (true/false)."
    if kind in {"string_type", "string_unicode"}:
        return f"{subject} phải là văn bản."
    if kind in {"literal_error", "enum"}:
        return f"{subject} phải là một trong các giá trị: {_expected(context)}."
    if kind.startswith("date") or kind.startswith("datetime") or kind.startswith("time"):
        return f"{subject} không phải ngày giờ hợp lệ (dạng 2025-07-01)."
    if kind in {"model_attributes_type", "dict_type", "model_type"}:
        return f"{subject} phải là một đối tượng JSON."
    if kind in {"list_type", "tuple_type", "set_type"}:
        return f"{subject} phải là một danh sách."
    if kind == "extra_forbidden":
        return f"Trường «{field}» không được phép gửi lên."
    if kind in {"value_error", "assertion_error"}:
        reason = str(context.get("error") or error.get("msg", "")).removeprefix("Value error, ")
        return f"{subject}: {reason}" if field else reason
    return f"{subject} không hợp lệ."


def describe(errors: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The 422 body for a list of pydantic errors."""
    items = [
        {"field": field_name(e.get("loc", ())), "message": vietnamese_message(e), "type": e.get("type"),
         "msg": e.get("msg")}
        for e in errors
    ]
    messages = list(dict.fromkeys(str(item["message"]) for item in items))
    detail = "Dữ liệu gửi lên chưa đúng: " + " ".join(messages) if messages else "Dữ liệu gửi lên chưa đúng."
    return {"detail": detail, "errors": items}


def install(app: FastAPI) -> None:
    """Answer every request validation error (422) with :func:`describe`."""

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse(describe(exc.errors()), status_code=422)
