"""Submit -> first source card in a real browser: the web UI served by Gradio, driven by
headless Chromium (Playwright), so Gradio's queue, the event stream and the page's own
rendering are all inside the figure. ``bench/answers.py`` times the same in process."""

from __future__ import annotations

import socket
import time
from pathlib import Path
from typing import Any

from bench.answers import answerable
from bench.common import ms_stats, progress

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def bench_first_source_browser(settings: Any, retriever: Any, n: int) -> dict[str, Any]:
    """``n`` questions, each in a new chat; the first one (page and model warm-up) is not
    counted. Times are wall clock around the click and the wait for the first card."""
    if not Path(CHROMIUM).exists():
        return {"unavailable": f"{CHROMIUM} not installed (`make browser`)"}
    from playwright.sync_api import sync_playwright

    from assistant.answering.assistant import Assistant
    from assistant.ui import serve as serving
    from assistant.ui.serve import cleanup, create_ui

    settings = settings.with_overrides(ui__port=free_port(), llm__backend="extractive")
    ui, demo = create_ui(settings, Assistant(settings, retriever=retriever))
    _, url, _ = serving.launch(ui, demo, prevent_thread_lock=True, quiet=True)
    times: list[float] = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page = browser.new_page()
            page.goto(url)
            page.wait_for_selector("#question textarea")
            for i, question in enumerate(answerable(n + 1, skip=5)):
                page.click("#new-chat")
                page.wait_for_function("!document.querySelector('#sources .src-card')")
                page.fill("#question textarea", question)
                t0 = time.perf_counter()
                page.click("#send")
                page.wait_for_selector("#sources .src-card", timeout=30_000)
                if i:
                    times.append((time.perf_counter() - t0) * 1000)
                page.wait_for_selector("#chat .meta", timeout=60_000)  # answer finished
            browser.close()
    finally:
        demo.close()
        cleanup(ui)
    out = {**ms_stats(times), "method": "headless Chromium: click Send -> first source card"}
    progress(f"  first source in the browser p50 {out['p50_ms']} ms")
    return out
