"""Settings: one pydantic ``Settings`` object with nested sections.

Precedence (highest first): explicit overrides passed in code or on the CLI, environment
variables (``ASSISTANT_<SECTION>__<FIELD>``, e.g. ``ASSISTANT_LLM__BACKEND=extractive``),
a JSON/TOML file given with ``--config``, then the defaults below. Unknown keys are
rejected everywhere so a typo fails loudly instead of being ignored.
"""

from __future__ import annotations

import json
import tomllib
from contextvars import ContextVar
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from assistant.core.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parents[2]

RetrievalMode = Literal["dense", "bm25", "hybrid"]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class IngestSettings(_Section):
    sources: list[Path] = Field(
        default_factory=lambda: [PROJECT_ROOT / "data"],
        description="Files or folders to ingest (.txt shipped format, .jsonl, .csv).",
    )
    chunk_tokens: int = Field(
        200,
        ge=32,
        le=256,
        description="Max word pieces per embedded chunk, title included (model limit 256).",
    )
    overlap_sentences: int = Field(1, ge=0, le=3, description="Sentences repeated between chunks.")
    batch_size: int = Field(
        256,
        ge=1,
        le=1024,
        description="Chunks embedded and written per batch (Chroma writes fewer, larger "
        "batches faster; the next batch is embedded while one is written).",
    )


class IndexSettings(_Section):
    persist_dir: Path = Field(
        PROJECT_ROOT / "index", description="Folder of the embedded Chroma database and lock."
    )
    collection: str = Field("abstracts", min_length=3, description="Chroma collection name.")
    chroma_url: str | None = Field(
        None, description="URL of a Chroma server (http://host:port); unset = embedded Chroma."
    )
    embedder: Literal["sentence-transformers", "hash"] = Field(
        "sentence-transformers", description="'hash' is the fast fake for tests and demos."
    )
    embedding_model: str = Field(
        "all-MiniLM-L6-v2",
        description="'all-MiniLM-L6-v2' (bundled, offline) or a local sentence-transformers dir.",
    )


class RetrievalSettings(_Section):
    mode: RetrievalMode = Field(
        "hybrid", description="dense, bm25 or hybrid (score-aware fusion of both)."
    )
    k: int = Field(5, ge=1, le=100, description="Papers returned.")
    candidates: int = Field(40, ge=1, le=1000, description="Chunks fetched per retriever.")
    # Hybrid score = dense share × cosine/best cosine + BM25 share × BM25/best BM25, a paper
    # one retriever missed credited that retriever's lowest returned score (fusion.py).
    dense_weight: float = Field(
        0.6,
        ge=0,
        description="Share of the dense score in hybrid fusion (weights are divided by their "
        "sum). Calibrated on eval/questions.jsonl (grid of BM25 shares 0.25-0.7 in steps of "
        "0.05; R@1, R@5, and the exact-name query 'PAIF ... MSRS' ranking PAIF first): "
        "0.6/0.4 keeps hybrid at or above the best single mode there and on "
        "eval/heldout.jsonl.",
    )
    bm25_weight: float = Field(
        0.4,
        ge=0,
        description="Share of the BM25 score in hybrid fusion (see dense_weight): a BM25 "
        "match far ahead of the rest (an exact name) keeps its lead.",
    )
    passages_per_paper: int = Field(2, ge=1, le=10, description="Best passages kept per paper.")


class LLMSettings(_Section):
    backend: str = Field(
        "llamacpp", description="Backend name: llamacpp, openai, extractive, fake."
    )
    model_path: Path | None = Field(
        None, description="GGUF file for llamacpp; unset = the bundled SmolLM2-135M-Instruct."
    )
    base_url: str | None = Field(None, description="OpenAI-compatible server URL (…/v1).")
    model: str | None = Field(None, description="Model name sent to the OpenAI-compatible server.")
    api_key: str | None = Field(None, description="API key for the OpenAI-compatible server.")
    timeout_s: float = Field(60.0, gt=0, description="Max seconds for one answer, all included.")
    max_tokens: int = Field(
        96,
        ge=1,
        le=4096,
        description="Max new tokens per answer (the model adds 1-2 verified sentences to "
        "the extracts; more tokens cost time, ~70 tokens/s on 2 cores).",
    )
    temperature: float = Field(0.0, ge=0, le=2)
    n_ctx: int = Field(2048, ge=256, description="llama.cpp context window.")
    n_threads: int | None = Field(None, description="llama.cpp threads; unset = all cores.")
    fallback: str | None = Field(
        "extractive", description="Backend used when the chosen one fails; None disables."
    )


