"""The question file: validation names file and line; the shipped file loads."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.core.errors import UserInputError
from assistant.evaluation.questions import load_questions
from tests.conftest import QUESTIONS
from tests.corpus import question_lines


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
    assert len(load_questions(QUESTIONS)) == len(question_lines())
