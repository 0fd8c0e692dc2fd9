"""The numpy BM25 query path ranks exactly as bm25s does (same ids, same scores)."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.index.keyword import ChunkRow, KeywordIndex

TEXTS = [
    "Physics-informed neural networks fail on stiff problems and stiff PDEs.",
    "Graph neural networks simulate fluid flow on unstructured meshes.",
    "Transformers predict protein structure from sequence alone.",
    "Neural operators learn solution maps of partial differential equations.",
    "Failure modes of physics-informed networks: spectral bias and causality.",
    "The of and to a in is it",  # only stop words
]
ROWS = [ChunkRow(f"c{i}", t, {"embed_text": f"Paper {i}. {t}"}) for i, t in enumerate(TEXTS)]
QUERIES = [
    "stiff physics-informed networks",
    "neural networks",
    "protein folding transformers",
    "failure failure failure",
    "the of and",
    "zzzz unknownword",
    "",
]


def bm25s_ranking(query: str, n: int) -> list[tuple[str, float]]:
    import bm25s
    import Stemmer

    stemmer = Stemmer.Stemmer("english")
    ref = bm25s.BM25()
    corpus = [r.meta["embed_text"] for r in ROWS]
    ref.index(bm25s.tokenize(corpus, stopwords="en", stemmer=stemmer, show_progress=False))
    tokens = bm25s.tokenize(
        [query], stopwords="en", stemmer=stemmer, show_progress=False, return_ids=False
    )
    if not tokens or not tokens[0]:
        return []
    docs, scores = ref.retrieve([tokens[0]], k=n, show_progress=False)
    return [
        (ROWS[int(d)].chunk_id, round(float(s), 5))
        for d, s in zip(docs[0], scores[0], strict=True)
        if s > 0
    ]


@pytest.mark.parametrize("cached", [False, True])
@pytest.mark.parametrize("query", QUERIES)
def test_same_ranking_as_bm25s(query: str, cached: bool, tmp_path: Path) -> None:
    if cached:
        KeywordIndex.cached(ROWS, tmp_path)  # build and save
        index = KeywordIndex.cached(ROWS, tmp_path)  # loaded without bm25s
    else:
        index = KeywordIndex(ROWS)
    got = [(r.chunk_id, round(s, 5)) for r, s in index.search(query, 4)]
    assert got == bm25s_ranking(query, 4)