class AnswerSettings(_Section):
    # Calibrated on eval/questions.jsonl (README, "Abstention"): two signals, because a
    # near-miss question ("PINNs for blood flow in arteries?") is semantically close to
    # real papers but names things no retrieved abstract mentions.
    abstain_threshold: float = Field(
        0.30, description="Abstain when the best sentence's relevance is below this."
    )
    min_coverage: float = Field(
        0.0,
        ge=0,
        le=1,
        description="Abstain when fewer of the question's distinctive (IDF-weighted) words "
        "appear in the top papers than this, unless relevance is high (below). 0 = off: the "
        "near-miss rule (near_miss_shift) replaced it (at 0.47 it wrongly refused long "
        "paraphrasing questions; eval/questions.jsonl false abstentions 5.4% -> 4.3%).",
    )
    coverage_waived_above: float = Field(
        0.52, description="Relevance at which low word coverage no longer causes abstention."
    )
    # The near-miss rule (answering/evidence.py, missing_terms), calibrated on
    # eval/questions.jsonl only (grid 0.03-0.06 × 0.04-0.10; eval/heldout.jsonl checks it).
    near_miss_shift: float = Field(
        0.05,
        ge=0,
        le=1,
        description="A rare term no top paper mentions makes the assistant abstain when "
        "removing it from the question raises the best relevance by this much (it pulls the "
        "question away from what the abstracts say); name-like terms (JWST, QM9) always do.",
    )
    near_miss_shift_all: float = Field(
        0.09,
        ge=0,
        le=1,
        description="The same for all such terms together ('sheep, goats or beef' each move "
        "the question a little, together a lot).",
    )
    trust_model_no_answer: bool = Field(
        False,
        description="When the model says the sources do not answer although retrieval found "
        "relevant evidence: abstain (True) or show quoted evidence, labelled (False). The "
        "bundled 135M model declines wrongly (README), so by default it is not trusted.",
    )
    verifier: str = Field(
        "strict",
        description="Claim verifier: strict (rules, no model), llm (asks the answer model, "
        "strict's number rule on top) or nli:/path/to/cross-encoder.",
    )
    relative_relevance: float = Field(
        0.85,
        ge=0,
        le=1,
        description="Only papers whose relevance is at least this share of the best paper's "
        "contribute to an answer (stops padding with unrelated quotes; tuned on "
        "eval/questions.jsonl for citation precision without losing keyword hits).",
    )
    support_threshold: float = Field(
        0.45,
        description="A rejected model sentence is replaced by an abstract sentence only when "
        "that sentence supports the claim at least this much (same point, not just the topic).",
    )
    # The scoring weights below came with the first calibration (README, "Abstention"):
    # the thresholds above were tuned with these values, so change them together.
    relevance_semantic_weight: float = Field(
        0.7,
        ge=0,
        le=1,
        description="Query-to-sentence relevance = this × cosine + the rest × word overlap. "
        "Semantic similarity carries most of it; overlap rescues exact terms a small "
        "embedder blurs (tuned by hand on eval/questions.jsonl).",
    )
    support_semantic_weight: float = Field(
        0.5,
        ge=0,
        le=1,
        description="Claim support = this × cosine + the rest × word overlap: a claim must "
        "both mean and say what its source says (equal weights, set by hand).",
    )
    coverage_papers: int = Field(
        3,
        ge=1,
        le=20,
        description="Word coverage is measured over this many top papers (a question is "
        "covered when its words appear among the few best hits, set by hand).",
    )
    context_sentences: int = Field(
        2, ge=1, le=20, description="Most relevant sentences per paper put in the prompt."
    )
    prompt_papers: int = Field(
        4, ge=1, le=20, description="Most papers whose sentences go into the prompt."
    )
    max_question_chars: int = Field(2000, ge=10, description="Longer questions are rejected.")
    max_history_turns: int = Field(6, ge=0, description="Past turns used to rewrite follow-ups.")
    max_history_chars: int = Field(
        2000,
        ge=10,
        le=100_000,
        description="Each past turn is cut to this length: a follow-up's search query "
        "borrows the topic of an earlier question, so a huge history turn must not become "
        "a huge query (2000 = the question limit).",
    )
    max_answer_chars: int = Field(4000, ge=100, description="Answers are cut at this length.")


