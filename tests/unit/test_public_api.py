"""The names ``import assistant`` offers."""

from __future__ import annotations

import pytest


def test_public_api_names() -> None:
    import assistant
    from assistant.answering import assistant as chat
    from assistant.core import types
    from assistant.retrieval import retriever

    assert assistant.ask is chat.ask and assistant.ask_stream is chat.ask_stream
    assert assistant.Assistant is chat.Assistant and assistant.search is retriever.search
    assert assistant.Answer is types.Answer
    with pytest.raises(AttributeError):
        assistant.nope  # noqa: B018
