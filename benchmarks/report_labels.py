"""Evaluation: labels from PTB-XL report text against the labels of their SCP statements.

The 500 reports of ``ptbxl_database_head500.csv`` (PTB-XL ecg_id 1-500; German, English and
some Swedish, each confirmed by a cardiologist) go through
:func:`ecgsk.labels.labels_from_text`; their ``scp_codes`` through
:func:`ecgsk.labels.scp_to_deepecg` (every statement counts, likelihood 0 included, as in
PTB-XL). Per label with at least ``--min-positives`` reference positives: precision,
recall and F1 with percentile bootstrap intervals (records resampled with replacement,
``--n-resamples`` times, seeded), and the macro F1 over those labels with its interval.
Undefined precision or recall (no predicted or no true positive in a resample) counts 0.

Usage::

    python benchmarks/report_labels.py
    python benchmarks/report_labels.py --csv path/to/ptbxl_database.csv --uncertain negative
"""

from __future__ import annotations

import argparse
import ast
from pathlib import Path

import numpy as np
import pandas as pd

from ecgsk.labels import labels_from_text, scp_to_deepecg

DEFAULT_CSV = (Path(__file__).resolve().parents[2] / "shared" / "data" / "ptbxl_reports"
               / "ptbxl_database_head500.csv")


def _scores(tp, fp, fn):
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(tp + fp > 0, tp / np.maximum(tp + fp, 1), 0.0)
        recall = np.where(tp + fn > 0, tp / np.maximum(tp + fn, 1), 0.0)
        f1 = np.where(precision + recall > 0,
                      2 * precision * recall / np.maximum(precision + recall, 1e-12), 0.0)
    return precision, recall, f1


def evaluate(y_true: np.ndarray, y_pred: np.ndarray, *, n_resamples: int = 1000, seed: int = 0,
             ci: float = 0.95):
    """Precision, recall, F1 per column, and bootstrap intervals of them and of the macro F1.

    Returns a dict of arrays: ``precision``, ``recall``, ``f1`` (per column), each also with
    ``_low``/``_high``; and ``macro_f1``, ``macro_f1_low``, ``macro_f1_high``.

    Examples
    --------
    >>> y = np.array([[1, 0], [1, 1], [0, 1], [0, 0]])
    >>> out = evaluate(y, y, n_resamples=20)
    >>> out["f1"].tolist(), float(out["macro_f1"])
    ([1.0, 1.0], 1.0)
    """
    y_true, y_pred = np.asarray(y_true, bool), np.asarray(y_pred, bool)
    n = len(y_true)
    hits = (y_true & y_pred).astype(np.float64)
    false_pos = (~y_true & y_pred).astype(np.float64)
    misses = (y_true & ~y_pred).astype(np.float64)
    out = dict(zip(("precision", "recall", "f1"),
                   _scores(hits.sum(0), false_pos.sum(0), misses.sum(0)), strict=True))
    out["macro_f1"] = out["f1"].mean()
    rng = np.random.default_rng(seed)
    # a bootstrap resample is a multinomial count of each record
    weights = rng.multinomial(n, np.full(n, 1.0 / n), size=n_resamples).astype(np.float64)
    boot = _scores(weights @ hits, weights @ false_pos, weights @ misses)
    alpha = (1.0 - ci) / 2.0
    for name, values in zip(("precision", "recall", "f1"), boot, strict=True):
        out[f"{name}_low"], out[f"{name}_high"] = np.quantile(values, [alpha, 1 - alpha], axis=0)
    macro = boot[2].mean(axis=1)
    out["macro_f1_low"], out["macro_f1_high"] = np.quantile(macro, [alpha, 1 - alpha])
    return out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", type=Path, default=DEFAULT_CSV,
                        help="ptbxl_database.csv (or its first rows) with report and scp_codes")
    parser.add_argument("--min-positives", type=int, default=10)
    parser.add_argument("--n-resamples", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--uncertain", choices=("positive", "negative"), default="positive")
    parser.add_argument("--errors", action="store_true",
                        help="also list, per evaluated label, the records where text and "
                             "SCP codes disagree")
    args = parser.parse_args(argv)

    table = pd.read_csv(args.csv)
    codes = [ast.literal_eval(text) for text in table["scp_codes"]]
    y_ref, _ = scp_to_deepecg(codes, index=table["ecg_id"])
    found = labels_from_text(pd.Series(table["report"].to_numpy(), index=table["ecg_id"]),
                             uncertain=args.uncertain)
    y_text = found.labels
    positives = y_ref.sum(axis=0)
    keep = [name for name in y_ref.columns if positives[name] >= args.min_positives]
    out = evaluate(y_ref[keep].to_numpy(), y_text[keep].to_numpy(),
                   n_resamples=args.n_resamples, seed=args.seed)

    languages = found.language.value_counts().to_dict()
    print(f"{len(table)} PTB-XL reports ({', '.join(f'{k} {v}' for k, v in languages.items())});"
          f" uncertain={args.uncertain!r}; {args.n_resamples} bootstrap resamples "
          f"(seed {args.seed}), 95% percentile intervals; labels with >= {args.min_positives} "
          "reference positives\n")
    print("| label | ref. positives | text positives | precision | recall | F1 |")
    print("|---|---:|---:|---|---|---|")

    def cell(name, j):
        return f"{out[name][j]:.3f} [{out[name + '_low'][j]:.3f}, {out[name + '_high'][j]:.3f}]"

    for j, name in enumerate(keep):
        print(f"| {name} | {int(positives[name])} | {int(y_text[name].sum())} | "
              f"{cell('precision', j)} | {cell('recall', j)} | {cell('f1', j)} |")
    print(f"\n**Macro F1** over {len(keep)} labels: {out['macro_f1']:.3f} "
          f"[{out['macro_f1_low']:.3f}, {out['macro_f1_high']:.3f}]")
    reasons = found.unmapped["reason"].value_counts().to_dict()
    print(f"\nUnmapped phrases: {reasons}")
    if args.errors:
        for name in keep:
            fp = y_ref.index[(y_text[name] == 1) & (y_ref[name] == 0)].tolist()
            fn = y_ref.index[(y_text[name] == 0) & (y_ref[name] == 1)].tolist()
            print(f"\n{name}: false positives {fp}; false negatives {fn}")


if __name__ == "__main__":
    main()
