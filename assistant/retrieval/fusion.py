"""Fusion of chunk rankings into one paper ranking: pure functions, no I/O.

Each retriever ranks chunks; a ranking is collapsed to papers (a paper scores its best
chunk), and the papers are fused by a weighted sum of *normalised scores*: each score
divided by the best score of its own ranking, so a cosine and a BM25 score both become
"how close to this retriever's best match" (0..1). Score-aware fusion keeps decisive
matches: when BM25 finds one paper far ahead of the rest ("PAIF" on "MSRS"), that paper
keeps its lead even if dense search ranks it nowhere, where rank fusion (RRF) flattened
a large score gap into one rank step and let papers ranked fairly by both win.
Fusing at paper level keeps one long abstract with many mediocre chunks from outranking
a paper with one excellent chunk.

Every mode reports the same scale, so one label fits all: a paper's score is the share of
the best possible (first in every ranking), 0..1. A hit's raw cosine stays in
``dense_score``.
"""

from __future__ import annotations

import json

from assistant.core.types import PaperHit, Passage
from assistant.index.keyword import ChunkRow

Ranking = list[tuple[ChunkRow, float]]  # best first: (chunk, raw score)

# Labels for a fused score. Relative to this search, not absolute: the top hit of any
# query scores near 1, so these say how close a paper comes to the best match.
_LABELS = ((0.75, "high"), (0.55, "medium"), (0.0, "low"))


def normalised(ranking: Ranking) -> list[tuple[ChunkRow, float]]:
    """Each score as a share of the ranking's best (negatives clipped to 0).

    >>> a, b = ChunkRow("a1", "x", {"paper_id": "A"}), ChunkRow("b1", "y", {"paper_id": "B"})
    >>> [round(s, 2) for _, s in normalised([(a, 8.0), (b, 2.0)])]
    [1.0, 0.25]
    """
    best = max((s for _, s in ranking), default=0.0)
    if best <= 0:
        return [(row, 0.0) for row, _ in ranking]
    return [(row, max(0.0, s) / best) for row, s in ranking]


def fuse(
    rankings: list[tuple[float, Ranking]],
) -> tuple[dict[str, float], dict[str, float], dict[str, ChunkRow]]:
    """Paper scores, chunk scores and the rows seen, from weighted chunk rankings.

    Weights are shares (divided by their sum). A paper or chunk a ranking did not return
    is credited that ranking's lowest returned score: its true score is at most that, and
    a zero would sink every paper one retriever missed (cosines of unrelated abstracts
    are far from zero, so "missing from the dense top 40" is not "unrelated").

    >>> a, b = ChunkRow("a1", "x", {"paper_id": "A"}), ChunkRow("b1", "y", {"paper_id": "B"})
    >>> papers, _, _ = fuse([(1.0, [(a, 0.9), (b, 0.5)]), (1.0, [(b, 7.0), (a, 1.0)])])
    >>> sorted(papers, key=papers.get, reverse=True)
    ['B', 'A']
    """
    total = sum(w for w, _ in rankings) or 1.0
    scored = [(weight / total, normalised(ranking)) for weight, ranking in rankings]
    rows = {row.chunk_id: row for _, ranking in scored for row, _ in ranking}
    pids = list(dict.fromkeys(row.meta["paper_id"] for row in rows.values()))
    paper_score: dict[str, float] = dict.fromkeys(pids, 0.0)
    chunk_score: dict[str, float] = dict.fromkeys(rows, 0.0)
    for share, ranking in scored:
        floor = min((s for _, s in ranking), default=0.0)
        chunks = {row.chunk_id: s for row, s in ranking}
        papers: dict[str, float] = {}
        for row, s in ranking:  # best first: a paper's first chunk is its best
            papers.setdefault(row.meta["paper_id"], s)
        for cid in rows:
            chunk_score[cid] += share * chunks.get(cid, floor)
        for pid in pids:
            paper_score[pid] += share * papers.get(pid, floor)
    return paper_score, chunk_score, rows


def relevance_label(score: float) -> str:
    """high / medium / low for a fused score (see ``_LABELS``).

    >>> relevance_label(0.9), relevance_label(0.6), relevance_label(0.1)
    ('high', 'medium', 'low')
    """
    return next(label for floor, label in _LABELS if score >= floor)


def search_relevance(score: float) -> str:
    """A hit's fused score as shown by ``assistant search``: label and 0-100.

    >>> search_relevance(0.8123)
    'high 81'
    """
    return f"{relevance_label(score)} {round(100 * score)}"


def to_hits(
    rankings: list[tuple[float, Ranking]],
    dense: Ranking,
    k: int,
    passages_per_paper: int,
) -> list[PaperHit]:
    """The top ``k`` papers, each with its best passages, from fused rankings."""
    paper_score, chunk_score, rows = fuse(rankings)
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
                abstract=meta.get("abstract", ""),  # filled by the retriever (store)
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
