"""Catalogue files (``.json``, ``.jsonl``, ``.jsonl.gz``, ``.json.gz``), read record by record."""

from __future__ import annotations

import gzip
import json
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from knowledge_base.dichvucong.records import RecordError


class CatalogueFileError(ValueError):
    """A whole catalogue file cannot be read: missing, empty, truncated or corrupt."""


_SUFFIXES = (".jsonl.gz", ".json.gz", ".jsonl", ".json")


def read_records(path: str | Path) -> Iterator[tuple[int, dict[str, Any] | RecordError]]:
    """Records of a catalogue file, as ``(line number, record or RecordError)``.

    Accepts ``.json`` (a list of objects or one object; the "line number" is then the
    1-based position in the list), ``.jsonl``, ``.jsonl.gz`` and ``.json.gz``. A bad
    line (not JSON, not an object, not UTF-8) is yielded as a :class:`RecordError`
    and reading goes on. Raises :class:`CatalogueFileError` *before anything is
    yielded* — at the call, since the whole file is checked first — when the file is
    missing or unreadable, empty, or a truncated/corrupt gzip, so an importer never
    writes half a catalogue.
    """
    path = Path(path)
    kind = next((suffix for suffix in _SUFFIXES if path.name.lower().endswith(suffix)), None)
    if kind is None:
        raise CatalogueFileError(
            f"không nhận dạng được định dạng tệp {path.name}: cần .json, .jsonl, .jsonl.gz hoặc .json.gz"
        )
    data = _read_bytes(path, gzipped=kind.endswith(".gz"))
    if not data.strip():
        raise CatalogueFileError(f"tệp danh mục {path.name} rỗng, không có thủ tục nào")
    if kind.startswith(".jsonl"):
        return _jsonl_records(data)
    return _json_records(_json_document(data, path.name))


def _read_bytes(path: Path, gzipped: bool) -> bytes:
    try:
        raw = path.read_bytes()
    except FileNotFoundError as error:
        raise CatalogueFileError(f"không tìm thấy tệp danh mục {path}") from error
    except OSError as error:  # a directory, no permission, I/O error
        raise CatalogueFileError(f"không đọc được tệp danh mục {path}: {error.strerror or error}") from error
    if not gzipped:
        return raw
    if not raw:
        raise CatalogueFileError(f"tệp nén {path.name} rỗng, không có thủ tục nào")
    try:
        return gzip.decompress(raw)
    except (EOFError, gzip.BadGzipFile, zlib.error, OSError) as error:
        raise CatalogueFileError(
            f"tệp nén {path.name} bị cắt cụt hoặc hỏng ({error}); hãy tải lại tệp, chưa nhập thủ tục nào"
        ) from error


def _jsonl_records(data: bytes) -> Iterator[tuple[int, dict[str, Any] | RecordError]]:
    for number, line in enumerate(data.split(b"\n"), start=1):
        if number == 1:
            line = line.removeprefix(b"\xef\xbb\xbf")
        if not line.strip():
            continue
        yield number, _record_of(line, f"dòng {number}")


def _json_document(data: bytes, name: str) -> list[Any]:
    try:
        document = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError as error:
        raise CatalogueFileError(f"tệp {name} không phải văn bản UTF-8 ({error.reason})") from error
    except json.JSONDecodeError as error:
        raise CatalogueFileError(
            f"tệp {name} không phải JSON hợp lệ (dòng {error.lineno}, cột {error.colno}: {error.msg})"
        ) from error
    items = document if isinstance(document, list) else [document]
    if not items:
        raise CatalogueFileError(f"tệp danh mục {name} là danh sách rỗng, không có thủ tục nào")
    return items


def _json_records(items: list[Any]) -> Iterator[tuple[int, dict[str, Any] | RecordError]]:
    for number, item in enumerate(items, start=1):
        if isinstance(item, dict):
            yield number, item
        else:
            yield (
                number,
                RecordError(
                    f"mục {number}: bản ghi phải là một đối tượng JSON, nhận được {_json_type(item)}"
                ),
            )


def _record_of(line: bytes, where: str) -> dict[str, Any] | RecordError:
    try:
        value = json.loads(line.decode("utf-8"))
    except UnicodeDecodeError:
        return RecordError(f"{where}: không phải văn bản UTF-8")
    except json.JSONDecodeError as error:
        return RecordError(f"{where}: không phải JSON hợp lệ ({error.msg}, cột {error.colno})")
    if not isinstance(value, dict):
        return RecordError(f"{where}: bản ghi phải là một đối tượng JSON, nhận được {_json_type(value)}")
    return value


def _json_type(value: Any) -> str:
    return {list: "mảng", str: "chuỗi", int: "số", float: "số", bool: "true/false", type(None): "null"}.get(
        type(value), type(value).__name__
    )
