"""Territories of Q waves, ST and T changes: from territory words and from the leads named.

Leads name a territory when at least two of its leads are named for the three- and
four-lead territories (inferior II, III, aVF; lateral I, aVL, V5, V6), and one for the
two-lead ones (septal V1, V2; anterior V3, V4; posterior V7-V9): the two-contiguous-lead
rule of ECG reading.

Wall names: German "Hinterwand" and Swedish "bakvägg" (literally the back wall) are the
traditional names of the inferior (diaphragmatic) wall, "Vorderwand"/"framvägg" of the
anterior wall, "Seitenwand"/"sidovägg" of the lateral wall. For Q waves (infarcts) an
anterior infarct named without leads is both the septal (V1-V2) and the anterior (V3-V4)
Q-wave label: the anterior wall of the left ventricle faces V1-V4 (the septum is its
anterior part; Bayés de Luna et al., Circulation 2006;114:1755, the CMR-based naming of
Q-wave infarcts, and the ``AMI`` diagnostic subclass of PTB-XL's ``scp_statements.csv``,
which holds ``ASMI`` beside ``AMI`` and ``ALMI``); named leads decide when they are given.
"""

from __future__ import annotations

import re

TERRITORY_LEADS = {
    "inferior": ("ii", "iii", "avf"),
    "lateral": ("i", "avl", "v5", "v6"),
    "septal": ("v1", "v2"),
    "anterior": ("v3", "v4"),
    "posterior": ("v7", "v8", "v9"),
}
_NEEDED = {"inferior": 2, "lateral": 2, "septal": 1, "anterior": 1, "posterior": 1}

_Q = {"inferior": "Q wave (inferior - II, III, aVF)", "lateral": "Q wave (lateral- I, aVL, V5-V6)",
      "anterior": "Q wave (anterior - V3-V4)", "septal": "Q wave (septal- V1-V2)",
      "posterior": "Q wave (posterior - V7-V9)"}
_STE = {"inferior": "ST elevation (inferior - II, III, aVF)",
        "lateral": "ST elevation (lateral - I, aVL, V5-V6)",
        "anterior": "ST elevation (anterior - V3-V4)", "septal": "ST elevation (septal - V1-V2)",
        "posterior": "ST elevation (posterior - V7-V8-V9)"}
_STD = {"inferior": "ST depression (inferior - II, III, aVF)",
        "lateral": "ST depression (lateral - I, avL, V5-V6)",
        "anterior": "ST depression (anterior - V3-V4)", "septal": "ST depression (septal- V1-V2)"}
_TINV = {"inferior": "T wave inversion (inferior - II, III, aVF)",
         "lateral": "T wave inversion (lateral -I, aVL, V5-V6)",
         "anterior": "T wave inversion (anterior - V3-V4)",
         "septal": "T wave inversion (septal- V1-V2)"}
TERRITORY_LABELS = {"q": _Q, "ste": _STE, "std": _STD, "tinv": _TINV}

TERRITORY_WORD = re.compile(
    r"(?<![a-z])(?:(?:high|hoch|hoeg|hog)[\s\-]+)?(?:(?:infero|antero|postero)[\s\-]*)?"
    r"(?:postero[\s\-]*)?(?:inferi|inferieu|anteri|anterieu|septa|septu|latera|posteri|"
    r"posterieu|posterobasa|hinterwand|vorderwand|seitenwand|diaphragm|diafragm|"
    r"framvae?gg|bakvae?gg|sidovae?gg)[a-z]*"
)
_LEADS = re.compile(
    r"(?<![a-z0-9])(avr|avl|avf|diii|dii|di|d[123]|iii|ii|i|v[1-9])(?![a-z0-9])"
    r"(?:\s*-\s*v?([1-9])(?![0-9]))?"
)
_MORE_V = re.compile(r"\s*(?:,|and|und|et|och|&)?\s*([1-9])(?![0-9:])(?:\s*-\s*v?([1-9]))?")
_FRENCH = {"di": "i", "dii": "ii", "diii": "iii", "d1": "i", "d2": "ii", "d3": "iii"}


