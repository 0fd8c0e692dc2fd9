"""Evaluation questions: the pydantic model and the JSONL reader (errors name file:line).

Titles are compared with ``title_key`` so LaTeX escapes and case don't matter.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from assistant.core.errors import UserInputError
from assistant.ingest.clean import title_key

QuestionType = Literal["known_item", "factual", "topic", "unanswerable", "multi_turn", "messy"]
TYPES: tuple[str, ...] = get_args(QuestionType)
_FIELDS = {"qid": str, "type": str, "question": str, "gold_titles": list, "answer_keywords": list}


class Question(BaseModel):
    """One evaluation question (a line of a JSONL question file)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    qid: str
    type: QuestionType
    question: str
    gold_titles: list[str]
    answer_keywords: list[str]
    turns: list[str] | None = None
    line: int = Field(0, description="Line in its file (1-based).")
    near_title: str | None = Field(
        None, description="For a near miss: the real paper whose topic it borrows."
    )
    missing: list[str] = Field(
        default_factory=list, description="For a near miss: the terms no abstract states."
    )
    lang: str | None = Field(None, description="ISO 639-1 code when not English.")

    @property
    def gold(self) -> set[str]:
        return {title_key(t) for t in self.gold_titles}

    @property
    def unanswerable(self) -> bool:
        return self.type == "unanswerable"

    @property
    def near_miss(self) -> bool:
        """An unanswerable question built on a real paper's topic (not off-topic)."""
        return self.unanswerable and self.near_title is not None

    @property
    def earlier_turns(self) -> list[str]:
        return list(self.turns[:-1]) if self.turns else []


def load_questions(path: Path | str) -> list[Question]:
    """Read and validate a question file; errors name the file and line."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise UserInputError(f"cannot read question file {path}: {exc}") from exc
    questions: list[Question] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        q = _parse(line, f"{path}:{number}", number)
        if q.qid in seen:
            raise UserInputError(
                f"{path}:{number}: duplicate qid '{q.qid}' (first on line {seen[q.qid]})"
            )
        seen[q.qid] = number
        questions.append(q)
    if not questions:
        raise UserInputError(f"{path}: no questions")
    return questions


def _parse(line: str, where: str, number: int) -> Question:
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        raise UserInputError(f"{where}: not valid JSON ({exc.msg})") from None
    if not isinstance(obj, dict):
        raise UserInputError(f"{where}: expected a JSON object")
    for key, kind in _FIELDS.items():
        if not isinstance(obj.get(key), kind):
            raise UserInputError(f"{where}: '{key}' must be a {kind.__name__}")
    for key in ("gold_titles", "answer_keywords"):
        if not all(isinstance(v, str) and v.strip() for v in obj[key]):
            raise UserInputError(f"{where}: '{key}' must hold non-empty strings")
    qtype, question, turns = obj["type"], obj["question"].strip(), obj.get("turns")
    if qtype not in TYPES:
        raise UserInputError(f"{where}: unknown type '{qtype}' (known: {', '.join(TYPES)})")
    if not obj["qid"].strip() or not question:
        raise UserInputError(f"{where}: 'qid' and 'question' must not be empty")
    if (qtype == "unanswerable") != (not obj["gold_titles"]):
        raise UserInputError(f"{where}: unanswerable questions, and only they, have no gold_titles")
    if turns is not None and (
        not isinstance(turns, list) or not all(isinstance(t, str) and t.strip() for t in turns)
    ):
        raise UserInputError(f"{where}: 'turns' must be null or a list of strings")
    if qtype == "multi_turn":
        if not turns or len(turns) < 2:
            raise UserInputError(f"{where}: multi_turn needs at least 2 turns")
        if turns[-1].strip() != question:
            raise UserInputError(
                f"{where}: the last turn of a multi_turn question must equal 'question'"
            )
    elif turns:
        raise UserInputError(f"{where}: only multi_turn questions have turns")
    try:
        return Question.model_validate({**obj, "question": question, "line": number})
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        raise UserInputError(f"{where}: '{field}': {first['msg']}") from None
