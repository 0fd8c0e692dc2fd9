"""SIGKILL a real ``assistant ingest`` process mid-way (a first build, a ``--rebuild``, an
incremental update), at a seeded Chroma call or after a seeded delay. Afterwards readers
serve the previous complete index, the new complete one, or (before any build completed)
say the index is incomplete — never a partial index — and a re-run completes to exactly
the index a clean ingest builds."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from assistant.core.errors import IndexMissingError
from assistant.ingest.pipeline import run_ingest
from tests.reliability.helpers import (
    Faults,
    config_file,
    copy_index,
    corpus_versions,
    hash_settings,
    render,
    run_cli,
    snapshot,
)

BATCH = 2
# The child kills itself with SIGKILL at an exact point: before (or after) the k-th call
# of one Chroma method, or a delay after the write phase starts. No clean-up code runs.
DRIVER = """
import os, signal, sys, threading
from chromadb.api.client import Client
from chromadb.api.models.Collection import Collection
from assistant.ingest import pipeline, writer

op, when, at = sys.argv[1], sys.argv[2], float(sys.argv[3])
die = lambda: os.kill(os.getpid(), signal.SIGKILL)
if op == "delay":
    original = writer.write_index
    def timed(*args, **kwargs):
        threading.Timer(at, die).start()
        return original(*args, **kwargs)
    pipeline.index.write_index = timed
else:
    owner = Client if op.endswith("_collection") else Collection
    original = getattr(owner, op)
    calls = [0]
    def wrapper(self, *args, **kwargs):
        calls[0] += 1
        if when == "before" and calls[0] == at:
            die()
        result = original(self, *args, **kwargs)
        if when == "after" and calls[0] == at:
            die()
        return result
    setattr(owner, op, wrapper)
from assistant.cli.main import main
sys.exit(main(sys.argv[4:]))
"""


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("kill")
    out: dict[str, Any] = {"root": root, "files": {}, "clean": {}}
    for name in ("v1", "v2"):
        path = root / name / "papers.jsonl"
        path.parent.mkdir()
        path.write_text(render("jsonl", corpus_versions()[name]), encoding="utf-8")
        settings = hash_settings(root / f"clean-{name}", [path], ingest__batch_size=BATCH)
        run_ingest(settings)
        out["files"][name], out["clean"][name] = path, snapshot(settings)
    (root / "driver.py").write_text(DRIVER)
    return out


# (situation, Chroma method or "delay", before/after, which call: "seeded" or "last")
KILLS = [
    ("first", "add", "before", "seeded"),
    ("first", "modify", "after", "last"),  # right after the switch, before clean-up
    ("rebuild", "add", "before", "seeded"),
    ("rebuild", "modify", "before", "last"),  # right before the switch
    ("update", "add", "before", "seeded"),
    ("update", "delay", "", "seeded"),
]


def kill_point(world: dict[str, Any], tmp_path: Path, case: tuple[str, ...]) -> float:
    """Which call (or how many seconds in) to die at, from a counting run and a seed."""
    phase, op, _, which = case
    rng = random.Random("/".join(case))
    if op == "delay":
        return round(rng.uniform(0.0, 0.3), 3)
    settings, rebuild, _ = setup(world, phase, tmp_path / "count")
    with Faults(op, None, None).installed() as counter:
        run_ingest(settings, rebuild=rebuild)
    return counter.calls if which == "last" else rng.randint(1, counter.calls)


def setup(world: dict[str, Any], phase: str, index: Path) -> tuple[Any, bool, str]:
    if phase != "first":
        copy_index(world["root"] / "clean-v1", index)
    version = "v2" if phase == "update" else "v1"
    settings = hash_settings(index, [world["files"][version]], ingest__batch_size=BATCH)
    return settings, phase == "rebuild", version


@pytest.mark.slow  # a real `assistant ingest` process per case (seconds each on 2 cores)
@pytest.mark.parametrize("case", KILLS, ids=["-".join(filter(None, c)) for c in KILLS])
def test_killed_ingest_never_leaves_a_partial_index(
    world: dict[str, Any], tmp_path: Path, case: tuple[str, ...], capsys: pytest.CaptureFixture
) -> None:
    phase, op, when, _ = case
    at = kill_point(world, tmp_path, case)
    settings, rebuild, version = setup(world, phase, tmp_path / "index")
    config_file(tmp_path)
    argv = ["ingest", "--source", str(settings.ingest.sources[0]), *(["--rebuild"] * rebuild)]
    env = {
        **os.environ,
        "ASSISTANT_INDEX__PERSIST_DIR": str(settings.index.persist_dir),
        "ASSISTANT_INDEX__EMBEDDER": "hash",
        "ASSISTANT_INGEST__BATCH_SIZE": str(BATCH),
    }
    driver = str(world["root"] / "driver.py")
    proc = subprocess.run(
        [sys.executable, driver, op, when or "-", str(at), *argv],
        env=env,
        capture_output=True,
        timeout=120,
    )
    if op != "delay":  # a timed kill may land after the run finished
        assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()[-2000:]
    before = None if phase == "first" else world["clean"]["v1"]
    assert_readers_see_a_complete_index(settings, before, world["clean"][version], capsys)
    run_ingest(settings, rebuild=rebuild)
    assert snapshot(settings) == world["clean"][version]


def assert_readers_see_a_complete_index(
    settings: Any, before: Any, after: Any, capsys: pytest.CaptureFixture
) -> None:
    try:
        seen = snapshot(settings)
    except IndexMissingError as exc:  # IndexIncompleteError is one
        assert before is None, f"the previous index was lost: {exc}"
        index = settings.index.persist_dir
        argv = ["-c", str(index.parent / "settings.json"), "search", "physics"]
        code, _, err = run_cli(capsys, [*argv, "--index-dir", str(index)])
        assert code == 5 and len(err.splitlines()) == 1, err
        assert "run `assistant ingest`" in err
        return
    assert seen in (before, after), "readers see a partial index"
