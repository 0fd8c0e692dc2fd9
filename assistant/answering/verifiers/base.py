"""The verifier seam: one Protocol, one registry.

A verifier judges one claim (a sentence of an answer, without its ``[n]`` markers)
against one paper (its title and abstract) and returns a ``Verdict``. Add-ons register a
factory ``factory(context, arg) -> Verifier`` through the entry-point group
``assistant.verifiers``; built-ins use the same registry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from assistant.answering.scorer import SentenceScorer
from assistant.backends import Backend
from assistant.core.registry import Registry, parse_spec
from assistant.core.settings import Settings
from assistant.core.types import NumberedSource, Verdict


@dataclass(frozen=True)
class VerifierContext:
    """What a verifier may use: sentence similarity, word rarity, settings, and the
    answer backend (for model-based verifiers)."""

    scorer: SentenceScorer
    idf: Callable[[str], float]
    settings: Settings
    backend: Backend | None = None


@runtime_checkable
class Verifier(Protocol):
    name: str

    def verify(self, claim: str, paper: NumberedSource) -> Verdict:
        """Judge ``claim`` against ``paper``'s title and abstract."""
        ...

    def verify_many(self, items: list[tuple[str, NumberedSource]]) -> list[Verdict]:
        """Judge several claims at once (model-based verifiers batch them)."""
        ...


Factory = Callable[[VerifierContext, str | None], Verifier]

VERIFIERS: Registry[Factory] = Registry(
    "verifier",
    group="assistant.verifiers",
    builtins={
        "strict": "assistant.answering.verifiers.strict:create",
        "llm": "assistant.answering.verifiers.llm:create",
        "nli": "assistant.answering.verifiers.nli:create",
        "fake": "assistant.answering.verifiers.fake:create",
    },
)


def available_verifiers() -> list[str]:
    return VERIFIERS.names()


def create_verifier(spec: str, context: VerifierContext) -> Verifier:
    """Build the verifier named by ``spec`` (``name`` or ``name:arg``, e.g. ``nli:/models/x``)."""
    name, arg = parse_spec(spec)
    return VERIFIERS.factory(name)(context, arg)
