"""The loop shared by ``predict`` and ``embed``: open INPUT, prepare batches, hand them on."""

from __future__ import annotations

import argparse
import sys
import textwrap
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from tqdm.auto import tqdm

from ._batches import PrepareBatch, iter_batches
from ._inputs import Input, fit_on_first_record, record_paths
from ._models import LoadedModel


def paragraph(text: str, width: int = 88) -> str:
    """Wrap a help description (the formatter keeps the epilog's own line breaks).

    Examples
    --------
    >>> paragraph("a " * 50, width=20).splitlines()[0]
    'a a a a a a a a a a'
    """
    return textwrap.fill(" ".join(text.split()), width=width)


def add_command(subparsers, name: str, summary: str, description: str, epilog: str):
    """The parser of subcommand ``name``: description wrapped, epilog's line breaks kept."""
    return subparsers.add_parser(
        name,
        help=summary,
        description=paragraph(description),
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def checked_value(text: str, convert, valid, *, expected: str, invalid: str):
    """Body of an argparse type: ``convert(text)``, kept only if ``valid`` accepts it.

    Text that ``convert`` rejects (``ValueError``) gives ``expected <expected>, got '<text>'``;
    a value that ``valid`` rejects gives ``<invalid>, got <value>``.

    Examples
    --------
    >>> checked_value("3", int, lambda v: v > 0, expected="an integer", invalid="too small")
    3
    >>> checked_value("0", int, lambda v: v > 0, expected="an integer", invalid="too small")
    Traceback (most recent call last):
    argparse.ArgumentTypeError: too small, got 0
    """
    try:
        value = convert(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None
    if not valid(value):
        raise argparse.ArgumentTypeError(f"{invalid}, got {value}")
    return value


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1."""
    return checked_value(text, int, lambda v: v >= 1, expected="a positive integer",
                         invalid="expected a positive integer")


def non_negative_int(text: str) -> int:
    """argparse type: an integer >= 0."""
    return checked_value(text, int, lambda v: v >= 0, expected="an integer >= 0",
                         invalid="expected an integer >= 0")


def positive_float(text: str) -> float:
    """argparse type: a finite number > 0 (a sampling rate)."""
    return checked_value(text, float, lambda v: np.isfinite(v) and v > 0,
                         expected="a number", invalid="expected a positive number")


def lead_list(text: str) -> list[str]:
    """argparse type: comma-separated lead names."""
    names = [name.strip() for name in text.split(",") if name.strip()]
    if not names:
        raise argparse.ArgumentTypeError("expected comma-separated lead names, e.g. I,II,V1")
    return names


def add_input_options(parser: argparse.ArgumentParser) -> None:
    """Options shared by the commands that run a network over INPUT."""
    group = parser.add_argument_group("input")
    group.add_argument("--sfreq", type=positive_float, metavar="HZ",
                       help="sampling rate of a .npy INPUT (other inputs record their own)")
    group.add_argument("--leads", type=lead_list, metavar="NAMES",
                       help="lead names of INPUT in order, comma-separated (for a .npy INPUT "
                            "not in the standard 12-lead order)")
    group.add_argument("--n-times", type=positive_int, metavar="N",
                       help="crop or pad every record (centred) to N samples as it is read, "
                            "before the model's preprocessing (for folders whose records "
                            "differ in length)")
    group.add_argument("--no-preprocessing", action="store_true",
                       help="INPUT already holds the network input: do not apply the model "
                            "card's preprocessing (not needed for stores written by 'ecgsk "
                            "preprocess --deepecg', which are recognised)")
    run = parser.add_argument_group("running")
    run.add_argument("--batch-size", type=positive_int, default=256, metavar="N",
                     help="ECGs per batch (default: 256)")
    run.add_argument("--device", default="auto",
                     help="auto (CUDA when available), cpu, cuda, cuda:1, ... (default: auto)")
    run.add_argument("--jobs", type=non_negative_int, default=0, metavar="N",
                     help="worker processes reading and preprocessing records (default: 0, "
                          "read in the main process)")
    run.add_argument("--quiet", action="store_true", help="no progress bar")


def print_notes(notes, args, *, prog: str) -> None:
    """Print ``note:`` lines on stderr unless ``--quiet``."""
    if not args.quiet:
        for note in notes:
            print(f"{prog}: note: {note}", file=sys.stderr)


@dataclass
class RunResult:
    """What a pass over INPUT did."""

    n_records: int
    n_done: int
    failures: list[tuple[str, str, str]]


def run_over_input(
    inp: Input,
    pipe,
    args,
    model: LoadedModel,
    consume: Callable[[list[str], np.ndarray], None],
    *,
    desc: str,
) -> RunResult:
    """Feed the network input of every readable record of ``inp`` to ``consume`` in batches.

    ``consume(ids, X)`` receives the record ids and the network input ``(n, n_leads,
    n_times)`` of each batch, in INPUT order; records that fail are collected instead.
    """
    dataset = inp.dataset
    pipe = fit_on_first_record(dataset, pipe, model)
    prepare = PrepareBatch(pipe, n_leads=model.n_leads, n_times=model.n_times,
                           min_times=model.min_times)
    ids = [str(i) for i in dataset.ids]
    paths = record_paths(dataset)
    failures = list(inp.failures)
    done = 0
    with tqdm(total=len(dataset), unit="ECG", desc=desc, disable=args.quiet, file=sys.stderr,
              dynamic_ncols=True) as bar:
        for batch in iter_batches(dataset, prepare, batch_size=args.batch_size, jobs=args.jobs):
            if batch.X is not None:
                consume([ids[i] for i in batch.indices], batch.X)
                done += len(batch.indices)
            failures.extend((ids[i], paths[i], reason) for i, reason in batch.failures)
            bar.update(batch.size)
    failures.sort(key=lambda failure: failure[1])  # by path, as the records are found
    return RunResult(inp.n_records, done, failures)
