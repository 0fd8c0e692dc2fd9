"""The evaluation report as Markdown (tables of retrieval, abstention and answer metrics)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from assistant.evaluation.records import Report


def _f(value: float | None, digits: int = 3) -> str:
    """A metric for a table; "n/a" when it has no cases (never a misleading 0.000).

    >>> _f(None), _f(0.5), _f(12.345, 1)
    ('n/a', '0.500', '12.3')
    """
    return "n/a" if value is None else f"{value:.{digits}f}"


def _table(header: list[str], rows: Iterable[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(row) + " |" for row in rows]


def _retrieval_row(m: dict) -> list[str]:
    return [_f(m[k]) for k in ("recall@1", "recall@5", "recall@10", "mrr", "ndcg@10")] + [
        _f(m["latency_p50_ms"], 1),
        _f(m["latency_p95_ms"], 1),
    ]


COLS = ["R@1", "R@5", "R@10", "MRR", "nDCG@10", "p50 ms", "p95 ms"]


def render_markdown(report: Report) -> str:
    data = report.model_dump()
    out = _header(data) + _retrieval(data) + _abstention(data) + _answers(data)
    return "\n".join(out) + "\n"


def _header(report: dict[str, Any]) -> list[str]:
    s = report["settings"]
    by_type = ", ".join(f"{t} {n}" for t, n in report["questions_by_type"].items() if n)
    out = [
        "# Evaluation report",
        "",
        f"{report['questions']} questions ({by_type}) from `{report['question_file']}`; "
        f"index {report['index'].get('papers')} papers / {report['index'].get('chunks')} "
        f"chunks, embedder {s['embedder'] if s['embedder'] == 'hash' else s['embedding_model']}.",
        "",
    ]
    if report["gold_missing_from_index"]:
        out += [
            f"**Warning:** {len(report['gold_missing_from_index'])} gold title(s) are not "
            "in the index (see report.json).",
            "",
        ]
    return out


def _retrieval(report: dict[str, Any]) -> list[str]:
    cols = COLS
    first = next(iter(report["retrieval"].values()))["overall"]
    out = [
        f"## Retrieval (paper level, top {report['top_k']}, {first['n']} questions "
        "with gold papers)",
        "",
    ]
    out += _table(
        ["mode", *cols],
        ([m, *_retrieval_row(r["overall"])] for m, r in report["retrieval"].items()),
    )
    for mode, r in report["retrieval"].items():
        out += ["", f"### By type: {mode}", ""]
        out += _table(
            ["type", "n", *cols],
            ([t, str(m["n"]), *_retrieval_row(m)] for t, m in r["by_type"].items()),
        )
    return out


def _abstention(report: dict[str, Any]) -> list[str]:
    out = ["", "## Abstention (positive class = unanswerable)", ""]
    for label, section in (("all", "abstention"), ("near misses", "abstention_near_miss")):
        for mode, a in report[section].items():
            out.append(
                f"- {mode} ({label}), threshold {a['threshold']:.2f}: precision "
                f"{_f(a['precision'])}, recall {_f(a['recall'])}, F1 {_f(a['f1'])}, "
                f"false abstention {_f(a['false_abstention_rate'])} "
                f"({a['unanswerable']} unanswerable, {a['answerable']} answerable)"
            )
    cal = report["calibration"]
    for label, b in (
        ("with word coverage as configured", cal["best"]),
        ("relevance alone", cal.get("relevance_only_best")),
    ):
        if b:
            out.append(
                f"- calibration ({cal['mode']}, {label}): best threshold {b['threshold']:.2f}"
                f" with F1 {_f(b['f1'])}, precision {_f(b['precision'])}, recall "
                f"{_f(b['recall'])}, false abstention {_f(b['false_abstention_rate'])}"
            )
    return out


def _answers(report: dict[str, Any]) -> list[str]:
    out: list[str] = []
    if report["answers"]:
        keys = [
            "citation_precision",
            "gold_cited_rate",
            "model_sentences_kept",
            "citation_support_rate",
            "abstention_accuracy",
            "false_abstention_rate",
            "keyword_hit_rate",
            "fallback_rate",
        ]
        times = ["ttft_p50_ms", "ttft_p95_ms", "total_p50_ms", "total_p95_ms"]
        out += ["", "## Answers", ""]
        out += _table(
            [
                "backend",
                "mode",
                "n",
                "cite prec",
                "gold cited",
                "model kept",
                "verified",
                "abstain (unans)",
                "false abstain",
                "keywords",
                "fallback",
                "TTFT p50",
                "TTFT p95",
                "total p50",
                "total p95",
                "errors",
            ],
            (
                [
                    b,
                    mode,
                    str(m["overall"]["n"]),
                    *(_f(m["overall"][k]) for k in keys),
                    *(_f(m["overall"][k], 0) for k in times),
                    str(m["overall"]["errors"]),
                ]
                for b, per_mode in report["answers"].items()
                for mode, m in per_mode.items()
            ),
        )
        out += [
            "",
            "verified = shown citations that passed the verifier (1.000 by construction: "
            "what bounds their errors is the verifier's false-pass rate on eval/claims.jsonl). "
            "model kept = model-written sentences shown as written. "
            "Times in ms; TTFT = first verified text shown (not abstentions). One "
            "Assistant serves the run, so abstract sentences are already embedded from the "
            "retrieval pass: steady-state times (bench/bench.py measures cold ones).",
        ]
    return out
