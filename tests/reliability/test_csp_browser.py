"""The Content-Security-Policy in a real headless Chromium: the page loads, answers and
runs our script (a citation click flashes its card) with no CSP violation, and it cannot
be framed."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from assistant.answering.assistant import Assistant
from assistant.backends.fake import FakeBackend
from assistant.core.settings import Settings
from assistant.ui.serve import cleanup, create_ui, launch
from tests.netutil import free_port

pytestmark = [pytest.mark.browser, pytest.mark.slow]
CHROMIUM = "/usr/bin/chromium"
WATCH = """
window.__csp = [];
document.addEventListener('securitypolicyviolation',
  e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));
"""


def test_page_works_under_the_policy_and_cannot_be_framed(hash_index: Settings) -> None:
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        pytest.skip("Debian chromium is not installed")
    from playwright.sync_api import sync_playwright

    settings = hash_index.with_overrides(ui__port=free_port())
    ui, demo = create_ui(settings, Assistant(settings, backend=FakeBackend()))
    _, url, _ = launch(ui, demo, prevent_thread_lock=True, quiet=True)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
            )
            page = browser.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.add_init_script(WATCH)
            page.goto(url)
            page.fill("#question textarea", "failure modes of physics-informed neural networks")
            page.click("#send")
            page.wait_for_selector("#chat a.cite", timeout=60_000)
            page.click("#chat a.cite >> nth=0")  # handled by static/app.js
            page.wait_for_selector("#sources .flash", timeout=5_000)
            assert page.evaluate("window.__csp") == []
            assert not [e for e in errors if "Content Security Policy" in e], errors
            framer = browser.new_page()
            framer.set_content(f'<iframe id="f" src="{url}"></iframe>')
            framer.wait_for_timeout(2000)
            framed = [f.url for f in framer.frames if f is not framer.main_frame]
            assert framed and framed[0].startswith("chrome-error:"), framed  # refused
            browser.close()
    finally:
        demo.close()
        cleanup(ui)
