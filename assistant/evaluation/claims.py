"""Checking claims against the papers they cite, and measuring the claim verifiers.

``verify_file`` reads JSONL claims (``{"id", "claim", "title"}`` or ``{"id", "claim",
"paper_id"}``), looks each paper up in the index, and writes one JSONL verdict per line:
``{"id", "supported", "score", "evidence", "reason", "check"}``, or ``{"id", "error"}``
for a line that could not be checked (malformed, or a paper not in the index).

``evaluate_claims`` runs verifiers over a labelled file (``eval/claims.jsonl``: also
``supported`` and ``category``) and reports, per category and overall, the true-pass
rate (supported claims judged supported) and the false-pass rate (unsupported claims
judged supported), separately for each id prefix (``a…`` = tuning, ``b…`` = held out).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.answering.scorer import SentenceScorer
from assistant.answering.verifiers import Verifier, VerifierContext, create_verifier
from assistant.backends import Backend, create_backend
from assistant.core.errors import UserInputError
from assistant.core.settings import Settings
from assistant.core.types import NumberedSource, Verdict
from assistant.index.store import iter_records
from assistant.ingest.clean import title_key
from assistant.retrieval.retriever import Retriever


@dataclass
class ClaimLine:
    """One input line: a claim and the paper it cites, or why it cannot be checked."""

    line: int
    id: str  # "line-<n>" when the line has none
    claim: str = ""
    title: str | None = None
    paper_id: str | None = None
    supported: bool | None = None  # the label, in a labelled file
    category: str = ""
    error: str | None = None


def read_claims(path: Path) -> list[ClaimLine]:
    """Parse a JSONL claim file; a bad line becomes a ``ClaimLine`` with ``error``.

    Raises ``UserInputError`` when the file itself cannot be read.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UserInputError(f"cannot read the claims file {path}: {exc}") from exc
    return [_parse(n, raw) for n, raw in enumerate(text.splitlines(), 1) if raw.strip()]


def _parse(n: int, raw: str) -> ClaimLine:
    try:
        row = json.loads(raw)
    except ValueError as exc:
        return ClaimLine(n, f"line-{n}", error=f"line {n}: not valid JSON ({exc.msg})")
    if not isinstance(row, dict):
        return ClaimLine(n, f"line-{n}", error=f"line {n}: expected a JSON object")
    cid = row.get("id")
    cid = str(cid) if cid is not None else f"line-{n}"
    claim, title, paper_id = row.get("claim"), row.get("title"), row.get("paper_id")
    if not isinstance(claim, str) or not claim.strip():
        return ClaimLine(n, cid, error=f"line {n}: 'claim' must be a non-empty string")
    if not any(isinstance(v, str) and v.strip() for v in (title, paper_id)):
        return ClaimLine(n, cid, claim, error=f"line {n}: needs a 'title' or a 'paper_id'")
    label = row.get("supported")
    return ClaimLine(
        n, cid, claim.strip(),
        title=title if isinstance(title, str) else None,
        paper_id=paper_id if isinstance(paper_id, str) else None,
        supported=label if isinstance(label, bool) else None,
        category=str(row.get("category") or ""),
    )  # fmt: skip


class PaperIndex:
    """The indexed papers by id and by title key (``ingest.clean.title_key``)."""

    def __init__(self, collection: Any) -> None:
        self.by_id: dict[str, dict[str, Any]] = {}
        self.by_title: dict[str, dict[str, Any]] = {}
        for _, meta, _ in iter_records(collection, ["metadatas"]):
            pid = meta.get("paper_id")
            # The abstract is on the paper's first chunk (position 0), which need not be
            # the first stored: ingest writes chunks shortest first.
            if pid and (pid not in self.by_id or meta.get("position") == 0):
                self.by_id[pid] = meta
        for meta in self.by_id.values():
            self.by_title.setdefault(title_key(meta.get("title", "")), meta)

    def find(self, item: ClaimLine) -> NumberedSource | str:
        """The cited paper as a source, or why it was not found."""
        meta = self.by_id.get(item.paper_id or "") or self.by_title.get(title_key(item.title or ""))
        if meta is None:
            named = f"paper_id '{item.paper_id}'" if item.paper_id else f"title '{item.title}'"
            return f"line {item.line}: no paper with {named} in the index"
        return NumberedSource(
            number=1, paper_id=meta["paper_id"], title=meta.get("title", ""),
            abstract=meta.get("abstract", ""), score=1.0, passages=[],
        )  # fmt: skip


