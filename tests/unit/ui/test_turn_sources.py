"""Sources per turn in the web UI, relevance labels and verifier badges (``ui.html``), and
each turn's own bibliography in the Markdown export."""

from __future__ import annotations

from assistant.core.types import Answer, Citation, NumberedSource, Timings
from assistant.export.markdown import conversation_markdown
from assistant.ui import html as R
from assistant.ui.session import sources_panel


def src(number: int, title: str, relevance: float = 0.6) -> NumberedSource:
    return NumberedSource(
        number=number, paper_id=f"{title}-{number}", title=title, abstract=f"{title} abstract.",
        score=0.5, passages=[f"{title} abstract."], evidence=True, relevance=relevance,
    )  # fmt: skip


def cite(number: int, title: str, supported: bool = True, reason: str = "") -> Citation:
    return Citation(
        number=number, paper_id=f"{title}-{number}", title=title, snippet=f"{title} abstract.",
        support=0.8 if supported else 0.2, supported=supported, verifier="strict", reason=reason,
    )  # fmt: skip


def answer(question: str, text: str, sources: list, citations: list, abstained=False) -> Answer:
    return Answer(
        question=question, standalone_query=question, text=text, citations=citations,
        sources=sources, abstained=abstained, backend="fake", timings=Timings(),
    )  # fmt: skip


FIRST = answer("Q1?", "PINNs fail [1].", [src(1, "PINN"), src(2, "KAN")], [cite(1, "PINN")])
SECOND = answer("Q2?", "KANs fit [2].", [src(1, "GELU"), src(2, "KAN2")], [cite(2, "KAN2")])


def test_each_turn_links_to_its_own_cards() -> None:
    old, new = R.answer_html(FIRST, turn=1), R.answer_html(SECOND, turn=2)
    assert 'href="#src-1-1"' in old and 'href="#src-2-2"' in new
    turns = [
        {"question": "Q1?", "html": old, "answer": FIRST.model_dump(mode="json")},
        {"question": "Q2?", "html": new, "answer": SECOND.model_dump(mode="json")},
    ]
    panel = sources_panel(turns)
    assert 'id="src-1-1"' in panel and 'id="src-2-2"' in panel
    # The latest turn first and open; older turns collapsed under their question.
    assert panel.index('data-turn="2"') < panel.index('data-turn="1"')
    assert '<details class="src-turn" data-turn="1"><summary>Turn 1: Q1?' in panel
    assert '<div class="src-turn latest" data-turn="2">' in panel


def test_pending_sources_of_the_turn_being_answered() -> None:
    turns = [
        {"question": "Q1?", "html": "", "answer": FIRST.model_dump(mode="json")},
        {"question": "Q2?", "html": "", "answer": None},
    ]
    panel = sources_panel(turns, [src(1, "Pending")])
    assert "checking…" in panel and 'id="src-2-1"' in panel and 'id="src-1-1"' in panel
    assert sources_panel([]) == R.sources_placeholder()


def test_relevance_is_a_label_with_an_explanation() -> None:
    card = R.source_card(src(1, "PINN", relevance=0.61), None, pending=False, turn=1)
    assert "relevance high · 61" in card and f'title="{R.esc(R.RELEVANCE_HELP)}"' in card
    assert "score 0.5" not in card
    assert "relevance low · 12" in R.relevance_badge(0.12)
    assert "relevance medium · 40" in R.relevance_badge(0.40)
    assert R.relevance_badge(None) == ""


def test_citation_badges_name_the_verifier_and_the_reason() -> None:
    ok = R.source_card(src(1, "PINN"), [cite(1, "PINN")], pending=False)
    assert "✓ supported" in ok and "strict" in ok and 'title="Checked by strict' in ok
    bad = R.source_card(
        src(1, "PINN"), [cite(1, "PINN", False, "number 42 is not in the abstract")], pending=False
    )
    assert "✗ rejected" in bad
    assert 'title="Rejected by strict: number 42 is not in the abstract"' in bad


def test_abstention_links_the_nearest_paper_and_notes_show() -> None:
    text = "The collection does not answer this question. It has *PINN* [1], but no drones."
    abstained = answer("Q?", text, [src(1, "PINN")], [], abstained=True)
    abstained = abstained.model_copy(update={"notes": ["The question is in German."]})
    shown = R.answer_html(abstained, turn=3)
    assert 'href="#src-3-1"' in shown and "The question is in German." in shown


def test_export_lists_each_turns_sources_under_their_own_numbers() -> None:
    rejected = answer(
        "Q3?", "Maybe [1].", [src(1, "Weak")], [cite(1, "Weak", False, "polarity flipped")]
    )
    abstained = answer("Q4?", "Not here; nearest *PINN* [1].", [src(1, "PINN")], [], True)
    md = conversation_markdown([FIRST, SECOND, rejected, abstained])
    turns = md.split("\n## ")
    assert "- \\[1\\] *PINN*" in turns[1] and "(supported, strict)" in turns[1]
    assert "- \\[2\\] *KAN2*" in turns[2] and "GELU" not in turns[2]
    assert "(rejected by strict: polarity flipped)" in turns[3]
    assert "- \\[1\\] *PINN*" in turns[4]  # named by the abstention, listed for its [1]
