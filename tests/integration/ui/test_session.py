"""The web UI's chat handler (``ui.session``) on a launched UI: streaming output, follow-ups,
stop and new chat, per-request settings, error mapping and escaping of hostile text."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.backends.fake import FakeBackend
from assistant.core.errors import BackendUnavailable
from assistant.core.types import Answer
from assistant.export.markdown import conversation_markdown
from assistant.ui.session import GENERIC_ERROR, ChatSession
from tests.corpus import shipped_papers
from tests.integration.ui.conftest import FOLLOW_UP, QUESTION
from tests.markup import assert_inert, render_markdown

HOSTILE = (
    "<script>alert(1)</script> <img src=x onerror=alert(1)> ![x](http://evil.test/x.png)"
    " [click](javascript:alert(1)) Physics-informed neural networks fail [1]."
)


def run_respond(ui: ChatSession, question: str, turns: list | None = None, backend: str = "fake"):
    """All yields of one chat turn, as dicts keyed by output name."""
    names = ("box", "chat", "sources", "turns", "download")
    s = ui.settings
    return [
        dict(zip(names, out, strict=True))
        for out in ui.respond(
            question, turns or [], backend, "", "", s.retrieval.mode, s.retrieval.k
        )
    ]


def test_stream_shows_sources_before_text_then_final_answer(served):
    ui = served[0]
    steps = run_respond(ui, QUESTION)
    first_text = next(i for i, s in enumerate(steps) if 'class="answer"' in str(s["chat"]))
    first_cards = next(i for i, s in enumerate(steps) if "src-card" in str(s["sources"]))
    assert first_cards < first_text
    assert "checking…" in steps[first_cards]["sources"]
    final = steps[-1]
    answer = final["turns"][-1]["answer"]
    assert answer and answer["citations"]
    message = final["chat"][-1]["content"]
    assert 'class="cite ok"' in message and 'href="#src-' in message
    assert "✓ supported" in final["sources"] and "<mark>" in final["sources"]
    assert 'id="src-1-1"' in final["sources"] and "<details>" in final["sources"]
    assert final["download"]["interactive"] is True
    export = Path(final["download"]["value"]).read_text(encoding="utf-8")
    assert "## Bibliography" in export and "@misc{" in export


def test_follow_up_in_chat_shows_rewritten_query(served):
    ui = served[0]
    turns = run_respond(ui, QUESTION)[-1]["turns"]
    final = run_respond(ui, FOLLOW_UP, turns)[-1]
    assert len(final["chat"]) == 4
    assert "Follow-up searched as" in final["chat"][-1]["content"]
    assert final["turns"][-1]["answer"]["rewritten"] is True


def test_off_topic_question_shows_not_in_collection(served, monkeypatch):
    ui = served[0]
    monkeypatch.setattr(ui.assistant.settings.answer, "abstain_threshold", 2.0)
    final = run_respond(ui, "What is the best recipe for sourdough bread?")[-1]
    assert "Not in the collection" in final["chat"][-1]["content"]
    assert final["turns"][-1]["answer"]["abstained"] is True
    assert "nearest match" in final["sources"]


def test_backend_crash_falls_back_with_notice(served, fake: FakeBackend):
    fake.raise_exc = RuntimeError("kaboom <script>x</script>")
    final = run_respond(served[0], QUESTION)[-1]
    message = final["chat"][-1]["content"]
    assert "the model failed (RuntimeError)" in message
    assert "kaboom" not in message and "Traceback" not in message
    assert final["turns"][-1]["answer"]["backend"] == "extractive"


@pytest.mark.parametrize(
    "exc, shown",
    [
        (
            BackendUnavailable("cannot load <img src=x onerror=alert(1)>"),
            "Model backend unavailable: cannot load &lt;img",
        ),
        (KeyError("internal detail"), GENERIC_ERROR),
    ],
)
def test_errors_map_to_friendly_messages(served, monkeypatch, exc, shown):
    ui = served[0]

    def broken(*args, **kwargs):
        raise exc

    monkeypatch.setattr(ui.assistant, "stream", broken)
    final = run_respond(ui, QUESTION)[-1]
    message = final["chat"][-1]["content"]
    assert shown in message and "Traceback" not in message and "internal detail" not in message
    assert_inert(message)
    assert final["turns"][-1]["answer"] is None


class FakeRequest:
    def __init__(self, session_hash: str) -> None:
        self.session_hash = session_hash


def test_stop_ends_the_answer_cooperatively(served):
    ui = served[0]
    request = FakeRequest("stop-session")
    s = ui.settings
    gen = ui.respond(QUESTION, [], "fake", "", "", s.retrieval.mode, s.retrieval.k, request)
    steps = []
    for out in gen:
        steps.append(out)
        if isinstance(out[1], list) and 'class="answer"' in out[1][-1]["content"]:
            ui.stop(request)
    chat, turns = steps[-1][1], steps[-1][3]
    assert "stopped" in chat[-1]["content"] and "caret" not in chat[-1]["content"]
    assert turns[-1]["answer"] is None
    assert not ui.is_running(request)
    ui.stop(request)  # nothing running: harmless


def test_new_chat_during_an_answer_ends_it_silently(served):
    ui = served[0]
    request = FakeRequest("new-session")
    s = ui.settings
    gen = ui.respond(QUESTION, [], "fake", "", "", s.retrieval.mode, s.retrieval.k, request)
    next(gen)
    next(gen)  # sources shown, answer running
    assert ui.is_running(request)
    ui.cancel(request, "new")
    assert list(gen) == []  # no late update can overwrite the cleared chat
    assert not ui.is_running(request)


def test_new_chat_clears_everything(served):
    box, chat, sources, turns, download = served[0].new_chat(FakeRequest("idle"))
    assert (box, chat, turns) == ("", [], []) and download["interactive"] is False


def test_settings_are_applied_per_request(served, fake: FakeBackend):
    ui = served[0]
    before = len(fake.requests)
    final = run_respond(ui, QUESTION, backend="extractive")[-1]
    assert final["turns"][-1]["answer"]["backend"] == "extractive"
    assert len(fake.requests) == before
    # The URL box counts only with ui.allow_custom_backend_url (tests/reliability/test_web.py).
    assert ui.options("openai", " http://127.0.0.1:9/v1 ", "m", "bm25", 3) == {
        "backend": "openai",
        "model": "m",
        "mode": "bm25",
        "k": 3,
    }
    hits = ui.assistant.ask(QUESTION, **ui.options("fake", "", "", "bm25", 2)).sources
    assert len(hits) == 2
    url_box, model_box, info = ui.settings_changed("openai", "http://h:1/v1", "qwen")
    assert url_box["visible"] and "qwen at http://h:1/v1" in info
    assert f"{shipped_papers()} papers" in info and "chunks" in info


# -- escaping ---------------------------------------------------------------------------------
def test_hostile_answer_is_rendered_inert(served, fake: FakeBackend):
    fake.responses.append(HOSTILE)
    steps = run_respond(served[0], QUESTION)
    # Only verified sentences reach the chat: the markup is not shown, even escaped.
    assert not any(
        "alert(1)" in s["chat"][-1]["content"] for s in steps if isinstance(s["chat"], list)
    )
    for step in steps:
        for out in (step["chat"], step["sources"]):
            if isinstance(out, list):
                for message in out:
                    assert_inert(message["content"])
            elif isinstance(out, str):
                assert_inert(out)
    answer = Answer.model_validate(steps[-1]["turns"][-1]["answer"])
    assert_inert(render_markdown(conversation_markdown([answer])))
