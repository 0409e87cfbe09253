"""``ecgsk evaluate PREDS.csv LABELS.csv [--by sex,age] [--out report.csv]``."""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from ._args import add_command, checked_value, lead_list, non_negative_int
from ._errors import EXIT_OK, CLIError
from ._outputs import check_output, sibling

DESCRIPTION = """\
Join predictions and ground-truth labels on record id and report, per label and averaged (macro,
micro, and per DeepECG category when the labels are DeepECG's), AUROC, AUPRC, F1, sensitivity,
specificity, PPV and NPV with bootstrap confidence intervals; with --by, the true- and false-
positive rate gaps between patient groups.
"""

EPILOG = """\
examples:
  ecgsk evaluate preds.csv labels.csv
  ecgsk evaluate preds.csv labels.csv --by sex,age --out report.csv
  ecgsk evaluate preds.csv labels.csv --labels NORM,MI --thresholds youden --n-resamples 2000

PREDS is the CSV of 'ecgsk predict' (record_id, p_<label>, y_<label>); LABELS has record_id,
one 0/1 column per label (named like the p_<label> columns) and the --by columns. The two are
joined on record_id. By default the decision of each label is the y_<label> column of PREDS
(the model card's thresholds); the threshold column of the report is then the lowest
probability predicted positive. --by age groups ages as <=55, 55-75 and >75 years.
With --out report.csv, the fairness tables go to report.fairness.csv (gaps) and
report.fairness_rates.csv (per-group rates).
"""

_SHOWN = (("auroc", "AUROC"), ("auprc", "AUPRC"), ("f1", "F1"), ("sensitivity", "Sens"),
          ("specificity", "Spec"))


def _thresholds(text: str):
    if text in ("preds", "youden", "f1"):
        return text
    return checked_value(text, float, lambda v: 0.0 < v < 1.0,
                         expected="preds, youden, f1 or a probability",
                         invalid="a threshold must lie in (0, 1)")


def _ci(text: str) -> float:
    return checked_value(text, float, lambda v: 0.0 < v < 1.0, expected="a level such as 0.95",
                         invalid="the confidence level must lie in (0, 1)")


def _edges(text: str) -> list[float]:
    try:
        edges = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected ages such as 55,75, got {text!r}") from None
    if not edges or any(b <= a for a, b in zip(edges, edges[1:], strict=False)):
        raise argparse.ArgumentTypeError(f"expected increasing ages such as 55,75, got {text!r}")
    return edges


def add_parser(subparsers) -> argparse.ArgumentParser:
    parser = add_command(subparsers, "evaluate",
                         "per-label metrics with confidence intervals, and fairness gaps",
                         DESCRIPTION, EPILOG)
    parser.add_argument("preds", metavar="PREDS.csv", help="predictions from 'ecgsk predict'")
    parser.add_argument("labels", metavar="LABELS.csv", help="record_id, 0/1 label columns, "
                        "and patient attributes")
    parser.add_argument("--by", type=lead_list, default=[], metavar="COLUMNS",
                        help="comma-separated LABELS columns for the fairness report, e.g. "
                             "sex,age (age is binned)")
    parser.add_argument("--out", metavar="REPORT.csv", help="write the full report as CSV")
    parser.add_argument("--labels", dest="label_names", type=lead_list, metavar="NAMES",
                        help="labels to evaluate (default: every LABELS column with a p_<name> "
                             "column in PREDS)")
    parser.add_argument("--id-column", default="record_id", metavar="NAME",
                        help="the record id column of both files (default: record_id)")
    parser.add_argument("--thresholds", type=_thresholds, default="preds", metavar="HOW",
                        help="preds (the y_<label> columns, default), youden or f1 (chosen "
                             "on these labels: optimistic), or one probability")
    parser.add_argument("--n-resamples", type=non_negative_int, default=1000, metavar="N",
                        help="bootstrap resamples for the intervals; 0 for none (default: 1000)")
    parser.add_argument("--method", choices=("bootstrap", "subsample"), default="bootstrap",
                        help="resampling: bootstrap, or the paper's 70%% subsampling")
    parser.add_argument("--ci", type=_ci, default=0.95, help="confidence level (default: 0.95)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the resamples (default: 0)")
    parser.add_argument("--age-bins", type=_edges, default=[55.0, 75.0], metavar="AGES",
                        help="inner edges of the age groups (default: 55,75)")
    parser.add_argument("--quiet", action="store_true", help="print nothing but errors")
    parser.set_defaults(run=run)
    return parser


