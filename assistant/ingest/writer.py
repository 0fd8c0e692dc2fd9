"""The only module that writes to the Chroma index.

Every build is staged: chunks are written into a new *generation* collection, and the
manifest's ``active`` pointer is switched to it only once it holds exactly the wanted
chunks (see ``index/store.py`` for the layout). Readers follow the pointer, so they see
the previous complete index or, before the first build completes, a clear "incomplete"
error; never a half-written one.

Why a pointer rather than renaming collections: the switch is one metadata update of
the manifest (a single sysdb update, one SQLite transaction in embedded Chroma, one
request to a server), while a rename-based swap needs two renames with a window in
which the index has no name, and ``modify(name=...)`` is not in every Chroma version.
Even if a metadata update were torn, the pointer would be missing (the index reads as
incomplete), never wrong.

Incremental runs copy the unchanged chunks' vectors from the active generation (no
re-embedding) and embed only new chunks; a run with nothing to change writes nothing.
A killed run leaves its staging generation behind; the next run resumes filling it, so
finished batches are not embedded twice. The previous generation is kept until the next
successful run so that readers which opened it before the switch keep working.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import secrets
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from assistant.core.errors import CorpusFormatError, IndexLockedError, IndexWriteError
from assistant.core.settings import Settings
from assistant.index.embeddings import Embedder, token_embedder
from assistant.index.store import (
    ACTIVE,
    RETIRED,
    SCHEMA_VERSION,
    STAGING,
    check_signature,
    ensure_index_dir,
    generation_names,
    get_collection,
    index_signature,
    iter_records,
    read_manifest,
    safe_count,
)
from assistant.ingest.chunking import Chunk
from assistant.ingest.papers import Paper, sha

log = logging.getLogger(__name__)
Progress = Callable[[int, int], None]  # (chunks just embedded, total to embed)
Wanted = dict[str, tuple[Chunk, dict[str, Any]]]  # chunk id -> (chunk, metadata)
COPY_BATCH = 512  # vectors copied per request from the previous generation
INT64 = 2**63
_SEGMENT_DIR = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@dataclass
class SyncResult:
    """Counts relative to the previous complete index; ``embedded`` is this run's work."""

    added: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0
    embedded: int = 0

    @property
    def changes(self) -> int:
        return self.added + self.updated + self.deleted


@contextmanager
def writer_lock(settings: Settings) -> Iterator[None]:
    """One writer at a time, across processes; a second one fails at once."""
    folder = ensure_index_dir(settings)
    lock_path = folder / "ingest.lock"
    pid_path = folder / "ingest.pid"
    lock = FileLock(str(lock_path), timeout=0)
    try:
        lock.acquire()
    except Timeout:
        holder = pid_path.read_text().strip() if pid_path.exists() else "unknown"
        raise IndexLockedError(
            f"another ingest is writing this index (PID {holder}, lock {lock_path}); "
            "wait for it to finish"
        ) from None
    except OSError as exc:
        raise IndexWriteError(f"cannot create the lock {lock_path}: {exc.strerror}") from None
    try:
        pid_path.write_text(str(os.getpid()))
        yield
    finally:
        pid_path.unlink(missing_ok=True)
        lock.release()


def chunk_metadata(paper: Paper, chunk: Chunk, n_chunks: int) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "paper_id": paper.paper_id,
        "title": paper.title,
        "title_raw": paper.title_raw,
        "sources": json.dumps(paper.sources),
        "position": chunk.position,
        "n_chunks": n_chunks,
        "embed_text": chunk.embed_text,
    }
    if chunk.position == 0:  # the abstract is stored once per paper (store.paper_abstracts)
        meta["abstract"] = paper.abstract
    for key in ("authors", "year", "url"):
        value = getattr(paper, key)
        if value is not None:
            meta[key] = value
    meta["meta_hash"] = sha(json.dumps(meta, sort_keys=True))
    return meta


