"""``Retriever.search(..., only=...)``: a follow-up about "the second one" searches that
paper alone (hash-embedded real corpus)."""

from __future__ import annotations

from assistant.core.settings import Settings
from assistant.retrieval.retriever import Retriever

QUESTION = "Which papers address failure modes of physics-informed neural networks?"


def test_only_restricts_the_results_to_the_pinned_papers(hash_index: Settings) -> None:
    retriever = Retriever(hash_index)
    top = retriever.search(QUESTION, k=5)
    pinned = [top[3].paper_id, top[1].paper_id]
    hits = retriever.search("What did they test it on?", k=5, only=pinned)
    assert sorted(h.paper_id for h in hits) == sorted(pinned)
    assert all(h.abstract for h in hits) and [h.rank for h in hits] == [1, 2]


def test_a_pinned_paper_far_from_the_query_is_still_returned(hash_index: Settings) -> None:
    retriever = Retriever(hash_index)
    far = retriever.search("Gravity optimizer kinematic approach", k=1)[0]
    for mode in ("hybrid", "dense"):
        hits = retriever.search(QUESTION, k=5, mode=mode, only=[far.paper_id])
        assert [h.paper_id for h in hits] == [far.paper_id]
    assert retriever.search(QUESTION, k=5, only=[]) == []
