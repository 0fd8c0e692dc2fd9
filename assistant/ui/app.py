"""The web UI's layout (Gradio Blocks): chat, settings and the sources panel.

Handlers live in ``session.py``, HTML in ``html.py``, styles and script in ``static/``;
serving (launch options, hardening) in ``serve.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, get_args

import gradio as gr

from assistant.backends import available_backends
from assistant.core.settings import RetrievalMode
from assistant.ui import html as R
from assistant.ui.session import ChatSession

EXAMPLES = [
    "Which papers address failure modes of physics-informed neural networks?",
    "How can graph neural networks be used to solve partial differential equations?",
    "What methods quantify uncertainty in neural network surrogate models?",
]
# Friendly labels for known names; names themselves come from the registry and the type.
BACKEND_LABELS = {
    "llamacpp": "Bundled model (llama.cpp)",
    "openai": "OpenAI-compatible server",
    "extractive": "Extractive (quoted sentences, no model)",
    "fake": "Fake (demo)",
}
MODE_LABELS = {"hybrid": "Hybrid (dense + BM25)", "dense": "Dense", "bm25": "BM25 keywords"}
PRIVATE = {"api_visibility": "private"}


def backend_choices(current: str) -> list[tuple[str, str]]:
    choices = [(BACKEND_LABELS.get(n, n), n) for n in available_backends()]
    if current not in {v for _, v in choices}:
        choices.append((current, current))
    return choices


def mode_choices() -> list[tuple[str, str]]:
    return [(MODE_LABELS.get(m, m), m) for m in get_args(RetrievalMode)]


@dataclass
class Controls:
    """The components the handlers read and write."""

    turns: Any
    info: Any
    chatbot: Any
    box: Any
    send: Any
    stop: Any
    new: Any
    download: Any
    backend: Any
    base_url: Any
    model: Any
    mode: Any
    k: Any
    sources: Any


def build(session: ChatSession) -> gr.Blocks:
    with gr.Blocks(
        title="Research assistant", analytics_enabled=False, delete_cache=(3600, 3600)
    ) as demo:
        c = _layout(session)
        _wire(session, c)
    return demo


def _layout(session: ChatSession) -> Controls:
    s = session.settings
    turns = gr.State([])
    gr.Markdown(
        "# Research assistant\nAnswers from the paper abstracts in the local "
        "collection, with every citation checked against its abstract.",
        elem_id="app-title",
    )
    info = gr.HTML(session.info(s.llm.backend), elem_id="info")
    with gr.Row(equal_height=False):
        with gr.Column(scale=3, min_width=420):
            chatbot, box, send, stop, new, download = _chat_column()
            with gr.Accordion("Settings", open=False, elem_id="settings"):
                backend = gr.Dropdown(
                    backend_choices(s.llm.backend), value=s.llm.backend, label="Answer backend"
                )
                with gr.Row():
                    # Read-only unless ui.allow_custom_backend_url: otherwise a visitor could
                    # make the server connect to any address (session.options ignores it).
                    custom_url = s.ui.allow_custom_backend_url
                    base_url = gr.Textbox(
                        s.llm.base_url or "",
                        visible=False,
                        interactive=custom_url,
                        label="Server URL (…/v1)" if custom_url else "Server URL (from config)",
                    )
                    model = gr.Textbox(s.llm.model or "", visible=False, label="Model name")
                with gr.Row():
                    mode = gr.Radio(mode_choices(), value=s.retrieval.mode, label="Retrieval")
                    k = gr.Slider(1, 20, value=s.retrieval.k, step=1, label="Papers retrieved")
        with gr.Column(scale=2, min_width=320):
            sources = gr.HTML(R.sources_placeholder(), elem_id="sources")
    return Controls(
        turns,
        info,
        chatbot,
        box,
        send,
        stop,
        new,
        download,
        backend,
        base_url,
        model,
        mode,
        k,
        sources,
    )


def _chat_column() -> tuple[Any, ...]:
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
        send = gr.Button("Send", variant="primary", scale=1, min_width=80, elem_id="send")
        stop = gr.Button("Stop", variant="stop", scale=1, min_width=70, elem_id="stop")
    with gr.Row():
        new = gr.Button("New chat", size="sm", elem_id="new-chat")
        download = gr.DownloadButton(
            "Export Markdown + BibTeX", size="sm", interactive=False, elem_id="export"
        )
    gr.Examples(EXAMPLES, inputs=[box], label="Example questions", **PRIVATE)
    return chatbot, box, send, stop, new, download


def _wire(session: ChatSession, c: Controls) -> None:
    inputs = [c.box, c.turns, c.backend, c.base_url, c.model, c.mode, c.k]
    outputs = [c.box, c.chatbot, c.sources, c.turns, c.download]
    opts = {"show_progress": "hidden", "concurrency_id": "answer", **PRIVATE}
    c.box.submit(session.respond, inputs, outputs, **opts)
    c.send.click(session.respond, inputs, outputs, **opts)
    c.stop.click(session.stop, None, None, queue=False, **PRIVATE)
    c.new.click(
        session.new_chat, None, [c.box, c.chatbot, c.sources, c.turns, c.download], **PRIVATE
    )
    for comp in (c.backend, c.base_url, c.model):
        comp.change(
            session.settings_changed,
            [c.backend, c.base_url, c.model],
            [c.base_url, c.model, c.info],
            queue=False,
            **PRIVATE,
        )
    gr.api(session.ask_api, api_name="ask", concurrency_id="answer")
