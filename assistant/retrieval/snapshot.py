"""A read-only snapshot of a small embedded index, so a cold CLI search needs no Chroma.

Importing chromadb and opening its client costs more CPU than the rest of a cold
``assistant search`` together. After a process has loaded an embedded index's chunks
(texts, metadata, vectors), it saves them beside the index in ``.snapshot/``; the next
process loads them from there when the database is byte-for-byte where it was: same
size, modification time and SQLite header (whose change counter moves with every
write) of ``chroma.sqlite3`` and its WAL, and the same build signature as the settings
ask for. Anything else (an ingest, damage, other settings) falls back to opening Chroma,
which checks the index properly. Chroma servers and large indexes are never snapshotted.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from assistant.core.settings import Settings
from assistant.index.keyword import ChunkRow
from assistant.index.store import index_signature

log = logging.getLogger(__name__)

SNAPSHOT_VERSION = 1
SNAPSHOT_MAX_CHUNKS = 50_000  # beyond this the copy costs real disk; servers start once
_DB_FILES = ("chroma.sqlite3", "chroma.sqlite3-wal")


def snapshot_dir(settings: Settings) -> Path:
    return settings.index.persist_dir / ".snapshot"


def db_state(persist_dir: Path) -> str | None:
    """A fingerprint of the database files; None if the database is not a plain file."""
    digest = hashlib.sha256()
    for name in _DB_FILES:
        path = persist_dir / name
        try:
            st = path.stat()
        except FileNotFoundError:
            digest.update(f"{name}:absent;".encode())
            continue
        if not path.is_file():
            return None
        digest.update(f"{name}:{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns};".encode())
        with path.open("rb") as f:
            digest.update(f.read(100))  # the SQLite header, with its change counter
    if not (persist_dir / _DB_FILES[0]).is_file():
        return None
    return digest.hexdigest()


def _expected(settings: Settings, dim: int, state: str) -> dict[str, Any]:
    return {
        "version": SNAPSHOT_VERSION,
        "db_state": state,
        "collection": settings.index.collection,
        "signature": index_signature(settings, dim),
    }


def load_snapshot(settings: Settings, dim: int) -> tuple[list[ChunkRow], Any, dict] | None:
    """(rows, vectors or None, stats) if a current snapshot exists, else None."""
    if settings.index.chroma_url:
        return None
    folder = snapshot_dir(settings)
    try:
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        state = db_state(settings.index.persist_dir)
        if state is None:
            return None
        if any(meta.get(k) != v for k, v in _expected(settings, dim, state).items()):
            return None
        raw = json.loads((folder / "rows.json").read_text(encoding="utf-8"))
        rows = [ChunkRow(cid, text, row_meta) for cid, text, row_meta in raw]
        vectors = None
        if meta.get("vectors"):
            vectors = np.load(folder / "vectors.npy", allow_pickle=False)
            if vectors.shape != (len(rows), dim):
                return None
    except (OSError, ValueError, TypeError, KeyError) as exc:
        if not isinstance(exc, FileNotFoundError):
            log.info("ignoring the index snapshot in %s: %s", folder, exc)
        return None
    return rows, vectors, dict(meta.get("stats") or {})


def save_snapshot(
    settings: Settings,
    dim: int,
    rows: list[ChunkRow],
    vectors: np.ndarray | None,
    stats: dict[str, int],
    state: str | None,
) -> None:
    """Best effort: a read-only index folder just means no snapshot.

    ``state`` is the database fingerprint taken *before* the rows were read, so a write
    that landed while reading makes the snapshot stale instead of wrong."""
    if settings.index.chroma_url or state is None or len(rows) > SNAPSHOT_MAX_CHUNKS:
        return
    folder = snapshot_dir(settings)
    tmp = folder.with_name(f".snapshot.{os.getpid()}.tmp")
    try:
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        rows_json = [[r.chunk_id, r.text, r.meta] for r in rows]
        (tmp / "rows.json").write_text(json.dumps(rows_json), encoding="utf-8")
        if vectors is not None:
            np.save(tmp / "vectors.npy", np.ascontiguousarray(vectors, dtype=np.float32))
        meta = {**_expected(settings, dim, state), "vectors": vectors is not None, "stats": stats}
        (tmp / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
        shutil.rmtree(folder, ignore_errors=True)
        tmp.rename(folder)  # readers see the old snapshot, none, or the new one whole
    except OSError as exc:
        log.info("no index snapshot written in %s: %s", folder, exc)
        shutil.rmtree(tmp, ignore_errors=True)
