"""The Markdown export of a conversation: cited papers only, BibTeX, and inert text."""

from __future__ import annotations

from assistant.core.types import Answer, Timings
from assistant.export.markdown import conversation_markdown, md_text
from tests.factories import hostile_source, supported_citation
from tests.markup import assert_inert, render_markdown


def make_answer(text: str = "PINNs fail on stiff problems [1].") -> Answer:
    src = hostile_source()
    return Answer(
        question="Why do PINNs fail?",
        standalone_query="Why do PINNs fail?",
        text=text,
        citations=[supported_citation(src, "PINNs fail on stiff problems.")],
        sources=[src, hostile_source(2).model_copy(update={"paper_id": "zzz", "title": "Other"})],
        abstained=False,
        backend="fake",
        timings=Timings(),
    )


def test_export_markdown_has_bibliography_and_bibtex():
    markdown = conversation_markdown([make_answer()])
    assert "## 1. Why do PINNs fail?" in markdown
    assert "PINNs fail on stiff problems [1]." in markdown
    assert "## Bibliography" in markdown and "```bibtex" in markdown
    assert "@misc{img_abc123," in markdown and "Other" not in markdown  # only cited papers
    assert "year = {2024}" in markdown
    rendered = render_markdown(markdown)
    assert_inert(rendered)
    assert "&lt;img src=x" in rendered and "javascript:" not in markdown


def test_md_text_escapes_markdown_syntax():
    assert md_text("see ![x](http://e) [2] <b>") == r"see \!\[x\]\(http://e\) [2] \<b\>"
