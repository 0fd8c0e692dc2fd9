"""Terminal output is inert: escape sequences, BEL, C1 controls and bidi overrides in
titles, answers, notes and errors print as visible escapes; undecodable argv and stdin
are repaired; unexpected failures are one line, never a traceback."""

from __future__ import annotations

import io
import json

import pytest

from assistant.answering.assistant import Assistant
from assistant.backends.fake import FakeBackend
from assistant.cli import main as cli_main
from assistant.cli.terminal import MAX_LINE_CHARS, safe_json, safe_terminal, terminal_chat
from assistant.core.errors import IndexUnavailable
from assistant.core.settings import Settings
from assistant.core.types import PaperHit, Passage
from assistant.retrieval import retriever as retriever_mod
from tests.cliutil import cli, index_env

EVIL = "Evil \x1b[2J\x1b]0;pwned\x07 \x9b31m \u202eabc\u202c \r over"
RAW = ["\x1b", "\x07", "\x9b", "\u202e", "\u202c", "\r"]


def assert_inert(text: str) -> None:
    for char in RAW:
        assert char not in text, ascii(text)


def test_safe_terminal_escapes_what_a_terminal_would_obey() -> None:
    shown = safe_terminal(EVIL + "\nline two\ttab")
    assert shown == (
        "Evil \\x1b[2J\\x1b]0;pwned\\x07 \\x9b31m \\u202eabc\\u202c \\x0d over\nline two\ttab"
    )
    assert safe_terminal("caf\udce9 ok") == "caf\\udce9 ok"
    assert safe_terminal("plain café 😀 שלום") == "plain café 😀 שלום"


def test_safe_json_is_the_same_json_and_inert() -> None:
    data = {"title": EVIL, "é": "\u200f\u2066x"}
    text = safe_json(json.dumps(data, ensure_ascii=False))
    assert json.loads(text) == data
    assert_inert(text)


def hostile_hit() -> PaperHit:
    passage = Passage(chunk_id="c", text=f"Snippet {EVIL}", position=0, score=1.0)
    return PaperHit(
        rank=1,
        paper_id="p",
        title=f"Title {EVIL}",
        abstract=EVIL,
        sources=["x.jsonl"],
        score=1.0,
        passages=[passage],
    )


