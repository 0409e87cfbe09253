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
