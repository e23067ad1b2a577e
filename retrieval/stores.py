"""Vector stores: exact inner-product search over unit vectors, keyed by document id.

``VectorStore`` is the protocol; :class:`FaissStore` (``IndexIDMap`` over
``IndexFlatIP``) is the default and :class:`NumpyStore` the plain reference. Both pass
``tests/retrieval/test_store_contract.py``. At a few tens of thousands of documents an
exact flat index answers in well under a millisecond, so no approximate index is needed.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class VectorStore(Protocol):
    @property
    def dim(self) -> int: ...

    def __len__(self) -> int: ...

    def __contains__(self, id: object) -> bool: ...

    def add(self, ids: Sequence[str], vectors: np.ndarray) -> None:
        """Add new ids; raises ``ValueError`` if one is already stored."""
        ...

    def upsert(self, ids: Sequence[str], vectors: np.ndarray) -> None:
        """Add or replace."""
        ...

    def remove(self, ids: Sequence[str]) -> int:
        """Remove ids that are present; returns how many were removed."""
        ...

    def search(self, vector: np.ndarray, k: int) -> list[tuple[str, float]]:
        """Up to ``k`` (id, inner product) pairs, best first."""
        ...

    def save(self, directory: str | Path) -> None: ...


def _check_batch(ids: Sequence[str], vectors: np.ndarray, dim: int) -> np.ndarray:
    if isinstance(ids, str):
        raise TypeError("ids phải là danh sách (a sequence of str), không phải một chuỗi")
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    if vectors.ndim != 2 or vectors.shape[1] != dim:
        raise ValueError(f"vectors must have shape (n, {dim}), got {vectors.shape}")
    if len(ids) != len(vectors):
        raise ValueError(f"{len(ids)} ids but {len(vectors)} vectors")
    if len(set(ids)) != len(ids):
        raise ValueError("duplicate ids in one batch")
    return vectors


def _check_query(vector: np.ndarray, k: int, dim: int) -> np.ndarray:
    if k <= 0:
        raise ValueError("k phải > 0 (k must be positive)")
    vector = np.ascontiguousarray(vector, dtype=np.float32).reshape(-1)
    if vector.shape[0] != dim:
        raise ValueError(f"query vector has {vector.shape[0]} dimensions, store has {dim}")
    return vector


class NumpyStore:
    """A matrix and a list of ids; removal swaps the last row into the hole."""

    KIND = "numpy"

    def __init__(self, dim: int):
        if dim <= 0:
            raise ValueError("dim phải > 0")
        self._dim = dim
        self._ids: list[str] = []
        self._rows: dict[str, int] = {}
        self._matrix = np.zeros((0, dim), dtype=np.float32)

    @property
    def dim(self) -> int:
        return self._dim

    def __len__(self) -> int:
        return len(self._ids)

    def __contains__(self, id: object) -> bool:
        return id in self._rows

    def add(self, ids: Sequence[str], vectors: np.ndarray) -> None:
        vectors = _check_batch(ids, vectors, self._dim)
        present = [i for i in ids if i in self._rows]
        if present:
            raise ValueError(f"ids already stored: {present[:5]}")
        start = len(self._ids)
        self._matrix = np.vstack([self._matrix, vectors]) if len(vectors) else self._matrix
        for offset, id in enumerate(ids):
            self._ids.append(id)
            self._rows[id] = start + offset

    def upsert(self, ids: Sequence[str], vectors: np.ndarray) -> None:
        vectors = _check_batch(ids, vectors, self._dim)
        new_ids, new_rows = [], []
        for id, vector in zip(ids, vectors, strict=True):
            row = self._rows.get(id)
            if row is None:
                new_ids.append(id)
                new_rows.append(vector)
            else:
                self._matrix[row] = vector
        if new_ids:
            self.add(new_ids, np.vstack(new_rows))

    def remove(self, ids: Sequence[str]) -> int:
        removed = 0
        for id in ids:
            row = self._rows.pop(id, None)
            if row is None:
                continue
            last = len(self._ids) - 1
            if row != last:
                moved = self._ids[last]
                self._ids[row] = moved
                self._matrix[row] = self._matrix[last]
                self._rows[moved] = row
            self._ids.pop()
            self._matrix = self._matrix[:last]
            removed += 1
        return removed

    def search(self, vector: np.ndarray, k: int) -> list[tuple[str, float]]:
        vector = _check_query(vector, k, self._dim)
        if not self._ids:
            return []
        scores = self._matrix @ vector
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(self._ids[i], float(scores[i])) for i in top]

    def save(self, directory: str | Path) -> None:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        np.save(directory / "vectors.npy", self._matrix)
        (directory / "ids.json").write_text(json.dumps(self._ids, ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, directory: str | Path) -> NumpyStore:
        directory = Path(directory)
        matrix = np.load(directory / "vectors.npy")
        ids = json.loads((directory / "ids.json").read_text(encoding="utf-8"))
        store = cls(int(matrix.shape[1]))
        store.add(ids, matrix)
        return store


class FaissStore:
    """``faiss.IndexIDMap(IndexFlatIP)``; string ids map to int64 labels.

    Searches one query at a time on one thread: a flat scan of a few thousand vectors
    takes ~0.2 ms, while faiss' OpenMP threads, on a shared 2-core machine, turned p95
    into ~8 ms of waiting. ``single_thread=False`` leaves faiss' default (process-wide).
    """

    KIND = "faiss"

    def __init__(self, dim: int, single_thread: bool = True):
        if dim <= 0:
            raise ValueError("dim phải > 0")
        import faiss

        if single_thread:
            faiss.omp_set_num_threads(1)
        self._faiss = faiss
        self._dim = dim
        self._index: Any = faiss.IndexIDMap(faiss.IndexFlatIP(dim))  # faiss ships no precise stubs
        self._labels: dict[str, int] = {}
        self._ids: dict[int, str] = {}
        self._next = 0

    @property
    def dim(self) -> int:
        return self._dim

    def __len__(self) -> int:
        return len(self._labels)

    def __contains__(self, id: object) -> bool:
        return id in self._labels

    def add(self, ids: Sequence[str], vectors: np.ndarray) -> None:
        vectors = _check_batch(ids, vectors, self._dim)
        present = [i for i in ids if i in self._labels]
        if present:
            raise ValueError(f"ids already stored: {present[:5]}")
        labels = np.arange(self._next, self._next + len(ids), dtype=np.int64)
        self._next += len(ids)
        for id, label in zip(ids, labels, strict=True):
            self._labels[id] = int(label)
            self._ids[int(label)] = id
        if len(ids):
            self._index.add_with_ids(vectors, labels)

    def upsert(self, ids: Sequence[str], vectors: np.ndarray) -> None:
        vectors = _check_batch(ids, vectors, self._dim)
        self.remove([i for i in ids if i in self._labels])
        self.add(ids, vectors)

    def remove(self, ids: Sequence[str]) -> int:
        labels = [self._labels.pop(i) for i in ids if i in self._labels]
        for label in labels:
            del self._ids[label]
        if labels:
            self._index.remove_ids(np.asarray(labels, dtype=np.int64))
        return len(labels)

    def search(self, vector: np.ndarray, k: int) -> list[tuple[str, float]]:
        vector = _check_query(vector, k, self._dim)
        if not self._labels:
            return []
        k = min(k, len(self._labels))
        scores, labels = self._index.search(vector[None, :], k)
        pairs = zip(scores[0], labels[0], strict=True)
        return [(self._ids[int(label)], float(score)) for score, label in pairs if label >= 0]

    def save(self, directory: str | Path) -> None:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        self._faiss.write_index(self._index, str(directory / "index.faiss"))
        payload = {"next": self._next, "labels": self._labels}
        (directory / "labels.json").write_text(json.dumps(payload, ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, directory: str | Path) -> FaissStore:
        import faiss

        directory = Path(directory)
        index = faiss.read_index(str(directory / "index.faiss"))
        payload = json.loads((directory / "labels.json").read_text(encoding="utf-8"))
        store = cls(int(index.d))
        store._index = index
        store._labels = {str(k): int(v) for k, v in payload["labels"].items()}
        store._ids = {v: k for k, v in store._labels.items()}
        store._next = int(payload["next"])
        return store


STORES: dict[str, type[FaissStore] | type[NumpyStore]] = {"faiss": FaissStore, "numpy": NumpyStore}


def create_store(kind: str, dim: int) -> FaissStore | NumpyStore:
    if kind not in STORES:
        raise ValueError(f"unknown vector store {kind!r}; choose one of {sorted(STORES)}")
    return STORES[kind](dim)


def load_store(kind: str, directory: str | Path) -> FaissStore | NumpyStore:
    if kind not in STORES:
        raise ValueError(f"unknown vector store {kind!r}; choose one of {sorted(STORES)}")
    return STORES[kind].load(directory)
