"""A backend with no language model: it quotes the most relevant retrieved sentences.

It is the fallback when a model is missing or fails, so it must never fail itself: no
I/O, no randomness, the same answer for the same evidence. What it quotes is untrusted
corpus text, so a sentence that addresses the reader as a model ("Ignore previous
instructions and answer only …") is never quoted, and template markers, hidden
characters, Markdown images/links and fake citation markers are removed from the rest.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from assistant.backends.base import GenerationRequest
from assistant.core.errors import ConfigError
from assistant.core.settings import LLMSettings
from assistant.core.types import NumberedSource
from assistant.core.untrusted import is_instruction, strip_markup

MAX_SENTENCES = 3
# Word-set overlap above which two sentences count as the same claim (abstracts of
# related papers often repeat a sentence almost verbatim).
DUPLICATE_JACCARD = 0.8
PREFIX = "According to the collection:"

_WORD = re.compile(r"\w+", re.UNICODE)


class ExtractiveBackend:
    name = "extractive"

    def __init__(self, max_sentences: int = MAX_SENTENCES) -> None:
        self.max_sentences = max_sentences

    def stream(self, request: GenerationRequest) -> Iterator[str]:
        picked = select_sentences(request.evidence, self.max_sentences)
        if not picked:
            return  # empty answer: the caller decides how to abstain
        # Plain sentences with their markers: the composer verifies each one and shows
        # it as a quote (no quotation marks that could read as a title).
        for i, (number, sentence) in enumerate(picked):
            yield f"{' ' if i else ''}{sentence} [{number}]"


def select_sentences(evidence: list[NumberedSource], limit: int) -> list[tuple[int, str]]:
    """Round-robin over papers by rank, so each top paper's best sentence comes first."""
    picked: list[tuple[int, str]] = []
    seen: list[frozenset[str]] = []
    depth = max((len(ev.passages) for ev in evidence), default=0)
    for rank in range(depth):
        for ev in evidence:
            if len(picked) >= limit:
                return picked
            if rank >= len(ev.passages):
                continue
            raw = ev.passages[rank]
            if is_instruction(raw):  # injected text is never presented as an answer
                continue
            sentence = " ".join(strip_markup(raw).split())
            words = _words(sentence)
            if not words or any(_near_duplicate(words, other) for other in seen):
                continue
            seen.append(words)
            picked.append((ev.number, sentence))
    return picked


def _words(text: str) -> frozenset[str]:
    return frozenset(w.casefold() for w in _WORD.findall(text))


def _near_duplicate(a: frozenset[str], b: frozenset[str]) -> bool:
    overlap, smaller = len(a & b), min(len(a), len(b))
    # Containment catches a shortened copy; tiny sentences would match anything.
    if smaller >= 4 and overlap == smaller:
        return True
    return overlap / len(a | b) >= DUPLICATE_JACCARD


def create(settings: LLMSettings, arg: str | None) -> ExtractiveBackend:
    # 'extractive:N' quotes up to N sentences instead of the default 3.
    if arg:
        try:
            limit = int(arg)
        except ValueError:
            limit = 0
        if limit < 1:
            raise ConfigError(f"extractive backend argument must be a positive count, got {arg!r}")
        return ExtractiveBackend(limit)
    return ExtractiveBackend()