def check_storable(chunk: Chunk, meta: dict[str, Any], where: str) -> None:
    """Refuse, before the first write, any value Chroma would reject or mangle: a write
    that fails half-way is exactly what staging must never need to survive."""
    problems = [
        f"'{key}' {why}"
        for key, value in [("document", chunk.text), *meta.items()]
        if (why := _unstorable(value))
    ]
    if not chunk.text.strip():
        problems.append("the passage is empty")
    if problems:
        raise CorpusFormatError(f"{where}: cannot be stored in the index: {'; '.join(problems)}")


def _unstorable(value: object) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return None if -INT64 <= value < INT64 else "is an integer too large to store"
    if isinstance(value, float):
        return None if math.isfinite(value) else "is not a finite number"
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return "contains characters that are not valid Unicode (lone surrogates)"
        return None
    return f"has unsupported type {type(value).__name__}"


def write_index(
    settings: Settings,
    client: Any,
    embedder: Embedder,
    wanted: Wanted,
    papers: int,
    rebuild: bool = False,
    progress: Progress | None = None,
) -> SyncResult:
    """Make the index hold exactly ``wanted``: all of it, or (on any failure) the
    previous index unchanged."""
    name = settings.index.collection
    signature = index_signature(settings, embedder.dim)
    manifest = _open_manifest(client, name, signature, rebuild)
    meta = dict(manifest.metadata or {})
    active = None if rebuild else get_collection(client, str(meta.get(ACTIVE) or ""))
    result = _diff(active, wanted)
    if active is not None and not result.changes and meta.get("papers") == papers:
        if meta.get(STAGING):  # a killed run's leftovers: nothing to finish any more
            meta[STAGING] = ""
            _write(manifest.modify, metadata=meta)
        _drop_unreferenced(client, settings, meta)
        return result
    staging = _staging(client, manifest, meta, signature, resume=not rebuild)
    filled = sync(staging, wanted, embedder, settings.ingest.batch_size, progress, active)
    result.embedded = filled.embedded
    new = _publish(manifest, meta, staging, {"papers": papers, "chunks": len(wanted)})
    _drop_unreferenced(client, settings, new)
    return result


def new_generation(settings: Settings, client: Any, embedder: Embedder) -> Any:
    """An empty, unpublished generation to fill directly (bench's synthetic corpora);
    ``publish_generation`` switches readers to it."""
    signature = index_signature(settings, embedder.dim)
    manifest = _open_manifest(client, settings.index.collection, signature, rebuild=True)
    return _staging(client, manifest, dict(manifest.metadata or {}), signature, resume=False)


def publish_generation(settings: Settings, client: Any, generation: Any, papers: int) -> None:
    manifest = client.get_collection(name=settings.index.collection)
    counts = {"papers": papers, "chunks": safe_count(generation)}
    new = _publish(manifest, dict(manifest.metadata or {}), generation, counts)
    _drop_unreferenced(client, settings, new)


def _open_manifest(client: Any, name: str, signature: dict[str, Any], rebuild: bool) -> Any:
    found = read_manifest(client, name)
    if found is not None and found.get("schema") == SCHEMA_VERSION and ACTIVE in found:
        if not rebuild:
            check_signature(found, signature)
        return get_collection(client, name)
    if found is not None:
        # An index of an older schema (chunks in this very collection): readers already
        # refuse it, so replacing it loses nothing they could use.
        if not rebuild:
            check_signature(found, signature)
        _write(client.delete_collection, name=name)
        log.info("replaced the old-format index %s", name)
    empty = {ACTIVE: "", STAGING: "", RETIRED: "", "papers": 0, "chunks": 0}
    return _call(
        client.create_collection,
        name=name,
        metadata={**signature, **empty},
        embedding_function=None,
    )


def _diff(active: Any, wanted: Wanted) -> SyncResult:
    existing = _meta_hashes(active) if active is not None else {}
    result = SyncResult()
    for cid, (_, meta) in wanted.items():
        if cid not in existing:
            result.added += 1
        elif existing[cid] != meta["meta_hash"]:
            result.updated += 1
    result.deleted = sum(1 for cid in existing if cid not in wanted)
    result.unchanged = len(wanted) - result.added - result.updated
    return result


