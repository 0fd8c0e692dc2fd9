"""Benchmarks: cold start, ingest vs the LlamaIndex starter, retrieval latency and scaling,
first source in the UI, answers (llama.cpp first token / total), and a busy machine.

Run: ``make bench`` or ``.venv/bin/python bench/bench.py [--quick] [--scale 1m]``.
Prints every figure beside the previous run's (bench/results/latest.json before this run)
and its goal or peer, progress on stderr; writes bench/results/latest.json,
docs/retrieval_latency.png and docs/scaling.md. Timings are only meaningful on an
otherwise idle machine: llama.cpp slows down many times over when another process
competes for the CPU (the load average before the run is recorded).

``--quick`` (a few minutes) runs each part once or a few times, skips the 100k corpus
and the torch-vs-ONNX quality runs. ``--scale 1m`` adds a measured 1M-chunk corpus (an
hour or more of Chroma writes); without it the 1M point is extrapolated and marked so.
``--only scaling --scale 1m`` measures just the synthetic corpora (10k, 100k, 1M) and
merges them into the previous results, so the long 1M run need not repeat the rest;
``--only first_source`` does the same for the time to the first source (in process and
in headless Chromium).
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

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # before bench/ itself, so `bench` is this package

from bench.common import CHILD_ENV, RESULTS, load_previous, progress, r  # noqa: E402

os.environ.update({k: v for k, v in CHILD_ENV.items() if k not in os.environ})


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run of a few minutes")
    parser.add_argument("--scale", choices=["100k", "1m"], help="largest synthetic corpus")
    parser.add_argument("--runs", type=int, help="cold-start runs per command")
    parser.add_argument("--answers", type=int, help="timed answers per backend")
    parser.add_argument("--busy", type=int, help="answers in the busy-machine scenario")
    parser.add_argument("--no-peer", action="store_true", help="skip the LlamaIndex pipeline")
    parser.add_argument("--keep", action="store_true", help="keep the temporary indexes")
    parser.add_argument(
        "--only",
        choices=["scaling", "first_source"],
        help="measure one section again and merge it into the previous results (e.g. "
        "`--only scaling --scale 1m`, an hour of Chroma writes, after a full run)",
    )
    args = parser.parse_args(argv)
    quick = args.quick
    args.runs = args.runs or (3 if quick else 9)
    args.answers = args.answers or (4 if quick else 12)
    args.busy = args.busy if args.busy is not None else (6 if quick else 30)
    args.ingest_runs = 1 if quick else 3
    args.sizes = [10_000] if quick else [10_000, 100_000]
    if args.scale == "1m":
        args.sizes.append(1_000_000)
    return args


def machine() -> dict[str, Any]:
    from llama_cpp import llama_cpp as lib

    return {
        "cpus": os.cpu_count(),
        "load_before": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "platform": platform.platform(),
        "llama_cpp": lib.llama_print_system_info().decode().strip(),
    }


def prepare_models() -> dict[str, Any]:
    """Export the ONNX files now if missing (once per install), so no timing below
    includes it; how long it took is reported."""
    from assistant.index.embeddings import BUNDLED_MODEL, ensure_onnx, resolve_model_path

    t0 = time.perf_counter()
    for quantized in (False, True):
        ensure_onnx(resolve_model_path(BUNDLED_MODEL), quantized=quantized)
    return {"onnx_ready_s": r(time.perf_counter() - t0, 2)}


def real_settings(workdir: Path) -> Any:
    """Settings for the bench's own index of the real corpus, with the real embedder."""
    from assistant.core.settings import load_settings

    return load_settings().with_overrides(
        index__persist_dir=workdir / "real", index__embedder="sentence-transformers"
    )


def first_source(args: argparse.Namespace, settings: Any, retriever: Any) -> dict[str, Any]:
    """Submit -> first source, in process and in headless Chromium."""
    from bench import answers, browser

    inproc = answers.bench_first_source(settings, retriever, 12 if args.quick else 30)
    progress(f"  first source p50 {inproc['p50_ms']} ms")
    progress("first source in a real browser...")
    chromium = browser.bench_first_source_browser(settings, retriever, 6 if args.quick else 20)
    return {"first_source": inproc, "first_source_browser": chromium}


def run_only(args: argparse.Namespace, res: dict[str, Any], workdir: Path) -> None:
    """One section again (on a fresh index of the real corpus), merged into the previous
    run's results; every other figure is kept as it was measured."""
    from assistant.ingest.pipeline import run_ingest
    from assistant.retrieval.retriever import Retriever
    from bench import docs_out, scale

    settings = real_settings(workdir)
    progress("ingest of the real corpus...")
    run_ingest(settings)
    retriever = Retriever(settings)
    res[f"{args.only}_measured_at"] = res["timestamp"]
    if args.only == "first_source":
        res.update(first_source(args, settings, retriever))
        return
    queries = eval_queries()
    res["scaling"] = scale.bench_scale(retriever.corpus(), settings, args.sizes, queries, workdir)
    res["docs"] = {"plot": docs_out.plot_latency(res), "scaling_md": docs_out.write_scaling(res)}


def run_sections(args: argparse.Namespace, res: dict[str, Any], workdir: Path) -> None:
    from assistant.retrieval.retriever import Retriever
    from bench import answers, coldstart, docs_out, ingest_bench, quality, scale

    settings = real_settings(workdir)
    res["models"] = prepare_models()
    res["ingest"] = ingest_bench.bench_ingest(
        workdir / "real", workdir, args.ingest_runs, peer=not args.no_peer
    )
    res["cold_start"] = coldstart.bench_cold_start(workdir / "real", args.runs, not args.quick)
    queries = eval_queries()
    progress(f"query latency on the real index ({len(queries)} questions)...")
    retriever = Retriever(settings)
    res["query_latency"] = scale.query_latency(retriever, queries)
    res.update(first_source(args, settings, retriever))
    res["scaling"] = scale.bench_scale(retriever.corpus(), settings, args.sizes, queries, workdir)
    if "1000000" not in res["scaling"] and (est := scale.estimate_1m(res["scaling"])):
        res["scaling"]["1000000"] = est
    res["answers"] = answers.bench_answers(settings, retriever, args.answers, args.busy)
    if not args.quick:
        res["quality"] = quality.bench_quality(settings, workdir)
    res["docs"] = {"plot": docs_out.plot_latency(res), "scaling_md": docs_out.write_scaling(res)}


def eval_queries() -> list[str]:
    from assistant.answering.rewrite import standalone_query
    from assistant.core.types import Message
    from assistant.evaluation.questions import load_questions
    from bench.common import QUESTIONS

    return [
        standalone_query(q.question, [Message(role="user", content=t) for t in q.earlier_turns])
        for q in load_questions(QUESTIONS)
    ]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    previous = load_previous()
    workdir = Path(tempfile.mkdtemp(prefix="assistant-bench-"))
    started = time.perf_counter()
    res: dict[str, Any] = {
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "quick": args.quick,
        "machine": machine(),
    }
    if args.only:
        # The rest of the report is the previous run's, so it is compared with itself.
        res = {**previous, "timestamp": res["timestamp"], "machine": res["machine"]}
    try:
        if args.only:
            run_only(args, res, workdir)
        else:
            run_sections(args, res, workdir)
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    res["total_s" if not args.only else f"{args.only}_s"] = round(time.perf_counter() - started, 1)
    from bench.report import render

    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(res, indent=2), encoding="utf-8")
    print(render(res, previous))
    print(f"\nTotal {res['total_s']} s; JSON: {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
