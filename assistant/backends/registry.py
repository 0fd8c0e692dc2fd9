"""Name -> backend factory. Built-ins register through the same path as add-ons.

A backend spec is ``name`` or ``name:argument`` (``llamacpp:/models/x.gguf``,
``openai:qwen2.5``). Add-on packages register factories through the entry-point group
``assistant.backends``; the entry point must name a callable ``factory(settings, arg)``.
"""

from __future__ import annotations

import difflib
import importlib
import logging
from collections.abc import Callable
from importlib.metadata import entry_points

from assistant.backends.base import Backend
from assistant.config import LLMSettings
from assistant.errors import ConfigError

log = logging.getLogger(__name__)

Factory = Callable[[LLMSettings, str | None], Backend]

_FACTORIES: dict[str, Factory] = {}
# Built-ins are imported lazily so choosing 'fake' never imports llama.cpp.
_BUILTINS = {
    "llamacpp": "assistant.backends.llamacpp:create",
    "openai": "assistant.backends.openai:create",
    "extractive": "assistant.backends.extractive:create",
    "fake": "assistant.backends.fake:create",
}
_entry_points_loaded = False


def register(name: str, factory: Factory) -> None:
    _FACTORIES[name] = factory


def _load_ref(ref: str) -> Factory:
    module, _, attr = ref.partition(":")
    return getattr(importlib.import_module(module), attr)


def _load_entry_points() -> None:
    global _entry_points_loaded
    if _entry_points_loaded:
        return
    _entry_points_loaded = True
    for ep in entry_points(group="assistant.backends"):
        try:
            register(ep.name, ep.load())
        except Exception:  # an add-on that fails to import must not break the app
            log.exception("could not load backend plugin %s", ep.name)


def available_backends() -> list[str]:
    _load_entry_points()
    return sorted(set(_BUILTINS) | set(_FACTORIES))


def create_backend(spec: str, settings: LLMSettings | None = None) -> Backend:
    """Build the backend named by ``spec`` (``name`` or ``name:arg``)."""
    settings = settings or LLMSettings()
    name, _, arg = spec.strip().partition(":")
    name = name.strip().lower()
    _load_entry_points()
    if name not in _FACTORIES and name in _BUILTINS:
        register(name, _load_ref(_BUILTINS[name]))
    factory = _FACTORIES.get(name)
    if factory is None:
        known = available_backends()
        close = difflib.get_close_matches(name, known, n=1)
        hint = f" Did you mean '{close[0]}'?" if close else ""
        raise ConfigError(f"unknown backend '{name}'. Known: {', '.join(known)}.{hint}")
    return factory(settings, arg or None)