@dataclass
class Checker:
    """The index and one or more verifiers, loaded once."""

    settings: Settings
    retriever: Retriever
    papers: PaperIndex
    context: VerifierContext
    verifiers: dict[str, Verifier] = field(default_factory=dict)

    @classmethod
    def load(cls, settings: Settings, backend: Backend | None = None) -> Checker:
        retriever = Retriever(settings)
        cfg = settings.answer
        scorer = SentenceScorer(
            retriever.embedder,
            relevance_weight=cfg.relevance_semantic_weight,
            support_weight=cfg.support_semantic_weight,
        )
        context = VerifierContext(
            scorer=scorer, idf=retriever.keyword_index().idf, settings=settings, backend=backend
        )
        return cls(settings, retriever, PaperIndex(retriever.collection), context)

    def verifier(self, spec: str) -> Verifier:
        if spec not in self.verifiers:
            context = self.context
            if spec.split(":")[0].strip().lower() == "llm" and context.backend is None:
                backend = create_backend(self.settings.llm.backend, self.settings.llm)
                context = VerifierContext(context.scorer, context.idf, self.settings, backend)
            self.verifiers[spec] = create_verifier(spec, context)
        return self.verifiers[spec]

    def check(self, items: list[ClaimLine], spec: str) -> list[Verdict | str]:
        """A verdict per line, or the line's error; verifiers see all good lines at once."""
        found = [it.error or self.papers.find(it) for it in items]
        todo = [(i, it.claim, p) for i, (it, p) in enumerate(zip(items, found, strict=True))
                if isinstance(p, NumberedSource)]  # fmt: skip
        verdicts = self.verifier(spec).verify_many([(c, p) for _, c, p in todo]) if todo else []
        out: list[Verdict | str] = [p if isinstance(p, str) else "" for p in found]
        for (i, _, _), verdict in zip(todo, verdicts, strict=True):
            out[i] = verdict
        return out


def output_row(item: ClaimLine, result: Verdict | str) -> dict[str, Any]:
    if isinstance(result, str):
        return {"id": item.id, "supported": None, "score": None, "evidence": "", "reason": "",
                "error": result}  # fmt: skip
    return {
        "id": item.id, "supported": result.supported, "score": result.score,
        "evidence": result.evidence, "reason": result.reason, "check": result.check,
    }  # fmt: skip


def verify_file(settings: Settings, source: Path, output: Path, spec: str) -> dict[str, int]:
    """Verify every claim of ``source`` into ``output``; returns counts by outcome."""
    items = read_claims(source)
    checker = Checker.load(settings)
    rows = [output_row(it, r) for it, r in zip(items, checker.check(items, spec), strict=True)]
    _write_jsonl(output, rows)
    return {
        "claims": len(rows),
        "supported": sum(r["supported"] is True for r in rows),
        "unsupported": sum(r["supported"] is False for r in rows),
        "errors": sum("error" in r for r in rows),
    }


def _write_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")


# -- measuring verifiers ---------------------------------------------------------------------
@dataclass
class Rate:
    passed: int = 0
    total: int = 0

    @property
    def value(self) -> float | None:
        return self.passed / self.total if self.total else None

    def text(self) -> str:
        return "–" if not self.total else f"{self.value:.2f} ({self.passed}/{self.total})"


def split_of(claim_id: str) -> str:
    """The id's letter prefix: ``a017`` -> ``a`` (the tuning/held-out split)."""
    match = re.match(r"[A-Za-z]+", claim_id)
    return match.group(0).lower() if match else "-"


