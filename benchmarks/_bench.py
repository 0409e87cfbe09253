"""What the timed benchmarks share: the machine line, interleaved timing, Markdown tables.

Imports no torch, so that a benchmark parent process that only launches children (``scale.py``)
stays small.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import time
from collections.abc import Callable, Iterator, Sequence
from importlib.metadata import version

import numpy as np


def cpu_name() -> str:
    """The CPU model from ``/proc/cpuinfo`` (the architecture where that is not readable)."""
    try:
        with open("/proc/cpuinfo") as f:
            return next(line.split(":", 1)[1].strip() for line in f if "model name" in line)
    except (OSError, StopIteration):
        return platform.machine()


def machine_line(*, gpu: str | None = None, threads: int | None = None,
                 packages: Sequence[str] = ("torch",)) -> str:
    """When and where a benchmark ran: date, CPUs, GPU, torch threads, load, versions.

    Examples
    --------
    >>> line = machine_line(threads=2, packages=("numpy",))
    >>> "UTC" in line and "torch threads 2" in line and "numpy" in line
    True
    """
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    line = (f"{dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} CPUs "
            f"({cpu_name()})")
    if gpu:
        line += f", GPU {gpu}"
    if threads is not None:
        line += f", torch threads {threads}"
    line += f", load average {load}"
    for package in packages:
        line += f", {package} {version(package)}"
    return line + f", Python {platform.python_version()}"


def interleaved(first, second, repeats: int) -> Iterator[tuple[int, object]]:
    """``(repeat, item)`` for both items each repeat, the order flipped every other repeat.

    Alternating (first, second, second, first, ...) spreads the drifting load of a shared
    machine evenly over the two sides of a comparison.

    Examples
    --------
    >>> [item for _, item in interleaved("a", "b", 3)]
    ['a', 'b', 'b', 'a', 'a', 'b']
    """
    for r in range(repeats):
        for item in ((first, second) if r % 2 == 0 else (second, first)):
            yield r, item


def time_pair(run_first: Callable[[], object], run_second: Callable[[], object], repeats: int,
              sync: Callable[[], None] = lambda: None) -> tuple[np.ndarray, np.ndarray]:
    """Seconds of each call of ``run_first`` and ``run_second``, called :func:`interleaved`.

    ``sync`` runs just before and after each timed call (e.g. ``torch.cuda.synchronize``).

    Examples
    --------
    >>> first, second = time_pair(lambda: sum(range(1000)), lambda: None, repeats=2)
    >>> first.shape, second.shape
    ((2,), (2,))
    """
    seconds: dict[int, list[float]] = {0: [], 1: []}
    for _, which in interleaved(0, 1, repeats):
        sync()
        t0 = time.perf_counter()
        (run_first if which == 0 else run_second)()
        sync()
        seconds[which].append(time.perf_counter() - t0)
    return np.array(seconds[0]), np.array(seconds[1])


def print_table(columns: Sequence[str], rows) -> None:
    """Print a Markdown table: the first column left-aligned, the others (numbers) right.

    Examples
    --------
    >>> print_table(["model", "ECGs/s"], [("a", f"{12.345:.1f}")])
    | model | ECGs/s |
    |---|---:|
    | a | 12.3 |
    """
    print("| " + " | ".join(columns) + " |")
    print("|---|" + "---:|" * (len(columns) - 1))
    for row in rows:
        print("| " + " | ".join(str(cell) for cell in row) + " |")
