"""The answer pipeline, UI-free: question (+history) -> typed ``Answer``.

``Assistant`` is a thin orchestrator over named steps, each testable alone:

    rewrite (rewrite.py) -> retrieve (retrieval/) -> decide (evidence.py)
      -> generate (generate.py) -> verify (verifiers/) -> compose (compose.py)

``Assistant.stream`` yields typed events in a fixed order: ``sources`` as soon as
retrieval is done, then ``text`` pieces — only sentences that passed the verifier, the
lead extracts first — then ``done`` with the final ``Answer``. ``ask`` is the same
without streaming.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Generator, Iterator
from typing import Any

from assistant.answering.abstain import abstention, language_note, partial_note
from assistant.answering.compose import Composer, Draft, focus, preview
from assistant.answering.evidence import Decision, decide
from assistant.answering.generate import (
    BackendPool,
    Generation,
    Writer,
    can_fallback,
    elapsed_ms,
)
from assistant.answering.prompting import screen_evidence
from assistant.answering.rewrite import resolve
from assistant.answering.scorer import SentenceScorer
from assistant.answering.sentences import SentenceStream
from assistant.answering.shape import question_kind
from assistant.answering.verifiers import Verifier, VerifierContext, create_verifier
from assistant.backends import Backend, backend_name
from assistant.core.errors import BackendError
from assistant.core.inputs import clean_question, normalize_history
from assistant.core.settings import ANSWER_OPTIONS, Settings, load_settings
from assistant.core.types import (
    Answer,
    DoneEvent,
    NoticeEvent,
    PaperHit,
    PendingEvent,
    SourcesEvent,
    StreamEvent,
    TextEvent,
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
        self._verifiers: dict[str, Verifier] = {}
        self._lock = threading.RLock()  # re-entrant: resources build on each other
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
        with self._lock:
            if self._scorer is None:
                cfg = self.settings.answer
                self._scorer = SentenceScorer(
                    self.retriever.embedder,
                    relevance_weight=cfg.relevance_semantic_weight,
                    support_weight=cfg.support_semantic_weight,
                )
            return self._scorer

    def idf(self) -> Callable[[str], float]:
        """Word rarity over the collection (for abstention and verification)."""
        return self.retriever.keyword_index().idf

    def backend(self, settings: Settings | None = None) -> Backend:
        return self.writer.pool.get(settings or self.settings)

    def verifier(self, settings: Settings | None = None) -> Verifier:
        """The claim verifier named by ``answer.verifier`` (built once per configuration)."""
        settings = settings or self.settings
        key = f"{settings.answer.verifier}|{settings.llm.backend}"
        with self._lock:
            if key not in self._verifiers:
                context = VerifierContext(self.scorer, self.idf(), settings, self.backend(settings))
                self._verifiers[key] = create_verifier(settings.answer.verifier, context)
            return self._verifiers[key]

    def warm_up_retrieval(self) -> None:
        """Load the index, keyword index and embedder now, not on the first question."""
        self.retriever.keyword_index()
        self.scorer.vectors(["warm up"])

    def warm_up(self) -> None:
        """Load everything an answer needs now, the model and verifier included."""
        self.warm_up_retrieval()
        self.verifier()
        load = getattr(self.backend(), "load", None)
        if callable(load):
            load()

    def settings_for(self, options: dict[str, Any]) -> Settings:
        """These settings with per-call options (names from ``core.settings.OPTIONS``)."""
        return self.settings.with_options(ANSWER_OPTIONS, **options)

    # -- public API -------------------------------------------------------------------------
    def ask(self, question: str, history: Any = None, **options: Any) -> Answer:
        """Answer ``question`` (a follow-up if ``history`` is given) with verified citations."""
        for event in self.stream(question, history, **options):
            if isinstance(event, DoneEvent):
                return event.answer
        raise RuntimeError("answer stream ended without a result")  # a bug, not user error

    def stream(self, question: str, history: Any = None, **options: Any) -> Iterator[StreamEvent]:
        started = time.perf_counter()
        settings = self.settings_for(options)
        question = clean_question(question, settings.answer.max_question_chars)
        self.backend(settings)  # a misconfigured backend fails now, before any work
        cfg = settings.answer
        turns = normalize_history(history, cfg.max_history_turns, cfg.max_history_chars)
        rewrite = resolve(question, turns)  # "the second one" -> that paper, pinned
        query = rewrite.query
        rewrite_ms = elapsed_ms(started)
        hits = self.retrieve(query, settings, only=rewrite.pinned_paper_ids or None)
        timings = Timings(rewrite_ms=rewrite_ms, retrieval_ms=elapsed_ms(started) - rewrite_ms)
        # The sources show as soon as retrieval is done; choosing evidence takes longer.
        yield SourcesEvent(
            sources=preview(hits), standalone_query=query, rewritten=query != question
        )
        decision = self.decide_on(query, hits, settings)
        draft = Draft(question, query, decision.sources, timings)
        answer = yield from self._answer(draft, decision, settings, started)
        yield DoneEvent(answer=answer)

    # -- steps --------------------------------------------------------------------------------
    def retrieve(
        self, query: str, settings: Settings, only: list[str] | None = None
    ) -> list[PaperHit]:
        """Search (only the ``only`` papers, when a follow-up pins them)."""
        cfg = settings.retrieval
        return self.retriever.search(query, k=cfg.k, mode=cfg.mode, only=only)

    def decide(self, query: str, settings: Settings) -> Decision:
        """Retrieve, number the papers, choose evidence, and decide whether to abstain."""
        return self.decide_on(query, self.retrieve(query, settings), settings)

    def decide_on(
        self, query: str, hits: list[PaperHit], settings: Settings, language: str | None = None
    ) -> Decision:
        """Choose evidence among given hits and decide whether to abstain."""
        return decide(query, hits, self.scorer, self.idf(), settings.answer, language)

    def _answer(
        self, draft: Draft, decision: Decision, settings: Settings, started: float
    ) -> Generator[StreamEvent, None, Answer]:
        if decision.abstain:
            log.info("abstained: best relevance %.3f", decision.best_relevance)
            return draft.answer(
                text=abstention(screen_evidence(draft.sources), decision.missing_terms),
                citations=[],
                abstained=True,
                backend=settings.llm.backend,
                notes=_notes(decision, abstained=True),
                language=decision.language,
                total_ms=elapsed_ms(started),
            )
        composer = Composer(
            draft.standalone_query,
            focus(screen_evidence(decision.evidence), settings.answer),  # no injected text
            self.verifier(settings),
            self.scorer,
            settings.answer,
        )
        first_text: float | None = None
        for piece in composer.lead(question_kind(draft.question)):
            first_text = first_text or elapsed_ms(started)
            yield TextEvent(text=piece)
        gen = yield from model_sentences(self.writer, composer, draft, settings, started)
        if first_text is None and composer.text:
            first_text = gen.first_token_ms
        answer = _final(draft, composer, gen, settings, first_text, started)
        notes = _notes(decision, abstained=answer.abstained)
        return answer.model_copy(update={"notes": notes, "language": decision.language})


def model_sentences(
    writer: Writer, composer: Composer, draft: Draft, settings: Settings, started: float
) -> Generator[StreamEvent, None, Generation]:
    """Stream the backend's sentences, each shown only once it is verified. When none of
    the model's sentences holds up, the fallback backend's quotes are verified and added."""
    query, sources = draft.standalone_query, composer.sources
    writing = writer.generate(query, sources, settings, started)
    gen = yield from verified(writing, composer, settings, _quotes(settings.llm.backend))
    if gen.fallback_reason is not None or not can_fallback(gen.backend, settings):
        return gen
    if not composer.model_kept and (composer.written or composer.declined):
        reason = (
            "none of the model's sentences was supported by the abstracts"
            if composer.written
            else "the model found no answer in the retrieved abstracts"
        )
        filling = writer.fall_back(reason, query, sources, settings, started)
        return (yield from verified(filling, composer, settings, quoting=True))
    # A small model leaves things out: the verified quotes of the fallback follow its own
    # sentences (repeats of what is already shown are skipped).
    yield from verified(
        writer.supplement(query, sources, settings, started),
        composer,
        settings,
        quoting=True,
    )
    return gen


def verified(
    writing: Generator[str | NoticeEvent, None, Generation],
    composer: Composer,
    settings: Settings,
    quoting: bool,
) -> Generator[StreamEvent, None, Generation]:
    """Feed a backend's raw pieces to the composer sentence by sentence; yield what it shows."""
    stream = SentenceStream()
    while True:
        try:
            item = next(writing)
        except StopIteration as done:
            gen: Generation = done.value
            break
        except BackendError as exc:
            if not composer.text:
                raise  # nothing verified to show and no fallback: the caller reports it
            # The verified lead stands; the answer says the model failed.
            gen = Generation(settings.llm.backend, complete=False)
            gen.fallback_reason = exc.user_message()
            break
        if isinstance(item, NoticeEvent):  # the fallback backend takes over
            quoting = _quotes(settings.llm.fallback or "")
            yield item
            continue
        shown = False
        for sentence in stream.feed(item):
            if (piece := composer.add(sentence, quoting)) is not None:
                shown = True
                yield TextEvent(text=piece)
        if not shown:
            yield PendingEvent()
    for sentence in stream.close():
        if (piece := composer.add(sentence, quoting)) is not None:
            yield TextEvent(text=piece)
    return gen