def _read_table(path, what: str, id_column: str) -> pd.DataFrame:
    p = Path(path)
    if not p.is_file():
        problem = "does not exist" if not p.exists() else "is not a file"
        raise CLIError(f"{what} {p} {problem}")
    try:
        frame = pd.read_csv(p, dtype={id_column: str})
    except (ValueError, OSError, UnicodeDecodeError) as exc:
        raise CLIError(f"{what} {p} cannot be read as CSV: {exc}") from None
    if id_column not in frame.columns:
        raise CLIError(
            f"{what} {p} has no {id_column!r} column (columns: {list(frame.columns)[:8]}); "
            "name the id column with --id-column"
        )
    duplicated = frame[id_column][frame[id_column].duplicated()].unique()
    if len(duplicated):
        raise CLIError(f"{what} {p} repeats record ids, e.g. {list(duplicated[:3])}")
    return frame


def _label_names(preds: pd.DataFrame, labels: pd.DataFrame, asked) -> list[str]:
    scored = [c[2:] for c in preds.columns if c.startswith("p_")]
    if not scored:
        raise CLIError("PREDS has no p_<label> probability column (is it from 'ecgsk predict'?)")
    if asked:
        missing = [n for n in asked if f"p_{n}" not in preds.columns or n not in labels.columns]
        if missing:
            raise CLIError(
                f"--labels {missing} need a p_<label> column in PREDS and a column in LABELS")
        return list(asked)
    names = [n for n in scored if n in labels.columns]
    if not names:
        raise CLIError(
            f"no LABELS column matches a p_<label> column of PREDS (PREDS scores "
            f"{scored[:6]}, LABELS has {list(labels.columns)[:8]})"
        )
    return names


def _effective_thresholds(merged: pd.DataFrame, names: list[str]) -> np.ndarray | None:
    """Thresholds that reproduce the y_<label> columns: the lowest probability predicted 1."""
    if not all(f"y_{n}" in merged.columns for n in names):
        return None
    out = np.empty(len(names))
    for j, name in enumerate(names):
        p = merged[f"p_{name}"].to_numpy(dtype=np.float64)
        hit = merged[f"y_{name}"].to_numpy() == 1
        out[j] = p[hit].min() if hit.any() else np.nextafter(p.max(), math.inf)
    return out


def _cell(row, metric: str) -> str:
    value = row[metric]
    if not np.isfinite(value):
        return "n/a"
    low, high = row.get(f"{metric}_ci_low", np.nan), row.get(f"{metric}_ci_high", np.nan)
    if np.isfinite(low) and np.isfinite(high):
        return f"{value:.3f} [{low:.3f}, {high:.3f}]"
    return f"{value:.3f}"


def format_report(report: pd.DataFrame) -> str:
    """A readable table of :func:`~ecgsk.metrics.classification_report` output."""
    rows = []
    for (level, name), row in report.iterrows():
        shown = {"": level, "name": name, "pos": int(row["positives"])}
        for metric, title in _SHOWN:
            shown[title] = _cell(row, metric)
        shown["note"] = row["note"]
        rows.append(shown)
    return pd.DataFrame(rows).to_string(index=False)


def format_gaps(gaps: pd.DataFrame) -> str:
    """A readable table of the fairness gaps."""
    rows = []
    for (attribute, label), row in gaps.iterrows():
        rows.append({"attribute": attribute, "label": label, "groups": int(row["n_groups"]),
                     "TPR gap": _cell(row, "tpr_gap"), "FPR gap": _cell(row, "fpr_gap")})
    return pd.DataFrame(rows).to_string(index=False)


def _groups(merged: pd.DataFrame, column: str, edges) -> tuple[pd.Series, np.ndarray]:
    from ..metrics import age_bins

    if column not in merged.columns:
        raise CLIError(f"--by {column}: LABELS has no column {column!r}")
    values = merged[column]
    keep = values.notna().to_numpy()
    values = values[keep]
    if column.lower() == "age":
        ages = pd.to_numeric(values, errors="coerce")
        if ages.isna().any():
            raise CLIError(f"--by {column}: column {column!r} holds non-numeric ages")
        edge_list = list(edges)
        names = [f"<={edge_list[0]:g}"]
        names += [f"{a:g}-{b:g}" for a, b in zip(edge_list, edge_list[1:], strict=False)]
        names += [f">{edge_list[-1]:g}"]
        try:
            values = pd.Series(age_bins(ages.to_numpy(), edges=edge_list, labels=names),
                               name=column)
        except ValueError as exc:
            raise CLIError(f"--by {column}: {exc}") from None
    else:
        values = pd.Series(values.astype(str).to_numpy(), name=column)
    if values.nunique() < 2:
        raise CLIError(
            f"--by {column}: only one group ({values.iloc[0] if len(values) else 'none'}) among "
            "the records with a value; a fairness gap needs two"
        )
    return values, keep


