"""What hostile text would do in a browser: live tags, event handlers and link targets."""

from __future__ import annotations

import html.parser


class LiveMarkup(html.parser.HTMLParser):
    """Collects what would be live in a browser: tags, event handlers, link targets."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.handlers: list[str] = []
        self.hrefs: list[str] = []

    def handle_starttag(self, tag, attrs):  # noqa: ANN001
        self.tags.add(tag)
        for name, value in attrs:
            if name.startswith("on"):
                self.handlers.append(name)
            if name in ("href", "src"):
                self.hrefs.append(value or "")


def live(markup: str) -> LiveMarkup:
    parser = LiveMarkup()
    parser.feed(markup)
    return parser


def render_markdown(text: str) -> str:
    """Markdown as a typical renderer shows it, raw HTML enabled."""
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark").render(text)


def assert_inert(markup: str) -> None:
    found = live(markup)
    assert not found.tags & {"script", "img", "iframe", "object", "embed", "svg", "style"}
    assert not found.handlers
    assert all(h.startswith("#src-") or h.startswith("https://") for h in found.hrefs), found.hrefs
