"""Backends by name: the registry, spec parsing, suggestions and the test guard."""

from __future__ import annotations

import pytest

from assistant.backends import Backend, generate, registry
from assistant.backends.fake import FakeBackend
from assistant.core.errors import ConfigError
from assistant.core.settings import LLMSettings
from tests.factories import generation_request


@pytest.mark.parametrize("name", ["llamacpp", "openai"])
def test_real_backends_are_blocked_in_tests(name: str) -> None:
    with pytest.raises(ConfigError, match="disabled in tests"):
        registry.create_backend(name, LLMSettings(base_url="http://127.0.0.1:9/v1"))


def test_unknown_backend_lists_known_names_and_suggests() -> None:
    with pytest.raises(ConfigError) as info:
        registry.create_backend("extractiv")
    message = str(info.value)
    for known in ("extractive", "fake", "llamacpp", "openai"):
        assert known in message
    assert "Did you mean 'extractive'" in message


def test_name_arg_is_split_at_the_first_colon() -> None:
    assert (
        generate(registry.create_backend("fake:hello: world"), generation_request())
        == "hello: world"
    )
    one = generate(registry.create_backend(" Extractive:1 "), generation_request())
    assert one.count("[") == 1


def test_registered_factory_is_used() -> None:
    seen: list[str | None] = []

    def factory(settings: LLMSettings, arg: str | None) -> Backend:
        seen.append(arg)
        return FakeBackend(responses=["custom"])

    registry.register("custom", factory)
    try:
        assert "custom" in registry.available_backends()
        assert generate(registry.create_backend("custom:x"), generation_request()) == "custom"
        assert seen == ["x"]
    finally:
        registry.BACKENDS.unregister("custom")
    assert "custom" not in registry.available_backends()
