"""Queue numbers asked for in words (nlu_data/nlu_queue_phrases.yml, knowledge_base/queue.yaml).

«xem lại số», «còn bao nhiêu người nữa», «tới lượt tôi chưa» are the intent of the «Xem lại số»
button; a ticket label typed in the words («số A012 còn bao lâu», «B 005») is its queue_ticket
entity; English requests («a queue number for notarization») name a service; in the middle of a
declaration these words are no answer to the question asked. The last test asks a trained model.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from knowledge_base.form_dialogue import Event, FormCatalog, FormDialogue, FormState, Stage, Turn
from knowledge_base.forms import load_forms
from knowledge_base.text import fold
from motcua.queue.config import load_queue_config, service_phrases, services_named
from motcua.queue.views import ticket_label

ROOT = Path(__file__).resolve().parents[2]
NLU_DATA = ROOT / "nlu_data"
PHRASES = NLU_DATA / "nlu_queue_phrases.yml"
HELDOUT = ROOT / "tests" / "nlu" / "heldout.yml"
ANNOTATION = re.compile(r"\[([^\]]+)\]\((\w+)\)")
INTENT = "request_queue_number"

# What a citizen types to see the number they hold (the words that were misread).
ASKING_AGAIN = ["xem lại số", "số của tôi là bao nhiêu", "còn bao nhiêu người nữa", "tới lượt tôi chưa", "so cua toi"]


def _examples(path: Path) -> list[tuple[str, str]]:
    blocks = yaml.safe_load(path.read_text(encoding="utf-8"))["nlu"]
    return [(b["intent"], line[2:]) for b in blocks if "intent" in b
            for line in b["examples"].splitlines() if line.startswith("- ")]


def _plain(example: str) -> str:
    return ANNOTATION.sub(lambda m: m.group(1), example)


def _regex(name: str) -> re.Pattern[str]:
    blocks = yaml.safe_load((NLU_DATA / "regexes.yml").read_text(encoding="utf-8"))["nlu"]
    (block,) = [b for b in blocks if b.get("regex") == name]
    (line,) = [line[2:] for line in block["examples"].splitlines() if line.startswith("- ")]
    return re.compile(line, re.IGNORECASE)  # RegexFeaturizer: case_sensitive false (config.yml)


TICKET = _regex("queue_ticket")


@pytest.fixture(scope="module")
def training() -> list[tuple[str, str]]:
    return [e for path in sorted(NLU_DATA.glob("nlu_*.yml")) for e in _examples(path)]


@pytest.fixture(scope="module")
def phrases() -> dict[str, frozenset[str]]:
    return {s.code: service_phrases(s.name, s.fields, s.aliases) for s in load_queue_config().services}


@pytest.mark.parametrize(("text", "label"), [
    ("số A012 còn bao lâu", "A012"),
    ("B 005 tới lượt chưa", "B 005"),
    ("so thu tu b-012 con bao nhieu nguoi", "b-012"),
    ("số A1002 gọi chưa", "A1002"),
    ("tôi cầm số C017, còn mấy người", "C017"),
])
def test_a_ticket_label_in_the_words_is_found(text, label):
    assert [m.group() for m in TICKET.finditer(text)] == [label]


@pytest.mark.parametrize("text", [
    "năm 2024", "sinh ngày 15/03/2024", "mã hồ sơ 000.00.04.H51-240320-0056", "cccd 001190012345",
    "sđt 0912345678", "quầy 2", "số A12", "e 2005", "A0123x", "phòng A.101",
])
def test_no_ticket_label_in_years_dates_dossier_codes_or_numbers(text):
    assert not TICKET.search(text)


def test_every_annotated_ticket_is_a_label_of_a_configured_service(training):
    prefixes = {s.prefix for s in load_queue_config().services}
    labels = [text for _, ex in training + _examples(HELDOUT) for text, entity in ANNOTATION.findall(ex)
              if entity == "queue_ticket"]
    assert len(labels) >= 20
    for label in labels:
        assert TICKET.fullmatch(label), label
        compact = re.sub(r"[ -]", "", label).upper()
        assert compact[0] in prefixes and ticket_label(compact[0], int(compact[1:])) == compact, label


def test_the_ways_of_asking_to_see_ones_number_are_that_intent_and_no_other(training):
    by_text: dict[str, set[str]] = {}
    for intent, example in training:
        by_text.setdefault(fold(_plain(example)), set()).add(intent)
    for text in ASKING_AGAIN:
        assert by_text.get(fold(text)) == {INTENT}, text


@pytest.mark.parametrize(("text", "code"), [
    ("a queue number for notarization", "CT"),
    ("I need a number for birth registration", "HT"),
    ("a ticket for certified copies", "CT"),
    ("number for temporary residence please", "CU"),
    ("queue number for my land certificate", "DD"),
    ("a number for social insurance", "XH"),
    ("ticket for business registration", "KD"),
    ("lay so notarization", "CT"),
])
def test_english_words_name_the_queue_service(phrases, text, code):
    assert services_named(text, phrases) == [code]


def test_every_english_request_in_the_training_data_names_one_service(phrases):
    english = [_plain(ex) for intent, ex in _examples(PHRASES)
               if intent == INTENT and " for " in f" {_plain(ex)} " and "](queue_ticket)" not in ex]
    assert len(english) >= 10
    for text in english:
        assert len(services_named(text, phrases)) == 1, text


def test_english_names_do_not_change_which_service_vietnamese_words_name(training, phrases):
    config = load_queue_config()
    vietnamese_only = {s.code: service_phrases(s.name, s.fields, [a for a in s.aliases if not _english(a)])
                       for s in config.services}
    assert vietnamese_only != phrases  # the file has English names
    for _, example in training:
        text = _plain(example)
        if not _english(text):
            assert services_named(text, phrases) == services_named(text, vietnamese_only), text


def _english(text: str) -> bool:
    words = fold(text).split()
    return bool(words) and text.isascii() and any(w in _ENGLISH_WORDS for w in words)


_ENGLISH_WORDS = {"registration", "certificate", "birth", "death", "marriage", "notarization", "notarisation",
                  "notary", "notarize", "notarise", "certification", "certified", "copies", "signature",
                  "authentication", "residence", "card", "identity", "citizen", "household", "land", "book",
                  "permit", "construction", "insurance", "unemployment", "pension", "poor", "allowance",
                  "welfare", "business", "license", "licence", "general", "information", "enquiry", "inquiry",
                  "consultation", "advice", "civil", "status", "adoption", "guardianship", "single", "use",
                  "building", "the", "for", "number", "ticket", "queue", "need", "want", "please"}


@pytest.mark.parametrize("field", ["birth_requester_name", "birth_requester_address", "birth_requester_cccd"])
@pytest.mark.parametrize("text", [*ASKING_AGAIN, "xem lai so", "toi luot toi chua", "số A012 còn bao lâu"])
def test_mid_form_asking_to_see_ones_number_is_no_answer(field, text):
    """The queue action is one of the form's interruptions (actions/server.py): answered, then the
    same question again — never «Xem Lại Số» kept as a name or an address."""
    forms = load_forms()
    dialogue = FormDialogue(FormCatalog(forms), question_intents={INTENT})
    state = FormState(forms["birth_registration"], {}, field, Stage.FILL)
    assert dialogue.classify(state, Turn(text, INTENT, 0.9)) == (Event.QUESTION, INTENT)


def test_mid_form_a_name_is_still_a_name():
    forms = load_forms()
    dialogue = FormDialogue(FormCatalog(forms), question_intents={INTENT})
    state = FormState(forms["birth_registration"], {}, "birth_requester_name", Stage.FILL)
    assert dialogue.classify(state, Turn("Nguyễn Thị Lan", INTENT, 0.9))[0] == Event.ANSWER


# --- a trained model ------------------------------------------------------------------------------

# The misread words, labels typed with and without a space, English requests; annotated as the
# model must read them (intent and the queue_ticket entity). Rasa scores intents only when the file
# has two: «xem lại hồ sơ» is the other side of the boundary, and English questions naming the same
# procedures (a fee, the papers) must not read as asking for a number.
MODEL_CHECK = """version: "3.1"
nlu:
- intent: request_queue_number
  examples: |
    - xem lại số
    - số của tôi là bao nhiêu
    - còn bao nhiêu người nữa
    - tới lượt tôi chưa
    - so cua toi
    - số [A012](queue_ticket) còn bao lâu
    - số [B 005](queue_ticket) tới chưa
    - a queue number for notarization
    - I need a number for birth registration
- intent: check_dossier_status
  examples: |
    - xem lại hồ sơ tôi đã nộp
- intent: ask_fee
  examples: |
    - What is the fee for birth registration?
    - how much is the fee for birth registration
- intent: ask_documents
  examples: |
    - What documents do I need for birth registration?
"""


@pytest.mark.integration
@pytest.mark.slow
def test_a_trained_model_reads_these_words_as_asking_for_ones_number(tmp_path_factory):
    from motcua.rasa_eval import evaluate_nlu
    from motcua.runtime import ensure_model
    from motcua.settings import Settings
    from tests.stack import MODEL_CACHE

    work = tmp_path_factory.mktemp("queue-phrases")
    settings = Settings(data_dir=work / "data", models_dir=MODEL_CACHE)
    data = work / "queue_phrases.yml"
    data.write_text(MODEL_CHECK, encoding="utf-8")
    report = evaluate_nlu(settings, ensure_model(settings, echo=print), work / "out", data=data)
    assert report.utterances == 13 and report.confusions == [], report.confusions
    assert report.entity_f1 and min(report.entity_f1.values()) == 1.0, report.entity_f1
