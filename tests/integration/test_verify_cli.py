"""``assistant verify`` and ``assistant eval-claims`` on the hash-embedder index of the
real corpus, in process: verdicts per line, per-line errors, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.cli.main import main
from assistant.core.settings import Settings
from assistant.evaluation.claims import PaperIndex, read_claims, render_table
from assistant.retrieval.retriever import Retriever
from tests.cliutil import index_env

ADAM = "Adam: A Method for Stochastic Optimization"
VERBATIM = (
    "The hyper-parameters have intuitive interpretations and typically require little tuning."
)


@pytest.fixture
def env(hash_index: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    for key, value in index_env(hash_index).items():
        monkeypatch.setenv(key, value)
    return hash_index


def write_lines(path: Path, lines: list[object]) -> Path:
    path.write_text(
        "\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines) + "\n",
        encoding="utf-8",
    )
    return path


def read_rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_verify_writes_a_verdict_or_an_error_per_line(
    env: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    papers = PaperIndex(Retriever(env).collection)
    adam_id = next(pid for pid, meta in papers.by_id.items() if meta["title"] == ADAM)
    claims = write_lines(
        tmp_path / "claims.jsonl",
        [
            {"id": "t1", "claim": VERBATIM, "title": ADAM.upper()},  # title key: case-free
            {"id": "t2", "claim": "Adam's hyper-parameters need no tuning at all.", "title": ADAM},
            {"id": "p1", "claim": VERBATIM, "paper_id": adam_id},
            {"id": "u1", "claim": VERBATIM, "title": "A Paper That Is Not In The Index"},
            "{not json",
            {"id": "m1", "title": ADAM},
            {"id": "m2", "claim": VERBATIM},
        ],
    )
    out = tmp_path / "out" / "verdicts.jsonl"
    code = main(["verify", str(claims), "--output", str(out), "--verifier", "strict"])
    assert code == 0
    rows = read_rows(out)
    assert [r["id"] for r in rows] == ["t1", "t2", "p1", "u1", "line-5", "m1", "m2"]
    t1, t2, p1, u1, bad, m1, m2 = rows
    assert t1["supported"] is True and t1["evidence"] == VERBATIM and t1["reason"] == ""
    assert p1["supported"] is True and "error" not in p1
    assert t2["supported"] is False and t2["reason"] and t2["check"]
    assert set(t1) >= {"id", "supported", "score", "evidence", "reason"}
    assert u1["error"] == (
        "line 4: no paper with title 'A Paper That Is Not In The Index' in the index"
    )
    assert u1["supported"] is None
    assert "not valid JSON" in bad["error"]
    assert "'claim' must be a non-empty string" in m1["error"]
    assert "needs a 'title' or a 'paper_id'" in m2["error"]
    assert "7 claims (strict): 2 supported, 1 unsupported, 4 not checked" in capsys.readouterr().out


def test_verify_rejects_an_unreadable_file(
    env: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["verify", str(tmp_path / "missing.jsonl"), "--output", str(tmp_path / "o")])
    assert code == 2
    assert "cannot read the claims file" in capsys.readouterr().err


def test_eval_claims_reports_pass_rates_per_category(
    env: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    labelled = write_lines(
        tmp_path / "labelled.jsonl",
        [
            {"id": "a1", "claim": VERBATIM, "title": ADAM, "supported": True,
             "category": "verbatim"},
            {"id": "b1", "claim": "Adam's hyper-parameters always require extensive tuning.",
             "title": ADAM, "supported": False, "category": "negation"},
            {"id": "b2", "claim": VERBATIM, "title": "Nowhere", "supported": True,
             "category": "verbatim"},
        ],
    )  # fmt: skip
    out = tmp_path / "report"
    assert main(["eval-claims", str(labelled), "--output", str(out)]) == 0
    report = (out / "claims_report.md").read_text(encoding="utf-8")
    assert report in capsys.readouterr().out
    assert "| verbatim | supported | 1.00 (1/1) | – | 1.00 (1/1) |" in report
    assert "| negation | unsupported | – | 0.00 (0/1) | 0.00 (0/1) |" in report
    assert "1 lines not checked" in report
    (measured,) = json.loads((out / "claims_report.json").read_text(encoding="utf-8"))
    assert measured["verifier"] == "strict"
    assert measured["rates"]["false-pass"]["all"]["rate"] == 0.0
    assert len(read_rows(out / "verdicts_strict.jsonl")) == 3


def test_the_table_renders_without_an_index(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "c.jsonl", [{"id": "x", "claim": "c", "title": "t"}])
    (item,) = read_claims(path)
    assert item.id == "x" and item.error is None
    assert render_table([]).startswith("# Claim verifiers")
