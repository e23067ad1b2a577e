"""Saving and opening a :class:`~retrieval.hybrid.HybridIndex`.

What is written: the documents (JSON lines), each group's vector stores (titles, summaries, other
names), and a manifest
(embedder, store, synonyms, preferred levels, and the tuning in use). BM25 fields are rebuilt
from the documents on load (fast), vectors are not recomputed unless missing.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from knowledge_base.schema import Synonym
from retrieval.abstention import ABSTAIN_THRESHOLD, CONFIDENCE_BIAS, CONFIDENCE_WEIGHTS
from retrieval.documents import SearchDocument
from retrieval.fusion import FUSION_WEIGHTS, LEVEL_BOOST
from retrieval.groups import GROUP_OF, GROUPS
from retrieval.lexical import terms_of
from retrieval.stores import load_store

if TYPE_CHECKING:
    from retrieval.embedders import Embedder
    from retrieval.hybrid import HybridIndex

FORMAT_VERSION = 1
TUNING_KEYS = ("weights", "level_boost", "abstain_threshold", "confidence_weights", "confidence_bias")


def tuned_in_code(index: HybridIndex) -> bool:
    """Whether ``index`` uses the module's tuned constants (then a later release's re-tuning applies on load)."""
    return (
        index.weights == FUSION_WEIGHTS
        and index.level_boost == LEVEL_BOOST
        and index.abstain_threshold == ABSTAIN_THRESHOLD
        and index.confidence_weights == CONFIDENCE_WEIGHTS
        and index.confidence_bias == CONFIDENCE_BIAS
    )


def save_index(index: HybridIndex, directory: str | Path) -> None:
    """Write documents, vectors and settings; BM25 is rebuilt from documents on load."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    with (directory / "documents.jsonl").open("w", encoding="utf-8") as out:
        for document in index.documents():
            out.write(json.dumps(document.to_dict(), ensure_ascii=False) + "\n")
    for name in GROUPS:
        group = index.group(name)
        group.title_store.save(directory / name / "title")
        group.summary_store.save(directory / name / "summary")
        group.names_store.save(directory / name / "names")
    manifest = {
        "format": FORMAT_VERSION,
        "embedder": index.embedder.name,
        "dim": index.embedder.dim,
        "store": index.store_kind,
        "synonyms": [[s.phrase, s.canonical] for s in index.synonyms],
        "preferred_levels": list(index.preferred_levels),
        "tuned_in_code": tuned_in_code(index),
        "weights": index.weights,
        "level_boost": index.level_boost,
        "abstain_threshold": index.abstain_threshold,
        "confidence_weights": index.confidence_weights,
        "confidence_bias": index.confidence_bias,
        "saved_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "documents": len(index),
    }
    (directory / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")


def load_index(cls: type[HybridIndex], directory: str | Path, embedder: Embedder) -> HybridIndex:
    """Open an index written by :func:`save_index`; ``embedder`` must be the same model."""
    directory = Path(directory)
    manifest_path = directory / "manifest.json"
    if not manifest_path.exists():
        raise FileNotFoundError(f"không có chỉ mục tìm kiếm ở {directory} (no manifest.json)")
    manifest: dict[str, Any] = json.loads(manifest_path.read_text(encoding="utf-8"))
    if manifest.get("format") != FORMAT_VERSION:
        raise ValueError(f"index format {manifest.get('format')} is not {FORMAT_VERSION}; rebuild it")
    if manifest["embedder"] != embedder.name:
        raise ValueError(
            f"chỉ mục được xây bằng {manifest['embedder']!r}, không phải {embedder.name!r}: "
            "hãy xây lại (rebuild the index with this embedder)"
        )
    tuning: dict[str, Any] = {}
    if not manifest.get("tuned_in_code", True):  # weights chosen by the caller are kept
        tuning = {key: manifest[key] for key in TUNING_KEYS}
    index = cls(
        embedder,
        store=manifest["store"],
        synonyms=[Synonym(p, c) for p, c in manifest["synonyms"]],
        preferred_levels=manifest["preferred_levels"],
        **tuning,
    )
    with (directory / "documents.jsonl").open(encoding="utf-8") as lines:
        documents = [SearchDocument.from_dict(json.loads(line)) for line in lines if line.strip()]
    for name in GROUPS:
        group = index.group(name)
        group.title_store = load_store(manifest["store"], directory / name / "title")
        group.summary_store = load_store(manifest["store"], directory / name / "summary")
        if (directory / name / "names").exists():  # an index saved before names were embedded gets them now
            group.names_store = load_store(manifest["store"], directory / name / "names")
    for document in documents:
        index.group(GROUP_OF[document.kind]).put(document, terms_of(document))
    index.finish_loading()
    return index
