"""Cold start: `assistant search` and `assistant ask --backend extractive` as fresh processes.

Each command runs once untimed first (it writes the index snapshot and the keyword-index
cache that every later start reuses; the OS file cache is then warm too), then ``runs``
timed times. Wall time from process start to exit, as a user sees it.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

from bench.common import ROOT, assistant_cmd, child_env, ms_stats, progress, timed_run

QUERY = "failure modes of physics-informed neural networks"
QUESTION = "What are the failure modes of physics-informed neural networks?"
HEAVY = ("torch", "sentence_transformers", "transformers", "chromadb", "gradio", "llama_cpp")


def commands(index_dir: Path) -> dict[str, list[str]]:
    where = ["--index-dir", str(index_dir)]
    return {
        "search": ["search", QUERY, *where],
        "ask_extractive": ["ask", QUESTION, "--backend", "extractive", *where],
    }


def cold_times(args: list[str], runs: int, env: dict[str, str]) -> dict[str, Any]:
    cmd = [*assistant_cmd(), *args]
    first = timed_run(cmd, env)
    times = [timed_run(cmd, env) * 1000 for _ in range(runs)]
    return {**ms_stats(times), "first_ms": round(first * 1000, 1)}


def heavy_imports(args: list[str]) -> list[str]:
    """Which heavy libraries a cold run imports (``python -X importtime``)."""
    import sys

    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "assistant", *args],
        cwd=ROOT,
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    names = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines() if "|" in line}
    return sorted(h for h in HEAVY if h in names)


def bench_cold_start(index_dir: Path, runs: int, with_torch: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, args in commands(index_dir).items():
        progress(f"cold start: assistant {args[0]} ({runs} runs)...")
        out[name] = cold_times(args, runs, child_env())
        out[name]["heavy_imports"] = heavy_imports(args)
        progress(f"  p50 {out[name]['p50_ms']} ms; imports {out[name]['heavy_imports'] or 'light'}")
    if with_torch:
        # The same search with the torch embedder: what the ONNX path replaced.
        progress("cold start: assistant search with the torch embedder (reference)...")
        env = child_env(ASSISTANT_EMBED_RUNTIME="torch")
        out["search_torch"] = cold_times(commands(index_dir)["search"], max(1, runs // 2), env)
    return out
