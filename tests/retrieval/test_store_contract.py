"""Every vector store keeps the same promises (one shared contract)."""

from __future__ import annotations

import numpy as np
import pytest

from retrieval.stores import FaissStore, NumpyStore, VectorStore, create_store

DIM = 8


def _unit(seed: int) -> np.ndarray:
    vector = np.random.default_rng(seed).normal(size=DIM).astype(np.float32)
    return vector / np.linalg.norm(vector)


@pytest.fixture(params=["faiss", "numpy"])
def store(request) -> VectorStore:
    return create_store(request.param, DIM)


@pytest.fixture
def filled(store) -> VectorStore:
    store.add(["a", "b", "c"], np.vstack([_unit(1), _unit(2), _unit(3)]))
    return store


def test_store_satisfies_protocol(store):
    assert isinstance(store, VectorStore)
    assert store.dim == DIM
    assert len(store) == 0
    assert store.search(_unit(1), 3) == []


def test_search_returns_the_vector_itself_first(filled):
    hits = filled.search(_unit(2), 3)
    assert hits[0][0] == "b"
    assert hits[0][1] == pytest.approx(1.0, abs=1e-5)
    assert [score for _, score in hits] == sorted((score for _, score in hits), reverse=True)


def test_k_larger_than_store_returns_everything(filled):
    assert {id for id, _ in filled.search(_unit(1), 10)} == {"a", "b", "c"}


def test_adding_an_existing_id_is_refused(filled):
    with pytest.raises(ValueError):
        filled.add(["a"], _unit(9)[None, :])


def test_upsert_replaces_the_vector(filled):
    filled.upsert(["a"], _unit(2)[None, :])
    assert len(filled) == 3
    top_two = {id for id, _ in filled.search(_unit(2), 2)}
    assert top_two == {"a", "b"}
    filled.upsert(["d"], _unit(4)[None, :])
    assert "d" in filled and len(filled) == 4


def test_remove_forgets_ids_and_ignores_unknown(filled):
    assert filled.remove(["b", "zzz"]) == 1
    assert "b" not in filled and len(filled) == 2
    assert "b" not in {id for id, _ in filled.search(_unit(2), 3)}
    filled.add(["b"], _unit(2)[None, :])  # the id can come back
    assert filled.search(_unit(2), 1)[0][0] == "b"


def test_bad_shapes_and_k_are_refused(store):
    with pytest.raises(ValueError):
        store.add(["x"], np.zeros((1, DIM + 1), dtype=np.float32))
    with pytest.raises(ValueError):
        store.add(["x", "y"], np.zeros((1, DIM), dtype=np.float32))
    with pytest.raises(ValueError):
        store.search(_unit(1), 0)
    with pytest.raises(TypeError):
        store.add("x", _unit(1)[None, :])  # type: ignore[arg-type]


def test_save_and_load_round_trip(filled, tmp_path):
    filled.remove(["a"])
    filled.save(tmp_path)
    loaded = type(filled).load(tmp_path)
    assert len(loaded) == 2
    assert loaded.search(_unit(3), 1)[0][0] == "c"
    loaded.add(["e"], _unit(5)[None, :])  # ids keep working after a reload
    assert loaded.search(_unit(5), 1)[0][0] == "e"


def test_unknown_store_kind_is_refused():
    with pytest.raises(ValueError):
        create_store("annoy", DIM)


def test_both_stores_agree(tmp_path):
    vectors = np.vstack([_unit(i) for i in range(20)])
    ids = [f"d{i}" for i in range(20)]
    faiss_store, numpy_store = FaissStore(DIM), NumpyStore(DIM)
    faiss_store.add(ids, vectors)
    numpy_store.add(ids, vectors)
    query = _unit(100)
    assert [i for i, _ in faiss_store.search(query, 5)] == [i for i, _ in numpy_store.search(query, 5)]
