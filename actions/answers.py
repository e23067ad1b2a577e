"""Answers about a procedure, written for a phone screen: short, plain, with the source.

Plain functions of a :class:`~knowledge_base.schema.Procedure`; no Rasa here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from actions.legal_links import DocumentLink
from knowledge_base.schema import Procedure

MAX_DOCUMENTS = 8


class Aspect:
    OVERVIEW = "overview"
    DOCUMENTS = "documents"
    FEE = "fee"
    TIME = "time"
    SUBMISSION = "submission"
    LEGAL_BASIS = "legal_basis"


INTENT_ASPECT = {
    "ask_procedure": Aspect.OVERVIEW,
    "ask_documents": Aspect.DOCUMENTS,
    "ask_fee": Aspect.FEE,
    "ask_processing_time": Aspect.TIME,
    "ask_submission": Aspect.SUBMISSION,
    "ask_legal_basis": Aspect.LEGAL_BASIS,
}


@dataclass(frozen=True)
class Answer:
    text: str
    buttons: list[dict[str, str]]


def cite(procedure: Procedure) -> str:
    return f"(Nguồn: thủ tục {procedure.code} — {procedure.name})"


def _documents(p: Procedure) -> str:
    # Rows with no copies are the portal's explanations, not papers to bring.
    documents = [d for d in p.documents if d.copies > 0]
    if not documents:
        return f"Thủ tục «{p.name}» chưa có danh sách giấy tờ trong dữ liệu. Xin hỏi cán bộ tại quầy."
    lines = [f"Hồ sơ «{p.name}» gồm:"]
    for document in documents[:MAX_DOCUMENTS]:
        lines.append(f"• {document.describe()}")
    if len(documents) > MAX_DOCUMENTS:
        lines.append(f"… và {len(documents) - MAX_DOCUMENTS} giấy tờ khác (xem đầy đủ tại quầy).")
    return "\n".join(lines)


def _fee(p: Procedure) -> str:
    fees = {(c.fee.describe() if c.fee else "Chưa có thông tin lệ phí") for c in p.channels}
    if not fees:
        return f"Chưa có thông tin lệ phí của thủ tục «{p.name}»."
    if len(fees) == 1:
        return f"Lệ phí «{p.name}»: {fees.pop()}."
    lines = [f"Lệ phí «{p.name}»:"]
    lines += [f"• {c.kind.label}: {c.fee.describe() if c.fee else 'chưa có thông tin'}" for c in p.channels]
    return "\n".join(lines)


def _time(p: Procedure) -> str:
    times = [(c.kind.label, c.time.describe()) for c in p.channels if c.time]
    if not times:
        return f"Chưa có thông tin thời hạn giải quyết của thủ tục «{p.name}»."
    if len({t for _, t in times}) == 1:
        return f"Thời hạn giải quyết «{p.name}»: {times[0][1]}."
    return "\n".join([f"Thời hạn giải quyết «{p.name}»:"] + [f"• {k}: {t}" for k, t in times])


def _submission(p: Procedure) -> str:
    where = p.receiving_agency or p.competent_agency or "Trung tâm Phục vụ hành chính công"
    kinds = ", ".join(c.kind.label.lower() for c in p.channels) or "trực tiếp"
    return f"Ông/bà có thể nộp hồ sơ «{p.name}» theo hình thức: {kinds}.\nNơi nhận: {where}."


def _legal_basis(p: Procedure, links: Sequence[DocumentLink] | None = None) -> str:
    """The documents; with ``links`` (see :mod:`actions.legal_links`), the articles that apply and where to read them."""
    if not p.legal_basis:
        return f"Chưa có thông tin căn cứ pháp lý của thủ tục «{p.name}»."
    lines = [f"Căn cứ pháp lý của «{p.name}»:"]
    if not links:
        lines += [f"• {r.title} ({r.number})" if r.title else f"• {r.number}" for r in p.legal_basis[:6]]
        return "\n".join(lines)
    for link in links:
        name = link.label or link.title or link.number
        lines.append(f"• {name}" if link.number in name else f"• {name} ({link.number})")
        for article in link.articles:
            lines.append(f"   – {article.heading}: {article.url}")
    return "\n".join(lines)


def _overview(p: Procedure) -> str:
    parts = [f"Thủ tục «{p.name}»."]
    if p.receiving_agency or p.competent_agency:
        parts.append(f"Nơi giải quyết: {p.receiving_agency or p.competent_agency}.")
    if p.channels:
        parts.append(_time(p))
        parts.append(_fee(p))
    parts.append(f"Hồ sơ cần {len(p.documents)} loại giấy tờ." if p.documents else "")
    return "\n".join(x for x in parts if x)


_WRITERS = {
    Aspect.OVERVIEW: _overview, Aspect.DOCUMENTS: _documents, Aspect.FEE: _fee, Aspect.TIME: _time,
    Aspect.SUBMISSION: _submission, Aspect.LEGAL_BASIS: _legal_basis,
}

_NEXT = [
    (Aspect.DOCUMENTS, "Giấy tờ cần có", "/ask_documents"),
    (Aspect.FEE, "Lệ phí", "/ask_fee"),
    (Aspect.TIME, "Thời gian", "/ask_processing_time"),
]


def answer(procedure: Procedure, aspect: str, legal_links: Sequence[DocumentLink] | None = None) -> Answer:
    """The answer about one aspect of ``procedure``, with the next natural steps as buttons.

    ``legal_links``: the legal basis linked to the library's articles (legal-basis aspect).
    """
    if aspect not in _WRITERS:
        raise ValueError(f"unknown aspect {aspect!r}")
    body = _legal_basis(procedure, legal_links) if aspect == Aspect.LEGAL_BASIS else _WRITERS[aspect](procedure)
    text = f"{body}\n{cite(procedure)}"
    buttons = [{"title": title, "payload": payload} for a, title, payload in _NEXT if a != aspect]
    buttons.append({"title": "Điền tờ khai", "payload": "/fill_form"})
    buttons.append({"title": "Lấy số thứ tự", "payload": "/request_queue_number"})
    return Answer(text, buttons)
