"""Answer-writing backends, chosen by name through ``registry``.

``ALLOW_REAL_BACKENDS`` is a test guard: the test suite sets it to False so a unit test
cannot load a real model or call a server by accident (pydantic-ai's
``ALLOW_MODEL_REQUESTS``). Tests that mean to use a real one enable it explicitly.
"""

from __future__ import annotations

ALLOW_REAL_BACKENDS = True

from assistant.backends.base import Backend, GenerationRequest, generate  # noqa: E402
from assistant.backends.registry import (  # noqa: E402
    available_backends,
    backend_name,
    create_backend,
    parse_spec,
    register,
)

__all__ = [
    "ALLOW_REAL_BACKENDS",
    "Backend",
    "GenerationRequest",
    "available_backends",
    "backend_name",
    "create_backend",
    "generate",
    "parse_spec",
    "register",
]
