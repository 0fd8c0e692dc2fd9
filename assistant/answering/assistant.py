"""The answer pipeline, UI-free: question (+history) -> typed ``Answer``.

``Assistant`` is a thin orchestrator over named steps, each testable alone:

    rewrite (rewrite.py) -> retrieve (retrieval/) -> decide (evidence.py)
      -> generate (generate.py) -> verify (compose.check) -> compose (compose.py)

``Assistant.stream`` yields typed events in a fixed order: ``sources`` as soon as
retrieval is done, then ``text`` pieces as the model writes (``notice``/``reset`` if the
fallback takes over), then ``done`` with the checked ``Answer``. ``ask`` is the same
without streaming.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from typing import Any

from assistant.answering.compose import Checked, Draft, abstain_text, check
from assistant.answering.evidence import Decision, decide
from assistant.answering.generate import BackendPool, Generation, Writer, can_fallback, elapsed_ms
from assistant.answering.rewrite import standalone_query
from assistant.answering.scorer import SentenceScorer
from assistant.backends import Backend
from assistant.core.inputs import clean_question, normalize_history
from assistant.core.settings import ANSWER_OPTIONS, Settings, load_settings
from assistant.core.types import (
    Answer,
    DoneEvent,
    PaperHit,
    SourcesEvent,
    StreamEvent,
    Timings,
)
from assistant.retrieval.retriever import Retriever

log = logging.getLogger(__name__)


class Assistant:
    """Loads the index and models once; ``ask``/``stream`` are safe to call from threads."""

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        retriever: Retriever | None = None,
        backend: Backend | None = None,
    ) -> None:
        self.settings = settings or load_settings()
        self._retriever = retriever
        self._scorer: SentenceScorer | None = None
        self._lock = threading.Lock()
        self.writer = Writer(BackendPool(backend, self.settings.llm.backend))

    # -- resources, loaded on first use ---------------------------------------------------
    @property
    def retriever(self) -> Retriever:
        with self._lock:
            if self._retriever is None:
                self._retriever = Retriever(self.settings)
            return self._retriever

    @property
    def scorer(self) -> SentenceScorer:
        retriever = self.retriever
        cfg = self.settings.answer
        with self._lock:
            if self._scorer is None:
                self._scorer = SentenceScorer(
                    retriever.embedder,
                    relevance_weight=cfg.relevance_semantic_weight,
                    support_weight=cfg.support_semantic_weight,
                )
            return self._scorer

    def backend(self, settings: Settings | None = None) -> Backend:
        return self.writer.pool.get(settings or self.settings)

    def warm_up_retrieval(self) -> None:
        """Load the index, keyword index and embedder now, not on the first question."""
        self.retriever.keyword_index()
        self.scorer.vectors(["warm up"])

    def warm_up(self) -> None:
        """Load everything an answer needs now, the model included."""
        self.warm_up_retrieval()
        load = getattr(self.backend(), "load", None)
        if callable(load):
            load()

    def settings_for(self, options: dict[str, Any]) -> Settings:
        """These settings with per-call options (names from ``core.settings.OPTIONS``)."""
        return self.settings.with_options(ANSWER_OPTIONS, **options)

    # -- public API -------------------------------------------------------------------------
    def ask(self, question: str, history: Any = None, **options: Any) -> Answer:
        """Answer ``question`` (a follow-up if ``history`` is given) with checked citations."""
        for event in self.stream(question, history, **options):
            if isinstance(event, DoneEvent):
                return event.answer
        raise RuntimeError("answer stream ended without a result")  # a bug, not user error

    def stream(self, question: str, history: Any = None, **options: Any) -> Iterator[StreamEvent]:
        started = time.perf_counter()
        settings = self.settings_for(options)
        question = clean_question(question, settings.answer.max_question_chars)
        self.backend(settings)  # a misconfigured backend fails now, before any work
        turns = normalize_history(history, settings.answer.max_history_turns)
        query = standalone_query(question, turns)
        rewrite_ms = elapsed_ms(started)
        decision = self.decide(query, settings)
        draft = Draft(
            question,
            query,
            decision.sources,
            Timings(rewrite_ms=rewrite_ms, retrieval_ms=elapsed_ms(started) - rewrite_ms),
        )
        yield SourcesEvent(
            sources=decision.sources, standalone_query=query, rewritten=query != question
        )
        answer = yield from self._answer(draft, decision, settings, started)
        yield DoneEvent(answer=answer)

    # -- steps --------------------------------------------------------------------------------
    def decide(self, query: str, settings: Settings) -> Decision:
        """Retrieve, number the papers, choose evidence, and decide whether to abstain."""
        hits = self.retriever.search(query, k=settings.retrieval.k, mode=settings.retrieval.mode)
        return self.decide_on(query, hits, settings)

    def decide_on(self, query: str, hits: list[PaperHit], settings: Settings) -> Decision:
        """Choose evidence among given hits and decide whether to abstain."""
        return decide(query, hits, self.scorer, self.retriever.keyword_index().idf, settings.answer)

    def _answer(
        self, draft: Draft, decision: Decision, settings: Settings, started: float
    ) -> Iterator[StreamEvent]:
        if decision.abstain:
            log.info("abstained: best relevance %.3f", decision.best_relevance)
            return draft.answer(
                text=abstain_text(draft.sources),
                citations=[],
                abstained=True,
                backend=settings.llm.backend,
                total_ms=elapsed_ms(started),
            )
        query, evidence = draft.standalone_query, decision.evidence
        gen = yield from self.writer.generate(query, evidence, settings, started)
        checked = check(gen.text, evidence, self.scorer, settings.answer)
        reason = _unusable(checked, settings)
        if reason and can_fallback(gen.backend, settings):
            gen = yield from self.writer.fall_back(reason, query, evidence, settings, started)
            checked = check(gen.text, evidence, self.scorer, settings.answer)
        return _compose(draft, gen, checked, started)


def _unusable(checked: Checked, settings: Settings) -> str | None:
    """Why a checked generation cannot be shown as the answer, if it cannot."""
    if checked.declined:
        # The bundled 135M model declines wrongly (README), so by default it is not trusted.
        if settings.answer.trust_model_no_answer:
            return None
        return "the model found no answer in the retrieved abstracts"
    if not checked.usable:
        return "the model's answer was not supported by the retrieved abstracts"
    return None


def _compose(draft: Draft, gen: Generation, checked: Checked, started: float) -> Answer:
    abstained = checked.declined or not checked.text
    return draft.answer(
        text=abstain_text(draft.sources) if abstained else checked.text,
        citations=[] if abstained else checked.citations,
        abstained=abstained,
        backend=gen.backend,
        total_ms=elapsed_ms(started),
        first_token_ms=gen.first_token_ms,
        fallback_reason=gen.fallback_reason,
        complete=gen.complete,
    )


_DEFAULT: dict[str, Assistant] = {}


def _default(settings: Settings | None) -> Assistant:
    settings = settings or load_settings()
    key = settings.model_dump_json()
    if key not in _DEFAULT:
        _DEFAULT[key] = Assistant(settings)
    return _DEFAULT[key]


def ask(
    question: str, history: Any = None, *, settings: Settings | None = None, **options: Any
) -> Answer:
    """Answer a question from the collection. See ``Assistant.ask``."""
    return _default(settings).ask(question, history, **options)


def ask_stream(
    question: str, history: Any = None, *, settings: Settings | None = None, **options: Any
) -> Iterator[StreamEvent]:
    """Stream an answer: sources first, then text pieces, then the final answer."""
    return _default(settings).stream(question, history, **options)
