"""Legal questions answered from the law itself: the clause, quoted briefly, with its citation."""

from __future__ import annotations

from datetime import date
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions.knowledge import KnowledgeBase
from actions.procedures import STAFF_BUTTONS
from knowledge_base.store import LegalDocumentRow
from motcua.db import session_scope

QUOTE_LIMIT = 420
NOT_FOUND = ("Tôi không tìm thấy quy định phù hợp với câu hỏi này trong thư viện văn bản pháp luật của trung tâm. "
             "Để tránh trả lời sai, ông/bà vui lòng hỏi cán bộ.")


def quote(text: str, limit: int = QUOTE_LIMIT) -> str:
    """The clause, cut at a word boundary when long."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0] + " …"


def status_label(row: LegalDocumentRow | None, today: date) -> str:
    """Why an answer from this document needs care: replaced, or not yet in force."""
    if row is None:
        return ""
    if row.effective and date.fromisoformat(row.effective) > today:
        return f"Lưu ý: văn bản này có hiệu lực từ {date.fromisoformat(row.effective):%d/%m/%Y}, chưa áp dụng hôm nay."
    if row.replaced_from and date.fromisoformat(row.replaced_from) <= today:
        return f"Lưu ý: văn bản này đã được thay thế bởi {row.replaced_by} từ {date.fromisoformat(row.replaced_from):%d/%m/%Y}."
    return ""


class ActionAnswerLegal(Action):
    def __init__(self, knowledge: KnowledgeBase, today=date.today):
        self.knowledge = knowledge
        self.today = today

    def name(self) -> str:
        return "action_answer_legal"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]):
        question = tracker.latest_message.get("text") or ""
        search = self.knowledge.search
        response = search.search(question, top_k=3, kinds=("passage",)) if search is not None and question else None
        if response is None or not response.passages:
            dispatcher.utter_message(text=NOT_FOUND, buttons=STAFF_BUTTONS, json_message={"fallback": True})
            return [SlotSet("fallback_count", 0.0)]
        best = response.passages[0]
        with session_scope(self.knowledge.database_url) as session:
            row = session.scalar(select(LegalDocumentRow).where(LegalDocumentRow.number == best.document))
            note = status_label(row, self.today())
        citation = best.citation or f"{best.article} {best.document}"
        lines = [f"Theo {citation}:", f"«{quote(best.text)}»"]
        if note:
            lines.append(note)
        lines.append("Đây là trích dẫn quy định; trường hợp cụ thể xin hỏi thêm cán bộ.")
        dispatcher.utter_message(text="\n".join(lines), buttons=[{"title": "Gặp cán bộ", "payload": "/request_human"}],
                                 json_message={"legal": {"document": best.document, "article": best.article,
                                                         "citation": citation}})
        return [SlotSet("fallback_count", 0.0)]
