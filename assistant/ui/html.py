"""HTML for the web UI: chat messages and source cards (styles and script: ``static/``).

Everything that comes from a user, a model or the corpus is passed through ``esc``
(``html.escape``) *before* any markup of ours is added, so an abstract or an answer
containing ``<script>``, ``<img onerror=...>`` or Markdown image/link syntax shows as
text. The Chatbot renders these strings as HTML (``render_markdown=False``) and
sanitizes them again in the browser; the sources panel (``gr.HTML``) does not, which is
why nothing here ever interpolates unescaped text.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from typing import Any

from assistant.answering.verify import MARKER, parse_markers
from assistant.core.settings import AnswerSettings, Settings
from assistant.core.types import Answer, Citation, NumberedSource

# [1], [1, 2], [1-3], [1][2] as the model or the citation checker writes them.
_SAFE_URL = re.compile(r"^https?://[^\s\"'<>`]+$", re.IGNORECASE)
# Relevance labels use the thresholds abstention was calibrated with (core.settings): below
# the evidence floor a paper cannot support an answer; above the upper one it matches well.
_EVIDENCE_FLOOR = AnswerSettings.model_fields["abstain_threshold"].default
_STRONG = AnswerSettings.model_fields["coverage_waived_above"].default
RELEVANCE_HELP = (
    "How well this paper's best sentence matches the question, blending meaning "
    f"(embeddings) and shared words, 0-100: high from {round(100 * _STRONG)}, medium from "
    f"{round(100 * _EVIDENCE_FLOOR)} (the least a paper needs to be used as evidence), "
    "low below."
)


def esc(text: object) -> str:
    """Escape text for HTML element content and quoted attribute values."""
    return html.escape(str(text), quote=True)


def anchor(number: int, turn: int | None = None) -> str:
    """The id of source card ``number``; with ``turn``, that turn's card (each turn keeps
    its own cards, so an old answer's [2] opens its own [2], not the latest answer's)."""
    return f"src-{number}" if turn is None else f"src-{turn}-{number}"


def _cite_link(
    number: int, cited: dict[int, list[Citation]], streaming: bool, turn: int | None = None
) -> str:
    cls = "cite"
    title = f"Source {number}"
    if not streaming:
        cites = cited.get(number)
        if cites:
            ok = any(c.supported for c in cites)
            cls += " ok" if ok else " weak"
            title += ": supported by its abstract" if ok else ": weakly supported"
    return f'<a class="{cls}" href="#{anchor(number, turn)}" title="{esc(title)}">[{number}]</a>'


def linkify_citations(
    escaped: str,
    numbers: Iterable[int],
    cited: dict[int, list[Citation]] | None = None,
    streaming: bool = False,
    turn: int | None = None,
) -> str:
    """Turn [n] markers in already-escaped text into links to source card n (of ``turn``).

    Markers naming no retrieved source stay plain text.
    """
    known = set(numbers)
    cited = cited or {}

    def repl(match: re.Match[str]) -> str:
        nums = parse_markers(match.group(0))
        if not nums or any(n not in known for n in nums):
            return match.group(0)
        return "".join(_cite_link(n, cited, streaming, turn) for n in nums)

    return MARKER.sub(repl, escaped)


def _paragraphs(escaped: str) -> str:
    parts = [p.strip() for p in re.split(r"\n\s*\n", escaped) if p.strip()]
    return "".join(f"<p>{p.replace(chr(10), '<br>')}</p>" for p in parts)


def _cited_map(citations: list[Citation]) -> dict[int, list[Citation]]:
    out: dict[int, list[Citation]] = {}
    for c in citations:
        out.setdefault(c.number, []).append(c)
    return out


def rewrite_note(standalone_query: str) -> str:
    return f'<div class="rewrite">↪ Follow-up searched as: <q>{esc(standalone_query)}</q></div>'


def streaming_html(
    text: str,
    sources: list[NumberedSource],
    *,
    standalone_query: str = "",
    rewritten: bool = False,
    notice: str = "",
    status: str = "",
    turn: int | None = None,
) -> str:
    """The assistant message while the answer is being written."""
    parts = [rewrite_note(standalone_query)] if rewritten and standalone_query else []
    if notice:
        parts.append(f'<div class="notice">⚠ {esc(notice)}</div>')
    if text.strip():
        numbers = [s.number for s in sources]
        body = linkify_citations(esc(text), numbers, streaming=True, turn=turn)
        parts.append(f'<div class="answer">{_paragraphs(body)}<span class="caret">▍</span></div>')
    else:
        parts.append(f'<div class="status">{esc(status or "Searching the collection…")}</div>')
    return "".join(parts)


def answer_html(answer: Answer, notice: str = "", turn: int | None = None) -> str:
    """The final assistant message: checked text, citation links, notes and a footer."""
    parts = [rewrite_note(answer.standalone_query)] if answer.rewritten else []
    if notice:
        parts.append(f'<div class="notice">⚠ {esc(notice)}</div>')
    numbers = [s.number for s in answer.sources]
    if answer.abstained:
        # An abstention names the nearest paper ("has *X* [1], but ..."): link it too.
        body = linkify_citations(esc(answer.text), numbers, turn=turn)
        parts.append(
            '<div class="abstain"><div class="abstain-title">Not in the collection'
            f"</div><p>{body}</p></div>"
        )
    else:
        cited = _cited_map(answer.citations)
        body = linkify_citations(esc(answer.text), numbers, cited, turn=turn)
        parts.append(f'<div class="answer">{_paragraphs(body)}</div>')
    parts += [f'<div class="note">ⓘ {esc(note)}</div>' for note in answer.notes]
    meta = [f"answered by {esc(answer.backend)}"]
    if answer.fallback_reason:
        meta.append(f"fallback: {esc(answer.fallback_reason)}")
    if not answer.complete:
        meta.append("answer interrupted")
    n_cited = len({c.number for c in answer.citations})
    if not answer.abstained:
        n_ok = len({c.number for c in answer.citations if c.supported})
        meta.append(f"{n_cited} cited, {n_ok} supported")
    meta.append(f"{answer.timings.total_ms / 1000:.1f} s")
    parts.append(f'<div class="meta">{" · ".join(meta)}</div>')
    return "".join(parts)


def error_html(message: str) -> str:
    return f'<div class="error">⚠ {esc(message)}</div>'


def stopped_html(previous: str) -> str:
    """Mark an interrupted message (``previous`` is HTML we produced earlier)."""
    previous = previous.replace('<span class="caret">▍</span>', "")
    previous = re.sub(r'<div class="status">[^<]*</div>', "", previous)
    return previous + '<div class="meta">stopped</div>'


def user_html(question: str) -> str:
    return f'<div class="question">{esc(question)}</div>'


def chat_messages(turns: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Chatbot messages for turns {"question", "html", "answer"}."""
    out: list[dict[str, str]] = []
    for t in turns:
        out += [
            {"role": "user", "content": user_html(t["question"])},
            {"role": "assistant", "content": t["html"]},
        ]
    return out


