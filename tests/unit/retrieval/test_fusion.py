"""Score fusion (``retrieval.fusion``): chunk rankings -> one paper ranking, pure functions."""

from __future__ import annotations

import json

import pytest

from assistant.index.keyword import ChunkRow
from assistant.retrieval.fusion import fuse, to_hits


def row(chunk_id: str, position: int = 0) -> ChunkRow:
    """Chunk ``a1`` belongs to paper ``A`` (the upper-cased first letter)."""
    pid = chunk_id[0].upper()
    return ChunkRow(
        chunk_id,
        f"text of {chunk_id}",
        {
            "paper_id": pid,
            "title": f"Title {pid}",
            "abstract": f"Abstract {pid}",
            "sources": json.dumps([f"{pid.lower()}.txt", "shared.txt"]),
            "position": position,
            "year": 2020,
        },
    )


A1, A2, B1, C1 = row("a1", 0), row("a2", 1), row("b1", 0), row("c1", 0)
DENSE = [(A1, 0.9), (B1, 0.8), (A2, 0.7)]  # cosine similarities
BM25 = [(B1, 12.0), (C1, 9.0), (A1, 3.0)]  # BM25 scores: another scale


def ordered(scores: dict[str, float]) -> list[str]:
    return sorted(scores, key=scores.get, reverse=True)


def test_a_single_ranking_is_scaled_to_its_best_and_a_paper_scores_its_best_chunk() -> None:
    papers, chunks, rows = fuse([(1.0, DENSE)])
    assert papers == pytest.approx({"A": 1.0, "B": 0.8 / 0.9})
    assert chunks == pytest.approx({"a1": 1.0, "b1": 0.8 / 0.9, "a2": 0.7 / 0.9})
    assert rows == {"a1": A1, "b1": B1, "a2": A2}
    # The weight does not matter for a single ranking: it is its whole share.
    assert fuse([(2.5, DENSE)])[0] == pytest.approx(papers)


def test_hybrid_sums_weighted_shares_of_each_rankings_best_score() -> None:
    papers, chunks, _ = fuse([(1.0, DENSE), (1.5, BM25)])
    dense, bm25 = 1.0 / 2.5, 1.5 / 2.5  # weights are shares of their sum
    # dense: A 0.9/0.9, B 0.8/0.9, C not returned (credited the lowest, 0.7/0.9);
    # bm25: B 12/12, C 9/12, A 3/12.
    assert papers["A"] == pytest.approx(dense * 1.0 + bm25 * 3 / 12)
    assert papers["B"] == pytest.approx(dense * 0.8 / 0.9 + bm25 * 1.0)
    assert papers["C"] == pytest.approx(dense * 0.7 / 0.9 + bm25 * 9 / 12)
    assert ordered(papers) == ["B", "C", "A"]
    # Chunks fuse the same way: a2 is missing from BM25 (credited its lowest, 3/12).
    assert chunks["a2"] == pytest.approx(dense * 0.7 / 0.9 + bm25 * 3 / 12)


def test_weights_decide_between_retrievers() -> None:
    keyword_heavy = fuse([(1.0, DENSE), (1.5, BM25)])[0]
    dense_heavy = fuse([(9.0, DENSE), (1.0, BM25)])[0]
    assert ordered(keyword_heavy)[0] == "B"
    assert ordered(dense_heavy)[0] == "A"
    assert fuse([(0.0, DENSE), (1.0, BM25)])[0]["A"] == pytest.approx(3 / 12)


def test_many_mediocre_chunks_do_not_add_up() -> None:
    """A paper scores its best chunk; its other chunks add nothing."""
    many_b = [(A1, 0.9)] + [(row(f"b{i}", i), 0.8 - i / 100) for i in range(1, 6)]
    one_b = [(A1, 0.9), (B1, 0.79)]
    bm25 = [(A1, 5.0), (B1, 4.0)]
    many = fuse([(1.0, many_b), (1.0, bm25)])[0]
    one = fuse([(1.0, one_b), (1.0, bm25)])[0]
    assert many == pytest.approx(one)
    assert ordered(many) == ["A", "B"]


def test_a_paper_missing_from_one_ranking_gets_its_lowest_score_not_zero() -> None:
    ranking = [(A1, 0.9), (A2, 0.8), (B1, 0.6)]
    papers, chunks, _ = fuse([(1.0, ranking), (1.0, [(C1, 4.0)])])
    # C was not among the dense candidates: credited 0.6/0.9, the lowest returned.
    assert papers["C"] == pytest.approx(0.5 * 0.6 / 0.9 + 0.5 * 1.0)
    assert papers["B"] == pytest.approx(0.5 * 0.6 / 0.9 + 0.5 * 1.0)
    assert chunks["b1"] == pytest.approx(0.5 * 0.6 / 0.9 + 0.5 * 1.0)


def test_to_hits_ranks_papers_and_keeps_their_best_passages() -> None:
    hits = to_hits([(1.0, DENSE), (1.5, BM25)], DENSE, k=3, passages_per_paper=2)
    assert [(h.rank, h.paper_id) for h in hits] == [(1, "B"), (2, "C"), (3, "A")]
    b, c, a = hits
    assert b.score == round(0.4 * 0.8 / 0.9 + 0.6 * 1.0, 6)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    # Passages: best fused chunk first, each with its own scores and position.
    assert [p.chunk_id for p in a.passages] == ["a1", "a2"]
    assert [p.position for p in a.passages] == [0, 1]
    assert a.passages[0].score > a.passages[1].score
    assert a.passages[0].text == "text of a1"
    # Dense scores: the paper's best cosine; None where only BM25 found it.
    assert (a.dense_score, b.dense_score, c.dense_score) == (0.9, 0.8, None)
    assert [p.dense_score for p in a.passages] == [0.9, 0.7]
    assert c.passages[0].dense_score is None
    # Metadata comes from the chunk rows.
    assert (a.title, a.sources, a.year) == ("Title A", ["a.txt", "shared.txt"], 2020)


def test_to_hits_caps_papers_and_passages_per_paper() -> None:
    hits = to_hits([(1.0, DENSE), (1.5, BM25)], DENSE, k=2, passages_per_paper=1)
    assert [h.paper_id for h in hits] == ["B", "C"]
    assert all(len(h.passages) == 1 for h in hits)
    assert len(to_hits([(1.0, DENSE)], DENSE, k=50, passages_per_paper=5)) == 2


def test_to_hits_single_mode_reports_scores_as_shares_of_the_best() -> None:
    hits = to_hits([(1.5, BM25)], [], k=5, passages_per_paper=2)
    assert [(h.paper_id, h.score) for h in hits] == [("B", 1.0), ("C", 0.75), ("A", 0.25)]
    assert all(h.dense_score is None for h in hits)
    assert to_hits([], [], k=5, passages_per_paper=2) == []
