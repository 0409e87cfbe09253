"""The extraction engine: one report -> labels, uncertain labels and unmapped phrases.

For each statement (clause) of a folded report, every finding and cue pattern is matched;
overlapping matches are resolved longest first (so ``incomplete right bundle branch block``
wins over ``right bundle branch block``, and ``cannot be excluded`` over ``excluded``).
Cues then act on findings of the same statement:

- a ``pre`` cue (``no``, ``kein``, ``sans``, ``possible``, ``verdacht auf``) on the first
  finding that starts within five words after it, and on the findings joined to that one by
  ``or``/``and``/``oder``/``ou``/``,``... (``no ST elevation or Q waves``);
- a ``post`` cue (``ausgeschlossen``, ``cannot be excluded``, ``nicht auszuschliessen``) on
  the last finding that ends within three words before it, and the ones joined to it;
- a ``both`` cue (``möglich``, ``wahrscheinlich``, ``possible``, ``likely``) on the finding
  right before it (at most one word between), else as a ``pre`` cue;
- a history cue (``previously``, ``Kardioversion von``) like a negation.
"""

from __future__ import annotations

import re

from ._lexicon import CUES, FILLER, LANGUAGES, MARKERS, RULES
from ._normalize import clauses, fold
from ._territory import (
    TERRITORY_LABELS,
    TERRITORY_WORD,
    leads_in,
    territories_in,
    territories_of_leads,
    territories_of_word,
)

PRE_WINDOW, POST_WINDOW = 5, 3
_WORDS = re.compile(r"[a-z0-9]+")
_CONNECTOR = re.compile(
    r"^(?:[\s,/&+]|\b(?:or|and|nor|oder|und|noch|sowie|ou|et|ni|eller|och|samt)\b)*$")
_TERRITORIAL = frozenset(TERRITORY_LABELS) | {"qs"}
_QS_LEADS = frozenset({"v1", "v2", "v3"})
_ANTERIOR_Q = frozenset({"septal", "anterior"})
_ACUTE = re.compile(r"\b(?:acute|akut\w*|frisch\w*|aigu\w*|faersk|hyperacute)\b")


def detect_language(folded: str) -> str | None:
    """The language of a folded report by its marker words, or None when unclear.

    Examples
    --------
    >>> detect_language("sinusrhythmus linkstyp sonst normales ekg")
    'de'
    >>> detect_language("sinus rhythm. left axis deviation.") , detect_language("pacemaker")
    ('en', None)
    """
    words = re.findall(r"[a-z][a-z\-()]*", folded)
    scores = {lang: sum(w in MARKERS[lang] for w in words) for lang in LANGUAGES}
    best = max(scores.values())
    winners = [lang for lang, s in scores.items() if s == best]
    return winners[0] if best > 0 and len(winners) == 1 else None


class _Span:
    __slots__ = ("start", "end", "item", "is_cue", "negated", "uncertain", "terr")

    def __init__(self, start, end, item, is_cue, terr=None):
        self.start, self.end, self.item, self.is_cue = start, end, item, is_cue
        self.negated = self.uncertain = False
        self.terr = terr


def _n_words(text: str) -> int:
    return len(_WORDS.findall(text))


def _candidates(text: str, rules, cues) -> list[tuple]:
    """Every match of every pattern: ``(start, end, item, is_cue, terr)``."""
    found = []
    for rule in rules:
        for m in rule.pattern.finditer(text):
            if m.end() > m.start():
                found.append((m.start(), m.end(), rule, False, m.groupdict().get("terr")))
    for cue in cues:
        for m in cue.pattern.finditer(text):
            if m.end() > m.start():
                found.append((m.start(), m.end(), cue, True, None))
    return found


