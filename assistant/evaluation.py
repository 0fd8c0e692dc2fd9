"""Offline evaluation: retrieval quality, abstention calibration and answer quality.

``run_eval`` reads a JSONL question file, retrieves the top 10 papers for every question in
every requested mode, optionally answers each question with every requested backend, and
writes ``report.json``, ``report.md``, ``results.jsonl`` and ``calibration.json``.
Titles are compared with ``ingest.clean.title_key`` so LaTeX escapes and case don't matter.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant import eval_metrics as em
from assistant.chat import Assistant
from assistant.config import Settings
from assistant.errors import AssistantError, UserInputError
from assistant.rewrite import standalone_query
from assistant.store import iter_records
from ingest.clean import title_key

log = logging.getLogger(__name__)

TYPES = ("known_item", "factual", "topic", "unanswerable", "multi_turn", "messy")
MODES = ("dense", "bm25", "hybrid")
TOP_K = 10
_FIELDS = {"qid": str, "type": str, "question": str, "gold_titles": list, "answer_keywords": list}


@dataclass(frozen=True)
class Question:
    qid: str
    type: str
    question: str
    gold_titles: tuple[str, ...]
    answer_keywords: tuple[str, ...]
    turns: tuple[str, ...] | None
    line: int

    @property
    def gold(self) -> set[str]:
        return {title_key(t) for t in self.gold_titles}

    @property
    def unanswerable(self) -> bool:
        return self.type == "unanswerable"

    @property
    def earlier_turns(self) -> list[str]:
        return list(self.turns[:-1]) if self.turns else []


def load_questions(path: Path | str) -> list[Question]:
    """Read and validate a question file; errors name the file and line."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise UserInputError(f"cannot read question file {path}: {exc}") from exc
    questions: list[Question] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        q = _parse(line, f"{path}:{number}", number)
        if q.qid in seen:
            raise UserInputError(
                f"{path}:{number}: duplicate qid '{q.qid}' (first on line {seen[q.qid]})"
            )
        seen[q.qid] = number
        questions.append(q)
    if not questions:
        raise UserInputError(f"{path}: no questions")
    return questions


def _parse(line: str, where: str, number: int) -> Question:
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        raise UserInputError(f"{where}: not valid JSON ({exc.msg})") from None
    if not isinstance(obj, dict):
        raise UserInputError(f"{where}: expected a JSON object")
    for key, kind in _FIELDS.items():
        if not isinstance(obj.get(key), kind):
            raise UserInputError(f"{where}: '{key}' must be a {kind.__name__}")
    for key in ("gold_titles", "answer_keywords"):
        if not all(isinstance(v, str) and v.strip() for v in obj[key]):
            raise UserInputError(f"{where}: '{key}' must hold non-empty strings")
    qtype, question, turns = obj["type"], obj["question"].strip(), obj.get("turns")
    if qtype not in TYPES:
        raise UserInputError(f"{where}: unknown type '{qtype}' (known: {', '.join(TYPES)})")
    if not obj["qid"].strip() or not question:
        raise UserInputError(f"{where}: 'qid' and 'question' must not be empty")
    if (qtype == "unanswerable") != (not obj["gold_titles"]):
        raise UserInputError(f"{where}: unanswerable questions, and only they, have no gold_titles")
    if turns is not None and (
        not isinstance(turns, list) or not all(isinstance(t, str) and t.strip() for t in turns)
    ):
        raise UserInputError(f"{where}: 'turns' must be null or a list of strings")
    if qtype == "multi_turn":
        if not turns or len(turns) < 2:
            raise UserInputError(f"{where}: multi_turn needs at least 2 turns")
        if turns[-1].strip() != question:
            raise UserInputError(
                f"{where}: the last turn of a multi_turn question must equal 'question'"
            )
    elif turns:
        raise UserInputError(f"{where}: only multi_turn questions have turns")
    return Question(
        obj["qid"],
        qtype,
        question,
        tuple(obj["gold_titles"]),
        tuple(obj["answer_keywords"]),
        tuple(turns) if turns else None,
        number,
    )


