"""Opening the Chroma index (embedded or server) and checking it is complete and current.

Layout (schema 2). The index named by ``index.collection`` (say ``abstracts``) is:

- ``abstracts``, the **manifest**: a collection with no records whose metadata holds the
  build signature (embedder, model, chunk settings), ``active`` (the name of the complete
  generation readers use; empty until a build has completed), the paper and chunk counts,
  and, for the writer, ``staging`` and ``retired``.
- ``abstracts-g<hex>``, **generations**: one record per chunk. Every chunk carries the
  small per-paper fields (title, sources, authors…) used for filtering and display; the
  abstract is stored once per paper, on its first chunk (``position`` 0), and read with
  ``paper_abstracts`` — storing it in every chunk multiplied the index size by the number
  of chunks per paper.

Only ``ingest/writer.py`` writes. Readers go through ``open_collection``, which follows
the manifest's ``active`` pointer and refuses an index that never completed, so a reader
can never see a half-written build. An index built with other settings (or an older
schema) raises ``IndexMismatchError`` telling the user to rebuild.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from assistant.core.errors import (
    AssistantError,
    ConfigError,
    IndexCorruptError,
    IndexIncompleteError,
    IndexMismatchError,
    IndexMissingError,
    IndexUnavailable,
    IndexWriteError,
)
from assistant.core.settings import Settings

# 2: manifest + generations, abstract stored once per paper (1: one collection, abstract
# in every chunk). Readers refuse other versions with "run `assistant ingest --rebuild`".
SCHEMA_VERSION = 2
ACTIVE, STAGING, RETIRED = "active", "staging", "retired"
# Chroma's Rust core reports some damage as a pyo3 ``PanicException``, which derives from
# BaseException; it must become one clear error too, unlike Ctrl-C or exit.
STORE_ERRORS = BaseException


def _reraise_if_not_store(exc: BaseException) -> None:
    if isinstance(exc, AssistantError):
        raise exc
    if not isinstance(exc, Exception) and type(exc).__name__ != "PanicException":
        raise exc


def index_signature(settings: Settings, embedding_dim: int) -> dict[str, Any]:
    """What a collection must have been built with to be read with these settings."""
    return {
        "schema": SCHEMA_VERSION,
        "embedder": settings.index.embedder,
        "embedding_model": settings.index.embedding_model,
        "embedding_dim": embedding_dim,
        "chunk_tokens": settings.ingest.chunk_tokens,
        "overlap_sentences": settings.ingest.overlap_sentences,
    }


def index_location(settings: Settings) -> str:
    return settings.index.chroma_url or str(settings.index.persist_dir)


def ensure_index_dir(settings: Settings) -> Path:
    """The embedded index folder, created if needed; a clear error if it cannot be."""
    path = settings.index.persist_dir
    if path.exists() and not path.is_dir():
        raise ConfigError(f"index.persist_dir {path} is a file, not a folder")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise IndexWriteError(f"cannot create the index folder {path}: {exc.strerror}") from None
    return path


def open_client(settings: Settings) -> Any:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    url = settings.index.chroma_url
    if not url:
        path = ensure_index_dir(settings)
        try:
            return chromadb.PersistentClient(path=str(path), settings=chroma_settings)
        except STORE_ERRORS as exc:  # sqlite "malformed", "not a database", "unable to open"
            _reraise_if_not_store(exc)
            raise _corrupt(settings, exc) from exc
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise ConfigError(f"index.chroma_url must look like http://host:port, got '{url}'")
    try:
        client = chromadb.HttpClient(
            host=parsed.hostname,
            port=parsed.port or (443 if parsed.scheme == "https" else 8000),
            ssl=parsed.scheme == "https",
            settings=chroma_settings,
        )
        client.heartbeat()
    except Exception as exc:  # chromadb raises assorted errors for a dead server
        raise IndexUnavailable(f"cannot reach the Chroma server at {url}: {exc}") from exc
    return client


def _corrupt(settings: Settings, exc: BaseException) -> IndexCorruptError:
    where = index_location(settings)
    fix = (
        "check the server"
        if settings.index.chroma_url
        else f"move the folder {where} away and run `assistant ingest` to build a new index"
    )
    return IndexCorruptError(f"cannot read the index at {where} ({_short(exc)}); {fix}")


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0][:200] if text else ''}"


def get_collection(client: Any, name: str) -> Any | None:
    """The named collection, or None if it does not exist; other failures raise."""
    if not name:
        return None
    try:
        return client.get_collection(name=name)
    except STORE_ERRORS as exc:
        _reraise_if_not_store(exc)
        # NotFoundError in chromadb 1.x, ValueError in older versions.
        if type(exc).__name__ == "NotFoundError" or isinstance(exc, ValueError):
            return None
        raise IndexCorruptError(f"cannot read collection '{name}': {_short(exc)}") from exc


def read_manifest(client: Any, name: str) -> dict[str, Any] | None:
    """The manifest's metadata, or None when there is no index of that name."""
    manifest = get_collection(client, name)
    return None if manifest is None else dict(manifest.metadata or {})


