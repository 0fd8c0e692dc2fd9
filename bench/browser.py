"""Submit -> first source card in a real browser: the web UI served by Gradio, driven by
headless Chromium (Playwright), so Gradio's queue, the event stream and the page's own
rendering are all inside the figure. ``bench/answers.py`` times the same in process."""

from __future__ import annotations

import socket
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


# Timed inside the page: performance.now() at the click, and a MutationObserver notes the
# first source card. Timing from Python around Playwright commands would add the driver's
# own round trips (~90 ms here) to a figure about the app.
CLICK_AND_WATCH = """() => {
  if (window.__obs) window.__obs.disconnect();
  window.__card = null;
  const t0 = performance.now();
  window.__obs = new MutationObserver(() => {
    if (window.__card === null && document.querySelector('#sources .src-card'))
      window.__card = performance.now() - t0;
  });
  window.__obs.observe(document.body, {subtree: true, childList: true});
  document.querySelector('#send').click();
}"""


def bench_first_source_browser(settings: Any, retriever: Any, n: int) -> dict[str, Any]:
    """``n`` questions, each in a new chat; the first one (page and model warm-up) is not
    counted."""
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
                page.evaluate(CLICK_AND_WATCH)
                page.wait_for_function("window.__card !== null", timeout=30_000)
                if i:
                    times.append(float(page.evaluate("window.__card")))
                page.wait_for_selector("#chat .meta", timeout=60_000)  # answer finished
            browser.close()
    finally:
        demo.close()
        cleanup(ui)
    method = "headless Chromium, in-page: Send clicked -> first source card in the DOM"
    out = {**ms_stats(times), "method": method}
    progress(f"  first source in the browser p50 {out['p50_ms']} ms")
    return out
