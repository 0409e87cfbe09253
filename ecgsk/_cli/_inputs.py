"""Open INPUT (a folder of records, one record, a ``.npy`` array or a converted store) and
decide how its records become network input."""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..leads import canonical_lead_names
from ._errors import CLIError

if TYPE_CHECKING:
    from ._models import LoadedModel


@dataclass
class Input:
    """INPUT opened lazily, with what is known about it.

    Attributes
    ----------
    dataset : ECGDataset
        The readable records (items before the CLI's preprocessing).
    kind : {"npy", "zarr", "records"}
    path : Path
    failures : list of (record_id, path, reason)
        Records left out when INPUT was opened (unreadable header, truncated file,
        other leads or length than the first record, not an ECG).
    store_preprocessing : str or None
        For a store written by ``ecgsk.io.convert`` (or ``ecgsk preprocess``) with a
        preprocessing: the ``repr`` of the preprocessing applied then.
    """

    dataset: object
    kind: str
    path: Path
    failures: list[tuple[str, str, str]] = field(default_factory=list)
    store_preprocessing: str | None = None

    @property
    def n_records(self) -> int:
        """Records found, readable or not."""
        return len(self.dataset) + len(self.failures)


def input_kind(path: Path) -> str:
    """``"npy"``, ``"zarr"`` (a folder holding ``zarr.json``) or ``"records"``."""
    if path.suffix.lower() == ".npy" and path.is_file():
        return "npy"
    if path.is_dir() and any((path / m).exists() for m in ("zarr.json", ".zgroup", ".zarray")):
        return "zarr"
    return "records"


def store_preprocessing(path: Path) -> str | None:
    """The preprocessing recorded in a store's attributes by ``ecgsk.io.convert``, if any.

    ``convert`` (and so ``ecgsk preprocess``) stores the full ``repr`` of the
    preprocessing it applied; its signals are then not preprocessed again.
    """
    from ..io._convert import PREPROCESSING_ATTR

    meta = path / "zarr.json"
    if not meta.is_file():
        return None
    try:
        attrs = json.loads(meta.read_text()).get("attributes", {})
    except (OSError, ValueError):
        return None
    value = attrs.get(PREPROCESSING_ATTR)
    return value if isinstance(value, str) else None


def _failure(path, reason) -> tuple[str, str, str]:
    p = Path(str(path))
    suffixes = (".hea", ".xml", ".dat", ".mat", ".dcm", ".dicom", ".scp")
    record_id = p.stem if p.suffix.lower() in suffixes else p.name
    return record_id, str(path), str(reason)


def _open_records(path: Path, **kwargs):
    """``ECGDataset`` over a folder, leaving out (and returning) records it cannot open.

    ECGDataset reads its first record when it is built; if the first records cannot be
    read, they are set aside with their reasons and the dataset is built from the rest.
    """
    from ..datasets import ECGDataset
    from ..io._items import find_record_files, read_record

    def build(source):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # the skipped files are reported
            ds = ECGDataset(source, errors="skip", **kwargs)
        return ds, [_failure(p, r) for p, r in
                    zip(ds.failures["path"], ds.failures["reason"], strict=True)]

    try:
        return build(path)
    except ValueError:
        files = find_record_files(path)
        dropped = []
        for file in files:
            try:
                read_record(file)
                break
            except (ValueError, OSError) as exc:
                dropped.append(_failure(file, exc))
        if not dropped or len(dropped) == len(files):
            raise
    ds, failures = build(files[len(dropped):])
    return ds, dropped + failures


class RecordFiles:
    """The records of a folder read one at a time, each keeping its own length.

    For a model whose preprocessing crops to a fixed length (or whose network checks each
    record's length after preprocessing), records need not share the first record's length:
    each is read, reordered to the reference record's leads and resampled to its rate, and its
    length is judged after the preprocessing, record by record.

    Parameters
    ----------
    files : list of Path
        The record files, in order.
    spec : ItemSpec
        How a record becomes an item (lead order, rate); ``any_length`` is set.
    """

    def __init__(self, files, spec):
        from ..io._items import record_ids

        self.files = [str(f) for f in files]
        self.spec = spec
        self.ids = record_ids([Path(f) for f in files])
        self.meta = pd.DataFrame({"id": self.ids, "path": self.files})
        self.leads, self.sfreq = spec.leads, spec.sfreq
        self.shape = (len(self.files), len(spec.leads), int(spec.n_times))

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, i):
        return self.spec.read(self.files[i])[0]


