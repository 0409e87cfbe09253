"""Exit codes and the error that turns into an argparse-style message."""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAILURES = 1  # finished, but some records could not be processed
EXIT_USAGE = 2  # bad command line or unusable input: nothing (useful) was done
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report Ctrl-C


class CLIError(Exception):
    """A usage or input problem, reported as ``ecgsk <command>: error: <message>`` (exit 2).

    Examples
    --------
    >>> str(CLIError("INPUT data/ does not exist"))
    'INPUT data/ does not exist'
    """
