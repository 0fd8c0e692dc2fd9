"""Name -> factory registries (``core.registry``) and the one spec parser."""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass
from typing import Any

import pytest

import assistant.core.registry as registry_module
from assistant.core.errors import ConfigError
from assistant.core.registry import Registry, parse_spec


@pytest.mark.parametrize(
    ("spec", "parsed"),
    [
        ("fake", ("fake", None)),
        (" Extractive ", ("extractive", None)),
        ("llamacpp:/models/x.gguf", ("llamacpp", "/models/x.gguf")),
        ("fake:hello: world", ("fake", "hello: world")),  # split at the first colon only
        ("OpenAI:qwen2.5", ("openai", "qwen2.5")),
        ("fake:", ("fake", None)),  # an empty argument is no argument
    ],
)
def test_parse_spec(spec: str, parsed: tuple[str, str | None]) -> None:
    assert parse_spec(spec) == parsed


@dataclass
class FakeEntryPoint:
    name: str
    target: Any

    def load(self) -> Any:
        if isinstance(self.target, Exception):
            raise self.target
        return self.target


@pytest.fixture
def no_entry_points(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry_module, "entry_points", lambda group: [])


def test_registered_factories_are_found_by_normalised_name(no_entry_points: None) -> None:
    reg: Registry = Registry("greeter", group="test.greeters", builtins={})
    reg.register(" Hello ", lambda arg: f"hello {arg}")
    assert reg.names() == ["hello"]
    assert reg.factory("hello")("there") == "hello there"
    reg.unregister("hello")
    assert reg.names() == []


def test_builtins_are_listed_without_importing_them(
    no_entry_points: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delitem(sys.modules, "colorsys", raising=False)
    reg: Registry = Registry(
        "converter", group="test.converters", builtins={"hsv": "colorsys:rgb_to_hsv"}
    )
    assert reg.names() == ["hsv"]
    assert "colorsys" not in sys.modules  # listing a built-in does not import it
    factory = reg.factory("hsv")
    assert factory is sys.modules["colorsys"].rgb_to_hsv
    assert factory(1.0, 0.0, 0.0) == (0.0, 1.0, 1.0)


def test_unknown_name_lists_known_names_and_suggests(no_entry_points: None) -> None:
    reg: Registry = Registry("verifier", group="test.verifiers", builtins={"strict": "x:y"})
    reg.register("llm", lambda: None)
    with pytest.raises(ConfigError) as info:
        reg.factory("strcit")
    assert (
        str(info.value) == "unknown verifier 'strcit'. Known: llm, strict. Did you mean 'strict'?"
    )
    with pytest.raises(ConfigError, match=r"unknown verifier 'zzz'\. Known: llm, strict\.$"):
        reg.factory("zzz")


def test_add_ons_register_through_their_entry_point_group(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    asked: list[str] = []

    def entry_points(group: str) -> list[FakeEntryPoint]:
        asked.append(group)
        return [
            FakeEntryPoint("addon", lambda: "from the add-on"),
            FakeEntryPoint("broken", ImportError("missing dependency")),
        ]

    monkeypatch.setattr(registry_module, "entry_points", entry_points)
    reg: Registry = Registry("backend", group="test.backends", builtins={"fake": "x:y"})
    with caplog.at_level(logging.ERROR, logger=registry_module.__name__):
        assert reg.names() == ["addon", "fake"]  # the broken add-on is skipped...
    assert "could not load backend plugin broken" in caplog.text  # ...and logged
    assert reg.factory("addon")() == "from the add-on"
    assert asked == ["test.backends"]  # entry points are read once