def open_collection(settings: Settings, client: Any, embedding_dim: int) -> Any:
    """The active (complete) generation of the index, checked against the settings."""
    name, where = settings.index.collection, index_location(settings)
    meta = read_manifest(client, name)
    if meta is None:
        raise IndexMissingError(
            f"no collection '{name}' at {where}; run `assistant ingest` to build it"
        )
    check_signature(meta, index_signature(settings, embedding_dim))
    active = get_collection(client, str(meta.get(ACTIVE) or ""))
    if active is None or safe_count(active) != meta.get("chunks"):
        raise IndexIncompleteError(
            f"the index at {where} is incomplete (an ingest was interrupted or failed "
            "before its first build completed); run `assistant ingest`"
        )
    return active


def check_signature(found: dict[str, Any], wanted: dict[str, Any]) -> None:
    diffs = [
        f"{key} {found.get(key)!r} (settings say {value!r})"
        for key, value in wanted.items()
        if found.get(key) != value
    ]
    if diffs:
        raise IndexMismatchError(
            "the index was built with "
            + ", ".join(diffs)
            + "; run `assistant ingest --rebuild` to rebuild it with the current settings"
        )


def safe_count(collection: Any) -> int:
    try:
        return int(collection.count())
    except STORE_ERRORS as exc:
        _reraise_if_not_store(exc)
        raise IndexCorruptError(f"cannot count the index records: {_short(exc)}") from exc


def iter_records(
    collection: Any, include: list[str], page: int = 5000
) -> Iterator[tuple[str, dict[str, Any], str | None]]:
    """Every (id, metadata, document) in the collection, fetched a page at a time so a
    large index never arrives as one response. ``document`` is None unless included."""
    offset = 0
    while True:
        try:
            got = collection.get(include=include, limit=page, offset=offset)
        except STORE_ERRORS as exc:
            _reraise_if_not_store(exc)
            raise IndexCorruptError(f"cannot read the index records: {_short(exc)}") from exc
        documents = got.get("documents") or [None] * len(got["ids"])
        metadatas = got.get("metadatas") or [None] * len(got["ids"])
        for cid, meta, doc in zip(got["ids"], metadatas, documents, strict=True):
            yield cid, meta or {}, doc
        if len(got["ids"]) < page:
            return
        offset += page


def paper_abstracts(collection: Any, paper_ids: list[str]) -> dict[str, str]:
    """Abstracts by paper id (each is stored once, on the paper's first chunk)."""
    wanted = sorted(set(paper_ids))
    if not wanted:
        return {}
    where = {"$and": [{"paper_id": {"$in": wanted}}, {"position": 0}]}
    try:
        got = collection.get(where=where, include=["metadatas"])
    except STORE_ERRORS as exc:
        _reraise_if_not_store(exc)
        raise IndexCorruptError(f"cannot read abstracts from the index: {_short(exc)}") from exc
    return {
        str(meta["paper_id"]): str(meta.get("abstract", ""))
        for meta in got.get("metadatas") or []
        if meta
    }


def index_stats(collection: Any) -> dict[str, int]:
    """Papers and chunks in the collection (what the UI shows)."""
    meta = collection.metadata or {}
    return {"papers": int(meta.get("papers", 0)), "chunks": safe_count(collection)}


def verify_index(collection: Any) -> dict[str, int]:
    """Stats after checking the generation is whole: its counts match its records and
    every paper has its first chunk (the one that carries the abstract)."""
    stats = index_stats(collection)
    expected = (collection.metadata or {}).get("chunks")
    try:
        firsts = len(collection.get(where={"position": 0}, include=[])["ids"])
    except STORE_ERRORS as exc:
        _reraise_if_not_store(exc)
        raise IndexCorruptError(f"cannot read the index records: {_short(exc)}") from exc
    if not stats["papers"] or stats["chunks"] != expected or firsts != stats["papers"]:
        raise IndexIncompleteError(
            f"the index is incomplete ({stats['papers']} papers recorded, {firsts} found, "
            f"{stats['chunks']} of {expected} chunks); run `assistant ingest --rebuild`"
        )
    return stats


def generation_names(client: Any, name: str) -> list[str]:
    """Every generation collection of the index ``name`` (complete or not)."""
    pattern = re.compile(re.escape(name) + r"-g[0-9a-f]{12}")
    try:
        found = client.list_collections()
    except STORE_ERRORS as exc:
        _reraise_if_not_store(exc)
        raise IndexCorruptError(f"cannot list the index collections: {_short(exc)}") from exc
    names = [getattr(c, "name", c) for c in found]
    return sorted(n for n in names if isinstance(n, str) and pattern.fullmatch(n))
