"""Answers about a procedure, written for a screen: short, plain, with the source.

Plain functions of a :class:`~knowledge_base.schema.Procedure`; no Rasa here. The text is
tidied for people (:mod:`knowledge_base.rendering`) and cut into pages that fit the channel
(its :class:`~channels.base.Capabilities` ``max_text``, or :data:`KIOSK_SCREEN`); a page that
does not end the answer carries a «Xem thêm» button for the next one. Where the national
catalogue also describes a procedure the centre wrote, its record is one tap away
(«Chi tiết theo Cổng Dịch vụ công»), with its source. Every sentence a citizen reads is in
the message catalogue (``answer.*`` in ``knowledge_base/locale``).

The fee and the overview also say the centre's fee table (:mod:`knowledge_base.fee_table`, read by
:mod:`actions.fees`), as the dossier is charged from it (:func:`motcua.payments.fees.quote_fee`): a
rule without condition replaces the catalogue's fee, a rule for late filing is said after it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from actions.legal_links import DocumentLink
from actions.procedures import intent_button
from channels.base import Capabilities
from knowledge_base.fee_table import FeeRule
from knowledge_base.messages import render
from knowledge_base.precedence import CATALOGUE_SOURCE
from knowledge_base.rendering import (
    describe_document,
    describe_time,
    display_name,
    garbled_lines,
    is_conditional,
    paginate,
    sentence,
    tidy,
    without_stop,
)
from knowledge_base.schema import ChannelKind, Procedure, SubmissionChannel
from knowledge_base.text import fold
from retrieval.fusion import DEFAULT_PREFERRED_LEVELS

KIOSK_SCREEN = Capabilities(max_text=900)
"""What one kiosk screen shows comfortably; also the page of a channel without a limit of its own."""


def say(key: str, **params: Any) -> str:
    """The sentence ``answer.<key>`` of the message catalogue (``knowledge_base/locale``)."""
    return render("answer." + key, **params)


class Aspect:
    OVERVIEW = "overview"
    DOCUMENTS = "documents"
    FEE = "fee"
    TIME = "time"
    SUBMISSION = "submission"
    LEGAL_BASIS = "legal_basis"
    STEPS = "steps"


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
    pages: int = 1  # how many pages the whole answer has on this channel


@dataclass(frozen=True)
class AnswerRef:
    """Which answer a button asks for: a procedure, an aspect, a page, and whether the portal's record.

    It travels as the ``procedure_code`` entity of a button's payload, ``"1.001193|documents|2|cong"``;
    a bare code is the first page of the aspect the intent asks.
    """

    code: str
    aspect: str = ""
    part: int = 1
    portal: bool = False

    def entity(self) -> str:
        parts = [self.code, self.aspect or Aspect.OVERVIEW, str(self.part)]
        return "|".join([*parts, "cong"] if self.portal else parts)

    def payload(self) -> str:
        return f'/ask_procedure{{"procedure_code": "{self.entity()}"}}'

    @classmethod
    def parse(cls, value: str) -> AnswerRef:
        code, *rest = [part.strip() for part in str(value).split("|")]
        aspect = rest[0] if rest and rest[0] in _WRITERS else ""
        part = int(rest[1]) if len(rest) > 1 and rest[1].isdigit() and int(rest[1]) > 0 else 1
        return cls(code, aspect, part, portal=len(rest) > 2 and rest[2] == "cong")


def cite(procedure: Procedure, portal: bool = False) -> str:
    key = "cite_portal" if portal or procedure.source == CATALOGUE_SOURCE else "cite"
    return say(key, code=procedure.code, name=display_name(procedure.name))


def place(p: Procedure) -> str:
    return without_stop(p.receiving_agency) or without_stop(p.competent_agency) or say("center")


def _documents_split(p: Procedure) -> tuple[list, list]:
    # Rows with no copies are the portal's explanations, not papers to bring.
    documents = [d for d in p.documents if d.copies > 0]
    return [d for d in documents if not is_conditional(d)], [d for d in documents if is_conditional(d)]


def _documents(p: Procedure, detail: bool = False) -> list[str]:
    name = display_name(p.name)
    required, optional = _documents_split(p)
    notes = [without_stop(d.name) for d in p.documents if d.copies == 0] if detail else []
    if not required and not optional and not notes:
        return [say("documents_none", name=name)]
    if not optional:
        lines = [say("documents_all", name=name)] + [f"• {describe_document(d)}" for d in required]
    else:
        lines = [say("documents_grouped", name=name, required=len(required), optional=len(optional))]
        if required:
            lines.append(say("documents_required", count=len(required)))
            lines += [f"• {describe_document(d)}" for d in required]
        lines.append(say("documents_optional", count=len(optional)))
        lines += [f"• {describe_document(d)}" for d in optional]
    if notes:
        lines.append(say("documents_notes"))
        lines += [f"– {note}" for note in notes if note]
    return lines


def _document_count(p: Procedure) -> str:
    required, optional = _documents_split(p)
    if not required and not optional:
        return ""
    if not optional:
        return say("documents_count", count=len(required))
    return say("documents_count_grouped", required=len(required), optional=len(optional))


def _fee_of(channel: SubmissionChannel, rule: FeeRule | None = None) -> str:
    """The fee of one way of submission: the centre's rule without condition when there is one
    (what the dossier is charged), else the catalogue's."""
    if rule is None:
        return without_stop(channel.fee.describe()) if channel.fee else say("fee_unknown")
    fee = say("fee_center", fee=_money(rule.amount_for(channel.kind)))
    words = channel.fee is not None and not channel.fee.free and channel.fee.amount is None
    return f"{fee} ({without_stop(channel.fee.note)})" if words and channel.fee and channel.fee.note else fee


