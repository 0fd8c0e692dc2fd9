"""Evaluation metrics: ranking, abstention, calibration, citations and aggregation."""

from __future__ import annotations

import math

import pytest

from assistant.evaluation import metrics as em
from assistant.evaluation.records import EvalRecord


def test_recall_at_k_counts_fraction_of_gold_in_top_k() -> None:
    ranked = ["a", "b", "c", "d", "e", "f"]
    assert em.recall_at_k(ranked, {"c"}, 1) == 0.0
    assert em.recall_at_k(ranked, {"c"}, 5) == 1.0
    assert em.recall_at_k(ranked, {"a", "e", "z", "y"}, 1) == 0.25
    assert em.recall_at_k(ranked, {"a", "e", "z", "y"}, 5) == 0.5
    assert em.recall_at_k(["a", "a", "b"], {"b"}, 2) == 1.0  # duplicates count once
    with pytest.raises(ValueError):
        em.recall_at_k(ranked, set(), 5)


def test_reciprocal_rank_uses_first_gold() -> None:
    assert em.reciprocal_rank(["a", "b", "c"], {"a"}) == 1.0
    assert em.reciprocal_rank(["a", "b", "c", "d"], {"d", "c"}) == pytest.approx(1 / 3)
    assert em.reciprocal_rank(["a", "b"], {"z"}) == 0.0
    assert em.reciprocal_rank([], {"z"}) == 0.0


def test_ndcg_binary_relevance() -> None:
    assert em.ndcg_at_k(["g", "x", "y"], {"g"}, 10) == 1.0
    assert em.ndcg_at_k(["x", "g"], {"g"}, 10) == pytest.approx(1 / math.log2(3))
    # Two gold, found at ranks 1 and 3: (1 + 1/2) / (1 + 1/log2(3)).
    expected = (1 + 0.5) / (1 + 1 / math.log2(3))
    assert em.ndcg_at_k(["g1", "x", "g2"], {"g1", "g2"}, 10) == pytest.approx(expected)
    assert em.ndcg_at_k(["x", "g"], {"g"}, 1) == 0.0
    # The ideal DCG is capped at k: 3 gold papers, k=2, both top slots gold -> 1.
    assert em.ndcg_at_k(["a", "b"], {"a", "b", "c"}, 2) == pytest.approx(1.0)


def test_mean_and_percentile() -> None:
    assert em.mean([1.0, None, 3.0]) == 2.0
    assert em.mean([None]) is None
    values = [10.0, 20.0, 30.0, 40.0, 50.0]
    assert em.percentile(values, 50) == 30.0
    assert em.percentile(values, 95) == pytest.approx(48.0)
    assert em.percentile([40.0, 10.0], 50) == 25.0
    assert em.percentile([7.0], 95) == 7.0
    assert em.percentile([], 50) is None


def test_abstention_scores_positive_class_is_unanswerable() -> None:
    abstained = [True, True, False, False, True, False]
    unanswerable = [True, False, True, False, False, False]
    s = em.abstention_scores(abstained, unanswerable)
    assert s["precision"] == pytest.approx(1 / 3)
    assert s["recall"] == 0.5
    assert s["f1"] == pytest.approx(2 * (1 / 3) * 0.5 / (1 / 3 + 0.5))
    assert s["false_abstention_rate"] == 0.5  # 2 of 4 answerable
    none = em.abstention_scores([False, False], [True, False])
    assert none["precision"] is None and none["recall"] == 0.0 and none["f1"] == 0.0


def test_calibration_picks_best_f1_threshold() -> None:
    grid = em.thresholds()
    assert len(grid) == 51 and grid[0] == 0.2 and grid[-1] == 0.7 and 0.35 in grid
    relevance = [0.25, 0.30, 0.50, 0.60, 0.33]
    unanswerable = [True, True, False, False, False]
    rows, best = em.calibrate(relevance, unanswerable, grid)
    assert len(rows) == 51
    # Below 0.31 both unanswerable abstain and nothing else: F1 = 1; lowest such is 0.31.
    assert best["threshold"] == 0.31
    assert best["f1"] == 1.0 and best["false_abstention_rate"] == 0.0
    at_35 = next(r for r in rows if r["threshold"] == 0.35)
    assert at_35["precision"] == pytest.approx(2 / 3) and at_35["recall"] == 1.0
    assert at_35["false_abstention_rate"] == pytest.approx(1 / 3)
    assert em.calibrate([0.5], [False], grid)[1] is None
    # Another signal that abstains regardless of the threshold ("forced").
    rows, best = em.calibrate([0.25, 0.60, 0.50], [True, True, False], grid, [False, True, False])
    assert best["threshold"] == 0.26 and best["f1"] == 1.0
    assert rows[0]["abstained"] == 1  # at 0.20 only the forced one abstains


def test_citation_precision_and_keyword_hits() -> None:
    assert em.citation_precision(["a", "b", "b"], {"a"}) == 0.5
    assert em.citation_precision([], {"a"}) is None
    assert em.keyword_hit_rate("Uses SHAP for Pile Driving.", ["pile driving", "shap"]) == 1.0
    assert em.keyword_hit_rate("nothing", ["x", "nothing", "y", "z"]) == 0.25
    assert em.keyword_hit_rate("text", []) is None


def _record(qtype: str, latency: float, **metrics: float | None) -> EvalRecord:
    return EvalRecord(
        qid=f"{qtype}-{latency}",
        type=qtype,
        mode="hybrid",
        question="q",
        standalone_query="q",
        gold_titles=[],
        retrieved_titles=[],
        retrieved_ids=[],
        scores=[],
        latency_ms=latency,
        relevance=0.5,
        coverage=1.0,
        coverage_abstain=False,
        would_abstain=False,
        first_gold_rank=None,
        metrics={k.replace("_at_", "@"): v for k, v in metrics.items()},
    )


def test_aggregation_over_records() -> None:
    none = dict.fromkeys(["recall_at_1", "recall_at_5", "recall_at_10", "mrr", "ndcg_at_10"])
    recs = [
        _record(
            "factual",
            10.0,
            recall_at_1=1.0,
            recall_at_5=1.0,
            recall_at_10=1.0,
            mrr=1.0,
            ndcg_at_10=1.0,
        ),
        _record(
            "topic",
            30.0,
            recall_at_1=0.0,
            recall_at_5=0.5,
            recall_at_10=1.0,
            mrr=0.5,
            ndcg_at_10=0.5,
        ),
        _record("unanswerable", 20.0, **none),
    ]
    g = em.grouped(recs, em.retrieval_metrics, ["factual", "topic", "unanswerable", "messy"])
    assert g["overall"]["n"] == 2 and g["overall"]["recall@5"] == 0.75
    assert g["overall"]["mrr"] == 0.75 and g["overall"]["latency_p50_ms"] == 20.0
    assert set(g["by_type"]) == {"factual", "topic", "unanswerable"}
    assert g["by_type"]["unanswerable"]["recall@1"] is None
