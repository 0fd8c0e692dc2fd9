"""Retrieval latency against corpus size, on synthetic corpora built from the real one.

Synthetic chunks are made without re-embedding: each joins sentences of two random real
chunks, and its vector is the normalised weighted mix of those chunks' vectors plus
Gaussian noise (norm ~0.3), so the index holds realistic (not random) vectors. Synthetic
papers have two chunks each and are written straight into a fresh Chroma generation.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import MODES, ms_stats, progress, r

WRITE_BATCH = 2000


def folder_mb(path: Path) -> float:
    return round(sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20, 1)


def synthetic_batch(source: dict[str, Any], start: int, size: int, rng: Any) -> tuple:
    vecs, texts, sents, metas = source["vectors"], source["texts"], source["sents"], source["metas"]
    a, b = rng.integers(0, len(texts), size), rng.integers(0, len(texts), size)
    w = rng.uniform(0.5, 0.9, size)[:, None]
    mix = w * vecs[a] + (1 - w) * vecs[b]
    mix += rng.normal(0, 0.3 / np.sqrt(vecs.shape[1]), mix.shape).astype(np.float32)
    mix /= np.linalg.norm(mix, axis=1, keepdims=True)
    ids, docs, meta = [], [], []
    for j in range(size):
        i = start + j
        sa, sb = sents[a[j]], sents[b[j]]
        text = " ".join(sa[: max(1, len(sa) // 2 + 1)] + sb[len(sb) // 2 :])
        paper = f"synth{i // 2:07d}"
        title = f"{metas[a[j]].get('title', 'Paper')} (synthetic {i // 2})"
        m = {"paper_id": paper, "title": title, "title_raw": title, "sources": '["synthetic"]'}
        m.update(position=i % 2, n_chunks=2, embed_text=f"{title}. {text}", meta_hash="-")
        if i % 2 == 0:
            m["abstract"] = text
        ids.append(f"{paper}-{i % 2}")
        docs.append(text)
        meta.append(m)
    return ids, mix, docs, meta


def write_synthetic(source: dict[str, Any], settings: Any, n: int, embedder: Any) -> float:
    from assistant.index.store import open_client
    from assistant.ingest.writer import new_generation, publish_generation

    client = open_client(settings)
    t0 = time.perf_counter()
    generation = new_generation(settings, client, embedder)
    rng = np.random.default_rng(0)
    for start in range(0, n, WRITE_BATCH):
        ids, vecs, docs, meta = synthetic_batch(source, start, min(WRITE_BATCH, n - start), rng)
        generation.add(ids=ids, embeddings=vecs, documents=docs, metadatas=meta)
        if (start // WRITE_BATCH) % 25 == 0:
            progress(f"  wrote {start + len(ids)}/{n} chunks")
    publish_generation(settings, client, generation, (n + 1) // 2)
    return time.perf_counter() - t0


def source_from(corpus: Any) -> dict[str, Any]:
    from assistant.core.text import split_sentences

    texts = [row.text for row in corpus.rows]
    return {
        "vectors": np.asarray(corpus.vectors, dtype=np.float32),
        "texts": texts,
        "sents": [split_sentences(t) or [t] for t in texts],
        "metas": [row.meta for row in corpus.rows],
    }


def query_latency(retriever: Any, queries: list[str], modes: tuple = MODES) -> dict[str, Any]:
    retriever.keyword_index()
    retriever.search("warm up query", k=10, mode="hybrid")
    out = {}
    for mode in modes:
        times = []
        for q in queries:
            t0 = time.perf_counter()
            retriever.search(q, k=10, mode=mode)
            times.append((time.perf_counter() - t0) * 1000)
        out[mode] = ms_stats(times)
    progress("  " + ", ".join(f"{m} p50 {out[m]['p50_ms']} ms" for m in modes))
    return out


def hnsw_latency(retriever: Any, queries: list[str]) -> dict[str, Any]:
    """Dense search through Chroma's HNSW index (what serves collections above
    ``DENSE_MATRIX_MAX``), for comparison with the in-memory exact search."""
    corpus = retriever.corpus()
    saved, corpus.vectors = corpus.vectors, None
    try:
        return query_latency(retriever, queries, ("dense", "hybrid"))
    finally:
        corpus.vectors = saved


def one_size(source: dict, base: Any, n: int, queries: list[str], workdir: Path) -> dict:
    from assistant.index.embeddings import get_embedder
    from assistant.retrieval.retriever import Retriever

    settings = base.with_overrides(index__persist_dir=workdir / f"synth{n}")
    embedder = get_embedder(settings.index)
    progress(f"synthetic corpus of {n} chunks...")
    row: dict[str, Any] = {"chroma_write_s": r(write_synthetic(source, settings, n, embedder), 2)}
    retriever = Retriever(settings, embedder=embedder)
    t0 = time.perf_counter()
    retriever.corpus()
    row["load_s"] = r(time.perf_counter() - t0, 2)
    t0 = time.perf_counter()
    retriever.keyword_index()
    row["bm25_build_s"] = r(time.perf_counter() - t0, 2)
    row["disk_mb"] = folder_mb(settings.index.persist_dir)
    row["latency"] = query_latency(retriever, queries)
    row["hnsw"] = hnsw_latency(retriever, queries)
    del retriever
    shutil.rmtree(settings.index.persist_dir, ignore_errors=True)
    return row


def bench_scale(
    corpus: Any, base: Any, sizes: list[int], queries: list[str], workdir: Path
) -> dict:
    source = source_from(corpus)
    return {str(n): one_size(source, base, n, queries, workdir) for n in sizes}


def estimate_1m(scaling: dict[str, Any]) -> dict[str, Any] | None:
    """1M chunks, extrapolated from 100k when not measured: above ``DENSE_MATRIX_MAX``
    dense goes through HNSW (its latency grows roughly with log n); BM25 scoring is
    linear in the postings of the query terms, so x10; write and build time linear."""
    base = scaling.get("100000")
    if not base:
        return None
    hnsw = base["hnsw"]["dense"]["p50_ms"] * np.log(1e6) / np.log(1e5)
    bm25 = base["latency"]["bm25"]["p50_ms"] * 10
    return {
        "estimated": True,
        "chroma_write_s": r(base["chroma_write_s"] * 10, 0),
        "bm25_build_s": r(base["bm25_build_s"] * 10, 0),
        "disk_mb": r(base["disk_mb"] * 10, 0),
        "latency": {
            "dense": {"p50_ms": r(hnsw)},
            "bm25": {"p50_ms": r(bm25)},
            "hybrid": {"p50_ms": r(hnsw + bm25)},
        },
    }
