"""PTB-XL in its official layout: signals, SCP / superclass / DeepECG labels, metadata."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.utils import Bunch

from ..labels import scp_to_deepecg

LABEL_SETS = ("scp", "superdiagnostic", "deepecg")
SUPERCLASSES = ("NORM", "MI", "STTC", "CD", "HYP")
"""PTB-XL diagnostic superclasses, in the order of the PTB-XL benchmark."""

PTBXL_CITATION = (
    "Wagner P, Strodthoff N, Bousseljot R-D, Kreiseler D, Lunze FI, Samek W, Schaeffter T. "
    "PTB-XL, a large publicly available electrocardiography dataset. Scientific Data 7, 154 "
    "(2020). PhysioNet, doi:10.13026/x4td-x982. Goldberger AL et al., PhysioBank, "
    "PhysioToolkit, and PhysioNet. Circulation 101(23):e215-e220 (2000). License: CC BY 4.0."
)

# Metadata columns first in this order; the remaining PTB-XL columns follow.
_META_FIRST = (
    "patient_id", "age", "sex", "sex_code", "strat_fold", "site", "device", "recording_date",
    "report", "scp_codes",
)
_DROPPED = ("filename_lr", "filename_hr")


def check_label_set(labels: str) -> str:
    if labels not in LABEL_SETS:
        raise ValueError(f"labels must be one of {LABEL_SETS}, got {labels!r}")
    return labels


def parse_scp_codes(column: pd.Series, source: str) -> pd.Series:
    """Turn the ``scp_codes`` text column (``"{'NORM': 100.0}"``) into dicts."""

    def parse(text, ecg_id):
        try:
            value = ast.literal_eval(text) if isinstance(text, str) else {}
        except (ValueError, SyntaxError) as exc:
            raise ValueError(f"{source}: scp_codes of ecg_id {ecg_id} is not a dict: {text!r}") from exc
        if not isinstance(value, dict):
            raise ValueError(f"{source}: scp_codes of ecg_id {ecg_id} is not a dict: {text!r}")
        return value

    return pd.Series([parse(t, i) for i, t in column.items()], index=column.index, name="scp_codes")


def read_database_csv(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: is this the root of a PTB-XL download?")
    table = pd.read_csv(path, index_col="ecg_id")
    if "scp_codes" not in table.columns:
        raise ValueError(f"{path} has no scp_codes column; it is not ptbxl_database.csv")
    table["scp_codes"] = parse_scp_codes(table["scp_codes"], str(path))
    return table


def read_statements_csv(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: is this the root of a PTB-XL download?")
    table = pd.read_csv(path, index_col=0)
    if "diagnostic_class" not in table.columns or "diagnostic" not in table.columns:
        raise ValueError(f"{path} lacks the diagnostic / diagnostic_class columns of scp_statements.csv")
    return table


def ptbxl_labels(
    scp_codes: pd.Series, statements: pd.DataFrame, labels: str
) -> tuple[pd.DataFrame, dict[str, int]]:
    """Multi-hot labels indexed like ``scp_codes``; every listed statement counts."""
    unknown = sorted({c for codes in scp_codes for c in codes if c not in statements.index})
    if unknown:
        raise ValueError(f"scp_codes use statements absent from scp_statements.csv: {unknown}")
    if labels == "deepecg":
        frame, unmapped = scp_to_deepecg(list(scp_codes), index=scp_codes.index)
        return frame, unmapped
    if labels == "scp":
        columns = list(statements.index)
        lookup = {code: {code} for code in columns}
    else:
        diagnostic = statements[statements["diagnostic"] == 1]
        columns = list(SUPERCLASSES)
        lookup = {code: {cls} for code, cls in diagnostic["diagnostic_class"].dropna().items()}
    position = {name: j for j, name in enumerate(columns)}
    values = np.zeros((len(scp_codes), len(columns)), dtype=np.int8)
    for i, codes in enumerate(scp_codes):
        for code in codes:
            for target in lookup.get(code, ()):
                values[i, position[target]] = 1
    return pd.DataFrame(values, index=scp_codes.index, columns=columns), {}


def ptbxl_meta(table: pd.DataFrame) -> pd.DataFrame:
    """Metadata indexed by ``ecg_id`` with readable sex and typed columns."""
    meta = table.drop(columns=[c for c in _DROPPED if c in table.columns]).copy()
    codes = meta["sex"]
    meta["sex_code"] = codes.astype("Int8")
    meta["sex"] = codes.map({0: "male", 1: "female"}).astype(object)
    if "patient_id" in meta:
        meta["patient_id"] = meta["patient_id"].astype("Int64")
    if "recording_date" in meta:
        meta["recording_date"] = pd.to_datetime(meta["recording_date"], errors="coerce")
    first = [c for c in _META_FIRST if c in meta.columns]
    meta = meta[first + [c for c in meta.columns if c not in first]]
    meta.index.name = "ecg_id"
    return meta


def describe(source: str, n: int, sfreq: float, labels: str, unmapped: dict) -> str:
    note = ""
    if labels == "deepecg":
        note = (
            f"\nLabels: the 77 DeepECG labels via ecgsk.labels.scp_to_deepecg; {len(unmapped)} SCP "
            "statement(s) without a DeepECG counterpart are listed in `unmapped` (code: count)."
        )
    return (
        f"PTB-XL 12-lead ECGs ({source}): {n} records at {sfreq:g} Hz, signals in mV, leads in the "
        f"standard order. Label set: {labels!r}.{note}\nCite: {PTBXL_CITATION}"
    )


def load_ptbxl(root, sfreq=500, labels: str = "superdiagnostic", ecg_ids=None, *, verify_checksum: bool = True) -> Bunch:
    """Load PTB-XL from its official folder layout.

    Reads ``ptbxl_database.csv``, ``scp_statements.csv`` and the WFDB records
    of ``records100/`` or ``records500/`` (with :func:`ecgsk.io.read_wfdb`,
    in physical millivolts).

    Parameters
    ----------
    root : str or path-like
        The PTB-XL folder (the one holding ``ptbxl_database.csv``).
    sfreq : {100, 500}, default=500
        Which release of the waveforms to read. For another rate read one of
        these and use :class:`ecgsk.preprocessing.Resample`.
    labels : {"superdiagnostic", "scp", "deepecg"}, default="superdiagnostic"
        ``"scp"``: the 71 SCP-ECG statements of ``scp_statements.csv``,
        multi-hot; every statement listed in ``scp_codes`` counts, whatever
        its likelihood (as in the PTB-XL benchmark). ``"superdiagnostic"``:
        the 5 diagnostic superclasses NORM, MI, STTC, CD, HYP from the
        ``diagnostic_class`` of the diagnostic statements (a record may have
        none). ``"deepecg"``: the 77 :data:`ecgsk.labels.DEEPECG_LABELS` via
        :func:`ecgsk.labels.scp_to_deepecg`; the mapping is partial (for
        example ``NORM`` has no DeepECG counterpart), and the statements it
        could not map are returned in ``unmapped`` with their counts.
    ecg_ids : array-like of int, optional
        Load only these records (in this order). Default: all rows of
        ``ptbxl_database.csv``.
    verify_checksum : bool, default=True
        Check each record against its WFDB header checksum.

    Returns
    -------
    Bunch
        ``signals`` : ndarray (n, 12, n_times), float32 mV (1000 or 5000 samples);
        ``sfreq`` : float; ``leads`` : tuple of the 12 lead names;
        ``labels`` : DataFrame of 0/1 (int8) indexed by ``ecg_id``;
        ``meta`` : DataFrame indexed by ``ecg_id`` with ``patient_id``,
        ``age`` (PTB-XL codes ages above 89 as 300), ``sex`` (``"male"`` /
        ``"female"``), ``sex_code`` (PTB-XL's 0 male, 1 female),
        ``strat_fold``, ``site``, ``device``, ``recording_date``, ``report``,
        ``scp_codes`` (dict statement -> likelihood) and the other PTB-XL
        columns; ``unmapped`` : dict (empty unless ``labels="deepecg"``);
        ``description`` : str with the citation.

    Raises
    ------
    FileNotFoundError
        If ``root`` lacks the PTB-XL tables.
    ValueError
        For an unknown ``labels`` or ``sfreq``, ``ecg_ids`` absent from the
        table, or an unreadable record (the message names the file).

    Examples
    --------
    >>> from ecgsk.datasets import load_ptbxl
    >>> data = load_ptbxl("/path/to/ptb-xl", sfreq=100)  # doctest: +SKIP
    >>> data.signals.shape, list(data.labels.columns)  # doctest: +SKIP
    ((21799, 12, 1000), ['NORM', 'MI', 'STTC', 'CD', 'HYP'])
    """
    from ..io import read_wfdb

    check_label_set(labels)
    if isinstance(sfreq, bool) or sfreq not in (100, 500):
        raise ValueError(f"sfreq must be 100 or 500 (the PTB-XL releases), got {sfreq!r}")
    root = Path(root)
    table = read_database_csv(root / "ptbxl_database.csv")
    statements = read_statements_csv(root / "scp_statements.csv")
    if ecg_ids is not None:
        wanted = pd.Index(np.asarray(ecg_ids).ravel())
        if len(wanted) == 0:
            raise ValueError("ecg_ids is empty")
        absent = wanted.difference(table.index)
        if len(absent):
            raise ValueError(f"ecg_ids not in ptbxl_database.csv: {list(absent[:10])}")
        table = table.loc[wanted]
    column = "filename_lr" if sfreq == 100 else "filename_hr"
    records = read_wfdb([root / name for name in table[column]], verify_checksum=verify_checksum)
    if records.sfreq != sfreq:
        raise ValueError(f"{root / column}: records are at {records.sfreq:g} Hz, expected {sfreq} Hz")
    label_frame, unmapped = ptbxl_labels(table["scp_codes"], statements, labels)
    return Bunch(
        signals=records.signals,
        sfreq=float(records.sfreq),
        leads=records.leads,
        labels=label_frame,
        meta=ptbxl_meta(table),
        unmapped=unmapped,
        description=describe(str(root), len(table), records.sfreq, labels, unmapped),
    )
