"""HTML for the web UI: corpus text is escaped and only known sources are linked."""

from __future__ import annotations

from assistant.ui import html as ui_render
from tests.factories import hostile_source, supported_citation
from tests.markup import assert_inert


def test_source_cards_escape_corpus_text():
    src = hostile_source()
    citation = supported_citation(src, "<script>alert(2)</script>")
    for markup in (
        ui_render.sources_html([src], [citation]),
        ui_render.sources_html([src], pending=True),
    ):
        assert_inert(markup)
        assert "&lt;script&gt;alert(2)&lt;/script&gt;" in markup
        assert "javascript:" not in markup
    assert "<mark>PINNs fail on stiff problems.</mark>" in ui_render.highlight(
        src.abstract, src.passages
    )


def test_citation_links_only_for_known_sources():
    text = ui_render.linkify_citations(ui_render.esc("A [1]. B [2, 3]. C [9]. D [x](y)"), [1, 2, 3])
    assert text.count('class="cite"') == 3 and "[9]" in text and "[x](y)" in text
    assert_inert(text)
