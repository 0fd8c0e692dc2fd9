"""Typed evaluation records and reports (their JSON schemas are written to ``eval/schema``)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

Metrics = dict[str, float | int | None]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CitationRecord(_Model):
    number: int
    title: str
    support: float
    supported: bool


class EvalRecord(_Model):
    """One question in one retrieval mode (and, when answers are scored, one backend)."""

    qid: str
    type: str
    mode: str
    backend: str | None = None
    question: str
    standalone_query: str
    gold_titles: list[str]
    near_miss: bool = False
    retrieved_titles: list[str]
    retrieved_ids: list[str]
    scores: list[float]
    latency_ms: float
    relevance: float
    coverage: float
    coverage_abstain: bool
    would_abstain: bool
    first_gold_rank: int | None
    metrics: Metrics = Field(
        default_factory=dict, description="recall@k, mrr, ndcg@10 (None without gold papers)."
    )
    # answer fields, when a backend answered
    answer_error: str | None = None
    answer: str | None = None
    answered_by: str | None = None
    abstained: bool | None = None
    fallback_reason: str | None = None
    complete: bool | None = None
    cited_titles: list[str] = Field(default_factory=list)
    citations: list[CitationRecord] = Field(default_factory=list)
    citation_precision: float | None = None
    gold_cited: bool | None = Field(None, description="An answerable question cites a gold paper.")
    model_sentences_written: int = 0
    model_sentences_kept: int = Field(0, description="Shown as the model wrote them.")
    keyword_hit: float | None = None
    ttft_ms: float | None = None
    total_ms: float | None = None
    answer_retrieval_ms: float | None = None


class Grouped(_Model):
    overall: Metrics
    by_type: dict[str, Metrics]


class Report(_Model):
    """What ``assistant eval`` writes to ``report.json``."""

    questions: int
    questions_by_type: dict[str, int]
    question_file: str = ""
    modes: list[str]
    backends: list[str]
    top_k: int
    index: dict[str, int]
    settings: dict[str, Any]
    retrieval: dict[str, Grouped] = Field(default_factory=dict)
    abstention: dict[str, Metrics] = Field(default_factory=dict)
    abstention_near_miss: dict[str, Metrics] = Field(
        default_factory=dict, description="Near misses vs answerable questions, per mode."
    )
    answers: dict[str, dict[str, Grouped]] = Field(default_factory=dict)
    gold_missing_from_index: list[str] = Field(default_factory=list)
    calibration: dict[str, Any] = Field(default_factory=dict)
