"""Lead names, the standard 12-lead order, aliases and derived limb leads.

All signals in ecgsk are ``(n_ecgs, n_leads, n_times)`` arrays in millivolts.
The lead order is explicit: readers return the names of their leads and
:class:`ecgsk.preprocessing.ReorderLeads` maps any order onto
:data:`STANDARD_12`.

Examples
--------
>>> from ecgsk.leads import canonical_lead_name, STANDARD_12
>>> canonical_lead_name("AVR")
'aVR'
>>> STANDARD_12.index("V1")
6
"""

from __future__ import annotations

import numpy as np

STANDARD_12: tuple[str, ...] = (
    "I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6",
)
"""The standard 12-lead order used everywhere in ecgsk (and by DeepECG)."""

LIMB_LEADS: tuple[str, ...] = STANDARD_12[:6]
PRECORDIAL_LEADS: tuple[str, ...] = STANDARD_12[6:]
DERIVABLE_LEADS: tuple[str, ...] = ("III", "aVR", "aVL", "aVF")
"""Leads that can be computed from I and II (Einthoven's and Goldberger's laws)."""

# Spellings met in WFDB headers, MUSE XML and CinC files, keyed by lower case.
_ALIASES: dict[str, str] = {
    "i": "I", "lead i": "I", "li": "I", "d1": "I",
    "ii": "II", "lead ii": "II", "lii": "II", "d2": "II", "mlii": "II",
    "iii": "III", "lead iii": "III", "liii": "III", "d3": "III",
    "avr": "aVR", "-avr": "-aVR",
    "avl": "aVL",
    "avf": "aVF",
    **{f"v{k}": f"V{k}" for k in range(1, 7)},
    **{f"lead v{k}": f"V{k}" for k in range(1, 7)},
    **{f"c{k}": f"V{k}" for k in range(1, 7)},
}


def canonical_lead_name(name: str) -> str:
    """Return the standard spelling of a lead name.

    Case and common alternative spellings (``"AVR"``, ``"avr"``, ``"MLII"``,
    ``"C1"``) are mapped onto the names of :data:`STANDARD_12`. Names that are
    not 12-lead names (for example ``"V5R"`` or ``"X"``) are returned stripped
    but otherwise unchanged, so that callers can report them.

    Parameters
    ----------
    name : str
        A lead name as found in a file header.

    Returns
    -------
    str
        The canonical name.

    Examples
    --------
    >>> canonical_lead_name("avf"), canonical_lead_name("C3"), canonical_lead_name("V5R")
    ('aVF', 'V3', 'V5R')
    """
    if not isinstance(name, str):
        raise TypeError(f"lead names must be strings, got {type(name).__name__}: {name!r}")
    stripped = name.strip()
    return _ALIASES.get(stripped.lower(), stripped)


def canonical_lead_names(names) -> tuple[str, ...]:
    """Canonicalise a sequence of lead names and check that none repeats.

    Examples
    --------
    >>> canonical_lead_names(["i", "II", "AVL"])
    ('I', 'II', 'aVL')
    """
    out = tuple(canonical_lead_name(n) for n in names)
    seen: set[str] = set()
    duplicates = sorted({n for n in out if n in seen or seen.add(n)})
    if duplicates:
        raise ValueError(f"lead names repeat after canonicalisation: {duplicates} (from {list(names)})")
    return out


def derive_limb_leads(lead_i: np.ndarray, lead_ii: np.ndarray) -> dict[str, np.ndarray]:
    """Compute III, aVR, aVL and aVF from leads I and II.

    Uses Einthoven's law (III = II - I) and the Goldberger augmented leads
    (aVR = -(I + II)/2, aVL = I - II/2, aVF = II - I/2). Works on arrays of any
    shape (time on the last axis) and keeps their dtype.

    Parameters
    ----------
    lead_i, lead_ii : ndarray
        Leads I and II, same shape.

    Returns
    -------
    dict of str to ndarray
        Keys ``"III"``, ``"aVR"``, ``"aVL"``, ``"aVF"``.

    Examples
    --------
    >>> import numpy as np
    >>> d = derive_limb_leads(np.array([1.0]), np.array([3.0]))
    >>> float(d["III"][0]), float(d["aVR"][0]), float(d["aVL"][0]), float(d["aVF"][0])
    (2.0, -2.0, -0.5, 2.5)
    """
    lead_i = np.asarray(lead_i)
    lead_ii = np.asarray(lead_ii)
    if lead_i.shape != lead_ii.shape:
        raise ValueError(f"leads I and II must have the same shape, got {lead_i.shape} and {lead_ii.shape}")
    half = lead_i.dtype.type(0.5) if np.issubdtype(lead_i.dtype, np.floating) else 0.5
    return {
        "III": lead_ii - lead_i,
        "aVR": -(lead_i + lead_ii) * half,
        "aVL": lead_i - lead_ii * half,
        "aVF": lead_ii - lead_i * half,
    }
