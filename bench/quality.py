"""The ONNX embedder against the torch one: same vectors, same retrieval quality.

Vectors: cosine between the two runtimes' embeddings of 20 eval questions (goal >= 0.999).
Quality: R@5 per retrieval mode on eval/questions.jsonl and eval/heldout.jsonl, each
configuration with an index built by its own runtime (goal: within 0.005 of torch fp32).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import HELDOUT, MODES, QUESTIONS, progress

# (index built with, queries embedded with): the runtimes compared.
CONFIGS = {
    "torch": ("torch", "torch"),
    "onnx": ("onnx", "onnx"),
    "onnx-int8 index": ("onnx-int8", "onnx"),
}


@contextmanager
def runtime(name: str) -> Iterator[None]:
    from assistant.index.embeddings import RUNTIME_ENV

    saved = os.environ.get(RUNTIME_ENV)
    os.environ[RUNTIME_ENV] = name
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop(RUNTIME_ENV, None)
        else:
            os.environ[RUNTIME_ENV] = saved


def vector_agreement() -> dict[str, float]:
    from assistant.index.embeddings import BUNDLED_MODEL, embed_array, load_model_embedder

    lines = QUESTIONS.read_text(encoding="utf-8").splitlines()
    texts = [json.loads(line)["question"] for line in lines if line.strip()][:20]
    ref = embed_array(load_model_embedder(BUNDLED_MODEL, "torch"), texts)
    out = {}
    for name in ("onnx", "onnx-int8"):
        vecs = embed_array(load_model_embedder(BUNDLED_MODEL, name), texts)
        out[f"{name}_min_cosine"] = round(float(np.min(np.sum(vecs * ref, axis=1))), 6)
    return out


def recall_at_5(settings: Any, questions: Path, workdir: Path) -> dict[str, float | None]:
    from assistant.evaluation.runner import run_eval

    report = run_eval(settings, questions, workdir, modes=list(MODES), progress=False)
    data = report.model_dump()
    return {m: data["retrieval"][m]["overall"].get("recall@5") for m in MODES}


def bench_quality(base: Any, workdir: Path) -> dict[str, Any]:
    from assistant.ingest.pipeline import run_ingest

    progress("embedder agreement (20 sentences, torch vs ONNX)...")
    out: dict[str, Any] = {"vectors": vector_agreement(), "recall@5": {}}
    progress(f"  {out['vectors']}")
    for name, (index_rt, query_rt) in CONFIGS.items():
        settings = base.with_overrides(index__persist_dir=workdir / f"q-{name.replace(' ', '-')}")
        progress(f"R@5 with {name}: ingest ({index_rt}) and eval ({query_rt})...")
        with runtime(index_rt):
            run_ingest(settings)
        with runtime(query_rt):
            out["recall@5"][name] = {
                qfile.stem: recall_at_5(settings, qfile, workdir / f"eval-{name}-{qfile.stem}")
                for qfile in (QUESTIONS, HELDOUT)
            }
        progress(f"  {out['recall@5'][name]}")
    ref = out["recall@5"]["torch"]
    out["max_abs_delta"] = {
        name: max(abs((got[f][m] or 0) - (ref[f][m] or 0)) for f in ref for m in MODES)
        for name, got in out["recall@5"].items()
        if name != "torch"
    }
    return out
