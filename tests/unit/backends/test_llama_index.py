"""Any llama-index LLM as an answer backend (``backends.llama_index``), with llama-index's
own ``MockLLM`` and small fake LLMs: streaming, the whole-answer deadline, error mapping."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from llama_index.core.llms import ChatMessage, ChatResponse, MockLLM

from assistant.backends import Backend, generate, registry
from assistant.backends.llama_index import LlamaIndexBackend, register_llm
from assistant.core.errors import BackendError, BackendTimeout, BackendUnavailable
from tests.factories import generation_request


class ScriptedLLM:
    """Streams ``words`` with a pause before each, then optionally fails; records calls."""

    def __init__(self, words: list[str], pause_s: float = 0.0, fail: Exception | None = None):
        self.words, self.pause_s, self.fail = words, pause_s, fail
        self.calls: list[tuple[list[ChatMessage], dict[str, Any]]] = []

    def stream_chat(self, messages: list[ChatMessage], **kwargs: Any) -> Iterator[ChatResponse]:
        self.calls.append((messages, kwargs))
        text = ""
        for word in self.words:
            time.sleep(self.pause_s)
            text += word
            yield ChatResponse(message=ChatMessage(role="assistant", content=text), delta=word)
        if self.fail is not None:
            raise self.fail


def test_mock_llm_is_a_backend_that_streams_in_pieces() -> None:
    backend = LlamaIndexBackend(MockLLM(max_tokens=5))
    assert isinstance(backend, Backend)
    assert backend.name == "llama-index" and "MockLLM" in backend.description
    pieces = list(backend.stream(generation_request()))
    assert pieces == ["text "] * 4 + ["text"]
    assert generate(backend, generation_request()) == "".join(pieces)


def test_messages_reach_the_llm_as_chat_messages() -> None:
    echo = LlamaIndexBackend(MockLLM(), name="echo")  # MockLLM echoes the prompt
    request = generation_request(messages=[{"role": "user", "content": "Qubits? Schrödinger."}])
    assert "Qubits? Schrödinger." in generate(echo, request)
    llm = ScriptedLLM(["a"])
    generate(LlamaIndexBackend(llm), generation_request(stop=["\n\n"]))
    (messages, kwargs), *_ = llm.calls
    assert [(m.role.value, m.content) for m in messages] == [
        ("system", "Answer in one short sentence."),
        ("user", "What limits qubit coherence?"),
    ]
    assert kwargs == {"stop": ["\n\n"]}


def test_the_deadline_bounds_the_whole_answer() -> None:
    backend = LlamaIndexBackend(ScriptedLLM(["one ", "two ", "three ", "four "], pause_s=0.3))
    got: list[str] = []
    started = time.monotonic()
    with pytest.raises(BackendTimeout, match="no answer within 0.5 s"):
        for piece in backend.stream(generation_request(timeout_s=0.5)):
            got.append(piece)
    assert time.monotonic() - started < 1.0
    assert got == ["one "], "the text before the deadline stays with the caller"


def test_llm_failures_become_backend_errors() -> None:
    failing = ScriptedLLM(["partial "], fail=RuntimeError("connection reset"))
    got: list[str] = []
    with pytest.raises(BackendError, match="the model failed: RuntimeError: connection reset"):
        got.extend(LlamaIndexBackend(failing).stream(generation_request()))
    assert got == ["partial "]

    def describe(exc: BaseException) -> BackendError:
        return BackendUnavailable(f"server gone ({exc})")

    mapped = LlamaIndexBackend(ScriptedLLM([], fail=ConnectionError("refused")), describe=describe)
    with pytest.raises(BackendUnavailable, match=r"server gone \(refused\)") as info:
        generate(mapped, generation_request())
    assert isinstance(info.value.__cause__, ConnectionError)


def test_register_llm_makes_a_named_backend() -> None:
    register_llm("unit-llm", MockLLM(max_tokens=2))
    try:
        assert "unit-llm" in registry.available_backends()
        backend = registry.create_backend("unit-llm")
        assert isinstance(backend, LlamaIndexBackend) and backend.name == "unit-llm"
        assert generate(backend, generation_request()) == "text text"
    finally:
        registry.BACKENDS.unregister("unit-llm")
    assert "unit-llm" not in registry.available_backends()
