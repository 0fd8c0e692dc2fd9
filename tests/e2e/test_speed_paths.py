"""The fast paths give the same answers as the slow ones: ONNX vs torch vectors, exact
in-memory dense search vs Chroma's HNSW, and the Chroma-free snapshot vs Chroma."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from assistant.core.settings import PROJECT_ROOT, Settings
from assistant.index.embeddings import (
    BUNDLED_MODEL,
    OnnxEmbedder,
    embed_array,
    load_model_embedder,
)
from assistant.retrieval.retriever import Retriever
from assistant.retrieval.snapshot import load_snapshot, snapshot_dir

QUESTIONS = PROJECT_ROOT / "eval" / "questions.jsonl"


def sentences(n: int = 20) -> list[str]:
    lines = QUESTIONS.read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["question"] for line in lines if line.strip()][:n]


@pytest.mark.usefixtures("real_models")
def test_onnx_vectors_match_torch() -> None:
    texts = sentences(20)
    onnx = embed_array(load_model_embedder(BUNDLED_MODEL, "onnx"), texts)
    torch = embed_array(load_model_embedder(BUNDLED_MODEL, "torch"), texts)
    cosines = np.sum(onnx * torch, axis=1)
    assert cosines.min() >= 0.999, cosines.min()
    # Batching must not change a vector: alone or among longer texts, the same.
    alone = embed_array(load_model_embedder(BUNDLED_MODEL, "onnx"), texts[:1])
    assert float(alone[0] @ onnx[0]) > 0.99999


@pytest.mark.usefixtures("real_models")
def test_exact_dense_search_matches_chroma_hnsw(real_index: Settings) -> None:
    retriever = Retriever(real_index)
    corpus = retriever.corpus()
    assert corpus.vectors is not None
    for question in sentences(10):
        exact = [row.chunk_id for row, _ in retriever._dense(question, 10)]
        saved, corpus.vectors = corpus.vectors, None
        try:
            hnsw = [row.chunk_id for row, _ in retriever._dense(question, 10)]
        finally:
            corpus.vectors = saved
        assert exact[:5] == hnsw[:5]


def _search(index_dir: Path, importtime: bool = False) -> subprocess.CompletedProcess[str]:
    flags = ["-X", "importtime"] if importtime else []
    return subprocess.run(
        [sys.executable, *flags, "-m", "assistant", "search", "stiff PDE solvers", "--json"]
        + ["--index-dir", str(index_dir)],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        timeout=300,
    )


@pytest.mark.usefixtures("real_models")
def test_cold_search_needs_neither_chroma_nor_torch(real_index: Settings, tmp_path: Path) -> None:
    index = tmp_path / "index"
    shutil.copytree(real_index.index.persist_dir, index)
    shutil.rmtree(index / ".snapshot", ignore_errors=True)
    first = _search(index, importtime=True)  # opens Chroma, writes the snapshot
    assert first.returncode == 0, first.stderr
    assert "| chromadb\n" in first.stderr + "\n"
    second = _search(index, importtime=True)
    assert second.returncode == 0, second.stderr
    imported = {line.rsplit("|", 1)[-1].strip() for line in second.stderr.splitlines()}
    assert not imported & {"chromadb", "torch", "sentence_transformers", "gradio", "llama_cpp"}
    assert json.loads(second.stdout) == json.loads(first.stdout)


@pytest.mark.usefixtures("real_models")
def test_a_written_index_invalidates_the_snapshot(real_index: Settings, tmp_path: Path) -> None:
    from assistant.index.store import open_client

    settings = real_index.with_overrides(index__persist_dir=tmp_path / "index")
    shutil.copytree(real_index.index.persist_dir, settings.index.persist_dir)
    retriever = Retriever(settings)
    retriever.corpus()  # loads from Chroma (or the copied snapshot) and keeps a snapshot
    dim = retriever.embedder.dim
    assert (snapshot_dir(settings) / "meta.json").is_file()
    assert load_snapshot(settings, dim) is not None
    manifest = open_client(settings).get_collection(settings.index.collection)
    manifest.modify(metadata={**(manifest.metadata or {}), "touched": 1})  # any write
    assert load_snapshot(settings, dim) is None


@pytest.mark.usefixtures("real_models")
def test_ingest_pieces_are_the_tokenizers_own() -> None:
    """Ingest embeds the word pieces chunking counted instead of tokenising each chunk
    again; on the real corpus they must be exactly what tokenising the chunk gives, and
    so must the vectors."""
    from assistant.core.settings import load_settings
    from assistant.ingest.pipeline import build_chunks, load_papers

    embedder = load_model_embedder(BUNDLED_MODEL, "onnx")
    chunks = [
        c
        for c, _ in build_chunks(
            load_settings(), load_papers(load_settings())[0], embedder
        ).values()
    ]
    assert chunks and all(c.token_ids for c in chunks)
    texts = [c.embed_text for c in chunks]
    assert [tuple(c.token_ids) for c in chunks] == [embedder.encode(t) for t in texts]
    sample = chunks[::4]
    by_text = embed_array(embedder, [c.embed_text for c in sample])
    by_pieces = embedder.embed_encoded([c.token_ids for c in sample])
    assert float(np.min(np.sum(by_text * by_pieces, axis=1))) > 0.99999
    # Ingest's pool of single-threaded sessions: many batches side by side, same order.
    bulk = OnnxEmbedder(BUNDLED_MODEL, bulk=True).embed_encoded([c.token_ids for c in sample])
    assert len(sample) > 2 * OnnxEmbedder.MAX_BATCH  # several batches, so the pool runs
    assert float(np.min(np.sum(bulk * by_pieces, axis=1))) > 0.99999
