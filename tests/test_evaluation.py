"""Evaluation: metric functions, question-file validation, and run_eval end to end."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from assistant.core.errors import UserInputError
from assistant.evaluation import metrics as em
from assistant.evaluation.records import EvalRecord
from assistant.evaluation.runner import load_questions, run_eval
from assistant.ingest.clean import title_key

QUESTIONS = Path(__file__).resolve().parent.parent / "eval" / "questions.jsonl"


# -- metric functions -------------------------------------------------------------------


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


# -- question file validation -------------------------------------------------------------


def _q(**kw: object) -> str:
    base = {
        "qid": "q1",
        "type": "factual",
        "question": "What is X?",
        "gold_titles": ["T"],
        "answer_keywords": ["x"],
        "turns": None,
    }
    return json.dumps({**base, **kw})


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "expected a JSON object"),
        (_q(type="trivia"), "unknown type 'trivia'"),
        (_q(question=None), "'question' must be a str"),
        (_q(gold_titles="T"), "'gold_titles' must be a list"),
        (_q(type="multi_turn", turns=["Topic?", "Other follow-up?"]), "must equal 'question'"),
        (_q(type="multi_turn", turns=None), "at least 2 turns"),
        (_q(type="unanswerable"), "have no gold_titles"),
        (_q(gold_titles=[]), "have no gold_titles"),
        (_q(turns=["a", "What is X?"]), "only multi_turn"),
        (_q(qid="q0"), "duplicate qid 'q0'"),
    ],
)
def test_question_validation_names_file_and_line(tmp_path: Path, bad: str, message: str) -> None:
    path = tmp_path / "q.jsonl"
    path.write_text("\n".join([_q(qid="q0"), "", bad]) + "\n", encoding="utf-8")
    with pytest.raises(UserInputError, match=message) as err:
        load_questions(path)
    assert f"{path}:3:" in str(err.value)


def test_question_file_loads_and_multi_turn_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "q.jsonl"
    path.write_text(_q(type="multi_turn", turns=["Topic?", "What is X?"]) + "\n")
    (q,) = load_questions(path)
    assert q.earlier_turns == ["Topic?"] and q.line == 1
    with pytest.raises(UserInputError, match="cannot read"):
        load_questions(tmp_path / "missing.jsonl")
    assert len(load_questions(QUESTIONS)) == 86


# -- end to end -----------------------------------------------------------------------------


def _one_per_type(dest: Path) -> int:
    lines = QUESTIONS.read_text(encoding="utf-8").splitlines()
    picked: dict[str, str] = {}
    for line in lines:
        picked.setdefault(json.loads(line)["type"], line)
    extra = [line for line in lines if line not in picked.values()][:4]
    dest.write_text("\n".join([*picked.values(), *extra]) + "\n", encoding="utf-8")
    return len(picked)


def test_run_eval_end_to_end_on_hash_index(hash_index, tmp_path: Path) -> None:
    questions = tmp_path / "q.jsonl"
    n = _one_per_type(questions)  # 6 types, then more questions that --limit cuts off
    out = tmp_path / "run"
    modes = ["dense", "bm25", "hybrid"]
    report = run_eval(hash_index, questions, out, modes=modes, backends=["fake"], limit=n)
    for name in ("report.json", "report.md", "results.jsonl", "calibration.json"):
        assert (out / name).is_file()
    records = [json.loads(x) for x in (out / "results.jsonl").read_text().splitlines()]
    assert len(records) == n * len(modes)
    required = {
        "qid",
        "type",
        "mode",
        "retrieved_titles",
        "scores",
        "latency_ms",
        "relevance",
        "answer",
        "cited_titles",
        "abstained",
        "backend",
        "ttft_ms",
        "total_ms",
        "citations",
    }
    for rec in records:
        assert required <= set(rec)
        assert rec["backend"] == "fake" and len(rec["retrieved_titles"]) == 10
        assert rec["scores"] == sorted(rec["scores"], reverse=True)
        for c in rec["citations"]:
            assert {"number", "title", "support", "supported"} <= set(c)
    assert {r["type"] for r in records} == set(report.questions_by_type) - {
        t for t, k in report.questions_by_type.items() if not k
    }
    known = next(r for r in records if r["type"] == "known_item" and r["mode"] == "bm25")
    assert title_key(known["retrieved_titles"][0]) == title_key(known["gold_titles"][0])

    data = json.loads((out / "report.json").read_text())
    assert data["questions"] == n and set(data["retrieval"]) == set(modes)
    assert data["retrieval"]["bm25"]["overall"]["n"] == n - 1  # the unanswerable one
    assert "multi_turn" in data["retrieval"]["hybrid"]["by_type"]
    assert data["answers"]["fake"]["hybrid"]["overall"]["n"] == n
    assert data["gold_missing_from_index"] == []
    md = (out / "report.md").read_text()
    assert "| mode | R@1 | R@5 | R@10 | MRR | nDCG@10 | p50 ms | p95 ms |" in md
    for mode in modes:
        assert f"\n| {mode} | " in md
    assert "| fake | hybrid |" in md and "precision" in md
    cal = json.loads((out / "calibration.json").read_text())
    assert len(cal["thresholds"]) == 51 and cal["best"]["threshold"] in em.thresholds()


def test_run_eval_retrieval_only_and_bad_mode(hash_index, tmp_path: Path) -> None:
    report = run_eval(hash_index, QUESTIONS, tmp_path / "r", modes=["bm25"], limit=3)
    lines = (tmp_path / "r" / "results.jsonl").read_text().splitlines()
    assert len(lines) == 3 and report.answers == {}
    assert "answer" not in json.loads(lines[0])
    with pytest.raises(UserInputError, match="unknown retrieval mode"):
        run_eval(hash_index, QUESTIONS, tmp_path / "x", modes=["sparse"], limit=1)


@pytest.mark.slow
def test_hybrid_recall_at_5_is_at_least_each_single_mode(
    real_index, real_models, tmp_path: Path
) -> None:
    modes = ["dense", "bm25", "hybrid"]
    report = run_eval(real_index, QUESTIONS, tmp_path / "full", modes=modes)
    r5 = {m: report.retrieval[m].overall["recall@5"] for m in modes}
    assert report.retrieval["hybrid"].overall["n"] == 74
    assert r5["hybrid"] >= max(r5["dense"], r5["bm25"]) - 0.0, r5
