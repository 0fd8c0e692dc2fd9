"""Name -> factory registries: the one mechanism behind every pluggable seam
(answer backends, claim verifiers).

Built-ins register through the same table as add-ons: a built-in is a lazy
``"module:attribute"`` reference (so choosing ``fake`` never imports llama.cpp), and an
add-on package registers through its entry-point group. A spec is ``name`` or
``name:argument``; ``parse_spec`` is the only parser of specs.
"""

from __future__ import annotations

import difflib
import importlib
import logging
from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Any, Generic, TypeVar

from assistant.core.errors import ConfigError

log = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])


def parse_spec(spec: str) -> tuple[str, str | None]:
    """Split a spec into its name and optional argument (the one parser of specs).

    >>> parse_spec("llamacpp:/models/x.gguf")
    ('llamacpp', '/models/x.gguf')
    >>> parse_spec(" Extractive ")
    ('extractive', None)
    """
    name, _, arg = spec.strip().partition(":")
    return name.strip().lower(), (arg or None)


class Registry(Generic[F]):
    """Factories by name for one kind of component.

    >>> reg = Registry("greeter", group="none", builtins={})
    >>> reg.register("hi", lambda arg: f"hi {arg}")
    >>> reg.factory("hi")("there"), reg.names()
    ('hi there', ['hi'])
    """

    def __init__(self, kind: str, group: str, builtins: dict[str, str]) -> None:
        self.kind, self.group = kind, group
        self._builtins = dict(builtins)
        self._factories: dict[str, F] = {}
        self._entry_points_loaded = False

    def register(self, name: str, factory: F) -> None:
        self._factories[name.strip().lower()] = factory

    def unregister(self, name: str) -> None:
        self._factories.pop(name, None)

    def names(self) -> list[str]:
        self._load_entry_points()
        return sorted(set(self._builtins) | set(self._factories))

    def factory(self, name: str) -> F:
        self._load_entry_points()
        if name not in self._factories and name in self._builtins:
            module, _, attr = self._builtins[name].partition(":")
            self.register(name, getattr(importlib.import_module(module), attr))
        found = self._factories.get(name)
        if found is None:
            known = self.names()
            close = difflib.get_close_matches(name, known, n=1)
            hint = f" Did you mean '{close[0]}'?" if close else ""
            raise ConfigError(f"unknown {self.kind} '{name}'. Known: {', '.join(known)}.{hint}")
        return found

    def _load_entry_points(self) -> None:
        if self._entry_points_loaded:
            return
        self._entry_points_loaded = True
        for ep in entry_points(group=self.group):
            try:
                self.register(ep.name, ep.load())
            except Exception:  # an add-on that fails to import must not break the app
                log.exception("could not load %s plugin %s", self.kind, ep.name)
