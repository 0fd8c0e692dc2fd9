"""Hybrid paper search: dense (Chroma) and keyword (BM25) rankings, fused to papers
(``fusion.py``)."""

from __future__ import annotations

import threading
from typing import Any

from assistant.core.errors import UserInputError
from assistant.core.settings import RetrievalMode, Settings, load_settings
from assistant.core.types import PaperHit
from assistant.index.embeddings import Embedder, get_embedder
from assistant.index.keyword import ChunkRow, KeywordIndex
from assistant.index.store import index_stats, iter_records, open_client, open_collection
from assistant.retrieval.fusion import Ranking, to_hits


class Retriever:
    """Loads the index once; ``search`` is thread-safe."""

    def __init__(
        self, settings: Settings, embedder: Embedder | None = None, client: Any = None
    ) -> None:
        self.settings = settings
        self.embedder = embedder or get_embedder(settings.index)
        self.client = client or open_client(settings)
        self.collection = open_collection(settings, self.client, self.embedder.dim)
        self._keyword: KeywordIndex | None = None
        self._lock = threading.Lock()

    def stats(self) -> dict[str, int]:
        return index_stats(self.collection)

    def keyword_index(self) -> KeywordIndex:
        with self._lock:
            if self._keyword is None:
                self._keyword = KeywordIndex(_all_rows(self.collection))
            return self._keyword

    def search(
        self, query: str, k: int | None = None, mode: RetrievalMode | None = None
    ) -> list[PaperHit]:
        query = query.strip()
        if not query:
            raise UserInputError("the search query is empty")
        cfg = self.settings.retrieval
        k = k or cfg.k
        mode = mode or cfg.mode
        rankings: list[tuple[float, Ranking]] = []
        dense: Ranking = []
        if mode in ("dense", "hybrid"):
            dense = self._dense(query, cfg.candidates)
            rankings.append((cfg.dense_weight, dense))
        if mode in ("bm25", "hybrid"):
            rankings.append((cfg.bm25_weight, self.keyword_index().search(query, cfg.candidates)))
        return to_hits(rankings, dense, k, cfg.rrf_k, cfg.passages_per_paper)

    def _dense(self, query: str, n: int) -> Ranking:
        n = min(n, max(1, self.collection.count()))
        vector = self.embedder.embed([query])[0]
        got = self.collection.query(
            query_embeddings=[vector], n_results=n, include=["documents", "metadatas", "distances"]
        )
        return [
            (ChunkRow(cid, doc, meta), 1.0 - float(dist))  # cosine distance -> similarity
            for cid, doc, meta, dist in zip(
                got["ids"][0],
                got["documents"][0],
                got["metadatas"][0],
                got["distances"][0],
                strict=True,
            )
        ]


def _all_rows(collection: Any) -> list[ChunkRow]:
    records = iter_records(collection, ["documents", "metadatas"])
    return [ChunkRow(cid, doc or "", meta) for cid, meta, doc in records]


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
