"""Answer backends by name. Built-ins register through the same registry as add-ons.

A backend spec is ``name`` or ``name:argument`` (``llamacpp:/models/x.gguf``,
``openai:qwen2.5``). Add-on packages register factories through the entry-point group
``assistant.backends``; the entry point must name a callable ``factory(settings, arg)``.
"""

from __future__ import annotations

from collections.abc import Callable

from assistant.backends.base import Backend
from assistant.core.registry import Registry, parse_spec
from assistant.core.settings import LLMSettings

Factory = Callable[[LLMSettings, str | None], Backend]

BACKENDS: Registry[Factory] = Registry(
    "backend",
    group="assistant.backends",
    builtins={
        "llamacpp": "assistant.backends.llamacpp:create",
        "openai": "assistant.backends.openai:create",
        "extractive": "assistant.backends.extractive:create",
        "fake": "assistant.backends.fake:create",
    },
)
__all__ = ["BACKENDS", "available_backends", "backend_name", "create_backend", "parse_spec"]


def register(name: str, factory: Factory) -> None:
    BACKENDS.register(name, factory)


def available_backends() -> list[str]:
    return BACKENDS.names()


def backend_name(spec: str) -> str:
    """The registry name in a spec: ``backend_name("openai:qwen") == "openai"``."""
    return parse_spec(spec)[0]


def create_backend(spec: str, settings: LLMSettings | None = None) -> Backend:
    """Build the backend named by ``spec`` (``name`` or ``name:arg``)."""
    name, arg = parse_spec(spec)
    return BACKENDS.factory(name)(settings or LLMSettings(), arg)
