"""The action server and the form dialogue speak from the catalogue: every id they name exists, the shared
buttons have one label, and the replies are the catalogue's sentences (real Tracker, no server)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.dossiers import ActionCheckDossierStatus
from actions.legal_links import ArticleLink, article_number, number_key, procedure_button
from actions.procedures import ActionHandoff, intent_button, staff_buttons
from actions.ratings import rating_buttons
from knowledge_base.form_replies import field_question, skip_button
from knowledge_base.form_turns import FallbackWords
from knowledge_base.forms import FormDefinition, FormField
from knowledge_base.messages import LOCALE_DIR, load_catalogue, render
from knowledge_base.rendering import describe_document
from knowledge_base.schema import Procedure, RequiredDocument

ROOT = Path(__file__).resolve().parents[2]
MODULES = sorted({*ROOT.glob("actions/*.py"), *(ROOT / "knowledge_base" / name for name in (
    "form_turns.py", "form_replies.py", "form_dialogue.py", "rendering.py")), ROOT / "motcua" / "validators.py"})
MESSAGE_ID = re.compile(r"^(action|button|validate|answer|form)\.[a-z_]+(\.[a-z_0-9]+)*$")

SHARED_BUTTONS = {
    "button.request_human": "Gặp cán bộ",
    "button.request_queue_number": "Lấy số thứ tự",
    "button.fill_form": "Điền tờ khai",
    "button.ask_procedure": "Hỏi thủ tục",
    "button.check_dossier_status": "Tra cứu hồ sơ",
    "button.ask_center_info": "Giờ làm việc, địa chỉ",
}


def named_ids(path: Path) -> set[str]:
    """The whole message ids written in a module (``render("action.queue.issued")``, ``NOT_FOUND = "…"``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    pieces = {id(part) for node in ast.walk(tree) if isinstance(node, ast.JoinedStr) for part in node.values}
    return {node.value for node in ast.walk(tree) if isinstance(node, ast.Constant) and isinstance(node.value, str)
            and id(node) not in pieces and MESSAGE_ID.match(node.value)}


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_message_id_a_module_names_is_in_the_catalogue(path):
    catalogue = load_catalogue("vi")
    missing = sorted(named_ids(path) - catalogue.keys())
    assert not missing, missing


def test_the_modules_name_ids_at_all():
    assert {"action.procedures.handoff", "action.legal.not_found", "validate.phone_invalid"} <= set().union(
        *(named_ids(p) for p in MODULES))


def test_the_shared_buttons_have_one_label_defined_once_in_actions_po():
    with (LOCALE_DIR / "vi" / "LC_MESSAGES" / "actions.po").open("rb") as handle:
        ids = [m.id for m in read_po(handle, locale="vi") if m.id]
    for key, title in SHARED_BUTTONS.items():
        assert ids.count(key) == 1, key
        assert render(key) == title
    assert intent_button("fill_form") == {"title": "Điền tờ khai", "payload": "/fill_form"}
    assert staff_buttons() == [{"title": "Gặp cán bộ", "payload": "/request_human"},
                               {"title": "Lấy số thứ tự", "payload": "/request_queue_number"}]
    # the same buttons under a procedure answer, not a copy of their words
    assert not {"answer.form_button", "answer.queue_button", "form.button.staff"} & load_catalogue("vi").keys()


async def test_the_handoff_reply_is_the_catalogues_and_speaks_to_the_citizen_as_ong_ba():
    dispatcher = CollectingDispatcher()
    latest = {"text": "cho tôi gặp cán bộ", "intent": {"name": "request_human", "confidence": 0.9}, "entities": []}
    events = await ActionHandoff().run(dispatcher, Tracker("s1", {}, latest, [], False, None, {}, "action_listen"), {})
    (message,) = dispatcher.messages
    assert message["text"] == render("action.procedures.handoff")
    assert "ông/bà" in message["text"] and message["custom"] == {"handoff": True, "reason": "citizen_request"}
    assert {"event": "slot", "name": "handoff", "value": True, "timestamp": None} in events


async def test_a_dossier_question_without_any_number_asks_for_the_code_and_with_one_number_for_the_other():
    class NoLookups:
        def find_for_applicant(self, session, **_):
            return []

    class NoDatabase:
        def run(self, function, *args, **kwargs):
            return function(None, *args, **kwargs)

    action = ActionCheckDossierStatus(NoLookups(), NoDatabase())  # type: ignore[arg-type]

    async def reply(entities):
        latest = {"text": "tra cứu hồ sơ", "intent": {"name": "check_dossier_status"}, "entities": entities}
        dispatcher = CollectingDispatcher()
        await action.run(dispatcher, Tracker("s1", {}, latest, [], False, None, {}, "action_listen"), {})
        return dispatcher.messages[0]["text"]

    assert await reply([]) == render("action.dossiers.ask_code")
    assert await reply([{"entity": "cccd_number", "value": "001099012345"}]) == render(
        "action.dossiers.ask_second_number", missing="số điện thoại")
    assert await reply([{"entity": "phone_number", "value": "0912345678"}]) == render(
        "action.dossiers.ask_second_number", missing="số căn cước")


def test_rating_buttons_read_best_first_from_the_catalogue():
    assert [b["title"] for b in rating_buttons()] == [
        "5 sao — Rất hài lòng", "4 sao — Hài lòng", "3 sao — Bình thường", "2 sao — Không hài lòng",
        "1 sao — Rất không hài lòng"]


def test_legal_links_words_come_from_the_catalogue_and_the_recognisers_still_read_numbers():
    assert ArticleLink("15", "Trách nhiệm đăng ký khai sinh", "").heading == "Điều 15. Trách nhiệm đăng ký khai sinh"
    assert ArticleLink("15", "", "").heading == "Điều 15"
    assert article_number("Điều 15") == "15" and article_number("15") == "15"
    assert number_key(" 123/2015/nđ-cp") == "123/2015/ND-CP"
    assert procedure_button(Procedure(code="1.001193", name="Đăng ký khai sinh"))["title"] == "Thủ tục: Đăng ký khai sinh"


def test_a_document_reads_its_copies_and_its_template():
    assert describe_document(RequiredDocument("Giấy chứng sinh.", 1, True)) == "Giấy chứng sinh (1 bản chính)"
    assert describe_document(RequiredDocument("Sổ hộ khẩu", 2, False)) == "Sổ hộ khẩu (2 bản sao)"
    assert describe_document(RequiredDocument("Tờ khai", 1, None, form="Mẫu TP/HT-2020-KS")) == (
        "Tờ khai (1 bản) — mẫu: Mẫu TP/HT-2020-KS")


def test_the_skip_button_sends_its_own_title_which_reads_as_a_skip():
    item = FormField(name="nickname", label="Tên gọi khác", type="text", prompt="Cháu có tên gọi khác không?",
                     required=False)
    form = FormDefinition(id="f", title="Tờ khai", procedures=("1.001193",), fields=(item,))
    question = field_question(form, item, {})
    assert question.buttons == (skip_button(),)
    assert skip_button().title == skip_button().payload == render("form.button.skip") == "Bỏ qua"
    assert FallbackWords.skip(skip_button().payload)