def model_label(settings: Settings, backend: str, base_url: str = "", model: str = "") -> str:
    name = (backend or settings.llm.backend).split(":")[0]
    if name == "llamacpp":
        path = settings.llm.model_path
        return f"llama.cpp · {path.name if path else 'bundled SmolLM2-135M-Instruct'}"
    if name == "openai":
        url = base_url or settings.llm.base_url or "no URL set"
        return f"OpenAI-compatible · {model or settings.llm.model or 'server default'} at {url}"
    if name == "extractive":
        return "extractive · quoted sentences, no model"
    if name == "fake":
        return "fake · scripted demo answers"
    return backend


# -- source cards ---------------------------------------------------------------------------
def highlight(text: str, passages: Iterable[str]) -> str:
    """Escape ``text`` and wrap each occurrence of the given passages in <mark>."""
    spans: list[tuple[int, int]] = []
    for passage in passages:
        passage = passage.strip()
        if len(passage) < 8:
            continue
        start = text.find(passage)
        if start < 0:  # passages may be normalised; fall back to a whitespace-loose match
            pattern = r"\s+".join(re.escape(w) for w in passage.split())
            found = re.search(pattern, text)
            if not found:
                continue
            spans.append(found.span())
        else:
            spans.append((start, start + len(passage)))
    spans.sort()
    out, pos = [], 0
    for start, end in spans:
        start = max(start, pos)
        if start >= end:
            continue
        out.append(esc(text[pos:start]))
        out.append(f"<mark>{esc(text[start:end])}</mark>")
        pos = end
    out.append(esc(text[pos:]))
    return "".join(out)


def _status_badge(cites: list[Citation] | None, pending: bool, abstained: bool) -> str:
    """The citation check: supported or rejected, naming the verifier, the reason on hover."""
    if pending:
        return '<span class="support pending">checking…</span>'
    if abstained:
        return '<span class="support none">nearest match, does not answer</span>'
    if not cites:
        return '<span class="support none">not cited</span>'
    best = max(cites, key=lambda c: c.support)
    if any(c.supported for c in cites):
        ok = next(c for c in cites if c.supported)
        hover = f"Checked by {ok.verifier or 'the verifier'}: the abstract supports the claim"
        label = f"✓ supported ({best.support:.2f})"
        return f'<span class="support ok" title="{esc(hover)}">{label}{_by(ok)}</span>'
    reasons = list(dict.fromkeys(c.reason for c in cites if c.reason))
    why = "; ".join(reasons) or f"support {best.support:.2f} is below the threshold"
    hover = f"Rejected by {best.verifier or 'the verifier'}: {why}"
    return f'<span class="support rejected" title="{esc(hover)}">✗ rejected{_by(best)}</span>'


