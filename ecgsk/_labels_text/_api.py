"""``labels_from_text``: ECG report text to the 77 DeepECG labels."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from .._label_names import DEEPECG_LABELS as LABELS
from ._extract import extract_one, lexicons
from ._lexicon import LANGUAGES

_UNCERTAIN = ("positive", "negative")
UNMAPPED_COLUMNS = ("row", "phrase", "reason")


@dataclass(frozen=True)
class LabelExtraction:
    """What :func:`labels_from_text` found in a set of reports.

    Attributes
    ----------
    labels : DataFrame of shape (n_reports, 77), dtype int8
        0/1 per DeepECG label, columns :data:`ecgsk.labels.DEEPECG_LABELS` in order, index
        the input's (a Series' own index, else ``0 .. n - 1``).
    uncertain : DataFrame of shape (n_reports, 77), dtype int8
        1 where a label was stated only with an uncertainty cue ("possible", "wahrscheinlich",
        "cannot be excluded"...): whatever ``uncertain=`` did with it, it stays visible here.
    unmapped : DataFrame with columns ``row``, ``phrase``, ``reason``
        Every phrase not turned into a label, one row each: ``row`` is the report's index
        label, ``phrase`` the text (normalised: lower case, umlauts spelled out), ``reason``
        one of ``"unrecognised"`` (no rule knows it), ``"no DeepECG label"`` (a recognised
        statement without a counterpart among the 77, e.g. "normal ECG" or "incomplete
        right bundle branch block") or ``"no territory"`` (a Q wave, ST or T change
        without a territory or leads to place it). Negated statements are not listed.
    language : Series of str
        The language each report was read as (``"en"``, ``"fr"``, ``"de"``, ``"sv"``, or
        ``"unknown"`` when ``language="auto"`` could not tell and used every lexicon, as for an
        empty report).

    Examples
    --------
    >>> from ecgsk.labels import labels_from_text
    >>> found = labels_from_text(["sinus rhythm. left bundle branch block."])
    >>> found.labels.shape, int(found.labels.loc[0, "Left bundle branch block"])
    ((1, 77), 1)
    """

    labels: pd.DataFrame
    uncertain: pd.DataFrame
    unmapped: pd.DataFrame
    language: pd.Series

    def __repr__(self) -> str:
        n = len(self.labels)
        return (f"LabelExtraction({n} report(s), {int(self.labels.to_numpy().sum())} "
                f"label(s), {int(self.uncertain.to_numpy().sum())} uncertain, "
                f"{len(self.unmapped)} unmapped phrase(s))")


@lru_cache(maxsize=1)
def _lexicons():
    return lexicons()


def _reports(texts) -> tuple[list[str], pd.Index]:
    if isinstance(texts, str):
        return [texts], pd.RangeIndex(1)
    if isinstance(texts, pd.DataFrame):
        raise TypeError("texts must be one column of reports, not a DataFrame; pass e.g. "
                        "frame['report']")
    if isinstance(texts, pd.Series):
        values, index = list(texts.to_numpy(dtype=object)), texts.index
    elif isinstance(texts, np.ndarray):
        if texts.ndim != 1:
            raise TypeError(f"texts must be one-dimensional; got an array of shape {texts.shape}")
        values, index = list(texts), None
    elif isinstance(texts, (list, tuple)):
        values, index = list(texts), None
    else:
        raise TypeError("texts must be a str, or a list, tuple, 1-D array or Series of str; "
                        f"got {type(texts).__name__}")
    out = []
    for i, value in enumerate(values):
        if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
            out.append("")
        elif isinstance(value, str):
            out.append(value)
        elif isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
            # a reader's ``meta["statements"]``: one statement each, kept apart
            out.append("; ".join(value))
        else:
            raise TypeError(f"report {i} is a {type(value).__name__}, not a str or a list of "
                            "str (None or NaN stand for an empty report)")
    return out, (index if index is not None else pd.RangeIndex(len(out)))


def labels_from_text(texts, language: str = "auto", *, uncertain: str = "positive"
                     ) -> LabelExtraction:
    """Turn free-text ECG reports into the 77 DeepECG labels, rule based.

    Each report is normalised (lower case, umlauts spelled out as ``ae``/``oe``/``ue``,
    accents stripped), split into statements at full stops, semicolons and commas that do
    not continue a lead list, and matched against a lexicon of English, French, German and
    Swedish phrases and abbreviations (``LBBB``, ``RSB``, ``BBD``, ``HVG``, ``SVES``...).
    The mapping follows :data:`~ecgsk.labels.SCP_TO_DEEPECG` wherever PTB-XL has a
    statement (incomplete bundle-branch blocks have no label; sinus bradycardia is
    "Sinusal" and "Bradycardia"; atrial fibrillation also "Irregularly irregular"; an
    anteroseptal infarct the septal Q wave, an anterior one named without leads the septal and
    the anterior Q waves (the anterior wall faces V1-V4); voltage criteria for LVH
    "SV1 + RV5 or RV6 > 35 mm"), so that labels from text and from SCP codes agree.

    Negation: a finding after ``no``/``not``/``without``, ``kein(e)``/``ohne``/``nicht``,
    ``pas de``/``sans``/``aucun``, ``ingen``/``ej`` (within five words, and the findings
    joined to it by ``or``/``and``/``oder``/``ou``...), or before ``excluded``/
    ``ausgeschlossen``/``unlikely``, is 0; so is one introduced as past (``previously``,
    ``Kardioversion von``). Uncertainty: a finding qualified by ``possible``, ``probable``,
    ``likely``, ``cannot be excluded``, ``wahrscheinlich``, ``möglich``, ``Verdacht auf``,
    ``V.a.``, ``nicht auszuschliessen``, ``suspicion de``, ``non exclu``, ``möjligen``,
    ``bör övervägas``... counts as ``uncertain`` says. Qualifiers of an infarct's age
    ("probably old", "wahrscheinlich alt") do not make the infarct uncertain. A label
    stated plainly anywhere in the report is 1 whatever other statements say.

    Parameters
    ----------
    texts : str, or list, tuple, 1-D array or Series of str or of lists of str
        The reports: one string each (a report, or its diagnosis statements joined), or one
        list of statements each (a reader's ``meta["statements"]``, read as separate
        statements). None and NaN are empty reports.
    language : {"auto", "en", "fr", "de", "sv"}, default="auto"
        The language of the reports; ``"auto"`` decides per report from its words and uses
        every lexicon when it cannot tell. Abbreviations are recognised in every language.
    uncertain : {"positive", "negative"}, default="positive"
        What an uncertain finding gives: 1 (the default, as PTB-XL counts every statement
        whatever its likelihood, see :func:`~ecgsk.labels.scp_to_deepecg`) or 0. Either
        way ``LabelExtraction.uncertain`` marks it.

    Returns
    -------
    LabelExtraction
        ``labels`` (0/1, 77 columns), ``uncertain``, ``unmapped`` (row, phrase, reason) and
        ``language``.

    Examples
    --------
    >>> from ecgsk.labels import labels_from_text
    >>> found = labels_from_text([
    ...     "Sinus rhythm. Left anterior fascicular block. No ST elevation.",
    ...     "sinusrhythmus überdrehter linkstyp inferiorer infarkt möglich",
    ...     "Fibrillation auriculaire. Bloc de branche droit incomplet.",
    ... ])
    >>> row = found.labels.iloc[0]
    >>> list(row[row == 1].index)
    ['Sinusal', 'Left anterior fascicular block']
    >>> int(found.labels.iloc[1]["Q wave (inferior - II, III, aVF)"]), int(
    ...     found.uncertain.iloc[1]["Q wave (inferior - II, III, aVF)"])
    (1, 1)
    >>> list(found.language)
    ['en', 'de', 'fr']
    >>> found.unmapped.to_dict("records")[-1]
    {'row': 2, 'phrase': 'bloc de branche droit incomplet', 'reason': 'no DeepECG label'}
    """
    if language != "auto" and language not in LANGUAGES:
        raise ValueError(f"language must be 'auto' or one of {list(LANGUAGES)}; got {language!r}")
    if uncertain not in _UNCERTAIN:
        raise ValueError(f"uncertain must be one of {list(_UNCERTAIN)}; got {uncertain!r}")
    reports, index = _reports(texts)
    rules, cues = _lexicons()
    column = {name: j for j, name in enumerate(LABELS)}
    positive = np.zeros((len(reports), len(LABELS)), dtype=np.int8)
    doubtful = np.zeros_like(positive)
    unmapped, languages = [], []
    for i, report in enumerate(reports):
        certain, maybe, phrases, lang = extract_one(report, language, rules, cues)
        for name in certain:
            positive[i, column[name]] = 1
        for name in maybe:
            doubtful[i, column[name]] = 1
            if uncertain == "positive":
                positive[i, column[name]] = 1
        unmapped += [(index[i], phrase, reason) for phrase, reason in phrases]
        languages.append(lang or "unknown")
    return LabelExtraction(
        labels=pd.DataFrame(positive, columns=list(LABELS), index=index),
        uncertain=pd.DataFrame(doubtful, columns=list(LABELS), index=index),
        unmapped=pd.DataFrame(unmapped, columns=list(UNMAPPED_COLUMNS)),
        language=pd.Series(languages, index=index, name="language"),
    )