def _open_any_length(path: Path, *, sfreq=None, n_times=None, any_length=True, verify=True):
    from ..io._items import find_record_files, find_reference

    files = find_record_files(path)
    ref = find_reference(files, sfreq=sfreq, n_times=n_times, verify=verify)
    if ref.index is None:
        raise ValueError(f"none of its {len(files)} record file(s) can be read: "
                         + "; ".join(reason for _, reason in ref.failures[:3]))
    ref.spec.any_length = any_length
    failures = [_failure(p, reason) for p, reason in ref.failures]
    return RecordFiles(files[ref.index:], ref.spec), failures


def open_input(path, *, sfreq=None, leads=None, resample_to=None, n_times=None,
               any_length: bool = False, verify: bool = True, what: str = "INPUT") -> Input:
    """Open INPUT lazily as an :class:`ecgsk.datasets.ECGDataset`.

    Parameters
    ----------
    path : str or Path
        A folder of WFDB/XML/DICOM/SCP records, one record file, a ``.npy`` array ``(n, n_leads,
        n_times)`` or a store written by ``ecgsk preprocess``.
    sfreq : float, optional
        Sampling rate of a ``.npy`` array (required for one; refused for the others).
    leads : list of str, optional
        Lead names of a ``.npy`` array.
    resample_to : float, optional
        Resample records (folder or store) to this rate as they are read.
    n_times : int, optional
        Crop or pad records (folder or store) to this length as they are read.
    any_length : bool, default=False
        Records of a folder keep their own lengths (:class:`RecordFiles`) instead of having to
        match the first record's.
    verify : bool, default=True
        Check the records' checksums (``--no-checksum`` turns it off).
    what : str
        How messages name the argument.

    Returns
    -------
    Input

    Raises
    ------
    CLIError
        If the path does not exist, holds no record, or the options do not suit it.

    Examples
    --------
    >>> open_input("no/such/folder")
    Traceback (most recent call last):
    ...
    ecgsk._cli._errors.CLIError: INPUT no/such/folder does not exist
    """
    from ..datasets import ECGDataset

    p = Path(path)
    if not p.exists():
        if not p.with_name(p.name + ".hea").is_file():
            raise CLIError(f"{what} {p} does not exist")
        p = p.with_name(p.name + ".hea")  # a WFDB record named without its extension
    kind = input_kind(p)
    if kind == "npy":
        if sfreq is None:
            raise CLIError(f"{what} {p} is a .npy array: give its sampling rate with --sfreq")
        if n_times is not None:
            raise CLIError(f"--n-times is for records and stores; {what} {p} is a .npy array")
    else:
        for option, value in (("--sfreq", sfreq), ("--leads", leads)):
            if value is not None:
                raise CLIError(f"{option} is only for .npy input; {what} {p} records its own")
    try:
        if kind == "npy":
            return Input(ECGDataset(p, sfreq=sfreq, leads=leads), kind, p)
        if kind == "zarr":
            ds = ECGDataset(p, sfreq=resample_to, n_times=n_times)
            return Input(ds, kind, p, store_preprocessing=ds.store_preprocessing)
        if any_length or not verify:
            ds, failures = _open_any_length(p, sfreq=resample_to, n_times=n_times,
                                            any_length=any_length, verify=verify)
        else:
            ds, failures = _open_records(p, sfreq=resample_to, n_times=n_times)
        return Input(ds, kind, p, failures)
    except (ValueError, OSError, TypeError) as exc:
        raise CLIError(f"{what} {p} cannot be opened: {exc}") from None


def record_paths(dataset) -> list[str]:
    """A path (or the id) per record, for failure reports."""
    meta = getattr(dataset, "meta", None)
    ids = [str(i) for i in dataset.ids]
    if meta is not None and "path" in meta and len(meta) == len(ids):
        return [str(p) for p in meta["path"]]
    return ids


def _same_leads(a, b) -> bool:
    try:
        return canonical_lead_names(list(a)) == canonical_lead_names(list(b))
    except ValueError:
        return tuple(a) == tuple(b)


