"""Custom actions that answer from the knowledge base, and the dialogue's safety nets."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.answers import INTENT_ASPECT, Aspect, answer
from actions.knowledge import KnowledgeBase

COMMON_BUTTONS = [
    {"title": "Đăng ký khai sinh", "payload": "/ask_procedure{\"procedure\": \"đăng ký khai sinh\"}"},
    {"title": "Đăng ký kết hôn", "payload": "/ask_procedure{\"procedure\": \"đăng ký kết hôn\"}"},
    {"title": "Đăng ký thường trú", "payload": "/ask_procedure{\"procedure\": \"đăng ký thường trú\"}"},
    {"title": "Chứng thực bản sao", "payload": "/ask_procedure{\"procedure\": \"chứng thực bản sao\"}"},
]
STAFF_BUTTONS = [
    {"title": "Gặp cán bộ", "payload": "/request_human"},
    {"title": "Lấy số thứ tự", "payload": "/request_queue_number"},
]
INTENT_LABELS = {
    "ask_procedure": "Hỏi về thủ tục", "ask_documents": "Hỏi giấy tờ cần có", "ask_fee": "Hỏi lệ phí",
    "ask_processing_time": "Hỏi thời gian giải quyết", "ask_submission": "Hỏi nơi, cách nộp hồ sơ",
    "ask_legal_basis": "Hỏi căn cứ pháp lý", "ask_legal": "Hỏi quy định pháp luật",
    "ask_center_info": "Giờ làm việc, địa chỉ", "request_queue_number": "Lấy số thứ tự",
    "check_dossier_status": "Tra cứu hồ sơ", "fill_form": "Điền tờ khai", "request_human": "Gặp cán bộ",
    "rate_service": "Đánh giá dịch vụ", "greet": "Chào hỏi", "help": "Trợ lý làm được gì?",
    "cancel": "Hủy", "goodbye": "Tạm biệt", "thank": "Cảm ơn",
}


def _latest_text(tracker: Tracker) -> str:
    text = tracker.latest_message.get("text") or ""
    return "" if text.startswith("/") else text


def _entity_values(tracker: Tracker, entity: str) -> list[str]:
    return [str(e.get("value")) for e in tracker.latest_message.get("entities", []) if e.get("entity") == entity]


class ActionAnswerProcedure(Action):
    """Answers documents / fee / time / where / legal basis of the procedure in question."""

    def __init__(self, knowledge: KnowledgeBase):
        self.knowledge = knowledge

    def name(self) -> str:
        return "action_answer_procedure"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]):
        intent = (tracker.latest_message.get("intent") or {}).get("name", "")
        aspect = INTENT_ASPECT.get(intent, Aspect.OVERVIEW)
        text = _latest_text(tracker)
        named = _entity_values(tracker, "procedure")
        context = tracker.get_slot("procedure_code")
        procedure = None
        # 1. A procedure named by the words staff keep (the citizen's own words first: they may be
        #    more specific, "mất căn cước", than the entity's canonical value, "làm căn cước").
        for query in [text, *named]:
            found = self.knowledge.find_named(query, top_k=1) if query else None
            if found is not None and not found.abstained:
                procedure = self.knowledge.get(found.matches[0].code)
                break
        # 2. A follow-up ("còn lệ phí thì sao?") names nothing: it is about the procedure in context.
        if procedure is None and context and not named:
            procedure = self.knowledge.get(context)
        # 3. Otherwise the search index, which abstains when nothing fits.
        if procedure is None:
            for query in [text, *named]:
                found = self.knowledge.find(query, top_k=1) if query else None
                if found is not None and not found.abstained:
                    procedure = self.knowledge.get(found.matches[0].code)
                    break
        if procedure is None and context:
            procedure = self.knowledge.get(context)
        if procedure is None:
            dispatcher.utter_message(
                text="Ông/bà muốn hỏi về thủ tục nào ạ? Xin nói rõ tên thủ tục, ví dụ «đăng ký khai sinh».",
                buttons=COMMON_BUTTONS,
            )
            return [SlotSet("fallback_count", 0.0)]
        links = None
        if aspect == Aspect.LEGAL_BASIS:  # the legal basis, linked to the library's articles (issue 10)
            from actions.legal import legal_basis_links

            links = legal_basis_links(self.knowledge, procedure)
        reply = answer(procedure, aspect, links)
        dispatcher.utter_message(text=reply.text, buttons=reply.buttons)
        return [SlotSet("procedure_code", procedure.code), SlotSet("procedure", procedure.name),
                SlotSet("fallback_count", 0.0)]


class ActionClarify(Action):
    """Below the NLU threshold: offer the likeliest meanings; on the second miss, a person."""

    def name(self) -> str:
        return "action_clarify"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]):
        misses = int(tracker.get_slot("fallback_count") or 0) + 1
        if misses >= 2:
            dispatcher.utter_message(
                text="Xin lỗi, tôi vẫn chưa hiểu ý ông/bà. Ông/bà có muốn gặp cán bộ hoặc lấy số thứ tự không?",
                buttons=STAFF_BUTTONS, json_message={"fallback": True, "misses": misses},
            )
            return [SlotSet("fallback_count", float(misses))]
        ranking = tracker.latest_message.get("intent_ranking") or []
        options = [r["name"] for r in ranking if r.get("name") in INTENT_LABELS][:3]
        buttons = [{"title": INTENT_LABELS[name], "payload": f"/{name}"} for name in options]
        dispatcher.utter_message(
            text="Xin lỗi, tôi chưa chắc đã hiểu đúng. Có phải ông/bà muốn:" if buttons
            else "Xin lỗi, tôi chưa hiểu. Ông/bà có thể nói cách khác được không?",
            buttons=buttons + [{"title": "Gặp cán bộ", "payload": "/request_human"}],
            json_message={"fallback": True, "misses": misses},
        )
        return [SlotSet("fallback_count", float(misses))]


class ActionHandoff(Action):
    """Hands the conversation to a staff member: the gateway routes the custom event."""

    def name(self) -> str:
        return "action_handoff"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]):
        dispatcher.utter_message(
            text="Tôi đã chuyển yêu cầu của ông/bà tới cán bộ. Xin vui lòng chờ trong giây lát, "
            "hoặc lấy số thứ tự để được hướng dẫn tại quầy.",
            json_message={"handoff": True, "reason": "citizen_request" if (tracker.latest_message.get("intent") or {})
                          .get("name") == "request_human" else "fallback"},
        )
        return [SlotSet("handoff", True), SlotSet("fallback_count", 0.0)]


class ActionResetFallback(Action):
    def name(self) -> str:
        return "action_reset_fallback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]):
        return [SlotSet("fallback_count", 0.0)]
