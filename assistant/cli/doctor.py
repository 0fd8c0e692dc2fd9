"""``assistant doctor``: check that everything the assistant needs is in place."""

from __future__ import annotations

from assistant.core.errors import AssistantError
from assistant.core.settings import Settings


def run_doctor(settings: Settings) -> int:
    """Print one line per check; exit 0 only if all pass."""
    failures = 0

    def check(name: str, func) -> None:  # noqa: ANN001
        nonlocal failures
        try:
            detail = func()
            print(f"ok    {name}: {detail}")
        except AssistantError as exc:
            failures += 1
            print(f"FAIL  {name}: {exc.user_message()}")
        except Exception as exc:  # a doctor reports every check, even on a bug: no traceback
            failures += 1
            print(f"FAIL  {name}: unexpected {type(exc).__name__}: {str(exc)[:200]}")

    def embedder() -> str:
        from assistant.index.embeddings import get_embedder

        emb = get_embedder(settings.index)
        return f"{emb.name} (dim {emb.dim})"

    def index() -> str:
        from assistant.index.store import verify_index
        from assistant.retrieval.retriever import Retriever

        # verify_index, not just the counts: a partial index must never read "ok".
        stats = verify_index(Retriever(settings).collection)
        return f"{stats['papers']} papers, {stats['chunks']} chunks (complete)"

    def backend() -> str:
        from assistant.backends import create_backend

        b = create_backend(settings.llm.backend, settings.llm)
        return f"{settings.llm.backend} ({getattr(b, 'description', type(b).__name__)})"

    def prompts() -> str:
        from assistant.answering.prompting import PLACEHOLDERS, load_prompt

        for name in PLACEHOLDERS:
            load_prompt(name)
        return ", ".join(PLACEHOLDERS)

    check("embedding model", embedder)
    check("index", index)
    check("prompts", prompts)
    check("answer backend", backend)
    return 0 if failures == 0 else 5
