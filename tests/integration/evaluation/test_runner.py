"""``run_eval`` end to end on the hash-embedder index of the real corpus."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.core.errors import UserInputError
from assistant.evaluation import metrics as em
from assistant.evaluation.runner import run_eval
from assistant.ingest.clean import title_key
from tests.conftest import QUESTIONS


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
