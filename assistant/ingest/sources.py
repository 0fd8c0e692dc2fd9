"""Readers for the corpus formats. Every record remembers its file and line.

Formats:
- ``.txt``: the shipped format. Two header lines of page chrome, then alternating
  title / abstract lines; the first title may carry a glued ``Subscribe`` prefix.
- ``.jsonl``: one object per line with ``title`` and ``abstract`` (optional ``authors``,
  ``year``, ``url``, ``id``).
- ``.csv``: a header row with at least ``title`` and ``abstract`` (same optional columns).

Any malformed input raises ``CorpusFormatError`` naming the file and line; callers read
every file before writing anything, so a bad file never leaves a half-written index.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path

from assistant.core.errors import CorpusFormatError

HEADER_LINES = 2
SUBSCRIBE_PREFIX = "Subscribe"
SUFFIXES = (".txt", ".jsonl", ".csv")
OPTIONAL_FIELDS = ("authors", "year", "url", "id")


@dataclass(frozen=True)
class RawRecord:
    title: str
    abstract: str
    source: str  # file name, as shown to users
    line: int  # 1-based line of the title (or CSV row)
    authors: str | None = None
    year: int | None = None
    url: str | None = None
    id: str | None = None


def discover(paths: list[Path]) -> list[Path]:
    """Expand folders into their corpus files, sorted so ingestion order is stable."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.iterdir() if p.suffix.lower() in SUFFIXES))
        elif path.is_file():
            files.append(path)
        else:
            raise CorpusFormatError(f"{path}: no such file or folder")
    if not files:
        raise CorpusFormatError(f"no corpus files ({', '.join(SUFFIXES)}) in {paths}")
    return files


def read_records(path: Path) -> list[RawRecord]:
    lines = _decode_lines(path)
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        return _read_jsonl(path, lines)
    if suffix == ".csv":
        return _read_csv(path, lines)
    if suffix == ".txt":
        return _read_txt(path, lines)
    raise CorpusFormatError(f"{path}: unsupported file type (use {', '.join(SUFFIXES)})")


def _decode_lines(path: Path) -> list[str]:
    data = path.read_bytes()
    if b"\x00" in data:
        line = data[: data.index(b"\x00")].count(b"\n") + 1
        raise CorpusFormatError(f"{path}:{line}: binary data (NUL byte); expected UTF-8 text")
    data = data.removeprefix(b"\xef\xbb\xbf")  # a BOM from spreadsheet exports is harmless
    for number, raw in enumerate(data.split(b"\n"), start=1):
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise CorpusFormatError(
                f"{path}:{number}: not valid UTF-8 (byte {raw[exc.start]:#04x} at column "
                f"{exc.start + 1}); save the file as UTF-8"
            ) from None
    text = data.decode("utf-8")
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def _read_txt(path: Path, lines: list[str]) -> list[RawRecord]:
    body = lines[HEADER_LINES:]
    if len(lines) <= HEADER_LINES or not any(s.strip() for s in body):
        raise CorpusFormatError(f"{path}: no records after the {HEADER_LINES} header lines")
    if len(body) % 2:
        last = HEADER_LINES + len(body)
        raise CorpusFormatError(
            f"{path}:{last}: title without an abstract (odd number of lines after the header)"
        )
    records = []
    for i in range(0, len(body), 2):
        line = HEADER_LINES + i + 1
        title, abstract = body[i].strip(), body[i + 1].strip()
        if i == 0 and title.startswith(SUBSCRIBE_PREFIX):
            title = title[len(SUBSCRIBE_PREFIX) :].strip()
        _require(path, line, title, "title")
        _require(path, line + 1, abstract, "abstract")
        records.append(RawRecord(title=title, abstract=abstract, source=path.name, line=line))
    return records


def _read_jsonl(path: Path, lines: list[str]) -> list[RawRecord]:
    records = []
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as exc:
            raise CorpusFormatError(f"{path}:{number}: invalid JSON ({exc.msg})") from None
        if not isinstance(obj, dict):
            raise CorpusFormatError(f"{path}:{number}: expected a JSON object")
        records.append(_from_mapping(path, number, obj))
    if not records:
        raise CorpusFormatError(f"{path}: no records")
    return records


def _read_csv(path: Path, lines: list[str]) -> list[RawRecord]:
    reader = csv.DictReader(io.StringIO("\n".join(lines) + "\n"))
    columns = [c.strip().lower() for c in reader.fieldnames or []]
    missing = [c for c in ("title", "abstract") if c not in columns]
    if missing:
        raise CorpusFormatError(
            f"{path}:1: missing column(s) {', '.join(missing)}; found {columns or 'none'}"
        )
    reader.fieldnames = columns
    records = []
    try:
        for row in reader:
            if None in row:
                raise CorpusFormatError(f"{path}:{reader.line_num}: more fields than columns")
            if not any((v or "").strip() for v in row.values()):
                continue
            records.append(_from_mapping(path, reader.line_num, row))
    except csv.Error as exc:
        raise CorpusFormatError(f"{path}:{reader.line_num}: {exc}") from None
    if not records:
        raise CorpusFormatError(f"{path}: no records")
    return records


def _from_mapping(path: Path, line: int, obj: dict) -> RawRecord:
    title, abstract = obj.get("title"), obj.get("abstract")
    for name, value in (("title", title), ("abstract", abstract)):
        if value is not None and not isinstance(value, str):
            raise CorpusFormatError(f"{path}:{line}: '{name}' must be text")
    _require(path, line, title, "title")
    _require(path, line, abstract, "abstract")
    extra = {k: _optional(path, line, k, obj.get(k)) for k in OPTIONAL_FIELDS}
    year = extra["year"]
    if year is not None:
        try:
            year = int(year)
        except ValueError:
            raise CorpusFormatError(f"{path}:{line}: 'year' must be a number") from None
    return RawRecord(
        title=title.strip(),
        abstract=abstract.strip(),
        source=path.name,
        line=line,
        authors=extra["authors"],
        year=year,
        url=extra["url"],
        id=extra["id"],
    )


def _optional(path: Path, line: int, key: str, value: object) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, list) and key == "authors":
        return ", ".join(str(v) for v in value)
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        return str(value).strip()
    raise CorpusFormatError(f"{path}:{line}: '{key}' has an unsupported type")


def _require(path: Path, line: int, value: str | None, name: str) -> None:
    if value is None or not value.strip():
        raise CorpusFormatError(f"{path}:{line}: empty or missing {name}")
