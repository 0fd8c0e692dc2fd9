"""Research assistant over paper abstracts: search, cited answers, chat.

>>> from assistant import ask, search                                  # doctest: +SKIP
>>> answer = ask("Which papers address failure modes of PINNs?")        # doctest: +SKIP
>>> answer.text, [c.title for c in answer.citations]                    # doctest: +SKIP

Heavy modules load on first use so ``import assistant`` stays fast.
"""

from __future__ import annotations

import os as _os
from typing import Any

from assistant.core.runtime import configure_environment

configure_environment()  # before any library that reads these variables is imported
# Dense search is one matrix-vector product per query: OpenBLAS threads buy nothing there
# and, on a busy machine, stall waiting for each other (p90 4 ms -> 20 ms at 10k chunks).
_os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

__all__ = [
    "Answer",
    "Assistant",
    "Message",
    "Settings",
    "ask",
    "ask_stream",
    "load_settings",
    "search",
]

_LAZY = {
    "Answer": "assistant.core.types",
    "Message": "assistant.core.types",
    "Assistant": "assistant.answering.assistant",
    "ask": "assistant.answering.assistant",
    "ask_stream": "assistant.answering.assistant",
    "Settings": "assistant.core.settings",
    "load_settings": "assistant.core.settings",
    "search": "assistant.retrieval.retriever",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(name)
