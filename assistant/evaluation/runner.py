"""Offline evaluation: retrieval quality, abstention calibration and answer quality.

``run_eval`` reads a JSONL question file, retrieves the top 10 papers for every question in
every requested mode, optionally answers each question with every requested backend, and
writes ``report.json``, ``report.md``, ``results.jsonl`` and ``calibration.json``.
"""

from __future__ import annotations

import json
import logging
import random
import sys
import time
from pathlib import Path
from typing import Any, get_args

from assistant.answering.assistant import Assistant
from assistant.answering.rewrite import standalone_query
from assistant.core.errors import AssistantError, UserInputError
from assistant.core.settings import RetrievalMode, Settings
from assistant.core.types import Message
from assistant.evaluation import metrics as em
from assistant.evaluation.questions import TYPES, Question, load_questions
from assistant.evaluation.records import CitationRecord, EvalRecord, Grouped, Report
from assistant.evaluation.report import render_markdown
from assistant.index.store import iter_records
from assistant.ingest.clean import title_key

log = logging.getLogger(__name__)

MODES: tuple[str, ...] = get_args(RetrievalMode)
TOP_K = 10


def sample(questions: list[Question], limit: int, seed: int = 0) -> list[Question]:
    """``limit`` questions spread across types in proportion (seeded, stable order).

    Every type present gets at least one question while ``limit`` allows, so a small run
    still measures abstention and follow-ups.
    """
    if limit >= len(questions):
        return questions
    rng = random.Random(seed)
    by_type: dict[str, list[Question]] = {}
    for q in questions:
        by_type.setdefault(q.type, []).append(q)
    pools = {t: rng.sample(qs, len(qs)) for t, qs in by_type.items()}
    picked: list[Question] = []
    while len(picked) < limit:  # round-robin over types keeps the mix proportional enough
        for t in sorted(pools, key=lambda t: -len(by_type[t])):
            if pools[t] and len(picked) < limit:
                picked.append(pools[t].pop())
    order = {q.qid: i for i, q in enumerate(questions)}
    return sorted(picked, key=lambda q: order[q.qid])


def run_eval(
    settings: Settings,
    questions_path: Path,
    output_dir: Path,
    modes: list[str] | None = None,
    backends: list[str] | None = None,
    limit: int | None = None,
    *,
    progress: bool | None = None,
) -> Report:
    """Evaluate and write the reports to ``output_dir``; returns the report."""
    questions = load_questions(questions_path)
    if limit is not None:
        if limit < 1:
            raise UserInputError("--limit must be at least 1")
        questions = sample(questions, limit)
    modes = list(dict.fromkeys(modes or [settings.retrieval.mode]))
    bad = [m for m in modes if m not in MODES]
    if bad:
        raise UserInputError(f"unknown retrieval mode(s) {bad}; known: {', '.join(MODES)}")
    backends = list(dict.fromkeys(backends or []))
    show = sys.stderr.isatty() if progress is None else progress
    assistant = Assistant(settings)  # one per run: the index and models load once
    assistant.warm_up_retrieval()  # so the first timed query doesn't pay for loading
    records = _records(assistant, questions, modes, backends, settings, show)
    report = build_report(
        records, questions, modes, backends, settings, assistant.retriever.stats()
    )
    report.question_file = str(questions_path)
    report.gold_missing_from_index = _gold_missing_from_index(assistant, questions)
    _write(Path(output_dir), records, report, settings)
    return report


def _records(
    assistant: Assistant,
    questions: list[Question],
    modes: list[str],
    backends: list[str],
    settings: Settings,
    show: bool,
) -> list[EvalRecord]:
    records: list[EvalRecord] = []
    for mode in modes:
        for i, q in enumerate(questions, start=1):
            if show and (i == 1 or i % 10 == 0 or i == len(questions)):
                print(f"eval [{mode}] {i}/{len(questions)}", file=sys.stderr)
            base = _retrieve(assistant, q, mode, settings)
            if not backends:
                records.append(base)
            for backend in backends:
                records.append(_answer(base, assistant, q, backend, settings))
    return records


def _write(output_dir: Path, records: list[EvalRecord], report: Report, settings: Settings) -> None:
    primary = _primary(report.modes, settings)
    rows, best = em.calibrate_records(records, primary)
    relevance_only = em.calibrate_records(records, primary, with_coverage=False)[1]
    report.calibration = {"mode": primary, "best": best, "relevance_only_best": relevance_only}
    output_dir.mkdir(parents=True, exist_ok=True)
    with (output_dir / "results.jsonl").open("w", encoding="utf-8") as fh:
        for rec in records:
            fh.write(rec.model_dump_json(exclude_unset=True) + "\n")
    calibration = {
        "mode": primary,
        "current_threshold": settings.answer.abstain_threshold,
        "note": "abstain when relevance < threshold or the word-coverage rule "
        "(answer.min_coverage / coverage_waived_above, as configured) fires",
        "best": best,
        "relevance_only_best": relevance_only,
        "thresholds": rows,
    }
    (output_dir / "calibration.json").write_text(json.dumps(calibration, indent=2))
    (output_dir / "report.json").write_text(report.model_dump_json(indent=2))
    (output_dir / "report.md").write_text(render_markdown(report), encoding="utf-8")


def _primary(modes: list[str], settings: Settings) -> str:
    """The mode whose relevance calibrates abstention: hybrid, else the configured one."""
    for mode in ("hybrid", settings.retrieval.mode):
        if mode in modes:
            return mode
    return modes[0]


