"""Answer orchestration, UI-free: question (+history) -> typed ``Answer``.

``Assistant.stream`` yields events in a fixed order: ``sources`` as soon as retrieval is
done, then ``text`` pieces as the model writes (``notice``/``reset`` if it fails and the
extractive fallback takes over), then ``done`` with the checked ``Answer``, whose text is
final (citations repaired and scored). ``Assistant.ask`` is the same without streaming.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from assistant.backends import Backend, Evidence, GenerationRequest, create_backend
from assistant.citations import SentenceScorer, SourceText, check_citations, sanitize
from assistant.config import Settings, load_settings
from assistant.errors import AssistantError, BackendError, ConfigError
from assistant.inputs import clean_question, normalize_history
from assistant.prompting import NO_ANSWER, build_prompt
from assistant.retrieval import Retriever
from assistant.rewrite import standalone_query
from assistant.text import content_words, covers, split_sentences
from assistant.types import Answer, Citation, PaperHit, Source, Timings

log = logging.getLogger(__name__)

OVERRIDES = {
    "backend": "llm__backend",
    "model_path": "llm__model_path",
    "base_url": "llm__base_url",
    "model": "llm__model",
    "api_key": "llm__api_key",
    "timeout_s": "llm__timeout_s",
    "max_tokens": "llm__max_tokens",
    "temperature": "llm__temperature",
    "mode": "retrieval__mode",
    "k": "retrieval__k",
}
EventKind = Literal["sources", "text", "notice", "reset", "done"]


@dataclass
class StreamEvent:
    kind: EventKind
    text: str = ""
    sources: list[Source] = field(default_factory=list)
    standalone_query: str = ""
    rewritten: bool = False
    answer: Answer | None = None


_Checked = tuple[str, list[Citation], bool]  # final text, citations, abstained


@dataclass
class _Generation:
    backend: str
    text: str = ""
    first_token: float | None = None
    fallback_reason: str | None = None
    complete: bool = True


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
        self._backend_given = backend
        self._backends: dict[str, Backend] = {}
        self._lock = threading.Lock()
        self._scorer: SentenceScorer | None = None

    # -- resources ---------------------------------------------------------------------
    @property
    def retriever(self) -> Retriever:
        with self._lock:
            if self._retriever is None:
                self._retriever = Retriever(self.settings)
            return self._retriever

    @property
    def scorer(self) -> SentenceScorer:
        retriever = self.retriever
        with self._lock:
            if self._scorer is None:
                self._scorer = SentenceScorer(retriever.embedder)
            return self._scorer

    def backend(self, settings: Settings | None = None) -> Backend:
        settings = settings or self.settings
        spec = settings.llm.backend
        if self._backend_given is not None and spec == self.settings.llm.backend:
            return self._backend_given
        key = f"{spec}|{settings.llm.model_dump_json()}"
        with self._lock:
            if key not in self._backends:
                self._backends[key] = create_backend(spec, settings.llm)
            return self._backends[key]

    def warm_up(self) -> None:
        """Load the index, keyword index, embedder and model now, not on the first question."""
        self.retriever.keyword_index()
        self.scorer.vectors(["warm up"])
        load = getattr(self.backend(), "load", None)
        if callable(load):
            load()

    def settings_for(self, overrides: dict[str, Any]) -> Settings:
        unknown = set(overrides) - set(OVERRIDES)
        if unknown:
            raise ConfigError(f"unknown option(s) {sorted(unknown)}; known: {sorted(OVERRIDES)}")
        given = {OVERRIDES[k]: v for k, v in overrides.items() if v is not None}
        return self.settings.with_overrides(**given) if given else self.settings

    # -- public API ----------------------------------------------------------------------
    def ask(self, question: str, history: list[Any] | None = None, **overrides: Any) -> Answer:
        """Answer ``question`` (a follow-up if ``history`` is given) with checked citations."""
        for event in self.stream(question, history, **overrides):
            if event.kind == "done" and event.answer is not None:
                return event.answer
        raise RuntimeError("answer stream ended without a result")  # a bug, not user error

    def stream(
        self, question: str, history: list[Any] | None = None, **overrides: Any
    ) -> Iterator[StreamEvent]:
        started = time.perf_counter()
        settings = self.settings_for(overrides)
        question = clean_question(question, settings.answer.max_question_chars)
        self.backend(settings)  # a misconfigured backend fails now, before any work
        turns = normalize_history(history, settings.answer.max_history_turns)
        query = standalone_query(question, turns)
        rewrite_ms = _ms(started)
        hits = self.retriever.search(query, k=settings.retrieval.k, mode=settings.retrieval.mode)
        retrieval_ms = _ms(started) - rewrite_ms
        evidence, relevance = self.select_evidence(query, hits, settings)
        sources = [_source(i, hit, evidence) for i, hit in enumerate(hits, start=1)]
        yield StreamEvent(
            "sources", sources=sources, standalone_query=query, rewritten=query != question
        )

        base = {
            "question": question,
            "standalone_query": query,
            "rewritten": query != question,
            "sources": sources,
            "timings": Timings(rewrite_ms=rewrite_ms, retrieval_ms=retrieval_ms),
        }
        if not evidence:
            log.info("abstained: best relevance %.3f", relevance)
            gen = _Generation(settings.llm.backend)
            answer = _answer(base, gen, abstain_text(sources), [], True, started)
        else:
            abstracts = {h.paper_id: h.abstract for h in hits}
            gen = yield from self._generate(query, evidence, settings, started)
            gen, checked = yield from self._grounded(
                gen, query, evidence, abstracts, settings, started
            )
            text, citations, abstained = checked
            if abstained:
                text, citations = abstain_text(sources), []
            answer = _answer(base, gen, text, citations, abstained, started)
        yield StreamEvent("done", text=answer.text, answer=answer)

    def _grounded(
        self,
        gen: _Generation,
        query: str,
        evidence: list[Evidence],
        abstracts: dict[str, str],
        settings: Settings,
        started: float,
    ) -> Generator[StreamEvent, None, tuple[_Generation, _Checked]]:
        """Check the model's answer; if nothing in it is supported (or it declined although
        the evidence looked relevant), show quoted evidence instead, labelled as such."""
        checked = self._finish(gen, evidence, abstracts, settings)
        text, citations, abstained = checked
        declined = abstained and not settings.answer.trust_model_no_answer
        unsupported = not abstained and not any(c.supported for c in citations)
        if not (declined or unsupported) or not _can_fallback(gen.backend, settings):
            return gen, checked
        reason = (
            "the model found no answer in the retrieved abstracts"
            if declined
            else "the model's answer was not supported by the retrieved abstracts"
        )
        yield StreamEvent("notice", text=f"{reason}; showing quoted sentences instead")
        yield StreamEvent("reset")
        fallback = _Generation(settings.llm.fallback or "extractive", fallback_reason=reason)
        yield from self._run(fallback, query, evidence, settings, started)
        return fallback, self._finish(fallback, evidence, abstracts, settings)

    # -- steps -----------------------------------------------------------------------------
    def select_evidence(
        self, query: str, hits: list[PaperHit], settings: Settings
    ) -> tuple[list[Evidence], float]:
        """Most relevant sentences of each retrieved paper; papers below the abstention
        threshold are not evidence. Returns the evidence and the best relevance seen; no
        evidence means abstain. Word coverage is judged on the standalone query, so a
        follow-up is judged with the topic its conversation named."""
        per_paper = [split_sentences(h.abstract) for h in hits]
        flat = [s for sentences in per_paper for s in sentences]
        scores = iter(self.scorer.relevance(query, flat))
        evidence, best = [], 0.0
        cap = settings.answer.prompt_papers
        for number, (hit, sentences) in enumerate(zip(hits, per_paper, strict=True), start=1):
            ranked = sorted(
                zip([next(scores) for _ in sentences], sentences, strict=True),
                key=lambda p: p[0],
                reverse=True,
            )
            top = ranked[0][0] if ranked else 0.0
            best = max(best, top)
            if top >= settings.answer.abstain_threshold and len(evidence) < cap:
                keep = [s for _, s in ranked[: settings.answer.context_sentences]]
                evidence.append(Evidence(number, hit.paper_id, hit.title, keep))
        cfg = settings.answer
        if best < cfg.coverage_waived_above and self.coverage(query, hits) < cfg.min_coverage:
            evidence = []  # the question names things the top papers never mention
        return evidence, best

    def coverage(self, question: str, hits: list[PaperHit], top: int = 3) -> float:
        """IDF-weighted share of the question's words found in the top papers' text."""
        words = content_words(question)
        if not words or not hits:
            return 0.0
        keyword = self.retriever.keyword_index()
        vocabulary: set[str] = set()
        for hit in hits[:top]:
            vocabulary |= content_words(f"{hit.title} {hit.abstract}")
        weights = {w: keyword.idf(w) for w in words}
        found = sum(wt for w, wt in weights.items() if covers(w, vocabulary))
        return found / (sum(weights.values()) or 1.0)

    def _generate(
        self, query: str, evidence: list[Evidence], settings: Settings, started: float
    ) -> Generator[StreamEvent, None, _Generation]:
        spec = settings.llm.backend
        gen = _Generation(backend=spec)
        try:
            yield from self._run(gen, query, evidence, settings, started)
            return gen
        except BackendError as exc:
            error: BackendError = exc
        except AssistantError:
            raise  # configuration or input problems are the user's to fix, not to paper over
        except Exception as exc:  # a backend bug must not take the answer down with it
            log.exception("backend %s crashed", spec)
            error = BackendError(f"the model failed ({type(exc).__name__})")
        reason = error.user_message()
        if not _can_fallback(spec, settings):
            if not gen.text:
                raise error  # nothing to show and no fallback: the caller reports it
            gen.fallback_reason, gen.complete = reason, False  # keep the partial text
            return gen
        log.warning("backend %s failed: %s; using %s", spec, reason, settings.llm.fallback)
        yield StreamEvent("notice", text=f"{reason}. Showing an extractive answer instead.")
        yield StreamEvent("reset")
        fallback = _Generation(settings.llm.fallback or "extractive", fallback_reason=reason)
        yield from self._run(fallback, query, evidence, settings, started)
        return fallback

    def _run(
        self,
        gen: _Generation,
        query: str,
        evidence: list[Evidence],
        settings: Settings,
        started: float,
    ) -> Iterator[StreamEvent]:
        """Stream ``gen.backend``'s answer into ``gen`` (partial text survives a failure)."""
        spec = gen.backend
        run_settings = (
            settings if spec == settings.llm.backend else settings.with_overrides(llm__backend=spec)
        )
        backend = self.backend(run_settings)
        prompt = build_prompt(query, evidence)
        request = GenerationRequest(
            messages=prompt.messages(),
            question=query,
            evidence=evidence,
            max_tokens=settings.llm.max_tokens,
            timeout_s=settings.llm.timeout_s,
            temperature=settings.llm.temperature,
        )
        for piece in backend.stream(request):
            if gen.first_token is None:
                gen.first_token = _ms(started)
            gen.text += piece
            yield StreamEvent("text", text=piece)
            if len(gen.text) > settings.answer.max_answer_chars:
                break

    def _finish(
        self,
        gen: _Generation,
        evidence: list[Evidence],
        abstracts: dict[str, str],
        settings: Settings,
    ) -> _Checked:
        raw = sanitize(gen.text)[: settings.answer.max_answer_chars].strip()
        if not raw or _says_no_answer(raw):
            return "", [], bool(raw)
        # Support is judged against the whole abstract, not only the prompt's sentences,
        # and the title counts too: "<its title> [2]" is a supported claim about paper 2.
        sources = [
            SourceText(
                e.number,
                e.paper_id,
                e.title,
                [e.title, *(split_sentences(abstracts.get(e.paper_id, "")) or e.sentences)],
            )
            for e in evidence
        ]
        text, citations = check_citations(
            raw, sources, self.scorer, settings.answer.support_threshold
        )
        return text, citations, False


