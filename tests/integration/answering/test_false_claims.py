"""The five kinds of false claim from the issue, rebuilt from real abstracts, written by
the fake backend and sent through the whole answer path (retrieval, strict verifier,
composition). None of them may be shown as supported.

Each claim is made from a real sentence of the corpus by one edit: a negation, two of
its numbers swapped, a comparison reversed, a unit changed (hours -> days), a count
changed (four datasets -> twelve). The true sentence is checked first, so a test cannot
pass because the paper was not retrieved or the sentence never verifies.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from assistant.answering.assistant import Assistant
from assistant.backends.base import GenerationRequest
from assistant.backends.fake import FakeBackend
from assistant.core.settings import Settings
from assistant.core.text import split_sentences
from assistant.ingest.pipeline import load_papers

UNITS = {
    "hours": "days",
    "days": "hours",
    "minutes": "seconds",
    "seconds": "minutes",
    "GPUs": "CPUs",
    "layers": "heads",
}
COUNTS = {"two": "twelve", "three": "eleven", "four": "twelve", "five": "fifteen"}
VERBS = [
    ("improves", "degrades"),
    ("outperforms", "underperforms"),
    ("increases", "reduces"),
    ("reduces", "increases"),
    ("better", "worse"),
    ("faster", "slower"),
    ("higher", "lower"),
    ("lower", "higher"),
    ("more", "less"),
]


def _negate(s: str) -> str | None:
    m = re.search(r"\b(is|are|can|does|do|was|were)\b(?! not)", s)
    return s[: m.end()] + " not" + s[m.end() :] if m else None


def _swap_numbers(s: str) -> str | None:
    nums = re.findall(r"\b\d+(?:\.\d+)?%?", s)
    distinct = list(dict.fromkeys(nums))
    if len(distinct) < 2:
        return None
    a, b = distinct[:2]
    return re.sub(
        rf"(?<![\d.]){re.escape(a)}|(?<![\d.]){re.escape(b)}",
        lambda m: b if m.group(0) == a else a,
        s,
        count=2,
    )


def _reverse(s: str) -> str | None:
    for word, opposite in VERBS:
        if re.search(rf"\b{word}\b", s):
            return re.sub(rf"\b{word}\b", opposite, s, count=1)
    return None


def _unit(s: str) -> str | None:
    m = re.search(r"\b(\d+(?:\.\d+)?)\s+(" + "|".join(UNITS) + r")\b", s)
    return s[: m.start(2)] + UNITS[m.group(2)] + s[m.end(2) :] if m else None


def _count(s: str) -> str | None:
    m = re.search(
        r"\b(" + "|".join(COUNTS) + r")\s+(datasets|tasks|benchmarks|models|"
        r"languages|domains|methods)\b",
        s,
        re.IGNORECASE,
    )
    return s[: m.start(1)] + COUNTS[m.group(1).lower()] + s[m.end(1) :] if m else None


KINDS: dict[str, Callable[[str], str | None]] = {
    "negation": _negate,
    "swapped numbers": _swap_numbers,
    "reversed comparison": _reverse,
    "changed unit": _unit,
    "changed count": _count,
}


def _cases(settings: Settings, per_kind: int = 3) -> list[tuple[str, str, str, str]]:
    """(kind, title, true sentence, false claim) from the corpus, ``per_kind`` of each."""
    papers, *_ = load_papers(settings)
    out: list[tuple[str, str, str, str]] = []
    for kind, edit in KINDS.items():
        found = 0
        for paper in papers:
            for sentence in split_sentences(paper.abstract):
                words = len(sentence.split())
                false = edit(sentence) if 8 <= words <= 40 else None
                if false and false != sentence and found < per_kind:
                    out.append((kind, paper.title, sentence, false))
                    found += 1
                    break
            if found >= per_kind:
                break
        assert found, f"the corpus has no sentence to build a '{kind}' claim from"
    return out


def _citing(claim: str, title: str) -> Callable[[GenerationRequest], str]:
    def write(request: GenerationRequest) -> str:
        number = next((s.number for s in request.evidence if s.title == title), 1)
        return f"{claim} [{number}]"

    return write


def _answer(settings: Settings, title: str, claim: str):  # noqa: ANN202
    backend = FakeBackend(response_fn=_citing(claim, title))
    assistant = Assistant(settings, backend=backend)
    return assistant, assistant.ask(title, k=3, backend="fake")


@pytest.fixture(scope="module")
def strict_settings(hash_index: Settings) -> Settings:
    # Relevance floors low: the hash embedder is not semantic, and this test is about
    # verification, not abstention.
    return hash_index.with_overrides(
        answer__verifier="strict",
        answer__abstain_threshold=0.0,
        answer__min_coverage=0.0,
        answer__relative_relevance=0.0,
    )


def test_false_claims_are_never_shown_as_supported(strict_settings: Settings) -> None:
    cases = _cases(strict_settings)
    shown_false, true_kept = [], 0
    for kind, title, true_sentence, false_claim in cases:
        assistant, answer = _answer(strict_settings, title, false_claim)
        paper = next(s for s in answer.sources if s.title == title)  # it was retrieved
        true_kept += assistant.verifier().verify(true_sentence, paper).supported
        for sentence in answer.sentences:
            if sentence.origin == "model":
                shown_false.append((kind, false_claim, sentence.text))
        for citation in answer.citations:
            assert citation.supported and citation.claim != false_claim.rstrip(".")
    assert not shown_false, f"false claims shown as the model's: {shown_false}"
    # The true sentences go through: otherwise this test would pass for the wrong reason.
    assert true_kept >= len(cases) * 0.8, f"only {true_kept}/{len(cases)} true sentences kept"