@dataclass
class Measurement:
    """Pass rates of one verifier: [category][split] plus the overall ones."""

    verifier: str
    seconds: float
    labels: dict[str, bool] = field(default_factory=dict)  # category -> supported label
    rates: dict[str, dict[str, Rate]] = field(default_factory=dict)
    errors: int = 0

    def add(self, item: ClaimLine, verdict: Verdict) -> None:
        category = item.category or "(none)"
        self.labels.setdefault(category, bool(item.supported))
        kind = "true-pass" if item.supported else "false-pass"
        for row in (category, kind):
            for split in (split_of(item.id), "all"):
                rate = self.rates.setdefault(row, {}).setdefault(split, Rate())
                rate.passed += verdict.supported
                rate.total += 1

    def rate(self, row: str, split: str = "all") -> float | None:
        return self.rates.get(row, {}).get(split, Rate()).value

    def to_dict(self) -> dict[str, Any]:
        return {
            "verifier": self.verifier, "seconds": round(self.seconds, 1), "errors": self.errors,
            "labels": self.labels,
            "rates": {row: {s: {"passed": r.passed, "total": r.total, "rate": r.value}
                            for s, r in splits.items()} for row, splits in self.rates.items()},
        }  # fmt: skip


def measure(checker: Checker, items: list[ClaimLine], spec: str, out: Path) -> Measurement:
    """Run one verifier over labelled claims; its verdicts go to ``out``."""
    start = time.monotonic()
    results = checker.check(items, spec)
    m = Measurement(spec, time.monotonic() - start)
    rows = []
    for item, result in zip(items, results, strict=True):
        row = output_row(item, result) | {"category": item.category, "label": item.supported}
        rows.append(row)
        if isinstance(result, Verdict) and item.supported is not None:
            m.add(item, result)
        else:
            m.errors += 1
    _write_jsonl(out, rows)
    return m


def render_table(measurements: list[Measurement]) -> str:
    """Markdown: per verifier, each category's pass rate per split and overall."""
    lines = ["# Claim verifiers", ""]
    lines += [
        "True-pass: supported claims judged supported (higher is better). False-pass: "
        "unsupported claims judged supported (lower is better). Columns are id prefixes "
        "(in eval/claims.jsonl: a = tuning claims, b = held out) and all claims.",
        "",
    ]
    for m in measurements:
        splits = sorted({s for row in m.rates.values() for s in row} - {"all"}) + ["all"]
        lines += [f"## {m.verifier}", "", f"{m.seconds:.0f} s; {m.errors} lines not checked.", ""]
        lines.append("| category | label | " + " | ".join(splits) + " |")
        lines.append("|---|---|" + "---|" * len(splits))
        order = sorted(m.labels, key=lambda c: (not m.labels[c], c))
        for row in [*order, "true-pass", "false-pass"]:
            label = {"true-pass": "overall", "false-pass": "overall"}.get(row) or (
                "supported" if m.labels[row] else "unsupported"
            )
            cells = [m.rates.get(row, {}).get(s, Rate()).text() for s in splits]
            name = f"**{row}**" if row in ("true-pass", "false-pass") else row
            lines.append(f"| {name} | {label} | " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)


def evaluate_claims(
    settings: Settings, source: Path, out_dir: Path, specs: list[str]
) -> list[Measurement]:
    """Measure each verifier on a labelled claim file; writes ``claims_report.md``,
    ``claims_report.json`` and ``verdicts_<verifier>.jsonl`` into ``out_dir``."""
    items = read_claims(source)
    if not any(it.supported is not None for it in items):
        raise UserInputError(f"{source} has no labelled claims (a boolean 'supported' field)")
    checker = Checker.load(settings)
    out_dir.mkdir(parents=True, exist_ok=True)
    results = [
        measure(checker, items, spec, out_dir / f"verdicts_{_safe(spec)}.jsonl") for spec in specs
    ]
    (out_dir / "claims_report.md").write_text(render_table(results), encoding="utf-8")
    (out_dir / "claims_report.json").write_text(
        json.dumps([m.to_dict() for m in results], indent=2), encoding="utf-8"
    )
    return results


def _safe(spec: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", spec.split(":")[0])


def iter_specs(text: str) -> Iterator[str]:
    """Verifier specs from a comma-separated option (``strict,llm``)."""
    return (s.strip() for s in text.split(",") if s.strip())
