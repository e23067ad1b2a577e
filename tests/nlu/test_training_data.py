"""The Rasa training data and the held-out set stay consistent with each other and the knowledge base.

Plain YAML checks, no Rasa: annotated procedure names map to a canonical value the actions
can resolve, the held-out set stays independent of the training sentences, and it still
covers every intent and entity.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
NLU_DATA = ROOT / "nlu_data"
HELDOUT = ROOT / "tests" / "nlu" / "heldout.yml"
AMBIGUOUS = {"chứng thực"}  # left unmapped on purpose: the actions ask which one
NOT_IN_KNOWLEDGE_BASE = {"trợ cấp xã hội"}
ANNOTATION = re.compile(r"\[([^\]]+)\](?:\((\w+)\)|\{[^}]*\"entity\":\s*\"(\w+)\"[^}]*\})")


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFD", text.lower().replace("đ", "d"))
    return "".join(c for c in text if not unicodedata.combining(c))


def _load(path: Path) -> list[dict]:
    return yaml.safe_load(path.read_text(encoding="utf-8")).get("nlu") or []


def _examples(block: dict) -> list[str]:
    return [line[2:] for line in block["examples"].splitlines() if line.startswith("- ")]


def _intent_examples(paths: list[Path]) -> list[tuple[str, str]]:
    return [(b["intent"], ex) for p in paths for b in _load(p) if "intent" in b for ex in _examples(b)]


def _plain(example: str) -> str:
    return ANNOTATION.sub(lambda m: m.group(1), example)


def _spans(example: str) -> list[tuple[str, str]]:
    return [(m.group(1), m.group(2) or m.group(3)) for m in ANNOTATION.finditer(example)]


@pytest.fixture(scope="module")
def training() -> list[tuple[str, str]]:
    return _intent_examples(sorted(NLU_DATA.glob("nlu_*.yml")))


@pytest.fixture(scope="module")
def heldout() -> list[tuple[str, str]]:
    return _intent_examples([HELDOUT])


@pytest.fixture(scope="module")
def procedure_synonyms() -> dict[str, str]:
    mapping = {}
    for block in _load(NLU_DATA / "synonyms.yml"):
        if not block["synonym"].isdigit():
            mapping.update({ex: block["synonym"] for ex in _examples(block)})
    return mapping


def test_every_annotated_procedure_maps_to_a_canonical_value(training, heldout, procedure_synonyms):
    canonical = set(procedure_synonyms.values())
    unmapped = {
        text
        for _, ex in training + heldout
        for text, entity in _spans(ex)
        if entity == "procedure"
        and text.lower() not in procedure_synonyms
        and text.lower() not in canonical
        and text.lower() not in AMBIGUOUS
    }
    assert not unmapped, f"add these to nlu_data/synonyms.yml: {sorted(unmapped)}"


def test_colloquial_lookup_holds_every_synonym(procedure_synonyms):
    (table,) = _load(NLU_DATA / "lookup_aliases.yml")
    entries = set(_examples(table))
    missing = (set(procedure_synonyms) | set(procedure_synonyms.values())) - entries
    assert not missing, f"add to nlu_data/lookup_aliases.yml: {sorted(missing)}"


def test_canonical_procedures_resolve_in_the_knowledge_base(procedure_synonyms):
    files = sorted((ROOT / "knowledge_base" / "procedures").glob("*.yaml"))
    if not files:
        pytest.skip("knowledge_base/procedures is empty")
    phrases = set()
    for path in files:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for name in [data["name"], *(data.get("aliases") or [])]:
            phrases.add(re.sub(r"[^0-9a-z]+", " ", _fold(name)).strip())
    unresolved = {
        value
        for value in set(procedure_synonyms.values()) - NOT_IN_KNOWLEDGE_BASE
        if not any(f" {p} " in f" {re.sub(r'[^0-9a-z]+', ' ', _fold(value)).strip()} " for p in phrases)
    }
    assert not unresolved, f"no knowledge-base name or alias inside: {sorted(unresolved)}"


# Entities that only buttons set (``/fill_form{"form_id": "birth_registration"}``, a tapped choice
# ``/ask_fee{"procedure_code": "1.001193"}``): nobody types them. (``queue_ticket`` is set by the
# «Xem lại số A002» button and typed too: «số A012 còn bao lâu».)
PAYLOAD_ONLY_ENTITIES = {"form_id", "form_field", "procedure_code", "legal_article", "queue_service"}


def test_heldout_covers_every_intent_and_entity(training, heldout):
    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    assert len(heldout) >= 220
    assert {intent for intent, _ in heldout} == set(domain["intents"])
    typed = set(domain["entities"]) - PAYLOAD_ONLY_ENTITIES
    assert {entity for _, ex in heldout for _, entity in _spans(ex)} == typed
    assert {entity for _, ex in training for _, entity in _spans(ex)} == typed
    unaccented = [ex for _, ex in heldout if _plain(ex).isascii()]
    assert len(unaccented) * 3 >= len(heldout)


def test_payload_only_entities_are_set_by_buttons():
    texts = [path.read_text(encoding="utf-8") for path in (ROOT / "nlu_data").glob("*.yml")]
    texts += [(ROOT / "domain.yml").read_text(encoding="utf-8")]
    for name in (ROOT / "actions").glob("*.py"):
        texts.append(name.read_text(encoding="utf-8"))
    for entity in PAYLOAD_ONLY_ENTITIES:
        assert any(f'"{entity}"' in text for text in texts), f"no button or rule sets {entity}"


def test_heldout_sentences_are_not_copies_of_training_sentences(training, heldout):
    def words(example: str) -> list[str]:
        return re.sub(r"[^\w ]", " ", _fold(_plain(example))).split()

    train_words = [words(ex) for _, ex in training]
    copies = []
    for _, ex in heldout:
        target = words(ex)
        matcher = difflib.SequenceMatcher(None, b=target)
        for other in train_words:
            matcher.set_seq1(other)
            if matcher.real_quick_ratio() >= 0.85 and matcher.ratio() >= 0.85:
                copies.append(ex)
                break
    assert not copies, f"held-out sentences too close to training ones: {copies}"
