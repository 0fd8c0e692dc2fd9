"""Question and history validation (``core.inputs``)."""

from __future__ import annotations

import pytest

from assistant.core.errors import UserInputError
from assistant.core.inputs import normalize_history


def test_history_formats() -> None:
    pairs = normalize_history([("q1", "a1"), ("q2", None)], 6)
    assert [(m.role, m.content) for m in pairs] == [
        ("user", "q1"),
        ("assistant", "a1"),
        ("user", "q2"),
    ]
    dicts = [{"role": "user", "content": f"q{i}"} for i in range(30)]
    assert len(normalize_history(dicts, 6)) == 12
    for bad, message in (
        ([{"role": "system", "content": "x"}], "history item 1 needs 'role'"),
        ([("q", "a"), 5], "history item 2 must be"),
        (["junk"], "history item 1 must be"),
        (7, "history must be a list"),
        ({"role": "user"}, "history must be a list of messages, not dict"),
    ):
        with pytest.raises(UserInputError, match=message):
            normalize_history(bad, 6)