def _matches(candidates, start: int, end: int) -> list[_Span]:
    """The matches inside one statement, overlaps resolved."""
    found = [_Span(*c) for c in candidates if c[0] >= start and c[1] <= end]
    # longest first; at equal length the earlier, then findings before cues
    found.sort(key=lambda s: (-(s.end - s.start), s.start, s.is_cue))
    taken, chosen = [], []
    for span in found:
        if all(span.end <= a or span.start >= b for a, b in taken):
            taken.append((span.start, span.end))
            chosen.append(span)
    return sorted(chosen, key=lambda s: s.start)


def _mark(span, cue) -> None:
    if cue.kind in ("neg", "hist"):
        span.negated = True
    elif cue.kind == "unc":
        span.uncertain = True


def _chain(text, findings, k, step, cue) -> None:
    """Apply ``cue`` to findings[k] and to its neighbours joined by connectors."""
    _mark(findings[k], cue)
    j = k
    while 0 <= j + step < len(findings):
        a, b = (findings[j], findings[j + step]) if step > 0 else (findings[j + step], findings[j])
        gap = text[a.end:b.start]
        if not gap.strip() or not _CONNECTOR.match(gap):
            break
        j += step
        _mark(findings[j], cue)


def _apply_cues(text: str, spans: list[_Span]) -> None:
    findings = [s for s in spans if not s.is_cue]
    for cue_span in (s for s in spans if s.is_cue):
        cue = cue_span.item
        if cue.kind == "neutral":
            continue
        before = [k for k, f in enumerate(findings) if f.end <= cue_span.start]
        after = [k for k, f in enumerate(findings) if f.start >= cue_span.end]
        prev = before[-1] if before else None
        nxt = after[0] if after else None
        gap_prev = _n_words(text[findings[prev].end:cue_span.start]) if prev is not None else None
        gap_next = _n_words(text[cue_span.end:findings[nxt].start]) if nxt is not None else None
        if cue.scope == "both":
            if gap_prev is not None and gap_prev <= 1:
                _chain(text, findings, prev, -1, cue)
            elif gap_next is not None and gap_next <= PRE_WINDOW:
                _chain(text, findings, nxt, 1, cue)
            elif gap_prev is not None and gap_prev <= POST_WINDOW:
                _chain(text, findings, prev, -1, cue)
        elif cue.scope == "pre":
            if gap_next is not None and gap_next <= PRE_WINDOW:
                _chain(text, findings, nxt, 1, cue)
        elif gap_prev is not None and gap_prev <= POST_WINDOW:
            _chain(text, findings, prev, -1, cue)


def _territories(text: str, spans: list[_Span], clause_end: int) -> dict[int, set[str]]:
    """Territories of each territorial finding, from its own words or the text after it.

    A finding joined by a connector to the next one shares that one's territory ("st
    depressed and t waves inverted in i, avl, v5,6", "q wave and small r wave in v2"). A QS
    complex gets ``"qs"`` when its leads lie in V1-V3, and, being a Q wave without an R
    wave (the Minnesota Code counts QS patterns among its Q-wave codes), the Q-wave
    territories of its leads, except a QS confined to V1 (a normal variant).
    """
    out: dict[int, set[str]] = {}

    def end_of(j):
        return spans[j].start if j < len(spans) else clause_end

    for k in range(len(spans) - 1, -1, -1):
        span = spans[k]
        if span.is_cue or span.item.kind not in _TERRITORIAL:
            continue
        kind = span.item.kind
        tail = text[span.end:end_of(k + 1)]
        if span.terr:
            out[k] = territories_of_word(span.terr, kind)
            if kind == "q" and out[k] == _ANTERIOR_Q:
                # named leads say which part of the anterior wall ("... infarct, q in v3,4")
                named = territories_of_leads(leads_in(tail)) & _ANTERIOR_Q
                out[k] = named or out[k]
            continue
        nxt = spans[k + 1] if k + 1 < len(spans) else None
        if (nxt is not None and not nxt.is_cue and _CONNECTOR.match(tail) and tail.strip()):
            if nxt.item.kind in _TERRITORIAL and k + 1 in out:
                out[k] = set(out[k + 1]) - {"qs"}
                continue
            if nxt.item.kind not in _TERRITORIAL:
                tail = text[nxt.end:end_of(k + 2)]
        if kind == "qs":
            leads = leads_in(tail)
            out[k] = {"qs"} if leads and leads <= _QS_LEADS else set()
            if leads and leads != {"v1"}:
                out[k] |= territories_of_leads(leads)
        else:
            out[k] = territories_in(tail, kind)
    return out