def run_eval(
    settings: Settings,
    questions_path: Path,
    output_dir: Path,
    modes: list[str] | None = None,
    backends: list[str] | None = None,
    limit: int | None = None,
    *,
    progress: bool | None = None,
) -> dict[str, Any]:
    """Evaluate and write the reports to ``output_dir``; returns the report dict."""
    questions = load_questions(questions_path)
    if limit is not None:
        if limit < 1:
            raise UserInputError("--limit must be at least 1")
        questions = questions[:limit]
    modes = list(dict.fromkeys(modes or [settings.retrieval.mode]))
    bad = [m for m in modes if m not in MODES]
    if bad:
        raise UserInputError(f"unknown retrieval mode(s) {bad}; known: {', '.join(MODES)}")
    backends = list(dict.fromkeys(backends or []))
    show = sys.stderr.isatty() if progress is None else progress
    assistant = Assistant(settings)  # one per run: the index and models load once
    retriever = assistant.retriever
    retriever.keyword_index()  # warm up so the first timed query doesn't pay for loading
    assistant.scorer.relevance("warm up", ["warm up"])
    unknown_gold = _gold_missing_from_index(retriever.collection, questions)

    records: list[dict[str, Any]] = []
    for mode in modes:
        for i, q in enumerate(questions, start=1):
            if show and (i == 1 or i % 10 == 0 or i == len(questions)):
                print(f"eval [{mode}] {i}/{len(questions)}", file=sys.stderr)
            base = _retrieve(assistant, q, mode, settings)
            if not backends:
                records.append(base)
            for backend in backends:
                records.append({**base, **_answer(assistant, q, mode, backend, settings)})

    report = build_report(records, questions, modes, backends, settings, retriever.stats())
    report["question_file"], report["gold_missing_from_index"] = str(questions_path), unknown_gold
    primary = _primary(modes, settings)
    rows, best = em.calibrate_records(records, primary)
    relevance_only = em.calibrate_records(records, primary, with_coverage=False)[1]
    report["calibration"] = {"mode": primary, "best": best, "relevance_only_best": relevance_only}
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    with (output_dir / "results.jsonl").open("w", encoding="utf-8") as fh:
        for rec in records:
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
    (output_dir / "calibration.json").write_text(
        json.dumps(
            {
                "mode": primary,
                "current_threshold": settings.answer.abstain_threshold,
                "note": "abstain when relevance < threshold or the word-coverage rule "
                "(answer.min_coverage / coverage_waived_above, as configured) fires",
                "best": best,
                "relevance_only_best": relevance_only,
                "thresholds": rows,
            },
            indent=2,
        )
    )
    (output_dir / "report.json").write_text(json.dumps(report, indent=2, ensure_ascii=False))
    (output_dir / "report.md").write_text(em.render_markdown(report), encoding="utf-8")
    return report


def _primary(modes: list[str], settings: Settings) -> str:
    """The mode whose relevance calibrates abstention: hybrid, else the configured one."""
    for mode in ("hybrid", settings.retrieval.mode):
        if mode in modes:
            return mode
    return modes[0]


def _gold_missing_from_index(collection: Any, questions: list[Question]) -> list[str]:
    """Gold titles that match no paper in the index (a bad question file or index)."""
    keys = {
        title_key(meta.get(field) or "")
        for _, meta, _ in iter_records(collection, ["metadatas"])
        for field in ("title", "title_raw")
    }
    missing = sorted({t for q in questions for t in q.gold_titles if title_key(t) not in keys})
    for title in missing:
        log.warning("gold title not in the index: %s", title)
    return missing


