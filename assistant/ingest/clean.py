"""Normalise LaTeX-ish escapes and whitespace for display and search.

The corpus keeps escapes such as ``Schr\\"odinger``, ``H{\\"o}lder``, ``85\\%`` and
``{\\em word}``. We turn them into plain Unicode (``Schrödinger``, ``85%``) so that
keyword search matches what people type and the UI shows readable text. The raw string
is kept beside the clean one by the caller.

>>> normalize_text('Schr\\\\"{o}dinger at 85\\\\% with {\\\\lambda}')
'Schrödinger at 85% with λ'
"""

from __future__ import annotations

import re
import unicodedata

# Accent commands -> Unicode combining marks (applied to the following letter, then NFC).
_ACCENTS = {
    '"': "\u0308",
    "'": "\u0301",
    "`": "\u0300",
    "^": "\u0302",
    "~": "\u0303",
    "=": "\u0304",
    ".": "\u0307",
    "v": "\u030c",
    "u": "\u0306",
    "H": "\u030b",
    "c": "\u0327",
    "k": "\u0328",
}
_SYMBOLS = {
    "alpha": "α",
    "beta": "β",
    "gamma": "γ",
    "delta": "δ",
    "epsilon": "ε",
    "varepsilon": "ε",
    "zeta": "ζ",
    "eta": "η",
    "theta": "θ",
    "kappa": "κ",
    "lambda": "λ",
    "mu": "μ",
    "nu": "ν",
    "xi": "ξ",
    "pi": "π",
    "rho": "ρ",
    "sigma": "σ",
    "tau": "τ",
    "phi": "φ",
    "varphi": "φ",
    "chi": "χ",
    "psi": "ψ",
    "omega": "ω",
    "Gamma": "Γ",
    "Delta": "Δ",
    "Theta": "Θ",
    "Lambda": "Λ",
    "Pi": "Π",
    "Sigma": "Σ",
    "Phi": "Φ",
    "Psi": "Ψ",
    "Omega": "Ω",
    "leq": "≤",
    "le": "≤",
    "geq": "≥",
    "ge": "≥",
    "neq": "≠",
    "approx": "≈",
    "sim": "∼",
    "times": "×",
    "cdot": "·",
    "infty": "∞",
    "in": "∈",
    "to": "→",
    "rightarrow": "→",
    "pm": "±",
    "partial": "∂",
    "nabla": "∇",
    "deg": "°",
    "L": "Ł",
    "l": "ł",
    "o": "ø",
    "O": "Ø",
    "ss": "ß",
    "ae": "æ",
    "i": "ı",
    "ell": "ℓ",
    "sqrt": "√",
    "sum": "∑",
    "log": "log",
    "ldots": "…",
    "dots": "…",
}
# Every pattern must run in linear time on hostile input: no two adjacent quantifiers
# that can match the same characters (``\s+([^{}]*)`` or ``\s*\{?\s*`` made a run of
# spaces after ``{\em`` or ``\"`` quadratic: 16k spaces took 2.7 s). Hence ``\s`` once
# before the group (stripped afterwards) and ``\s*(?:\{\s*)?``.
_FONT_GROUP = re.compile(r"\{\\(?:em|it|bf|rm|sc|sl|tt)\s([^{}]*)\}")
_FONT_CMD = re.compile(r"\\(?:textbf|textit|emph|mathrm|mathbf|mathcal|text|mathit)\{([^{}]*)\}")
# Acute/grave accents only on letters that take them, so O\\'Connell stays an apostrophe.
_ACCENT = re.compile(
    r"""\{?\\(?=["^~=.'`vuHck])(?:(["^~=.])\s*(?:\{\s*)?(\\?[A-Za-z])"""
    r"""|(['`])\s*(?:\{\s*)?(\\?[aeiouyAEIOUYcnsz])"""
    r"""|([vuHck])\s*\{\s*(\\?[A-Za-z]))\s*\}?\}?"""
)
# Only known command names (longest first, not followed by a letter), so unknown commands
# cost no Python callback: a megabyte of ``{\em`` stays fast.
_SYMBOL = re.compile(
    r"\{?\\(" + "|".join(sorted(_SYMBOLS, key=len, reverse=True)) + r")(?![A-Za-z])\}?"
)
_ESCAPED = re.compile(r"\\([%&_#$])")
_EMPTY_GROUP = re.compile(r"\{\s*\}")  # LaTeX's empty group, as in \L{}ukasz
_WS = re.compile(r"\s+")
# Characters that change how text displays or compares without being text: C0/C1
# controls (tab and newlines are whitespace and stay), soft hyphen, bidi marks, embeddings,
# overrides and isolates (an RLO makes a title render backwards), zero-width space, word
# joiner and invisible operators, BOM, interlinear annotation marks. ZWJ/ZWNJ stay:
# they are part of some scripts' spelling.
_INVISIBLE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b\u200e\u200f"
    "\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\ufff9-\ufffb]"
)


def _accent(match: re.Match[str]) -> str:
    groups = [g for g in match.groups() if g is not None]
    mark = _ACCENTS[groups[0]]
    letter = groups[1].lstrip("\\")
    if letter == "i":  # \'{\i} is a dotless i with an accent: í
        letter = "i"
    return unicodedata.normalize("NFC", letter + mark)


def _symbol(match: re.Match[str]) -> str:
    return _SYMBOLS[match.group(1)]


def remove_invisible(text: str) -> tuple[str, str]:
    r"""``text`` without invisible/control characters, and a description of what went
    (empty if nothing did).

    >>> remove_invisible("abc\u202edef\x07")
    ('abcdef', '2 invisible or control characters (U+0007, U+202E)')
    """
    found = _INVISIBLE.findall(text)
    if not found:
        return text, ""
    kinds = ", ".join(f"U+{ord(c):04X}" for c in sorted(set(found))[:5])
    noun = "character" if len(found) == 1 else "characters"
    return _INVISIBLE.sub("", text), f"{len(found)} invisible or control {noun} ({kinds})"


def _font_group(match: re.Match[str]) -> str:
    return match.group(1).lstrip()


def normalize_text(text: str) -> str:
    """Unicode text with LaTeX escapes resolved and whitespace collapsed."""
    text = unicodedata.normalize("NFC", text.replace("\x00", ""))
    text = _FONT_GROUP.sub(_font_group, text)
    text = _FONT_CMD.sub(r"\1", text)
    text = _ACCENT.sub(_accent, text)
    text = _ESCAPED.sub(r"\1", text)
    text = text.replace("\\ ", " ").replace("\\'", "'")
    text = _SYMBOL.sub(_symbol, text)
    text = re.sub(r"(?<!\\)\$", "", text)  # inline-math dollars
    text = _EMPTY_GROUP.sub("", text)
    return _WS.sub(" ", text).strip()


def title_key(title: str) -> str:
    """Key used to detect the same paper across files: case- and spacing-insensitive."""
    text = normalize_text(title).casefold()
    return re.sub(r"[^\w]+", " ", text).strip()