def _residual_phrases(text: str, start: int, end: int, spans: list[_Span]) -> list[str]:
    phrases, pos = [], start
    for span in [*spans, None]:
        stop = span.start if span is not None else end
        chunk = text[pos:stop]
        words = re.findall(r"[a-z][a-z'\-()]*[a-z)]|[a-z]", chunk)
        if any(len(w) >= 3 and w not in FILLER and not re.fullmatch(r"v\d|avr|avl|avf|iii|d(?:i{1,3}|[123])", w)
               and not TERRITORY_WORD.fullmatch(w) for w in words):
            phrases.append(chunk.strip(" ,.;:/-&+"))
        if span is not None:
            pos = span.end
    return phrases


def extract_one(report: str, language: str, rules_by_lang, cues_by_lang):
    """Labels (certain, uncertain), unmapped ``(phrase, reason)`` and the language of a report."""
    text = fold(report)
    lang = detect_language(text) if language == "auto" else language
    rules = rules_by_lang[lang]
    cues = cues_by_lang[lang]
    certain, uncertain, unmapped = set(), set(), []
    candidates = _candidates(text, rules, cues)
    for start, end in clauses(text):
        spans = _matches(candidates, start, end)
        _apply_cues(text, spans)
        terr = _territories(text, spans, end)
        heading = False  # after "QRS(T) abnormal", myocardial damage of a territory is an infarct
        for k, span in enumerate(spans):
            if span.is_cue:
                continue
            rule = span.item
            phrase = text[span.start:span.end]
            labels = set(rule.labels)
            if rule.kind == "damage" and heading:
                labels = {TERRITORY_LABELS["q"][t] for t in territories_of_word(span.terr, "q")}
            heading = rule.kind == "qrsheading" or (heading and rule.kind in ("q", "damage"))
            if span.negated:
                continue
            if rule.kind in ("none", "qrsheading", "damage") and not labels:
                unmapped.append((phrase, "no DeepECG label"))
                continue
            if rule.kind in TERRITORY_LABELS:
                table = TERRITORY_LABELS[rule.kind]
                labels |= {table[t] for t in terr.get(k, ()) if t in table}
                if rule.kind == "q" and _ACUTE.search(phrase):
                    labels.add("Acute MI")
                if not labels:
                    unmapped.append((phrase, "no territory"))
                    continue
            elif rule.kind == "qs":
                places = terr.get(k, set())
                if "qs" in places:
                    labels.add("QS complex in V1-V2-V3")
                labels |= {TERRITORY_LABELS["q"][t] for t in places if t in TERRITORY_LABELS["q"]}
                if not labels:
                    unmapped.append((phrase, "no territory"))
                    continue
            (uncertain if span.uncertain else certain).update(labels)
            if rule.kind == "voltage":  # voltage criteria for LVH: LVH itself only hedged
                uncertain.add("Left ventricular hypertrophy")
        unmapped += [(p, "unrecognised") for p in _residual_phrases(text, start, end, spans)]
    return certain, uncertain - certain, unmapped, lang


def lexicons():
    """Rules and cues for each language setting (None: every language)."""
    rules, cues = {}, {}
    for lang in (*LANGUAGES, None):
        keep = {"*", lang} if lang else {"*", *LANGUAGES}
        rules[lang] = [r for r in RULES if r.lang in keep]
        cues[lang] = [c for c in CUES if c.lang in keep]
    return rules, cues
