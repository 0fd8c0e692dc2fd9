"""BibTeX entries for cited papers, from what the corpus knows (title, authors, year, URL)."""

from __future__ import annotations

import re
import unicodedata

from assistant.core.types import NumberedSource

_HTTP_URL = re.compile(r"^https?://[^\s<>\"'`]+$", re.IGNORECASE)
_BIB_SPECIAL = re.compile(r"([&%$#_{}~^\\])")
_BIB_REPLACE = {"~": r"\textasciitilde{}", "^": r"\textasciicircum{}", "\\": r"\textbackslash{}"}


def bibtex_key(source: NumberedSource) -> str:
    """First word of the title (ASCII, lower case) + the paper id, e.g. ``lagrangian_183e…``."""
    ascii_title = unicodedata.normalize("NFKD", source.title).encode("ascii", "ignore").decode()
    words = re.findall(r"[A-Za-z0-9]+", ascii_title)
    word = words[0].lower() if words else "paper"
    pid = re.sub(r"[^A-Za-z0-9]", "", source.paper_id) or "x"
    return f"{word}_{pid}"


def _bib_value(text: str) -> str:
    text = " ".join(str(text).split())
    return _BIB_SPECIAL.sub(lambda m: _BIB_REPLACE.get(m.group(1), "\\" + m.group(1)), text)


def _bib_authors(authors: str) -> str:
    parts = [p.strip() for p in re.split(r";|\band\b", authors) if p.strip()]
    return " and ".join(parts)


def bibtex_entry(source: NumberedSource) -> str:
    fields = [("title", "{" + _bib_value(source.title) + "}")]
    if source.authors:
        fields.append(("author", _bib_value(_bib_authors(source.authors))))
    if source.year:
        fields.append(("year", str(source.year)))
    if source.url and _HTTP_URL.match(source.url):
        fields.append(("url", _bib_value(source.url)))
    fields.append(
        ("note", _bib_value(f"Abstract in the local collection, paper id {source.paper_id}"))
    )
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields)
    return f"@misc{{{bibtex_key(source)},\n{body}\n}}"
