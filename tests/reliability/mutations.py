"""Seeded mutations of real records into malformed corpus files.

A mutation takes the format, a few real records and the index ``k`` of the record to
break, and returns the file's bytes plus what ingest must say: the line it names (None
for whole-file problems) and a fragment of the message. ``cases`` expands every mutation
over the formats it applies to and over seeds (which records, which one is broken).
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tests.reliability.helpers import real_records, record_line, render

Records = list[dict[str, Any]]
Outcome = tuple[bytes, int | None, str]
FORMATS = ("txt", "jsonl", "csv")


@dataclass(frozen=True)
class Case:
    fmt: str
    mutation: str
    seed: int

    @property
    def id(self) -> str:
        return f"{self.fmt}-{self.mutation}-{self.seed}"

    def build(self) -> Outcome:
        rng = random.Random(f"{self.mutation}/{self.fmt}/{self.seed}")
        records = [dict(r) for r in rng.sample(real_records(), 4)]
        k = rng.randrange(len(records) - 1)  # never the last: a shift needs a next pair
        return MUTATIONS[self.mutation][1](self.fmt, records, k, rng)


def _field(name: str, value: Any, expected: str, line_of: str = "record") -> Callable:
    """Set one field of record k; the file is otherwise well formed."""

    def mutate(fmt: str, records: Records, k: int, rng: random.Random) -> Outcome:
        records[k][name] = value(records[k], rng) if callable(value) else value
        line = record_line(fmt, k) + (1 if line_of == "abstract" and fmt == "txt" else 0)
        return render(fmt, records).encode(), line, expected

    return mutate


def _bytes_in(field: str, raw: bytes, expected: str) -> Callable:
    """Insert raw bytes into a field of record k (things a text editor can produce)."""

    def mutate(fmt: str, records: Records, k: int, rng: random.Random) -> Outcome:
        marker = "QQMARKQQ"
        text = records[k][field]
        cut = rng.randrange(1, len(text) - 1)
        records[k][field] = text[:cut] + marker + text[cut:]
        line = record_line(fmt, k) + (1 if field == "abstract" and fmt == "txt" else 0)
        return render(fmt, records).encode().replace(marker.encode(), raw), line, expected

    return mutate


def _repeat_to(limit: int) -> Callable[[dict[str, Any], random.Random], str]:
    def grow(rec: dict[str, Any], rng: random.Random) -> str:
        size = limit + rng.randrange(1, 5000)
        return (rec["abstract"] + " ") * (size // len(rec["abstract"]) + 1)

    return grow


def _long_title(rec: dict[str, Any], rng: random.Random) -> str:
    return " ".join(["word"] * rng.randrange(420, 600))  # > 2000 chars, no sentence end


def _lines(fmt: str, records: Records) -> list[str]:
    return render(fmt, records).split("\n")[:-1]


def _txt_missing_abstract(fmt: str, records: Records, k: int, rng: random.Random) -> Outcome:
    lines = _lines(fmt, records)
    del lines[record_line(fmt, k)]  # the abstract line of record k (0-based index)
    return ("\n".join(lines) + "\n").encode(), record_line(fmt, k + 1), "shift"


def _txt_wrapped_abstract(fmt: str, records: Records, k: int, rng: random.Random) -> Outcome:
    from assistant.core.text import split_sentences

    sentences = split_sentences(records[k]["abstract"])
    records[k]["abstract"] = " ".join(sentences[:-1]) + "\n" + sentences[-1]
    return render(fmt, records).encode(), record_line(fmt, k + 1), "shift"


def _txt_swapped_pair(fmt: str, records: Records, k: int, rng: random.Random) -> Outcome:
    rec = records[k]
    rec["title"], rec["abstract"] = rec["abstract"], rec["title"]
    return render(fmt, records).encode(), record_line(fmt, k), "reads like an abstract"


def _txt_blank_line(fmt: str, records: Records, k: int, rng: random.Random) -> Outcome:
    lines = _lines(fmt, records)
    lines.insert(record_line(fmt, k) + 1, "   ")  # after the abstract of record k
    return ("\n".join(lines) + "\n").encode(), record_line(fmt, k + 1), "empty or missing title"


def _txt_odd(fmt: str, records: Records, k: int, rng: random.Random) -> Outcome:
    lines = _lines(fmt, records)[:-1]
    return ("\n".join(lines) + "\n").encode(), len(lines), "title without an abstract"


def _txt_header_only(fmt: str, records: Records, k: int, rng: random.Random) -> Outcome:
    head = "\n".join(_lines(fmt, records)[:2]) + "\n"
    return head.encode(), None, "no records after the 2 header lines"


def _json_line(raw: Callable[[dict[str, Any], random.Random], str], expected: str) -> Callable:
    """Replace record k's line with hand-written JSON (things json.dumps never writes)."""

    def mutate(fmt: str, records: Records, k: int, rng: random.Random) -> Outcome:
        lines = _lines(fmt, records)
        lines[k] = raw(records[k], rng)
        return ("\n".join(lines) + "\n").encode(), k + 1, expected

    return mutate