def _quotes(spec: str) -> bool:
    """Whether a backend quotes abstracts rather than writing (its sentences are quotes)."""
    return backend_name(spec) == "extractive"


def _notes(decision: Decision, abstained: bool) -> list[str]:
    """Caveats shown with the answer: weaker matching for the language, partial cover."""
    notes = [language_note(decision.language)]
    if not abstained:
        notes.append(partial_note(decision.evidence, decision.unmatched_terms))
    return [n for n in notes if n]


def _final(
    draft: Draft,
    composer: Composer,
    gen: Generation,
    settings: Settings,
    first_text: float | None,
    started: float,
) -> Answer:
    # The bundled 135M model declines wrongly (README), so by default that is not trusted.
    abstained = (composer.declined and settings.answer.trust_model_no_answer) or not composer.text
    reason = gen.fallback_reason
    if reason is None and composer.declined and not abstained:
        reason = "the model found no answer in the retrieved abstracts; quotes shown"
    elif reason is None and composer.written and not composer.model_kept:
        reason = "none of the model's sentences was supported by the abstracts; quotes shown"
    return draft.answer(
        text=abstention(screen_evidence(draft.sources), []) if abstained else composer.text,
        citations=[] if abstained else composer.citations(),
        sentences=[] if abstained else composer.sentences,
        backend_sentences=composer.written,
        abstained=abstained,
        backend=gen.backend,
        fallback_reason=reason,
        complete=gen.complete,
        first_token_ms=first_text,
        model_first_token_ms=gen.first_token_ms,
        total_ms=elapsed_ms(started),
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
