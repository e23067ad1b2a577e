"""``thanh_phan_ho_so``: the documents a dossier holds, with their templates and copies."""

from __future__ import annotations

import re
from collections.abc import Iterator

from knowledge_base.dichvucong.tidy import one_line, tidy_text
from knowledge_base.schema import RequiredDocument

DOCUMENT_HEADER = "Tên giấy tờMẫu đơn, tờ khaiSố lượng"

# The quantity cell: one digit then "bản chính" (",N bản sao"), glued to the next
# row (or to "." and the next row); in prose ("01 bản chính hoặc…", "…: 01 bản
# chính.") the words are followed by space, punctuation or the end of a sentence.
_QUANTITY = re.compile(
    r"(?P<original>\d) bản chính(?:,(?P<copies>\d) bản sao)?(?![\s;:)/]|[.,](?:[\d\s]|$))"
    r"|(?<!\d)(?P<only_copies>\d) bản sao(?![\s;:)/]|[.,](?:[\d\s]|$))"
)
_TEMPLATE_EXT = re.compile(r"\.(?:docx|doc|pdf|xlsx|xls|rtf|odt|zip|rar|DOCX|DOC|PDF|XLSX|XLS)(?![a-z])")
_BULLET = re.compile(r"^(?:[-+*•\uf0fc\uf0d8\uf0b7–]+\s*)+")
_MAX_TEMPLATE_CHARS = 150


def parse_documents(text: str) -> list[RequiredDocument]:
    """Required documents from ``thanh_phan_ho_so``; see :func:`parse_documents_with_warnings`."""
    return parse_documents_with_warnings(text)[0]


def parse_documents_with_warnings(text: str) -> tuple[list[RequiredDocument], list[str]]:
    """Required documents and what could not be read.

    ``text`` holds one or more groups ``<group title>Tên giấy tờMẫu đơn, tờ khaiSố lượng``
    followed by rows ``<name>[<template file>]<N bản chính[,M bản sao]>``. The group
    title ("Giấy tờ phải nộp", "Trường hợp ủy quyền…") goes into each document's
    ``note``. A row "0 bản chính" (an explanatory line, nothing to hand in) gets
    ``copies=0``.
    """
    text = tidy_text(text)
    warnings: list[str] = []
    documents: list[RequiredDocument] = []
    if not text:
        return documents, warnings
    parts = text.split(DOCUMENT_HEADER)
    if len(parts) == 1:
        parts = ["", parts[0]]
    title = _group_title(parts[0])
    for index, part in enumerate(parts[1:], start=1):
        last = index == len(parts) - 1
        position = 0
        for match in _QUANTITY.finditer(part):
            row = part[position : match.start()]
            position = match.end()
            document = _document_of(row, match, title)
            if document is not None:
                documents.append(document)
        tail = part[position:].strip()
        if last:
            if tail.strip(" -+*:;.\n"):
                warnings.append(
                    f"thành phần hồ sơ: bỏ qua đoạn cuối không có số lượng: '{one_line(tail)[:80]}'"
                )
        else:
            title = _group_title(tail)
    if not documents and text.strip(" -"):
        warnings.append("không đọc được giấy tờ nào trong mục Thành phần hồ sơ")
    return documents, warnings


def _group_title(text: str) -> str:
    title = one_line(text).strip(" -*:")
    return "" if not title or set(title) <= set("-") else title


def _document_of(row: str, quantity: re.Match[str], title: str) -> RequiredDocument | None:
    name, template = _split_template(one_line(row))
    name = _BULLET.sub("", name.lstrip(" .,;")).strip(" ;")
    if not name and not template:
        return None
    if quantity["only_copies"] is not None:
        copies, original, extra = int(quantity["only_copies"]), False, 0
    else:
        originals = int(quantity["original"])
        extra = int(quantity["copies"] or 0)
        if originals > 0:
            copies, original = originals, True
        elif extra > 0:
            copies, original, extra = extra, False, 0
        else:
            copies, original = 0, None
    note_parts = [title] if title else []
    if extra:
        note_parts.append(f"kèm {extra} bản sao")
    return RequiredDocument(
        name=name or template,
        copies=copies,
        original=original,
        form=template,
        note="; ".join(note_parts),
    )


def _split_template(row: str) -> tuple[str, str]:
    """``(document name, template file names)`` from "…theo mẫuMẫu TP-LS-02.docx"."""
    first = _TEMPLATE_EXT.search(row)
    if first is None:
        return row, ""
    last_end = [m.end() for m in _TEMPLATE_EXT.finditer(row)][-1]
    start = next(
        (i for i in _template_starts(row, first.start()) if first.end() - i <= _MAX_TEMPLATE_CHARS),
        None,
    )
    if start is None:  # no visible join ("…thức ăn chăn nuôibáo cáo.pdf"): keep the name whole
        return (row[: first.start()] + " " + row[last_end:]).strip(), ""
    name = (row[:start] + " " + row[last_end:]).strip()
    files, cursor = [], start
    for extension in _TEMPLATE_EXT.finditer(row, start, last_end):
        files.append(row[cursor : extension.end()].strip(" ;"))
        cursor = extension.end()
    return name, "; ".join(f for f in files if f)


def _template_starts(row: str, end: int) -> Iterator[int]:
    """Positions before ``end`` where a template file name may start, glued to the name."""
    for i in range(1, end):
        before, here = row[i - 1], row[i]
        if here.isspace():
            continue
        if before in ";)" and here.isalnum():  # "…theo mẫu;Mẫu số 10.docx", "…(bản sao)Phụ lục 12.4.docx"
            yield i
        elif before == "." and here.isalnum() and not (here.isdigit() and row[i - 2 : i - 1].isdigit()):
            yield i  # "…NĐ-CP.Mau01.docx", "…đường sắt.2.3. Tong hop.docx"
        elif here.isupper() and (before.islower() or before.isdigit()):
            yield i  # "…khoáng sảnMau 09.docx", "…25/01/2026Mau don.docx"
        elif here.isdigit() and before.islower() and row[i - 2 : i - 1].islower():
            yield i  # "…đối với cá nhân7-Mẫu NA6.doc", "…theo mẫu1.000312.docx"
        elif here.isalnum() and before == "," and not row[i - 2 : i - 1].isdigit():
            yield i  # "…NƠI ĐĂNG KÝ THƯỜNG TRÚ,33-Mẫu số 02.doc"
        elif (
            here.isupper()
            and before.isupper()
            and row[i + 1 : i + 3].isalpha()
            and row[i + 1 : i + 3].islower()
        ):
            yield i  # "…NĐ-CPMau51.docx"
