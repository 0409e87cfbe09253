"""Output files: rows streamed to a temporary file and renamed when complete, failure logs."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from ._errors import CLIError, cli_hints

FAILURE_COLUMNS = ("record_id", "path", "reason")
_SHOWN_FAILURES = 20


def sibling(out: Path, tag: str, suffix: str = ".csv") -> Path:
    """``preds.csv`` -> ``preds.<tag>.csv``: a file written next to an output.

    Examples
    --------
    >>> sibling(Path("out/preds.csv"), "failures").as_posix()
    'out/preds.failures.csv'
    """
    return out.with_name(f"{out.stem}.{tag}{suffix}")


def check_output(path, *, suffixes: tuple[str, ...], what: str = "--out") -> Path:
    """Check that ``path`` has one of ``suffixes`` and that its folder exists."""
    out = Path(path)
    if out.suffix.lower() not in suffixes:
        raise CLIError(f"{what} {out} must end with {' or '.join(suffixes)}")
    if not out.parent.exists():
        raise CLIError(f"{what} {out}: folder {out.parent} does not exist")
    if out.is_dir():
        raise CLIError(f"{what} {out} is a folder")
    return out


class _StagedFile:
    """An output written under a temporary name; ``commit`` gives it its final name.

    Leaving the ``with`` block without ``commit`` removes the temporary file, so that an
    interrupted run leaves no half-written file under the final name.
    """

    def __init__(self, path: Path, tmp_suffix: str):
        self.path = Path(path)
        self.tmp = self.path.with_name(self.path.name + tmp_suffix)
        self.rows = 0
        self._committed = False

    def __enter__(self):
        self.tmp.unlink(missing_ok=True)
        return self

    def __exit__(self, *exc):
        if not self._committed:
            self.tmp.unlink(missing_ok=True)
        return False


class CsvStream(_StagedFile):
    """Append DataFrames to ``path`` through a temporary file; ``commit`` renames it.

    An interrupted run leaves no half-written file under the final name.

    Examples
    --------
    >>> import tempfile, pandas as pd
    >>> path = Path(tempfile.mkdtemp()) / "rows.csv"
    >>> with CsvStream(path) as out:
    ...     out.write(pd.DataFrame({"a": [1.5]}))
    ...     out.write(pd.DataFrame({"a": [2.0]}))
    ...     out.commit()
    >>> path.read_text().split()
    ['a', '1.5', '2']
    """

    def __init__(self, path: Path, float_format: str = "%.8g"):
        super().__init__(path, ".partial")
        self.float_format = float_format
        self._header = True

    def write(self, frame: pd.DataFrame) -> None:
        frame.to_csv(self.tmp, mode="a", header=self._header, index=False,
                     float_format=self.float_format)
        self._header = False
        self.rows += len(frame)

    def commit(self, empty_columns=None) -> None:
        if self._header:  # nothing written: still leave a CSV with the header
            pd.DataFrame(columns=list(empty_columns or [])).to_csv(self.tmp, index=False)
        os.replace(self.tmp, self.path)
        self._committed = True


class ResumableCsv(CsvStream):
    """A :class:`CsvStream` that an interrupted run continues instead of starting over.

    After every batch, :meth:`checkpoint` records (atomically, in ``<out>.progress.json``)
    how many records are covered, the size of the rows written so far and the failures. When
    a run stops before :meth:`commit` (Ctrl-C, a crash, a killed job) the partial file and its
    progress stay; the same command then resumes after the last checkpoint, provided the
    ``fingerprint`` (model, input, options) is the same. ``restart=True`` starts over.

    Examples
    --------
    >>> import tempfile, pandas as pd
    >>> path = Path(tempfile.mkdtemp()) / "preds.csv"
    >>> try:
    ...     with ResumableCsv(path, {"model": "m"}) as out:
    ...         out.write(pd.DataFrame({"a": [1]}))
    ...         out.checkpoint(1, [])
    ...         raise KeyboardInterrupt
    ... except KeyboardInterrupt:
    ...     pass
    >>> with ResumableCsv(path, {"model": "m"}) as out:
    ...     start = out.covered
    ...     out.write(pd.DataFrame({"a": [2]}))
    ...     out.commit()
    >>> start, path.read_text().split()
    (1, ['a', '1', '2'])
    """

    def __init__(self, path: Path, fingerprint: dict, *, restart: bool = False):
        super().__init__(path)
        self.progress = self.path.with_name(self.path.name + ".progress.json")
        self.fingerprint = json.loads(json.dumps(fingerprint))
        self.restart = restart
        self.covered = 0
        self.failures: list[tuple[str, str, str]] = []
        self._bytes = 0

    def _saved(self) -> dict | None:
        if self.restart or not (self.progress.is_file() and self.tmp.is_file()):
            return None
        try:
            state = json.loads(self.progress.read_text())
            state["covered"], state["bytes"] = int(state["covered"]), int(state["bytes"])
        except (OSError, ValueError, KeyError, TypeError):
            return None  # a damaged progress file: start over
        if state.get("fingerprint") != self.fingerprint:
            raise CLIError(
                f"{self.tmp} is an interrupted run with another model, input or options; run "
                "the same command to resume it, or pass --restart to start over"
            )
        return state

    def __enter__(self):
        state = self._saved()
        if state is None or self.tmp.stat().st_size < state["bytes"]:
            self.tmp.unlink(missing_ok=True)
            self.progress.unlink(missing_ok=True)
            return self
        with open(self.tmp, "r+b") as f:  # rows written after the last checkpoint go
            f.truncate(state["bytes"])
        self.covered, self._bytes = state["covered"], state["bytes"]
        self.rows = int(state.get("rows", 0))
        self.failures = [tuple(f) for f in state.get("failures", [])]
        self._header = self._bytes == 0
        return self

    def checkpoint(self, covered: int, failures) -> None:
        """Record that the first ``covered`` records are done (``failures`` among them)."""
        self.covered = int(covered)
        self.failures.extend(tuple(f) for f in failures)
        self._bytes = self.tmp.stat().st_size if self.tmp.exists() else 0
        state = {"fingerprint": self.fingerprint, "covered": self.covered, "bytes": self._bytes,
                 "rows": self.rows, "failures": [list(f) for f in self.failures]}
        staged = self.progress.with_name(self.progress.name + ".tmp")
        staged.write_text(json.dumps(state))
        os.replace(staged, self.progress)

    def commit(self, empty_columns=None) -> None:
        super().commit(empty_columns)
        self.progress.unlink(missing_ok=True)

    def __exit__(self, *exc):
        if not self._committed and self.covered == 0:
            self.tmp.unlink(missing_ok=True)
            self.progress.unlink(missing_ok=True)
        return False


class NpyRows(_StagedFile):
    """Write rows of a 2-D float32 array to ``path`` (``.npy``) without holding them all.

    Rows go to a memory-mapped temporary file sized for ``capacity`` rows; ``commit`` keeps the
    rows written (copying them when fewer than ``capacity``) and renames.

    Examples
    --------
    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "emb.npy"
    >>> with NpyRows(path, capacity=3) as out:
    ...     out.write(np.ones((2, 4), np.float32))
    ...     out.commit()
    >>> np.load(path).shape
    (2, 4)
    """

    def __init__(self, path: Path, capacity: int):
        super().__init__(path, ".partial.npy")
        self.capacity = capacity
        self._array = None

    def write(self, rows: np.ndarray) -> None:
        if self._array is None:
            self._array = np.lib.format.open_memmap(
                self.tmp, mode="w+", dtype=np.float32, shape=(self.capacity, rows.shape[1]))
        self._array[self.rows : self.rows + len(rows)] = rows
        self.rows += len(rows)

    def commit(self) -> None:
        if self._array is None:
            np.save(self.path, np.zeros((0, 0), np.float32))
        elif self.rows == self.capacity:
            self._array.flush()
            self._array = None
            os.replace(self.tmp, self.path)
        else:
            final = np.lib.format.open_memmap(
                self.path, mode="w+", dtype=np.float32, shape=(self.rows, self._array.shape[1]))
            step = 65536
            for start in range(0, self.rows, step):
                stop = min(start + step, self.rows)
                final[start:stop] = self._array[start:stop]
            final.flush()
            del final
            self._array = None
            self.tmp.unlink(missing_ok=True)
        self._committed = True

    def __exit__(self, *exc):
        self._array = None  # release the memory map before the file can be removed
        return super().__exit__(*exc)


def failure_line(source: str, reason: str) -> str:
    """``"<file>: <reason>"``, without naming the file twice when the reason already does.

    Examples
    --------
    >>> failure_line("a/r1.hea", "WFDB record a/r1: data file a/r1.dat is truncated")
    'WFDB record a/r1: data file a/r1.dat is truncated'
    >>> failure_line("a/r2.xml", "not an ECG")
    'a/r2.xml: not an ECG'
    """
    base = str(Path(source).with_suffix("")) if Path(source).suffix else source
    return reason if base in reason else f"{source}: {reason}"


def report_failures(failures: list[tuple[str, str, str]], path: Path, *, prog: str,
                    flags=None) -> None:
    """List failed records on stderr (the first few) and write them all to ``path``.

    A stale failure file from an earlier run is removed when nothing failed. Hints in the
    reasons name the command's flags (``flags``: its option strings), not Python keywords.
    """
    if not failures:
        path.unlink(missing_ok=True)
        return
    failures = [(rid, source, cli_hints(reason, flags)) for rid, source, reason in failures]
    pd.DataFrame(failures, columns=list(FAILURE_COLUMNS)).to_csv(path, index=False)
    print(f"{prog}: {len(failures)} record(s) failed and were skipped:", file=sys.stderr)
    for _, source, reason in failures[:_SHOWN_FAILURES]:
        print(f"  {failure_line(source, reason)}", file=sys.stderr)
    if len(failures) > _SHOWN_FAILURES:
        print(f"  ... and {len(failures) - _SHOWN_FAILURES} more", file=sys.stderr)
    print(f"{prog}: failures written to {path}", file=sys.stderr)
