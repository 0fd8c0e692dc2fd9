"""Pure functions for ``assistant.evaluation.runner``: metrics and aggregation.

Nothing here does I/O or loads a model.

Rankings and gold sets are lists/sets of normalised title keys. Every function returns a
plain float (or ``None`` when the quantity is undefined, e.g. a mean over nothing).

>>> recall_at_k(["a", "b", "c"], {"b", "z"}, 2)
0.5
>>> reciprocal_rank(["a", "b", "c"], {"c"})
0.3333333333333333
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

from assistant.evaluation.records import EvalRecord


def _dedupe(ranked: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(ranked))


def recall_at_k(ranked: Sequence[str], gold: set[str], k: int) -> float:
    """Fraction of the gold items found in the top ``k`` of ``ranked``."""
    if not gold:
        raise ValueError("recall is undefined without gold items")
    return len(gold & set(_dedupe(ranked)[:k])) / len(gold)


def reciprocal_rank(ranked: Sequence[str], gold: set[str]) -> float:
    """1 / rank of the first gold item (0 when none is retrieved)."""
    for rank, key in enumerate(_dedupe(ranked), start=1):
        if key in gold:
            return 1.0 / rank
    return 0.0


def ndcg_at_k(ranked: Sequence[str], gold: set[str], k: int) -> float:
    """nDCG@k with binary relevance: DCG / ideal DCG (all gold items ranked first)."""
    if not gold:
        raise ValueError("nDCG is undefined without gold items")
    dcg = sum(1.0 / math.log2(i + 2) for i, key in enumerate(_dedupe(ranked)[:k]) if key in gold)
    ideal = sum(1.0 / math.log2(i + 2) for i in range(min(len(gold), k)))
    return dcg / ideal


def mean(values: Iterable[float | None]) -> float | None:
    vals = [v for v in values if v is not None]
    return sum(vals) / len(vals) if vals else None


def percentile(values: Iterable[float | None], q: float) -> float | None:
    """Linear-interpolated percentile (numpy's default); ``None`` when empty."""
    vals = sorted(v for v in values if v is not None)
    if not vals:
        return None
    pos = (len(vals) - 1) * q / 100.0
    lo, hi = math.floor(pos), math.ceil(pos)
    return vals[lo] + (vals[hi] - vals[lo]) * (pos - lo)


def abstention_scores(abstained: Sequence[bool], unanswerable: Sequence[bool]) -> dict:
    """Abstention as a classifier; positive class = the question is unanswerable.

    precision: share of abstentions that were on unanswerable questions;
    recall: share of unanswerable questions abstained on;
    false_abstention_rate: share of answerable questions abstained on.
    """
    if len(abstained) != len(unanswerable):
        raise ValueError("abstained and unanswerable differ in length")
    pairs = list(zip(abstained, unanswerable, strict=True))
    tp = sum(a and u for a, u in pairs)
    fp = sum(a and not u for a, u in pairs)
    fn = sum(u and not a for a, u in pairs)
    answerable = sum(not u for _, u in pairs)
    precision = tp / (tp + fp) if tp + fp else None
    recall = tp / (tp + fn) if tp + fn else None
    f1 = None  # undefined without unanswerable questions ("n/a", not a misleading 0)
    if recall is not None:
        f1 = 2 * precision * recall / (precision + recall) if precision and recall else 0.0
    return {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "false_abstention_rate": fp / answerable if answerable else None,
        "abstained": tp + fp,
        "unanswerable": tp + fn,
        "answerable": answerable,
    }


def calibrate(
    relevance: Sequence[float],
    unanswerable: Sequence[bool],
    thresholds: Sequence[float],
    forced: Sequence[bool] | None = None,
) -> tuple[list[dict], dict | None]:
    """Abstention scores at each threshold: abstain when relevance < threshold, or where
    ``forced`` (another abstention signal, independent of the threshold) is true.

    Returns the rows and the best row by F1 (ties: the lower false-abstention rate, then
    the lower threshold). ``None`` as best when there are no unanswerable questions.
    """
    forced = forced if forced is not None else [False] * len(relevance)
    rows = []
    for t in thresholds:
        row = abstention_scores(
            [r < t or f for r, f in zip(relevance, forced, strict=True)], unanswerable
        )
        rows.append({"threshold": round(t, 4), **row})
    if not any(unanswerable):
        return rows, None
    best = min(
        rows, key=lambda r: (-(r["f1"] or 0.0), r["false_abstention_rate"] or 0.0, r["threshold"])
    )
    return rows, best


def thresholds(start: float = 0.20, stop: float = 0.70, step: float = 0.01) -> list[float]:
    """Inclusive grid without float drift: 0.2, 0.21, ..., 0.7."""
    n = round((stop - start) / step)
    return [round(start + i * step, 4) for i in range(n + 1)]


def citation_precision(cited: Iterable[str], gold: set[str]) -> float | None:
    """Share of the distinct cited papers that are gold; ``None`` when nothing is cited."""
    distinct = set(cited)
    return len(distinct & gold) / len(distinct) if distinct else None


def keyword_hit_rate(text: str, keywords: Sequence[str]) -> float | None:
    """Share of ``keywords`` found case-insensitively in ``text``; ``None`` without any."""
    if not keywords:
        return None
    folded = text.casefold()
    return sum(kw.casefold() in folded for kw in keywords) / len(keywords)


# -- aggregation over evaluation records (dicts written to results.jsonl) ---------------

PER_QUESTION = {
    "recall@1": lambda r, g: recall_at_k(r, g, 1),
    "recall@5": lambda r, g: recall_at_k(r, g, 5),
    "recall@10": lambda r, g: recall_at_k(r, g, 10),
    "mrr": reciprocal_rank,
    "ndcg@10": lambda r, g: ndcg_at_k(r, g, 10),
}


def retrieval_metrics(recs: list[EvalRecord]) -> dict[str, Any]:
    out: dict[str, Any] = {"n": sum(r.metrics.get("recall@1") is not None for r in recs)}
    for name in PER_QUESTION:
        out[name] = mean(r.metrics.get(name) for r in recs)
    latencies = [r.latency_ms for r in recs]
    out["latency_p50_ms"], out["latency_p95_ms"] = (
        percentile(latencies, 50),
        percentile(latencies, 95),
    )
    return out


def answer_metrics(recs: list[EvalRecord]) -> dict[str, Any]:
    ok = [r for r in recs if r.answer_error is None]
    cites = [c for r in ok for c in r.citations]
    unans = [r.abstained for r in ok if r.type == "unanswerable"]
    ans = [r.abstained for r in ok if r.type != "unanswerable"]
    return {
        "n": len(recs),
        "errors": len(recs) - len(ok),
        "citation_precision": mean(r.citation_precision for r in ok),
        "gold_cited_rate": mean(float(r.gold_cited) for r in ok if r.gold_cited is not None),
        "model_sentences_kept": _share(
            sum(r.model_sentences_kept for r in ok), sum(r.model_sentences_written for r in ok)
        ),
        "citation_support_rate": (sum(c.supported for c in cites) / len(cites) if cites else None),
        "abstention_accuracy": mean(float(a) for a in unans),
        "false_abstention_rate": mean(float(a) for a in ans),
        "keyword_hit_rate": mean(r.keyword_hit for r in ok),
        "fallback_rate": mean(float(r.fallback_reason is not None) for r in ok),
        "ttft_p50_ms": percentile((r.ttft_ms for r in ok), 50),
        "ttft_p95_ms": percentile((r.ttft_ms for r in ok), 95),
        "total_p50_ms": percentile((r.total_ms for r in ok), 50),
        "total_p95_ms": percentile((r.total_ms for r in ok), 95),
    }


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def grouped(recs: list[EvalRecord], fn: Any, types: Sequence[str]) -> dict[str, Any]:
    types = [t for t in types if any(r.type == t for r in recs)]
    return {
        "overall": fn(recs),
        "by_type": {t: fn([r for r in recs if r.type == t]) for t in types},
    }


def one_per_question(records: list[EvalRecord], mode: str) -> list[EvalRecord]:
    seen: dict[str, EvalRecord] = {}
    for rec in records:
        if rec.mode == mode:
            seen.setdefault(rec.qid, rec)
    return list(seen.values())


def calibrate_records(
    records: list[EvalRecord], mode: str, with_coverage: bool = True
) -> tuple[list[dict], dict | None]:
    """Sweep the relevance threshold; the coverage signal stays as configured unless
    ``with_coverage`` is False (relevance alone)."""
    recs = one_per_question(records, mode)
    return calibrate(
        [r.relevance for r in recs],
        [r.type == "unanswerable" for r in recs],
        thresholds(),
        [with_coverage and r.coverage_abstain for r in recs],
    )
