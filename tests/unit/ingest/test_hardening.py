"""Hostile and malformed corpus input: refused with file:line, or repaired and noted; the
cleaning regexes stay linear; non-regular files are skipped without blocking."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from assistant.core.errors import CorpusFormatError
from assistant.index.embeddings import HashEmbedder
from assistant.ingest.chunking import SPECIAL_TOKENS, chunk_paper
from assistant.ingest.clean import normalize_text, remove_invisible
from assistant.ingest.papers import Paper, build_papers
from assistant.ingest.sources import discover, read_records
from tests.corpus import HEADER, write

MB = 1_000_000
# Each input made the old patterns backtrack quadratically, or calls back per match.
PATHOLOGICAL = {
    "accent then spaces": '\\"' + " " * MB,
    "accent, brace, spaces": '\\"{' + " " * MB,
    "acute then spaces": "\\'" + " " * MB,
    "caron then spaces": "\\v" + " " * MB,
    "font group then spaces": "{\\em" + " " * MB,
    "font groups never closed": "{\\em " * (MB // 5),
    "font command never closed": "\\textbf{" * (MB // 8),
    "backslashes": "\\" * MB,
    "accents without letters": '\\"' * (MB // 2),
    "unknown commands": "{\\foo}" * (MB // 6),
    "empty groups": "{ " * (MB // 2),
    "dollars": "$" * MB,
}


@pytest.mark.parametrize("name", list(PATHOLOGICAL))
def test_latex_cleaning_is_linear_on_a_megabyte(name: str) -> None:
    text = PATHOLOGICAL[name]
    best = _timed(text, limit=1.0)
    # 16k spaces after \" took 2.7 s before; a megabyte now takes a fraction of a second.
    assert best < 1.0, f"{name}: {best:.2f} s"
    small = _timed(text[: len(text) // 10], limit=best / 25)
    assert best < 25 * small + 0.05, f"{name}: not linear ({small:.3f} s -> {best:.3f} s)"


def _timed(text: str, limit: float) -> float:
    """CPU seconds to clean ``text`` (CPU time, not wall time: other processes on a busy
    machine must not fail the test); measured again if over ``limit``."""
    times: list[float] = []
    while len(times) < 3 and (not times or times[-1] >= limit):
        started = time.process_time()
        normalize_text(text)
        times.append(time.process_time() - started)
    return min(times)


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        (r"Polyak-\L{}ojasiewicz", "Polyak-Łojasiewicz"),
        (r"a {\em  spaced} b", "a spaced b"),
        (r"Schr\"{ o}dinger", "Schrödinger"),
        (r"\alphabet soup \log n", r"\alphabet soup log n"),
        ("$$ {} $$", ""),
    ],
)
def test_cleaning_still_resolves_escapes(raw: str, clean: str) -> None:
    assert normalize_text(raw) == clean


def test_invisible_characters_are_removed_and_described() -> None:
    text, what = remove_invisible("Deep\u202e learning\u200b for\x07 PDEs\ufeff")
    assert text == "Deep learning for PDEs"
    assert what == "4 invisible or control characters (U+0007, U+200B, U+202E, U+FEFF)"
    assert remove_invisible("Plain text\twith tab") == ("Plain text\twith tab", "")


def jsonl(tmp_path: Path, *rows: object, name: str = "c.jsonl") -> Path:
    lines = [r if isinstance(r, str) else json.dumps(r) for r in rows]
    return write(tmp_path, name, "\n".join(lines) + "\n")


GOOD = {"title": "A good title", "abstract": "A good abstract. It has two sentences."}


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ('{"title": "T\\ud800x", "abstract": "A."}', "c.jsonl:2: 'title' contains a lone"),
        ({"title": "T", "abstract": "\u200b\ufeff"}, "c.jsonl:2: empty or missing abstract"),
        ({"title": "T", "abstract": "x" * 100_001}, "'abstract' is 100,001 characters"),
        ({"title": "t" * 2001, "abstract": "A."}, "'title' is 2,001 characters"),
        ({"title": "T", "abstract": "A.", "year": 1e20}, "'year' 1e+20 is not a plausible"),
        ({"title": "T", "abstract": "A.", "year": "1e20"}, "'year' 1e20 is not a plausible"),
        ({"title": "T", "abstract": "A.", "year": 999}, "'year' 999 is not a plausible"),
        ({"title": "T", "abstract": "A.", "year": 3000}, "'year' 3000 is not a plausible"),
        ({"title": "T", "abstract": "A.", "year": 2020.5}, "'year' 2020.5 is not a plausible"),
        ('{"title": "T", "abstract": "A.", "year": NaN}', "'year' nan is not a plausible"),
        ({"title": "T", "abstract": "A.", "year": True}, "'year' has an unsupported type"),
        ({"title": "T", "abstract": "A.", "authors": [["x"]]}, "'authors' must be text or a"),
        ({"title": "T", "abstract": "A.", "url": {"a": 1}}, "'url' has an unsupported type"),
        ('{"title": ' + "[" * 5000 + "]" * 5000 + "}", "c.jsonl:2: JSON nested too deeply"),
        ('{"title": "T", "abstract": "A.", "year": ' + "9" * 5000 + "}", "invalid JSON value"),
    ],
)
def test_bad_jsonl_values_name_file_and_line(tmp_path: Path, row: object, expected: str) -> None:
    path = jsonl(tmp_path, GOOD, row)
    with pytest.raises(CorpusFormatError) as err:
        read_records(path)
    assert expected in str(err.value)


def test_year_forms_that_are_accepted(tmp_path: Path) -> None:
    rows = [dict(GOOD, title=f"T{i}", year=y) for i, y in enumerate([2020, 2021.0, " 2022 "])]
    assert [r.year for r in read_records(jsonl(tmp_path, *rows))] == [2020, 2021, 2022]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("title,title,abstract\nT,T,A\n", "d.csv:1: duplicate column(s) title"),
        ('title,abstract\n"T1","A1"\n"T2","A2 is cut', "d.csv:3: a quoted field opened in"),
        ('title,abstract\nT1,A1\n"T2","A2\nstill A2\n', "d.csv:3: a quoted field opened in"),
        ('title,abstract\nT1,"A1"x\n', "d.csv:2: ',' expected after '\"'"),
        ("title,abstract,year\nT1,A1,1e20\n", "d.csv:2: 'year' 1e20 is not a plausible"),
        ('title,abstract\n"T1","multi\nline A1."\nT2,$$\n', "d.csv:4: abstract has no letters"),
    ],
)
def test_bad_csv_names_file_and_line(tmp_path: Path, content: str, expected: str) -> None:
    path = write(tmp_path, "d.csv", content)
    with pytest.raises(CorpusFormatError) as err:
        build_papers(read_records(path))
    assert expected in str(err.value)


ABSTRACT = (
    "We study the stability of a numerical scheme for conservation laws with "
    "discontinuous flux. The scheme is shown to converge under a CFL condition. "
    "Numerical experiments confirm the predicted rates on several benchmark problems."
)


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        # a missing abstract line: the next abstract lands on a title line
        (["Title one", "Title two", ABSTRACT, "Title three", ABSTRACT], "a.txt:5: this title"),
        # an abstract wrapped onto two lines, its tail short: title ends like an abstract
        (["Title one", ABSTRACT, "rates.", "Title two", ABSTRACT, "x"], "a.txt:5: this title ends"),
    ],
)
def test_shifted_txt_pairs_are_refused(tmp_path: Path, lines: list[str], expected: str) -> None:
    path = write(tmp_path, "a.txt", HEADER + "\n".join(lines) + "\n")
    with pytest.raises(CorpusFormatError) as err:
        read_records(path)
    assert expected in str(err.value)
    assert "shift" in str(err.value)


def test_same_id_with_different_titles_is_refused(tmp_path: Path) -> None:
    path = jsonl(tmp_path, dict(GOOD, id="p1"), {"title": "Another", "abstract": "B.", "id": "p1"})
    with pytest.raises(CorpusFormatError, match=r"c.jsonl:2: id 'p1' is also used by .*c.jsonl:1"):
        build_papers(read_records(path))
    same = jsonl(tmp_path, dict(GOOD, id="p1"), dict(GOOD, id="p1", abstract="Longer text here."))
    papers, conflicts = build_papers(read_records(same))
    assert len(papers) == 1 and len(conflicts) == 1  # same paper, abstract variants


@pytest.mark.parametrize("text", ["{}", "$$", "{ } $ $", "\\{\\}"])
def test_empty_after_cleaning_is_refused(tmp_path: Path, text: str) -> None:
    path = jsonl(tmp_path, GOOD, {"title": "Fine", "abstract": text})
    with pytest.raises(CorpusFormatError, match="c.jsonl:2: abstract has no letters or digits"):
        build_papers(read_records(path))


def test_control_and_bidi_characters_are_removed_with_a_note(tmp_path: Path) -> None:
    row = {"title": "Deep\u202e learning", "abstract": "Beep\x07 text.", "authors": "A\u200bB"}
    (rec,) = read_records(jsonl(tmp_path, row))
    assert (rec.title, rec.abstract, rec.authors) == ("Deep learning", "Beep text.", "AB")
    assert [n.split(": ", 1)[1] for n in rec.notes] == [
        "removed 1 invisible or control character (U+200B) from authors",
        "removed 1 invisible or control character (U+202E) from title",
        "removed 1 invisible or control character (U+0007) from abstract",
    ]
    assert all(n.startswith(f"{tmp_path / 'c.jsonl'}:1: ") for n in rec.notes)


def test_non_regular_files_are_skipped_without_blocking(tmp_path: Path) -> None:
    folder = tmp_path / "corpus"
    folder.mkdir()
    good = jsonl(folder, GOOD, name="good.jsonl")
    os.mkfifo(folder / "d.txt")
    (folder / "a.txt").mkdir()
    (folder / "gone.csv").symlink_to(folder / "missing.csv")
    (folder / "null.txt").symlink_to("/dev/null")
    skipped: list[str] = []
    started = time.monotonic()
    assert discover([folder], skipped) == [good]
    assert sorted(s.split(": ", 1)[1] for s in skipped) == [
        "a FIFO, not a regular file",
        "a character device, not a regular file",
        "a dangling symbolic link, not a regular file",
        "a folder, not a regular file",
    ]
    with pytest.raises(CorpusFormatError, match="d.txt: not a regular file"):
        read_records(folder / "d.txt")  # opened non-blocking: refused, not hung
    assert time.monotonic() - started < 5


def test_oversized_file_is_refused_before_reading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import assistant.ingest.sources as sources

    monkeypatch.setattr(sources, "MAX_FILE_BYTES", 1000)
    path = jsonl(tmp_path, *[dict(GOOD, title=f"T{i}") for i in range(20)])
    with pytest.raises(CorpusFormatError, match=r"c.jsonl: file is .* the limit is"):
        read_records(path)


def test_a_word_longer_than_the_window_is_cut_not_truncated() -> None:
    count = HashEmbedder().count_tokens
    blob = "ACGT" * 5000
    paper = Paper("p", "Title", f"We sequence {blob} fully.", "Title", "x", ["a.txt"])
    chunks = chunk_paper(paper, count, max_tokens=64, overlap=0)
    assert len(chunks) > 10
    assert all(count(c.embed_text) + SPECIAL_TOKENS <= 64 for c in chunks)
    words = " ".join(c.text for c in chunks).split()
    assert words[:2] == ["We", "sequence"] and words[-1] == "fully."
    assert "".join(words[2:-1]) == blob  # every letter kept, in order


def test_chunking_a_huge_abstract_is_fast() -> None:
    count = HashEmbedder().count_tokens
    one_sentence = " ".join(f"word{i}" for i in range(15_000)) + "."
    paper = Paper("p", "Title", one_sentence, "Title", "x", ["a.txt"])
    started = time.process_time()
    chunks = chunk_paper(paper, count, max_tokens=200, overlap=1)
    assert time.process_time() - started < 1.0  # re-counting each join took seconds
    assert " ".join(c.text for c in chunks).split() == one_sentence.split()
