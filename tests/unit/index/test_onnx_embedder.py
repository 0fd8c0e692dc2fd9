"""The ONNX embedder's pure parts: length batching, model support, runtime choice, cache
folders and the keyword-index cache (no model is loaded)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.core.errors import ConfigError
from assistant.index import embeddings as E
from assistant.index.keyword import ChunkRow, KeywordIndex, rows_key


def test_length_batches_keep_padding_within_budget() -> None:
    ids = [[0] * n for n in (3, 50, 4, 200, 60, 5)]
    order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
    batches = E._length_batches(order, ids, budget=256, max_batch=3)
    assert sorted(i for b in batches for i in b) == list(range(len(ids)))
    for batch in batches:
        assert len(batch) <= 3
        assert len(batch) * max(len(ids[i]) for i in batch) <= 256 or len(batch) == 1
    assert batches[0] == [0, 2, 5]  # the short ones travel together


def _model_dir(tmp_path: Path, pooling: dict[str, bool]) -> Path:
    (tmp_path / "1_Pooling").mkdir(parents=True)
    (tmp_path / "1_Pooling" / "config.json").write_text(json.dumps(pooling))
    (tmp_path / "tokenizer.json").write_text("{}")
    (tmp_path / "model.safetensors").write_bytes(b"weights")
    return tmp_path


def test_only_mean_pooled_models_run_on_onnx(tmp_path: Path) -> None:
    mean = _model_dir(tmp_path / "mean", {"pooling_mode_mean_tokens": True})
    assert E.onnx_supported(mean)
    cls = _model_dir(tmp_path / "cls", {"pooling_mode_cls_token": True})
    assert not E.onnx_supported(cls)
    both = _model_dir(
        tmp_path / "both", {"pooling_mode_mean_tokens": True, "pooling_mode_cls_token": True}
    )
    assert not E.onnx_supported(both)


def test_cache_folder_follows_the_weights(tmp_path: Path) -> None:
    model = _model_dir(tmp_path / "m", {"pooling_mode_mean_tokens": True})
    first = E.onnx_cache_dir(model)
    assert first == E.onnx_cache_dir(model) and first.parent == E.ONNX_CACHE
    (model / "model.safetensors").write_bytes(b"other weights, other size")
    assert E.onnx_cache_dir(model) != first  # new weights are exported again


def test_runtime_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(E.RUNTIME_ENV, raising=False)
    assert E.embed_runtime() == "onnx"
    monkeypatch.setenv(E.RUNTIME_ENV, "Torch")
    assert E.embed_runtime() == "torch"
    monkeypatch.setenv(E.RUNTIME_ENV, "gpu")
    with pytest.raises(ConfigError, match="ASSISTANT_EMBED_RUNTIME"):
        E.embed_runtime()


ROWS = [
    ChunkRow("a", "Physics-informed neural networks fail on stiff problems.", {}),
    ChunkRow("b", "Graph neural networks simulate fluid flow on meshes.", {}),
]


def test_keyword_index_is_cached_and_reloaded(tmp_path: Path) -> None:
    built = KeywordIndex.cached(ROWS, tmp_path)
    assert (tmp_path / rows_key(ROWS) / "complete.json").is_file()
    loaded = KeywordIndex.cached(ROWS, tmp_path)
    assert loaded.search("stiff networks", 5) == built.search("stiff networks", 5)
    other = [*ROWS, ChunkRow("c", "Transformers fold proteins.", {})]
    assert rows_key(other) != rows_key(ROWS)  # other chunks, other cache entry


def test_a_damaged_keyword_cache_is_rebuilt(tmp_path: Path) -> None:
    folder = tmp_path / rows_key(ROWS)
    folder.mkdir()
    (folder / "complete.json").write_text("{}")  # claims complete, holds nothing
    found = KeywordIndex.cached(ROWS, tmp_path).search("fluid meshes", 5)
    assert [r.chunk_id for r, _ in found] == ["b"]


def test_indexing_defaults_to_int8_unless_told(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(E.RUNTIME_ENV, raising=False)
    monkeypatch.delenv(E.INDEX_RUNTIME_ENV, raising=False)
    assert E.embed_runtime("index") == "onnx-int8"
    monkeypatch.setenv(E.RUNTIME_ENV, "torch")  # one setting for both, e.g. the torch baseline
    assert E.embed_runtime("index") == "torch"
    monkeypatch.setenv(E.INDEX_RUNTIME_ENV, "onnx")
    assert (E.embed_runtime("index"), E.embed_runtime()) == ("onnx", "torch")
