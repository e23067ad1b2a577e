"""A procedure's every name searched on its own (issue 18): its everyday name and aliases are embedded
one by one and matched syllable by syllable, kept in step with edits, saved and opened with the index."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from retrieval import fusion
from retrieval.documents import procedure_to_document
from retrieval.embedders import HashingEmbedder
from retrieval.groups import alias_ids, names_of, other_names
from retrieval.hybrid import HybridIndex
from tests.retrieval.synthetic import make_documents, make_procedures

EVERYDAY = {"1.001193": ["làm giấy khai sinh cho con", "giấy ks"], "1.000656": ["báo tử người mất"]}


def _documents():
    documents = []
    for procedure in make_procedures():
        documents.append(procedure_to_document(replace(procedure, aliases=EVERYDAY.get(procedure.code, []))))
    return documents + [d for d in make_documents() if d.kind != "procedure"]


@pytest.fixture()
def index() -> HybridIndex:
    index = HybridIndex(HashingEmbedder(), store="numpy")
    index.build(_documents())
    return index


def _signals(index: HybridIndex, text: str) -> dict[str, np.ndarray]:
    analyzed = index.analyzer.analyze(text)
    vector = index.embedder.embed_queries([analyzed.dense_text])[0]
    return fusion.signals(index.group("procedures"), analyzed, vector)


def _position(index: HybridIndex, code: str) -> int:
    return index.group("procedures").positions[f"procedure:{code}"]


def test_other_names_leave_out_the_title_and_repeats_and_belong_to_procedures_only():
    document = procedure_to_document(replace(make_procedures()[0], aliases=["  A  b ", "a B", make_procedures()[0].name]))
    assert other_names(document) == ["A b"]
    assert names_of(document) == [document.title, "A b"]
    assert alias_ids(document) == [f"{document.id}#name0"]
    passage = next(d for d in make_documents() if d.kind == "passage")
    assert other_names(passage) == [] and alias_ids(passage) == []


def test_an_alias_said_word_for_word_covers_the_whole_name_though_the_title_is_not_said(index):
    raw = _signals(index, "giay ks cua be")
    birth = _position(index, "1.001193")
    assert raw["names_coverage"][birth] == pytest.approx(1.0, abs=1e-3)  # «giấy ks», without diacritics
    assert raw["title_coverage"][birth] < 0.5
    assert int(np.argmax(raw["names_coverage"])) == birth


def test_the_names_cosine_is_the_best_of_the_title_and_each_alias(index):
    query = "báo tử người mất"
    raw = _signals(index, query)
    death = _position(index, "1.000656")
    analyzed = index.analyzer.analyze(query)
    vector = index.embedder.embed_queries([analyzed.dense_text])[0]
    alias = float(index.embedder.embed_documents(["báo tử người mất"])[0] @ vector)
    assert raw["dense_names"][death] > raw["dense_title"][death]  # the alias said word for word
    assert raw["dense_names"][death] == pytest.approx(max(alias, float(raw["dense_title"][death])), abs=1e-5)
    assert (raw["dense_names"] >= raw["dense_title"] - 1e-6).all()


def test_names_follow_edits_and_removals(index):
    group = index.group("procedures")
    assert len(group.names_store) == 3
    birth = next(d for d in group.documents if d.fields.get("code") == "1.001193")
    fewer = replace(birth, fields={**birth.fields, "aliases": ["đăng ký khai sinh cho bé"]},
                    text=birth.text + " (sửa)")
    assert index.upsert(fewer)
    assert len(group.names_store) == 2  # the stale second alias left with the edit
    assert f"{birth.id}#name1" not in group.names_store
    raw = _signals(index, "dang ky khai sinh cho be")
    assert raw["names_coverage"][group.positions[birth.id]] == pytest.approx(1.0, abs=1e-3)
    assert index.remove(birth.id)
    assert len(group.names_store) == 1 and f"{birth.id}#name0" not in group.names_store
    assert group.name_owners.size == len([d for d in group.documents if d.kind == "procedure"]) + 1


def test_names_are_saved_with_the_index_and_an_older_index_gets_them_on_opening(index, tmp_path):
    index.save(tmp_path / "new")
    loaded = HybridIndex.load(tmp_path / "new", HashingEmbedder())
    assert len(loaded.group("procedures").names_store) == 3
    query = "giay ks cua be"
    assert loaded.search(query).to_json() == index.search(query).to_json()

    index.save(tmp_path / "old")
    import shutil

    shutil.rmtree(tmp_path / "old" / "procedures" / "names")  # as an index saved before names were embedded
    older = HybridIndex.load(tmp_path / "old", HashingEmbedder())
    assert len(older.group("procedures").names_store) == 3
    assert older.search(query).to_json() == index.search(query).to_json()


def test_the_first_procedure_carries_its_lead_over_the_second_on_single_signals(index):
    """What the answer model reads (``ProcedureHit.lead``): the first hit's scaled signals minus the
    second's, on the first hit only."""
    from retrieval.hybrid import procedure_hits

    group = index.group("procedures")
    analyzed = index.analyzer.analyze("giay ks cua be")
    vector = index.embedder.embed_queries([analyzed.dense_text])[0]
    result = index.search_procedures(group, analyzed, vector, {"procedure"})
    first, second, *_ = procedure_hits(group, result, 5, index.total_weight)
    raw = fusion.signals(group, analyzed, vector)
    at = [group.positions[first.document_id], group.positions[second.document_id]]
    assert set(first.lead) == set(fusion.LEAD_SIGNALS) and second.lead == {}
    for name in fusion.LEAD_SIGNALS:
        scaled = fusion.scaled_signal(name, raw[name])
        assert first.lead[name] == pytest.approx(float(scaled[at[0]] - scaled[at[1]]), abs=1e-6)
    assert first.code == "1.001193" and first.lead["names_coverage"] > 0  # «giấy ks» is its name alone
