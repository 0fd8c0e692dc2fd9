"""Store failures injected at every write (and read) an ingest makes: the run fails with
one clear error, readers see exactly the previous index (or, before the first build
completes, "no index" / "incomplete"), and the next run completes to the clean index.

Faults are raised by Chroma's own ``Collection``/``Client`` methods on their k-th call
(first, middle, last), as ``OSError(ENOSPC)`` or sqlite's "database is locked", in four
situations: a first build, an incremental update, a ``--rebuild``, and an update that
resumes a previously failed one (its staging generation holds stale and outdated chunks).
"""

from __future__ import annotations

import errno
import sqlite3
import zlib
from pathlib import Path
from typing import Any

import pytest

from assistant.core.errors import (
    AssistantError,
    IndexMissingError,
    IndexWriteError,
)
from assistant.index.store import generation_names, open_client, open_collection, read_manifest
from assistant.ingest.pipeline import run_ingest
from tests.reliability.helpers import (
    DIM,
    Faults,
    copy_index,
    corpus_versions,
    hash_settings,
    render,
    snapshot,
)

# What each situation calls; every listed op must be called (checked), so none is skipped.
# ``update``/``delete`` only happen when a staging generation is resumed; a resumed run
# creates no collection.
COMMON = ("add", "modify", "get")
OPS_BY_PHASE = {
    "first": (*COMMON, "create_collection"),
    "update": (*COMMON, "create_collection", "delete_collection"),
    "rebuild": (*COMMON, "create_collection", "delete_collection"),
    "resume": (*COMMON, "update", "delete", "delete_collection"),
}
BATCH = 3


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Corpus files, the clean index of each version, and the v1 index to copy (built
    twice, so it has a retired generation for the next run to delete)."""
    root = tmp_path_factory.mktemp("faults")
    out: dict[str, Any] = {"root": root, "files": {}, "clean": {}}
    for name, records in corpus_versions().items():
        path = root / name / "papers.jsonl"
        path.parent.mkdir()
        path.write_text(render("jsonl", records), encoding="utf-8")
        settings = hash_settings(root / f"clean-{name}", [path], ingest__batch_size=BATCH)
        run_ingest(settings)
        if name == "v1":
            run_ingest(settings, rebuild=True)
        out["files"][name] = path
        out["clean"][name] = snapshot(settings)
    out["v1_index"] = root / "clean-v1"
    out["counts"] = {}
    return out


def prepare(world: dict[str, Any], phase: str, index: Path) -> tuple[Any, bool, str]:
    """Set up ``index`` for ``phase``; returns the settings and rebuild flag of the run
    under test, and the corpus version it should end with."""
    if phase != "first":
        copy_index(world["v1_index"], index)
    version = {"first": "v1", "update": "v2", "rebuild": "v1", "resume": "v3"}[phase]
    if phase == "resume":  # a failed v2 update leaves a partly filled staging generation
        v2 = hash_settings(index, [world["files"]["v2"]], ingest__batch_size=BATCH)
        error = OSError(errno.ENOSPC, "No space left on device")
        with Faults("add", 3, error).installed(), pytest.raises(IndexWriteError):
            run_ingest(v2)
    settings = hash_settings(index, [world["files"][version]], ingest__batch_size=BATCH)
    return settings, phase == "rebuild", version


def calls_in(world: dict[str, Any], phase: str, op: str, tmp_path: Path) -> int:
    key = (phase, op)
    if key not in world["counts"]:
        settings, rebuild, _ = prepare(world, phase, tmp_path / f"count-{phase}-{op}")
        with Faults(op, None, None).installed() as counter:
            run_ingest(settings, rebuild=rebuild)
        world["counts"][key] = counter.calls
    return world["counts"][key]


def error_for(phase: str, op: str, position: str) -> BaseException:
    if zlib.crc32(f"{phase}{op}{position}".encode()) % 2:
        return OSError(errno.ENOSPC, "No space left on device")
    return sqlite3.OperationalError("database is locked")


CASES = [
    (phase, op, position)
    for phase, ops in OPS_BY_PHASE.items()
    for op in ops
    for position in (("first", "middle", "last") if op == "add" else ("first", "last"))
]


@pytest.mark.parametrize(("phase", "op", "position"), CASES, ids=["-".join(c) for c in CASES])
def test_fault_leaves_previous_index_and_rerun_completes(
    world: dict[str, Any], tmp_path: Path, phase: str, op: str, position: str
) -> None:
    total = calls_in(world, phase, op, tmp_path)
    assert total, f"a {phase} ingest made no {op} call"
    at = {"first": 1, "middle": (total + 1) // 2, "last": total}[position]
    settings, rebuild, version = prepare(world, phase, tmp_path / "index")
    before = None if phase == "first" else world["clean"]["v1"]
    faults = Faults(op, at, error_for(phase, op, position))
    failure: AssistantError | None = None
    with faults.installed():
        try:
            run_ingest(settings, rebuild=rebuild)
        except AssistantError as exc:
            failure = exc
    assert faults.fired
    if failure is None:  # only the clean-up after the switch may fail quietly
        assert op == "delete_collection", f"{op} #{at} failed silently"
        assert snapshot(settings) == world["clean"][version]
    else:
        assert failure.exit_code in (5, 6) and "\n" not in str(failure)
        if op not in ("get", "create_collection"):
            assert isinstance(failure, IndexWriteError)
        assert_previous_index(settings, before)
    run_ingest(settings, rebuild=rebuild)
    assert snapshot(settings) == world["clean"][version]
    assert_no_leftovers(settings)


def assert_previous_index(settings: Any, before: Any) -> None:
    if before is None:
        with pytest.raises(IndexMissingError, match="run `assistant ingest`"):
            open_collection(settings, open_client(settings), DIM)
    else:
        assert snapshot(settings) == before


def assert_no_leftovers(settings: Any) -> None:
    """After a complete run only the active and the retired generation remain."""
    client = open_client(settings)
    meta = read_manifest(client, settings.index.collection) or {}
    kept = {meta.get("active"), meta.get("retired")} - {""}
    assert set(generation_names(client, settings.index.collection)) == kept
    assert not meta.get("staging")
