"""Evidence selection and abstention (``answering.evidence``): hash embedder, no index."""

from __future__ import annotations

import pytest

from assistant.answering.evidence import coverage, decide
from assistant.answering.scorer import SentenceScorer
from assistant.core.settings import AnswerSettings
from assistant.core.types import PaperHit, Passage
from assistant.index.embeddings import HashEmbedder

QUERY = "Why do physics-informed neural networks fail on stiff problems?"
ON_TOPIC = "Physics-informed neural networks fail on stiff problems."
OFF_TOPIC = ["We cook pasta with tomato sauce in Naples.", "Gardens bloom with roses in spring."]


def hit(rank: int, title: str, sentences: list[str]) -> PaperHit:
    return PaperHit(
        rank=rank,
        paper_id=f"p{rank}",
        title=title,
        abstract=" ".join(sentences),
        sources=[f"file{rank}.txt"],
        score=1.0 / rank,
        passages=[Passage(chunk_id=f"c{rank}", text=f"chunk of paper {rank}", position=0, score=1)],
        year=2000 + rank,
    )


@pytest.fixture(scope="module")
def scorer() -> SentenceScorer:
    return SentenceScorer(HashEmbedder())


def flat_idf(word: str) -> float:
    return 1.0


def cfg(**fields: object) -> AnswerSettings:
    """Answer settings with coverage and near-miss abstention off unless a test turns
    them on (the near-miss rule is tested in test_missing_terms.py)."""
    base = {
        "min_coverage": 0.0,
        "near_miss_shift": 1.0,
        "near_miss_shift_all": 1.0,
        "abstain_threshold": 0.3,
        "context_sentences": 2,
    }
    return AnswerSettings(**{**base, **fields})


def test_sources_are_numbered_in_hit_order_and_keep_the_paper(scorer: SentenceScorer) -> None:
    hits = [hit(1, "Off topic", OFF_TOPIC), hit(2, "PINNs", [OFF_TOPIC[0], ON_TOPIC])]
    decision = decide(QUERY, hits, scorer, flat_idf, cfg())
    assert [(s.number, s.paper_id) for s in decision.sources] == [(1, "p1"), (2, "p2")]
    second = decision.sources[1]
    assert (second.title, second.score, second.year, second.origin) == (
        "PINNs",
        0.5,
        2002,
        ["file2.txt"],
    )
    assert second.abstract == hits[1].abstract


def test_most_relevant_sentences_become_the_evidence(scorer: SentenceScorer) -> None:
    sentences = [OFF_TOPIC[0], ON_TOPIC, "Neural networks fail sometimes.", OFF_TOPIC[1]]
    decision = decide(QUERY, [hit(1, "PINNs", sentences)], scorer, flat_idf, cfg())
    (source,) = decision.sources
    assert source.evidence and not decision.abstain
    assert source.passages == [ON_TOPIC, "Neural networks fail sometimes."]  # best first, 2
    assert source.relevance == round(decision.best_relevance, 4)
    assert decision.evidence == [source]
    one = decide(QUERY, [hit(1, "PINNs", sentences)], scorer, flat_idf, cfg(context_sentences=1))
    assert one.sources[0].passages == [ON_TOPIC]


def test_a_paper_below_the_floor_is_listed_but_not_evidence(scorer: SentenceScorer) -> None:
    hits = [hit(1, "PINNs", [ON_TOPIC]), hit(2, "Cooking", OFF_TOPIC)]
    decision = decide(QUERY, hits, scorer, flat_idf, cfg())
    on, off = decision.sources
    assert on.evidence and not off.evidence
    assert off.relevance < 0.3 <= on.relevance
    assert off.passages == ["chunk of paper 2"]  # its matching chunks, not chosen sentences
    # The floor is the setting: above every sentence, nothing is evidence.
    strict = decide(QUERY, hits, scorer, flat_idf, cfg(abstain_threshold=0.99))
    assert strict.abstain and strict.evidence == []
    assert [s.passages for s in strict.sources] == [["chunk of paper 1"], ["chunk of paper 2"]]


def test_nothing_relevant_means_abstain(scorer: SentenceScorer) -> None:
    hits = [hit(1, "Cooking", OFF_TOPIC), hit(2, "Gardens", OFF_TOPIC[::-1])]
    decision = decide(QUERY, hits, scorer, flat_idf, cfg())
    assert decision.abstain and decision.evidence == []
    assert decision.best_relevance < 0.3 and len(decision.sources) == 2
    assert decide(QUERY, [], scorer, flat_idf, cfg()).abstain


def test_prompt_papers_caps_the_evidence_in_rank_order(scorer: SentenceScorer) -> None:
    hits = [hit(1, "Cooking", OFF_TOPIC)] + [hit(r, f"PINNs {r}", [ON_TOPIC]) for r in (2, 3, 4, 5)]
    decision = decide(QUERY, hits, scorer, flat_idf, cfg(prompt_papers=2))
    assert [s.evidence for s in decision.sources] == [False, True, True, False, False]
    assert len(decision.sources) == 5  # every retrieved paper keeps its number
    assert [s.number for s in decision.evidence] == [2, 3]
    wide = decide(QUERY, hits, scorer, flat_idf, cfg(prompt_papers=20))
    assert [s.number for s in wide.evidence] == [2, 3, 4, 5]


NEAR_MISS = "Do physics-informed neural networks fail on blood flow in coronary arteries?"


def test_low_word_coverage_abstains_unless_relevance_is_high(scorer: SentenceScorer) -> None:
    hits = [hit(1, "PINNs", [ON_TOPIC])]
    # blood, flow, coronary, arteries are nowhere in the paper: 4 of 8 content words miss.
    assert coverage(NEAR_MISS, hits, flat_idf) == 0.5
    answered = decide(NEAR_MISS, hits, scorer, flat_idf, cfg())
    assert answered.evidence, "relevant enough without the coverage rule"
    near_miss = cfg(min_coverage=0.9, coverage_waived_above=1.01)
    decision = decide(NEAR_MISS, hits, scorer, flat_idf, near_miss)
    assert decision.abstain and decision.coverage == coverage(NEAR_MISS, hits, flat_idf)
    assert decision.sources[0].passages == answered.sources[0].passages  # only the flag moves
    waived = cfg(min_coverage=0.9, coverage_waived_above=0.0)  # relevance always high enough
    assert decide(NEAR_MISS, hits, scorer, flat_idf, waived).evidence
    covered = decide(QUERY, hits, scorer, flat_idf, near_miss)  # every word is covered
    assert covered.coverage == 1.0 and covered.evidence


def test_coverage_weights_words_by_idf_and_reads_only_the_top_papers() -> None:
    hits = [hit(1, "PINNs for heat", ["PINN heat flow."]), hit(2, "Drones", ["Drone control."])]
    assert coverage("PINNs for drone control", hits, flat_idf, top=1) == pytest.approx(1 / 3)
    assert coverage("PINNs for drone control", hits, flat_idf, top=2) == 1.0

    def rare_drone(word: str) -> float:
        return 8.0 if word == "drone" else 1.0

    assert coverage("PINNs for drone control", hits, rare_drone, top=1) == pytest.approx(0.1)
    assert coverage("the of and", hits, flat_idf) == 0.0  # no content words
    assert coverage("PINNs", [], flat_idf) == 0.0
    assert coverage("netwroks", [hit(1, "Networks", ["Graph networks."])], flat_idf) == 1.0
