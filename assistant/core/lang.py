"""The language a question is written in (ISO 639-1), for the non-English caveats.

The collection is English, so the language only changes how the answer path judges a
question: English word coverage cannot refuse a German question, and the answer says that
matching is weaker. Detection uses ``lingua`` (offline, no model download), restricted to
the handful of languages researchers here write in, which keeps it fast and keeps it from
calling a terse English query Latin or Tagalog.

The detector is built on first use: importing this module costs nothing, and a process
that only ever sees English questions caught by the quick check never builds it.
"""

from __future__ import annotations

import re
import threading
from functools import lru_cache
from typing import Any

ENGLISH = "en"
SUPPORTED = ("en", "de", "es", "fr", "it", "pt", "nl")
NAMES = {
    "en": "English",
    "de": "German",
    "es": "Spanish",
    "fr": "French",
    "it": "Italian",
    "pt": "Portuguese",
    "nl": "Dutch",
}
# Below this many letters a guess is noise ("PINN KAN?"): such questions count as English,
# the collection's language, so no caveat is shown for a bare term list.
_MIN_LETTERS = 12
# Technical English ("mIoU of PAIF on MSRS") often gets only a slim lead; another language
# must clearly beat English before the question is treated as not English.
_MIN_CONFIDENCE = 0.55
_WORD = re.compile(r"[^\W\d_]+")
_KEYWORD_TOKEN = re.compile(r"[^\W_][\w\-]*")
# Frequent function words of the supported languages other than English. A question with
# none of them and only ASCII letters is English (or a term list) without asking lingua,
# which spares the detector's load in the common case; keyword search drops them.
_FOREIGN_HINT_TEXT = """
    der die das und ist nicht mit eine einer einem einen ich gibt welche welcher welches
    wie wird werden auf dem den des oder auch für über zur zum bei durch sich arbeit
    el la los las una uno del que con por para como qué cómo cuál hay algún alguna artículo
    es se lo más sobre trabajo entre
    le les des est une dans pour avec sur qui quel quelle quels sont pas ce cette article
    il della delle che di per con una sono come quale articolo lavoro nel nella gli
    o os um uma não em com por qual artigo trabalho são na no dos das
    het een van en ik welk welke voor met op niet zijn wat hoe artikel werk
"""
_FOREIGN_HINTS = frozenset(_FOREIGN_HINT_TEXT.split())
# Words that are no hint (English has "a", "was" and "et al.", names have "de") but still
# carry nothing in another language. "was" alone sent one English question in ten to
# lingua, whose first call loads its models (~0.9 s).
_NO_HINT_WORDS = "a à de da do du y e et au aux im zu von vom ein als was al"
_FUNCTION_WORDS = _FOREIGN_HINTS | frozenset(_NO_HINT_WORDS.split())

_lock = threading.Lock()
_detector: Any = None


def language_name(code: str | None) -> str:
    """English name of an ISO 639-1 code ("de" -> "German"); the code if unknown."""
    return NAMES.get(code or ENGLISH, code or "English")


def detect_language(text: str) -> str:
    """ISO 639-1 code of ``text`` among ``SUPPORTED``; "en" when short or uncertain.

    >>> detect_language("Which papers study PINN failure modes?")
    'en'
    >>> detect_language("KAN")
    'en'
    """
    return _detect(text.strip())


@lru_cache(maxsize=1024)
def _detect(text: str) -> str:
    words = _WORD.findall(text.lower())
    if sum(len(w) for w in words) < _MIN_LETTERS:
        return ENGLISH
    if text.isascii() and not any(w in _FOREIGN_HINTS for w in words):
        return ENGLISH
    values = _build().compute_language_confidence_values(text)
    if not values:
        return ENGLISH
    best = values[0]
    code = best.language.iso_code_639_1.name.lower()
    if code != ENGLISH and best.value < _MIN_CONFIDENCE:
        # A slim lead for one non-English language is often a split between two close
        # ones (Spanish/Portuguese): what matters here is "not English", so sum them.
        english = next((v.value for v in values if v.language.iso_code_639_1.name == "EN"), 0.0)
        return code if 1.0 - english >= _MIN_CONFIDENCE else ENGLISH
    return code


def _build() -> Any:
    global _detector
    with _lock:
        if _detector is None:
            from lingua import IsoCode639_1, LanguageDetectorBuilder

            codes = [getattr(IsoCode639_1, c.upper()) for c in SUPPORTED]
            _detector = LanguageDetectorBuilder.from_iso_codes_639_1(*codes).build()
        return _detector


def strip_function_words(text: str, language: str | None = None) -> str:
    """``text`` without the function words of a language other than English, for keyword
    search: BM25 drops English stop words only, so "de", "la", "die" would match any
    abstract that happens to use them (one abstract in the collection is Spanish).

    >>> strip_function_words("fusión de imágenes para la segmentación", "es")
    'fusión imágenes segmentación'
    >>> strip_function_words("the role of dropout", "en")
    'the role of dropout'
    """
    language = language or detect_language(text)
    if language == ENGLISH:
        return text
    kept = [w for w in _KEYWORD_TOKEN.findall(text) if w.lower() not in _FUNCTION_WORDS]
    return " ".join(kept) or text
