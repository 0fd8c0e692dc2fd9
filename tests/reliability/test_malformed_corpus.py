"""Generated malformed corpus files against a real index, through the CLI in-process.

Every case adds one broken file (a seeded mutation of real records, see mutations.py) to
a good corpus and runs ``assistant ingest`` on an existing index. It must fail with one
line on stderr naming the file, the line and the problem, exit 3, and leave the index
exactly as it was (ids, documents, metadata and counts). Repairable text is ingested,
cleaned, and reported.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from assistant.ingest.clean import normalize_text
from assistant.ingest.pipeline import run_ingest
from tests.reliability.helpers import (
    config_file,
    copy_index,
    hash_settings,
    real_records,
    render,
    run_cli,
    snapshot,
)
from tests.reliability.mutations import FORMATS, REPAIRS, cases, repaired_file

SEEDS = 6
CASES = cases(SEEDS)


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One small real index that every failing case must leave untouched."""
    root = tmp_path_factory.mktemp("malformed")
    good = root / "good.jsonl"
    good.write_text(render("jsonl", list(real_records()[:4])), encoding="utf-8")
    settings = hash_settings(root / "index", [good])
    run_ingest(settings)
    return {
        "root": root,
        "good": good,
        "settings": settings,
        "config": config_file(root),
        "snapshot": snapshot(settings),
    }


def test_the_generated_inputs_cover_the_formats() -> None:
    assert len(CASES) >= 300
    assert {c.fmt for c in CASES} == set(FORMATS)
    assert all(sum(c.fmt == f for c in CASES) >= 60 for f in FORMATS)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_malformed_file_is_refused_and_index_unchanged(
    case: Any, baseline: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data, line, fragment = case.build()
    bad = tmp_path / f"bad.{case.fmt}"
    bad.write_bytes(data)
    settings = baseline["settings"]
    argv = ["-c", str(baseline["config"]), "ingest", "--index-dir"]
    argv += [str(settings.index.persist_dir), "--source", str(baseline["good"])]
    code, out, err = run_cli(capsys, [*argv, "--source", str(bad)])
    assert code == 3, err or out
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: Malformed corpus file: "), err
    where = f"bad.{case.fmt}:{line}: " if line else f"bad.{case.fmt}: "
    assert where in lines[0] and fragment in lines[0], lines[0]
    assert snapshot(settings) == baseline["snapshot"]  # nothing written, nothing lost


REPAIR_CASES = [(fmt, name) for fmt in FORMATS for name in REPAIRS]


@pytest.mark.parametrize(("fmt", "name"), REPAIR_CASES)
def test_questionable_text_is_cleaned_and_reported(
    fmt: str,
    name: str,
    baseline: dict[str, Any],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    char = REPAIRS[name]
    data, line, title = repaired_file(fmt, char, seed=len(name))
    odd = tmp_path / f"odd.{fmt}"
    odd.write_bytes(data)
    index = copy_index(baseline["settings"].index.persist_dir, tmp_path / "index")
    argv = ["-c", str(baseline["config"]), "ingest", "--index-dir", str(index), "--json"]
    code, out, err = run_cli(capsys, [*argv, "--source", str(odd)])
    assert code == 0, err
    notes = json.loads(out)["notes"]
    expected = f"odd.{fmt}:{line}: removed 1 invisible or control character (U+{ord(char):04X})"
    assert any(expected in note and note.endswith("from title") for note in notes), notes
    settings = hash_settings(index, [odd])
    titles = {json.loads(meta)["title"] for _, _, meta in snapshot(settings)[1]}
    assert normalize_text(title) in titles
    assert not any(char in t for t in titles)
