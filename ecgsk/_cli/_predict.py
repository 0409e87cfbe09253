"""``ecgsk predict MODEL INPUT --out preds.csv``."""

from __future__ import annotations

import argparse
import sys

import numpy as np
import pandas as pd

from ._args import add_command, add_input_options, checked_value, print_notes
from ._errors import EXIT_FAILURES, EXIT_OK, CLIError
from ._outputs import ResumableCsv, check_output, report_failures, sibling

DESCRIPTION = """\
Run a model saved with ECGClassifier.save or ECGRegressor.save over every record of INPUT and
write one CSV row per record. INPUT is read lazily (a million-record folder never has to fit in
memory) and goes through the preprocessing recorded in the model card.
"""

EPILOG = """\
examples:
  ecgsk predict models/deepecg cohort/ --out preds.csv
  ecgsk predict models/deepecg cohort.zarr --out preds.csv --device cuda --jobs 4
  ecgsk predict models/afib ecgs.npy --sfreq 500 --out preds.csv --threshold 0.3

Records are resampled to the rate the model card's preprocessing starts from, then go
through it; a store written by 'ecgsk preprocess --deepecg' is used as it is.

The CSV has one row per record: record_id, p_<label> (probability of each label or class),
y_<label> (0/1 at the card's per-label thresholds, or --threshold) for multilabel and binary
models, prediction (most probable class) for multiclass models, and prediction (or
prediction_<k>) for regressors. Records that cannot be read or do not fit the model are
skipped, listed on stderr and in <out stem>.failures.csv, and the exit code is then 1.

An interrupted run (Ctrl-C, a killed job) keeps <out>.partial and <out>.progress.json: the
same command resumes after the last finished batch (--restart starts over).
"""


def _threshold(text: str):
    if text == "card":
        return text
    return checked_value(text, float, lambda v: 0.0 < v < 1.0,
                         expected="'card' or a probability",
                         invalid="a threshold must lie in (0, 1)")


_FLAGS: set[str] = set()  # the option strings of the command, set by add_parser


def add_parser(subparsers) -> argparse.ArgumentParser:
    parser = add_command(subparsers, "predict",
                         "run a saved classifier or regressor over records, write a CSV",
                         DESCRIPTION, EPILOG)
    parser.add_argument("model", metavar="MODEL", help="folder written by save() (card.json + "
                        "weights.safetensors)")
    parser.add_argument("input", metavar="INPUT", help="folder of WFDB/XML/DICOM/SCP records, one "
                        "record, a .npy array (n, leads, samples) with --sfreq, or a .zarr store "
                        "written by 'ecgsk preprocess'")
    parser.add_argument("--out", required=True, metavar="PREDS.csv", help="output CSV")
    thresholds = parser.add_mutually_exclusive_group()
    thresholds.add_argument("--threshold-from-card", dest="threshold", action="store_const",
                            const="card", help="y_<label> columns use the per-label thresholds "
                            "of the model card (the default)")
    thresholds.add_argument("--threshold", type=_threshold, default="card", metavar="P",
                            help="one probability threshold for every label instead")
    add_input_options(parser)
    parser.add_argument("--restart", action="store_true",
                        help="start over instead of resuming an interrupted run into --out")
    _FLAGS.update(parser._option_string_actions)
    parser.set_defaults(run=run, threshold="card")
    return parser


def _class_names(est) -> list[str]:
    return [str(c) for c in np.asarray(est.classes_).tolist()]


def _classifier_frame(est, ids, X, thresholds) -> pd.DataFrame:
    proba = est.predict_proba(X)
    names = _class_names(est)
    frame = pd.DataFrame(proba, columns=[f"p_{name}" for name in names])
    frame.insert(0, "record_id", ids)
    if est.task_ == "multiclass":
        frame["prediction"] = np.asarray(est.classes_)[np.argmax(proba, axis=1)]
    elif est.task_ == "binary":
        frame[f"y_{names[1]}"] = (proba[:, 1] >= thresholds[0]).astype(np.int8)
    else:
        hits = (proba >= thresholds[None, :]).astype(np.int8)
        for j, name in enumerate(names):
            frame[f"y_{name}"] = hits[:, j]
    return frame


