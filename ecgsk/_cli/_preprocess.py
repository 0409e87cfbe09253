"""``ecgsk preprocess INPUT OUT.zarr``: a front end to :func:`ecgsk.io.convert`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ._args import add_command, checked_value, positive_float, positive_int
from ._errors import EXIT_FAILURES, EXIT_OK, CLIError, cli_hints
from ._outputs import _SHOWN_FAILURES, failure_line

DESCRIPTION = """\
Convert a folder of ECG records into a chunked zarr store that 'ecgsk predict', 'ecgsk embed'
and ecgsk.datasets.ECGDataset read lazily. Records are read in parallel; the conversion can be
resumed after an interruption.
"""

EPILOG = """\
examples:
  ecgsk preprocess cohort/ cohort.zarr --deepecg --jobs 4
  ecgsk preprocess cohort/ cohort-250.zarr --sfreq-out 250 --n-times 2500
  ecgsk preprocess one_record.hea one.zarr

Every record (WFDB .hea + .dat/.mat, GE MUSE / HL7 aECG / Philips .xml, DICOM .dcm, SCP-ECG .scp;
folders are searched recursively) is read,
put in the lead order of the first record, and written as one row of a chunked float32 zarr
array. --deepecg applies make_deepecg_preprocessing (12 standard leads, band-pass, notch,
250 Hz, 10 s, one amplitude gain learned on up to 256 records of INPUT): 'ecgsk predict'
then uses the store as it is.
Files that cannot be converted are listed in OUT/failures.csv with their reason (exit code 1).
An interrupted run continues where it stopped when the same command is run again.
"""


def _jobs(text: str) -> int:
    return checked_value(text, int, lambda v: v == -1 or v >= 1, expected="an integer",
                         invalid="expected a positive number of workers or -1")


# the option strings of the command, for the hints of failure reasons
_FLAGS = {"--sfreq-out", "--n-times", "--deepecg", "--fill-missing", "--jobs", "--chunk-size",
          "--restart", "--quiet"}


def add_parser(subparsers) -> argparse.ArgumentParser:
    parser = add_command(subparsers, "preprocess",
                         "convert a folder of records into a chunked zarr store (resumable)",
                         DESCRIPTION, EPILOG)
    parser.add_argument("input", metavar="INPUT", help="folder of records, or one record file")
    parser.add_argument("out", metavar="OUT.zarr", help="the store folder to write")
    target = parser.add_argument_group("what to write (--deepecg, or --sfreq-out/--n-times)")
    target.add_argument("--sfreq-out", type=positive_float, metavar="HZ",
                        help="resample every record to this rate")
    target.add_argument("--n-times", type=positive_int, metavar="N",
                        help="crop or pad every record (centred) to N samples, after resampling")
    target.add_argument("--deepecg", action="store_true",
                        help="apply the DeepECG preprocessing (12 x 2500 at 250 Hz, normalised)")
    target.add_argument("--fill-missing", choices=("zeros",), metavar="zeros",
                        help="with --deepecg: fill leads the records lack (and that cannot be "
                             "derived from I and II) with zeros instead of failing them")
    parser.add_argument("--jobs", type=_jobs, default=1, metavar="N",
                        help="worker processes reading records (-1: all cores; default: 1)")
    parser.add_argument("--chunk-size", type=positive_int, default=256, metavar="N",
                        help="records per unit of work and per zarr shard (default: 256)")
    parser.add_argument("--restart", action="store_true",
                        help="start over instead of resuming an earlier conversion into OUT")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(run=run)
    return parser


def _first_record(source: Path):
    """Rate and leads of the first record that has a readable header."""
    from ..io._items import find_record_files, scan_header

    errors = []
    try:
        files = find_record_files(source)
    except (ValueError, OSError) as exc:
        raise CLIError(f"INPUT {source}: {exc}") from None
    for path in files:
        try:
            header = scan_header(path)
        except (ValueError, OSError) as exc:
            errors.append(str(exc))
            continue
        return header.sfreq, header.leads
    raise CLIError(f"INPUT {source}: no record can be read; first error: {errors[0]}")


# records of INPUT on which --deepecg learns its amplitude gain (the cohort's scale)
GAIN_SAMPLE = 256


def fit_on_sample(pipe, source: Path, sfreq: float, n_records: int = GAIN_SAMPLE):
    """Fit ``pipe`` (its cohort amplitude gain) on up to ``n_records`` records of ``source``.

    Records at another rate than ``sfreq`` or that cannot be read are passed over (the
    conversion reports them); all are cut to the shortest one's length, which leaves the gain,
    a mean spectral magnitude, essentially unchanged.
    """
    import numpy as np

    from ..io import read_records
    from ..io._items import find_record_files
    from ..preprocessing import freeze_learned

    signals = []
    for path in find_record_files(source):
        try:
            rec = read_records([path], check_amplitude=False)
        except (ValueError, OSError):
            continue
        if float(rec.sfreq) == float(sfreq):
            signals.append(rec.signals[0])
        if len(signals) == n_records:
            break
    if not signals:
        raise CLIError(f"INPUT {source}: no record at {sfreq:g} Hz can be read to learn the "
                       "DeepECG amplitude gain from")
    n_times = min(x.shape[-1] for x in signals)
    try:
        fitted = pipe.fit(np.stack([x[..., :n_times] for x in signals]))
    except ValueError as exc:
        raise CLIError(f"INPUT {source}: the DeepECG preprocessing cannot be fitted on its "
                       f"records: {exc}") from None
    return freeze_learned(fitted)


def _deepecg_pipeline(source: Path, fill_missing=None):
    from ..preprocessing import make_deepecg_preprocessing

    sfreq, leads = _first_record(source)
    pipe = make_deepecg_preprocessing(sfreq, input_leads=list(leads), fill_missing=fill_missing)
    return sfreq, fit_on_sample(pipe, source, sfreq)


def run(args) -> int:
    """Run ``ecgsk preprocess``; return the exit code."""
    from ..io import convert

    source, dest = Path(args.input), Path(args.out)
    if args.deepecg and (args.sfreq_out is not None or args.n_times is not None):
        raise CLIError("--deepecg sets the rate and length itself: leave out --sfreq-out and "
                       "--n-times")
    if not source.exists() and not source.with_name(source.name + ".hea").is_file():
        raise CLIError(f"INPUT {source} does not exist")
    from ._inputs import input_kind

    kind = input_kind(source) if source.exists() else "records"
    if kind != "records":
        raise CLIError(f"INPUT {source} is already an array ({kind}); preprocess converts "
                       "record files (WFDB, XML, DICOM, SCP-ECG)")
    if not dest.parent.exists():
        raise CLIError(f"OUT {dest}: folder {dest.parent} does not exist")
    sfreq, pipe = args.sfreq_out, None
    if args.deepecg:
        sfreq, pipe = _deepecg_pipeline(source, args.fill_missing)
    elif args.fill_missing is not None:
        raise CLIError("--fill-missing applies to the lead step of --deepecg; add --deepecg")
    try:
        report = convert(source, dest, preprocessing=pipe, sfreq=sfreq, n_times=args.n_times,
                         chunk_size=args.chunk_size, n_jobs=args.jobs, resume=not args.restart,
                         progress=not args.quiet)
    except KeyboardInterrupt:
        print(f"ecgsk preprocess: interrupted; run the same command again to continue "
              f"where it stopped ({dest})", file=sys.stderr)
        raise
    except (ValueError, OSError) as exc:
        raise CLIError(str(exc)) from None
    print(f"converted {report.n_converted}, failed {report.n_failed}, skipped "
          f"{report.n_skipped} (already converted) -> {dest}")
    if report.n_failed:
        log = dest / "failures.csv"
        print(f"ecgsk preprocess: {report.n_failed} file(s) could not be converted:",
              file=sys.stderr)
        for path, reason in report.failures.head(_SHOWN_FAILURES).itertuples(index=False):
            print(f"  {cli_hints(failure_line(path, reason), _FLAGS)}", file=sys.stderr)
        if report.n_failed > _SHOWN_FAILURES:
            print(f"  ... and {report.n_failed - _SHOWN_FAILURES} more", file=sys.stderr)
        print(f"failure log: {log}")
        return EXIT_FAILURES
    return EXIT_OK