def territories_of_word(word: str, kind: str) -> set[str]:
    """The territories one territory word names; ``anteroseptal`` is septal for Q waves.

    Examples
    --------
    >>> sorted(territories_of_word("infero-lateral", "std"))
    ['inferior', 'lateral']
    >>> sorted(territories_of_word("anteroseptaler", "q")), sorted(territories_of_word(
    ...     "anteroseptal", "tinv"))
    (['septal'], ['anterior', 'septal'])
    >>> sorted(territories_of_word("vorderwand", "q")), sorted(territories_of_word(
    ...     "anterior", "ste"))
    (['anterior', 'septal'], ['anterior'])
    """
    anterior = {"septal", "anterior"} if kind == "q" else {"anterior"}
    w = re.sub(r"[\s\-]", "", word)
    for prefix in ("high", "hoch", "hoeg", "hog"):
        if w.startswith(prefix):
            return {"lateral"}
    table = (
        ("inferoposterolatera", {"inferior", "posterior", "lateral"}),
        ("inferoposteri", {"inferior", "posterior"}),
        ("posteroinferi", {"inferior", "posterior"}),
        ("inferolatera", {"inferior", "lateral"}),
        ("anterolatera", {"anterior", "lateral"}),
        ("anteroseptu", {"septal"} if kind == "q" else {"septal", "anterior"}),
        ("anterosepta", {"septal"} if kind == "q" else {"septal", "anterior"}),
        ("posterolatera", {"posterior", "lateral"}),
        ("posterobasa", {"posterior"}),
        ("inferi", {"inferior"}), ("inferieu", {"inferior"}), ("hinterwand", {"inferior"}),
        ("diaphragm", {"inferior"}), ("diafragm", {"inferior"}), ("bakvaegg", {"inferior"}),
        ("bakvagg", {"inferior"}),
        ("anteri", anterior), ("anterieu", anterior), ("vorderwand", anterior),
        ("framvaegg", anterior), ("framvagg", anterior),
        ("septa", {"septal"}), ("septu", {"septal"}),
        ("latera", {"lateral"}), ("seitenwand", {"lateral"}), ("sidovaegg", {"lateral"}),
        ("sidovagg", {"lateral"}),
        ("posteri", {"posterior"}), ("posterieu", {"posterior"}),
    )
    for prefix, found in table:
        if w.startswith(prefix):
            return set(found)
    return set()


def leads_in(text: str) -> set[str]:
    """The leads named in ``text`` (``v5,6`` and ``v2-5`` expand; a lone ``i`` needs a comma
    or a preposition next to it, since it is also a word and a degree).

    Examples
    --------
    >>> sorted(leads_in("in i, avl, v5,6"))
    ['avl', 'i', 'v5', 'v6']
    >>> sorted(leads_in("ii iii avf v4-v6")), sorted(leads_in("i v2-4"))
    (['avf', 'ii', 'iii', 'v4', 'v5', 'v6'], ['v2', 'v3', 'v4'])
    """
    found = set()
    for m in _LEADS.finditer(text):
        lead = _FRENCH.get(m.group(1), m.group(1))
        if lead == "i" and m.group(1) == "i":
            before, after = text[:m.start()].rstrip(), text[m.end():].lstrip()
            if not (before.endswith((",", " in", " en", " dans")) or before in ("in", "en")
                    or after.startswith(",")):
                continue
        if lead.startswith("v"):
            first = int(lead[1])
            last = int(m.group(2)) if m.group(2) else first
            found.update(f"v{k}" for k in range(first, max(first, last) + 1))
            pos = m.end()
            while (more := _MORE_V.match(text, pos)) is not None:
                a = int(more.group(1))
                b = int(more.group(2)) if more.group(2) else a
                found.update(f"v{k}" for k in range(a, max(a, b) + 1))
                pos = more.end()
        else:
            found.add(lead)
    return found


def territories_of_leads(leads: set[str]) -> set[str]:
    """The territories that ``leads`` name.

    Examples
    --------
    >>> sorted(territories_of_leads({"i", "avl", "v5", "v6", "ii"}))
    ['lateral']
    """
    return {t for t, members in TERRITORY_LEADS.items()
            if sum(lead in leads for lead in members) >= _NEEDED[t]}


def territories_in(text: str, kind: str) -> set[str]:
    """Territories named in ``text`` by territory words or by leads.

    Examples
    --------
    >>> sorted(territories_in(" in inferolateral leads", "std"))
    ['inferior', 'lateral']
    """
    found = set()
    for m in TERRITORY_WORD.finditer(text):
        found |= territories_of_word(m.group(), kind)
    return found | territories_of_leads(leads_in(text))