def _answer(
    base: dict[str, Any],
    gen: _Generation,
    text: str,
    citations: list[Citation],
    abstained: bool,
    started: float,
) -> Answer:
    timings = base["timings"].model_copy(
        update={"first_token_ms": gen.first_token, "total_ms": _ms(started)}
    )
    return Answer(
        **{**base, "timings": timings},
        text=text,
        citations=citations,
        abstained=abstained,
        backend=gen.backend,
        fallback_reason=gen.fallback_reason,
        complete=gen.complete,
    )


def _can_fallback(spec: str, settings: Settings) -> bool:
    fallback = settings.llm.fallback
    return bool(fallback) and fallback != spec.split(":")[0]


def _says_no_answer(text: str) -> bool:
    norm = re.sub(r"\W+", " ", text.lower()).strip()
    return re.sub(r"\W+", " ", NO_ANSWER.lower()).strip() in norm


def abstain_text(sources: list[Source]) -> str:
    if not sources:
        return f"{NO_ANSWER} The collection has no papers matching it."
    nearest = "; ".join(f"“{s.title}”" for s in sources[:3])
    return f"{NO_ANSWER} The nearest papers, which do not answer it, are: {nearest}."


def _source(number: int, hit: PaperHit, evidence: list[Evidence]) -> Source:
    chosen = next((e.sentences for e in evidence if e.paper_id == hit.paper_id), None)
    return Source(
        number=number,
        paper_id=hit.paper_id,
        title=hit.title,
        abstract=hit.abstract,
        score=hit.score,
        passages=chosen or [p.text for p in hit.passages],
        authors=hit.authors,
        year=hit.year,
        url=hit.url,
        origin=hit.sources,
    )


def _ms(since: float) -> float:
    return round((time.perf_counter() - since) * 1000, 1)


_DEFAULT: dict[str, Assistant] = {}


def _default(settings: Settings | None) -> Assistant:
    settings = settings or load_settings()
    key = settings.model_dump_json()
    if key not in _DEFAULT:
        _DEFAULT[key] = Assistant(settings)
    return _DEFAULT[key]


def ask(
    question: str,
    history: list[Any] | None = None,
    *,
    settings: Settings | None = None,
    **overrides: Any,
) -> Answer:
    """Answer a question from the collection. See ``Assistant.ask``."""
    return _default(settings).ask(question, history, **overrides)


def ask_stream(
    question: str,
    history: list[Any] | None = None,
    *,
    settings: Settings | None = None,
    **overrides: Any,
) -> Iterator[StreamEvent]:
    """Stream an answer: sources first, then text pieces, then the final answer."""
    return _default(settings).stream(question, history, **overrides)
