"""A deterministic backend for tests and demos (``--backend fake``).

With no script it writes one sentence per evidence paper, built from that paper's most
relevant sentence and cited with its number, so the whole pipeline (citation checks,
UI cards) is exercised without a model.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

from assistant.backends.base import GenerationRequest
from assistant.core.errors import BackendError, BackendTimeout
from assistant.core.settings import LLMSettings


class FakeBackend:
    name = "fake"

    def __init__(
        self,
        responses: list[str] | None = None,
        response_fn: Callable[[GenerationRequest], str] | None = None,
        delay_s: float = 0.0,
        fail_after_tokens: int | None = None,
        raise_exc: Exception | None = None,
    ) -> None:
        self.responses = list(responses or [])
        self.response_fn = response_fn
        self.delay_s = delay_s
        self.fail_after_tokens = fail_after_tokens
        self.raise_exc = raise_exc
        self.requests: list[GenerationRequest] = []

    def _text(self, request: GenerationRequest) -> str:
        if self.responses:
            return self.responses.pop(0)
        if self.response_fn is not None:
            return self.response_fn(request)
        return grounded_echo(request)

    def stream(self, request: GenerationRequest) -> Iterator[str]:
        self.requests.append(request)
        if self.raise_exc is not None:
            raise self.raise_exc
        deadline = time.monotonic() + request.timeout_s
        for i, piece in enumerate(_pieces(self._text(request))):
            if self.fail_after_tokens is not None and i >= self.fail_after_tokens:
                raise BackendError("fake backend failed mid-stream")
            if self.delay_s:
                if time.monotonic() + self.delay_s > deadline:
                    raise BackendTimeout(f"no answer within {request.timeout_s:g} s")
                time.sleep(self.delay_s)
            yield piece


def grounded_echo(request: GenerationRequest) -> str:
    lines = [f"{ev.passages[0]} [{ev.number}]" for ev in request.evidence[:3] if ev.passages]
    return " ".join(lines)


def _pieces(text: str) -> Iterator[str]:
    """Split into word-sized pieces, keeping the spaces, like a tokenizer would."""
    start = 0
    for i, ch in enumerate(text):
        if ch == " " and i > start:
            yield text[start:i]
            start = i
    if start < len(text):
        yield text[start:]


def create(settings: LLMSettings, arg: str | None) -> FakeBackend:
    # 'fake:some text' answers with that text, handy for demos of rendering.
    return FakeBackend(response_fn=(lambda _r: arg) if arg else None)
