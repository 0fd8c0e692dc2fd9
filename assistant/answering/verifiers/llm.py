"""The ``llm`` verifier: asks the answer backend a yes/no question per claim.

Evidence is chosen as the strict verifier chooses it (the best sentence or pair of
sentences of the cited abstract, one that states the claim's numbers if any does), and
several claims go in one prompt (``prompts/verify.md``), answered one line per claim
("1: yes"). Strict's number rule stays on top: a model's "yes" does not save a claim
whose figures the abstract does not state, because small models are careless with them.

Time is bounded twice: every request gets at most ``batch_timeout_s`` and never more
than what is left of ``settings.llm.timeout_s`` for the whole call. A claim the model
does not answer (timeout, backend error, a reply without its line) is unsupported, and
its reason says so.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from assistant.answering.prompting import load_prompt, untrusted
from assistant.answering.verifiers.base import VerifierContext
from assistant.answering.verifiers.strict import StrictVerifier, number_span
from assistant.backends import Backend, GenerationRequest
from assistant.core.errors import BackendError, ConfigError
from assistant.core.types import NumberedSource, Verdict

BATCH_SIZE = 8  # claims per prompt: small models lose track of longer lists
BATCH_TIMEOUT_S = 30.0  # most seconds one prompt may take
TOKENS_PER_CLAIM = 6  # "12: yes\n" with room for a stray word
# "1: yes", "**2** - No", "Claim 3: supported": the number, then the first verdict word.
_ANSWER = re.compile(
    r"^\W*(?:claim|item)?\s*(\d{1,3})\W+(yes|no|supported|unsupported|true|false)\b",
    re.IGNORECASE | re.MULTILINE,
)
_YES = {"yes", "supported", "true"}


@dataclass
class _Item:
    claim: str
    evidence: str
    support: float
    number_reason: str | None


def parse_answers(text: str, count: int) -> dict[int, bool]:
    """The verdicts a reply gives, by item number (1-based); the first line per item wins.

    >>> parse_answers("1: yes\\n**2** - No\\n2: yes\\n9: yes\\nok", 3)
    {1: True, 2: False}
    """
    answers: dict[int, bool] = {}
    for number, word in _ANSWER.findall(text):
        n = int(number)
        if 1 <= n <= count and n not in answers:
            answers[n] = word.lower() in _YES
    return answers


class LLMVerifier:
    """Batched yes/no questions to a backend, with strict's number rule on top."""

    name = "llm"

    def __init__(
        self,
        context: VerifierContext,
        backend: Backend,
        batch_size: int = BATCH_SIZE,
        batch_timeout_s: float = BATCH_TIMEOUT_S,
    ) -> None:
        self.context = context
        self.backend = backend
        self.batch_size = max(1, batch_size)
        self.batch_timeout_s = batch_timeout_s
        self.total_timeout_s = context.settings.llm.timeout_s
        self._strict = StrictVerifier(context)
        self._template = load_prompt("verify.md")

    def verify(self, claim: str, paper: NumberedSource) -> Verdict:
        return self.verify_many([(claim, paper)])[0]

    def verify_many(self, items: list[tuple[str, NumberedSource]]) -> list[Verdict]:
        prepared = [self._prepare(claim, paper) for claim, paper in items]
        deadline = time.monotonic() + self.total_timeout_s
        answers: dict[int, bool] = {}
        failures: dict[int, str] = {}
        for start in range(0, len(prepared), self.batch_size):
            batch = list(range(start, min(start + self.batch_size, len(prepared))))
            left = deadline - time.monotonic()
            if left <= 0:
                failures.update(dict.fromkeys(batch, "the model had no time left to check it"))
                continue
            got, failure = self._ask([prepared[i] for i in batch], min(left, self.batch_timeout_s))
            answers.update({batch[n - 1]: ok for n, ok in got.items()})
            for i in batch:
                if i not in answers:
                    failures[i] = failure or "the model gave no answer for this claim"
        return [
            self._verdict(item, answers.get(i), failures.get(i)) for i, item in enumerate(prepared)
        ]

    def _prepare(self, claim: str, paper: NumberedSource) -> _Item:
        sentences, spans = self._strict.spans(claim, paper)
        span, reason = number_span(claim, spans, sentences)
        if span is None:
            return _Item(claim, "", 0.0, None)
        return _Item(claim, span.text, span.support, reason)

    def _ask(self, batch: list[_Item], timeout_s: float) -> tuple[dict[int, bool], str | None]:
        blocks = [
            f"{n}. CLAIM: {untrusted(item.claim)}\n   EVIDENCE: {untrusted(item.evidence)}"
            for n, item in enumerate(batch, 1)
        ]
        items = "\n".join(blocks)
        request = GenerationRequest(
            messages=[{"role": "user", "content": self._template.format_map({"items": items})}],
            max_tokens=TOKENS_PER_CLAIM * len(batch) + 8,
            timeout_s=timeout_s,
            temperature=0.0,
        )
        pieces: list[str] = []
        deadline = time.monotonic() + timeout_s
        try:
            for piece in self.backend.stream(request):
                pieces.append(piece)
                if time.monotonic() > deadline:
                    break  # a backend that ignores its timeout: keep what came in time
        except BackendError as exc:
            answers = parse_answers("".join(pieces), len(batch))
            return answers, f"the model did not answer ({exc.user_message()})"
        return parse_answers("".join(pieces), len(batch)), None

    def _verdict(self, item: _Item, answer: bool | None, failure: str | None) -> Verdict:
        def verdict(ok: bool, score: float, check: str | None = None, reason: str = "") -> Verdict:
            return Verdict(
                supported=ok, score=round(score, 4), evidence=item.evidence,
                reason=reason, check=check, verifier=self.name,
            )  # fmt: skip

        if not item.evidence:
            return verdict(False, 0.0, "support", "there is no claim or no abstract to check")
        if item.number_reason:  # strict's number rule overrides the model
            return verdict(False, 0.5 * item.support, "number", item.number_reason)
        if answer is None:
            return verdict(False, 0.0, "llm", failure or "the model gave no answer")
        if answer:
            return verdict(True, 0.5 + 0.5 * item.support)
        return verdict(
            False, 0.5 * item.support, "llm",
            "the model judged that the cited abstract does not state this",
        )  # fmt: skip


def create(context: VerifierContext, arg: str | None) -> LLMVerifier:
    if context.backend is None:
        raise ConfigError("the 'llm' verifier needs an answer backend (settings llm.backend)")
    return LLMVerifier(context, context.backend)
