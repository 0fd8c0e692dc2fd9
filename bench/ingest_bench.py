"""Cold ingest of the shipped corpus: ours vs the naive LlamaIndex starter pipeline.

Both run as fresh processes into empty folders (imports and model loads included),
alternating ours, peer, ours, peer… so a slow minute of the machine hits both alike.
The peer is ``bench/peer_llamaindex.py``.
"""

from __future__ import annotations

import json
import shutil
import statistics
import sys
from pathlib import Path
from typing import Any

from bench.common import ROOT, assistant_cmd, child_env, progress, r, timed_output

PEER = ROOT / "bench" / "peer_llamaindex.py"


def index_runtime() -> str:
    from assistant.index.embeddings import embed_runtime

    return embed_runtime("index")


def ours_env() -> dict[str, str]:
    """Ingest embeds with the index runtime (int8 by default, ``get_embedder(purpose=
    "index")``); set for the whole child so the figure holds whichever way the ingest
    pipeline asks for its embedder."""
    from assistant.index.embeddings import RUNTIME_ENV

    return child_env(**{RUNTIME_ENV: index_runtime()})


def ours_once(index_dir: Path) -> tuple[float, dict[str, Any]]:
    shutil.rmtree(index_dir, ignore_errors=True)
    return ours_once_noop(index_dir)


def peer_once(workdir: Path) -> tuple[float, dict[str, Any]]:
    folder = workdir / "peer-index"
    shutil.rmtree(folder, ignore_errors=True)
    seconds, out = timed_output([sys.executable, str(PEER), str(folder)])
    shutil.rmtree(folder, ignore_errors=True)
    return seconds, json.loads(out.strip().splitlines()[-1])


def bench_ingest(index_dir: Path, workdir: Path, runs: int, peer: bool) -> dict[str, Any]:
    """Leaves a fresh index of ours in ``index_dir`` for the other sections."""
    ours: list[float] = []
    theirs: list[float] = []
    report: dict[str, Any] = {}
    peer_error = None
    for i in range(runs):
        progress(f"ingest run {i + 1}/{runs}: ours...")
        seconds, report = ours_once(index_dir)
        ours.append(seconds)
        if peer and peer_error is None:
            progress(f"ingest run {i + 1}/{runs}: LlamaIndex starter pipeline...")
            try:
                seconds, peer_info = peer_once(workdir)
                theirs.append(seconds)
            except Exception as exc:  # a missing bench extra must not sink the bench
                peer_error = f"{type(exc).__name__}: {exc}"
                progress(f"  peer unavailable: {peer_error}")
    progress("ingest: no-op re-run...")
    noop_s, noop = ours_once_noop(index_dir)
    out = {
        "index_runtime": index_runtime(),
        "papers": report.get("papers"),
        "chunks": report.get("chunks"),
        "cold_s": r(statistics.median(ours), 2),
        "cold_runs_s": [round(x, 2) for x in ours],
        "noop_s": r(noop_s, 2),
        "noop_embedded": noop.get("embedded", noop.get("added")),
    }
    if theirs:
        out["peer_s"] = r(statistics.median(theirs), 2)
        out["peer_runs_s"] = [round(x, 2) for x in theirs]
        out["ratio"] = r(out["cold_s"] / out["peer_s"], 3)
    elif peer_error:
        out["peer_unavailable"] = peer_error
    return out


def ours_once_noop(index_dir: Path) -> tuple[float, dict[str, Any]]:
    cmd = [*assistant_cmd(), "ingest", "--json", "--index-dir", str(index_dir)]
    seconds, out = timed_output(cmd, ours_env())
    return seconds, json.loads(out)
