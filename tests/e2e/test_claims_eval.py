"""The strict verifier on the 285 hand-labelled claims of eval/claims.jsonl, with the real
all-MiniLM-L6-v2 embedder on the real corpus (issue "Verified answers", part 1).

Measured when the verifier was tuned (a = tuning claims, b = held out):

    true-pass   a 0.91 (52/57)   b 0.89 (49/55)   all 0.90 (101/112)
    false-pass  a 0.02 (2/89)    b 0.07 (6/84)    all 0.05 (8/173)
    worst unsupported category: reversal, 0.19 (4/21) overall (0.30 on the held-out b)

The bounds below are those numbers less a margin of a claim or two, and the issue's
targets (true-pass >= 0.80, false-pass <= 0.10, no category above 0.20).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.core.settings import PROJECT_ROOT, Settings
from assistant.evaluation.claims import evaluate_claims

pytestmark = pytest.mark.slow

CLAIMS = PROJECT_ROOT / "eval" / "claims.jsonl"


def test_strict_verifier_meets_the_targets(
    real_index: Settings, real_models: None, tmp_path: Path
) -> None:
    (m,) = evaluate_claims(real_index, CLAIMS, tmp_path, ["strict"])
    assert m.errors == 0
    assert m.rate("true-pass") >= 0.88
    assert m.rate("false-pass") <= 0.06
    assert m.rate("true-pass", "a") >= 0.89 and m.rate("true-pass", "b") >= 0.85
    assert m.rate("false-pass", "a") <= 0.04 and m.rate("false-pass", "b") <= 0.09
    for category, supported in m.labels.items():
        rate = m.rate(category)
        assert rate is not None
        if supported:
            assert rate >= 0.70, category  # paraphrase is the weakest: 0.74
        else:
            assert rate <= 0.20, category
    report = (tmp_path / "claims_report.md").read_text(encoding="utf-8")
    assert "| **false-pass** | overall |" in report
