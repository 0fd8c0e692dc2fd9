"""Benchmarks: ingest time, query latency per mode, scaling with corpus size, answer timings.

Run: ``.venv/bin/python bench/bench.py [--quick]`` (``--quick`` skips the 100k-chunk corpus).
Prints a table on stdout, progress on stderr, and writes bench/results/latest.json.

Synthetic corpora (10k / 100k chunks) are made from the real corpus without re-embedding:
every real chunk is embedded once with the real model; each synthetic chunk's text joins
sentences taken from two random real chunks, and its vector is the normalised weighted
mix of those two chunks' vectors plus Gaussian noise (norm ~0.3). Synthetic papers have
two chunks each and are written straight into a fresh Chroma collection in batches.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from assistant.evaluation.runner.metrics import percentile  # noqa: E402

from assistant.answering.rewrite import standalone_query  # noqa: E402
from assistant.core.settings import Settings, load_settings  # noqa: E402
from assistant.core.text import split_sentences  # noqa: E402
from assistant.evaluation.runner import load_questions  # noqa: E402

MODES = ("dense", "bm25", "hybrid")
QUESTIONS = ROOT / "eval" / "questions.jsonl"
RESULTS = ROOT / "bench" / "results" / "latest.json"
ANSWER_BACKENDS = ("extractive", "llamacpp")


def progress(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def eval_queries() -> list[str]:
    return [
        standalone_query(q.question, [{"role": "user", "content": t} for t in q.earlier_turns])
        for q in load_questions(QUESTIONS)
    ]


def ms_stats(values: list[float]) -> dict[str, float | None]:
    return {
        "p50_ms": _r(percentile(values, 50)),
        "p95_ms": _r(percentile(values, 95)),
        "n": len(values),
    }


def _r(v: float | None, d: int = 1) -> float | None:
    return None if v is None else round(v, d)


def query_latency(retriever: Any, queries: list[str]) -> dict[str, dict]:
    retriever.keyword_index()
    retriever.search("warm up query", k=10, mode="hybrid")
    out = {}
    for mode in MODES:
        times = []
        for q in queries:
            t0 = time.perf_counter()
            retriever.search(q, k=10, mode=mode)
            times.append((time.perf_counter() - t0) * 1000)
        out[mode] = ms_stats(times)
        progress(f"  {mode}: p50 {out[mode]['p50_ms']} ms, p95 {out[mode]['p95_ms']} ms")
    return out


def bench_ingest(settings: Settings) -> dict[str, Any]:
    from assistant.ingest.pipeline import run_ingest

    progress("cold ingest (fresh index, real MiniLM embedder)...")
    t0 = time.perf_counter()
    cold = run_ingest(settings)
    cold_s = time.perf_counter() - t0  # includes loading the model
    progress(f"  cold: {cold.chunks} chunks in {cold_s:.1f} s; re-running (no-op)...")
    t0 = time.perf_counter()
    noop = run_ingest(settings)
    noop_s = time.perf_counter() - t0
    assert noop.added == 0, noop
    return {
        "papers": cold.papers,
        "chunks": cold.chunks,
        "cold_s": round(cold_s, 2),
        "noop_s": round(noop_s, 2),
        "noop_unchanged": noop.unchanged,
    }


def synthetic_corpus(
    source: Any, settings: Settings, n_chunks: int, embedder: Any, seed: int = 0
) -> dict[str, Any]:
    """Write ``n_chunks`` synthetic chunks into a fresh collection (see module doc)."""
    from assistant.index.store import open_client
    from assistant.ingest import writer as index

    got = source.get(include=["embeddings", "documents", "metadatas"])
    vecs = np.asarray(got["embeddings"], dtype=np.float32)
    docs, metas = got["documents"], got["metadatas"]
    sents = [split_sentences(d) or [d] for d in docs]
    rng = np.random.default_rng(seed)
    client = open_client(settings)
    t0 = time.perf_counter()
    collection = index.get_or_create_collection(settings, client, embedder, rebuild=True)
    batch = min(2000, int(client.get_max_batch_size()))
    for start in range(0, n_chunks, batch):
        size = min(batch, n_chunks - start)
        a, b = rng.integers(0, len(docs), size), rng.integers(0, len(docs), size)
        w = rng.uniform(0.5, 0.9, size)[:, None]
        mix = w * vecs[a] + (1 - w) * vecs[b]
        mix += rng.normal(0, 0.3 / np.sqrt(vecs.shape[1]), mix.shape).astype(np.float32)
        mix /= np.linalg.norm(mix, axis=1, keepdims=True)
        ids, texts, meta = [], [], []
        for j in range(size):
            i = start + j
            sa, sb = sents[a[j]], sents[b[j]]
            text = " ".join(sa[: max(1, len(sa) // 2 + 1)] + sb[len(sb) // 2 :])
            paper = f"synth{i // 2:07d}"
            title = f"{metas[a[j]]['title']} (synthetic {i // 2})"
            ids.append(f"{paper}-{i % 2}")
            texts.append(text)
            meta.append(
                {
                    "paper_id": paper,
                    "title": title,
                    "title_raw": title,
                    "abstract": text,
                    "sources": '["synthetic"]',
                    "position": i % 2,
                    "n_chunks": 2,
                    "embed_text": f"{title}. {text}",
                    "meta_hash": "-",
                }
            )
        collection.add(ids=ids, embeddings=mix.tolist(), documents=texts, metadatas=meta)
        if (start // batch) % 10 == 0:
            progress(f"  wrote {start + size}/{n_chunks} chunks")
    index.set_paper_count(collection, (n_chunks + 1) // 2)
    return {"chroma_write_s": round(time.perf_counter() - t0, 2)}


def bench_scale(
    source: Any, base: Settings, sizes: list[int], queries: list[str], workdir: Path
) -> dict[str, Any]:
    from assistant.retrieval.retriever.retriever import Retriever

    from assistant.index.embeddings import get_embedder

    embedder = get_embedder(base.index)
    out: dict[str, Any] = {}
    for n in sizes:
        progress(f"synthetic corpus of {n} chunks...")
        settings = base.with_overrides(index__persist_dir=workdir / f"synth{n}")
        row = synthetic_corpus(source, settings, n, embedder)
        retriever = Retriever(settings, embedder=embedder)
        t0 = time.perf_counter()
        retriever.keyword_index()
        row["bm25_build_s"] = round(time.perf_counter() - t0, 2)
        row["build_s"] = round(row["chroma_write_s"] + row["bm25_build_s"], 2)
        progress(f"  built: chroma {row['chroma_write_s']} s, bm25 {row['bm25_build_s']} s")
        row["latency"] = query_latency(retriever, queries)
        out[str(n)] = row
        del retriever
        shutil.rmtree(settings.index.persist_dir, ignore_errors=True)
    return out


def bench_answers(settings: Settings, retriever: Any, n: int) -> dict[str, Any]:
    """Assistant.ask timings per backend. Each backend gets a fresh Assistant (a cold
    sentence-embedding cache, so neither profits from the other's run) and one untimed
    warm-up question that loads its model."""
    from assistant.answering.assistant import Assistant

    answerable = [q for q in load_questions(QUESTIONS) if q.type in ("factual", "topic")]
    warmup, picked = answerable[0], answerable[1 : n + 1]
    settings = settings.with_overrides(llm__fallback=None)  # time the backend itself
    out: dict[str, Any] = {}
    for name in ANSWER_BACKENDS:
        progress(f"answers with {name} ({len(picked)} questions + 1 warm-up)...")
        assistant = Assistant(settings, retriever=retriever)
        try:
            t0 = time.perf_counter()
            first = assistant.ask(warmup.question, backend=name)
            if first.fallback_reason:
                raise RuntimeError(first.fallback_reason)
            warmup_s = time.perf_counter() - t0
            ttft, total, failed, abstained = [], [], [], 0
            for q in picked:
                ans = assistant.ask(q.question, backend=name)
                if ans.abstained:
                    abstained += 1
                elif ans.fallback_reason or not ans.complete:
                    failed.append(ans.fallback_reason or "incomplete")
                    continue
                if ans.timings.first_token_ms is not None:
                    ttft.append(ans.timings.first_token_ms)
                total.append(ans.timings.total_ms)
            if failed and not total:
                raise RuntimeError(failed[0])
        except Exception as exc:  # one broken backend must not sink the whole bench
            reason = f"{type(exc).__name__}: {exc}"
            progress(f"  {name} unavailable: {reason}")
            out[name] = {"unavailable": reason}
            continue
        out[name] = {
            "warmup_s": round(warmup_s, 2),
            "ttft": ms_stats(ttft),
            "total": ms_stats(total),
            "failed": len(failed),
            "abstained": abstained,
        }
        progress(
            f"  TTFT p50 {out[name]['ttft']['p50_ms']} ms, total p50 "
            f"{out[name]['total']['p50_ms']} ms"
        )
    return out


def table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows, strict=True)]
    line = lambda r: "  ".join(str(x).rjust(w) for x, w in zip(r, widths, strict=True))  # noqa: E731
    return "\n".join([line(header), "  ".join("-" * w for w in widths), *map(line, rows)])


def render(res: dict[str, Any]) -> str:
    ing, lat = res["ingest"], res["query_latency"]
    out = [
        f"Benchmark ({res['machine']['cpus']} CPUs, {res['machine']['python']}, "
        f"{res['timestamp']})",
        "",
        f"Ingest: {ing['papers']} papers / {ing['chunks']} chunks, cold {ing['cold_s']} s "
        f"(incl. model load), no-op re-run {ing['noop_s']} s",
        "",
        f"Query latency, real index, {lat['dense']['n']} eval questions, top 10 (ms):",
        table([[m, lat[m]["p50_ms"], lat[m]["p95_ms"]] for m in MODES], ["mode", "p50", "p95"]),
        "",
    ]
    rows = [
        [
            f"{ing['chunks']} (real)",
            "-",
            "-",
            *(x for m in MODES for x in (lat[m]["p50_ms"], lat[m]["p95_ms"])),
        ]
    ]
    for n, r in res["scaling"].items():
        rows.append(
            [
                n,
                r["chroma_write_s"],
                r["bm25_build_s"],
                *(x for m in MODES for x in (r["latency"][m]["p50_ms"], r["latency"][m]["p95_ms"])),
            ]
        )
    out += [
        "Scaling with corpus size (synthetic corpora, see bench.py doc):",
        table(
            rows,
            ["chunks", "chroma s", "bm25 s", *(f"{m} {p}" for m in MODES for p in ("p50", "p95"))],
        ),
        "",
        "Answers via Assistant.ask (ms from question in, retrieval and evidence scoring"
        " included; fallback off; warm-up = first answer incl. model load, s):",
    ]
    arows = []
    for name, r in res["answers"].items():
        if "unavailable" in r:
            arows.append([name, f"unavailable: {r['unavailable']}", "", "", "", "", ""])
        else:
            arows.append(
                [
                    name,
                    r["ttft"]["p50_ms"],
                    r["ttft"]["p95_ms"],
                    r["total"]["p50_ms"],
                    r["total"]["p95_ms"],
                    r["total"]["n"],
                    r["warmup_s"],
                ]
            )
    header = ["backend", "TTFT p50", "TTFT p95", "total p50", "total p95", "n", "warm-up s"]
    out.append(table(arows, header))
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip the 100k-chunk corpus")
    parser.add_argument("--answers", type=int, default=8, help="questions per backend")
    parser.add_argument("--keep", action="store_true", help="keep the temporary indexes")
    args = parser.parse_args(argv)
    sizes = [10_000] if args.quick else [10_000, 100_000]
    workdir = Path(tempfile.mkdtemp(prefix="assistant-bench-"))
    started = time.perf_counter()
    try:
        from assistant.retrieval.retriever.retriever import Retriever

        settings = load_settings().with_overrides(
            index__persist_dir=workdir / "real", index__embedder="sentence-transformers"
        )
        res: dict[str, Any] = {
            "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S"),
            "machine": {
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
                "platform": platform.platform(),
            },
            "synthetic_method": __doc__.split("\n\n")[2].replace("\n", " "),
        }
        res["ingest"] = bench_ingest(settings)
        queries = eval_queries()
        progress(f"query latency on the real index ({len(queries)} questions)...")
        retriever = Retriever(settings)
        res["query_latency"] = query_latency(retriever, queries)
        res["scaling"] = bench_scale(retriever.collection, settings, sizes, queries, workdir)
        res["answers"] = bench_answers(settings, retriever, args.answers)
        res["total_s"] = round(time.perf_counter() - started, 1)
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(res, indent=2))
    print(render(res))
    print(f"\nTotal {res['total_s']} s; JSON: {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
