"""``ecgsk embed ENCODER_OR_MODEL INPUT --out emb.npy|emb.csv``."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ._args import add_command, add_input_options, print_notes
from ._errors import EXIT_FAILURES, EXIT_OK, CLIError
from ._outputs import CsvStream, NpyRows, check_output, report_failures, sibling

if TYPE_CHECKING:
    from ._models import LoadedModel

DESCRIPTION = """\
Compute the embedding of every record of INPUT with an encoder saved by ECGPretrainer.save
(encoder.json) or with the network of a model saved by ECGClassifier.save / ECGRegressor.save
(card.json, whose preprocessing is applied). An encoder card records no preprocessing: INPUT
must then be at the encoder's rate and lead count (use --deepecg to apply the DeepECG
preprocessing on the fly).
"""

EPILOG = """\
examples:
  ecgsk embed models/ssl-encoder cohort/ --out emb.npy
  ecgsk embed models/deepecg cohort/ --out emb.csv --device cuda --batch-size 512

With --out emb.npy the embeddings are a float32 array (n_records, n_features) and the record
ids, row by row, are in emb.ids.csv; with --out emb.csv one CSV has record_id and the
columns embedding0, embedding1, ... Records that fail are skipped, listed on stderr and in
<out stem>.failures.csv, and the exit code is then 1.
"""


_FLAGS: set[str] = set()  # the option strings of the command, set by add_parser


def add_parser(subparsers) -> argparse.ArgumentParser:
    parser = add_command(subparsers, "embed",
                         "embeddings of records from a pretrained encoder or a saved model",
                         DESCRIPTION, EPILOG)
    parser.add_argument("model", metavar="ENCODER_OR_MODEL",
                        help="folder written by ECGPretrainer.save or by ECGClassifier/"
                             "ECGRegressor.save")
    parser.add_argument("input", metavar="INPUT", help="folder of WFDB/XML/DICOM/SCP records, one "
                        "record, a .npy array with --sfreq, or a .zarr store")
    parser.add_argument("--out", required=True, metavar="EMB.npy|EMB.csv",
                        help="output: .npy (plus <stem>.ids.csv) or .csv")
    parser.add_argument("--deepecg", action="store_true",
                        help="for an encoder folder: apply make_deepecg_preprocessing (12 leads, "
                             "250 Hz, 2500 samples) to INPUT first")
    add_input_options(parser)
    _FLAGS.update(parser._option_string_actions)
    parser.set_defaults(run=run)
    return parser


def _embedder(model: LoadedModel):
    import torch

    if model.estimator is not None:
        est = model.estimator
        return est.transform
    encoder, device = model.encoder, model.device

    def embed(X: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            out = encoder.forward_features(torch.from_numpy(X).to(device))
        return out.float().cpu().numpy()

    return embed


def _deepecg_factory(model: LoadedModel):
    """The DeepECG preprocessing for INPUT's rate, for an encoder (its card records none)."""
    from ..preprocessing import make_deepecg_preprocessing

    if model.kind != "encoder":
        raise CLIError("--deepecg is for encoder folders; a saved model applies its own card's "
                       "preprocessing")
    if model.n_leads != 12 or model.sfreq not in (None, 250.0):
        raise CLIError(
            f"--deepecg gives 12 leads at 250 Hz, but the encoder {model.path} was trained on "
            f"{model.describe_input()}"
        )
    model.n_times = model.min_times = 2500
    return make_deepecg_preprocessing


def run(args) -> int:
    """Run ``ecgsk embed``; return the exit code."""
    from ._inputs import open_for_model
    from ._loop import run_over_input
    from ._models import load_model

    out = check_output(args.out, suffixes=(".npy", ".csv"))
    model = load_model(args.model, device=args.device)
    factory = _deepecg_factory(model) if args.deepecg else None
    inp, pipe, notes = open_for_model(args, model, make_pipeline=factory)
    print_notes(notes, args, prog="ecgsk embed")
    if model.estimator is not None:
        model.estimator.batch_size = args.batch_size
    embed = _embedder(model)
    ids_written: list[str] = []
    if out.suffix.lower() == ".csv":
        with CsvStream(out) as stream:
            def consume(ids, X):
                emb = embed(X)
                frame = pd.DataFrame(emb, columns=[f"embedding{k}" for k in range(emb.shape[1])])
                frame.insert(0, "record_id", ids)
                stream.write(frame)

            result = run_over_input(inp, pipe, args, model, consume, desc="embed")
            stream.commit(empty_columns=["record_id"])
    else:
        with NpyRows(out, len(inp.dataset)) as rows:
            def consume(ids, X):
                rows.write(embed(X))
                ids_written.extend(ids)

            result = run_over_input(inp, pipe, args, model, consume, desc="embed")
            rows.commit()
        pd.DataFrame({"record_id": ids_written}).to_csv(sibling(out, "ids"), index=False)
    report_failures(result.failures, sibling(out, "failures"), prog="ecgsk embed",
                    flags=_FLAGS)
    if not args.quiet:
        print(f"ecgsk embed: {result.n_done} of {result.n_records} record(s) -> {out}",
              file=sys.stderr)
    return EXIT_FAILURES if result.failures else EXIT_OK
