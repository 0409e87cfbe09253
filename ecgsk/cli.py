"""The ``ecgsk`` command: preprocess, predict, embed and evaluate over folders of ECG records,
and labels from report text.

Run ``ecgsk --help`` or ``ecgsk COMMAND --help``; ``python -m ecgsk`` works too.

- ``ecgsk preprocess INPUT OUT.zarr [--deepecg | --sfreq-out HZ --n-times N] [--jobs N]``
- ``ecgsk predict MODEL INPUT --out preds.csv``
- ``ecgsk embed ENCODER_OR_MODEL INPUT --out emb.npy``
- ``ecgsk evaluate PREDS.csv LABELS.csv [--by sex,age] [--out report.csv]``
- ``ecgsk labels REPORTS.csv --column TEXT --out labels.csv [--id ecg_id]``

Exit codes: 0 success; 1 finished, but some records failed (listed on stderr and in a
``*.failures.csv`` file); 2 bad command line or unusable input (a message, no traceback);
3 unexpected error (a traceback: please report it); 130 interrupted (Ctrl-C).
"""

from __future__ import annotations

import argparse
import sys
import traceback

from ._cli import _embed, _evaluate, _labels, _predict, _preprocess
from ._cli._errors import EXIT_INTERRUPTED, EXIT_USAGE, CLIError, cli_hints
from ._version import __version__

EXIT_BUG = 3

_EPILOG = """\
examples:
  ecgsk preprocess cohort/ cohort.zarr --deepecg --jobs 4
  ecgsk predict models/deepecg cohort.zarr --out preds.csv
  ecgsk embed models/ssl-encoder cohort/ --out emb.npy
  ecgsk evaluate preds.csv labels.csv --by sex,age --out report.csv
  ecgsk labels reports.csv --column report --id ecg_id --out labels.csv

exit codes: 0 ok; 1 finished but some records failed (see <out>.failures.csv);
2 usage or input error; 3 unexpected error; 130 interrupted.
"""


def build_parser() -> tuple[argparse.ArgumentParser, dict[str, argparse.ArgumentParser]]:
    """The ``ecgsk`` argument parser and its subcommand parsers by name.

    Examples
    --------
    >>> parser, commands = build_parser()
    >>> sorted(commands)
    ['embed', 'evaluate', 'labels', 'predict', 'preprocess']
    """
    parser = argparse.ArgumentParser(
        prog="ecgsk",
        description="12-lead ECG deep learning from the command line: convert folders of "
                    "records, run saved models over them, evaluate the predictions.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"ecgsk {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    commands = {}
    for module in (_preprocess, _predict, _embed, _evaluate, _labels):
        sub = module.add_parser(subparsers)
        commands[sub.prog.split()[-1]] = sub
    return parser, commands


def main(argv=None) -> int:
    """Run the ``ecgsk`` command with ``argv`` (default: ``sys.argv[1:]``); return the exit code.

    Parameters
    ----------
    argv : list of str, optional
        The arguments after the program name.

    Returns
    -------
    int
        0 success, 1 some records failed, 2 usage or input error, 3 unexpected error,
        130 interrupted.

    Examples
    --------
    >>> main(["predict", "no/such/model", "no/such/input", "--out", "preds.csv"])
    2
    """
    parser, commands = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, or a usage error already printed
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else EXIT_USAGE)
    command = commands[args.command]
    try:
        return int(args.run(args))
    except CLIError as exc:
        command.print_usage(sys.stderr)
        flags = set(command._option_string_actions)
        print(f"{command.prog}: error: {cli_hints(str(exc), flags)}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(f"\n{command.prog}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception:
        traceback.print_exc()
        print(f"{command.prog}: unexpected error (please report it with the traceback above)",
              file=sys.stderr)
        return EXIT_BUG


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
