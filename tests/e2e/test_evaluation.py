"""Evaluation on the real index (all-MiniLM-L6-v2): hybrid fusion earns its place."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.evaluation.runner import run_eval
from tests.conftest import QUESTIONS
from tests.corpus import gold_questions


@pytest.mark.slow
def test_hybrid_recall_at_5_is_at_least_each_single_mode(
    real_index, real_models, tmp_path: Path
) -> None:
    modes = ["dense", "bm25", "hybrid"]
    report = run_eval(real_index, QUESTIONS, tmp_path / "full", modes=modes)
    r5 = {m: report.retrieval[m].overall["recall@5"] for m in modes}
    assert report.retrieval["hybrid"].overall["n"] == gold_questions()
    assert r5["hybrid"] >= max(r5["dense"], r5["bm25"]) - 0.0, r5
