"""Score-aware hybrid fusion on the real index (all-MiniLM-L6-v2): hybrid search is at
least as good as the best single retriever, on the tuning set and on the held-out set,
and keeps decisive exact-name matches."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.core.settings import PROJECT_ROOT, Settings
from assistant.evaluation.runner import run_eval
from assistant.retrieval.retriever import Retriever

SETS = {
    "questions": PROJECT_ROOT / "eval" / "questions.jsonl",  # the weights were tuned here
    "heldout": PROJECT_ROOT / "eval" / "heldout.jsonl",  # never tuned on
}
MODES = ["dense", "bm25", "hybrid"]


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(SETS))
def test_hybrid_is_at_least_the_best_single_mode(
    name: str, real_index: Settings, real_models: None, tmp_path: Path
) -> None:
    report = run_eval(real_index, SETS[name], tmp_path / name, modes=MODES, progress=False)
    for metric in ("recall@1", "recall@5"):
        got = {m: report.retrieval[m].overall[metric] for m in MODES}
        assert got["hybrid"] >= max(got["dense"], got["bm25"]), (name, metric, got)


@pytest.mark.slow
def test_an_exact_name_match_ranks_first(real_index: Settings, real_models: None) -> None:
    hits = Retriever(real_index).search("What absolute mIoU does PAIF reach on the MSRS dataset?")
    assert hits[0].title.startswith("PAIF:")
