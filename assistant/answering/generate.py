"""Generation: stream a backend's raw text, and switch to the fallback backend (once, here).

The raw pieces go to the composer, which verifies each sentence before anything is
shown. When the chosen backend fails (unavailable, timed out, crashed) the user is told
why (a ``notice``) and the fallback backend continues; sentences already verified stay.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Generator, Iterator
from dataclasses import dataclass

from assistant.answering.prompting import build_prompt
from assistant.backends import Backend, GenerationRequest, backend_name, create_backend
from assistant.core.errors import AssistantError, BackendError
from assistant.core.settings import Settings
from assistant.core.types import NoticeEvent, NumberedSource

log = logging.getLogger(__name__)


@dataclass
class Generation:
    """What one backend wrote for one answer (partial text survives a failure)."""

    backend: str
    text: str = ""
    first_token_ms: float | None = None
    fallback_reason: str | None = None
    complete: bool = True


class BackendPool:
    """Backends built once per configuration; a given backend serves its own spec."""

    def __init__(self, given: Backend | None = None, given_spec: str | None = None) -> None:
        self._given, self._given_spec = given, given_spec
        self._built: dict[str, Backend] = {}
        self._lock = threading.Lock()

    def get(self, settings: Settings) -> Backend:
        spec = settings.llm.backend
        if self._given is not None and spec == self._given_spec:
            return self._given
        key = f"{spec}|{settings.llm.model_dump_json()}"
        with self._lock:
            if key not in self._built:
                self._built[key] = create_backend(spec, settings.llm)
            return self._built[key]


def can_fallback(spec: str, settings: Settings) -> bool:
    fallback = settings.llm.fallback
    return bool(fallback) and backend_name(fallback) != backend_name(spec)


class Writer:
    """Runs backends for answers; ``generate`` and ``fall_back`` are the two entries."""

    def __init__(self, pool: BackendPool) -> None:
        self.pool = pool

    def generate(
        self, query: str, evidence: list[NumberedSource], settings: Settings, started: float
    ) -> Generator[str | NoticeEvent, None, Generation]:
        spec = settings.llm.backend
        gen = Generation(backend=spec)
        try:
            yield from self._run(gen, query, evidence, settings, started)
            return gen
        except BackendError as exc:
            error: BackendError = exc
        except AssistantError:
            raise  # configuration or input problems are the user's to fix, not to paper over
        except Exception as exc:  # a backend bug must not take the answer down with it
            log.exception("backend %s crashed", spec)
            error = BackendError(f"the model failed ({type(exc).__name__})")
        reason = error.user_message()
        if not can_fallback(spec, settings):
            raise error  # no fallback: the caller decides what it can still show
        log.warning("backend %s failed: %s; using %s", spec, reason, settings.llm.fallback)
        return (yield from self.fall_back(reason, query, evidence, settings, started))

    def fall_back(
        self,
        reason: str,
        query: str,
        evidence: list[NumberedSource],
        settings: Settings,
        started: float,
    ) -> Generator[str | NoticeEvent, None, Generation]:
        """Tell the user why, and stream the fallback's answer."""
        fallback = settings.llm.fallback or "extractive"
        yield NoticeEvent(text=f"{reason}. Showing an answer from the {fallback} backend instead.")
        gen = Generation(fallback, fallback_reason=reason)
        yield from self._run(gen, query, evidence, settings, started)
        return gen

    def supplement(
        self, query: str, evidence: list[NumberedSource], settings: Settings, started: float
    ) -> Generator[str, None, Generation]:
        """The fallback backend's quotes after the model's own sentences (no notice: the
        model's answer stands; the quotes add what it left out)."""
        gen = Generation(settings.llm.fallback or "extractive")
        yield from self._run(gen, query, evidence, settings, started)
        return gen

    def _run(
        self,
        gen: Generation,
        query: str,
        evidence: list[NumberedSource],
        settings: Settings,
        started: float,
    ) -> Iterator[str]:
        """Stream ``gen.backend``'s raw answer into ``gen`` and out, piece by piece."""
        run_settings = (
            settings
            if gen.backend == settings.llm.backend
            else settings.with_overrides(llm__backend=gen.backend)
        )
        backend = self.pool.get(run_settings)
        prompt = build_prompt(query, evidence)
        request = GenerationRequest(
            messages=prompt.messages(),
            question=query,
            evidence=evidence,
            max_tokens=settings.llm.max_tokens,
            timeout_s=settings.llm.timeout_s,
            temperature=settings.llm.temperature,
        )
        for piece in backend.stream(request):
            if gen.first_token_ms is None:
                gen.first_token_ms = elapsed_ms(started)
            gen.text += piece
            yield piece
            if len(gen.text) > settings.answer.max_answer_chars:
                break


def elapsed_ms(since: float) -> float:
    return round((time.perf_counter() - since) * 1000, 1)
