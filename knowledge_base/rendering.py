"""Procedure text made readable for people: plain functions, no sentences of their own.

The national catalogue's text comes from web pages flattened into strings: names that start
with «Thủ tục», doubled stops, durations without a unit, documents that apply only in some
cases mixed with those everybody brings, and now and then a span the portal itself garbled
(a piece of one step pasted into another). These functions tidy what can be tidied, tell what
cannot, and cut a long answer into pages for a channel, never mid-word. The sentences citizens
read are the answer writer's (:mod:`actions.answers`); the few words added here (how many copies,
the template) are the message catalogue's ``answer.document_*``.
"""

from __future__ import annotations

import re

from knowledge_base.messages import render
from knowledge_base.schema import ProcessingTime, RequiredDocument, TimeUnit
from knowledge_base.text import fold

_NAME_PREFIX = re.compile(r"^\s*thủ\s+tục\s*[:\-–]?\s+", re.IGNORECASE)
_SPACES = re.compile(r"[ \t\u00a0]+")
_SPACE_BEFORE = re.compile(r"\s+([.,;:!?)])")
_STOPS = re.compile(r"\.(?:\s*\.)+")
_BULLET = re.compile(r"^[-+*•\s]*(?:\(?(?:[ivx]+|[a-zđ]|\d+)[.)]\s+)?")
_END = re.compile(r"[\s.;,:]+$")
_REPEATED = re.compile(r"\b(\w+(?: \w+){1,3}) \1\b")
_TIME_WORDS = re.compile(r"\b(thoi han|ngay lam viec|ngay|gio|thang|tuan)\b")
_NUMBER = re.compile(r"\d")

# Words that open a document needed only in some cases (text folded to ASCII).
_CONDITIONAL_OPENINGS = ("truong hop", "neu ", "doi voi ", "khi ", "(chi khi", "chi khi", "chi can khi")
_CONDITIONAL_INSIDE = ("(chi khi", "(khi ", "(neu ", "(truong hop", "trong truong hop", "(doi voi")

# Proper names the portal's scrape sometimes cuts in two: their tail without their head is garbled.
_BROKEN_NAMES = (
    re.compile(r"(?<!Trung )(?<!trung )\btâm Phục vụ hành chính"),
    re.compile(r"(?<!Ủy )(?<!Uỷ )(?<!ủy )(?<!uỷ )\bban [Nn]hân dân"),
)
_TERMINAL = tuple(".;:!?)]”\"…")


def display_name(name: str) -> str:
    """A procedure's name for people: without the catalogue's «Thủ tục» prefix, tidied, capitalised."""
    text = tidy(name)
    stripped = _NAME_PREFIX.sub("", text)
    if stripped and stripped != text:
        text = stripped[0].upper() + stripped[1:]
    return without_stop(text)


def tidy(text: str) -> str:
    """One space between words, none before punctuation, no doubled stop, no phrase said twice."""
    lines = []
    for line in str(text or "").split("\n"):
        line = _SPACES.sub(" ", line).strip()
        line = _SPACE_BEFORE.sub(r"\1", line)
        line = _STOPS.sub(".", line)
        line = _REPEATED.sub(r"\1", line)
        if line:
            lines.append(line)
    return "\n".join(lines)


def without_stop(text: str) -> str:
    """Tidied text with no closing stop, comma or colon, to sit inside a sentence."""
    return _END.sub("", tidy(text)).strip()


def sentence(text: str) -> str:
    """Tidied text ending with exactly one stop (a question or an ellipsis keeps its own)."""
    text = tidy(text).rstrip()
    if not text:
        return ""
    if text.endswith(("?", "!", "…")):
        return text
    return without_stop(text) + "."


def describe_time(time: ProcessingTime, description: str = "") -> str | None:
    """A duration with its unit («1 ngày làm việc»), or the catalogue's own sentence about the time
    (``description``) when the unit is unknown; ``None`` when neither says anything readable."""
    if time.unit != TimeUnit.UNSPECIFIED:
        return without_stop(time.describe())
    for text in (time.note, description):
        said = without_stop(text)
        if said and _TIME_WORDS.search(fold(said)) and _NUMBER.search(said):
            return said
    return None


def is_conditional(document: RequiredDocument) -> bool:
    """Whether a document is needed only in some cases («Trường hợp…», «(chỉ khi…)», «nếu…»)."""
    name, note = f"{fold(document.name, keep='(')} ", fold(document.note)
    if name.startswith(_CONDITIONAL_OPENINGS) or any(word in name for word in _CONDITIONAL_INSIDE):
        return True
    return note.startswith(("chi can khi", "chi khi", "truong hop", "neu ")) or " truong hop " in f" {note} "


def describe_document(document: RequiredDocument) -> str:
    """«Giấy chứng sinh (1 bản chính)», tidied, with its template when it has one."""
    kind = {True: "original", False: "copy", None: "any"}[document.original]
    text = render(f"answer.document_{kind}", name=without_stop(document.name), copies=document.copies)
    return render("answer.document_form", document=text, form=without_stop(document.form)) if document.form else text


def garbled_lines(lines: list[str]) -> set[int]:
    """Indexes of lines the portal garbled: a line cut mid-sentence whose rest starts the next line
    in lower case, a short fragment starting in lower case, a proper name cut in two."""
    found: set[int] = set()
    texts = [tidy(line) for line in lines]
    for index, text in enumerate(texts):
        body = _BULLET.sub("", text)
        if body and body[0].islower() and len(body.split()) < 6:
            found.add(index)
        if any(pattern.search(text) for pattern in _BROKEN_NAMES):
            found.add(index)
        following = _BULLET.sub("", texts[index + 1]) if index + 1 < len(texts) else ""
        if text and not text.endswith(_TERMINAL) and following[:1].islower():
            found.update((index, index + 1))
    return found


def cut_line(line: str, limit: int) -> list[str]:
    """``line`` in pieces of at most ``limit`` characters, cut between words."""
    if limit <= 0:
        raise ValueError(f"limit must be positive, got {limit}")
    pieces: list[str] = []
    while len(line) > limit:
        cut = line.rfind(" ", 0, limit + 1)
        if cut <= 0:  # one word longer than the page: nothing better than cutting it
            cut = limit
        pieces.append(line[:cut].rstrip())
        line = line[cut:].lstrip()
    if line:
        pieces.append(line)
    return pieces


def paginate(lines: list[str], limit: int) -> list[str]:
    """Lines packed into pages of at most ``limit`` characters, a page break only between lines
    (or, for a line longer than a page, between words). A heading (a line ending in «:») is not left
    at the foot of a page: it goes over with the first line it introduces."""
    if limit <= 0:
        raise ValueError(f"limit must be positive, got {limit}")
    pages: list[str] = []
    current = ""
    for line in lines:
        for piece in cut_line(line, limit):
            joined = f"{current}\n{piece}" if current else piece
            if len(joined) <= limit:
                current = joined
                continue
            head, _, last = current.rpartition("\n")
            if head and last.rstrip().endswith(":") and len(last) + 1 + len(piece) <= limit:
                pages.append(head)
                current = f"{last}\n{piece}"
            else:
                pages.append(current)
                current = piece
    if current or not pages:
        pages.append(current)
    return pages
