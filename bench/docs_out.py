"""What the bench writes into docs/: the latency plot and the arXiv-scale estimate."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from bench.common import ROOT, dig, progress

PLOT = ROOT / "docs" / "retrieval_latency.png"
SCALING = ROOT / "docs" / "scaling.md"
ARXIV_ABSTRACTS = 2_500_000


def plot_latency(res: dict[str, Any], path: Path = PLOT) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        progress("matplotlib missing (pip install -e '.[bench]'): no plot")
        return False
    points = dict(res.get("scaling", {}))
    if dig(res, "ingest.chunks") and res.get("query_latency"):  # the real corpus
        points[str(res["ingest"]["chunks"])] = {"latency": res["query_latency"]}
    sizes = sorted(int(n) for n in points)
    fig, ax = plt.subplots(figsize=(7, 4.2), dpi=120)
    series = [
        ("hybrid", "latency.hybrid.p50_ms", "o-"),
        (
            f"dense as served (exact up to {_matrix_max():,}, then HNSW)",
            "latency.dense.p50_ms",
            "s-",
        ),
        ("bm25", "latency.bm25.p50_ms", "^-"),
        ("dense via Chroma HNSW", "hnsw.dense.p50_ms", "x--"),
    ]
    for label, key, style in series:
        pts = [(n, dig(points[str(n)], key)) for n in sizes]
        pts = [(n, v) for n, v in pts if v is not None]
        if pts:
            ax.plot([p[0] for p in pts], [p[1] for p in pts], style, label=label)
    for n in sizes:
        if dig(points[str(n)], "estimated"):
            ax.axvspan(n / 1.4, n * 1.4, color="0.9", label="estimated, not measured")
    ax.set_xscale("log")
    ax.set_xlabel("chunks in the index (smallest: the real corpus; others synthetic)")
    ax.set_ylabel("query latency p50 (ms)")
    ax.set_title(f"Retrieval latency vs corpus size ({res['machine']['cpus']} CPUs)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return True


def arxiv_estimate(res: dict[str, Any]) -> dict[str, float] | None:
    """Extrapolate the measured 100k-chunk figures (or the largest size measured)."""
    measured = [n for n in res.get("scaling", {}) if not dig(res["scaling"][n], "estimated")]
    if not measured or not dig(res, "ingest.chunks"):
        return None
    n = max(int(x) for x in measured)
    row = res["scaling"][str(n)]
    per_paper = res["ingest"]["chunks"] / res["ingest"]["papers"]
    chunks = ARXIV_ABSTRACTS * per_paper
    scale = chunks / n
    embed_rate = res["ingest"]["chunks"] / max(1e-9, res["ingest"]["cold_s"] - 5.0)
    vec_gb = chunks * 384 * 4 / 2**30
    return {
        "from_chunks": n,
        "chunks": chunks,
        "chunks_per_paper": per_paper,
        "disk_gb": row["disk_mb"] * scale / 1024,
        "hnsw_ram_gb": vec_gb * 1.25,  # vectors + level-0 links (M=16) and upper levels
        "vectors_gb": vec_gb,
        "chroma_write_h": row["chroma_write_s"] * scale / 3600,
        "embed_h": chunks / embed_rate / 3600,
        "bm25_build_h": row["bm25_build_s"] * scale / 3600,
        "hnsw_p50_ms": dig(row, "hnsw.dense.p50_ms"),
        "hnsw_growth": math.log(chunks) / math.log(n),  # HNSW search grows ~log n
        "bm25_p50_ms_linear": (dig(row, "latency.bm25.p50_ms") or 0) * scale,
    }


def _matrix_max() -> int:
    from assistant.retrieval.retriever import DENSE_MATRIX_MAX

    return DENSE_MATRIX_MAX


def _measured_table(res: dict[str, Any]) -> list[str]:
    lines = [
        "| chunks | Chroma write | BM25 build | disk | dense p50 (as served: exact up to "
        f"{_matrix_max():,} chunks, else HNSW / HNSW only) "
        "| bm25 p50 | hybrid p50 |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for n, row in res.get("scaling", {}).items():
        if dig(row, "estimated"):
            continue
        lines.append(
            f"| {int(n):,} | {row['chroma_write_s']} s | {row['bm25_build_s']} s | "
            f"{row['disk_mb']} MB | {dig(row, 'latency.dense.p50_ms')} / "
            f"{dig(row, 'hnsw.dense.p50_ms')} ms | {dig(row, 'latency.bm25.p50_ms')} ms | "
            f"{dig(row, 'latency.hybrid.p50_ms')} ms |"
        )
    return lines


def write_scaling(res: dict[str, Any], path: Path = SCALING) -> bool:
    est = arxiv_estimate(res)
    if est is None:
        return False
    text = [
        "# Scaling to arXiv size (2.5M abstracts) with the Chroma server",
        "",
        f"Written by `make bench` ({res['timestamp']}, {res['machine']['cpus']} CPUs) from the",
        "synthetic-corpus measurements below, extrapolated linearly from the largest size",
        f"measured ({est['from_chunks']:,} chunks) except where noted: estimates, not "
        "measurements.",
        "",
        *_measured_table(res),
        "",
        f"2.5M abstracts at {est['chunks_per_paper']:.2f} chunks each (this corpus) is "
        f"**{est['chunks'] / 1e6:.1f}M chunks**.",
        "",
        "| what | estimate | basis |",
        "|---|---|---|",
        f"| disk (Chroma server) | ~{est['disk_gb']:.0f} GB | measured MB per chunk x chunks "
        "(SQLite documents + metadata, HNSW files) |",
        f"| server RAM for the HNSW index | ~{est['hnsw_ram_gb']:.0f} GB | "
        f"{est['vectors_gb']:.1f} GB of float32 vectors + ~25% graph links; Chroma keeps the "
        "whole index of a collection in memory |",
        f"| embedding (build) | ~{est['embed_h']:.0f} h on this machine's cores | ingest "
        "throughput measured above; parallel over machines/cores it divides linearly |",
        f"| writing into Chroma | ~{est['chroma_write_h']:.1f} h | measured write rate x chunks "
        "(HNSW insertion grows ~log n, so this is optimistic) |",
        f"| BM25 build | ~{est['bm25_build_h']:.1f} h, then cached | linear in tokens |",
        f"| dense query (HNSW) | ~{(est['hnsw_p50_ms'] or 0) * est['hnsw_growth']:.0f} ms "
        f"+ network | {est['hnsw_p50_ms']} ms at {est['from_chunks']:,}, HNSW grows ~log n "
        f"(x{est['hnsw_growth']:.2f}) |",
        f"| keyword query (BM25) | ~{est['bm25_p50_ms_linear']:.0f} ms | linear in the "
        "postings of the query terms |",
        "",
        "What would have to change first:",
        "",
        "- **Rows in memory.** The retriever loads every chunk's text and metadata into the",
        "  process for BM25 and for answering from memory (~2-3 KB of Python objects per",
        f"  chunk, so ~{est['chunks'] * 2.5e3 / 2**30:.0f} GB at this size). Above a few",
        "  million chunks the keyword index must keep only ids and term postings in memory",
        "  (or move to a search engine) and fetch the hit rows from Chroma by id.",
        f"- **Exact dense search** stops at `DENSE_MATRIX_MAX` ({_matrix_max():,} chunks) by "
        "design; beyond",
        "  that Chroma's HNSW answers (ids and distances only), tuned with `ef_search`.",
        "- **Build** is embedding-bound: int8 ONNX on many cores, or a GPU, and writing",
        "  into Chroma in parallel batches.",
        "",
    ]
    path.write_text("\n".join(text), encoding="utf-8")
    return True
