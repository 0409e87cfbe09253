"""Text normalisation, clause splitting and pattern compilation for report labelling.

Reports and patterns meet in one normal form: lower case, German umlauts spelled out
(``ä`` -> ``ae``, ``ö`` -> ``oe``, ``ü`` -> ``ue``, ``ß`` -> ``ss``, as reports typed
without umlauts spell them), every other accent stripped (``é`` -> ``e``, ``å`` -> ``a``),
whitespace collapsed. Patterns are written with umlauts and accents and compiled so that
``ä`` also matches a plain ``a`` (``ventrikuläre`` matches ``ventrikulaere``, ``ventrikuläre``
and ``ventrikulare``), and a space also matches a hyphen or nothing (``st senkung`` matches
``st-senkung``, ``st senkung`` and ``stsenkung``).
"""

from __future__ import annotations

import re
import unicodedata

_UMLAUTS = {"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "æ": "ae", "œ": "oe", "ø": "oe"}
# PTB-XL's export lost the "ü" of some words to "#" ("f#r", "#bergang")
_LOST_UE = re.compile(r"(?<=[a-z])#|#(?=[a-z])")
_SPACES = re.compile(r"\s+")

# abbreviations after which a full stop does not end a statement
_ABBREVIATIONS = frozenset(
    "unvollst unbest unspez indiff intraventr insbes rep chron supraventr ventr evtl ca bzw "
    "vs dd li re path pos neg st z.n v.a max min amp ant inf lat post sept approx krit "
    "amplitudkrit novod".split()
)
_LEAD = r"(?:avr|avl|avf|d?iii|d?ii|d?i|d[123]|v[1-9]|[1-9])\b"  # DI-DIII: French
# statement boundaries: ; ! ? newline, a full stop followed by a space or the end, and a
# comma that neither separates digits (0,2) nor continues a lead list (i, avl, v5,6)
# a German ordinal number before "Grad(es)": its full stop does not end the statement
_ORDINAL = re.compile(r"(?<![a-z0-9])(?:[1-3]|i{1,3})$")
_GRADE = re.compile(r"\s*grad")
_BOUNDARY = re.compile(rf"[;!?\n]|\.(?=\s|$)|,(?!\s*{_LEAD})")


def fold(text: str) -> str:
    """Lower-case ``text``, spell out umlauts, strip accents, collapse whitespace.

    Examples
    --------
    >>> fold("Ventrikuläre  Extrasystole(n), qt-verlÄngerung, Bloc de branche droit, f#r")
    'ventrikulaere extrasystole(n), qt-verlaengerung, bloc de branche droit, fuer'
    """
    text = text.lower().replace("\u2019", "'").replace("`", "'")
    text = _LOST_UE.sub("ue", text)
    text = "".join(_UMLAUTS.get(c, c) for c in text)
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    return _SPACES.sub(" ", text).strip()


def clauses(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` of the statements of a folded report.

    Examples
    --------
    >>> t = "sinus rhythm. st depressed in i, avl, v5,6. lbbb, this is old; unvollst. rsb"
    >>> [t[a:b].strip() for a, b in clauses(t)]
    ['sinus rhythm', 'st depressed in i, avl, v5,6', 'lbbb', 'this is old', 'unvollst. rsb']
    >>> [t[a:b] for t in ["av-block 1. grades. lsb"] for a, b in clauses(t)]
    ['av-block 1. grades', ' lsb']
    """
    out, start = [], 0
    for m in _BOUNDARY.finditer(text):
        if m.group() == ".":
            word = re.search(r"([a-z.]+)$", text[start:m.start()])
            if word and word.group(1).strip(".") in _ABBREVIATIONS:
                continue
            if _ORDINAL.search(text, 0, m.start()) and _GRADE.match(text, m.end()):
                continue  # a German ordinal: "av-block 1. grades", "ii. grades"
        if text[start:m.start()].strip():
            out.append((start, m.start()))
        start = m.end()
    if text[start:].strip():
        out.append((start, len(text)))
    return out


_ACCENT_FREE = {"ä": "ae?", "ö": "oe?", "ü": "ue?", "ß": "s?s"}


def compile_pattern(source: str) -> re.Pattern:
    """A regular expression from a pattern written in plain report spelling.

    ``ä``/``ö``/``ü`` match with or without their ``e``, other accents match their plain
    letter, a space matches any run of spaces and hyphens (or none), and the match must
    start and end on word boundaries.

    Examples
    --------
    >>> bool(compile_pattern("ventrikuläre extrasystole").search("ventrikulare extrasystole"))
    True
    >>> bool(compile_pattern("st senkung").search("st-senkung in v5"))
    True
    >>> bool(compile_pattern("lvh").search("lvhx"))
    False
    """
    body = []
    for char in source:
        if char in _ACCENT_FREE:
            body.append(_ACCENT_FREE[char])
        elif char == " ":
            body.append(r"[\s\-]*")
        else:
            decomposed = unicodedata.normalize("NFKD", char)
            body.append("".join(c for c in decomposed if not unicodedata.combining(c)))
    # the match ends at a word boundary, or right after an apostrophe ("pas d'", "l'")
    return re.compile(r"(?<![a-z0-9])(?:" + "".join(body) + r")(?:(?<=')|(?![a-z0-9]))")
