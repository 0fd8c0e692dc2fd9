"""A damaged, partial, old-format or misplaced index: ``ingest``, ``search``, ``ask`` and
``doctor`` each give one message and the documented exit code, never a traceback, and
``doctor`` never calls such an index "ok"."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from assistant.index.store import open_client, read_manifest
from assistant.ingest.pipeline import run_ingest
from tests.reliability.helpers import (
    config_file,
    copy_index,
    hash_settings,
    real_records,
    render,
    run_cli,
    snapshot,
)


@pytest.fixture(scope="module")
def good(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("broken")
    corpus = root / "papers.jsonl"
    corpus.write_text(render("jsonl", list(real_records()[:5])), encoding="utf-8")
    settings = hash_settings(root / "index", [corpus])
    run_ingest(settings)
    return {"index": root / "index", "corpus": corpus, "config": config_file(root)}


def _truncate(index: Path) -> None:
    db = index / "chroma.sqlite3"
    db.write_bytes(db.read_bytes()[: db.stat().st_size // 3])


def _garbage(index: Path) -> None:
    (index / "chroma.sqlite3").write_bytes(os.urandom(100_000))


def _garbage_pages(index: Path) -> None:
    db = index / "chroma.sqlite3"
    data = bytearray(db.read_bytes())
    data[100:8192] = os.urandom(8092)  # the header's page size and schema pages
    db.write_bytes(bytes(data))


def _folder_for_db(index: Path) -> None:
    (index / "chroma.sqlite3").unlink()
    (index / "chroma.sqlite3").mkdir()


def _unreadable_schema(index: Path) -> None:
    import sqlite3

    with sqlite3.connect(index / "chroma.sqlite3") as con:
        con.execute("DROP TABLE collections")


def _missing_generation(index: Path) -> None:
    """The manifest points at a generation that is not there (deleted by hand)."""
    settings = hash_settings(index, [])
    client = open_client(settings)
    active = (read_manifest(client, "abstracts") or {})["active"]
    client.delete_collection(name=active)


def _never_completed(index: Path) -> None:
    """A first build killed before its switch: manifest, no active generation."""
    settings = hash_settings(index, [])
    client = open_client(settings)
    manifest = client.get_collection(name="abstracts")
    manifest.modify(metadata={**(manifest.metadata or {}), "active": ""})


def _old_schema(index: Path) -> None:
    """An index written before schema 2: chunks (with abstracts) in one collection."""
    shutil.rmtree(index)
    settings = hash_settings(index, [])
    client = open_client(settings)
    signature = {"schema": 1, "embedder": "hash", "embedding_model": "all-MiniLM-L6-v2"}
    old = client.create_collection(name="abstracts", metadata={**signature, "papers": 1})
    old.add(ids=["c1"], embeddings=[[1.0] * 384], documents=["x"], metadatas=[{"abstract": "x"}])


DAMAGE: dict[str, tuple[Callable[[Path], None], str]] = {
    "truncated-db": (_truncate, "Index is unreadable: cannot read the index at"),
    "garbage-db": (_garbage, "Index is unreadable: cannot read the index at"),
    "garbage-pages": (_garbage_pages, "Index is unreadable"),
    "folder-as-db": (_folder_for_db, "Index is unreadable: cannot read the index at"),
    "no-collections-table": (_unreadable_schema, "Index is unreadable"),
    "generation-deleted": (_missing_generation, "Index is incomplete: the index at"),
    "never-completed": (_never_completed, "Index is incomplete: the index at"),
    "old-schema": (_old_schema, "schema 1 (settings say 2)"),
}


@pytest.mark.parametrize("damage", list(DAMAGE))
@pytest.mark.parametrize("command", ["search", "ask", "doctor", "ingest"])
def test_damaged_index_is_one_message_with_exit_5(
    good: dict[str, Any],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    damage: str,
    command: str,
) -> None:
    hurt, message = DAMAGE[damage]
    index = copy_index(good["index"], tmp_path / "index")
    hurt(index)
    args = {"search": ["physics"], "ask": ["What is studied?"], "doctor": [], "ingest": []}
    argv = ["-c", str(good["config"]), command, *args[command], "--index-dir", str(index)]
    if command == "ingest":
        argv += ["--source", str(good["corpus"])]
    code, out, err = run_cli(capsys, argv)
    assert "Traceback" not in out + err
    if command == "doctor":
        assert code == 5 and err == ""
        (line,) = [x for x in out.splitlines() if " index: " in x]
        assert line.startswith("FAIL  index: ") and message in line, out
        return
    if command == "ingest" and damage in ("generation-deleted", "never-completed"):
        assert code == 0, err  # ingest is the repair: it builds a complete index
        assert snapshot(hash_settings(index, [good["corpus"]]))
        return
    assert code == 5, err
    assert len(err.splitlines()) == 1 and message in err, err
    if damage == "old-schema":
        assert "run `assistant ingest --rebuild`" in err


def test_rebuild_replaces_an_old_schema_index(good: dict[str, Any], tmp_path: Path) -> None:
    index = copy_index(good["index"], tmp_path / "index")
    _old_schema(index)
    settings = hash_settings(index, [good["corpus"]])
    report = run_ingest(settings, rebuild=True)
    assert report.papers == 5 and snapshot(settings)


def test_index_path_that_is_a_file_is_a_configuration_error(
    good: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "index"
    path.write_text("not a folder")
    for command in (["ingest", "--source", str(good["corpus"])], ["search", "x"]):
        code, out, err = run_cli(
            capsys, ["-c", str(good["config"]), *command, "--index-dir", str(path)]
        )
        assert code == 2 and out == ""
        assert (
            err == f"error: Configuration error: index.persist_dir {path} is a file, not a folder\n"
        )


def test_doctor_says_ok_only_for_a_complete_index(
    good: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run_cli(
        capsys, ["-c", str(good["config"]), "doctor", "--index-dir", str(good["index"])]
    )
    assert code == 0 and "ok    index: 5 papers, " in out and "(complete)" in out
