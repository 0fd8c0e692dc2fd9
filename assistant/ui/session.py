"""Session handlers of the web UI: answering with streaming, stop, new chat, export,
settings and the ``/ask`` API. Each browser session has at most one running answer,
which a ``threading.Event`` cancels (Stop or New chat)."""

from __future__ import annotations

import html
import logging
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gradio as gr

from assistant.answering.assistant import Assistant
from assistant.backends import backend_name
from assistant.core.errors import AssistantError
from assistant.core.inputs import clean_text
from assistant.core.settings import Settings
from assistant.core.types import (
    Answer,
    DoneEvent,
    Message,
    NumberedSource,
    PendingEvent,
    ResetEvent,
    SourcesEvent,
    TextEvent,
)
from assistant.export.markdown import write_export
from assistant.ui import html as R

log = logging.getLogger(__name__)

GENERIC_ERROR = "Something went wrong; the details are in the server log."
Turn = dict[str, Any]  # {"question": str, "html": str, "answer": dict | None} (gr.State)


@dataclass
class Cancel:
    """A running answer's cancellation: set once, with the reason ("stop" or "new")."""

    event: threading.Event = field(default_factory=threading.Event)
    reason: str = ""

    def set(self, reason: str) -> None:
        if not self.event.is_set():
            self.reason = reason
            self.event.set()


def history(turns: list[Turn]) -> list[Message]:
    """The finished turns as typed history, each assistant turn carrying its ``Answer``."""
    out: list[Message] = []
    for t in turns:
        if t.get("answer"):
            answer = Answer.model_validate(t["answer"])
            out += [
                Message(role="user", content=t["question"]),
                Message(role="assistant", content=answer.text, answer=answer),
            ]
    return out


def sources_panel(turns: list[Turn], pending: list[NumberedSource] | None = None) -> str:
    """Every answered turn's source cards (older turns collapsed); ``pending``: the sources
    of the turn being answered, while its citations are checked."""
    groups = []
    for number, t in enumerate(turns, start=1):
        latest = number == len(turns)
        if t.get("answer"):
            a = Answer.model_validate(t["answer"])
            groups.append(
                R.turn_sources(
                    number, a.question, a.sources, a.citations, latest=latest, abstained=a.abstained
                )
            )
        elif latest and pending is not None:
            groups.append(R.turn_sources(number, t["question"], pending, latest=True, pending=True))
    return R.sources_panel(groups)


def api_result(answer: Answer) -> dict[str, Any]:
    """What ``/ask`` returns: plain JSON, no HTML."""
    return {
        "text": answer.text,
        "citations": [c.model_dump(mode="json") for c in answer.citations],
        "sources": [s.model_dump(mode="json") for s in answer.sources],
        "abstained": answer.abstained,
        "standalone_query": answer.standalone_query,
        "backend": answer.backend,
    }


def _session(request: gr.Request | None) -> str:
    return getattr(request, "session_hash", None) or ""