def _regressor_frame(est, ids, X) -> pd.DataFrame:
    pred = np.asarray(est.predict(X), dtype=np.float64)
    if pred.ndim == 1:
        return pd.DataFrame({"record_id": ids, "prediction": pred})
    frame = pd.DataFrame(pred, columns=[f"prediction_{k}" for k in range(pred.shape[1])])
    frame.insert(0, "record_id", ids)
    return frame


def _resolve_thresholds(est, choice) -> np.ndarray | None:
    if est.task_ == "multiclass":
        return None
    n = 1 if est.task_ == "binary" else len(est.classes_)
    if choice != "card":
        return np.full(n, float(choice))
    card = getattr(est, "thresholds_", None)
    if card is None:
        print("ecgsk predict: the model card records no thresholds; using 0.5", file=sys.stderr)
        return np.full(n, 0.5)
    return np.asarray(card, dtype=np.float64).reshape(-1)


def run_over_input(*args, **kwargs):
    """:func:`ecgsk._cli._loop.run_over_input`, imported when a run starts (it loads torch)."""
    from ._loop import run_over_input as run_loop

    return run_loop(*args, **kwargs)


def _fingerprint(args, model, inp, thresholds) -> dict:
    """What must not change between an interrupted run and its resumption."""
    import hashlib

    card = (model.path / "card.json").read_bytes()
    weights = model.path / "weights.safetensors"
    ids = "\n".join(str(i) for i in inp.dataset.ids).encode()
    return {
        "model": hashlib.sha256(card).hexdigest(),
        "weights": [weights.stat().st_size, weights.stat().st_mtime_ns],
        "input": str(inp.path.resolve()),
        "records": hashlib.sha256(ids).hexdigest(),
        "n_records": len(inp.dataset),
        "thresholds": None if thresholds is None else [float(t) for t in thresholds],
        "options": [args.no_preprocessing, args.n_times, args.sfreq, args.leads],
    }


def run(args) -> int:
    """Run ``ecgsk predict``; return the exit code."""
    from ._inputs import open_for_model
    from ._models import load_model

    out = check_output(args.out, suffixes=(".csv",))
    model = load_model(args.model, device=args.device)
    if model.kind == "encoder":
        raise CLIError(
            f"MODEL {model.path} is a pretrained encoder (encoder.json), which has no prediction "
            "head: use 'ecgsk embed' for embeddings, or fine-tune and save an ECGClassifier"
        )
    inp, pipe, notes = open_for_model(args, model)
    print_notes(notes, args, prog="ecgsk predict")
    est = model.estimator
    est.batch_size = args.batch_size
    thresholds = None if model.kind == "regressor" else _resolve_thresholds(est, args.threshold)

    with ResumableCsv(out, _fingerprint(args, model, inp, thresholds),
                      restart=args.restart) as stream:
        if stream.covered:
            print(f"ecgsk predict: resuming after {stream.covered} of {len(inp.dataset)} "
                  "record(s) done by an interrupted run", file=sys.stderr)

        def frame(ids, X):
            if model.kind == "regressor":
                return _regressor_frame(est, ids, X)
            return _classifier_frame(est, ids, X, thresholds)

        def consume(ids, X):
            """Write the batch's predictions; return the records whose outputs are not finite."""
            from ..estimators._base import NonFiniteOutputs

            try:
                stream.write(frame(ids, X))
                return []
            except NonFiniteOutputs as exc:
                bad = set(exc.rows)
            good = [i for i in range(len(ids)) if i not in bad]
            if good:
                stream.write(frame([ids[i] for i in good], X[good]))
            reason = ("the model's outputs are NaN or infinite (its weights are corrupt or "
                      "diverged, or the record holds extreme values)")
            return [(i, reason) for i in sorted(bad)]

        earlier = list(stream.failures)
        result = run_over_input(inp, pipe, args, model, consume, desc="predict",
                                start=stream.covered, on_batch=stream.checkpoint)
        stream.commit(empty_columns=["record_id"])
    result.failures = sorted(result.failures + earlier, key=lambda failure: failure[1])
    result.n_done = stream.rows  # this run's and the interrupted runs' rows
    report_failures(result.failures, sibling(out, "failures"), prog="ecgsk predict",
                    flags=_FLAGS)
    if not args.quiet:
        print(f"ecgsk predict: {result.n_done} of {result.n_records} record(s) -> {out}",
              file=sys.stderr)
    return EXIT_FAILURES if result.failures else EXIT_OK
