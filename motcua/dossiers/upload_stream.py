"""Reading a multipart upload as it arrives, with byte caps and a check before the first file.

Starlette's ``request.form()`` reads the whole body (spooling files to disk) before the
route can check who is sending; a chunked upload has no Content-Length to refuse early.
Here the body is parsed chunk by chunk (python-multipart's streaming parser):

- the whole body is capped (``max_total``) and so is each file (``max_file_bytes``): reading
  stops at the first byte over, whatever the headers claimed;
- ``before_first_file`` is awaited with the text fields received so far as soon as the first
  file part begins (or at the end when there is none), so an applicant check happens before
  any file is read beyond the chunk already in memory.

No web framework: the caller hands an async iterator of byte chunks (``request.stream()``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

from python_multipart.multipart import MultipartParser, parse_options_header

from knowledge_base.messages import render
from motcua.dossiers.attachments import MAX_FILE_BYTES, MAX_FILES, Upload, too_large
from motcua.dossiers.errors import AttachmentRejected

__all__ = ["MAX_TOTAL_BYTES", "StreamedForm", "read_multipart"]

MAX_TOTAL_BYTES = MAX_FILES * MAX_FILE_BYTES + 1024 * 1024
"""The largest upload body: every file at its cap, plus room for the fields and boundaries."""


def _malformed() -> AttachmentRejected:
    """The error for a body that is not ``multipart/form-data`` (or breaks its limits on parts)."""
    return AttachmentRejected(render("upload.malformed"))


@dataclass
class StreamedForm:
    """What was read: the files of field ``files`` and the text fields (first value of each)."""

    files: list[Upload] = field(default_factory=list)
    fields: dict[str, str] = field(default_factory=dict)


@dataclass
class _Part:
    headers: dict[str, str] = field(default_factory=dict)
    name: str = ""
    filename: str | None = None
    data: bytearray = field(default_factory=bytearray)


class _Collector:
    """python-multipart callbacks that fill a :class:`StreamedForm` within the caps."""

    def __init__(self, max_file_bytes: int, max_files: int, max_fields: int, max_field_bytes: int):
        self.form = StreamedForm()
        self.max_file_bytes, self.max_files = max_file_bytes, max_files
        self.max_fields, self.max_field_bytes = max_fields, max_field_bytes
        self.part = _Part()
        self.field_name = b""
        self.field_value = b""
        self.parts = 0
        self.file_started = False

    def callbacks(self) -> dict:
        return {
            "on_part_begin": self.on_part_begin, "on_header_field": self.on_header_field,
            "on_header_value": self.on_header_value, "on_header_end": self.on_header_end,
            "on_headers_finished": self.on_headers_finished, "on_part_data": self.on_part_data,
            "on_part_end": self.on_part_end,
        }  # fmt: skip

    def on_part_begin(self) -> None:
        self.parts += 1
        if self.parts > self.max_files + self.max_fields:
            raise _malformed()
        self.part = _Part()

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self.field_name += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self.field_value += data[start:end]

    def on_header_end(self) -> None:
        self.part.headers[self.field_name.decode("latin-1").lower()] = self.field_value.decode("utf-8", "replace")
        self.field_name = self.field_value = b""

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self.part.headers.get("content-disposition", ""))
        self.part.name = options.get(b"name", b"").decode("utf-8", "replace")
        filename = options.get(b"filename")
        self.part.filename = filename.decode("utf-8", "replace") if filename is not None else None
        if self.part.filename is not None:
            self.file_started = True

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        part = self.part
        part.data += data[start:end]
        if part.filename is not None and len(part.data) > self.max_file_bytes:
            raise too_large(part.filename, len(part.data), self.max_file_bytes)
        if part.filename is None and len(part.data) > self.max_field_bytes:
            raise AttachmentRejected(render("upload.field_too_long", name=part.name[:40]))

    def on_part_end(self) -> None:
        part = self.part
        if part.filename is None:
            if len(self.form.fields) >= self.max_fields:
                raise _malformed()
            self.form.fields.setdefault(part.name, part.data.decode("utf-8", "replace"))
        elif part.name == "files":
            if len(self.form.files) >= self.max_files:
                raise AttachmentRejected(render("upload.too_many_streamed", limit=self.max_files), kind="too_large")
            self.form.files.append(Upload(part.filename, bytes(part.data)))


async def read_multipart(
    content_type: str,
    chunks: AsyncIterator[bytes],
    *,
    before_first_file: Callable[[dict[str, str]], Awaitable[None]] | None = None,
    max_total: int = MAX_TOTAL_BYTES,
    max_file_bytes: int = MAX_FILE_BYTES,
    max_files: int = MAX_FILES,
    max_fields: int = 20,
    max_field_bytes: int = 4096,
) -> StreamedForm:
    """Parse a ``multipart/form-data`` body from ``chunks`` within the caps.

    Raises :class:`AttachmentRejected` (``too_large`` over a cap, ``invalid`` when it is not
    multipart); whatever ``before_first_file`` raises stops the reading.
    """
    kind, options = parse_options_header(content_type or "")
    boundary = options.get(b"boundary")
    if kind != b"multipart/form-data" or not boundary:
        raise _malformed()
    collector = _Collector(max_file_bytes, max_files, max_fields, max_field_bytes)
    try:
        parser = MultipartParser(boundary, collector.callbacks())
    except ValueError:
        raise _malformed() from None
    checked = before_first_file is None
    total = 0
    async for chunk in chunks:
        total += len(chunk)
        if total > max_total:
            raise too_large(render("upload.whole_upload"), total, max_total)
        try:
            parser.write(chunk)
        except AttachmentRejected:
            raise
        except Exception:  # the parser's own errors: not a multipart body
            raise _malformed() from None
        if not checked and collector.file_started:
            checked = True
            await before_first_file(dict(collector.form.fields))
    try:
        parser.finalize()
    except Exception:
        raise _malformed() from None
    if not checked:
        await before_first_file(dict(collector.form.fields))
    return collector.form
