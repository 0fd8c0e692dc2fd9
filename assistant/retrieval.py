"""Hybrid paper search: dense (Chroma) + keyword (BM25), fused, aggregated to papers.

Each retriever ranks chunks; chunk rankings are collapsed to paper rankings (a paper
ranks where its best chunk ranks), and the two paper rankings are fused with reciprocal
rank fusion. Fusing at paper level keeps one long abstract with many mediocre chunks from
outranking a paper with one excellent chunk.
"""

from __future__ import annotations

import json
import logging
import math
import threading
from collections import Counter
from dataclasses import dataclass
from typing import Any

from assistant.config import RetrievalMode, Settings
from assistant.embeddings import Embedder, get_embedder
from assistant.errors import UserInputError
from assistant.store import index_stats, iter_records, open_client, open_collection
from assistant.text import content_words
from assistant.types import PaperHit, Passage


@dataclass
class _ChunkRow:
    chunk_id: str
    text: str
    meta: dict[str, Any]


class KeywordIndex:
    """BM25 over chunk texts (title + passage), with English stemming and stop words."""

    def __init__(self, rows: list[_ChunkRow]) -> None:
        import bm25s
        import Stemmer

        logging.getLogger("bm25s").setLevel(logging.WARNING)  # it logs each build at DEBUG
        self.rows = rows
        self._stemmer = Stemmer.Stemmer("english")
        self._bm25 = bm25s.BM25()
        corpus = [_index_text(r) for r in rows]
        tokens = bm25s.tokenize(corpus, stopwords="en", stemmer=self._stemmer, show_progress=False)
        self._bm25.index(tokens, show_progress=False)
        self._df: Counter[str] | None = None

    def idf(self, word: str) -> float:
        """Inverse document frequency of a content word over chunks (for abstention)."""
        if self._df is None:
            self._df = Counter(w for r in self.rows for w in content_words(_index_text(r)))
        return math.log((len(self.rows) + 1) / (self._df.get(word, 0) + 1))

    def search(self, query: str, n: int) -> list[tuple[_ChunkRow, float]]:
        import bm25s

        if not self.rows:
            return []
        tokens = bm25s.tokenize(
            [query], stopwords="en", stemmer=self._stemmer, show_progress=False, return_ids=False
        )
        if not tokens or not tokens[0]:
            return []
        n = min(n, len(self.rows))
        docs, scores = self._bm25.retrieve([tokens[0]], k=n, show_progress=False)
        return [
            (self.rows[int(d)], float(s)) for d, s in zip(docs[0], scores[0], strict=True) if s > 0
        ]


def _index_text(row: _ChunkRow) -> str:
    return row.meta.get("embed_text") or row.text


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
        rankings: list[tuple[float, list[tuple[_ChunkRow, float]]]] = []
        dense: list[tuple[_ChunkRow, float]] = []
        if mode in ("dense", "hybrid"):
            dense = self._dense(query, cfg.candidates)
            rankings.append((cfg.dense_weight, dense))
        if mode in ("bm25", "hybrid"):
            rankings.append((cfg.bm25_weight, self.keyword_index().search(query, cfg.candidates)))
        return _to_papers(rankings, dense, k, cfg.rrf_k, cfg.passages_per_paper)

    def _dense(self, query: str, n: int) -> list[tuple[_ChunkRow, float]]:
        n = min(n, max(1, self.collection.count()))
        vector = self.embedder.embed([query])[0]
        got = self.collection.query(
            query_embeddings=[vector], n_results=n, include=["documents", "metadatas", "distances"]
        )
        return [
            (_ChunkRow(cid, doc, meta), 1.0 - float(dist))  # cosine distance -> similarity
            for cid, doc, meta, dist in zip(
                got["ids"][0],
                got["documents"][0],
                got["metadatas"][0],
                got["distances"][0],
                strict=True,
            )
        ]


def _all_rows(collection: Any) -> list[_ChunkRow]:
    records = iter_records(collection, ["documents", "metadatas"])
    return [_ChunkRow(cid, doc or "", meta) for cid, meta, doc in records]


def _to_papers(
    rankings: list[tuple[float, list[tuple[_ChunkRow, float]]]],
    dense: list[tuple[_ChunkRow, float]],
    k: int,
    rrf_k: int,
    passages_per_paper: int,
) -> list[PaperHit]:
    paper_score: dict[str, float] = {}
    chunk_score: dict[str, float] = {}
    rows: dict[str, _ChunkRow] = {}
    single = len(rankings) == 1
    for weight, ranking in rankings:
        paper_rank: dict[str, int] = {}  # rank among distinct papers, best chunk first
        for chunk_rank, (row, raw) in enumerate(ranking):
            pid = row.meta["paper_id"]
            rows[row.chunk_id] = row
            # Single mode: raw scores; hybrid: reciprocal rank (scales differ across retrievers).
            chunk_score[row.chunk_id] = chunk_score.get(row.chunk_id, 0.0) + (
                raw if single else weight / (rrf_k + chunk_rank + 1)
            )
            if pid not in paper_rank:
                paper_rank[pid] = len(paper_rank)
                paper_score[pid] = paper_score.get(pid, 0.0) + (
                    raw if single else weight / (rrf_k + paper_rank[pid] + 1)
                )
    dense_best: dict[str, float] = {}
    dense_by_chunk = {row.chunk_id: s for row, s in dense}
    for row, s in dense:
        pid = row.meta["paper_id"]
        dense_best[pid] = max(dense_best.get(pid, -1.0), s)
    ordered = sorted(paper_score, key=lambda p: paper_score[p], reverse=True)[:k]
    hits = []
    for rank, pid in enumerate(ordered, start=1):
        chunks = sorted(
            (r for r in rows.values() if r.meta["paper_id"] == pid),
            key=lambda r: chunk_score[r.chunk_id],
            reverse=True,
        )[:passages_per_paper]
        meta = chunks[0].meta
        hits.append(
            PaperHit(
                rank=rank,
                paper_id=pid,
                title=meta["title"],
                abstract=meta["abstract"],
                sources=json.loads(meta.get("sources", "[]")),
                score=round(paper_score[pid], 6),
                dense_score=dense_best.get(pid),
                passages=[
                    Passage(
                        chunk_id=r.chunk_id,
                        text=r.text,
                        position=int(r.meta["position"]),
                        score=round(chunk_score[r.chunk_id], 6),
                        dense_score=dense_by_chunk.get(r.chunk_id),
                    )
                    for r in chunks
                ],
                authors=meta.get("authors"),
                year=meta.get("year"),
                url=meta.get("url"),
            )
        )
    return hits


_DEFAULT: dict[str, Retriever] = {}


def search(
    query: str, k: int = 5, mode: RetrievalMode | None = None, settings: Settings | None = None
) -> list[PaperHit]:
    """Search the index for papers.

    >>> hits = search("failure modes of physics-informed neural networks", k=3)  # doctest: +SKIP
    >>> hits[0].title  # doctest: +SKIP
    """
    from assistant.config import load_settings

    settings = settings or load_settings()
    key = settings.model_dump_json(include={"index", "ingest", "retrieval"})
    if key not in _DEFAULT:
        _DEFAULT[key] = Retriever(settings)
    return _DEFAULT[key].search(query, k=k, mode=mode)
