"""The openai backend against in-process loopback socket servers (no model): silence is a
timeout, a dead URL is unavailable, a server dying mid-stream is a backend error."""

from __future__ import annotations

import socket
import time

import pytest

from assistant.backends import Backend, generate, registry
from assistant.core.errors import BackendError, BackendTimeout, BackendUnavailable
from assistant.core.settings import LLMSettings
from tests.factories import generation_request
from tests.netutil import free_port, socket_server


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
            generate(backend, generation_request(timeout_s=2))
        assert time.monotonic() - started < 3.0


def test_openai_silent_server_times_out_while_listing_models(allow_real: None) -> None:
    with socket_server(_silent) as url:
        backend = openai_backend(url, "openai")
        started = time.monotonic()
        with pytest.raises(BackendTimeout):
            generate(backend, generation_request(timeout_s=1))
        assert time.monotonic() - started < 2.0


@pytest.mark.parametrize("spec", ["openai:test-model", "openai"])
def test_openai_dead_url_is_unavailable(allow_real: None, spec: str) -> None:
    backend = openai_backend(f"http://127.0.0.1:{free_port()}/v1", spec)  # nothing listens
    started = time.monotonic()
    with pytest.raises(BackendUnavailable, match="cannot reach"):
        generate(backend, generation_request(timeout_s=30))
    assert time.monotonic() - started < 3.0


def test_openai_server_dying_mid_stream_raises_backend_error(allow_real: None) -> None:
    with socket_server(_dies_mid_stream) as url:
        backend = openai_backend(url)
        got: list[str] = []
        started = time.monotonic()
        with pytest.raises(BackendError):
            got.extend(backend.stream(generation_request(timeout_s=10)))
        assert got == ["Hello"]
        assert time.monotonic() - started < 3.0
