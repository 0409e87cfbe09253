"""Exit codes and the error that turns into an argparse-style message."""

from __future__ import annotations

import re

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


# Python keywords that library messages suggest, and the command-line flags doing the same
_KEYWORD_FLAGS = (
    (re.compile(r"fill_missing=['\"]?zeros['\"]?"), "--fill-missing zeros"),
    (re.compile(r"\bverify_checksum=False|\bverify=False"), "--no-checksum"),
    (re.compile(r"\bn_times=(?=[\s)])"), "--n-times N"),
    (re.compile(r"\bresume=False"), "--restart"),
)


def cli_hints(text: str, flags=None) -> str:
    """``text`` with the Python keywords it suggests replaced by the flags that do the same.

    A flag that the command (whose option strings are ``flags``) lacks is named with the
    commands that have it.

    Examples
    --------
    >>> cli_hints("pass fill_missing='zeros' to fill them, or n_times= to crop")
    'pass --fill-missing zeros to fill them, or --n-times N to crop'
    >>> cli_hints("(pass verify_checksum=False to read it anyway)", flags={"--restart"})
    '(pass --no-checksum (an option of ecgsk predict and embed) to read it anyway)'
    """
    for pattern, flag in _KEYWORD_FLAGS:
        name = flag.split()[0]
        if flags is not None and name not in flags:
            flag = f"{flag} (an option of ecgsk predict and embed)"
        text = pattern.sub(flag, text)
    return text
