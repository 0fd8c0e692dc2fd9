"""The /ask API of the web UI through gradio_client: cited answers, follow-ups, the one
public endpoint and friendly errors."""

from __future__ import annotations

import pytest
from gradio_client import Client

from assistant.core.errors import BackendUnavailable
from assistant.ui.session import GENERIC_ERROR
from tests.integration.ui.conftest import FOLLOW_UP, QUESTION


def test_ask_api_returns_cited_answer(client: Client):
    result = client.predict(QUESTION, [], api_name="/ask")
    assert set(result) == {
        "text",
        "citations",
        "sources",
        "abstained",
        "standalone_query",
        "backend",
    }
    assert not result["abstained"] and result["backend"] == "fake"
    assert result["citations"] and result["sources"]
    numbers = {s["number"] for s in result["sources"]}
    for citation in result["citations"]:
        assert citation["number"] in numbers
        assert f"[{citation['number']}]" in result["text"]
    assert any("physics-informed" in s["title"].lower() for s in result["sources"])


def test_ask_api_follow_up_is_rewritten(client: Client):
    first = client.predict(QUESTION, None, api_name="/ask")
    history = [
        {"role": "user", "content": QUESTION},
        {"role": "assistant", "content": first["text"]},
    ]
    second = client.predict(FOLLOW_UP, history, api_name="/ask")
    assert second["standalone_query"] != FOLLOW_UP
    assert "physics-informed" in second["standalone_query"].lower()


def test_only_ask_is_public(client: Client):
    api = client.view_api(return_format="dict", print_info=False)
    assert list(api["named_endpoints"]) == ["/ask"]
    assert not api["unnamed_endpoints"]


def test_ask_api_errors_are_friendly(client: Client, served, monkeypatch):
    ui = served[0]

    def boom(*args, **kwargs):
        raise RuntimeError("secret internals /home/x/index")

    monkeypatch.setattr(ui.assistant, "ask", boom)
    with pytest.raises(Exception) as info:
        client.predict(QUESTION, [], api_name="/ask")
    assert GENERIC_ERROR in str(info.value)
    assert "secret" not in str(info.value) and "Traceback" not in str(info.value)

    def unavailable(*args, **kwargs):
        raise BackendUnavailable("no model <b>here</b>")

    monkeypatch.setattr(ui.assistant, "ask", unavailable)
    with pytest.raises(Exception) as info:
        client.predict(QUESTION, [], api_name="/ask")
    assert "Model backend unavailable" in str(info.value)
    assert "<b>" not in str(info.value)


def test_empty_question_is_a_friendly_error(client: Client):
    with pytest.raises(Exception) as info:
        client.predict("   ", [], api_name="/ask")
    assert "Invalid input" in str(info.value)
