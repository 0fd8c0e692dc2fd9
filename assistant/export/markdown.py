"""Export a conversation as Markdown with a bibliography and BibTeX entries (``bibtex.py``).

Only what the corpus knows goes into the bibliography: the title, and the authors, year
and URL when the source file had them. Answer text is escaped so that HTML or Markdown
link/image syntax written by a model shows as text wherever the file is rendered; the
[n] citation markers are kept and refer to the numbered sources listed under each answer.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

from assistant.answering.verify import MARKER, parse_markers
from assistant.core.types import Answer, Citation, NumberedSource
from assistant.export.bibtex import bibtex_entry, bibtex_key

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+!|~$&])")
_HTTP_URL = re.compile(r"^https?://[^\s<>\"'`]+$", re.IGNORECASE)


def md_text(text: str) -> str:
    """Escape Markdown/HTML syntax, keeping [n] citation markers readable."""
    out, pos = [], 0
    for match in MARKER.finditer(text):
        out.append(_MD_SPECIAL.sub(r"\\\1", text[pos : match.start()]))
        out.append(match.group(0))
        pos = match.end()
    out.append(_MD_SPECIAL.sub(r"\\\1", text[pos:]))
    return "".join(out).replace("\n", "  \n")


def _reference(source: NumberedSource) -> str:
    bits = [f"*{md_text(source.title)}*"]
    if source.authors:
        bits.append(md_text(source.authors))
    if source.year:
        bits.append(str(source.year))
    line = ". ".join(bits)
    if source.url and _HTTP_URL.match(source.url):
        line += f". <{source.url.replace('>', '%3E')}>"
    return f"{line} `{bibtex_key(source)}`"


def _turn_sources(answer: Answer) -> list[str]:
    """The turn's own numbered sources, as its [n] markers mean them: the cited ones, and
    any the text names otherwise (an abstention names the nearest paper, "[1]")."""
    checks: dict[int, list[Citation]] = {}
    for c in answer.citations:
        checks.setdefault(c.number, []).append(c)
    named = set(parse_markers(answer.text))
    listed = [s for s in answer.sources if s.number in checks or s.number in named]
    if not listed:
        return []
    lines = ["Sources:", ""]
    for src in listed:
        check = _check(checks.get(src.number, []))
        lines.append(f"- \\[{src.number}\\] {_reference(src)}{check}")
    return [*lines, ""]


def _check(citations: list[Citation]) -> str:
    """ " (supported, strict)" / " (rejected by strict: reason)" / "" when not cited."""
    if not citations:
        return ""
    ok = next((c for c in citations if c.supported), None)
    if ok is not None:
        return f" (supported{', ' + md_text(ok.verifier) if ok.verifier else ''})"
    c = citations[0]
    by = f" by {md_text(c.verifier)}" if c.verifier else ""
    return f" (rejected{by}{': ' + md_text(c.reason) if c.reason else ''})"


def cited_sources(answers: list[Answer]) -> list[NumberedSource]:
    """The papers cited anywhere in the conversation, first citation first, once each."""
    seen: dict[str, NumberedSource] = {}
    for answer in answers:
        by_number = {s.number: s for s in answer.sources}
        for citation in answer.citations:
            src = by_number.get(citation.number)
            if src is not None and src.paper_id not in seen:
                seen[src.paper_id] = src
    return list(seen.values())


def conversation_markdown(
    answers: list[Answer], title: str = "Research conversation", now: datetime | None = None
) -> str:
    now = now or datetime.now()
    lines = [
        f"# {md_text(title)}",
        "",
        f"Exported {now:%Y-%m-%d %H:%M}. "
        "Answers were written from paper abstracts in the local collection; "
        "[n] refers to the sources listed under each answer.",
        "",
    ]
    for i, answer in enumerate(answers, start=1):
        lines += [f"## {i}. {md_text(answer.question)}", ""]
        if answer.rewritten:
            lines += [f"*Searched as:* {md_text(answer.standalone_query)}", ""]
        if answer.abstained:
            lines += ["**Not in the collection.** " + md_text(answer.text), ""]
        else:
            lines += [md_text(answer.text), ""]
        lines += _turn_sources(answer)
        if answer.fallback_reason:
            lines += [f"*Note: {md_text(answer.fallback_reason)}.*", ""]
    papers = cited_sources(answers)
    lines += ["## Bibliography", ""]
    if papers:
        lines += [f"{n}. {_reference(src)}" for n, src in enumerate(papers, start=1)]
    else:
        lines.append("No papers were cited.")
    lines += ["", "## BibTeX", "", "```bibtex"]
    lines += ["\n\n".join(bibtex_entry(src).replace("```", "'''") for src in papers)]
    lines += ["```", ""]
    return "\n".join(lines)


def write_export(answers: list[Answer], directory: Path, now: datetime | None = None) -> Path:
    """Write the conversation to a new Markdown file in ``directory``; returns its path."""
    now = now or datetime.now()
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"conversation-{now:%Y%m%d-%H%M%S-%f}.md"
    path.write_text(conversation_markdown(answers, now=now), encoding="utf-8")
    return path
