"""One contract for every answer backend, run here on the fake and extractive backends.

tests/e2e/test_backends.py runs the same contract on llama.cpp and on a real
``llama_cpp.server`` behind the openai backend.
"""

from __future__ import annotations

import pytest

from assistant.backends import Backend, generate, registry
from assistant.backends.fake import FakeBackend
from tests.factories import evidence, generation_request

UNICODE = "Schrödinger – 85% – 量子 states decohere within microseconds."


def make_backend(name: str) -> Backend:
    return FakeBackend() if name == "fake" else registry.create_backend(name)


@pytest.fixture(params=["fake", "extractive"])
def backend(request: pytest.FixtureRequest) -> Backend:
    return make_backend(request.param)


@pytest.fixture(params=["fake", "extractive"])
def echoing_backend(request: pytest.FixtureRequest) -> Backend:
    """Backends that quote the evidence (the models do not)."""
    return make_backend(request.param)


def test_is_a_backend(backend: Backend) -> None:
    assert isinstance(backend, Backend)
    assert isinstance(backend.name, str) and backend.name


def test_stream_pieces_join_to_generate(backend: Backend) -> None:
    pieces = list(backend.stream(generation_request()))
    assert pieces and all(isinstance(p, str) for p in pieces)
    # temperature 0 makes the real models deterministic too
    assert "".join(pieces) == generate(backend, generation_request())


@pytest.mark.parametrize(
    "messages", [[], [{"role": "user", "content": ""}]], ids=["no-messages", "empty-content"]
)
def test_empty_request_does_not_crash(backend: Backend, messages: list[dict[str, str]]) -> None:
    text = generate(
        backend, generation_request(messages=messages, evidence=[], question="", max_tokens=8)
    )
    assert isinstance(text, str)


def test_unicode_round_trip(echoing_backend: Backend) -> None:
    req = generation_request(evidence=evidence([UNICODE]))
    assert UNICODE in generate(echoing_backend, req)
