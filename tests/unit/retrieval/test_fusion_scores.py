"""Score-aware fusion keeps decisive matches (``retrieval.fusion``)."""

from __future__ import annotations

from assistant.index.keyword import ChunkRow
from assistant.retrieval.fusion import normalised, relevance_label, search_relevance, to_hits


def row(pid: str) -> ChunkRow:
    meta = {"paper_id": pid, "title": pid, "abstract": "", "sources": "[]", "position": 0}
    return ChunkRow(f"{pid}-0", pid, meta)


def test_a_dominant_keyword_match_wins_even_when_dense_search_misses_it() -> None:
    # "What mIoU does PAIF reach on MSRS?": BM25 finds PAIF far ahead of the rest; the
    # small embedder ranks papers that share the question's style but not its names.
    others = [row(p) for p in "ABCDEF"]
    dense = [(r, 0.34 - i * 0.01) for i, r in enumerate(others)]
    bm25 = [(row("PAIF"), 5.96), (others[3], 3.54), (others[4], 3.51), (others[0], 3.1)]
    hits = to_hits([(0.6, dense), (0.4, bm25)], dense, k=3, passages_per_paper=1)
    assert hits[0].paper_id == "PAIF"
    # Rank fusion would have put A first: dense rank 1 and BM25 rank 4 beat one BM25 rank 1.


def test_equal_evidence_from_both_retrievers_beats_one_strong_signal_only_when_close() -> None:
    a, b = row("A"), row("B")
    both = to_hits([(0.5, [(a, 0.9), (b, 0.85)]), (0.5, [(a, 8.0), (b, 7.5)])], [], 2, 1)
    assert [h.paper_id for h in both] == ["A", "B"] and both[0].score == 1.0


def test_normalised_scores_are_shares_of_the_best_and_never_negative() -> None:
    a, b = row("A"), row("B")
    assert [s for _, s in normalised([(a, 0.5), (b, -0.2)])] == [1.0, 0.0]
    assert [s for _, s in normalised([(a, 0.0)])] == [0.0]
    assert normalised([]) == []


def test_labels_for_search_output() -> None:
    assert [relevance_label(x) for x in (1.0, 0.75, 0.6, 0.3)] == ["high", "high", "medium", "low"]
    assert search_relevance(0.7412) == "medium 74"
