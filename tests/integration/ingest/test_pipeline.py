"""``run_ingest`` into a real embedded Chroma: idempotence, incremental updates, bad input,
settings mismatch and a real crash mid-way."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from assistant.core.errors import (
    CorpusFormatError,
    IndexIncompleteError,
    IndexMismatchError,
    IndexMissingError,
)
from assistant.ingest.pipeline import run_ingest
from assistant.retrieval.retriever import Retriever
from tests.conftest import make_settings
from tests.corpus import (
    PAPERS,
    all_ids,
    index_collection,
    shipped_papers,
    shipped_records,
    small_corpus,
)


def test_reingest_is_noop_and_ids_identical(hash_settings) -> None:  # noqa: ANN001
    first = run_ingest(hash_settings)
    expected = (shipped_papers(), shipped_records(), first.chunks)
    assert (first.papers, first.records, first.added) == expected
    ids = all_ids(hash_settings)
    second = run_ingest(hash_settings)
    assert (second.added, second.updated, second.deleted) == (0, 0, 0)
    assert second.unchanged == first.chunks
    assert all_ids(hash_settings) == ids
    assert Retriever(hash_settings).stats() == {"papers": shipped_papers(), "chunks": first.chunks}


def test_add_edit_remove_touch_only_that_paper(tmp_path: Path) -> None:
    folder = small_corpus(tmp_path)
    settings = make_settings(tmp_path / "index", [folder])
    run_ingest(settings)
    before = all_ids(settings)

    def ids_of(title: str) -> set[str]:
        got = index_collection(settings).get(where={"title": title}, include=[])
        return set(got["ids"])

    alpha, beta = ids_of("Paper alpha"), ids_of("Paper beta")
    edited = dict(PAPERS, **{"Paper beta": "A completely new beta abstract."})
    del edited["Paper gamma"]
    edited["Paper epsilon"] = "Epsilon is new here."
    small_corpus(tmp_path, edited)
    report = run_ingest(settings)
    after = all_ids(settings)
    assert ids_of("Paper alpha") == alpha  # untouched
    assert not (ids_of("Paper beta") & beta) and ids_of("Paper beta")  # replaced
    assert not ids_of("Paper gamma")  # removed
    assert ids_of("Paper epsilon")  # added
    assert report.added == len(ids_of("Paper beta")) + len(ids_of("Paper epsilon"))
    assert after - before == ids_of("Paper beta") | ids_of("Paper epsilon")


def test_malformed_file_writes_nothing(tmp_path: Path) -> None:
    folder = small_corpus(tmp_path)
    (folder / "bad.csv").write_text("title,summary\nT,A\n", encoding="utf-8")
    settings = make_settings(tmp_path / "index", [folder])
    with pytest.raises(CorpusFormatError, match="bad.csv:1"):
        run_ingest(settings)
    with pytest.raises(IndexMissingError, match="assistant ingest"):
        Retriever(settings)


def test_settings_mismatch_requires_rebuild(tmp_path: Path) -> None:
    folder = small_corpus(tmp_path)
    settings = make_settings(tmp_path / "index", [folder])
    run_ingest(settings)
    other = settings.with_overrides(ingest__chunk_tokens=128)
    with pytest.raises(IndexMismatchError, match="chunk_tokens 200.*--rebuild"):
        Retriever(other)
    with pytest.raises(IndexMismatchError):
        run_ingest(other)
    report = run_ingest(other, rebuild=True)
    assert report.added == report.chunks
    assert Retriever(other).stats()["papers"] == 4


def test_sigkill_mid_ingest_then_rerun_matches_clean_ingest(tmp_path: Path) -> None:
    """A real crash: SIGKILL an `assistant ingest` process mid-way, then run it again."""
    import os
    import signal
    import sqlite3

    index_dir = tmp_path / "index"
    env = {
        **os.environ,
        "ASSISTANT_INDEX__PERSIST_DIR": str(index_dir),
        "ASSISTANT_INDEX__EMBEDDER": "hash",
        "ASSISTANT_INGEST__BATCH_SIZE": "4",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "assistant", "ingest"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    db = index_dir / "chroma.sqlite3"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        if db.exists() and db.stat().st_size > 2_000_000:  # some batches are in
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    assert proc.wait(10) == -signal.SIGKILL, "ingest finished before it could be killed"
    settings = make_settings(index_dir)
    with pytest.raises(IndexIncompleteError):  # readers never see the half-built index
        Retriever(settings)
    report = run_ingest(settings)
    staged = report.chunks - report.embedded
    assert 0 < staged < report.chunks  # killed mid-way, earlier batches kept and resumed
    assert report.added == report.chunks
    clean = make_settings(tmp_path / "clean")
    run_ingest(clean)
    assert all_ids(settings) == all_ids(clean)
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
