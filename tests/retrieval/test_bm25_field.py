"""The vectorised BM25 rebuild gives exactly bm25s' own scores."""

from __future__ import annotations

import bm25s
import numpy as np

from retrieval.lexical import Bm25Field
from retrieval.normalize import tokenize_syllables

CORPUS = [
    "thủ tục đăng ký khai sinh cho trẻ em",
    "đăng ký kết hôn kết hôn có yếu tố nước ngoài",
    "cấp giấy phép xây dựng nhà ở riêng lẻ",
    "đăng ký tạm trú tạm trú tạm trú",
    "",
    "chứng thực bản sao từ bản chính",
]


def test_scores_match_bm25s_index():
    tokens = [tokenize_syllables(text) for text in CORPUS]
    field = Bm25Field(k1=1.2, b=0.75)
    field.rows = [field.encode(t) for t in tokens]
    field.rebuild()
    reference = bm25s.BM25(k1=1.2, b=0.75, method="lucene")
    vocab = {**field.vocab, "": len(field.vocab)}
    rows = [[field.vocab[t] for t in doc] for doc in tokens]
    reference.index((rows, vocab), show_progress=False)
    for query in (["đăng", "ký"], ["tạm", "trú"], ["kết", "hôn", "nước"], ["không", "có"]):
        ours = field.scores(query, len(CORPUS))
        ids = [vocab[t] for t in query if t in vocab]
        theirs = reference.get_scores_from_ids(ids) if ids else np.zeros(len(CORPUS))
        assert np.allclose(ours, theirs, atol=1e-5), query
    assert field.frequency("đăng") == 3 and field.frequency("nothing") == 0