def _fmt(rate) -> str:
    return "an unknown rate" if rate is None else f"{rate:g} Hz"


def check_matches(inp: Input, model: LoadedModel, *, why: str, what: str = "INPUT") -> None:
    """Raise :class:`CLIError` naming every way INPUT differs from the network input."""
    ds = inp.dataset
    _, n_leads, n_times = (int(v) for v in ds.shape)
    rate = None if ds.sfreq is None else float(ds.sfreq)
    problems = []
    if model.sfreq is not None and rate is not None and rate != model.sfreq:
        problems.append(f"sampling rate {_fmt(rate)} instead of {model.sfreq:g} Hz")
    if n_leads != model.n_leads:
        problems.append(f"{n_leads} leads instead of {model.n_leads}")
    elif model.leads and ds.leads is not None and not _same_leads(ds.leads, model.leads):
        problems.append(f"leads {list(ds.leads)} instead of {list(model.leads)}")
    if model.n_times is not None and n_times != model.n_times:
        problems.append(f"{n_times} samples per lead instead of {model.n_times}")
    elif n_times < model.min_times:
        problems.append(f"{n_times} samples per lead, fewer than the {model.min_times} needed")
    if problems:
        raise CLIError(
            f"{what} does not match the model ({model.path} needs {model.describe_input()}): "
            + "; ".join(problems) + f", and {why}. Bring it to that form first, e.g. with "
            "ecgsk preprocess (--sfreq-out, --n-times, --deepecg)"
        )


def _tell_leads(pipe, leads, fill_missing=None) -> None:
    """Give the lead step of ``pipe`` the lead names of INPUT (and ``--fill-missing``)."""
    from ..preprocessing._introspection import lead_step

    step = lead_step(pipe)
    if step is not None and leads is not None:
        step.set_params(input_leads=list(leads))
    if step is not None and fill_missing is not None:
        step.set_params(fill_missing=fill_missing)


def _judged_per_record(pipe, model: LoadedModel) -> bool:
    """Whether each record's length can be judged on its own, after ``pipe``.

    True when the preprocessing crops (or pads) to a fixed length, or the network needs a
    fixed length (a record that does not reach it is then a failure of its own); the length of
    the first record then says nothing about the others.
    """
    from ..preprocessing import CropOrPad
    from ..preprocessing._introspection import active_steps

    crops = any(isinstance(step, CropOrPad) for step in active_steps(pipe))
    return crops or model.n_times is not None


def _fit_on_items(pipe, dataset, n_records: int = 256) -> int:
    """Fit ``pipe`` (the cohort amplitude gain) on the first readable items of ``dataset``.

    Items are cut to the shortest one's length. Returns the fitted pipeline with what it
    learned written into its parameters (so that fitting it again learns nothing) and how many
    records it was learned on.
    """
    import numpy as np

    from ..preprocessing import freeze_learned

    items = []
    for i in range(len(dataset)):
        try:
            items.append(np.asarray(dataset[i]))
        except (ValueError, OSError):
            continue
        if len(items) == n_records:
            break
    if not items:
        raise CLIError("no record of INPUT can be read to learn the amplitude gain from")
    n_times = min(x.shape[-1] for x in items)
    try:
        pipe.fit(np.stack([x[..., :n_times] for x in items]))
    except ValueError as exc:
        raise CLIError(f"the preprocessing cannot be fitted on INPUT's records: {exc}") from None
    return freeze_learned(pipe), len(items)