def _with(rec: dict[str, Any], **fields: str) -> str:
    body = json.dumps({"title": rec["title"], "abstract": rec["abstract"]})[:-1]
    return body + "".join(f', "{key}": {value}' for key, value in fields.items()) + "}"


def _duplicate_id(fmt: str, records: Records, k: int, rng: random.Random) -> Outcome:
    later = rng.randrange(k + 1, len(records))
    records[k]["id"] = records[later]["id"] = f"paper-{rng.randrange(10**6)}"
    return render(fmt, records).encode(), record_line(fmt, later), "is also used by"


def _csv_header(header: str, expected: str) -> Callable:
    def mutate(fmt: str, records: Records, k: int, rng: random.Random) -> Outcome:
        lines = _lines(fmt, records)
        lines[0] = header
        return ("\n".join(lines) + "\n").encode(), 1, expected

    return mutate


def _csv_cut_in_quotes(fmt: str, records: Records, k: int, rng: random.Random) -> Outcome:
    text = render(fmt, records[: k + 1])
    quoted = records[k]["abstract"].replace('"', '""')
    start = text.rindex('"' + quoted[:20])
    cut = start + 1 + rng.randrange(1, len(quoted) - 1)
    while text[cut - 1] == '"':  # never end on a quote: that could close the field
        cut -= 1
    return text[:cut].encode(), record_line(fmt, k), "is never closed"


def _csv_row(edit: Callable[[str], str], expected: str) -> Callable:
    def mutate(fmt: str, records: Records, k: int, rng: random.Random) -> Outcome:
        lines = _lines(fmt, records)
        lines[k + 1] = edit(lines[k + 1])
        return ("\n".join(lines) + "\n").encode(), k + 2, expected

    return mutate


def _absurd_year(rec: dict[str, Any], rng: random.Random) -> str:
    return rng.choice(["1e20", "999", "3000", "-5", "2020.5", "0", "99999"])


