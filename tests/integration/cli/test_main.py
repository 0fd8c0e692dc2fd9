"""The ``assistant`` command in a real subprocess on the hash-embedder index: search, ask,
chat, and one-line errors with their exit codes."""

from __future__ import annotations

from pathlib import Path

from tests.cliutil import cli, index_env

PINN_Q = "Which papers address failure modes of physics-informed neural networks?"


def test_cli_ask_search_and_chat(hash_index) -> None:  # noqa: ANN001
    env = {
        **index_env(hash_index),
        "ASSISTANT_LLM__BACKEND": "fake",
        "ASSISTANT_ANSWER__ABSTAIN_THRESHOLD": "0.1",
    }
    out = cli(["search", "physics-informed neural networks failure modes", "-k", "3"], env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith(" 1. [") and " 3. [" in out.stdout

    out = cli(["ask", PINN_Q], env)
    assert out.returncode == 0, out.stderr
    assert "[1]" in out.stdout and "Sources:" in out.stdout and "[fake;" in out.stdout

    out = cli(
        ["chat"],
        env,
        stdin=(
            "Is there a paper on physics-informed neural operators for large-eddy simulation?\n"
            "What flows did they test it on?\n/quit\n"
        ),
    )
    assert out.returncode == 0, out.stderr
    # "they" = the paper the first answer cited: the follow-up names it by title.
    assert "(searched for: What flows did “" in out.stdout
    assert out.stdout.count("Sources:") == 2


def test_cli_errors_are_one_line_with_exit_codes(tmp_path: Path) -> None:
    env = {
        "ASSISTANT_INDEX__PERSIST_DIR": str(tmp_path / "none"),
        "ASSISTANT_INDEX__EMBEDDER": "hash",
    }
    out = cli(["search", "anything"], env)
    assert out.returncode == 5
    assert out.stderr.strip() == (
        f"error: No index: no collection 'abstracts' at {tmp_path / 'none'}; "
        "run `assistant ingest` to build it"
    )
    out = cli(["ask", "x", "--backend", "nope"], env)
    assert out.returncode == 2 and "unknown backend 'nope'" in out.stderr
    assert "Traceback" not in out.stderr
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"title": "T"}\n', encoding="utf-8")
    out = cli(["ingest", "--source", str(bad)], env)
    assert out.returncode == 3 and f"{bad}:1: empty or missing abstract" in out.stderr
    out = cli(["search", "x"], {**env, "ASSISTANT_RETRIEVAL__K": "zero"})
    assert out.returncode == 2 and "retrieval.k" in out.stderr
