"""A deterministic verifier for tests and demos (``answer.verifier = "fake"``).

By default a claim is supported when most of its content words appear in one sentence
of the paper (title included); ``rule`` replaces that with any function, so a test can
script exactly which claims pass.
"""

from __future__ import annotations

from collections.abc import Callable

from assistant.answering.verifiers.base import VerifierContext
from assistant.core.text import overlap, split_sentences
from assistant.core.types import NumberedSource, Verdict

Rule = Callable[[str, NumberedSource], bool]


class FakeVerifier:
    name = "fake"

    def __init__(self, rule: Rule | None = None, min_overlap: float = 0.6) -> None:
        self.rule = rule
        self.min_overlap = min_overlap
        self.calls: list[tuple[str, str]] = []  # (claim, paper_id), for tests to inspect

    def verify(self, claim: str, paper: NumberedSource) -> Verdict:
        self.calls.append((claim, paper.paper_id))
        sentences = [paper.title, *split_sentences(paper.abstract)]
        score, best = max(((overlap(claim, s), s) for s in sentences), default=(0.0, ""))
        ok = self.rule(claim, paper) if self.rule else score >= self.min_overlap
        return Verdict(
            supported=ok,
            score=round(score, 4),
            evidence=best,
            reason="" if ok else "the fake verifier's rule rejected it",
            check=None if ok else "fake",
            verifier=self.name,
        )

    def verify_many(self, items: list[tuple[str, NumberedSource]]) -> list[Verdict]:
        return [self.verify(claim, paper) for claim, paper in items]


def create(context: VerifierContext, arg: str | None) -> FakeVerifier:
    return FakeVerifier()
