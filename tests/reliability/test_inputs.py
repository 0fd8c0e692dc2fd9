"""Hostile questions and histories (``cases.py``: seeded, 210 of them) through the Python
API, the ``/ask`` handler and search: each one is answered or refused with its specific
``UserInputError``, never another exception; over-limit input is refused in < 50 ms."""

from __future__ import annotations

import html
import re
import time

import gradio as gr
import pytest

from assistant.answering.assistant import Assistant
from assistant.backends.fake import FakeBackend
from assistant.core.errors import UserInputError
from assistant.core.inputs import clean_question, clean_text, normalize_history
from assistant.core.settings import Settings
from assistant.core.types import Answer
from assistant.ui.session import ChatSession
from tests.reliability.cases import BASE, LIMIT, Case, all_cases

CASES = all_cases()
FAST_S = 0.05


@pytest.fixture(scope="module")
def bot(hash_index: Settings) -> Assistant:
    assistant = Assistant(hash_index, backend=FakeBackend())
    assistant.warm_up_retrieval()
    return assistant


def test_the_generated_set_is_large_and_varied() -> None:
    assert len(CASES) >= 200
    assert len({c.name for c in CASES}) == len(CASES)
    refused = [c for c in CASES if c.expect]
    assert 40 <= len(refused) < len(CASES) - 100  # most hostile text must still be answered


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_python_api(bot: Assistant, case: Case) -> None:
    started = time.perf_counter()
    try:
        answer = bot.ask(case.question, case.fresh_history())
    except UserInputError as exc:
        elapsed = time.perf_counter() - started
        assert case.expect, f"refused an acceptable input: {exc}"
        assert re.search(case.expect, str(exc)), str(exc)
        assert exc.user_message().startswith("Invalid input: ")
        if case.over_limit:
            assert elapsed < FAST_S, f"refusing took {elapsed * 1000:.1f} ms"
        return
    assert case.expect is None, f"accepted an input that must be refused ({case.expect})"
    assert isinstance(answer, Answer) and answer.text
    _assert_printable(answer)


def _assert_printable(answer: Answer) -> None:
    """Nothing in the answer breaks JSON or a terminal: no surrogates, no C0/C1 controls."""
    for text in (answer.question, answer.standalone_query, answer.text):
        text.encode("utf-8")  # raises on a lone surrogate
        assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", text), ascii(text)
    assert len(answer.standalone_query) <= 2 * LIMIT + 100
    answer.model_dump_json()


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_ask_endpoint_handler(bot: Assistant, case: Case) -> None:
    """What ``/ask`` runs: an answer dict, or ``gr.Error`` carrying the one message."""
    session = ChatSession(bot.settings, bot)
    try:
        result = session.ask_api(case.question, case.fresh_history())
    except gr.Error as exc:
        assert case.expect, f"refused an acceptable input: {exc.message}"
        assert exc.message.startswith("Invalid input: ")
        assert re.search(case.expect, html.unescape(exc.message)), exc.message
        assert "<" not in exc.message  # escaped for the browser toast
        return
    assert case.expect is None, f"accepted an input that must be refused ({case.expect})"
    assert result["text"] and isinstance(result["sources"], list)


QUESTIONS = [c for c in CASES if c.history is None and (c.expect is None or "text" in c.expect)]


@pytest.mark.parametrize("case", QUESTIONS, ids=lambda c: c.name)
def test_search_path(bot: Assistant, case: Case) -> None:
    """``search`` cleans its query too (the CLI passes argv straight to it)."""
    try:
        hits = bot.retriever.search(case.question, k=3)
    except UserInputError as exc:
        assert case.expect and "search query must be text" in str(exc), str(exc)
        return
    assert case.expect is None and len(hits) == 3


def test_over_limit_refusals_are_fast_whatever_the_size() -> None:
    for size in (10_000, 1_000_000, 50_000_000):
        text = "x" * size
        started = time.perf_counter()
        with pytest.raises(UserInputError, match=f"the question is {size} characters"):
            clean_question(text, LIMIT)
        assert time.perf_counter() - started < FAST_S
    started = time.perf_counter()
    turns = normalize_history([("q" * 10_000_000, "a" * 10_000_000)] * 1000, 6)
    assert time.perf_counter() - started < FAST_S
    assert [len(m.content) for m in turns] == [2000] * 12


def test_history_turns_are_capped_in_number_and_length() -> None:
    turns = normalize_history([(f"q{i} " + "x" * 5000, "a" * 5000) for i in range(40)], 6, 300)
    assert len(turns) == 12 and turns[0].content.startswith("q34 ")
    assert max(len(m.content) for m in turns) == 300
    assert normalize_history([("q", "a")] * 3, 0) == []


def test_a_huge_history_turn_does_not_become_a_huge_query(bot: Assistant) -> None:
    history = [("Which papers study " + "physics-informed neural networks " * 30_000, "ok")]
    started = time.perf_counter()
    answer = bot.ask("What about their training dynamics?", history)
    assert answer.rewritten and len(answer.standalone_query) < 2100
    assert time.perf_counter() - started < 5


def test_a_long_question_with_a_long_follow_up_topic_is_still_searchable(bot: Assistant) -> None:
    topic = ("Which papers study " + BASE + " ") * 60
    question = "And what about them " + "and them " * 200
    answer = bot.ask(question[:LIMIT], [(topic[:LIMIT], "ok")])
    assert answer.rewritten and len(answer.standalone_query) > LIMIT


def test_surrogates_are_repaired_not_dropped() -> None:
    assert clean_text("caf\udce9 PINN?") == "café PINN?"  # a Latin-1 terminal's byte
    assert clean_text("caf\udcc3\udca9") == "café"  # UTF-8 bytes decoded as ASCII
    assert clean_text("\ud83d\ude00 ok") == "😀 ok"  # a UTF-16 pair written as two units
    assert clean_text("a\ud800b") == "a b"  # nothing to recover
    assert clean_question(b"caf\xe9?", LIMIT) == "café?"
    assert clean_question(b"caf\xc3\xa9 \xff?", LIMIT) == "café ÿ?"
