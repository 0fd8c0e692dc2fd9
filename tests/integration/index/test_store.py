"""Index access (``index.store``) against real Chroma: a `chroma run` server gives the same
index and results as embedded Chroma, a dead server is a clear error, and paging sees
every record."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from assistant.index.store import iter_records
from assistant.ingest.pipeline import run_ingest
from assistant.retrieval.retriever import Retriever
from tests.conftest import make_settings
from tests.corpus import all_ids, index_collection, shipped_papers
from tests.netutil import free_port


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
    assert (report.papers, report.added) == (shipped_papers(), report.chunks)
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


def test_iter_records_pages_through_everything(hash_index) -> None:  # noqa: ANN001
    col = index_collection(hash_index)
    ids = [cid for cid, meta, doc in iter_records(col, ["metadatas", "documents"], page=97)]
    assert len(ids) == len(set(ids)) == col.count() == len(all_ids(hash_index))
    first = next(iter_records(col, ["metadatas"], page=97))
    assert first[1]["paper_id"] and first[2] is None
