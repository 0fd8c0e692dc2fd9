"""The fake backend: scripted answers honour the request's deadline."""

from __future__ import annotations

import time

import pytest

from assistant.backends.fake import FakeBackend
from assistant.core.errors import BackendTimeout
from tests.factories import generation_request


def test_fake_timeout_is_honoured() -> None:
    slow = FakeBackend(responses=["one two three four five"], delay_s=0.2)
    started, got = time.monotonic(), []
    with pytest.raises(BackendTimeout):
        for piece in slow.stream(generation_request(timeout_s=0.5)):
            got.append(piece)
    assert time.monotonic() - started < 1.0
    assert got, "the partial text before the deadline stays with the caller"
