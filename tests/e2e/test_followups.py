"""A conversation on the real corpus with the real embedder: a list question, then
"what did the second one find about …?". The follow-up must be about the second paper
the first answer listed: the shown rewrite names it, retrieval is pinned to it, and the
answer cites it."""

from __future__ import annotations

from assistant.answering.assistant import Assistant
from assistant.core.settings import Settings

LIST_QUESTION = "Which papers address failure modes of physics-informed neural networks?"


def test_the_second_one_is_the_second_listed_paper(real_index: Settings, real_models) -> None:
    bot = Assistant(real_index.with_overrides(llm__backend="extractive"))
    first = bot.ask(LIST_QUESTION)
    listed = list(dict.fromkeys(c.number for c in first.citations))
    assert len(listed) >= 2, f"the list question should list several papers: {first.text}"
    second = next(s for s in first.sources if s.number == listed[1])

    follow = bot.ask("What did the second one find about training?", [first])
    assert second.title in follow.standalone_query  # the rewrite shown to the user names it
    assert follow.sources and {s.paper_id for s in follow.sources} == {second.paper_id}
    assert not follow.abstained and follow.citations
    assert {c.paper_id for c in follow.citations} == {second.paper_id}

    # Plain-dict history (no Answer objects) still works: the topic is carried over.
    plain = [
        {"role": "user", "content": first.question},
        {"role": "assistant", "content": first.text},
    ]
    assert bot.ask("And what did they find?", plain).rewritten