def _money(amount: int) -> str:
    return render("fact.fee.free") if amount == 0 else render("fact.fee.amount_vnd", amount=f"{amount:,}".replace(",", "."))


def _rule_amounts(rule: FeeRule, p: Procedure) -> str:
    """«8.000 đồng (trực tiếp, dịch vụ bưu chính), 4.000 đồng (trực tuyến)», or one amount when all agree."""
    kinds = [c.kind for c in p.channels] or [ChannelKind.IN_PERSON]
    by_amount: dict[int, list[str]] = {}
    for kind in kinds:
        by_amount.setdefault(rule.amount_for(kind), []).append(kind.label.lower())
    if len(by_amount) == 1:
        return _money(next(iter(by_amount)))
    return ", ".join(f"{_money(amount)} ({', '.join(labels)})" for amount, labels in by_amount.items())


def _fee(p: Procedure, rules: Sequence[FeeRule] = ()) -> list[str]:
    name = display_name(p.name)
    base = next((r for r in rules if r.when_late is None), None)
    fees = {_fee_of(c, base) for c in p.channels}
    if not fees and base is not None:
        fees = {say("fee_center", fee=_money(base.amount))}
    if not fees:
        lines = [say("fee_none", name=name)]
    elif len(fees) == 1:
        lines = [sentence(say("fee_one", name=name, fee=fees.pop()))]
    else:
        lines = [say("fee_many", name=name)]
        lines += [f"• {c.kind.label}: {_fee_of(c, base) if c.fee or base else say('fee_unknown_short')}"
                  for c in p.channels]
    for rule in rules:
        if rule.when_late is not None:
            lines.append(sentence(say("fee_center_late", name=without_stop(rule.name), days=rule.when_late.days,
                                      fees=_rule_amounts(rule, p))))
    return lines


def _time_of(channel) -> str:
    return describe_time(channel.time, channel.description) or say("time_no_unit")


def _time(p: Procedure) -> list[str]:
    name = display_name(p.name)
    times = [(c.kind.label, _time_of(c)) for c in p.channels if c.time]
    if not times:
        return [say("time_none", name=name)]
    if len({t for _, t in times}) == 1:
        return [sentence(say("time_one", name=name, time=times[0][1]))]
    return [say("time_many", name=name)] + [f"• {k}: {t}" for k, t in times]


def _submission(p: Procedure, local: str = "") -> list[str]:
    """How and where to submit; for a procedure done at commune level, ``local``: the citizen's own centre."""
    kinds = ", ".join(c.kind.label.lower() for c in p.channels) or say("in_person")
    lines = [say("submission", name=display_name(p.name), kinds=kinds),
             sentence(say("submission_place", place=place(p)))]
    # done at commune level (the catalogue's words), and received by the centre, not by the commune police
    # («Công an xã nơi dự kiến tạm trú»: naming the centre there would send the citizen to the wrong door)
    if local and set(p.levels) & set(DEFAULT_PREFERRED_LEVELS) and " cong an " not in f" {fold(place(p))} ":
        lines.append(say("submission_local", center=local.rstrip(". ")))
    return lines


def _legal_basis(p: Procedure, links: Sequence[DocumentLink] | None = None) -> list[str]:
    """The documents; with ``links`` (see :mod:`actions.legal_links`), the articles that apply and where to read them."""
    name = display_name(p.name)
    if not p.legal_basis:
        return [say("legal_none", name=name)]
    lines = [say("legal_head", name=name)]
    if not links:
        lines += [f"• {without_stop(r.title)} ({r.number})" if r.title else f"• {r.number}" for r in p.legal_basis[:6]]
        return lines
    for link in links:
        label = link.label or link.title or link.number
        lines.append(f"• {label}" if link.number in label else f"• {label} ({link.number})")
        for article in link.articles:
            lines.append(f"   – {article.heading}: {article.url}")
    return lines


