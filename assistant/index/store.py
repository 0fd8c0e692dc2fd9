"""Opening the Chroma index (embedded or server) and checking it matches the settings.

Only ``ingest/index.py`` writes; everything here reads. The collection's metadata records
the embedding model and chunk settings it was built with; opening it with other settings
raises ``IndexMismatchError`` telling the user to rebuild.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlparse

from assistant.core.errors import (
    ConfigError,
    IndexMismatchError,
    IndexMissingError,
    IndexUnavailable,
)
from assistant.core.settings import Settings

SCHEMA_VERSION = 1


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


def open_client(settings: Settings) -> Any:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    url = settings.index.chroma_url
    if not url:
        settings.index.persist_dir.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(
            path=str(settings.index.persist_dir), settings=chroma_settings
        )
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


def open_collection(settings: Settings, client: Any, embedding_dim: int) -> Any:
    """The existing collection, checked against the settings."""
    name = settings.index.collection
    try:
        collection = client.get_collection(name=name)
    except Exception as exc:  # NotFoundError / ValueError depending on chromadb version
        where = settings.index.chroma_url or settings.index.persist_dir
        raise IndexMissingError(
            f"no collection '{name}' at {where}; run `assistant ingest` to build it"
        ) from exc
    check_signature(collection.metadata or {}, index_signature(settings, embedding_dim))
    return collection


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


def iter_records(
    collection: Any, include: list[str], page: int = 5000
) -> Iterator[tuple[str, dict[str, Any], str | None]]:
    """Every (id, metadata, document) in the collection, fetched a page at a time so a
    large index never arrives as one response. ``document`` is None unless included."""
    offset = 0
    while True:
        got = collection.get(include=include, limit=page, offset=offset)
        documents = got.get("documents") or [None] * len(got["ids"])
        metadatas = got.get("metadatas") or [None] * len(got["ids"])
        for cid, meta, doc in zip(got["ids"], metadatas, documents, strict=True):
            yield cid, meta or {}, doc
        if len(got["ids"]) < page:
            return
        offset += page


def index_stats(collection: Any) -> dict[str, int]:
    """Papers and chunks in the collection (what the UI shows)."""
    meta = collection.metadata or {}
    return {"papers": int(meta.get("papers", 0)), "chunks": int(collection.count())}
