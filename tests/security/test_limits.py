"""Request bodies are limited while they stream in, uploads are read only after
the sign-in check, and a .docx that unpacks into too much (a zip bomb) is refused."""

from __future__ import annotations

import asyncio
import io
import json
import os
import zipfile

import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from bot.app import create_app
from bot.limits import DEFAULT_MAX_BODY_BYTES, BodyLimitMiddleware, RouteLimit, upload_limits
from knowledge_base import ingest
from knowledge_base.ingest import check_docx, ingest_legal_files
from knowledge_base.legal_files import LegalFileError
from knowledge_base.store import LegalDocumentRow
from motcua.db import session_scope
from tests.staff.conftest import PASSWORD, add_accounts, make_settings, sign_in

MB = 1024 * 1024


class Body:
    """An ASGI ``receive`` that hands out ``chunks`` chunks of ``size`` bytes and counts what was taken."""

    def __init__(self, chunks: int, size: int = 64 * 1024):
        self.chunks, self.size, self.taken = chunks, size, 0

    async def __call__(self):
        if self.taken >= self.chunks:
            return {"type": "http.disconnect"}
        self.taken += 1
        return {"type": "http.request", "body": b"x" * self.size, "more_body": self.taken < self.chunks}


def _scope(path: str, headers: dict[str, str]) -> dict:
    return {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
            "path": path, "raw_path": path.encode(), "root_path": "", "query_string": b"",
            "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
            "client": ("127.0.0.1", 5000), "server": ("127.0.0.1", 8000)}


def _call(app, scope: dict, receive) -> tuple[int, dict]:
    sent: list[dict] = []

    async def send(message):
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return status, json.loads(body or b"{}")


def _json_app() -> tuple[BodyLimitMiddleware, FastAPI]:
    app = FastAPI()
    app.state.handled = 0

    @app.post("/api/v1/messages")
    async def messages(request: Request):
        received = len(await request.body())
        app.state.handled += 1
        return {"received": received}

    return BodyLimitMiddleware(app), app


def test_a_declared_10_mb_json_is_refused_413_in_vietnamese_before_a_byte_is_read():
    limited, inner = _json_app()
    body = Body(chunks=160)  # 10 MB
    status, answer = _call(limited, _scope("/api/v1/messages", {"content-type": "application/json",
                                                                "content-length": str(10 * MB)}), body)
    assert status == 413 and "quá lớn" in answer["detail"] and "1 MB" in answer["detail"]
    assert "ông/bà" in answer["detail"]
    assert body.taken == 0 and inner.state.handled == 0


def test_a_chunked_body_is_cut_off_at_the_limit_not_read_to_the_end():
    limited, inner = _json_app()
    body = Body(chunks=10_000)  # 640 MB if read to the end; no Content-Length
    status, answer = _call(limited, _scope("/api/v1/messages", {"content-type": "application/json"}), body)
    assert status == 413 and "quá lớn" in answer["detail"]
    assert body.taken == DEFAULT_MAX_BODY_BYTES // body.size + 1  # one chunk past the limit, then no more
    assert inner.state.handled == 0


def test_a_body_under_the_limit_reaches_the_route():
    limited, inner = _json_app()
    body = Body(chunks=1, size=100)
    status, answer = _call(limited, _scope("/api/v1/messages", {"content-length": "100"}), body)
    assert (status, answer) == (200, {"received": 100}) and inner.state.handled == 1


def test_upload_routes_have_their_own_larger_limits_and_nothing_else_does():
    middleware = BodyLimitMiddleware(FastAPI(), routes=upload_limits())
    assert middleware.limit_for("/api/v1/kb/legal/upload").max_bytes > 20 * MB
    assert middleware.limit_for("/api/v1/dossiers/000.00.00.H00-261206-0001/attachments").max_bytes >= 200 * MB
    assert middleware.limit_for("/api/v1/staff/dossiers/X/attachments").max_bytes >= 200 * MB
    for path in ("/api/v1/messages", "/api/v1/kb/legal/upload/x", "/api/v1/dossiers/lookup", "/webhooks/zalo"):
        assert middleware.limit_for(path).max_bytes == DEFAULT_MAX_BODY_BYTES
    with pytest.raises(ValueError):
        RouteLimit("/x", 0)