def _retrieve(assistant: Assistant, q: Question, mode: str, settings: Settings) -> dict:
    query = standalone_query(q.question, [{"role": "user", "content": t} for t in q.earlier_turns])
    started = time.perf_counter()
    hits = assistant.retriever.search(query, k=TOP_K, mode=mode)  # type: ignore[arg-type]
    latency = (time.perf_counter() - started) * 1000
    # What ask() would see: the top retrieval.k papers (a prefix of the top 10).
    top, cfg = hits[: settings.retrieval.k], settings.answer
    evidence, relevance = assistant.select_evidence(query, top, settings)
    # The word-coverage signal abstains whatever the relevance floor (unless waived).
    coverage = assistant.coverage(query, top)
    ranked, gold = [title_key(h.title) for h in hits], q.gold
    rec: dict[str, Any] = {
        "qid": q.qid,
        "type": q.type,
        "mode": mode,
        "backend": None,
        "question": q.question,
        "standalone_query": query,
        "gold_titles": list(q.gold_titles),
        "retrieved_titles": [h.title for h in hits],
        "retrieved_ids": [h.paper_id for h in hits],
        "scores": [h.score for h in hits],
        "latency_ms": round(latency, 2),
        "relevance": round(relevance, 6),
        "coverage": round(coverage, 6),
        "coverage_abstain": coverage < cfg.min_coverage and relevance < cfg.coverage_waived_above,
        "would_abstain": not evidence,
        "first_gold_rank": next((i for i, k in enumerate(ranked, 1) if k in gold), None),
    }
    for name, fn in em.PER_QUESTION.items():
        rec[name] = round(fn(ranked, gold), 6) if gold else None
    return rec


def _answer(assistant: Assistant, q: Question, mode: str, backend: str, settings: Settings) -> dict:
    opts = {"backend": backend, "mode": mode, "k": settings.retrieval.k}
    history: list[dict[str, str]] = []
    rec: dict[str, Any] = {"backend": backend, "answer_error": None}
    try:
        for turn in q.earlier_turns:  # play the conversation; only the last turn is scored
            earlier = assistant.ask(turn, history, **opts)
            history += [
                {"role": "user", "content": turn},
                {"role": "assistant", "content": earlier.text},
            ]
        ans = assistant.ask(q.question, history, **opts)
    except AssistantError as exc:
        log.warning("%s [%s/%s]: %s", q.qid, mode, backend, exc.user_message())
        return {
            **rec,
            "answer_error": exc.user_message(),
            "answer": None,
            "abstained": None,
            "cited_titles": [],
            "citations": [],
            "ttft_ms": None,
            "total_ms": None,
        }
    cited = list(dict.fromkeys(c.title for c in ans.citations))
    return {
        **rec,
        "answer": ans.text,
        "answered_by": ans.backend,
        "abstained": ans.abstained,
        "fallback_reason": ans.fallback_reason,
        "complete": ans.complete,
        "cited_titles": cited,
        "citations": [
            {
                "number": c.number,
                "title": c.title,
                "support": round(c.support, 4),
                "supported": c.supported,
            }
            for c in ans.citations
        ],
        "citation_precision": None
        if q.unanswerable
        else em.citation_precision({title_key(t) for t in cited}, q.gold),
        "keyword_hit": em.keyword_hit_rate(ans.text, q.answer_keywords),
        "ttft_ms": ans.timings.first_token_ms,
        "total_ms": ans.timings.total_ms,
        "answer_retrieval_ms": ans.timings.retrieval_ms,
    }


def build_report(
    records: list[dict],
    questions: list[Question],
    modes: list[str],
    backends: list[str],
    settings: Settings,
    stats: dict,
) -> dict[str, Any]:
    report: dict[str, Any] = {
        "questions": len(questions),
        "questions_by_type": {t: sum(q.type == t for q in questions) for t in TYPES},
        "modes": modes,
        "backends": backends,
        "top_k": TOP_K,
        "index": stats,
        "settings": {
            "embedder": settings.index.embedder,
            "embedding_model": settings.index.embedding_model,
            "collection": settings.index.collection,
            "retrieval": settings.retrieval.model_dump(),
            "abstain_threshold": settings.answer.abstain_threshold,
            "support_threshold": settings.answer.support_threshold,
            "llm": settings.llm.model_dump(mode="json", exclude={"api_key"}),
        },
        "retrieval": {},
        "abstention": {},
        "answers": {},
    }
    for mode in modes:
        recs = em.one_per_question(records, mode)
        report["retrieval"][mode] = em.grouped(recs, em.retrieval_metrics, TYPES)
        report["abstention"][mode] = {
            "threshold": settings.answer.abstain_threshold,
            **em.abstention_scores(
                [r["would_abstain"] for r in recs], [r["type"] == "unanswerable" for r in recs]
            ),
        }
    for backend in backends:
        report["answers"][backend] = {
            mode: em.grouped(
                [r for r in records if r["mode"] == mode and r["backend"] == backend],
                em.answer_metrics,
                TYPES,
            )
            for mode in modes
        }
    return report
