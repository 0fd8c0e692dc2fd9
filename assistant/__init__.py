"""Research assistant over paper abstracts: search, cited answers, chat.

>>> from assistant import ask, search                                  # doctest: +SKIP
>>> answer = ask("Which papers address failure modes of PINNs?")        # doctest: +SKIP
>>> answer.text, [c.title for c in answer.citations]                    # doctest: +SKIP

Heavy modules load on first use so ``import assistant`` stays fast.
"""

from __future__ import annotations

from typing import Any

__all__ = ["Answer", "Assistant", "Settings", "ask", "ask_stream", "load_settings", "search"]

_LAZY = {
    "Answer": "assistant.types",
    "Assistant": "assistant.chat",
    "ask": "assistant.chat",
    "ask_stream": "assistant.chat",
    "Settings": "assistant.config",
    "load_settings": "assistant.config",
    "search": "assistant.retrieval",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(name)
