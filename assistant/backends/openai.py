"""Any OpenAI-compatible chat server (vLLM, Ollama, llama.cpp server, LM Studio).

llama-index's ``OpenAILike`` (``max_retries=0``, per-call ``timeout``) streamed through the
same llama-index adapter an add-on LLM uses (``llama_index.stream_chat``, which bounds
the whole answer). What is specific here: the model name defaults to the server's first
model, and client exceptions map to the project's errors.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from urllib.parse import urlparse

import httpx
import openai
from llama_index.llms.openai_like import OpenAILike

import assistant.backends as backends_pkg
from assistant.backends.base import GenerationRequest
from assistant.backends.llama_index import stream_chat
from assistant.core.errors import BackendError, BackendTimeout, BackendUnavailable, ConfigError
from assistant.core.settings import LLMSettings

CONNECT_TIMEOUT_S = 2.5  # a refused or unroutable server is reported quickly


class OpenAICompatibleBackend:
    name = "openai"

    def __init__(self, base_url: str, model: str | None = None, api_key: str | None = None):
        self.base_url = base_url
        self.description = f"OpenAI-compatible server {base_url} ({model or 'first model'})"
        self._api_key = api_key
        self._model = model
        self._llm: OpenAILike | None = None
        self._setup_lock = threading.Lock()
        self._http = httpx.Client(timeout=httpx.Timeout(60.0, connect=CONNECT_TIMEOUT_S))

    def stream(self, request: GenerationRequest) -> Iterator[str]:
        deadline = time.monotonic() + request.timeout_s
        yield from stream_chat(
            lambda: self._get_llm(deadline),
            request,
            deadline,
            self._describe,
            max_tokens=request.max_tokens,
            temperature=request.temperature,
            timeout=_timeout(deadline),
        )

    def _get_llm(self, deadline: float) -> OpenAILike:
        with self._setup_lock:
            if self._llm is None:
                model = self._model or self._first_model(deadline)
                self._llm = OpenAILike(
                    model=model,
                    api_base=self.base_url,
                    api_key=self._api_key or "no-key",
                    is_chat_model=True,
                    max_retries=0,
                    http_client=self._http,
                )
            return self._llm

    def _first_model(self, deadline: float) -> str:
        headers = {"Authorization": f"Bearer {self._api_key}"} if self._api_key else {}
        response = self._http.get(
            f"{self.base_url}/models", headers=headers, timeout=_timeout(deadline)
        )
        if response.status_code != 200:
            raise BackendUnavailable(f"{self.base_url}/models answered {response.status_code}")
        try:
            return str(response.json()["data"][0]["id"])
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise BackendUnavailable(f"{self.base_url}/models lists no model") from exc

    def _describe(self, exc: BaseException) -> BackendError:
        """Map client exceptions to the project's errors; timeouts before connection ones
        because the OpenAI client's timeout error subclasses its connection error."""
        where = self.base_url
        if isinstance(exc, BackendError):
            return exc
        if isinstance(exc, openai.APITimeoutError | httpx.TimeoutException):
            return BackendTimeout("read timed out")
        if isinstance(exc, openai.APIConnectionError | httpx.ConnectError):
            return BackendUnavailable(f"cannot reach {where}: {_cause(exc)}")
        if isinstance(exc, httpx.TransportError):
            return BackendUnavailable(f"connection to {where} lost: {_cause(exc)}")
        if isinstance(exc, openai.APIStatusError):
            cls = BackendUnavailable if exc.status_code in (502, 503, 504) else BackendError
            return cls(f"{where} answered HTTP {exc.status_code}: {exc.message}")
        return BackendError(f"{where} failed: {type(exc).__name__}: {exc}")


def _timeout(deadline: float) -> httpx.Timeout:
    remaining = max(0.05, deadline - time.monotonic())
    return httpx.Timeout(remaining, connect=min(CONNECT_TIMEOUT_S, remaining))


def _cause(exc: BaseException) -> str:
    # openai.APIConnectionError only says "Connection error."; the httpx cause says why.
    inner = exc.__cause__ or exc.__context__
    if inner is None or not str(inner) or str(inner) in str(exc):
        return str(exc)
    return f"{exc} ({inner})"


def _normalise_url(url: str) -> str:
    url = url.strip().rstrip("/")
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ConfigError(f"llm.base_url must be an http(s) URL, got {url!r}")
    # Servers serve the API under /v1; accept the bare host:port people usually type.
    return url if parsed.path not in ("", "/") else f"{url}/v1"


def create(settings: LLMSettings, arg: str | None) -> OpenAICompatibleBackend:
    if not backends_pkg.ALLOW_REAL_BACKENDS:
        raise ConfigError("real backends disabled in tests")
    if not settings.base_url:
        raise ConfigError("the openai backend needs llm.base_url (e.g. http://127.0.0.1:8080/v1)")
    model = arg or settings.model
    return OpenAICompatibleBackend(_normalise_url(settings.base_url), model, settings.api_key)