def _staging(
    client: Any, manifest: Any, meta: dict[str, Any], signature: dict[str, Any], resume: bool
) -> Any:
    """The generation to fill: a killed run's one when it was built with the same
    settings (its finished batches are kept), else a new, empty one."""
    previous = get_collection(client, str(meta.get(STAGING) or ""))
    if previous is not None and resume:
        found = previous.metadata or {}
        if all(found.get(k) == v for k, v in signature.items()):
            return previous
    name = f"{manifest.name}-g{secrets.token_hex(6)}"
    staging = _call(
        client.create_collection,
        name=name,
        metadata={**signature, "index": manifest.name, "papers": 0, "chunks": 0},
        configuration={"hnsw": {"space": "cosine"}},
        embedding_function=None,
    )
    meta[STAGING] = name
    _write(manifest.modify, metadata=meta)  # so a killed run's generation can be resumed
    return staging


def sync(
    collection: Any,
    wanted: Wanted,
    embedder: Embedder,
    batch_size: int,
    progress: Progress | None = None,
    source: Any = None,
) -> SyncResult:
    """Bring ``collection`` to exactly ``wanted``: add what is missing (vectors copied
    from ``source`` when it has them, else embedded), refresh changed metadata, delete
    stale ids. Counts are relative to what ``collection`` held."""
    existing = _meta_hashes(collection)
    to_add = [cid for cid in wanted if cid not in existing]
    copied = _copy_vectors(source, collection, to_add, wanted) if source is not None else set()
    # Sorted by length across the whole corpus, so each batch pads to its own longest
    # chunk and not to a 256-token neighbour of a 30-token one (about a fifth faster).
    to_embed = sorted(
        (cid for cid in to_add if cid not in copied), key=lambda cid: _size(wanted[cid][0])
    )
    _embed_and_add(collection, to_embed, wanted, embedder, batch_size, progress)
    changed = [c for c in wanted if c in existing and existing[c] != wanted[c][1]["meta_hash"]]
    for batch in _batches(changed, batch_size):
        _write(collection.update, ids=batch, metadatas=[wanted[c][1] for c in batch])
    stale = [cid for cid in existing if cid not in wanted]
    for batch in _batches(stale, batch_size):
        _write(collection.delete, ids=batch)
    return SyncResult(
        added=len(to_add),
        updated=len(changed),
        deleted=len(stale),
        unchanged=len(wanted) - len(to_add) - len(changed),
        embedded=len(to_embed),
    )


def _embed_and_add(
    collection: Any,
    ids: list[str],
    wanted: Wanted,
    embedder: Embedder,
    batch_size: int,
    progress: Progress | None,
) -> None:
    """Embed batch k+1 while batch k is written. ONNX Runtime releases the GIL while it
    runs, so Chroma's writes (about a tenth of a cold ingest) hide behind the embedding
    instead of adding to it. A failed write still stops the run: the batch being embedded
    is finished and thrown away."""
    batches = list(_batches(ids, batch_size))
    if not batches:
        return
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest-embed") as pool:

        def embed(n: int) -> Future[Any]:
            return pool.submit(_embed, embedder, [wanted[cid][0] for cid in batches[n]])

        pending = embed(0)
        for n, batch in enumerate(batches):
            vectors = pending.result()
            if n + 1 < len(batches):
                pending = embed(n + 1)
            _add(collection, batch, vectors, wanted)
            if progress:
                progress(len(batch), len(ids))


def _size(chunk: Chunk) -> int:
    return len(chunk.token_ids) or len(chunk.embed_text)


def _embed(embedder: Embedder, chunks: list[Chunk]) -> Any:
    """Vectors for ``chunks``, from the word pieces chunking already made when it could."""
    tokens = token_embedder(embedder)
    if tokens is not None and all(c.token_ids for c in chunks):
        return tokens.embed_encoded([c.token_ids for c in chunks])
    return embedder.embed([c.embed_text for c in chunks])


def set_paper_count(collection: Any, papers: int) -> None:
    """Record the paper count in a collection's metadata (written only if it changed)."""
    meta = dict(collection.metadata or {})
    if meta.get("papers") != papers:
        meta["papers"] = papers
        _write(collection.modify, metadata=meta)


