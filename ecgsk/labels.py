"""The DeepECG label vocabulary: 77 conditions, their categories, and a PTB-XL mapping.

``DEEPECG_LABELS`` lists the 77 conditions predicted by DeepECG-SL and
DeepECG-SSL, spelled exactly as the public release spells them and in the
order of its output layer. ``DEEPECG_CATEGORIES`` groups them into the six
categories the paper reports (one label, "ST depression (anterior - V3-V4)",
belongs to two categories: 78 memberships for 77 labels).

``SCP_TO_DEEPECG`` maps PTB-XL SCP-ECG statements onto the DeepECG labels that
have a counterpart. The mapping is deliberately conservative: statements
with no clear counterpart (for example ``NORM``, ``STD_`` without a location,
``2AVB`` without a Mobitz type) are listed in ``UNMAPPED_SCP`` and reported by
:func:`scp_to_deepecg`, never dropped silently. Myocardial-infarction
statements map onto the Q-wave labels of the same territory because PTB-XL
infarct statements describe established (Q-wave) infarcts; ``PACE`` maps onto
"Ventricular paced", the commonest pacing mode; both are approximations.

Examples
--------
>>> from ecgsk.labels import DEEPECG_LABELS, DEEPECG_CATEGORIES
>>> len(DEEPECG_LABELS), DEEPECG_LABELS[0]
(77, 'Sinusal')
>>> sum(len(v) for v in DEEPECG_CATEGORIES.values())
78
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from ._label_names import DEEPECG_LABELS
from ._labels_text import LabelExtraction, labels_from_text

__all__ = [
    "DEEPECG_CATEGORIES",
    "DEEPECG_LABELS",
    "LabelExtraction",
    "PTBXL_SCP_STATEMENTS",
    "SCP_TO_DEEPECG",
    "UNMAPPED_SCP",
    "label_categories",
    "labels_from_text",
    "scp_to_deepecg",
]


DEEPECG_CATEGORIES: dict[str, tuple[str, ...]] = {
    "Rhythm Disorders": (
        "Ventricular tachycardia", "Bradycardia", "Brugada",
        "Wolff-Parkinson-White (Pre-excitation syndrome)", "Atrial flutter",
        "Ectopic atrial rhythm (< 100 BPM)", "Atrial tachycardia (>= 100 BPM)", "Sinusal",
        "Ventricular Rhythm", "Supraventricular tachycardia", "Junctional rhythm", "Regular",
        "Regularly irregular", "Irregularly irregular", "Afib", "Premature ventricular complex",
        "Premature atrial complex",
    ),
    "Conduction Disorder": (
        "Left anterior fascicular block", "Delta wave", "2nd degree AV block - mobitz 2",
        "Left bundle branch block", "Right bundle branch block", "Left axis deviation",
        "Atrial paced", "Right axis deviation", "Left posterior fascicular block",
        "1st degree AV block", "Right superior axis", "Nonspecific intraventricular conduction delay",
        "Third Degree AV Block", "2nd degree AV block - mobitz 1", "Prolonged QT", "U wave",
        "LV pacing", "Ventricular paced",
    ),
    "Enlargement of the heart chambers": (
        "Bi-atrial enlargement", "Left atrial enlargement", "Right atrial enlargement",
        "Left ventricular hypertrophy", "Right ventricular hypertrophy",
    ),
    "Pericarditis": ("Acute pericarditis",),
    "Infarction or ischemia": (
        "Q wave (septal- V1-V2)", "ST elevation (anterior - V3-V4)", "Q wave (posterior - V7-V9)",
        "Q wave (inferior - II, III, aVF)", "Q wave (anterior - V3-V4)",
        "ST elevation (lateral - I, aVL, V5-V6)", "Q wave (lateral- I, aVL, V5-V6)",
        "ST depression (lateral - I, avL, V5-V6)", "Acute MI", "ST elevation (septal - V1-V2)",
        "ST elevation (inferior - II, III, aVF)", "ST elevation (posterior - V7-V8-V9)",
        "ST depression (inferior - II, III, aVF)", "ST depression (anterior - V3-V4)",
    ),
    "Other diagnoses": (
        "ST downslopping", "ST depression (septal- V1-V2)", "R/S ratio in V1-V2 >1",
        "RV1 + SV6 > 11 mm", "Polymorph", "rSR' in V1-V2", "QRS complex negative in III",
        "qRS in V5-V6-I, aVL", "QS complex in V1-V2-V3", "R complex in V5-V6", "RaVL > 11 mm",
        "T wave inversion (septal- V1-V2)", "SV1 + RV5 or RV6 > 35 mm",
        "T wave inversion (inferior - II, III, aVF)", "Monomorph",
        "T wave inversion (anterior - V3-V4)", "T wave inversion (lateral -I, aVL, V5-V6)",
        "Low voltage", "Lead misplacement", "ST depression (anterior - V3-V4)",
        "Early repolarization", "ST upslopping", "no_qrs",
    ),
}
"""The paper's six diagnostic categories (17, 18, 5, 1, 14 and 23 labels)."""

_Q_INF, _Q_LAT = "Q wave (inferior - II, III, aVF)", "Q wave (lateral- I, aVL, V5-V6)"
_Q_ANT, _Q_POST = "Q wave (anterior - V3-V4)", "Q wave (posterior - V7-V9)"