def _steps(p: Procedure, detail: bool = False) -> list[str]:
    name = display_name(p.name)
    steps = [tidy(s).lstrip("-+* ") for s in p.steps]
    steps = [s for s in steps if s.strip("-+*. ")]
    if not steps:
        return [say("steps_none", name=name)]
    garbled = garbled_lines(steps)
    if not detail and len(garbled) == len(steps):
        return [say("steps_all_garbled", name=name)]
    lines = [say("steps_head", name=name)]
    for index, step in enumerate(steps):
        if index in garbled and not detail:
            continue
        mark = f" {say('steps_garbled_mark')}" if index in garbled else ""
        lines.append(f"• {sentence(step)}{mark}")
    if garbled and not detail:
        lines.append(say("steps_garbled"))
    return lines


def _overview(p: Procedure, rules: Sequence[FeeRule] = ()) -> list[str]:
    lines = [say("overview_name", name=display_name(p.name)),
             sentence(say("overview_place", place=place(p)))]
    if p.channels:
        lines += _time(p) + _fee(p, rules)
    count = _document_count(p)
    return lines + ([count] if count else [])


_WRITERS: dict[str, Callable[..., list[str]]] = {
    Aspect.OVERVIEW: _overview, Aspect.DOCUMENTS: _documents, Aspect.FEE: _fee, Aspect.TIME: _time,
    Aspect.SUBMISSION: _submission, Aspect.LEGAL_BASIS: _legal_basis, Aspect.STEPS: _steps,
}

_NEXT = [
    (Aspect.DOCUMENTS, "documents_button", "/ask_documents"),
    (Aspect.FEE, "fee_button", "/ask_fee"),
    (Aspect.TIME, "time_button", "/ask_processing_time"),
]


def body_lines(procedure: Procedure, aspect: str, legal_links: Sequence[DocumentLink] | None = None,
               *, detail: bool = False, fee_rules: Sequence[FeeRule] = (), local: str = "") -> list[str]:
    """The lines of one aspect's answer, before it is cut into pages (no source line).

    ``fee_rules``: the centre's fee-table rules of the procedure (:meth:`FeeTable.rules_for
    <knowledge_base.fee_table.FeeTable.rules_for>`), said by the fee and the overview. ``local``: the
    citizen's centre in one line (name — address), said with where to submit a commune procedure.
    """
    if aspect not in _WRITERS:
        raise ValueError(f"unknown aspect {aspect!r}")
    if aspect == Aspect.LEGAL_BASIS:
        return _legal_basis(procedure, legal_links)
    if aspect in (Aspect.FEE, Aspect.OVERVIEW):
        return _WRITERS[aspect](procedure, fee_rules)
    if aspect in (Aspect.DOCUMENTS, Aspect.STEPS):
        return _WRITERS[aspect](procedure, detail)
    if aspect == Aspect.SUBMISSION:
        return _submission(procedure, local)
    return _WRITERS[aspect](procedure)


def answer(
    procedure: Procedure,
    aspect: str,
    legal_links: Sequence[DocumentLink] | None = None,
    *,
    limit: int = KIOSK_SCREEN.max_text,
    part: int = 1,
    catalogue: Procedure | None = None,
    portal: bool = False,
    fee_rules: Sequence[FeeRule] = (),
    local: str = "",
    has_form: bool = True,
) -> Answer:
    """Page ``part`` of the answer about one aspect of ``procedure``, with the next natural steps as buttons.

    ``legal_links``: the legal basis linked to the library's articles (legal-basis aspect).
    ``limit``: the channel's characters per message. ``catalogue``: the national catalogue's own
    record of the procedure, offered as «Chi tiết theo Cổng Dịch vụ công» when the centre's words
    are shown. ``portal``: show that record (``procedure`` is then the catalogue's) in full detail,
    as the portal says it (without ``fee_rules``). ``fee_rules``: the centre's fee-table rules of the
    procedure (see :func:`body_lines`). ``local``: the citizen's centre, said with where to submit.
    ``has_form``: the assistant has an electronic form for the procedure («Điền tờ khai» is offered only then).
    """
    if limit <= 0:
        raise ValueError(f"limit must be positive, got {limit}")
    lines = body_lines(procedure, aspect, legal_links, detail=portal, fee_rules=() if portal else fee_rules,
                       local=local)
    if portal:
        lines = [say("portal_intro"), *lines]
    source = cite(procedure, portal)
    pages = paginate(lines, max(limit - len(source) - 1, 1))
    index = min(max(part, 1), len(pages)) - 1
    text = f"{pages[index]}\n{source}"
    buttons: list[dict[str, str]] = []
    if index + 1 < len(pages):
        more = AnswerRef(procedure.code, aspect, index + 2, portal)
        buttons.append({"title": say("more"), "payload": more.payload()})
    if catalogue is not None and not portal and procedure.source != CATALOGUE_SOURCE:
        detail = AnswerRef(procedure.code, aspect, 1, portal=True)
        buttons.append({"title": say("portal_button"), "payload": detail.payload()})
    buttons += [{"title": say(title), "payload": payload} for a, title, payload in _NEXT if a != aspect]
    if has_form:
        buttons.append(intent_button("fill_form"))
    buttons.append(intent_button("request_queue_number"))
    return Answer(text, buttons, len(pages))