def _binary_labels(y: pd.DataFrame) -> pd.DataFrame:
    """The LABELS columns as 0/1 integers; a usage error naming a column that is not 0/1.

    Examples
    --------
    >>> _binary_labels(pd.DataFrame({"AF": [0, 1.0], "MI": [True, False]})).to_numpy().tolist()
    [[0, 1], [1, 0]]
    >>> _binary_labels(pd.DataFrame({"AF": ["yes", "no"]}))
    Traceback (most recent call last):
    ...
    ecgsk._cli._errors.CLIError: LABELS column 'AF' must hold 0/1 (or true/false) labels; found ['no', 'yes']
    """
    out = {}
    for name in y.columns:
        column = y[name]
        values = (column.astype(int) if column.dtype == bool
                  else pd.to_numeric(column, errors="coerce"))
        bad = column[values.isna() | ~values.isin([0, 1])]
        if len(bad):
            shown = sorted({str(v) for v in bad.unique()})[:5]
            raise CLIError(f"LABELS column {name!r} must hold 0/1 (or true/false) labels; found "
                           f"{shown}")
        out[name] = values.astype(int).to_numpy()
    return pd.DataFrame(out, index=y.index)


def run(args) -> int:
    """Run ``ecgsk evaluate``; return the exit code."""
    from ..metrics import classification_report, fairness_report

    out = check_output(args.out, suffixes=(".csv",)) if args.out else None
    preds = _read_table(args.preds, "PREDS", args.id_column)
    labels = _read_table(args.labels, "LABELS", args.id_column)
    names = _label_names(preds, labels, args.label_names)
    merged = labels.merge(preds, on=args.id_column, how="inner", suffixes=("", "_pred"))
    if merged.empty:
        raise CLIError(f"no {args.id_column} of PREDS is in LABELS: nothing to evaluate")
    notes = []
    if len(merged) < len(preds):
        notes.append(f"{len(preds) - len(merged)} prediction(s) have no row in LABELS")
    missing = merged[names].isna().any(axis=1).to_numpy()
    if missing.any():
        notes.append(f"{int(missing.sum())} record(s) with a missing label left out")
        merged = merged[~missing].reset_index(drop=True)
        if merged.empty:
            raise CLIError("every joined record has a missing label: nothing to evaluate")
    y_true = _binary_labels(merged[names].rename(columns=str))
    scores = merged[[f"p_{n}" for n in names]].set_axis(names, axis=1)

    thresholds = args.thresholds
    if thresholds in ("youden", "f1"):
        notes.append(f"thresholds chosen by {thresholds} on these labels: threshold metrics "
                     "are optimistic")
    if thresholds == "preds":
        thresholds = _effective_thresholds(merged, names)
        if thresholds is None:
            notes.append("PREDS has no y_<label> columns: threshold 0.5")
            thresholds = 0.5
    try:
        report = classification_report(
            y_true, scores, labels=names, thresholds=thresholds, ci=args.ci,
            n_resamples=args.n_resamples, method=args.method, random_state=args.seed)
    except (ValueError, TypeError) as exc:
        raise CLIError(f"cannot evaluate: {exc}") from None
    used = report.loc[[("label", n) for n in names], "threshold"].to_numpy(dtype=np.float64)
    decisions = pd.DataFrame(scores.to_numpy() >= used[None, :], columns=names).astype(int)

    rates, gaps = [], []
    for column in args.by:
        groups, keep = _groups(merged, column, args.age_bins)
        try:
            fair = fairness_report(y_true[keep].reset_index(drop=True),
                                   decisions[keep].reset_index(drop=True), groups,
                                   n_resamples=args.n_resamples, random_state=args.seed,
                                   ci=args.ci, labels=names)
        except ValueError as exc:
            raise CLIError(f"--by {column}: {exc}") from None
        if (~keep).any():
            notes.append(f"--by {column}: {int((~keep).sum())} record(s) without a value left out")
        rates.append(fair.rates)
        gaps.append(fair.gaps)

    if not args.quiet:
        how = (f"{args.n_resamples} {args.method} resamples, {args.ci:.0%} intervals"
               if args.n_resamples else "no intervals")
        print(f"{len(merged)} record(s), {len(names)} label(s); {how}")
        for note in notes:
            print(f"note: {note}")
        print()
        print(format_report(report))
        if gaps:
            print()
            print("Fairness: true/false-positive rate gaps between groups")
            print(format_gaps(pd.concat(gaps)))
    if out is not None:
        report.reset_index().to_csv(out, index=False)
        if gaps:
            pd.concat(gaps).reset_index().to_csv(sibling(out, "fairness"), index=False)
            pd.concat(rates).reset_index().to_csv(sibling(out, "fairness_rates"), index=False)
        if not args.quiet:
            print(f"\nreport written to {out}", file=sys.stderr)
    return EXIT_OK
