"""The only module that writes to the Chroma index.

Sync is incremental and crash-safe by construction: we compute the wanted chunk ids
(content hashes), add the missing ones in batches, refresh metadata that changed, and
only then delete stale ids. A run killed at any point leaves the old chunks in place (the
index stays usable) and the next run picks up exactly what is still missing.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from filelock import FileLock, Timeout

from assistant.core.errors import IndexLockedError, IndexWriteError
from assistant.core.settings import Settings
from assistant.index.embeddings import Embedder
from assistant.index.store import check_signature, index_signature, iter_records
from assistant.ingest.chunking import Chunk
from assistant.ingest.papers import Paper, sha

log = logging.getLogger(__name__)
Progress = Callable[[int, int], None]  # (chunks just embedded, total to embed)


@dataclass
class SyncResult:
    added: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0


@contextmanager
def writer_lock(settings: Settings) -> Iterator[None]:
    """One writer at a time, across processes; a second one fails at once."""
    settings.index.persist_dir.mkdir(parents=True, exist_ok=True)
    lock_path = settings.index.persist_dir / "ingest.lock"
    pid_path = settings.index.persist_dir / "ingest.pid"
    lock = FileLock(str(lock_path), timeout=0)
    try:
        lock.acquire()
    except Timeout:
        holder = pid_path.read_text().strip() if pid_path.exists() else "unknown"
        raise IndexLockedError(
            f"another ingest is writing this index (PID {holder}, lock {lock_path}); "
            "wait for it to finish"
        ) from None
    try:
        pid_path.write_text(str(os.getpid()))
        yield
    finally:
        pid_path.unlink(missing_ok=True)
        lock.release()


def get_or_create_collection(
    settings: Settings, client: Any, embedder: Embedder, rebuild: bool
) -> Any:
    name = settings.index.collection
    signature = index_signature(settings, embedder.dim)
    if rebuild:
        try:
            client.delete_collection(name=name)
            log.info("deleted collection %s for rebuild", name)
        except Exception:  # absent already: nothing to delete
            pass
    collection = client.get_or_create_collection(
        name=name,
        metadata={**signature, "papers": 0},
        configuration={"hnsw": {"space": "cosine"}},
        embedding_function=None,
    )
    check_signature(collection.metadata or {}, signature)
    space = ((collection.configuration or {}).get("hnsw") or {}).get("space")
    check_signature({"distance": space}, {"distance": "cosine"})
    return collection


def chunk_metadata(paper: Paper, chunk: Chunk, n_chunks: int) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "paper_id": paper.paper_id,
        "title": paper.title,
        "title_raw": paper.title_raw,
        "abstract": paper.abstract,
        "sources": json.dumps(paper.sources),
        "position": chunk.position,
        "n_chunks": n_chunks,
        "embed_text": chunk.embed_text,
    }
    for key in ("authors", "year", "url"):
        value = getattr(paper, key)
        if value is not None:
            meta[key] = value
    meta["meta_hash"] = sha(json.dumps(meta, sort_keys=True))
    return meta


def sync(
    collection: Any,
    wanted: dict[str, tuple[Chunk, dict[str, Any]]],
    embedder: Embedder,
    batch_size: int,
    progress: Progress | None = None,
) -> SyncResult:
    existing = _existing_meta_hashes(collection)
    result = SyncResult()
    to_add = [cid for cid in wanted if cid not in existing]
    to_update = [
        cid for cid in wanted if cid in existing and existing[cid] != wanted[cid][1]["meta_hash"]
    ]
    stale = [cid for cid in existing if cid not in wanted]
    result.unchanged = len(wanted) - len(to_add) - len(to_update)
    for batch in _batches(to_add, batch_size):
        chunks = [wanted[cid][0] for cid in batch]
        vectors = embedder.embed([c.embed_text for c in chunks])
        _write(
            collection.add,
            ids=batch,
            embeddings=vectors,
            documents=[c.text for c in chunks],
            metadatas=[wanted[c][1] for c in batch],
        )
        result.added += len(batch)
        if progress:
            progress(len(batch), len(to_add))
    for batch in _batches(to_update, batch_size):
        _write(collection.update, ids=batch, metadatas=[wanted[c][1] for c in batch])
        result.updated += len(batch)
    for batch in _batches(stale, batch_size):
        _write(collection.delete, ids=batch)
        result.deleted += len(batch)
    return result


def set_paper_count(collection: Any, papers: int) -> None:
    meta = dict(collection.metadata or {})
    if meta.get("papers") != papers:
        meta["papers"] = papers
        _write(collection.modify, metadata=meta)


def _existing_meta_hashes(collection: Any) -> dict[str, str]:
    records = iter_records(collection, ["metadatas"])
    return {cid: meta.get("meta_hash", "") for cid, meta, _ in records}


def _batches(items: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _write(operation: Callable[..., Any], **kwargs: Any) -> None:
    try:
        operation(**kwargs)
    except Exception as exc:  # sqlite "database is locked", ENOSPC, server errors...
        raise IndexWriteError(
            f"{type(exc).__name__}: {exc}. Batches written so far are kept; "
            "re-run `assistant ingest` to finish"
        ) from exc
