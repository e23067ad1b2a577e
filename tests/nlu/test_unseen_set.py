"""The unseen NLU set: written by separate authors who never read the training data.

Plain YAML checks, no Rasa (the figures are in tests/test_rasa_project.py): each author's file
covers every intent a citizen types, the set is big enough and written the way citizens write, and
the training data has not taken its sentences in.
"""

from __future__ import annotations

import re

import pytest
import yaml

from motcua.rasa_eval import (
    ANNOTATION,
    ROOT,
    UNSEEN,
    near_copies,
    plain_text,
    read_examples,
    training_examples,
)

AUTHORS = sorted(UNSEEN.glob("*.yml"))


@pytest.fixture(scope="module")
def domain() -> dict:
    return yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))


def test_there_are_several_authors_and_enough_utterances():
    assert len(AUTHORS) >= 2, "the unseen set needs at least two authors, each in a file of their own"
    examples = [e for path in AUTHORS for e in read_examples(path)]
    assert len(examples) >= 300
    for path in AUTHORS:
        texts = [plain_text(e).strip().lower() for _, e in read_examples(path)]
        assert len(set(texts)) == len(texts), f"an utterance appears twice in {path.name}"


@pytest.mark.parametrize("path", AUTHORS, ids=lambda p: p.stem)
def test_each_author_covers_every_intent(path, domain):
    counts: dict[str, int] = {}
    for intent, _ in read_examples(path):
        counts[intent] = counts.get(intent, 0) + 1
    assert set(counts) == set(domain["intents"]), set(domain["intents"]) ^ set(counts)
    assert min(counts.values()) >= 6, {k: v for k, v in counts.items() if v < 6}


@pytest.mark.parametrize("path", AUTHORS, ids=lambda p: p.stem)
def test_annotations_name_entities_of_the_domain(path, domain):
    entities = set(domain["entities"])
    for _, example in read_examples(path):
        for match in ANNOTATION.finditer(example):
            assert (match.group(2) or match.group(3)) in entities, example
        assert not re.search(r"\[[^\]]*\](?!\(|\{)", example), f"an unclosed annotation: {example}"


def test_written_the_way_citizens_write():
    examples = [plain_text(e) for path in AUTHORS for _, e in read_examples(path)]
    unaccented = [e for e in examples if e.isascii()]
    assert len(unaccented) >= 0.4 * len(examples)
    assert any(re.search(r"\b(ko|k|dc|j|ad)\b", e) for e in examples)


def test_training_data_has_not_taken_the_unseen_sentences_in():
    """Short lines («hello», «ok») are written alike by anyone; beyond a fifth, training copied the set."""
    unseen = [plain_text(e) for path in AUTHORS for _, e in read_examples(path)]
    copies = near_copies(unseen, [plain_text(e) for _, e in training_examples()])
    assert len(copies) <= 0.2 * len(unseen), sorted(copies)[:20]