class UISettings(_Section):
    host: str = Field("127.0.0.1", description="Bind address; 0.0.0.0 exposes it on the network.")
    port: int = Field(7860, ge=1, le=65535)
    password: str | None = Field(None, description="If set, login with user 'researcher'.")
    concurrency_limit: int = Field(2, ge=1, description="Answers generated at the same time.")
    max_queue: int = Field(16, ge=1, description="Waiting requests before 'server busy'.")
    allow_custom_backend_url: bool = Field(
        False,
        description="Let UI users type an OpenAI-compatible server URL. Off by default: the "
        "server would then connect wherever a visitor says (llm.base_url or the environment "
        "decide instead).",
    )
    login_attempts_per_minute: int = Field(
        5, ge=1, le=1000, description="Failed logins allowed per client per minute."
    )


# One alias table for per-call options: the Python API (``ask(..., k=3)``), the CLI flags
# and the UI controls all name settings through it.
OPTIONS: dict[str, str] = {
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
    "chroma_url": "index__chroma_url",
    "index_dir": "index__persist_dir",
    "sources": "ingest__sources",
    "host": "ui__host",
    "port": "ui__port",
}
# The options one answer may change; the rest pick the index or server and are fixed
# for the life of an ``Assistant``.
ANSWER_OPTIONS = frozenset(
    [
        "backend",
        "model_path",
        "base_url",
        "model",
        "api_key",
        "timeout_s",
        "max_tokens",
        "temperature",
        "mode",
        "k",
    ]
)


# The --config file's values while ``load_settings`` builds a Settings: a source ranked
# below the environment (pydantic-settings would rank plain init values above it).
_FILE_DATA: ContextVar[dict[str, Any] | None] = ContextVar("assistant_config_file", default=None)


class _ConfigFileSource(PydanticBaseSettingsSource):
    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return (_FILE_DATA.get() or {}).get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return dict(_FILE_DATA.get() or {})


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="ASSISTANT_",
        env_nested_delimiter="__",
        extra="forbid",
        validate_assignment=True,
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Precedence: values given in code or on the CLI > environment > --config file.
        return init_settings, env_settings, _ConfigFileSource(settings_cls)

    ingest: IngestSettings = Field(default_factory=IngestSettings)
    index: IndexSettings = Field(default_factory=IndexSettings)
    retrieval: RetrievalSettings = Field(default_factory=RetrievalSettings)
    llm: LLMSettings = Field(default_factory=LLMSettings)
    answer: AnswerSettings = Field(default_factory=AnswerSettings)
    ui: UISettings = Field(default_factory=UISettings)

    def with_overrides(self, **dotted: Any) -> Settings:
        """Copy with ``section__field=value`` overrides, validated.

        >>> Settings().with_overrides(retrieval__k=3).retrieval.k
        3
        """
        data = self.model_dump()
        for key, value in dotted.items():
            section, _, field = key.partition("__")
            if section not in data or not field:
                raise ConfigError(f"unknown setting '{key}' (use section__field)")
            data[section][field] = value
        return _validated(data)

    def with_options(self, allowed: frozenset[str] | None = None, **options: Any) -> Settings:
        """Copy with per-call options (names from ``OPTIONS``); ``None`` values are ignored.

        >>> Settings().with_options(k=3, mode=None).retrieval.k
        3
        """
        known = allowed if allowed is not None else frozenset(OPTIONS)
        unknown = set(options) - known
        if unknown:
            raise ConfigError(f"unknown option(s) {sorted(unknown)}; known: {sorted(known)}")
        given = {OPTIONS[k]: v for k, v in options.items() if v is not None}
        return self.with_overrides(**given) if given else self


def _validated(data: dict[str, Any]) -> Settings:
    try:
        # Values given here beat the environment, which beats defaults.
        return Settings(**data)
    except ValidationError as exc:
        raise ConfigError(_describe(exc)) from exc


def _describe(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"])
        parts.append(f"{loc}: {err['msg']}")
    return "; ".join(parts)


def load_settings(path: Path | str | None = None, **overrides: Any) -> Settings:
    """Build settings from an optional JSON/TOML file, the environment and overrides."""
    data: dict[str, Any] = {}
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise ConfigError(f"config file not found: {path}")
        try:
            text = path.read_text(encoding="utf-8")
            data = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot parse {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the settings must be a table/object of sections")
    token = _FILE_DATA.set(data)
    try:
        settings = Settings()
    except ValidationError as exc:
        raise ConfigError(_describe(exc)) from exc
    finally:
        _FILE_DATA.reset(token)
    return settings.with_overrides(**overrides) if overrides else settings
