"""The near-miss rule (``evidence.missing_terms``) and non-English questions in ``decide``."""

from __future__ import annotations

import pytest

from assistant.answering.evidence import decide, missing_terms, present
from assistant.answering.scorer import SentenceScorer
from assistant.core.settings import AnswerSettings
from assistant.core.types import PaperHit, Passage
from assistant.index.embeddings import HashEmbedder

EUCLID = (
    "We detect anomalies in the telemetry of the Euclid space telescope with XGBoost. "
    "SHAP values explain which parameters drive each forecast."
)


def hit(abstract: str, title: str = "Euclid anomaly detection") -> PaperHit:
    return PaperHit(
        rank=1, paper_id="p1", title=title, abstract=abstract, sources=[], score=1.0,
        passages=[Passage(chunk_id="c", text=abstract, position=0, score=1.0)],
    )  # fmt: skip


@pytest.fixture(scope="module")
def scorer() -> SentenceScorer:
    return SentenceScorer(HashEmbedder())


def rare(word: str) -> float:
    """Every word is in no chunk: all are rare (the idf ceiling)."""
    return 5.0


def common(word: str) -> float:
    return 5.0 if word == "\x00never-indexed" else 0.1  # far below the ceiling: none is rare


CFG = AnswerSettings(abstain_threshold=0.05)


def test_a_name_no_top_paper_mentions_makes_it_abstain(scorer: SentenceScorer) -> None:
    question = "Was the Euclid XGBoost anomaly detector also tested on JWST telemetry?"
    decision = decide(question, [hit(EUCLID)], scorer, rare, CFG, language="en")
    assert decision.abstain and decision.missing_terms == ["JWST"]
    assert decision.best_relevance > CFG.abstain_threshold  # relevant, yet a near miss


def test_words_common_in_the_collection_never_count(scorer: SentenceScorer) -> None:
    question = "Was the Euclid XGBoost anomaly detector also tested on JWST telemetry?"
    assert missing_terms(question, [hit(EUCLID)], scorer, common, CFG) == ([], [])


def test_covered_terms_are_not_missing(scorer: SentenceScorer) -> None:
    question = "Which Euclid telemetry anomalies does XGBoost detect, explained with SHAP?"
    assert missing_terms(question, [hit(EUCLID)], scorer, rare, CFG) == ([], [])
    assert decide(question, [hit(EUCLID)], scorer, rare, CFG, language="en").evidence


def test_an_acronym_spelled_out_in_the_abstract_is_present(scorer: SentenceScorer) -> None:
    abstract = "We compute band gaps with density functional theory for many crystals."
    question = "Which paper uses DFT band gaps of crystals?"
    assert missing_terms(question, [hit(abstract, "Band gaps")], scorer, rare, CFG)[0] == []


def test_other_languages_are_judged_on_meaning_alone(scorer: SentenceScorer) -> None:
    question = "Anomalieerkennung in der Telemetrie des Euclid-Weltraumteleskops mit XGBoost"
    decision = decide(question, [hit(EUCLID)], scorer, rare, CFG)
    assert decision.language == "de"
    assert decision.missing_terms == [] and decision.evidence
    # The relevance floor shrinks to its semantic share for another language.
    strict = CFG.model_copy(update={"abstain_threshold": decision.best_relevance + 0.01})
    lenient = decide(question, [hit(EUCLID)], scorer, rare, strict)
    expected = strict.abstain_threshold * strict.relevance_semantic_weight
    assert bool(lenient.evidence) == (decision.best_relevance >= expected)


def test_present_forgives_typos_abbreviations_and_compounds() -> None:
    vocabulary = {"original", "representation", "spider", "web", "printing"}
    assert present("orignal", vocabulary) and present("rep", vocabulary)
    assert present("spider-web", vocabulary) and present("3d-printed", vocabulary)
    assert not present("drone", vocabulary) and not present("web-scale-crawl", vocabulary)
