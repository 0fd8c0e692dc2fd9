"""Reading the corpus formats: records, line numbers and errors that name file and line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.core.errors import CorpusFormatError
from assistant.ingest.sources import discover, read_records
from tests.corpus import HEADER, write


def test_subscribe_prefix_and_line_numbers(tmp_path: Path) -> None:
    path = write(
        tmp_path, "a.txt", HEADER + "SubscribeFirst title\nFirst abstract.\nSecond\nAbs 2.\n"
    )
    records = read_records(path)
    assert [r.title for r in records] == ["First title", "Second"]
    assert [r.line for r in records] == [3, 5]
    assert records[0].source == "a.txt"


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("odd.txt", HEADER + "T1\nA1\nT2\n", "odd.txt:5: title without an abstract"),
        (
            "empty_abs.txt",
            HEADER + "T1\n   \nT2\nA2\n",
            "empty_abs.txt:4: empty or missing abstract",
        ),
        ("empty_title.txt", HEADER + "T1\nA1\n\nA2\n", "empty_title.txt:5: empty or missing title"),
        ("noheader.txt", "only one line\n", "no records after the 2 header lines"),
        (
            "latin1.txt",
            (HEADER + "T1\nCaf\xe9 abstract\n").encode("latin-1"),
            "latin1.txt:4: not valid UTF-8",
        ),
        ("bin.txt", HEADER.encode() + b"T1\n\x00\x01\x02\n", "bin.txt:4: binary data"),
        (
            "bad.jsonl",
            '{"title": "T", "abstract": "A"}\n{"title": "T2", \n',
            "bad.jsonl:2: invalid JSON",
        ),
        ("missing.jsonl", '{"title": "T"}\n', "missing.jsonl:1: empty or missing abstract"),
        (
            "empty.jsonl",
            '{"title": "T", "abstract": ""}\n',
            "empty.jsonl:1: empty or missing abstract",
        ),
        ("notobj.jsonl", '["T", "A"]\n', "notobj.jsonl:1: expected a JSON object"),
        (
            "wrongtype.jsonl",
            '{"title": "T", "abstract": 5}\n',
            "wrongtype.jsonl:1: 'abstract' must be text",
        ),
        (
            "badyear.jsonl",
            '{"title": "T", "abstract": "A", "year": "soon"}\n',
            "badyear.jsonl:1: 'year' must be a number",
        ),
        ("cols.csv", "name,summary\nT,A\n", "cols.csv:1: missing column(s) title, abstract"),
        ("emptyabs.csv", "title,abstract\nT,A\nT2,\n", "emptyabs.csv:3: empty or missing abstract"),
        ("extra.csv", "title,abstract\nT,A,zzz\n", "extra.csv:2: more fields than columns"),
    ],
)
def test_malformed_input_names_file_and_line(
    tmp_path: Path, name: str, content: str | bytes, expected: str
) -> None:
    path = write(tmp_path, name, content)
    with pytest.raises(CorpusFormatError) as err:
        read_records(path)
    assert expected in str(err.value)


def test_jsonl_and_csv_with_optional_fields(tmp_path: Path) -> None:
    rows = [
        {
            "title": "A study",
            "abstract": "We study X.",
            "authors": ["Ada", "Bob"],
            "year": 2021,
            "url": "https://example.org/a",
            "id": "paper-a",
        }
    ]
    jl = write(tmp_path, "c.jsonl", "\n".join(json.dumps(r) for r in rows) + "\n\n")
    (rec,) = read_records(jl)
    assert (rec.id, rec.authors, rec.year, rec.url) == (
        "paper-a",
        "Ada, Bob",
        2021,
        "https://example.org/a",
    )
    cs = write(tmp_path, "c.csv", 'Title,Abstract,Year\n"A, study","We study ""X"".",2020\n')
    (rec,) = read_records(cs)
    assert (rec.title, rec.abstract, rec.year, rec.line) == ("A, study", 'We study "X".', 2020, 2)


def test_bom_and_crlf_are_accepted(tmp_path: Path) -> None:
    path = write(tmp_path, "w.csv", b"\xef\xbb\xbftitle,abstract\r\nT,A\r\n")
    assert read_records(path)[0].title == "T"


def test_missing_source_and_empty_folder(tmp_path: Path) -> None:
    with pytest.raises(CorpusFormatError, match="no such file"):
        discover([tmp_path / "nope"])
    with pytest.raises(CorpusFormatError, match="no corpus files"):
        discover([tmp_path])
