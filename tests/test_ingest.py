"""Ingestion into a real Chroma: idempotence, incremental updates, locking, failures."""

from __future__ import annotations

import json
import multiprocessing
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from assistant.core.errors import (
    CorpusFormatError,
    IndexLockedError,
    IndexMismatchError,
    IndexMissingError,
    IndexWriteError,
)
from assistant.index.store import open_client
from assistant.ingest import writer as index_mod
from assistant.ingest.pipeline import run_ingest
from assistant.retrieval.retriever import Retriever
from tests.conftest import make_settings
from tests.netutil import free_port


def all_ids(settings) -> set[str]:  # noqa: ANN001
    col = open_client(settings).get_collection(settings.index.collection)
    return set(col.get(include=[])["ids"])


def corpus(tmp_path: Path, papers: dict[str, str]) -> Path:
    folder = tmp_path / "corpus"
    folder.mkdir(exist_ok=True)
    lines = [json.dumps({"title": t, "abstract": a}) for t, a in papers.items()]
    (folder / "papers.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


PAPERS = {
    f"Paper {name}": f"This paper studies {name} in depth. We report results on {name} data. "
    f"Our {name} method improves accuracy."
    for name in ("alpha", "beta", "gamma", "delta")
}


def test_reingest_is_noop_and_ids_identical(hash_settings) -> None:  # noqa: ANN001
    first = run_ingest(hash_settings)
    assert (first.papers, first.records, first.added) == (455, 508, first.chunks)
    ids = all_ids(hash_settings)
    second = run_ingest(hash_settings)
    assert (second.added, second.updated, second.deleted) == (0, 0, 0)
    assert second.unchanged == first.chunks
    assert all_ids(hash_settings) == ids
    assert Retriever(hash_settings).stats() == {"papers": 455, "chunks": first.chunks}


def test_add_edit_remove_touch_only_that_paper(tmp_path: Path) -> None:
    folder = corpus(tmp_path, PAPERS)
    settings = make_settings(tmp_path / "index", [folder])
    run_ingest(settings)
    before = all_ids(settings)
    col = open_client(settings).get_collection("abstracts")

    def ids_of(title: str) -> set[str]:
        got = col.get(where={"title": title}, include=[])
        return set(got["ids"])

    alpha, beta = ids_of("Paper alpha"), ids_of("Paper beta")
    edited = dict(PAPERS, **{"Paper beta": "A completely new beta abstract."})
    del edited["Paper gamma"]
    edited["Paper epsilon"] = "Epsilon is new here."
    corpus(tmp_path, edited)
    report = run_ingest(settings)
    after = all_ids(settings)
    assert ids_of("Paper alpha") == alpha  # untouched
    assert not (ids_of("Paper beta") & beta) and ids_of("Paper beta")  # replaced
    assert not ids_of("Paper gamma")  # removed
    assert ids_of("Paper epsilon")  # added
    assert report.added == len(ids_of("Paper beta")) + len(ids_of("Paper epsilon"))
    assert after - before == ids_of("Paper beta") | ids_of("Paper epsilon")


def test_malformed_file_writes_nothing(tmp_path: Path) -> None:
    folder = corpus(tmp_path, PAPERS)
    (folder / "bad.csv").write_text("title,summary\nT,A\n", encoding="utf-8")
    settings = make_settings(tmp_path / "index", [folder])
    with pytest.raises(CorpusFormatError, match="bad.csv:1"):
        run_ingest(settings)
    with pytest.raises(IndexMissingError, match="assistant ingest"):
        Retriever(settings)


def test_settings_mismatch_requires_rebuild(tmp_path: Path) -> None:
    folder = corpus(tmp_path, PAPERS)
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


def _hold_lock(settings, ready, release) -> None:  # noqa: ANN001
    with index_mod.writer_lock(settings):
        ready.set()
        release.wait(10)


def test_second_writer_gets_clear_error(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "index", [corpus(tmp_path, PAPERS)])
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
    assert run_ingest(settings).papers == 4  # lock released: the next writer proceeds


def test_interrupted_run_keeps_index_usable_and_next_run_completes(
    hash_settings,
    monkeypatch: pytest.MonkeyPatch,  # noqa: ANN001
) -> None:
    settings = hash_settings.with_overrides(ingest__batch_size=100)
    calls = {"n": 0}
    original = index_mod._write

    def failing_write(operation, **kwargs):  # noqa: ANN001, ANN003
        if getattr(operation, "__name__", "") == "add":
            calls["n"] += 1
            if calls["n"] == 3:
                raise IndexWriteError("OSError: [Errno 28] No space left on device")
        return original(operation, **kwargs)

    monkeypatch.setattr(index_mod, "_write", failing_write)
    with pytest.raises(IndexWriteError, match="No space left"):
        run_ingest(settings)
    partial = all_ids(settings)
    assert len(partial) == 200  # the two committed batches stay
    assert Retriever(settings).search("physics-informed neural networks", k=3)
    monkeypatch.setattr(index_mod, "_write", original)
    report = run_ingest(settings)
    assert report.added == report.chunks - 200
    clean = make_settings(settings.index.persist_dir.parent / "clean")
    run_ingest(clean)
    assert all_ids(settings) == all_ids(clean)


def test_store_errors_are_wrapped(hash_settings, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: ANN001
    import sqlite3

    def boom(**kwargs):  # noqa: ANN003
        raise sqlite3.OperationalError("database is locked")

    with pytest.raises(IndexWriteError, match="database is locked.*re-run"):
        index_mod._write(boom, ids=["x"])


@pytest.fixture
def chroma_server(tmp_path: Path):  # noqa: ANN201
    port = free_port()
    chroma = Path(sys.executable).parent / "chroma"
    proc = subprocess.Popen(
        [
            str(chroma),
            "run",
            "--path",
            str(tmp_path / "server"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.3)
    else:
        proc.kill()
        pytest.fail("chroma server did not start")
    yield f"http://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(10)


@pytest.mark.slow
def test_real_corpus_with_real_model(real_index, real_models) -> None:  # noqa: ANN001
    """The shipped corpus embedded by all-MiniLM-L6-v2 in embedded Chroma; re-run is a no-op."""
    before = all_ids(real_index)
    retriever = Retriever(real_index)
    assert retriever.stats() == {"papers": 455, "chunks": len(before)}
    again = run_ingest(real_index)
    assert (again.added, again.updated, again.deleted) == (0, 0, 0)
    assert all_ids(real_index) == before
    titles = [
        h.title for h in retriever.search("failure modes of physics-informed neural networks")
    ]
    assert any("Physics-informed" in t or "PINN" in t for t in titles[:3])


def test_chroma_server_mode_matches_embedded(
    hash_index,
    chroma_server: str,
    tmp_path: Path,  # noqa: ANN001
) -> None:
    """Same code path against a real `chroma run` server: same index, same results."""
    server = hash_index.with_overrides(
        index__chroma_url=chroma_server, index__persist_dir=tmp_path / "lockdir"
    )
    report = run_ingest(server)
    assert (report.papers, report.added) == (455, report.chunks)
    assert run_ingest(server).added == 0
    embedded, remote = Retriever(hash_index), Retriever(server)
    assert remote.stats() == embedded.stats()
    assert all_ids(server) == all_ids(hash_index)
    query = "failure modes of physics-informed neural networks"
    for mode in ("dense", "bm25", "hybrid"):
        a = [h.paper_id for h in embedded.search(query, k=5, mode=mode)]
        b = [h.paper_id for h in remote.search(query, k=5, mode=mode)]
        assert a == b, mode


def test_dead_chroma_server_is_a_clear_error(tmp_path: Path) -> None:
    from assistant.core.errors import IndexUnavailable

    settings = make_settings(
        tmp_path / "index", index__chroma_url=f"http://127.0.0.1:{free_port()}"
    )
    with pytest.raises(IndexUnavailable, match="cannot reach the Chroma server"):
        Retriever(settings)


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
    partial = all_ids(settings) if (index_dir / "chroma.sqlite3").exists() else set()
    report = run_ingest(settings)
    assert 0 < len(partial) < report.chunks  # killed mid-way, earlier batches kept
    assert report.added == report.chunks - len(partial)
    clean = make_settings(tmp_path / "clean")
    run_ingest(clean)
    assert all_ids(settings) == all_ids(clean)
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_iter_records_pages_through_everything(hash_index) -> None:  # noqa: ANN001
    from assistant.index.store import iter_records

    col = open_client(hash_index).get_collection(hash_index.index.collection)
    ids = [cid for cid, meta, doc in iter_records(col, ["metadatas", "documents"], page=97)]
    assert len(ids) == len(set(ids)) == col.count() == len(all_ids(hash_index))
    first = next(iter_records(col, ["metadatas"], page=97))
    assert first[1]["paper_id"] and first[2] is None
