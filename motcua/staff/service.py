"""The staff's work, framework-free: the review list of unanswered questions, the handoff
inbox, ratings, and the training examples staff add (``Settings.staff_nlu_file``, under the data
directory: the checkout's ``nlu_data/`` is never written)."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import yaml
from sqlalchemy import desc, func, select
from sqlalchemy.orm import Session

from knowledge_base.schema import FaqEntry
from knowledge_base.store import add_faq, get_procedure
from knowledge_base.text import clean_text
from motcua.db import utcnow
from motcua.models import ConversationMessage
from motcua.settings import ROOT
from motcua.staff.accounts import AccountError, record_audit
from motcua.staff.models import (
    HandoffConversation,
    HandoffMessage,
    HandoffStatus,
    QuestionStatus,
    Rating,
    UnansweredQuestion,
)

REASONS = ("busy", "empty", "fallback", "handoff", "unhelpful")
REASON_LABELS = {"busy": "Hệ thống bận", "empty": "Không có câu trả lời", "fallback": "Chưa hiểu câu hỏi",
                 "handoff": "Chuyển cán bộ", "unhelpful": "Bị đánh giá chưa hữu ích"}
STATUS_LABELS = {s: s.label for s in QuestionStatus}
_nlu_file_lock = threading.Lock()


class ReviewError(AccountError):
    """A review action that cannot be done; the message says why, in Vietnamese."""


# --- unanswered questions ------------------------------------------------------------------

def record_unanswered(session: Session, *, channel: str, sender_id: str, question: str, reply: str,
                      reason: str, created_at: datetime | None = None, center: str = "default") -> UnansweredQuestion:
    """Put a question on the review list. The list is for improving the answers (an example, an FAQ, a
    synonym), not for reaching the citizen, so an identity-card or phone number in it is masked
    (:func:`motcua.privacy.mask_identifiers`: staff never copy a citizen's CCCD into training data) and the
    secret of a link in the assistant's reply is redacted (:func:`motcua.privacy.redact_tokens`)."""
    from motcua.privacy import mask_identifiers, redact_tokens

    if reason not in REASONS:
        raise ValueError(f"unknown reason {reason!r}; expected one of {REASONS}")
    row = UnansweredQuestion(channel=channel, sender_id=sender_id,
                             question=mask_identifiers(clean_text(question))[:2000],
                             reply=redact_tokens(mask_identifiers(clean_text(reply)))[:2000],
                             reason=reason, created_at=created_at or utcnow(), center_code=center or "default")
    session.add(row)
    return row


def list_unanswered(session: Session, status: str = QuestionStatus.OPEN,
                    limit: int = 200, center: str | None = None) -> list[UnansweredQuestion]:
    """The questions in ``status`` (a :class:`QuestionStatus`, or ``all``), newest first; of ``center`` only,
    or of every centre (``None``: an admin)."""
    query = select(UnansweredQuestion).order_by(desc(UnansweredQuestion.created_at)).limit(limit)
    if status != "all":
        query = query.where(UnansweredQuestion.status == QuestionStatus(status))
    if center is not None:
        query = query.where(UnansweredQuestion.center_code == center)
    return list(session.scalars(query))


def _question(session: Session, question_id: int, center: str | None = None) -> UnansweredQuestion:
    row = session.get(UnansweredQuestion, question_id)
    if row is None or (center is not None and row.center_code != center):  # another centre's: as absent
        raise ReviewError("Không tìm thấy câu hỏi này.")
    return row


def _snapshot(row: UnansweredQuestion) -> dict:
    return {"status": row.status, "procedure_code": row.procedure_code, "intent": row.intent}


def _resolve(session: Session, row: UnansweredQuestion, status: QuestionStatus, actor: str, action: str,
             **extra) -> None:
    before = _snapshot(row)
    row.status = status
    row.resolved_by = actor
    row.resolved_at = utcnow()
    for key, value in extra.items():
        setattr(row, key, value)
    record_audit(session, actor, action, f"unanswered:{row.id}", before, {**_snapshot(row), "question": row.question})


def link_to_procedure(session: Session, question_id: int, procedure_code: str, *, actor: str,
                      center: str | None = None) -> UnansweredQuestion:
    row = _question(session, question_id, center)
    if get_procedure(session, procedure_code) is None:
        raise ReviewError(f"Không có thủ tục mã «{procedure_code}».")
    _resolve(session, row, QuestionStatus.LINKED, actor, "unanswered.link", procedure_code=procedure_code)
    return row


def dismiss(session: Session, question_id: int, *, actor: str, center: str | None = None) -> UnansweredQuestion:
    row = _question(session, question_id, center)
    _resolve(session, row, QuestionStatus.DISMISSED, actor, "unanswered.dismiss")
    return row


def add_as_faq(session: Session, question_id: int, answer: str, *, actor: str, question: str = "",
               procedure_codes: tuple[str, ...] = (), center: str | None = None) -> UnansweredQuestion:
    row = _question(session, question_id, center)
    answer = answer.strip()
    question = (question or row.question).strip()
    if not answer or not question:
        raise ReviewError("Cần nhập cả câu hỏi và câu trả lời.")
    if not add_faq(session, [FaqEntry(question, answer, tuple(procedure_codes))]):
        raise ReviewError("Câu hỏi này đã có trong mục hỏi đáp.")
    record_audit(session, actor, "faq.add", f"faq:{question[:200]}", None,
                 {"question": question, "answer": answer, "procedures": list(procedure_codes)})
    _resolve(session, row, QuestionStatus.FAQ, actor, "unanswered.faq",
             procedure_code=procedure_codes[0] if procedure_codes else row.procedure_code)
    return row


def add_as_training_example(session: Session, question_id: int, intent: str, *, actor: str, examples_file: Path,
                            text: str = "", project_root: Path = ROOT, center: str | None = None) -> UnansweredQuestion:
    """Append the question under ``intent`` in ``examples_file`` (created when absent)."""
    row = _question(session, question_id, center)
    example = clean_example(text or row.question)
    add_training_example(examples_file, intent, example, project_root)
    record_audit(session, actor, "nlu.add_example", f"nlu:{intent}", None, {"intent": intent, "text": example})
    _resolve(session, row, QuestionStatus.TRAINING, actor, "unanswered.training", intent=intent)
    return row


def clean_example(text: str) -> str:
    """One line, without Rasa's entity-annotation brackets."""
    text = re.sub(r"[\[\]\(\)\{\}]", " ", text.replace("\n", " "))
    text = " ".join(text.split())
    if not text or text.startswith("/"):
        raise ReviewError("Câu ví dụ trống hoặc chỉ là nút bấm, không dùng để huấn luyện được.")
    return text


def domain_intents(project_root: Path = ROOT) -> list[str]:
    domain = yaml.safe_load((project_root / "domain.yml").read_text(encoding="utf-8")) or {}
    return [i if isinstance(i, str) else next(iter(i)) for i in domain.get("intents", [])]


def _existing_examples(paths: list[Path]) -> dict[str, str]:
    found: dict[str, str] = {}
    for path in paths:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for item in data.get("nlu", []) or []:
            if isinstance(item, dict) and "intent" in item:
                for line in str(item.get("examples", "")).splitlines():
                    line = line.strip()
                    if line.startswith("- "):
                        found[line[2:].strip().lower()] = item["intent"]
    return found


def add_training_example(path: Path, intent: str, text: str, project_root: Path = ROOT) -> Path:
    """Add ``text`` under ``intent`` to the staff's examples file ``path``, refused when the
    intent is not in ``project_root``'s domain or the text is already an example there or in ``path``."""
    if intent not in domain_intents(project_root):
        raise ReviewError(f"Ý định «{intent}» không có trong domain.yml.")
    with _nlu_file_lock:
        checked = sorted((project_root / "nlu_data").glob("*.yml")) + ([path] if path.exists() else [])
        already = _existing_examples(checked).get(text.lower())
        if already:
            raise ReviewError(f"Câu này đã có trong dữ liệu huấn luyện (ý định «{already}»).")
        examples: dict[str, list[str]] = {}
        if path.exists():
            for item in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu", []) or []:
                examples[item["intent"]] = [line.strip()[2:].strip() for line in str(item["examples"]).splitlines()
                                            if line.strip().startswith("- ")]
        examples.setdefault(intent, []).append(text)
        lines = ["# Sinh tự động: câu hỏi cán bộ đã thêm từ danh sách «câu hỏi chưa trả lời được».",
                 "# Generated by the staff review page (motcua/staff/service.py); edit there, not here.",
                 'version: "3.1"', "nlu:"]
        for name in sorted(examples):
            lines += [f"- intent: {name}", "  examples: |"]
            lines += [f"    - {example}" for example in examples[name]]
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
        tmp.replace(path)
    return path


# --- ratings ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class RatingInput:
    kind: str = "service"
    score: int | None = None
    helpful: bool | None = None
    channel: str = ""
    sender_id: str = ""
    center_code: str = ""
    counter: str = ""
    procedure_code: str = ""
    comment: str = ""

    def __post_init__(self) -> None:
        if self.kind not in ("service", "answer"):
            raise ValueError("kind must be 'service' or 'answer'")
        if self.score is not None and not 1 <= self.score <= 5:
            raise ValueError("score must be between 1 and 5")
        if self.score is None and self.helpful is None:
            raise ValueError("a rating needs a score or helpful")


def add_rating(session: Session, rating: RatingInput, created_at: datetime | None = None) -> Rating:
    """Store a rating; an answer rated unhelpful puts the citizen's last question on the review list, in the
    centre that conversation was held with (``rating.center_code`` when the caller knows it)."""
    exchange = _last_exchange(session, rating.sender_id) if rating.kind == "answer" else None
    center = rating.center_code or (exchange.center if exchange else "") or "default"
    row = Rating(kind=rating.kind, score=rating.score, helpful=rating.helpful, channel=rating.channel,
                 sender_id=rating.sender_id, center_code=center, counter=rating.counter,
                 procedure_code=rating.procedure_code, comment=clean_text(rating.comment)[:2000],
                 created_at=created_at or utcnow())
    session.add(row)
    if rating.kind == "answer" and (rating.helpful is False or (rating.score is not None and rating.score <= 2)):
        record_unanswered(session, channel=rating.channel, sender_id=rating.sender_id,
                          question=(exchange.question if exchange else "") or rating.comment,
                          reply=exchange.reply if exchange else "", reason="unhelpful",
                          created_at=row.created_at, center=center)
    return row


@dataclass(frozen=True)
class _Exchange:
    question: str
    reply: str
    center: str


def _last_exchange(session: Session, sender_id: str) -> _Exchange | None:
    if not sender_id:
        return None
    rows = session.scalars(select(ConversationMessage).where(ConversationMessage.sender_id == sender_id)
                           .order_by(desc(ConversationMessage.id)).limit(10)).all()
    if not rows:
        return None
    last_out = next((r.text for r in rows if r.direction == "out"), "")
    last_in = next((r.text for r in rows if r.direction == "in" and not r.text.startswith("/")), "")
    return _Exchange(last_in, last_out, rows[0].center_code)


# --- the handoff inbox ---------------------------------------------------------------------------

def open_handoff(session: Session, *, channel: str, sender_id: str, reason: str = "", question: str = "",
                 at: datetime | None = None, center: str = "default") -> HandoffConversation:
    """The open handed-over conversation of ``sender_id``, created (in ``center``) when there is none."""
    row = session.scalar(select(HandoffConversation).where(HandoffConversation.sender_id == sender_id,
                                                           HandoffConversation.status == HandoffStatus.OPEN))
    if row is None:
        at = at or utcnow()
        row = HandoffConversation(channel=channel, sender_id=sender_id, reason=reason, question=clean_text(question)[:2000],
                                  created_at=at, last_message_at=at, center_code=center or "default")
        session.add(row)
        session.flush()
    return row


def add_handoff_message(session: Session, conversation: HandoffConversation, direction: str, text: str,
                        author: str = "", at: datetime | None = None) -> HandoffMessage:
    at = at or utcnow()
    message = HandoffMessage(conversation_id=conversation.id, direction=direction, author=author, text=clean_text(text)[:4000],
                             created_at=at)
    session.add(message)
    conversation.last_message_at = at
    return message


def open_handoff_senders(session: Session) -> list[tuple[str, str]]:
    """(sender_id, channel) of every conversation now with staff: the gateway loads these at start."""
    return [(r.sender_id, r.channel) for r in session.scalars(
        select(HandoffConversation).where(HandoffConversation.status == HandoffStatus.OPEN))]


def list_handoffs(session: Session, status: str = HandoffStatus.OPEN, limit: int = 100,
                  center: str | None = None) -> list[dict]:
    """The conversations in ``status`` (a :class:`HandoffStatus`, or ``all``), latest message first; of
    ``center`` only, or of every centre (``None``: an admin)."""
    counts = dict(session.execute(select(HandoffMessage.conversation_id, func.count())
                                  .group_by(HandoffMessage.conversation_id)).all())
    query = select(HandoffConversation).order_by(desc(HandoffConversation.last_message_at)).limit(limit)
    if status != "all":
        query = query.where(HandoffConversation.status == HandoffStatus(status))
    if center is not None:
        query = query.where(HandoffConversation.center_code == center)
    return [handoff_summary(row, counts.get(row.id, 0)) for row in session.scalars(query)]


def handoff_summary(row: HandoffConversation, messages: int = 0) -> dict:
    return {"id": row.id, "channel": row.channel, "sender_id": row.sender_id, "status": row.status,
            "reason": row.reason, "question": row.question, "assigned_to": row.assigned_to,
            "created_at": row.created_at.isoformat(), "last_message_at": row.last_message_at.isoformat(),
            "messages": messages, "center_code": row.center_code}


def get_handoff(session: Session, conversation_id: int, center: str | None = None) -> HandoffConversation:
    """One conversation; another centre's is as absent to a staff member of ``center`` (None: an admin)."""
    row = session.get(HandoffConversation, conversation_id)
    if row is None or (center is not None and row.center_code != center):
        raise ReviewError("Không tìm thấy cuộc trò chuyện này.")
    return row


def handoff_messages(session: Session, conversation_id: int) -> list[HandoffMessage]:
    return list(session.scalars(select(HandoffMessage).where(HandoffMessage.conversation_id == conversation_id)
                                .order_by(HandoffMessage.id)))


BACK_PAYLOAD = "/back_to_assistant"
"""The button «Quay lại trợ lý ảo» under «Đã chuyển tới cán bộ…» and every acknowledgement while a conversation is
with staff (bot/staff_desk.py): the citizen need not wait for staff who may not come (out of hours, a busy desk)
to ask the assistant again."""
CITIZEN_ACTOR = "người dân"  # staff-facing: who closed a conversation the citizen left for the assistant


def close_by_citizen(session: Session, sender_id: str, note: str, at: datetime | None = None) -> None:
    """The citizen went back to the assistant: their open conversation gets ``note`` and is closed (none open:
    nothing to do — staff may have handed it back meanwhile)."""
    row = session.scalar(select(HandoffConversation).where(HandoffConversation.sender_id == sender_id,
                                                         HandoffConversation.status == HandoffStatus.OPEN)
                         .order_by(HandoffConversation.id.desc()).limit(1))
    if row is None:
        return
    add_handoff_message(session, row, "note", note, at=at)  # the thread says it; no audit row (kept forever) names the chat
    row.status, row.closed_at, row.closed_by = HandoffStatus.CLOSED, at or utcnow(), CITIZEN_ACTOR


def close_handoff(session: Session, conversation_id: int, *, actor: str, center: str | None = None) -> HandoffConversation:
    row = get_handoff(session, conversation_id, center)
    if row.status != HandoffStatus.OPEN:
        raise ReviewError("Cuộc trò chuyện đã được trả lại cho trợ lý ảo.")
    row.status = HandoffStatus.CLOSED
    row.closed_at = utcnow()
    row.closed_by = actor
    record_audit(session, actor, "handoff.close", f"handoff:{row.id}", {"status": HandoffStatus.OPEN.value},
                 {"status": HandoffStatus.CLOSED.value, "sender_id": row.sender_id})
    return row
