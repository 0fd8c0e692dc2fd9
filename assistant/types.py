"""Typed results shared by search, answering, the CLI, the UI and evaluation."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Passage(_Frozen):
    """One chunk of an abstract that matched a query."""

    chunk_id: str
    text: str
    position: int = Field(description="Chunk index within the paper's abstract.")
    score: float = Field(description="Fused score of this chunk (higher is better).")
    dense_score: float | None = Field(None, description="Cosine similarity, if dense ran.")


class PaperHit(_Frozen):
    """A paper in a ranked search result (a paper appears once)."""

    rank: int
    paper_id: str
    title: str
    abstract: str
    sources: list[str] = Field(description="Source files the paper was read from.")
    score: float
    dense_score: float | None = Field(None, description="Best cosine similarity of its chunks.")
    passages: list[Passage]
    authors: str | None = None
    year: int | None = None
    url: str | None = None


class Citation(_Frozen):
    number: int = Field(description="The [n] used in the answer text.")
    paper_id: str
    title: str
    snippet: str = Field(description="Sentence of the abstract that best supports the claim.")
    support: float = Field(description="0..1: how well the cited abstract supports the claim.")
    supported: bool
    claim: str = Field("", description="The answer sentence that carries this citation.")


class Source(_Frozen):
    """A retrieved paper as shown beside an answer; ``number`` is its [n]."""

    number: int
    paper_id: str
    title: str
    abstract: str
    score: float
    passages: list[str]
    authors: str | None = None
    year: int | None = None
    url: str | None = None
    origin: list[str] = Field(default_factory=list, description="Source files.")


class Timings(_Frozen):
    rewrite_ms: float = 0.0
    retrieval_ms: float = 0.0
    first_token_ms: float | None = None
    total_ms: float = 0.0


class Answer(_Frozen):
    question: str
    standalone_query: str
    rewritten: bool = False
    text: str
    citations: list[Citation]
    sources: list[Source]
    abstained: bool
    backend: str
    fallback_reason: str | None = Field(
        None, description="Why the answer came from the fallback backend, if it did."
    )
    complete: bool = Field(True, description="False when generation was interrupted.")
    timings: Timings
