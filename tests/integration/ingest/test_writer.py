"""The index writer against real Chroma: one writer at a time across processes, and a
failed write keeps the committed batches so the next run finishes the job."""

from __future__ import annotations

import contextlib
import errno
import multiprocessing
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from chromadb.api.models.Collection import Collection

from assistant.core.errors import IndexIncompleteError, IndexLockedError, IndexWriteError
from assistant.ingest.pipeline import run_ingest
from assistant.ingest.writer import writer_lock
from assistant.retrieval.retriever import Retriever
from tests.conftest import make_settings
from tests.corpus import PAPERS, all_ids, small_corpus


def _hold_lock(settings, ready, release) -> None:  # noqa: ANN001
    with writer_lock(settings):
        ready.set()
        release.wait(10)


def test_second_writer_gets_clear_error(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "index", [small_corpus(tmp_path)])
    ctx = multiprocessing.get_context("spawn")
    ready, release = ctx.Event(), ctx.Event()
    proc = ctx.Process(target=_hold_lock, args=(settings, ready, release))
    proc.start()
    try:
        assert ready.wait(30)
        started = time.monotonic()
        with pytest.raises(IndexLockedError, match=f"PID {proc.pid}"):
            run_ingest(settings)
        assert time.monotonic() - started < 2
    finally:
        release.set()
        proc.join(10)
    # lock released: the next writer proceeds
    assert run_ingest(settings).papers == len(PAPERS)


@contextlib.contextmanager
def disk_full_on_add(call: int) -> Iterator[None]:
    """Chroma's own ``Collection.add`` fails like a full disk on its ``call``-th call."""
    original, calls = Collection.add, {"n": 0}

    def add(self: Collection, *args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == call:
            raise OSError(errno.ENOSPC, "No space left on device")
        return original(self, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Collection, "add", add)
        yield


def test_interrupted_run_keeps_index_usable_and_next_run_completes(hash_settings) -> None:  # noqa: ANN001
    settings = hash_settings.with_overrides(ingest__batch_size=100)
    with (
        disk_full_on_add(call=3),
        pytest.raises(IndexWriteError, match=r"OSError: \[Errno 28\] No space left.*re-run"),
    ):
        run_ingest(settings)
    # A first build that failed is never served half-written (the build is staged) ...
    with pytest.raises(IndexIncompleteError, match="incomplete.*run `assistant ingest`"):
        Retriever(settings)
    report = run_ingest(settings)
    assert report.embedded == report.chunks - 200  # ... and its two staged batches are kept
    clean = make_settings(settings.index.persist_dir.parent / "clean")
    run_ingest(clean)
    assert all_ids(settings) == all_ids(clean)
