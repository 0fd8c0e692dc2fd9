"""Typed values that cross module edges: search hits, sources, citations, answers,
conversation messages and stream events.

One numbered-source type (``NumberedSource``) serves the whole answer path: retrieval
hits are numbered once, the model sees their evidence sentences, citations point at
their numbers, and the UI, CLI and export show them.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Passage(_Model):
    """One chunk of an abstract that matched a query."""

    chunk_id: str
    text: str
    position: int = Field(description="Chunk index within the paper's abstract.")
    score: float = Field(description="Fused score of this chunk (higher is better).")
    dense_score: float | None = Field(None, description="Cosine similarity, if dense ran.")


class PaperHit(_Model):
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


class NumberedSource(_Model):
    """A retrieved paper as numbered for one answer: ``number`` is its ``[n]``.

    ``passages`` are the sentences chosen as evidence (most relevant first) when the paper
    is evidence, else its best matching chunks. ``evidence`` says which.
    """

    number: int
    paper_id: str
    title: str
    abstract: str
    score: float
    passages: list[str]
    evidence: bool = Field(False, description="Its passages were given to the model.")
    relevance: float | None = Field(None, description="Best sentence relevance to the query.")
    authors: str | None = None
    year: int | None = None
    url: str | None = None
    origin: list[str] = Field(default_factory=list, description="Source files.")


class Verdict(_Model):
    """What a claim verifier says about one claim against one paper."""

    supported: bool
    score: float = Field(description="0..1: the verifier's confidence that it is supported.")
    evidence: str = Field("", description="The span of the paper that bears on the claim.")
    reason: str = Field(
        "", description="Empty when supported; else names the check that failed and why."
    )
    check: str | None = Field(None, description="The failed check (number, polarity, …).")
    verifier: str = Field("", description="The verifier's registry name.")


class Citation(_Model):
    number: int = Field(description="The [n] used in the answer text.")
    paper_id: str
    title: str
    snippet: str = Field(description="Sentence of the abstract that best supports the claim.")
    support: float = Field(description="0..1: how well the cited abstract supports the claim.")
    supported: bool
    claim: str = Field("", description="The answer sentence that carries this citation.")
    verifier: str = Field("", description="The verifier that judged it (registry name).")
    reason: str = Field("", description="Why the verifier rejected it; empty if supported.")


class AnswerSentence(_Model):
    """One sentence of an answer as shown, with where it came from and what was checked."""

    text: str = Field(description="The sentence as shown, with its [n] markers.")
    origin: Literal["model", "quote", "title"] = Field(
        description="Written by the model, quoted from an abstract, or a paper's title line."
    )
    numbers: list[int] = Field(default_factory=list, description="The sources it cites.")
    verdicts: list[Verdict] = Field(default_factory=list, description="One per citation.")


class Timings(_Model):
    rewrite_ms: float = 0.0
    retrieval_ms: float = 0.0
    first_token_ms: float | None = Field(None, description="First answer text shown.")
    model_first_token_ms: float | None = Field(None, description="First token of the model.")
    total_ms: float = 0.0


class Answer(_Model):
    question: str
    standalone_query: str
    rewritten: bool = False
    text: str
    citations: list[Citation]
    sources: list[NumberedSource]
    abstained: bool
    backend: str
    fallback_reason: str | None = Field(
        None, description="Why the answer came from the fallback backend, if it did."
    )
    complete: bool = Field(True, description="False when generation was interrupted.")
    sentences: list[AnswerSentence] = Field(
        default_factory=list, description="The answer sentence by sentence, as verified."
    )
    backend_sentences: int = Field(
        0, description="Sentences the model wrote, before verification kept or replaced them."
    )
    notes: list[str] = Field(
        default_factory=list,
        description="Caveats shown with the answer (e.g. weaker matching for the language).",
    )
    language: str | None = Field(None, description="ISO 639-1 code of the question, if known.")
    timings: Timings


class Message(_Model):
    """One conversation turn. An assistant turn may carry its ``Answer`` (and so its
    numbered sources), which lets a follow-up refer to "the second one"."""

    role: Literal["user", "assistant"]
    content: str
    answer: Answer | None = None


# -- stream events: a discriminated union on ``kind`` ----------------------------------------
class SourcesEvent(_Model):
    """Retrieval is done: the numbered sources, and the query that found them."""

    kind: Literal["sources"] = "sources"
    sources: list[NumberedSource]
    standalone_query: str
    rewritten: bool = False


class TextEvent(_Model):
    """A piece of answer text, in order."""

    kind: Literal["text"] = "text"
    text: str


class NoticeEvent(_Model):
    """Something the user should know about this answer (e.g. a fallback)."""

    kind: Literal["notice"] = "notice"
    text: str


class PendingEvent(_Model):
    """The model is writing; nothing new is verified yet. Lets a consumer stop promptly."""

    kind: Literal["pending"] = "pending"


class ResetEvent(_Model):
    """Discard the text streamed so far; a replacement follows."""

    kind: Literal["reset"] = "reset"


class DoneEvent(_Model):
    """The final, checked answer. Always the last event."""

    kind: Literal["done"] = "done"
    answer: Answer


StreamEvent = Annotated[
    SourcesEvent | TextEvent | NoticeEvent | PendingEvent | ResetEvent | DoneEvent,
    Field(discriminator="kind"),
]