def _copy_vectors(source: Any, staging: Any, ids: list[str], wanted: Wanted) -> set[str]:
    """Add the chunks the previous generation already embedded, with their vectors."""
    copied: set[str] = set()
    for batch in _batches(ids, COPY_BATCH):
        got = _call(source.get, ids=batch, include=["embeddings"])
        found = [(cid, vec) for cid, vec in zip(got["ids"], got["embeddings"], strict=True)]
        if found:
            _add(staging, [c for c, _ in found], [v for _, v in found], wanted)
            copied.update(c for c, _ in found)
    return copied


def _add(staging: Any, ids: list[str], vectors: Any, wanted: Wanted) -> None:
    _write(
        staging.add,
        ids=ids,
        embeddings=vectors,
        documents=[wanted[c][0].text for c in ids],
        metadatas=[wanted[c][1] for c in ids],
    )


def _publish(
    manifest: Any, meta: dict[str, Any], staging: Any, counts: dict[str, int]
) -> dict[str, Any]:
    """Check the staged generation is whole, then switch readers to it."""
    found = safe_count(staging)
    if found != counts["chunks"]:
        raise IndexWriteError(
            f"the new index holds {found} chunks instead of {counts['chunks']}; the "
            "previous index is unchanged; re-run `assistant ingest`"
        )
    signature = {k: v for k, v in (staging.metadata or {}).items() if k not in counts}
    _write(staging.modify, metadata={**signature, **counts})
    retired = str(meta.get(ACTIVE) or "")
    new = {**signature, ACTIVE: staging.name, STAGING: "", RETIRED: retired, **counts}
    new.pop("index", None)
    _write(manifest.modify, metadata=new)  # the switch: one metadata update
    log.info("index %s now serves generation %s", manifest.name, staging.name)
    return new


def _drop_unreferenced(client: Any, settings: Settings, meta: dict[str, Any]) -> None:
    """Delete generations nothing points at (older ones, killed runs' leftovers). Best
    effort: the new index is already complete, so a failure here is only a warning."""
    keep = {meta.get(ACTIVE), meta.get(STAGING), meta.get(RETIRED)}
    try:
        for generation in generation_names(client, settings.index.collection):
            if generation not in keep:
                client.delete_collection(name=generation)
    except Exception as exc:
        log.warning("could not delete an old index generation: %s", exc)
    if not settings.index.chroma_url:
        _remove_orphan_folders(settings.index.persist_dir)


def _remove_orphan_folders(folder: Path) -> None:
    """Embedded Chroma (1.5) leaves a deleted collection's vector folder on disk; with a
    new generation per changing run the index folder would grow without bound. A folder
    named like a segment id that no segment in ``chroma.sqlite3`` owns is removed (read
    only, under the writer lock; if the table cannot be read, nothing is removed)."""
    database = folder / "chroma.sqlite3"
    try:
        uri = f"{database.resolve().as_uri()}?mode=ro"
        with closing(sqlite3.connect(uri, uri=True, timeout=5)) as con:
            live = {str(row[0]) for row in con.execute("SELECT id FROM segments")}
    except (sqlite3.Error, OSError, ValueError) as exc:
        log.warning("left old vector folders in place (cannot list segments: %s)", exc)
        return
    for entry in folder.iterdir():
        if entry.is_dir() and _SEGMENT_DIR.fullmatch(entry.name) and entry.name not in live:
            shutil.rmtree(entry, ignore_errors=True)


def _meta_hashes(collection: Any) -> dict[str, str]:
    records = iter_records(collection, ["metadatas"])
    return {cid: meta.get("meta_hash", "") for cid, meta, _ in records}


def _batches(items: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _call(operation: Callable[..., Any], **kwargs: Any) -> Any:
    try:
        return operation(**kwargs)
    except Exception as exc:  # sqlite "database is locked", ENOSPC, server errors...
        raise IndexWriteError(
            f"{type(exc).__name__}: {exc}. Nothing was published: the previous index is "
            "unchanged; re-run `assistant ingest` to finish"
        ) from exc


def _write(operation: Callable[..., Any], **kwargs: Any) -> None:
    _call(operation, **kwargs)