SURROGATE = "'title' contains a lone surrogate"
EVERY = FORMATS
MUTATIONS: dict[str, tuple[tuple[str, ...], Callable[..., Outcome]]] = {
    "empty-title": (EVERY, _field("title", "   ", "empty or missing title")),
    "empty-abstract": (EVERY, _field("abstract", "", "empty or missing abstract", "abstract")),
    "zero-width-title": (
        EVERY,
        _field("title", "\u200b\u2060\ufeff", "empty or missing title (only invisible text)"),
    ),
    "braces-abstract": (EVERY, _field("abstract", "{}", "abstract has no letters or digits")),
    "dollars-abstract": (EVERY, _field("abstract", "$$", "abstract has no letters or digits")),
    "math-title": (EVERY, _field("title", "$ {} $", "title has no letters or digits")),
    "huge-abstract": (
        EVERY,
        _field("abstract", _repeat_to(100_000), "the limit is 100,000", "abstract"),
    ),
    "huge-title": (("jsonl", "csv"), _field("title", _long_title, "the limit is 2,000")),
    "huge-title-txt": (("txt",), _field("title", _long_title, "reads like an abstract")),
    "nul-byte": (EVERY, _bytes_in("abstract", b"\x00", "binary data (NUL byte)")),
    "latin1-byte": (EVERY, _bytes_in("abstract", b"\xe9", "not valid UTF-8")),
    "surrogate-bytes": (("txt", "csv"), _bytes_in("title", b"\xed\xa0\x80", "not valid UTF-8")),
    "surrogate-escape": (("jsonl",), _bytes_in("title", b"\\ud800", SURROGATE)),
    "absurd-year": (("jsonl", "csv"), _field("year", _absurd_year, "not a plausible")),
    "duplicate-id": (("jsonl", "csv"), _duplicate_id),
    "txt-missing-abstract": (("txt",), _txt_missing_abstract),
    "txt-wrapped-abstract": (("txt",), _txt_wrapped_abstract),
    "txt-swapped-pair": (("txt",), _txt_swapped_pair),
    "txt-blank-line": (("txt",), _txt_blank_line),
    "txt-odd-lines": (("txt",), _txt_odd),
    "txt-header-only": (("txt",), _txt_header_only),
    "json-truncated": (
        ("jsonl",),
        _json_line(lambda r, g: json.dumps(r)[: g.randrange(5, 60)], "invalid JSON"),
    ),
    "json-deep": (
        ("jsonl",),
        _json_line(
            lambda r, g: _with(r, extra="[" * (n := g.randrange(1000, 5000)) + "]" * n),
            "JSON nested too deeply",
        ),
    ),
    "json-huge-int": (
        ("jsonl",),
        _json_line(lambda r, g: _with(r, year="9" * g.randrange(4400, 9000)), "invalid JSON value"),
    ),
    "json-array": (
        ("jsonl",),
        _json_line(lambda r, g: json.dumps([r["title"], r["abstract"]]), "expected a JSON object"),
    ),
    "json-number-abstract": (
        ("jsonl",),
        _json_line(lambda r, g: json.dumps({"title": r["title"], "abstract": 5}), "must be text"),
    ),
    "json-year-word": (
        ("jsonl",),
        _json_line(lambda r, g: _with(r, year='"soon"'), "'year' must be a number"),
    ),
    "json-year-bool": (
        ("jsonl",),
        _json_line(lambda r, g: _with(r, year="true"), "'year' has an unsupported type"),
    ),
    "json-year-nan": (("jsonl",), _json_line(lambda r, g: _with(r, year="NaN"), "not a plausible")),
    "json-nested-authors": (
        ("jsonl",),
        _json_line(lambda r, g: _with(r, authors='[["A"]]'), "'authors' must be text or a list"),
    ),
    "json-url-object": (
        ("jsonl",),
        _json_line(lambda r, g: _with(r, url='{"a": 1}'), "'url' has an unsupported type"),
    ),
    "json-no-abstract": (
        ("jsonl",),
        _json_line(lambda r, g: json.dumps({"title": r["title"]}), "empty or missing abstract"),
    ),
    "csv-duplicate-header": (
        ("csv",),
        _csv_header('"title","title","abstract","year","id"', "duplicate column(s) title"),
    ),
    "csv-missing-column": (
        ("csv",),
        _csv_header('"title","summary","authors","year","id"', "missing column(s) abstract"),
    ),
    "csv-cut-in-quotes": (("csv",), _csv_cut_in_quotes),
    "csv-extra-field": (("csv",), _csv_row(lambda row: row + ',"x"', "more fields than columns")),
    "csv-stray-quote": (
        ("csv",),
        _csv_row(lambda row: row.replace('",', '"x,', 1), "',' expected after '\"'"),
    ),
}


def cases(seeds: int) -> list[Case]:
    return [
        Case(fmt, name, seed)
        for name, (formats, _) in MUTATIONS.items()
        for fmt in formats
        for seed in range(seeds)
    ]


# Questionable but repairable text: ingested, cleaned, and the report says so.
REPAIRS = {
    "rtl-override": "\u202e",
    "bell": "\x07",
    "soft-hyphen": "\u00ad",
    "zero-width-space": "\u200b",
    "escape": "\x1b",
}


def repaired_file(fmt: str, char: str, seed: int) -> tuple[bytes, int, str]:
    """A file whose record k carries ``char`` inside its title; returns the bytes, the
    line and the title as it must be stored."""
    rng = random.Random(f"repair/{fmt}/{seed}")
    records = [dict(r) for r in rng.sample(real_records(), 3)]
    k = rng.randrange(len(records))
    title = records[k]["title"]
    cut = rng.randrange(1, len(title) - 1)
    records[k]["title"] = title[:cut] + char + title[cut:]
    return render(fmt, records).encode(), record_line(fmt, k), title