def _gold_missing_from_index(assistant: Assistant, questions: list[Question]) -> list[str]:
    """Gold titles that match no paper in the index (a bad question file or index)."""
    keys = {
        title_key(meta.get(field) or "")
        for _, meta, _ in iter_records(assistant.retriever.collection, ["metadatas"])
        for field in ("title", "title_raw")
    }
    missing = sorted({t for q in questions for t in q.gold_titles if title_key(t) not in keys})
    for title in missing:
        log.warning("gold title not in the index: %s", title)
    return missing


def _retrieve(assistant: Assistant, q: Question, mode: str, settings: Settings) -> EvalRecord:
    query = standalone_query(q.question, [Message(role="user", content=t) for t in q.earlier_turns])
    started = time.perf_counter()
    hits = assistant.retriever.search(query, k=TOP_K, mode=mode)  # type: ignore[arg-type]
    latency = (time.perf_counter() - started) * 1000
    # What ask() would see: the top retrieval.k papers (a prefix of the top 10).
    decision = assistant.decide_on(query, hits[: settings.retrieval.k], settings)
    cfg = settings.answer
    ranked, gold = [title_key(h.title) for h in hits], q.gold
    return EvalRecord(
        qid=q.qid,
        type=q.type,
        mode=mode,
        question=q.question,
        standalone_query=query,
        gold_titles=list(q.gold_titles),
        near_miss=q.near_miss,
        retrieved_titles=[h.title for h in hits],
        retrieved_ids=[h.paper_id for h in hits],
        scores=[h.score for h in hits],
        latency_ms=round(latency, 2),
        relevance=round(decision.best_relevance, 6),
        coverage=round(decision.coverage, 6),
        coverage_abstain=decision.coverage < cfg.min_coverage
        and decision.best_relevance < cfg.coverage_waived_above,
        would_abstain=decision.abstain,
        first_gold_rank=next((i for i, k in enumerate(ranked, 1) if k in gold), None),
        metrics={
            name: (round(fn(ranked, gold), 6) if gold else None)
            for name, fn in em.PER_QUESTION.items()
        },
    )


def _answer(
    base: EvalRecord, assistant: Assistant, q: Question, backend: str, settings: Settings
) -> EvalRecord:
    opts = {"backend": backend, "mode": base.mode, "k": settings.retrieval.k}
    history: list[Any] = []
    try:
        for turn in q.earlier_turns:  # play the conversation; only the last turn is scored
            history.append(assistant.ask(turn, history, **opts))
        ans = assistant.ask(q.question, history, **opts)
    except AssistantError as exc:
        log.warning("%s [%s/%s]: %s", q.qid, base.mode, backend, exc.user_message())
        return base.model_copy(update={"backend": backend, "answer_error": exc.user_message()})
    cited = list(dict.fromkeys(c.title for c in ans.citations))
    return base.model_copy(
        update={
            "backend": backend,
            "answer": ans.text,
            "answered_by": ans.backend,
            "abstained": ans.abstained,
            "fallback_reason": ans.fallback_reason,
            "complete": ans.complete,
            "cited_titles": cited,
            "citations": [
                CitationRecord(
                    number=c.number,
                    title=c.title,
                    support=round(c.support, 4),
                    supported=c.supported,
                )
                for c in ans.citations
            ],
            "citation_precision": None
            if q.unanswerable
            else em.citation_precision({title_key(t) for t in cited}, q.gold),
            "gold_cited": None if q.unanswerable else bool({title_key(t) for t in cited} & q.gold),
            "model_sentences_written": ans.backend_sentences,
            "model_sentences_kept": sum(s.origin == "model" for s in ans.sentences),
            "keyword_hit": em.keyword_hit_rate(ans.text, q.answer_keywords),
            "ttft_ms": ans.timings.first_token_ms,
            "total_ms": ans.timings.total_ms,
            "answer_retrieval_ms": ans.timings.retrieval_ms,
        }
    )


def _settings_summary(settings: Settings) -> dict[str, Any]:
    return {
        "embedder": settings.index.embedder,
        "embedding_model": settings.index.embedding_model,
        "collection": settings.index.collection,
        "retrieval": settings.retrieval.model_dump(),
        "abstain_threshold": settings.answer.abstain_threshold,
        "support_threshold": settings.answer.support_threshold,
        "llm": settings.llm.model_dump(mode="json", exclude={"api_key"}),
    }


def build_report(
    records: list[EvalRecord],
    questions: list[Question],
    modes: list[str],
    backends: list[str],
    settings: Settings,
    stats: dict[str, int] | None = None,
) -> Report:
    report = Report(
        questions=len(questions),
        questions_by_type={t: sum(q.type == t for q in questions) for t in TYPES},
        modes=modes,
        backends=backends,
        top_k=TOP_K,
        index=stats or {},
        settings=_settings_summary(settings),
    )
    threshold = {"threshold": settings.answer.abstain_threshold}
    for mode in modes:
        recs = em.one_per_question(records, mode)
        report.retrieval[mode] = Grouped(**em.grouped(recs, em.retrieval_metrics, TYPES))
        unanswerable = [r.type == "unanswerable" for r in recs]
        report.abstention[mode] = {
            **threshold,
            **em.abstention_scores([r.would_abstain for r in recs], unanswerable),
        }
        # Near misses apart from off-topic questions: answerable ones vs near misses only.
        near = [r for r in recs if r.near_miss or r.type != "unanswerable"]
        report.abstention_near_miss[mode] = {
            **threshold,
            **em.abstention_scores(
                [r.would_abstain for r in near], [r.type == "unanswerable" for r in near]
            ),
        }
    for backend in backends:
        report.answers[backend] = {
            mode: Grouped(
                **em.grouped(
                    [r for r in records if r.mode == mode and r.backend == backend],
                    em.answer_metrics,
                    TYPES,
                )
            )
            for mode in modes
        }
    return report