def open_for_model(args, model: LoadedModel, *, make_pipeline=None, what: str = "INPUT"):
    """Open ``args.input`` and return ``(Input, preprocessing or None, notes)``.

    ``make_pipeline(sfreq)``, when given, builds the preprocessing for INPUT's own rate
    (``embed --deepecg``) in place of the model card's.

    - A store written by ``ecgsk preprocess`` with a preprocessing, or ``--no-preprocessing``:
      INPUT must already be the network input.
    - A model card with a preprocessing: records are resampled, as they are read, to the rate
      the preprocessing starts from, and its lead step is told INPUT's lead names (any order,
      or a subset from which the limb leads are derived, works).
    - Otherwise INPUT must match the network input.
    """
    from ..preprocessing._introspection import pipeline_rates

    notes: list[str] = []
    fill = getattr(args, "fill_missing", None)
    verify = not getattr(args, "no_checksum", False)
    path = Path(args.input)
    kind = input_kind(path) if path.exists() else "records"
    n_times = getattr(args, "n_times", None)
    stored = store_preprocessing(path) if kind == "zarr" else None
    wanted = make_pipeline is not None or model.preprocessing is not None
    if wanted and stored is not None and not args.no_preprocessing:
        notes.append(f"{what} was preprocessed when it was converted; it is not preprocessed "
                     "again")
    skip = args.no_preprocessing or stored is not None
    if make_pipeline is not None and not skip:
        inp = open_input(path, sfreq=args.sfreq, leads=args.leads, n_times=n_times,
                         any_length=_judged_per_record(make_pipeline(250.0), model),
                         verify=verify, what=what)
        if inp.dataset.sfreq is None:
            raise CLIError(f"{what} has no recorded sampling rate")
        pipe = make_pipeline(float(inp.dataset.sfreq))
        _tell_leads(pipe, inp.dataset.leads, fill)
        pipe, n_fit = _fit_on_items(pipe, inp.dataset)
        notes.append(f"the preprocessing's amplitude gain was learned on {n_fit} record(s) of "
                     f"{what}")
        return inp, pipe, notes
    pipe = model.preprocessing
    if pipe is None or skip:
        inp = open_input(path, sfreq=args.sfreq, leads=args.leads, n_times=n_times,
                         verify=verify, what=what)
        if args.no_preprocessing:
            why = "--no-preprocessing was given"
        elif stored is not None:
            why = f"{what} was already preprocessed when converted"
        elif model.kind == "encoder":
            why = "an encoder card records no preprocessing (--deepecg applies DeepECG's)"
        else:
            why = "the model card records no preprocessing to fix that"
        check_matches(inp, model, why=why, what=what)
        return inp, None, notes
    rate_in, _ = pipeline_rates(pipe)
    inp = open_input(path, sfreq=args.sfreq, leads=args.leads, n_times=n_times,
                     resample_to=None if kind == "npy" else rate_in,
                     any_length=_judged_per_record(pipe, model), verify=verify, what=what)
    ds = inp.dataset
    _tell_leads(pipe, ds.leads, fill)
    if rate_in is not None and ds.sfreq is not None and float(ds.sfreq) != rate_in:
        from ..preprocessing import ECGPipeline, Resample

        # a .npy is read as stored: resample it in front of the card's preprocessing
        notes.append(f"{what} is resampled from {ds.sfreq:g} Hz to {rate_in:g} Hz, the input "
                     "rate of the model's preprocessing")
        pipe = ECGPipeline([("resample_input", Resample(float(ds.sfreq), rate_in)),
                            ("card", pipe)])
    return inp, pipe, notes


def fit_on_first_record(dataset, pipe, model: LoadedModel, *, what: str = "INPUT"):
    """Fit ``pipe`` once on the first readable record and check what it gives the network.

    Returns the fitted pipeline (or None). Records that fail before the first readable one
    are found again (and reported) by the batch loop.
    """
    from ._batches import GuardedItems

    if pipe is None:
        return None
    items = GuardedItems(dataset)
    first = None
    for i in range(len(items)):
        _, x, _ = items[i]
        if x is not None:
            first = x
            break
    if first is None:
        return pipe  # nothing readable: every record is reported as a failure
    try:
        pipe.fit(first[None])
        out_shape = np.shape(pipe.transform(first[None]))[1:]
    except (ValueError, TypeError) as exc:
        raise CLIError(f"the model's preprocessing does not apply to {what}: {exc}") from None
    # records of their own lengths are judged one by one: this one may be the odd one out
    per_record = getattr(getattr(dataset, "spec", None), "any_length", False)
    wrong_length = model.n_times is not None and out_shape[1] != model.n_times and not per_record
    if out_shape[0] != model.n_leads or wrong_length:
        raise CLIError(
            f"the model's preprocessing turns {what} records into {out_shape[0]} leads x "
            f"{out_shape[1]} samples, but the network needs {model.describe_input()}"
        )
    return pipe

