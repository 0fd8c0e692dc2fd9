"""Which questions are follow-ups that need rewriting."""

from __future__ import annotations

import pytest

from assistant.answering.rewrite import needs_rewrite


@pytest.mark.parametrize(
    ("question", "follow_up"),
    [
        ("What activation function do they propose instead?", True),
        ("And on what kind of real-world data did they apply it?", True),
        ("Is this method better than Adam?", True),
        ("What dataset does the paper use?", True),
        ("Which dataset?", True),
        ("Which paper shows that ReLU networks fail to extrapolate periodic functions?", False),
        ("I need the paper that studies early training dynamics of deep nets.", False),
        ("Which papers address failure modes of physics-informed neural networks?", False),
    ],
)
def test_follow_up_detection(question: str, follow_up: bool) -> None:
    assert needs_rewrite(question) is follow_up