@pytest.fixture
def gateway(tmp_path, database_url):
    settings = make_settings(tmp_path, "http://127.0.0.1:9", database_url)
    add_accounts(database_url)
    with TestClient(create_app(settings)) as client:
        client.database_url = database_url
        yield client


def _legal_documents(url: str) -> int:
    with session_scope(url) as session:
        return session.scalar(select(func.count()).select_from(LegalDocumentRow))


def test_the_gateway_refuses_large_json_and_chunked_bodies_with_413(gateway):
    big = json.dumps({"sender": "x", "text": "a" * (2 * MB)})
    refused = gateway.post("/api/v1/messages", content=big, headers={"content-type": "application/json"})
    assert refused.status_code == 413 and "quá lớn" in refused.json()["detail"]

    def chunks():
        yield b'{"sender": "x", "text": "'
        for _ in range(40):
            yield b"a" * (64 * 1024)
        yield b'"}'

    chunked = gateway.post("/api/v1/messages", content=chunks(), headers={"content-type": "application/json"})
    assert chunked.status_code == 413
    # an ordinary message still goes through (Rasa is down here: the polite busy answer)
    assert gateway.post("/api/v1/messages", json={"sender": "x", "text": "alo"}).status_code == 200


def test_the_legal_upload_checks_the_staff_member_before_reading_the_file(gateway):
    body = Body(chunks=80)  # 5 MB: under the upload limit, so only the sign-in check can stop it
    scope = _scope("/api/v1/kb/legal/upload", {"content-type": "multipart/form-data; boundary=abc",
                                               "content-length": str(80 * 64 * 1024)})
    status, answer = _call(gateway.app, scope, body)
    assert status == 401 and "đăng nhập" in answer["detail"].lower()
    assert body.taken == 0


def test_a_30_mb_legal_upload_is_refused_413_before_it_is_read(gateway):
    body = Body(chunks=480)
    scope = _scope("/api/v1/kb/legal/upload", {"content-type": "multipart/form-data; boundary=abc",
                                               "content-length": str(30 * MB)})
    status, answer = _call(gateway.app, scope, body)
    assert status == 413 and answer["kind"] == "too_large" and answer["stored"] is False
    assert "20 MB" in answer["detail"] and body.taken == 0


def _docx(parts: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _zip_bomb() -> bytes:
    """A few kilobytes that unpack into 20 MB of zeros (ratio about 1000:1)."""
    return _docx({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"\0" * (20 * MB)})


def test_a_docx_zip_bomb_upload_gets_the_vietnamese_422_and_nothing_is_stored(gateway):
    sign_in(gateway, "canbo", PASSWORD)
    bomb = _zip_bomb()
    assert len(bomb) < 100 * 1024
    response = gateway.post("/api/v1/kb/legal/upload", files={"file": ("bom.docx", bomb, "application/octet-stream")})
    assert response.status_code == 422, response.text
    assert response.json()["stored"] is False and "giải ra quá lớn" in response.json()["detail"]
    assert _legal_documents(gateway.database_url) == 0


def test_ingest_refuses_a_zip_bomb_and_a_docx_over_the_total_cap(tmp_path, database_url, monkeypatch):
    bomb = tmp_path / "bom.docx"
    bomb.write_bytes(_zip_bomb())
    [outcome] = ingest_legal_files(database_url, [bomb])
    assert not outcome.ok and "giải ra quá lớn" in outcome.error
    # many parts that each compress normally but add up past the cap
    monkeypatch.setattr(ingest, "MAX_UNCOMPRESSED_BYTES", 2 * MB)
    random_parts = {f"word/media/image{i}.png": os.urandom(MB) for i in range(3)}  # 3 × 1 MB, incompressible
    with pytest.raises(LegalFileError, match="giải ra quá lớn"):
        check_docx(_docx(random_parts), "nhieu-anh.docx")
    assert _legal_documents(database_url) == 0


def test_an_ordinary_docx_passes_the_check(tmp_path):
    docx = pytest.importorskip("docx")
    document = docx.Document()
    for number in range(1, 200):
        document.add_paragraph(f"Điều {number}. Quy định số {number}: " + "nội dung lặp lại " * 40)
    path = tmp_path / "nghi-dinh.docx"
    document.save(str(path))
    check_docx(path)  # no exception
    check_docx(b"not a zip at all", "hong.docx")  # left to the parser to refuse
