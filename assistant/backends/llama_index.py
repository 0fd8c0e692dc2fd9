"""Any llama-index ``LLM`` as an answer backend (the adapter), and the bounded stream
that all llama-index based backends share.

A user who already has a llama-index LLM configured (Ollama, vLLM, OpenAI, HuggingFace,
…) plugs it in with one line::

    from assistant.backends.llama_index import register_llm
    register_llm("my-llm", llm)          # then backend="my-llm" anywhere (API, CLI, UI)
    # or, for one Assistant: Assistant(backend=LlamaIndexBackend(llm))

The built-in ``openai`` backend is this adapter around llama-index's ``OpenAILike``.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from assistant.backends.base import GenerationRequest
from assistant.backends.registry import register
from assistant.core.errors import BackendError, BackendTimeout

ErrorMapper = Callable[[BaseException], BackendError]


def _default_describe(exc: BaseException) -> BackendError:
    if isinstance(exc, BackendError):
        return exc
    return BackendError(f"the model failed: {type(exc).__name__}: {exc}")


class LlamaIndexBackend:
    """Streams ``llm.stream_chat`` within the request's deadline."""

    def __init__(
        self, llm: Any, name: str = "llama-index", describe: ErrorMapper | None = None
    ) -> None:
        self.llm = llm
        self.name = name
        self.description = f"llama-index {type(llm).__name__}"
        self._describe = describe or _default_describe

    def stream(self, request: GenerationRequest) -> Iterator[str]:
        deadline = time.monotonic() + request.timeout_s
        yield from stream_chat(lambda: self.llm, request, deadline, self._describe)


def stream_chat(
    get_llm: Callable[[], Any],
    request: GenerationRequest,
    deadline: float,
    describe: ErrorMapper,
    **call_kwargs: Any,
) -> Iterator[str]:
    """Stream a llama-index LLM's chat answer, bounded by ``deadline`` as a whole.

    The LLM clients bound each read, not a whole answer, so a server that stalls
    mid-answer could hold the caller far past its deadline: the stream is read in a
    worker thread and handed over through a queue waited on only until the deadline.
    """
    from llama_index.core.llms import ChatMessage

    def produce() -> Iterator[str]:
        llm = get_llm()
        kwargs: dict[str, Any] = {**call_kwargs}
        if request.stop:
            kwargs["stop"] = request.stop
        messages = [ChatMessage(role=m["role"], content=m["content"]) for m in request.messages]
        for chunk in llm.stream_chat(messages, **kwargs):
            if chunk.delta:
                yield chunk.delta

    try:
        yield from _bounded(produce, deadline, describe)
    except BackendTimeout as exc:
        raise BackendTimeout(f"no answer within {request.timeout_s:g} s") from exc


def _bounded(
    produce: Callable[[], Iterator[str]], deadline: float, describe: ErrorMapper
) -> Iterator[str]:
    """Yield what ``produce()`` yields, read in a worker thread, until ``deadline``."""
    pieces: queue.Queue[tuple[str, Any]] = queue.Queue()
    stop = threading.Event()

    def work() -> None:
        try:
            source = produce()
            try:
                for piece in source:
                    if stop.is_set():
                        break  # closing the stream below tells the server to stop
                    pieces.put(("piece", piece))
            finally:
                source.close()  # type: ignore[attr-defined]
            pieces.put(("done", None))
        except BaseException as exc:  # handed to the caller's thread
            pieces.put(("error", exc))

    threading.Thread(target=work, name="llm-stream", daemon=True).start()
    try:
        while True:
            try:
                kind, value = pieces.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise BackendTimeout("no answer before the deadline") from None
            if kind == "done":
                return
            if kind == "error":
                raise describe(value) from value
            yield value
    finally:
        stop.set()


def register_llm(name: str, llm: Any) -> None:
    """Make a llama-index LLM available as backend ``name`` (API, CLI and UI)."""
    register(name, lambda _settings, _arg: LlamaIndexBackend(llm, name=name))
