"""The number rule: every number of a claim is stated in ONE evidence sentence, with what
it counts, and numbers of one kind keep their order.

A number is read with its multiplier ("3.8 billion", "7B"), its percent sign, its unit
(the words right after it: "12 layers", "five hours") and its context (the words around
it: "accuracy of 90%"). A claim's number agrees with an abstract's number when the value
is the same, the claim's unit is there, and the claim's context words are near it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from assistant.answering.verifiers.tuning import STRICT
from assistant.answering.verifiers.words import Token, is_content, matches, stem, tokenize

_ONE_TO_TWENTY = """one two three four five six seven eight nine ten eleven twelve thirteen
fourteen fifteen sixteen seventeen eighteen nineteen twenty"""
NUMBER_WORDS = {w: float(i + 1) for i, w in enumerate(_ONE_TO_TWENTY.split())} | {
    "hundred": 100.0,
    "thousand": 1000.0,
    "single": 1.0,
}
_MULTIPLIERS = {"hundred": 1e2, "thousand": 1e3, "million": 1e6, "billion": 1e9, "trillion": 1e12}
_GLUED_MULTIPLIERS = {"k": 1e3, "K": 1e3, "M": 1e6, "B": 1e9, "T": 1e12}
_GLUED_TIMES = {"x", "X", "×"}
# Tokens that join the numbers of one range or list: "7 to 11 W", "1961-2019", "1.91/2.43".
_CONNECTORS = {"to", "-", "–", "~", "and", "or", "through", "/", "between", "from", ","}
_PART_OF_NUMBER = {"%", "percent", "x", *_MULTIPLIERS, *(m.lower() for m in _GLUED_MULTIPLIERS)}
# "respectively" and "1.91/2.43" detach numbers from their words: then the whole sentence
# is the number's context.
_DETACHED = {"respectively", "/"}
_CLAUSE_WORDS = {"while", "whereas", "and", "but", "which", "although", "though", "so"}
# Modifiers between a number and its unit: "15.1 average score" counts scores.
_UNIT_MODIFIERS = {"average", "total", "overall", "additional", "more", "different"}


@dataclass
class Quantity:
    """A number in a text with what it counts: its unit words and the words around it."""

    value: float
    text: str  # as written, for reasons ("53%")
    index: int  # token index of the number
    pct: bool = False
    unit: list[str] = field(default_factory=list)  # stems of the words right after it
    unit_raw: str = ""
    context: set[str] = field(default_factory=set)  # stems of the nearby words
    context_raw: str = ""
    close: set[str] = field(default_factory=set)  # stems of the words right next to it
    sentence: set[str] = field(default_factory=set)  # stems of its whole sentence
    detached: bool = False
    group: int = 0  # numbers of one range or list share a group ("7 to 11 Watts")

    @property
    def key(self) -> str:
        """What it counts, for the order rule: numbers of one kind keep their order."""
        return "%" if self.pct else (self.unit[0] if self.unit else "")

    def same_value(self, other: Quantity) -> bool:
        return abs(self.value - other.value) <= 1e-9 * max(1.0, abs(self.value))


def is_number_word(token: Token) -> bool:
    return token.low in NUMBER_WORDS


def _number_value(tokens: list[Token], i: int) -> float | None:
    tok = tokens[i]
    if tok.text[0].isdigit():
        try:
            return float(tok.text.replace(",", ""))
        except ValueError:
            return None  # "64x64"
    low = tok.low
    if low not in NUMBER_WORDS:
        return None
    following = tokens[i + 1] if i + 1 < len(tokens) else None
    # "one" is a number only when it counts something ("one hidden neuron"), not "one of".
    if low in ("one", "single") and (following is None or not is_content(following)):
        return None
    return NUMBER_WORDS[low]


def _read_number(tokens: list[Token], i: int, value: float) -> Quantity:
    """The quantity starting at token ``i``: multipliers, percent sign and unit words."""
    j, text, unit, pct = i + 1, tokens[i].text, [], False
    glued = j < len(tokens) and tokens[j].start == tokens[i].end
    if glued and tokens[j].text in _GLUED_MULTIPLIERS:
        value, text, j = value * _GLUED_MULTIPLIERS[tokens[j].text], text + tokens[j].text, j + 1
    elif glued and tokens[j].text in _GLUED_TIMES:
        unit, j = ["time"], j + 1
    elif glued and tokens[j].text == "-" and j + 1 < len(tokens) and is_content(tokens[j + 1]):
        j += 1  # "5-arcmin": the unit follows the hyphen
    if j < len(tokens) and tokens[j].low in _MULTIPLIERS:
        value, text, j = value * _MULTIPLIERS[tokens[j].low], f"{text} {tokens[j].text}", j + 1
    if j < len(tokens) and tokens[j].low in ("%", "percent"):
        pct, text, j = True, text + "%", j + 1
    raw: list[str] = []
    while j < len(tokens) and len(raw) < STRICT.unit_words:
        if is_content(tokens[j]):
            raw.append(tokens[j].text)
        elif tokens[j].low not in _UNIT_MODIFIERS:
            break
        j += 1
    unit = unit or [stem(w) for w in raw]
    return Quantity(value, text, i, pct, unit, " ".join(raw))


def quantities(text: str, evidence: bool = False) -> list[Quantity]:
    """Every number in ``text`` with its unit and context words. A claim's context ends
    with its clause; an abstract's reaches further (a paraphrase moves words around).

    >>> [(q.value, q.pct, q.unit) for q in quantities("7B to 70B weights, 90%")]
    [(7000000000.0, False, ['weight']), (70000000000.0, False, ['weight']), (90.0, True, [])]
    """
    tokens = tokenize(text)
    found: list[Quantity] = []
    for i in range(len(tokens)):
        if found and i == found[-1].index + 1 and tokens[i].low in _MULTIPLIERS:
            continue  # "two hundred": "hundred" belongs to the number before it
        value = _number_value(tokens, i)
        if value is not None:
            found.append(_read_number(tokens, i, value))
    _group(found, tokens)
    everything = {stem(t.text) for t in tokens if is_content(t)}
    detached = any(t.low in _DETACHED for t in tokens)
    reach = STRICT.evidence_number_reach if evidence else STRICT.claim_number_reach
    for q in found:
        q.context, q.context_raw = _context(tokens, q, found, reach, not evidence)
        q.close = _context(tokens, q, found, STRICT.claim_number_reach, not evidence)[0]
        q.sentence, q.detached = everything, detached
    return found


def _group(found: list[Quantity], tokens: list[Token]) -> None:
    """Join ranges and lists ("from 2.2 to 66.3", "7 and 11 W"); members share the unit."""
    for a, b in zip(found, found[1:], strict=False):
        between = [t for t in tokens[a.index + 1 : b.index] if t.low not in _PART_OF_NUMBER]
        joined = not a.unit and len(between) <= 2 and all(t.low in _CONNECTORS for t in between)
        b.group = a.group if joined else a.group + 1
    for q in found:
        last = [x for x in found if x.group == q.group][-1]
        if not q.unit:
            q.unit, q.unit_raw = last.unit, last.unit_raw
        q.pct = q.pct or last.pct


def _context(
    tokens: list[Token], q: Quantity, found: list[Quantity], reach: int, clauses: bool
) -> tuple[set[str], str]:
    """Content words near the number's group, not crossing another group's number."""
    members = [x.index for x in found if x.group == q.group]
    others = {x.index for x in found if x.group != q.group}
    words: list[str] = []
    for step, i in ((-1, min(members) - 1), (1, max(members) + 1)):
        taken = 0
        while 0 <= i < len(tokens) and taken < reach + (len(q.unit) if step > 0 else 0):
            tok = tokens[i]
            if i in others or tok.low == ";" or (clauses and _clause_break(tokens, i)):
                break
            if is_content(tok):
                taken += 1
                if stem(tok.text) not in q.unit:
                    words.append(tok.text)
            i += step
    return {stem(w) for w in words}, (words[0] if words else "")


def _clause_break(tokens: list[Token], i: int) -> bool:
    """A claim number's context ends where another clause starts (", while ..."); an
    appositive comma ("accuracy, 80%, in") does not end it."""
    if tokens[i].low in _CLAUSE_WORDS - {"and", "so"}:
        return True
    following = tokens[i + 1].low if i + 1 < len(tokens) else ""
    return tokens[i].low == "," and following in _CLAUSE_WORDS


def agrees(q: Quantity, e: Quantity, known: set[str]) -> bool:
    """Whether the abstract's number ``e`` states the claim's number ``q``.

    ``known`` are the abstract's words: a unit word the abstract uses elsewhere but not
    next to this number ("510 Holstein cows" where it says "510 cows") is a mix-up.
    """
    if not q.same_value(e) or (q.pct and not e.pct):
        return False
    close = e.close | set(e.unit)
    if q.unit:
        if not any(matches(u, close) for u in q.unit):
            return False
        if q.unit[0] in known and not matches(q.unit[0], close):
            return False
    if not q.context:
        return True
    # With its unit found ("12 layers"), the rest of the claim may be said anywhere in the
    # sentence; a bare number or a percentage is tied to what it counts only by the words
    # near it ("accuracy of 90%"), unless "respectively" detached it from them.
    wide = (q.unit and not q.pct) or e.detached
    near = e.sentence if wide else e.context | set(e.unit)
    return any(matches(c, near) for c in q.context)


@dataclass(frozen=True)
class NumberCheck:
    """Where each claim number was found: (sentence, token index), and why it failed."""

    placed: list[tuple[int, int]]
    reason: str | None


def check_numbers(claim: str, sentences: list[str], everywhere: list[str]) -> NumberCheck:
    """Every number of the claim must be stated in ONE of ``sentences`` with what it counts,
    and numbers of one kind must keep their order ("from 95% to 47%").

    ``everywhere`` (the whole abstract) only sharpens the reason of a failure.
    """
    wanted = quantities(claim)
    found = [quantities(s, evidence=True) for s in sentences]
    known = {stem(t.text) for s in everywhere for t in tokenize(s) if is_content(t)}
    placed: list[tuple[int, int]] = []
    for n, q in enumerate(wanted):
        spot = _place(q, found, placed, wanted[:n], known)
        if spot is None:
            return NumberCheck(placed, _number_reason(q, everywhere))
        placed.append(spot)
    for a in range(len(wanted)):
        for b in range(a + 1, len(wanted)):
            pa, pb = placed[a], placed[b]
            if wanted[a].key == wanted[b].key and pa[0] == pb[0] and pa[1] > pb[1]:
                return NumberCheck(
                    placed,
                    f"the cited abstract gives {wanted[a].text} and {wanted[b].text} "
                    "the other way round",
                )
    return NumberCheck(placed, None)


def _place(
    q: Quantity,
    found: list[list[Quantity]],
    placed: list[tuple[int, int]],
    before: list[Quantity],
    known: set[str],
) -> tuple[int, int] | None:
    """The first place stating ``q``; prefer one after the same kind's previous number."""
    spots = [(s, e.index) for s, es in enumerate(found) for e in es if agrees(q, e, known)]
    if not spots:
        return None
    same_kind = [p for p, w in zip(placed, before, strict=True) if w.key == q.key]
    if same_kind:
        last = same_kind[-1]
        later = [sp for sp in spots if sp[0] == last[0] and sp[1] > last[1]]
        if later:
            return later[0]
    return spots[0]


def _number_reason(q: Quantity, everywhere: list[str]) -> str:
    if not any(q.same_value(e) for s in everywhere for e in quantities(s)):
        return f"the number {q.text} is not stated in the cited abstract"
    what = q.unit_raw or q.context_raw
    if what:
        return f"the number {q.text} is not stated with '{what}' in the cited abstract"
    return f"the number {q.text} appears in the cited abstract, but about something else"
