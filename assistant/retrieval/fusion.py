"""Fusion of chunk rankings into one paper ranking: pure functions, no I/O.

Each retriever ranks chunks; a ranking is collapsed to papers (a paper ranks where its
best chunk ranks), and the paper rankings are fused by weighted reciprocal rank fusion.
Fusing at paper level keeps one long abstract with many mediocre chunks from outranking
a paper with one excellent chunk. With a single ranking, its raw scores are kept.
"""

from __future__ import annotations

import json

from assistant.core.types import PaperHit, Passage
from assistant.index.keyword import ChunkRow

Ranking = list[tuple[ChunkRow, float]]  # best first: (chunk, raw score)


def fuse(
    rankings: list[tuple[float, Ranking]], rrf_k: int
) -> tuple[dict[str, float], dict[str, float], dict[str, ChunkRow]]:
    """Paper scores, chunk scores and the rows seen, from weighted chunk rankings.

    >>> a, b = ChunkRow("a1", "x", {"paper_id": "A"}), ChunkRow("b1", "y", {"paper_id": "B"})
    >>> papers, _, _ = fuse([(1.0, [(a, 0.9), (b, 0.5)]), (1.5, [(b, 7.0), (a, 1.0)])], 60)
    >>> sorted(papers, key=papers.get, reverse=True)
    ['B', 'A']
    """
    paper_score: dict[str, float] = {}
    chunk_score: dict[str, float] = {}
    rows: dict[str, ChunkRow] = {}
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
    return paper_score, chunk_score, rows


def to_hits(
    rankings: list[tuple[float, Ranking]],
    dense: Ranking,
    k: int,
    rrf_k: int,
    passages_per_paper: int,
) -> list[PaperHit]:
    """The top ``k`` papers, each with its best passages, from fused rankings."""
    paper_score, chunk_score, rows = fuse(rankings, rrf_k)
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