@dataclass
class ChatSession:
    """The UI's handlers; Gradio calls them, and tests call them directly."""

    settings: Settings
    assistant: Assistant
    export_dir: Path = field(
        default_factory=lambda: Path(tempfile.mkdtemp(prefix="assistant-export-"))
    )
    _running: dict[str, Cancel] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def options(
        self, backend: str, base_url: str, model: str, mode: str, k: float | None
    ) -> dict[str, Any]:
        """Per-call options (``core.settings.OPTIONS`` names) from the settings controls."""
        out: dict[str, Any] = {
            "backend": backend or None,
            "mode": mode or None,
            "k": int(k) if k else None,
        }
        if backend_name(backend or "") == "openai":
            if self.settings.ui.allow_custom_backend_url:  # else a visitor picks our peer
                out["base_url"] = (base_url or "").strip() or None
            out["model"] = (model or "").strip() or None
        return {key: value for key, value in out.items() if value is not None}

    def respond(
        self,
        question: str,
        turns: list[Turn] | None,
        backend: str,
        base_url: str,
        model: str,
        mode: str,
        k: float,
        request: gr.Request | None = None,
    ) -> Iterator[tuple[Any, ...]]:
        """Stream one answer. Outputs: textbox, chatbot, sources, turns, download.

        Stop and New chat set this session's ``Cancel``; the generator ends at the next
        event, so no late update can overwrite theirs.
        """
        # Echoed before the answer starts: a lone surrogate could not be sent to the browser.
        question = clean_text(question) if isinstance(question, str) else ""
        if not question:
            yield gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
            return
        key, cancel = _session(request), Cancel()
        with self._lock:
            self._running[key] = cancel
        try:
            options = self.options(backend, base_url, model, mode, k)
            yield from self._respond(question, list(turns or []), cancel, options)
        finally:
            with self._lock:
                if self._running.get(key) is cancel:
                    del self._running[key]

    def _respond(
        self, question: str, turns: list[Turn], cancel: Cancel, options: dict[str, Any]
    ) -> Iterator[tuple[Any, ...]]:
        past = history(turns)
        turn: Turn = {"question": question, "html": R.streaming_html("", []), "answer": None}
        turns.append(turn)
        searching = R.sources_placeholder("Searching the collection…")
        yield "", R.chat_messages(turns), searching, turns, gr.skip()
        try:
            with closing(self.assistant.stream(question, past, **options)) as events:
                yield from consume(events, turns, turn, cancel, self.export)
                return
        except AssistantError as exc:
            log.warning("answer failed: %s", exc)
            turn["html"] = R.error_html(exc.user_message())
        except Exception:
            log.exception("answer failed")
            turn["html"] = R.error_html(GENERIC_ERROR)
        yield gr.skip(), R.chat_messages(turns), gr.skip(), turns, gr.skip()

    def export(self, turns: list[Turn]) -> Any:
        answers = [Answer.model_validate(t["answer"]) for t in turns if t.get("answer")]
        if not answers:
            return gr.update(value=None, interactive=False)
        try:
            path = write_export(answers, self.export_dir)
        except OSError:
            log.exception("export failed")
            return gr.update(value=None, interactive=False)
        return gr.update(value=str(path), interactive=True)

    def is_running(self, request: gr.Request | None) -> bool:
        """Whether this session has an answer in progress."""
        with self._lock:
            return _session(request) in self._running

    def cancel(self, request: gr.Request | None, reason: str) -> Cancel | None:
        """Cancel this session's running answer ("stop" marks it; "new" ends it silently)."""
        with self._lock:
            cancel = self._running.get(_session(request))
        if cancel is not None:
            cancel.set(reason)
        return cancel

    def stop(self, request: gr.Request | None = None) -> None:
        """Ask this session's running answer to stop; it marks itself 'stopped'."""
        self.cancel(request, "stop")

    def new_chat(self, request: gr.Request | None = None) -> tuple[Any, ...]:
        cancel = self.cancel(request, "new")
        deadline = time.monotonic() + 5
        while cancel is not None and time.monotonic() < deadline:  # let it wind down first
            with self._lock:
                if self._running.get(_session(request)) is not cancel:
                    break
            time.sleep(0.02)
        return ("", [], R.sources_placeholder(), [], gr.update(value=None, interactive=False))

    def settings_changed(self, backend: str, base_url: str, model: str) -> tuple[Any, ...]:
        is_openai = backend_name(backend or "") == "openai"
        return (
            gr.update(visible=is_openai),
            gr.update(visible=is_openai),
            self.info(backend, base_url, model),
        )

    def info(self, backend: str, base_url: str = "", model: str = "") -> str:
        try:
            stats, error = self.assistant.retriever.stats(), ""
        except AssistantError as exc:
            stats, error = None, exc.user_message()
        except Exception:
            log.exception("index stats failed")
            stats, error = None, "unavailable"
        return R.info_html(R.model_label(self.settings, backend, base_url, model), stats, error)

    def ask_api(self, question: str, history: list[dict[str, Any]] | None = None) -> dict:
        """Answer a research question from the paper abstracts, with checked citations.

        Args:
            question: the question (a follow-up is rewritten using the history).
            history: earlier turns as a list of {"role": "user"|"assistant", "content": str}.
        """
        try:
            # Only None means "no history": 0, "" or {} are invalid history, not empty.
            return api_result(self.assistant.ask(question, [] if history is None else history))
        except Exception as exc:
            raise api_error(exc) from None


def consume(
    events: Iterator[Any],
    turns: list[Turn],
    turn: Turn,
    cancel: Cancel,
    export: Callable[[list[Turn]], Any],
) -> Iterator[tuple[Any, ...]]:
    """The handler's outputs for one answer's stream events (``turn`` is the last of
    ``turns``); ``export`` makes the download once the answer is done."""
    text, notice, sources, query, rewritten = "", "", [], "", False
    number = turns.index(turn) + 1  # card ids carry the turn: old citations stay right
    for event in events:
        if cancel.event.is_set():
            if cancel.reason == "stop":
                turn["html"] = R.stopped_html(turn["html"])
                yield gr.skip(), R.chat_messages(turns), gr.skip(), turns, gr.skip()
            return
        if isinstance(event, DoneEvent):
            answer = event.answer
            turn["answer"] = answer.model_dump(mode="json")
            turn["html"] = R.answer_html(answer, notice, turn=number)
            yield gr.skip(), R.chat_messages(turns), sources_panel(turns), turns, export(turns)
            return
        if isinstance(event, PendingEvent):
            continue  # nothing new to show; the loop checks for a stop again
        if isinstance(event, SourcesEvent):
            sources, query, rewritten = event.sources, event.standalone_query, event.rewritten
        elif isinstance(event, TextEvent):
            text += event.text
        elif isinstance(event, ResetEvent):
            text = ""
        else:
            notice = event.text
        turn["html"] = R.streaming_html(
            text,
            sources,
            standalone_query=query,
            notice=notice,
            rewritten=rewritten,
            status="Writing the answer…",
            turn=number,
        )
        cards = sources_panel(turns, sources) if isinstance(event, SourcesEvent) else gr.skip()
        yield gr.skip(), R.chat_messages(turns), cards, turns, gr.skip()


def api_error(exc: Exception) -> gr.Error:
    """The one message ``/ask`` returns for a failure (details go to the log)."""
    if isinstance(exc, AssistantError):
        message = html.escape(exc.user_message(), quote=False)  # API clients read it too
        return gr.Error(message, print_exception=False)
    log.error("/ask failed", exc_info=exc)
    return gr.Error(GENERIC_ERROR, print_exception=False)
