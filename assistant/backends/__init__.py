"""Answer-writing backends, chosen by name through ``registry``.

``ALLOW_REAL_BACKENDS`` is a test guard: the test suite sets it to False so a unit test
cannot load a real model or call a server by accident (pydantic-ai's
``ALLOW_MODEL_REQUESTS``). Tests that mean to use a real one enable it explicitly.
"""

from __future__ import annotations

ALLOW_REAL_BACKENDS = True

from assistant.backends.base import Backend, Evidence, GenerationRequest, generate  # noqa: E402
from assistant.backends.registry import available_backends, create_backend, register  # noqa: E402

__all__ = [
    "ALLOW_REAL_BACKENDS",
    "Backend",
    "Evidence",
    "GenerationRequest",
    "available_backends",
    "create_backend",
    "generate",
    "register",
]
