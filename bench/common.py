"""Helpers shared by the benchmark sections: timing, statistics, subprocesses, load."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "latest.json"
QUESTIONS = ROOT / "eval" / "questions.jsonl"
HELDOUT = ROOT / "eval" / "heldout.jsonl"
MODES = ("dense", "bm25", "hybrid")

# What every child process gets: offline, quiet, and no settings of the developer's own.
CHILD_ENV = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "ANONYMIZED_TELEMETRY": "False",
    "GRADIO_ANALYTICS_ENABLED": "False",
    "TOKENIZERS_PARALLELISM": "false",
}


def progress(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def percentile(values: list[float], q: float) -> float | None:
    from assistant.evaluation.metrics import percentile as pct

    return pct(values, q)


def r(v: float | None, d: int = 1) -> float | None:
    return None if v is None else round(v, d)


def ms_stats(values: list[float]) -> dict[str, Any]:
    return {
        "p50_ms": r(percentile(values, 50)),
        "p95_ms": r(percentile(values, 95)),
        "n": len(values),
    }


def child_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    return {**env, **CHILD_ENV, **extra}


def assistant_cmd() -> list[str]:
    script = Path(sys.executable).parent / "assistant"
    return [str(script)] if script.exists() else [sys.executable, "-m", "assistant"]


def timed_run(cmd: list[str], env: dict[str, str] | None = None, timeout: float = 900) -> float:
    return timed_output(cmd, env, timeout)[0]


def timed_output(
    cmd: list[str], env: dict[str, str] | None = None, timeout: float = 900
) -> tuple[float, str]:
    """Wall seconds and stdout of one child process; raises if it fails."""
    t0 = time.perf_counter()
    done = subprocess.run(
        cmd, cwd=ROOT, env=env or child_env(), capture_output=True, text=True, timeout=timeout
    )
    elapsed = time.perf_counter() - t0
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise RuntimeError(f"{' '.join(cmd[:3])}… exited {done.returncode}: {' | '.join(tail)}")
    return elapsed, done.stdout


def load_previous() -> dict[str, Any]:
    try:
        return json.loads(RESULTS.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def dig(data: Any, path: str) -> Any:
    """``dig(d, "a.b.c")``; None when any step is missing."""
    for key in path.split("."):
        if not isinstance(data, dict) or key not in data:
            return None
        data = data[key]
    return data


@contextmanager
def cpu_load(processes: int) -> Iterator[list[int]]:
    """``processes`` CPU-bound busy loops beside the block (the "busy machine")."""
    procs = [
        subprocess.Popen([sys.executable, "-c", "while True: pass"], env=child_env())
        for _ in range(processes)
    ]
    try:
        time.sleep(0.5)  # let the scheduler see them as CPU hogs
        yield [p.pid for p in procs]
    finally:
        for p in procs:  # only the processes started here, by their own handles
            p.kill()
        for p in procs:
            p.wait(timeout=10)


def table(rows: list[list[Any]], header: list[str]) -> str:
    text = [[("-" if x is None else str(x)) for x in row] for row in [header, *rows]]
    widths = [max(len(row[i]) for row in text) for i in range(len(header))]

    def line(row: list[str]) -> str:
        return "  ".join(
            x.ljust(w) if i == 0 else x.rjust(w)
            for i, (x, w) in enumerate(zip(row, widths, strict=True))
        )

    return "\n".join([line(text[0]), "  ".join("-" * w for w in widths), *map(line, text[1:])])
