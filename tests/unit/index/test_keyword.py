"""The BM25 keyword index over chunk texts (``index.keyword``), built in memory."""

from __future__ import annotations

import pytest

from assistant.index.keyword import ChunkRow, KeywordIndex


def row(chunk_id: str, text: str) -> ChunkRow:
    return ChunkRow(chunk_id, text, {"paper_id": chunk_id, "embed_text": f"Title. {text}"})


ROWS = [
    row("pinn", "Physics-informed neural networks fail on stiff problems."),
    row("gnn", "Graph neural networks simulate fluid flow on meshes."),
    row("protein", "Transformers predict protein structure from sequence."),
]


@pytest.fixture(scope="module")
def index() -> KeywordIndex:
    return KeywordIndex(ROWS)


def test_search_ranks_matching_chunks_by_bm25(index: KeywordIndex) -> None:
    found = index.search("stiff physics-informed networks", 10)
    assert [r.chunk_id for r, _ in found] == ["pinn", "gnn"]  # no match: left out
    assert found[0][1] > found[1][1] > 0
    assert [r.chunk_id for r, _ in index.search("fluids on a mesh", 1)] == ["gnn"]  # stemmed


def test_queries_without_keywords_find_nothing(index: KeywordIndex) -> None:
    assert index.search("the of and", 5) == []
    assert index.search("quantum chromodynamics", 5) == []


def test_idf_is_higher_for_rarer_words(index: KeywordIndex) -> None:
    assert index.idf("stiff") > index.idf("neural") > index.idf("title")
    assert index.idf("unseen") == max(index.idf(w) for w in ("stiff", "neural", "unseen"))
