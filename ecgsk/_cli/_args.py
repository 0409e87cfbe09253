"""The command-line arguments shared by the subcommands (argparse only: nothing heavy)."""

from __future__ import annotations

import argparse
import math
import sys
import textwrap


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
    return checked_value(text, float, lambda v: math.isfinite(v) and v > 0,
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
    group.add_argument("--fill-missing", choices=("zeros",), metavar="zeros",
                       help="fill leads that INPUT lacks (and that cannot be derived from I and "
                            "II) with zeros instead of failing, e.g. a 2-lead Holter record")
    group.add_argument("--no-checksum", action="store_true",
                       help="read records whose WFDB checksums do not match instead of failing "
                            "them")
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