@pytest.fixture
def hostile_search(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(retriever_mod.Retriever, "__init__", lambda self, settings: None)
    monkeypatch.setattr(retriever_mod.Retriever, "search", lambda self, *a, **k: [hostile_hit()])


@pytest.mark.parametrize("json_flag", [[], ["--json"]])
def test_search_output_is_escaped(hostile_search, capsys, json_flag: list[str]) -> None:
    assert cli_main.main(["search", "anything", *json_flag]) == 0
    out = capsys.readouterr().out
    assert_inert(out)
    if json_flag:
        assert json.loads(out)[0]["title"] == f"Title {EVIL}"  # the data itself is intact
    else:
        assert "Title Evil \\x1b[2J\\x1b]0;pwned\\x07" in out


def test_error_messages_are_escaped(monkeypatch, capsys) -> None:
    def boom(self, settings):  # noqa: ANN001
        raise IndexUnavailable(f"server said {EVIL}")

    monkeypatch.setattr(retriever_mod.Retriever, "__init__", boom)
    assert cli_main.main(["search", "anything"]) == 5
    err = capsys.readouterr().err
    assert err.startswith("error: Index server unavailable: server said Evil \\x1b[2J")
    assert_inert(err) and err.count("\n") == 1


def test_unexpected_errors_are_one_line_without_traceback(monkeypatch, capsys) -> None:
    def bug(self, settings):  # noqa: ANN001
        raise TypeError(f"bad operand {EVIL}\nsecond line")

    monkeypatch.setattr(retriever_mod.Retriever, "__init__", bug)
    assert cli_main.main(["search", "anything"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: unexpected TypeError: bad operand")
    assert "Traceback" not in err and "second line" not in err and err.count("\n") == 1
    assert_inert(err)


def test_ask_output_is_escaped(hash_index: Settings, monkeypatch, capsys) -> None:
    fake = FakeBackend(response_fn=lambda r: f"{r.evidence[0].passages[0]} {EVIL} [1]")
    bot = Assistant(hash_index, backend=fake)
    monkeypatch.setattr("assistant.answering.assistant.Assistant", lambda settings: bot)
    for flag in ([], ["--json"]):
        assert cli_main.main(["ask", "failure modes of physics-informed networks", *flag]) == 0
        out = capsys.readouterr().out
        assert_inert(out)
        if flag:
            json.loads(out)


def test_chat_escapes_output_and_keeps_going(hash_index: Settings) -> None:
    fake = FakeBackend(response_fn=lambda r: f"{r.evidence[0].passages[0]} {EVIL} [1]")
    bot = Assistant(hash_index, backend=fake)
    calls = {"n": 0}
    real_stream = bot.stream

    def flaky(question, history=None, **options):  # noqa: ANN001
        calls["n"] += 1
        if calls["n"] == 2:
            raise IndexUnavailable(f"lost the Chroma server {EVIL}")
        if calls["n"] == 3:
            raise RuntimeError("a bug")
        return real_stream(question, history, **options)

    bot.stream = flaky  # type: ignore[method-assign]
    lines = [
        f"physics-informed neural networks {EVIL}",
        "what about them?",
        "and the training?",
        "x" * (MAX_LINE_CHARS + 10),
        "caf\udce9 PINN failure modes?",
        "/quit",
    ]
    out = io.StringIO()
    assert terminal_chat(bot, io.StringIO("\n".join(lines) + "\n"), out) == 0
    text = out.getvalue()
    assert_inert(text)
    assert "error: Index server unavailable: lost the Chroma server Evil \\x1b" in text
    assert "error: something went wrong (RuntimeError)" in text
    assert f"lines are limited to {MAX_LINE_CHARS} characters" in text
    assert text.count("Sources:") == 2  # the first and the last questions were answered


def test_chat_reads_a_long_line_in_bounded_pieces() -> None:
    class Counting(io.StringIO):
        biggest = 0

        def readline(self, size: int = -1) -> str:  # type: ignore[override]
            line = super().readline(size)
            Counting.biggest = max(Counting.biggest, len(line))
            return line

    stdin = Counting("y" * 200_000 + "\n/quit\n")
    assert terminal_chat(None, stdin, io.StringIO()) == 0  # type: ignore[arg-type]
    assert Counting.biggest <= MAX_LINE_CHARS + 1


def test_undecodable_argv_is_repaired_in_a_real_process(hash_index: Settings) -> None:
    env = {**index_env(hash_index), "ASSISTANT_LLM__BACKEND": "fake"}
    # A Latin-1 terminal sends "é" as the byte 0xE9: argv holds it as "\udce9".
    out = cli(["ask", "caf\udce9 physics-informed neural networks failure modes?"], env)
    assert out.returncode == 0, out.stderr
    assert "Sources:" in out.stdout and "Traceback" not in out.stderr
    out = cli(["search", "caf\udce9 physics-informed neural networks", "-k", "2"], env)
    assert out.returncode == 0 and out.stdout.startswith(" 1. ["), out.stderr


def test_undecodable_chat_input_is_repaired_in_a_real_process(hash_index: Settings) -> None:
    import os
    import subprocess
    import sys

    from assistant.core.settings import PROJECT_ROOT

    env = {**os.environ, **index_env(hash_index), "ASSISTANT_LLM__BACKEND": "fake"}
    done = subprocess.run(
        [sys.executable, "-m", "assistant", "chat"],
        input=b"caf\xe9 physics-informed neural networks?\n\xff\xfe\x1b[2J\n/quit\n",
        capture_output=True,
        env=env,
        timeout=300,
        cwd=PROJECT_ROOT,
    )
    assert done.returncode == 0, done.stderr
    assert b"Traceback" not in done.stderr and b"\x1b[2J" not in done.stdout
    assert done.stdout.count(b"Sources:") == 2