SCP_TO_DEEPECG: dict[str, tuple[str, ...]] = {
    # rhythm
    "SR": ("Sinusal",),
    "SARRH": ("Sinusal",),
    "STACH": ("Sinusal",),
    "SBRAD": ("Sinusal", "Bradycardia"),
    "AFIB": ("Afib", "Irregularly irregular"),
    "AFLT": ("Atrial flutter",),
    "SVTAC": ("Supraventricular tachycardia",),
    "PSVT": ("Supraventricular tachycardia",),
    "PVC": ("Premature ventricular complex",),
    "PAC": ("Premature atrial complex",),
    "PACE": ("Ventricular paced",),
    # conduction
    "1AVB": ("1st degree AV block",),
    "LPR": ("1st degree AV block",),
    "3AVB": ("Third Degree AV Block",),
    "CLBBB": ("Left bundle branch block",),
    "CRBBB": ("Right bundle branch block",),
    "LAFB": ("Left anterior fascicular block",),
    "LPFB": ("Left posterior fascicular block",),
    "IVCD": ("Nonspecific intraventricular conduction delay",),
    "WPW": ("Wolff-Parkinson-White (Pre-excitation syndrome)", "Delta wave"),
    "LNGQT": ("Prolonged QT",),
    # chamber enlargement and voltage
    "LVH": ("Left ventricular hypertrophy",),
    "VCLVH": ("SV1 + RV5 or RV6 > 35 mm",),
    "RVH": ("Right ventricular hypertrophy",),
    "LAO/LAE": ("Left atrial enlargement",),
    "RAO/RAE": ("Right atrial enlargement",),
    "LVOLT": ("Low voltage",),
    # infarction, by territory
    "IMI": (_Q_INF,),
    "ASMI": ("Q wave (septal- V1-V2)",),
    "AMI": (_Q_ANT,),
    "LMI": (_Q_LAT,),
    "PMI": (_Q_POST,),
    "ILMI": (_Q_INF, _Q_LAT),
    "ALMI": (_Q_ANT, _Q_LAT),
    "IPMI": (_Q_INF, _Q_POST),
    "IPLMI": (_Q_INF, _Q_POST, _Q_LAT),
}
"""PTB-XL SCP statements that have a DeepECG counterpart, and the labels they imply."""

PTBXL_SCP_STATEMENTS: tuple[str, ...] = (
    "NDT", "NST_", "DIG", "LNGQT", "NORM", "IMI", "ASMI", "LVH", "LAFB", "ISC_", "IRBBB", "1AVB",
    "IVCD", "ISCAL", "CRBBB", "CLBBB", "ILMI", "LAO/LAE", "AMI", "ALMI", "ISCIN", "INJAS", "LMI",
    "ISCIL", "LPFB", "ISCAS", "INJAL", "ISCLA", "RVH", "ANEUR", "RAO/RAE", "EL", "WPW", "ILBBB",
    "IPLMI", "ISCAN", "IPMI", "SEHYP", "INJIN", "INJLA", "PMI", "3AVB", "INJIL", "2AVB", "ABQRS",
    "PVC", "STD_", "VCLVH", "QWAVE", "LOWT", "NT_", "PAC", "LPR", "INVT", "LVOLT", "HVOLT", "TAB_",
    "STE_", "PRC(S)", "SR", "AFIB", "STACH", "SARRH", "SBRAD", "PACE", "SVARR", "BIGU", "AFLT",
    "SVTAC", "PSVT", "TRIGU",
)
"""The 71 SCP-ECG statements of PTB-XL (``scp_statements.csv`` order)."""

UNMAPPED_SCP: tuple[str, ...] = tuple(c for c in PTBXL_SCP_STATEMENTS if c not in SCP_TO_DEEPECG)
"""PTB-XL statements with no DeepECG counterpart (reported, never silently dropped)."""


def label_categories(label: str) -> tuple[str, ...]:
    """Return the categories a DeepECG label belongs to.

    Examples
    --------
    >>> label_categories("ST depression (anterior - V3-V4)")
    ('Infarction or ischemia', 'Other diagnoses')
    """
    found = tuple(cat for cat, members in DEEPECG_CATEGORIES.items() if label in members)
    if not found:
        raise ValueError(f"{label!r} is not one of the 77 DeepECG labels")
    return found


def scp_to_deepecg(
    scp_codes: Iterable[Iterable[str] | Mapping[str, float]], index=None
) -> tuple[pd.DataFrame, dict[str, int]]:
    """Turn PTB-XL SCP statements into a 77-column DeepECG multi-hot table.

    Parameters
    ----------
    scp_codes : iterable
        One entry per ECG: an iterable of SCP codes, or the ``scp_codes``
        dictionary of ``ptbxl_database.csv`` (every key counts, whatever its
        likelihood, as in the PTB-XL benchmark).
    index : array-like, optional
        Index of the returned DataFrame (for example the ecg ids).

    Returns
    -------
    labels : DataFrame of shape (n_ecgs, 77), dtype int8
        Columns are :data:`DEEPECG_LABELS`.
    unmapped : dict of str to int
        Each statement that has no DeepECG counterpart, with how many ECGs carry it.

    Examples
    --------
    >>> y, unmapped = scp_to_deepecg([{"SR": 0.0, "AFIB": 100.0}, ["NORM", "SR"]])
    >>> int(y["Afib"].sum()), int(y["Sinusal"].sum()), unmapped
    (1, 2, {'NORM': 1})
    """
    rows = list(scp_codes)
    column = {name: j for j, name in enumerate(DEEPECG_LABELS)}
    values = np.zeros((len(rows), len(DEEPECG_LABELS)), dtype=np.int8)
    unmapped: Counter[str] = Counter()
    for i, codes in enumerate(rows):
        for code in codes:
            targets = SCP_TO_DEEPECG.get(code)
            if targets is None:
                unmapped[code] += 1
                continue
            for target in targets:
                values[i, column[target]] = 1
    frame = pd.DataFrame(values, columns=list(DEEPECG_LABELS), index=index)
    return frame, dict(sorted(unmapped.items()))