def _by(citation: Citation) -> str:
    return f' <span class="verifier">· {esc(citation.verifier)}</span>' if citation.verifier else ""


def relevance_badge(relevance: float | None) -> str:
    """high / medium / low (0-100) for a source's relevance, explained on hover.

    >>> relevance_badge(0.61)  # doctest: +ELLIPSIS
    '<span class="relevance high" title="How well...">relevance high · 61</span>'
    """
    if relevance is None:
        return ""
    level = "high" if relevance >= _STRONG else "medium" if relevance >= _EVIDENCE_FLOOR else "low"
    value = max(0, min(100, round(100 * relevance)))
    return (
        f'<span class="relevance {level}" title="{esc(RELEVANCE_HELP)}">'
        f"relevance {level} · {value}</span>"
    )


def _byline(src: NumberedSource) -> str:
    bits = [esc(src.authors)] if src.authors else []
    if src.year:
        bits.append(esc(src.year))
    if src.url and _SAFE_URL.match(src.url):
        bits.append(f'<a href="{esc(src.url)}" target="_blank" rel="noopener noreferrer">link</a>')
    return f'<div class="byline">{" · ".join(bits)}</div>' if bits else ""


def _clip(text: str, limit: int = 280) -> str:
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + " …"


def source_card(
    src: NumberedSource,
    cites: list[Citation] | None,
    *,
    pending: bool,
    abstained: bool = False,
    turn: int | None = None,
) -> str:
    snippets = list(dict.fromkeys(c.snippet for c in cites or [] if c.snippet))
    if snippets and not pending:
        quoted = "".join(f"<mark>{esc(s)}</mark> " for s in snippets)
        passage = f'<div class="passage"><span class="label">Cited passage</span>{quoted}</div>'
        marked = snippets
    elif src.passages:
        passage = (
            f'<div class="passage muted"><span class="label">Best matching passage'
            f"</span>{esc(_clip(src.passages[0]))}</div>"
        )
        marked = src.passages[:1]
    else:
        passage, marked = "", []
    state = "cited" if snippets and not pending else "uncited"
    return (
        f'<div class="src-card {state}" id="{anchor(src.number, turn)}">'
        f'<div class="src-head"><span class="badge">[{src.number}]</span>'
        f'<span class="src-title">{esc(src.title)}</span></div>'
        f"{_byline(src)}"
        f'<div class="src-meta">{_status_badge(cites, pending, abstained)}'
        f"{relevance_badge(src.relevance)}</div>"
        f"{passage}"
        f"<details><summary>Full abstract</summary>"
        f'<div class="abstract">{highlight(src.abstract, marked)}</div></details>'
        "</div>"
    )


def sources_html(
    sources: list[NumberedSource],
    citations: list[Citation] | None = None,
    *,
    pending: bool = False,
    abstained: bool = False,
    turn: int | None = None,
) -> str:
    if not sources:
        return '<div class="src-empty">No matching papers in the collection.</div>'
    cited = _cited_map(citations or [])
    cards = [
        source_card(s, cited.get(s.number), pending=pending, abstained=abstained, turn=turn)
        for s in sources
    ]
    head = "Sources (checking citations…)" if pending else f"Sources ({len(sources)})"
    return f'<div class="src-list"><div class="src-heading">{head}</div>{"".join(cards)}</div>'


def turn_sources(
    turn: int,
    question: str,
    sources: list[NumberedSource],
    citations: list[Citation] | None = None,
    *,
    latest: bool,
    pending: bool = False,
    abstained: bool = False,
) -> str:
    """One turn's source cards: the latest shown open, older ones collapsed under their
    question (a citation link opens its turn's group, see static/app.js)."""
    cards = sources_html(sources, citations, pending=pending, abstained=abstained, turn=turn)
    if latest:
        return f'<div class="src-turn latest" data-turn="{turn}">{cards}</div>'
    label = f"Turn {turn}: {_clip(question, 90)} ({len(sources)} sources)"
    return (
        f'<details class="src-turn" data-turn="{turn}"><summary>{esc(label)}</summary>'
        f"{cards}</details>"
    )


def sources_panel(groups: list[str]) -> str:
    """The sources panel: each turn's group (``turn_sources``), the latest first."""
    if not groups:
        return sources_placeholder()
    return "".join(reversed(groups))


def sources_placeholder(text: str = "Sources for the answer appear here.") -> str:
    return f'<div class="src-empty">{esc(text)}</div>'


def info_html(model: str, stats: dict[str, int] | None, error: str = "") -> str:
    index = (
        f"{stats.get('papers', 0)} papers, {stats.get('chunks', 0)} chunks"
        if stats
        else esc(error or "unavailable")
    )
    return (
        f'<div class="info"><span><b>Model:</b> {esc(model)}</span>'
        f"<span><b>Index:</b> {index}</span></div>"
    )
