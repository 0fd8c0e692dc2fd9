"""The backend seam: one Protocol with one streaming method.

A backend turns a ``GenerationRequest`` into a stream of text pieces. Language-model
backends read ``messages``; the extractive backend reads the structured ``evidence``
instead, which is why both travel in the request.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from assistant.core.types import NumberedSource


@dataclass(frozen=True)
class GenerationRequest:
    messages: list[dict[str, str]]
    question: str = ""
    # Evidence papers; each one's ``passages`` are its chosen sentences, most relevant first.
    evidence: list[NumberedSource] = field(default_factory=list)
    max_tokens: int = 192
    timeout_s: float = 60.0
    temperature: float = 0.0
    stop: list[str] = field(default_factory=list)


@runtime_checkable
class Backend(Protocol):
    name: str

    def stream(self, request: GenerationRequest) -> Iterator[str]:
        """Yield text pieces in order. Raise BackendUnavailable / BackendTimeout / BackendError.

        Must not block longer than ``request.timeout_s`` in total.
        """
        ...


def generate(backend: Backend, request: GenerationRequest) -> str:
    """Non-streaming convenience: the whole text."""
    return "".join(backend.stream(request))
