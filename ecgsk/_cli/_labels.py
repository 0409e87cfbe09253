"""``ecgsk labels REPORTS.csv --column TEXT --out labels.csv [--id COLUMNS]``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from ._args import add_command
from ._errors import EXIT_OK, CLIError
from ._outputs import check_output, sibling

DESCRIPTION = """\
Turn free-text ECG reports (English, French, German, Swedish) into the 77 DeepECG labels, rule
based, with negation and uncertainty handled (see ecgsk.labels.labels_from_text).
"""

EPILOG = """\
examples:
  ecgsk labels reports.csv --column report --out labels.csv
  ecgsk labels ptbxl_database.csv --column report --id ecg_id --out labels.csv
  ecgsk labels muse.csv --column diagnosis --id patient_id,date --uncertain negative --out y.csv

OUT holds the --id columns (or, without --id, 'row', the 0-based row of REPORTS) and one 0/1
column per DeepECG label. The phrases that gave no label go to OUT's sibling
<out>.unmapped.csv (the same id columns, phrase, reason: unrecognised, no DeepECG label, or
no territory), with a summary of the commonest on stderr; <out>.uncertain.csv marks the
labels that were stated only as possible or probable.
"""


def _columns(text: str) -> list[str]:
    """argparse type: comma-separated column names."""
    names = [name.strip() for name in text.split(",") if name.strip()]
    if not names:
        raise argparse.ArgumentTypeError("expected comma-separated column names, e.g. ecg_id")
    return names


def add_parser(subparsers):
    parser = add_command(subparsers, "labels", "the 77 DeepECG labels from report text",
                         DESCRIPTION, EPILOG)
    parser.add_argument("reports", metavar="REPORTS.csv", help="a CSV with one report per row")
    parser.add_argument("--column", required=True, metavar="TEXT",
                        help="the column of REPORTS holding the report text")
    parser.add_argument("--out", required=True, metavar="LABELS.csv",
                        help="where to write the 0/1 label table")
    parser.add_argument("--id", dest="id_columns", type=_columns, default=[],
                        metavar="COLUMNS",
                        help="comma-separated REPORTS columns copied into every output to "
                             "identify the rows, e.g. ecg_id")
    parser.add_argument("--language", choices=("auto", "en", "fr", "de", "sv"), default="auto",
                        help="language of the reports (default: auto, decided per report)")
    parser.add_argument("--uncertain", choices=("positive", "negative"), default="positive",
                        help="what a possible/probable finding gives: 1 (positive, default) "
                             "or 0")
    parser.add_argument("--quiet", action="store_true", help="print nothing but errors")
    parser.set_defaults(run=run)
    return parser


def _read(path, column: str, id_columns) -> pd.DataFrame:
    p = Path(path)
    if not p.is_file():
        raise CLIError(f"REPORTS {p} {'does not exist' if not p.exists() else 'is not a file'}")
    try:
        frame = pd.read_csv(p, dtype=str, keep_default_na=False, na_values=[""])
    except (ValueError, OSError, UnicodeDecodeError) as exc:
        raise CLIError(f"REPORTS {p} cannot be read as CSV: {exc}") from None
    missing = [c for c in (column, *id_columns) if c not in frame.columns]
    if missing:
        raise CLIError(f"REPORTS {p} has no column {missing[0]!r} (columns: "
                       f"{list(frame.columns)[:10]})")
    return frame


def run(args) -> int:
    """Run ``ecgsk labels``; return the exit code."""
    from ..labels import labels_from_text

    out = check_output(args.out, suffixes=(".csv",))
    frame = _read(args.reports, args.column, args.id_columns)
    found = labels_from_text(frame[args.column].reset_index(drop=True), args.language,
                             uncertain=args.uncertain)
    if args.id_columns:
        ids = frame[args.id_columns].reset_index(drop=True)
    else:
        ids = pd.DataFrame({"row": range(len(frame))})
    pd.concat([ids, found.labels], axis=1).to_csv(out, index=False)
    pd.concat([ids, found.uncertain], axis=1).to_csv(sibling(out, "uncertain"), index=False)
    rows = found.unmapped["row"].to_numpy(dtype=int)
    unmapped = pd.concat([ids.iloc[rows].reset_index(drop=True),
                          found.unmapped[["phrase", "reason"]].reset_index(drop=True)], axis=1)
    unmapped.to_csv(sibling(out, "unmapped"), index=False)
    if not args.quiet:
        n_labels = int(found.labels.to_numpy().sum())
        print(f"{len(frame)} report(s): {n_labels} label(s) written to {out}; "
              f"{len(unmapped)} phrase(s) without a label in {sibling(out, 'unmapped')}",
              file=sys.stderr)
        for reason, count in unmapped["reason"].value_counts().items():
            top = unmapped.loc[unmapped["reason"] == reason, "phrase"].value_counts().head(5)
            shown = "; ".join(f"{phrase!r} x{n}" for phrase, n in top.items())
            print(f"  {reason}: {count} (commonest: {shown})", file=sys.stderr)
    return EXIT_OK
