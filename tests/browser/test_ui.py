"""The web UI in a real headless Chromium (Playwright, Debian's /usr/bin/chromium).

Covers the chat as a person uses it (streamed answer, source cards before the answer
finishes, citation links, follow-up, stop, new chat, export download), saves
docs/screenshot.png for the README, and checks that hostile answer and corpus text stays
inert in the browser.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pytest

from assistant.answering.assistant import Assistant
from assistant.backends.fake import FakeBackend
from assistant.core.settings import Settings
from assistant.ingest.pipeline import run_ingest
from assistant.ui import serve as serving
from assistant.ui.serve import cleanup, create_ui
from tests.conftest import make_settings
from tests.corpus import shipped_papers
from tests.netutil import free_port

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
QUESTION = "Which papers address failure modes of physics-informed neural networks?"
# `make screenshot` sets SCREENSHOT_TO=docs/screenshot.png to refresh the README picture;
# a normal run writes to its temporary folder and leaves tracked files alone.
SCREENSHOT_TO = os.environ.get("SCREENSHOT_TO")


def launch(settings: Settings, backend: FakeBackend):
    settings = settings.with_overrides(ui__port=free_port())
    ui, demo = create_ui(settings, Assistant(settings, backend=backend))
    _, url, _ = serving.launch(ui, demo, prevent_thread_lock=True, quiet=True)
    return ui, demo, url


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        pytest.skip("Debian chromium is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(
        viewport={"width": 1400, "height": 900},
        accept_downloads=True,
        permissions=["clipboard-read", "clipboard-write"],
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.errors = errors
    yield page
    context.close()


@pytest.fixture(scope="module")
def fake() -> FakeBackend:
    return FakeBackend(delay_s=0.03)


@pytest.fixture(scope="module")
def app(hash_index: Settings, fake: FakeBackend):
    ui, demo, url = launch(hash_index, fake)
    yield ui, url
    demo.close()
    cleanup(ui)


def ask(page, question: str) -> None:
    page.fill("#question textarea", question)
    page.click("#send")


def test_chat_streams_answer_with_sources_and_saves_screenshot(app, page, tmp_path):
    ui, url = app
    page.goto(url)
    page.wait_for_selector("#question textarea")
    assert f"{shipped_papers()} papers" in page.inner_text("#info")
    ask(page, QUESTION)

    # Cards arrive with retrieval, while the answer is still being written.
    page.wait_for_selector("#sources .src-card", timeout=30_000)
    page.wait_for_selector("#chat .caret", timeout=30_000)
    assert page.locator("#chat .meta").count() == 0
    page.wait_for_selector("#chat .meta", timeout=60_000)

    chat = page.inner_text("#chat")
    assert "Physics-informed neural networks" in chat and "answered by fake" in chat
    assert page.locator("#chat a.cite.ok").count() >= 1
    assert page.locator("#chat .message").count() >= 2
    assert page.locator("#sources .src-card").count() == ui.settings.retrieval.k
    sources = page.inner_text("#sources")
    assert "✓ supported" in sources and "not cited" in sources
    assert page.locator("#sources .src-card.cited mark").count() >= 1

    page.locator("#chat .message-buttons button").last.click()  # copy the answer
    page.wait_for_timeout(400)
    copied = page.evaluate("navigator.clipboard.readText()")
    assert re.search(r"\S \[\d+\]", copied) and "<" not in copied and "answered by" not in copied

    page.locator("#chat a.cite").first.click()  # scrolls to and flashes its card
    page.wait_for_selector("#sources .src-card.flash", timeout=5_000)
    page.wait_for_timeout(1_500)

    page.evaluate("window.scrollTo(0, 0)")
    shot = Path(SCREENSHOT_TO) if SCREENSHOT_TO else tmp_path / "screenshot.png"
    page.screenshot(path=str(shot))
    assert shot.stat().st_size > 10_000

    with page.expect_download() as download:
        page.click("#export")
    exported = Path(download.value.path()).read_text(encoding="utf-8")
    assert "## Bibliography" in exported and "@misc{" in exported
    assert QUESTION in exported

    ask(page, "What about their training dynamics?")
    page.wait_for_function("document.querySelectorAll('#chat .meta').length >= 2", timeout=60_000)
    assert "Follow-up searched as" in page.inner_text("#chat")

    page.click("#new-chat")
    page.wait_for_function("!document.querySelector('#chat .meta')", timeout=10_000)
    assert "Sources for the answer appear here" in page.inner_text("#sources")
    assert not page.errors


def test_stop_interrupts_generation(app, page, fake: FakeBackend):
    _, url = app
    fake.delay_s = 0.25
    try:
        page.goto(url)
        page.wait_for_selector("#question textarea")
        ask(page, QUESTION)
        page.wait_for_selector("#chat .caret", timeout=30_000)
        page.click("#stop")
        page.wait_for_function(
            "document.querySelector('#chat').innerText.includes('stopped')", timeout=10_000
        )
        length = len(page.inner_text("#chat"))
        page.wait_for_timeout(1_500)
        assert len(page.inner_text("#chat")) == length  # nothing streams in after stop
        assert page.locator("#chat .meta").count() == 1
        assert "Error" not in page.inner_text("#chat")

        ask(page, QUESTION)  # New chat in the middle of an answer clears it for good
        page.wait_for_selector("#chat .caret", timeout=30_000)
        page.click("#new-chat")
        page.wait_for_function("!document.querySelector('#chat .caret')", timeout=10_000)
        page.wait_for_timeout(1_000)
        assert page.locator("#chat .message").count() == 0
        assert not page.errors
    finally:
        fake.delay_s = 0.03


HOSTILE_ANSWER = (
    '<img src=x onerror="window.__xss=1"> Stiff chemical kinetics break '
    "explicit neural solvers quickly [1]. ![x](http://evil.test/x.png)"
)


def hostile_corpus(path: Path) -> Path:
    papers = [
        {
            "title": 'Stiff solvers <img src=x onerror="window.__xss3=1">',
            "abstract": "Stiff chemical kinetics break explicit neural solvers quickly. "
            "<script>window.__xss2=1</script> We propose implicit training for "
            "stiff chemical kinetics. Strings like ${window.__xss4=1} and "
            "{{constructor.constructor('window.__xss5=1')()}} stay text.",
            "year": 2024,
            "url": "javascript:window.__xss6=1",
        },
        {
            "title": "Graph networks for fluid flow",
            "abstract": "Graph neural networks simulate fluid flow on meshes. They generalise "
            "to unseen geometries.",
        },
        {
            "title": "Protein structure with transformers",
            "abstract": "Transformers predict protein structure from sequence. Accuracy "
            "improves with depth.",
        },
    ]
    path.write_text("\n".join(json.dumps(p) for p in papers) + "\n", encoding="utf-8")
    return path


def test_hostile_text_stays_inert_in_the_browser(page, tmp_path):
    settings = make_settings(tmp_path / "index", [hostile_corpus(tmp_path / "hostile.jsonl")])
    # In a three-paper corpus every word is rare: the near-miss rule would refuse.
    settings = settings.with_overrides(answer__near_miss_shift=1.0, answer__near_miss_shift_all=1.0)
    run_ingest(settings)
    ui, demo, url = launch(settings, FakeBackend(responses=[HOSTILE_ANSWER], delay_s=0.2))
    try:
        page.goto(url)
        page.wait_for_selector("#question textarea")
        ask(page, "How do neural solvers handle stiff chemical kinetics?")
        page.wait_for_selector("#chat .meta", timeout=60_000)
        chat = page.inner_text("#chat")
        # Only verified sentences are shown: the markup and the image never reach the chat,
        # the true claim does.
        assert "onerror" not in chat and "evil.test" not in chat
        assert "Stiff chemical kinetics break explicit neural solvers quickly" in chat
        page.locator("#sources details summary").first.click()
        sources = page.inner_text("#sources")
        assert "<script>window.__xss2=1</script>" in sources
        assert '<img src=x onerror="window.__xss3=1">' in sources
        assert "{window.__xss4=1}" in sources  # ingest drops the '$' of TeX math
        assert "{{constructor.constructor('window.__xss5=1')()}}" in sources
        flags = page.evaluate("[1,2,3,4,5,6].map(i => typeof window['__xss' + (i === 1 ? '' : i)])")
        assert flags == ["undefined"] * 6
        live = page.evaluate(
            "document.querySelectorAll("
            "'#chat img, #sources img, #chat script, #sources script, "
            "#sources a[href^=javascript]').length"
        )
        assert live == 0
        assert not page.errors
    finally:
        demo.close()
        cleanup(ui)


def test_an_old_citation_opens_its_own_turns_card(app, page):
    _, url = app
    page.goto(url)
    page.wait_for_selector("#question textarea")
    ask(page, QUESTION)
    page.wait_for_function("document.querySelectorAll('#chat .meta').length >= 1", timeout=60_000)
    ask(page, "Which papers use graph neural networks to solve partial differential equations?")
    page.wait_for_function("document.querySelectorAll('#chat .meta').length >= 2", timeout=60_000)
    # Turn 1's sources are kept (collapsed) beside turn 2's.
    assert page.locator("#sources details.src-turn").count() >= 1
    first_answer = page.locator("#chat .answer").first
    link = first_answer.locator("a.cite").first
    href = link.get_attribute("href")
    assert href and href.startswith("#src-1-"), href  # it points at turn 1's card
    link.click()
    card = page.locator(href)
    page.wait_for_selector(f"{href}.flash", timeout=5_000)
    assert card.is_visible()  # its collapsed turn group was opened
    assert card.evaluate("c => c.closest('[data-turn]').dataset.turn") == "1"
    assert not page.errors
