"""Hybrid paper search: dense and keyword (BM25) rankings, fused to papers (``fusion.py``).

The first search loads every chunk's text, metadata and vector in one pass over the store
(BM25 needs the texts anyway). Up to ``DENSE_MATRIX_MAX`` chunks, dense search is then an
exact matrix product in memory: faster than a Chroma HNSW query there, and it never
misses a neighbour. Above it a query would stream too much memory (100k chunks are
150 MB of float32 per query, ~20 ms on 2 cores), so Chroma's HNSW index answers; it is
asked for ids and distances only, the rows come from memory instead of SQLite.

A small embedded index is also saved as a snapshot (``snapshot.py``) that the next process
loads without importing Chroma at all; Chroma is then opened only if something needs it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from assistant.core.inputs import clean_question
from assistant.core.lang import strip_function_words
from assistant.core.settings import PROJECT_ROOT, RetrievalMode, Settings, load_settings
from assistant.core.types import PaperHit
from assistant.index.embeddings import Embedder, embed_array, get_embedder
from assistant.index.errors import bound_timeouts, store_boundary
from assistant.index.keyword import ChunkRow, KeywordIndex
from assistant.index.store import (
    index_stats,
    open_client,
    open_collection,
    paper_abstracts,
)
from assistant.retrieval.fusion import Ranking, to_hits
from assistant.retrieval.snapshot import db_state, load_snapshot, save_snapshot

# Exact search reads every vector per query: 25k x 384 float32 is 37 MB, ~3 ms.
DENSE_MATRIX_MAX = 25_000
_PAGE = 5000


@dataclass
class _Corpus:
    """Every chunk of the collection, in memory: rows for BM25 and results, the unit
    vectors for exact dense search (None above ``DENSE_MATRIX_MAX``), abstracts by paper."""

    rows: list[ChunkRow]
    vectors: np.ndarray | None
    abstracts: dict[str, str] = field(default_factory=dict)
    stats: dict[str, int] = field(default_factory=dict)
    _by_id: dict[str, ChunkRow] | None = None

    def by_id(self) -> dict[str, ChunkRow]:
        if self._by_id is None:
            self._by_id = {row.chunk_id: row for row in self.rows}
        return self._by_id


class Retriever:
    """Loads the index once; ``search`` is thread-safe. A Chroma server that stops
    answering is reported as ``IndexUnavailable`` by every method (``store_boundary``)."""

    @store_boundary
    def __init__(
        self, settings: Settings, embedder: Embedder | None = None, client: Any = None
    ) -> None:
        self.settings = settings
        self.embedder = embedder or get_embedder(settings.index)
        self._client = client
        self._collection: Any = None
        self._keyword: KeywordIndex | None = None
        self._corpus: _Corpus | None = None
        self._lock = threading.RLock()  # keyword_index() loads the corpus under the lock
        if client is None:
            self._corpus = _from_snapshot(settings, self.embedder.dim)
        if self._corpus is None:
            self._open()  # checks the index now: a missing or damaged one fails here

    @property
    def client(self) -> Any:
        with self._lock:
            if self._client is None:
                self._client = open_client(self.settings)
                bound_timeouts(self._client)
            return self._client

    @property
    def collection(self) -> Any:
        """The active generation, opened (and checked) on first use."""
        return self._open()

    def _open(self) -> Any:
        with self._lock:
            if self._collection is None:
                client = self.client
                self._collection = open_collection(self.settings, client, self.embedder.dim)
            return self._collection

    @store_boundary
    def stats(self) -> dict[str, int]:
        with self._lock:
            if self._collection is None and self._corpus is not None and self._corpus.stats:
                return dict(self._corpus.stats)
        return index_stats(self.collection)

    @store_boundary
    def keyword_index(self) -> KeywordIndex:
        with self._lock:
            if self._keyword is None:
                self._keyword = KeywordIndex.cached(self.corpus().rows, self._keyword_cache())
            return self._keyword

    @store_boundary
    def corpus(self) -> _Corpus:
        """All chunks in memory, loaded on first use (one pass over the store)."""
        with self._lock:
            if self._corpus is None:
                collection = self.collection
                # Fingerprint first: a write that lands while reading makes it stale.
                state = None if self.settings.index.chroma_url else db_state(self._persist)
                self._corpus = _load_corpus(collection)
                self._corpus.stats = index_stats(collection)
                dim = self.embedder.dim
                corpus = self._corpus
                save_snapshot(self.settings, dim, corpus.rows, corpus.vectors, corpus.stats, state)
            return self._corpus

    @property
    def _persist(self) -> Path:
        return self.settings.index.persist_dir

    def _keyword_cache(self) -> Path:
        if self.settings.index.chroma_url:
            return PROJECT_ROOT / ".cache" / "keyword"
        return self.settings.index.persist_dir / "keyword-cache"

    @store_boundary
    def search(
        self,
        query: str,
        k: int | None = None,
        mode: RetrievalMode | None = None,
        only: list[str] | None = None,
    ) -> list[PaperHit]:
        """The ``k`` best papers for ``query``; with ``only``, just those papers (ranked),
        as when a follow-up is about "the second one" of the previous answer."""
        # The query may come straight from argv or an API caller: surrogates, control
        # characters and megabytes are refused or repaired before any tokenizer sees them.
        # A follow-up's standalone query is a question plus one earlier (capped) turn.
        cap = self.settings.answer
        limit = cap.max_question_chars + cap.max_history_chars + 200
        query = clean_question(query, limit, "search query")
        cfg = self.settings.retrieval
        k = k or cfg.k
        mode = mode or cfg.mode
        # Pinned papers may rank below the usual candidates: score every chunk, then keep
        # theirs (exact dense search and BM25 over one corpus in memory are cheap).
        n = cfg.candidates if only is None else len(self.keyword_index().rows)
        rankings: list[tuple[float, Ranking]] = []
        dense: Ranking = []
        if mode in ("dense", "hybrid"):
            dense = _restricted(self._dense(query, n), only)
            rankings.append((cfg.dense_weight, dense))
        if mode in ("bm25", "hybrid"):
            # BM25 knows English stop words only: another language's would match noise.
            keyword = self.keyword_index().search(strip_function_words(query), n)
            rankings.append((cfg.bm25_weight, _restricted(keyword, only)))
        hits = to_hits(rankings, dense, k, cfg.passages_per_paper)
        known = self._corpus.abstracts if self._corpus is not None else {}
        return _with_abstracts(self._open, hits, known)

    def _dense(self, query: str, n: int) -> Ranking:
        vector = embed_array(self.embedder, [query])[0]
        corpus = self.corpus()
        if corpus.vectors is not None:
            return _exact_top(corpus, vector, n)
        n = min(n, max(1, len(corpus.rows)))
        got = self.collection.query(query_embeddings=[vector], n_results=n, include=["distances"])
        rows = corpus.by_id()
        return [
            (rows[cid], 1.0 - float(dist))  # cosine distance -> similarity
            for cid, dist in zip(got["ids"][0], got["distances"][0], strict=True)
            if cid in rows
        ]


def _restricted(ranking: Ranking, only: list[str] | None) -> Ranking:
    """``ranking`` limited to the chunks of the papers in ``only`` (all of it if None)."""
    if only is None:
        return ranking
    wanted = set(only)
    return [(row, score) for row, score in ranking if row.meta.get("paper_id") in wanted]


def _exact_top(corpus: _Corpus, vector: np.ndarray, n: int) -> Ranking:
    """The ``n`` chunks with the highest cosine (vectors are unit length)."""
    assert corpus.vectors is not None
    n = min(n, len(corpus.rows))
    if n <= 0:
        return []
    scores = corpus.vectors @ vector
    top = np.argpartition(-scores, n - 1)[:n] if n < len(scores) else np.arange(len(scores))
    top = top[np.argsort(-scores[top], kind="stable")]
    return [(corpus.rows[i], float(scores[i])) for i in top.tolist()]


def _from_snapshot(settings: Settings, dim: int) -> _Corpus | None:
    loaded = load_snapshot(settings, dim)
    if loaded is None:
        return None
    rows, vectors, stats = loaded
    return _Corpus(rows, vectors, _abstracts(rows), stats)


def _abstracts(rows: list[ChunkRow]) -> dict[str, str]:
    return {
        str(r.meta["paper_id"]): str(r.meta["abstract"])
        for r in rows
        if "paper_id" in r.meta and r.meta.get("abstract")
    }


def _load_corpus(collection: Any) -> _Corpus:
    """Rows, vectors and abstracts, a page at a time (a large index never arrives as one
    response); vectors only while the matrix stays small enough to keep."""
    with_vectors = int(collection.count()) <= DENSE_MATRIX_MAX
    include = ["documents", "metadatas", *(["embeddings"] if with_vectors else [])]
    rows: list[ChunkRow] = []
    pages: list[np.ndarray] = []
    offset = 0
    while True:
        got = collection.get(include=include, limit=_PAGE, offset=offset)
        ids = got["ids"]
        docs = got.get("documents") or [None] * len(ids)
        metas = got.get("metadatas") or [None] * len(ids)
        rows.extend(ChunkRow(c, d or "", m or {}) for c, d, m in zip(ids, docs, metas, strict=True))
        if with_vectors and len(ids):
            pages.append(np.asarray(got["embeddings"], dtype=np.float32))
        if len(ids) < _PAGE:
            break
        offset += _PAGE
    vectors = None
    if with_vectors:
        vectors = np.concatenate(pages) if pages else np.zeros((0, 1), dtype=np.float32)
        # Stored vectors are unit length already; renormalising guards foreign writers.
        vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    return _Corpus(rows, vectors, _abstracts(rows))


def _with_abstracts(
    collection: Callable[[], Any], hits: list[PaperHit], known: dict[str, str]
) -> list[PaperHit]:
    """Each abstract is stored once per paper, not in every chunk: look them up (in the
    loaded corpus when every hit's paper is there, else in the store)."""
    if all(h.paper_id in known for h in hits):
        abstracts = known
    else:
        abstracts = paper_abstracts(collection(), [h.paper_id for h in hits])
    return [h.model_copy(update={"abstract": abstracts.get(h.paper_id, h.abstract)}) for h in hits]


_DEFAULT: dict[str, Retriever] = {}


def search(
    query: str, k: int = 5, mode: RetrievalMode | None = None, settings: Settings | None = None
) -> list[PaperHit]:
    """Search the index for papers.

    >>> hits = search("failure modes of physics-informed neural networks", k=3)  # doctest: +SKIP
    >>> hits[0].title  # doctest: +SKIP
    """
    settings = settings or load_settings()
    key = settings.model_dump_json(include={"index", "ingest", "retrieval"})
    if key not in _DEFAULT:
        _DEFAULT[key] = Retriever(settings)
    return _DEFAULT[key].search(query, k=k, mode=mode)
