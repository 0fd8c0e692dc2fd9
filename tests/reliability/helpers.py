"""Shared pieces of the reliability suite: a few real records, small corpora in the three
formats, settings for a hash-embedder index, index snapshots and in-process CLI runs."""

from __future__ import annotations

import csv
import io
import json
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from chromadb.api.client import Client
from chromadb.api.models.Collection import Collection

from assistant.core.settings import Settings
from assistant.core.text import split_sentences
from assistant.index.store import open_client, open_collection, read_manifest
from assistant.ingest.sources import discover, read_records
from tests.conftest import DATA_DIR, make_settings
from tests.corpus import HEADER

DIM = 384  # HashEmbedder's dimension
COLLECTION_OPS = ("add", "update", "delete", "modify", "get")
CLIENT_OPS = ("create_collection", "delete_collection")


@cache
def real_records() -> tuple[dict[str, str], ...]:
    """Real shipped records with distinct titles, long multi-sentence abstracts and short
    titles (so a shifted pair is recognisable), in corpus order."""
    out: list[dict[str, str]] = []
    seen: set[str] = set()
    for path in discover([DATA_DIR]):
        for rec in read_records(path):
            fits = len(rec.title) < 140 and len(rec.abstract) > 500 and rec.abstract[-1] == "."
            if fits and len(split_sentences(rec.abstract)) >= 4 and rec.title not in seen:
                seen.add(rec.title)
                out.append({"title": rec.title, "abstract": rec.abstract})
        if len(out) >= 40:
            break
    return tuple(out)


def render(fmt: str, records: list[dict[str, Any]]) -> str:
    """A corpus file of ``records`` in format ``fmt`` (txt, jsonl or csv)."""
    if fmt == "txt":
        lines = [HEADER.rstrip("\n")]
        for i, rec in enumerate(records):
            lines += [("Subscribe" if i == 0 else "") + rec["title"], rec["abstract"]]
        return "\n".join(lines) + "\n"
    if fmt == "jsonl":
        return "".join(json.dumps(rec) + "\n" for rec in records)
    out = io.StringIO()
    columns = ["title", "abstract", "authors", "year", "id"]
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n")
    writer.writerow(columns)
    for rec in records:
        writer.writerow([rec.get(c, "") for c in columns])
    return out.getvalue()


def record_line(fmt: str, k: int) -> int:
    """The line of record ``k`` (0-based): its title line in .txt."""
    return {"txt": 3 + 2 * k, "jsonl": 1 + k, "csv": 2 + k}[fmt]


def hash_settings(index_dir: Path, sources: list[Path], **overrides: object) -> Settings:
    return make_settings(index_dir, sources, **overrides)


def config_file(folder: Path) -> Path:
    """A settings file for CLI runs: hash embedder, fake backend."""
    path = folder / "settings.json"
    path.write_text(json.dumps({"index": {"embedder": "hash"}, "llm": {"backend": "fake"}}))
    return path


def snapshot(settings: Settings) -> tuple[Any, ...]:
    """Everything a reader can see: the manifest and every (id, document, metadata)."""
    client = open_client(settings)
    collection = open_collection(settings, client, DIM)
    got = collection.get(include=["documents", "metadatas"])
    rows = sorted(
        (cid, doc, json.dumps(meta, sort_keys=True))
        for cid, doc, meta in zip(got["ids"], got["documents"], got["metadatas"], strict=True)
    )
    manifest = read_manifest(client, settings.index.collection) or {}
    counts = (manifest.get("papers"), manifest.get("chunks"))
    return (counts, tuple(rows))


def copy_index(source: Path, target: Path) -> Path:
    shutil.copytree(source, target)
    return target


def run_cli(capsys: pytest.CaptureFixture[str], argv: list[str]) -> tuple[int, str, str]:
    from assistant.cli.main import main

    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def corpus_versions() -> dict[str, list[dict[str, Any]]]:
    """v1: eight real papers. v2: two abstracts edited, one paper removed, two added, one
    year set (a metadata-only change). v3: v2 with the first edit edited again, one added
    paper removed and years changed, so a resumed staging holds stale chunks (deleted)
    and outdated metadata (updated)."""
    records = [dict(r) for r in real_records()[:11]]
    v1 = records[:8]
    v2 = [dict(r) for r in v1[1:]] + records[8:10]
    v2[0]["abstract"] += " We also release the code."
    v2[3]["abstract"] = v2[3]["abstract"].replace(".", ";", 1)
    v2[5]["year"] = 2021
    v3 = [dict(r) for r in v2[:-1]]
    v3[0]["abstract"] += " The code is open source."
    v3[5]["year"] = 2022
    v3[6]["year"] = 2019
    return {"v1": v1, "v2": v2, "v3": v3}


class Faults:
    """Counts calls of one Chroma method and raises ``error`` on call number ``at``."""

    def __init__(self, op: str, at: int | None, error: BaseException | None) -> None:
        self.op, self.at, self.error = op, at, error
        self.calls = 0
        self.fired = False

    @contextmanager
    def installed(self) -> Iterator[Faults]:
        owner = Collection if self.op in COLLECTION_OPS else Client
        original = getattr(owner, self.op)

        def wrapper(obj: Any, *args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            if self.calls == self.at and self.error is not None:
                self.fired = True
                raise self.error
            return original(obj, *args, **kwargs)

        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(owner, self.op, wrapper)
            yield self
