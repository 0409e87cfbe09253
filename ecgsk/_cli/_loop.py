"""The loop shared by ``predict`` and ``embed``: prepare batches of INPUT, hand them on."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from tqdm.auto import tqdm

from ._batches import PrepareBatch, iter_batches
from ._inputs import Input, fit_on_first_record, record_paths
from ._models import LoadedModel


@dataclass
class RunResult:
    """What a pass over INPUT did."""

    n_records: int
    n_done: int
    failures: list[tuple[str, str, str]]


class _Tail:
    """The records of ``dataset`` from position ``start`` on (what a resumed run still reads)."""

    def __init__(self, dataset, start: int):
        self.dataset, self.start = dataset, int(start)

    def __len__(self) -> int:
        return max(len(self.dataset) - self.start, 0)

    def __getitem__(self, i):
        return self.dataset[self.start + i]


def run_over_input(
    inp: Input,
    pipe,
    args,
    model: LoadedModel,
    consume: Callable[[list[str], np.ndarray], list | None],
    *,
    desc: str,
    start: int = 0,
    on_batch: Callable[[int, list], None] | None = None,
) -> RunResult:
    """Feed the network input of every readable record of ``inp`` to ``consume`` in batches.

    ``consume(ids, X)`` receives the record ids and the network input ``(n, n_leads,
    n_times)`` of each batch, in INPUT order; records that fail are collected instead, and so
    are those ``consume`` refuses: it may return ``[(position in X, reason), ...]``. ``start`` skips the records an interrupted run already covered; ``on_batch(covered,
    failures)``, called after each batch has been consumed, receives how many records are
    covered so far and the failures of that batch.
    """
    dataset = inp.dataset
    pipe = fit_on_first_record(dataset, pipe, model)
    prepare = PrepareBatch(pipe, n_leads=model.n_leads, n_times=model.n_times,
                           min_times=model.min_times)
    ids = [str(i) for i in dataset.ids]
    paths = record_paths(dataset)
    failures = list(inp.failures)
    done = 0
    covered = int(start)
    with tqdm(total=len(dataset), initial=covered, unit="ECG", desc=desc, disable=args.quiet,
              file=sys.stderr, dynamic_ncols=True) as bar:
        for batch in iter_batches(_Tail(dataset, covered), prepare, batch_size=args.batch_size,
                                  jobs=args.jobs):
            indices = [start + int(i) for i in batch.indices]
            batch_failures = list(batch.failures)
            if batch.X is not None:
                # consume may refuse some records (non-finite model outputs): positions in X
                refused = consume([ids[i] for i in indices], batch.X) or []
                done += len(indices) - len(refused)
                batch_failures += [(int(batch.indices[k]), reason) for k, reason in refused]
            new = [(ids[start + i], paths[start + i], reason) for i, reason in batch_failures]
            failures.extend(new)
            covered += batch.size
            if on_batch is not None:
                on_batch(covered, new)
            bar.update(batch.size)
    failures.sort(key=lambda failure: failure[1])  # by path, as the records are found
    return RunResult(inp.n_records, done, failures)
