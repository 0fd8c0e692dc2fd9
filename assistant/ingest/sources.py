"""Readers for the corpus formats. Every record remembers its file and line.

Formats:
- ``.txt``: the shipped format. Two header lines of page chrome, then alternating
  title / abstract lines; the first title may carry a glued ``Subscribe`` prefix.
- ``.jsonl``: one object per line with ``title`` and ``abstract`` (optional ``authors``,
  ``year``, ``url``, ``id``).
- ``.csv``: a header row with at least ``title`` and ``abstract`` (same optional columns).

Any malformed input raises ``CorpusFormatError`` naming the file and line; callers read
every file before writing anything, so a bad file never leaves a half-written index.
Questionable but repairable text (control characters, bidi overrides, zero-width
characters) is cleaned and the record carries a note saying so (``RawRecord.notes``).
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import stat
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from assistant.core.errors import CorpusFormatError
from assistant.core.text import split_sentences
from assistant.ingest.clean import remove_invisible

HEADER_LINES = 2
SUBSCRIBE_PREFIX = "Subscribe"
SUFFIXES = (".txt", ".jsonl", ".csv")
OPTIONAL_FIELDS = ("authors", "year", "url", "id")

# Size limits. Real abstracts are 0.3-2 kB; 100 kB is fifty times the longest one and
# keeps the work per paper (cleaning, chunking, embedding, the stored record) bounded.
# A file is read into memory whole: 200 MB is about 100,000 abstracts, well past any
# corpus this tool is for; split bigger collections into several files.
MAX_FILE_BYTES = 200 * 1024 * 1024
MAX_CHARS = {"title": 2_000, "abstract": 100_000, "authors": 20_000, "url": 2_000, "id": 200}
MIN_YEAR = 1000


@dataclass(frozen=True)
class RawRecord:
    title: str
    abstract: str
    source: str  # file name, as shown to users
    line: int  # 1-based line of the title (or of the CSV row's first line)
    authors: str | None = None
    year: int | None = None
    url: str | None = None
    id: str | None = None
    path: str = ""  # the file as given, for messages
    notes: tuple[str, ...] = ()  # what was cleaned, for the ingest report

    @property
    def location(self) -> str:
        return f"{self.path or self.source}:{self.line}"


def discover(paths: list[Path], skipped: list[str] | None = None) -> list[Path]:
    """Expand folders into their corpus files, sorted so ingestion order is stable.

    Entries that are not regular files (FIFOs, devices, sockets, dangling links, folders
    named like ``a.txt``) are skipped and described in ``skipped``: reading a FIFO would
    block forever and the others hold no corpus."""
    files: list[Path] = []
    skipped = skipped if skipped is not None else []
    for path in paths:
        if path.is_dir():
            candidates = sorted(p for p in path.iterdir() if p.suffix.lower() in SUFFIXES)
        elif path.exists() or path.is_symlink():
            candidates = [path]
        else:
            raise CorpusFormatError(f"{path}: no such file or folder")
        for candidate in candidates:
            kind = _not_regular(candidate)
            if kind:
                skipped.append(f"skipped {candidate}: {kind}, not a regular file")
            else:
                files.append(candidate)
    if not files:
        raise CorpusFormatError(f"no corpus files ({', '.join(SUFFIXES)}) in {paths}")
    return files


def _not_regular(path: Path) -> str | None:
    """What ``path`` is if it is not a regular file (following links), else None."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return "a dangling symbolic link" if path.is_symlink() else "unreadable"
    if stat.S_ISREG(mode):
        return None
    for test, name in (
        (stat.S_ISDIR, "a folder"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
    ):
        if test(mode):
            return name
    return "a special file"


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


def _read_bytes(path: Path) -> bytes:
    """The file's bytes; refuses non-regular files without blocking (O_NONBLOCK, then
    fstat on the opened file, so a FIFO swapped in after ``discover`` cannot hang us)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as exc:
        raise CorpusFormatError(f"{path}: cannot open ({exc.strerror})") from None
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise CorpusFormatError(f"{path}: not a regular file")
        if info.st_size > MAX_FILE_BYTES:
            raise CorpusFormatError(
                f"{path}: file is {info.st_size / 2**20:.0f} MB; the limit is "
                f"{MAX_FILE_BYTES // 2**20} MB per file (split it into several files)"
            )
        try:
            return handle.read(MAX_FILE_BYTES + 1)
        except OSError as exc:
            raise CorpusFormatError(f"{path}: cannot read ({exc.strerror})") from None


def _decode_lines(path: Path) -> list[str]:
    data = _read_bytes(path)
    if b"\x00" in data:
        line = data[: data.index(b"\x00")].count(b"\n") + 1
        raise CorpusFormatError(f"{path}:{line}: binary data (NUL byte); expected UTF-8 text")
    data = data.removeprefix(b"\xef\xbb\xbf")  # a BOM from spreadsheet exports is harmless
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise CorpusFormatError(
            f"{path}:{line}: not valid UTF-8 (byte {data[exc.start]:#04x} at column "
            f"{column}); save the file as UTF-8"
        ) from None
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def _read_txt(path: Path, lines: list[str]) -> list[RawRecord]:
    body = lines[HEADER_LINES:]
    if len(lines) <= HEADER_LINES or not any(s.strip() for s in body):
        raise CorpusFormatError(f"{path}: no records after the {HEADER_LINES} header lines")
    records = []
    for i in range(0, len(body) - 1, 2):
        line = HEADER_LINES + i + 1
        title, abstract = body[i].strip(), body[i + 1].strip()
        if i == 0 and title.startswith(SUBSCRIBE_PREFIX):
            title = title[len(SUBSCRIBE_PREFIX) :].strip()
        _require(path, line, title, "title")
        _require(path, line + 1, abstract, "abstract")
        _check_pair(path, line, title, abstract)
        notes: list[str] = []
        records.append(
            RawRecord(
                title=_text(path, line, "title", title, notes),
                abstract=_text(path, line + 1, "abstract", abstract, notes),
                source=path.name,
                line=line,
                path=str(path),
                notes=tuple(notes),
            )
        )
    if len(body) % 2:
        last = HEADER_LINES + len(body)
        _check_title(path, last, body[-1].strip())  # a lone abstract: the pairs shifted
        raise CorpusFormatError(
            f"{path}:{last}: title without an abstract (odd number of lines after the header)"
        )
    return records


def _check_pair(path: Path, line: int, title: str, abstract: str) -> None:
    """Catch shifted pairs: one wrapped or missing line turns every later title into an
    abstract and vice versa, which would otherwise ingest as nonsense papers."""
    _check_title(path, line, title)
    # Titles almost never end with a period; an abstract's tail does. Together with a
    # short, unpunctuated "abstract" (a real title) it is a shift by one line.
    if title.endswith(".") and len(abstract) < 150 and not abstract.endswith((".", "!", "?")):
        raise CorpusFormatError(
            f"{path}:{line}: this title ends like an abstract and the next line reads like "
            "a title; a wrapped or missing line shifts the title/abstract pairs here"
        )


def _check_title(path: Path, line: int, title: str) -> None:
    sentences = len(split_sentences(title))
    if (len(title) >= 250 and sentences >= 2) or len(title) > 1000:
        raise CorpusFormatError(
            f"{path}:{line}: this title line reads like an abstract ({len(title)} "
            f"characters, {sentences} sentences); a wrapped or missing line before it "
            "shifts every title/abstract pair after it"
        )


def _read_jsonl(path: Path, lines: list[str]) -> list[RawRecord]:
    records = []
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as exc:
            raise CorpusFormatError(f"{path}:{number}: invalid JSON ({exc.msg})") from None
        except RecursionError:
            raise CorpusFormatError(f"{path}:{number}: JSON nested too deeply") from None
        except ValueError as exc:  # e.g. an integer of more than 4300 digits
            raise CorpusFormatError(f"{path}:{number}: invalid JSON value ({exc})") from None
        if not isinstance(obj, dict):
            raise CorpusFormatError(f"{path}:{number}: expected a JSON object")
        records.append(_from_mapping(path, number, obj))
    if not records:
        raise CorpusFormatError(f"{path}: no records")
    return records


def _read_csv(path: Path, lines: list[str]) -> list[RawRecord]:
    # strict: a quote that is never closed (a file cut inside a quoted field) is an
    # error instead of silently swallowing the rest of the file into one field.
    reader = csv.reader(io.StringIO("\n".join(lines) + "\n"), strict=True)
    try:
        columns = [c.strip().lower() for c in next(reader, [])]
    except csv.Error as exc:
        raise CorpusFormatError(f"{path}:1: bad header row ({exc})") from None
    dupes = sorted({c for c in columns if c and columns.count(c) > 1})
    if dupes:
        raise CorpusFormatError(f"{path}:1: duplicate column(s) {', '.join(dupes)}")
    missing = [c for c in ("title", "abstract") if c not in columns]
    if missing:
        raise CorpusFormatError(
            f"{path}:1: missing column(s) {', '.join(missing)}; found {columns or 'none'}"
        )
    records, start = [], 2
    try:
        for row in reader:
            if len(row) > len(columns):
                raise CorpusFormatError(f"{path}:{start}: more fields than columns")
            if any(v.strip() for v in row):
                records.append(_from_mapping(path, start, dict(zip(columns, row, strict=False))))
            start = reader.line_num + 1
    except csv.Error as exc:
        if "unexpected end of data" in str(exc):
            raise CorpusFormatError(
                f"{path}:{start}: a quoted field opened in this row is never closed "
                "(is the file cut off?)"
            ) from None
        raise CorpusFormatError(f"{path}:{start}: {exc}") from None
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
    notes: list[str] = []
    extra = {k: _optional(path, line, k, obj.get(k)) for k in OPTIONAL_FIELDS}
    texts = {
        k: _text(path, line, k, v, notes, required=False) for k, v in extra.items() if k != "year"
    }
    return RawRecord(
        title=_text(path, line, "title", title.strip(), notes),
        abstract=_text(path, line, "abstract", abstract.strip(), notes),
        source=path.name,
        line=line,
        authors=texts["authors"],
        year=_year(path, line, obj.get("year")),
        url=texts["url"],
        id=texts["id"],
        path=str(path),
        notes=tuple(notes),
    )


def _optional(path: Path, line: int, key: str, value: object) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, list) and key == "authors":
        if not all(isinstance(v, str) for v in value):
            raise CorpusFormatError(f"{path}:{line}: 'authors' must be text or a list of text")
        return ", ".join(v.strip() for v in value if v.strip()) or None
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        return str(value).strip()
    raise CorpusFormatError(f"{path}:{line}: '{key}' has an unsupported type")


def _year(path: Path, line: int, value: object) -> int | None:
    """A plausible publication year, or None when absent; anything else is refused."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise CorpusFormatError(f"{path}:{line}: 'year' must be a number")
    try:
        number = float(value.strip()) if isinstance(value, str) else value
    except ValueError:
        raise CorpusFormatError(f"{path}:{line}: 'year' must be a number") from None
    latest = date.today().year + 1
    if not math.isfinite(number) or number != int(number) or not MIN_YEAR <= number <= latest:
        shown = value if isinstance(value, str) else repr(value)
        raise CorpusFormatError(
            f"{path}:{line}: 'year' {str(shown)[:40]} is not a plausible publication year "
            f"(expected a whole number from {MIN_YEAR} to {latest})"
        )
    return int(number)


def _text(
    path: Path, line: int, name: str, value: str | None, notes: list[str], required: bool = True
) -> str | None:
    """Check one text field: no lone surrogates (they cannot be stored), within its size
    limit; invisible and control characters are removed and noted."""
    if value is None:
        return None
    bad = next((c for c in value if "\ud800" <= c <= "\udfff"), None)
    if bad is not None:
        raise CorpusFormatError(
            f"{path}:{line}: '{name}' contains a lone surrogate (U+{ord(bad):04X}), "
            "which is not a character; fix the escape in the file"
        )
    cleaned, removed = remove_invisible(value)
    if removed:
        notes.append(f"{path}:{line}: removed {removed} from {name}")
    limit = MAX_CHARS[name]
    if len(cleaned) > limit:
        raise CorpusFormatError(
            f"{path}:{line}: '{name}' is {len(cleaned):,} characters; the limit is {limit:,}"
        )
    if not cleaned.strip():
        if not required:
            return None
        raise CorpusFormatError(f"{path}:{line}: empty or missing {name} (only invisible text)")
    return cleaned.strip()


def _require(path: Path, line: int, value: str | None, name: str) -> None:
    if value is None or not value.strip():
        raise CorpusFormatError(f"{path}:{line}: empty or missing {name}")
