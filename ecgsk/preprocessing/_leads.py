"""Put the leads of a batch in a given order, deriving or filling missing ones."""

from __future__ import annotations

import numpy as np

from ..leads import DERIVABLE_LEADS, STANDARD_12, canonical_lead_names, derive_limb_leads
from ._base import BaseECGStep

_FILL_OPTIONS = (None, "zeros")


class ReorderLeads(BaseECGStep):
    """Map the leads of a batch onto a target order (by default :data:`~ecgsk.leads.STANDARD_12`).

    Input names are matched whatever their case or usual spelling (``"AVR"``,
    ``"avr"``, ``"MLII"``, ``"C1"``: see :func:`ecgsk.leads.canonical_lead_name`).
    A missing III, aVR, aVL or aVF is computed from leads I and II
    (Einthoven's and Goldberger's laws, :func:`ecgsk.leads.derive_limb_leads`);
    an inverted ``-aVR`` (Cabrera display) gives aVR by sign change. Any other
    missing lead is an error unless ``fill_missing="zeros"``. Input leads that
    the output does not ask for are dropped.

    Parameters
    ----------
    input_leads : sequence of str or None, default=None
        Names of the leads of ``X``, in the order of its axis 1. ``None``
        means ``X`` is already in ``output_leads`` order (only the lead count
        is checked, and the transform returns its input unchanged).
    output_leads : sequence of str, default=STANDARD_12
        The lead order to produce.
    derive_limb : bool, default=True
        Compute missing III, aVR, aVL, aVF from I and II.
    fill_missing : {None, "zeros"}, default=None
        ``"zeros"`` fills leads that can be neither found nor derived with
        zeros (recorded in ``filled_leads_``); ``None`` raises instead.

    Attributes
    ----------
    n_leads_in_ : int
        Number of leads seen in ``fit``.
    n_times_in_ : int
        Number of samples per lead seen in ``fit``.
    output_leads_ : tuple of str
        The canonical output lead names.
    derived_leads_ : tuple of str
        Output leads computed from I and II.
    filled_leads_ : tuple of str
        Output leads filled with zeros.

    Notes
    -----
    The transform is idempotent: applying ``ReorderLeads(output_leads=L)`` to
    the output of ``ReorderLeads(input_leads=..., output_leads=L)`` changes
    nothing. When the input is already in the output order, no copy is made.

    Examples
    --------
    >>> import numpy as np
    >>> from ecgsk.preprocessing import ReorderLeads
    >>> X = np.zeros((1, 8, 10), dtype="float32")
    >>> X[:, 0], X[:, 1] = 1.0, 3.0  # leads I and II
    >>> names = ["i", "II", "V1", "V2", "V3", "V4", "V5", "V6"]
    >>> reorder = ReorderLeads(input_leads=names).fit(X)
    >>> reorder.derived_leads_
    ('III', 'aVR', 'aVL', 'aVF')
    >>> reorder.transform(X)[0, :6, 0].tolist()
    [1.0, 3.0, 2.0, -2.0, -0.5, 2.5]
    """

    def __init__(self, input_leads=None, output_leads=STANDARD_12, derive_limb=True, fill_missing=None):
        self.input_leads = input_leads
        self.output_leads = output_leads
        self.derive_limb = derive_limb
        self.fill_missing = fill_missing

    def _validate_params(self):
        if isinstance(self.output_leads, str) or isinstance(self.input_leads, str):
            raise TypeError("input_leads and output_leads must be sequences of lead names, not one string")
        if self.fill_missing not in _FILL_OPTIONS:
            raise ValueError(f"fill_missing must be None or 'zeros', got {self.fill_missing!r}")
        if not isinstance(self.derive_limb, (bool, np.bool_)):
            raise TypeError(f"derive_limb must be True or False, got {self.derive_limb!r}")
        out = canonical_lead_names(self.output_leads)
        if not out:
            raise ValueError("output_leads is empty")
        inp = () if self.input_leads is None else canonical_lead_names(self.input_leads)
        unknown = [name for name in out if name not in STANDARD_12 and name not in inp]
        if unknown:
            raise ValueError(
                f"unknown lead names in output_leads: {unknown}. Known leads are {list(STANDARD_12)} "
                "(any case); other names must also appear in input_leads"
            )

    def _plan(self, n_leads: int):
        """Return ``(sources, derived, filled)``: for each output lead, how to get it."""
        out = canonical_lead_names(self.output_leads)
        if self.input_leads is None:
            if n_leads != len(out):
                raise ValueError(
                    f"X has {n_leads} leads but output_leads has {len(out)}; pass input_leads= with "
                    "the names of the leads of X so they can be matched"
                )
            return [("copy", i) for i in range(n_leads)], (), ()
        inp = canonical_lead_names(self.input_leads)
        if len(inp) != n_leads:
            raise ValueError(
                f"X has {n_leads} leads but input_leads names {len(inp)}: {list(self.input_leads)}"
            )
        position = {name: i for i, name in enumerate(inp)}
        can_derive = bool(self.derive_limb) and "I" in position and "II" in position
        sources, derived, filled, missing = [], [], [], []
        for name in out:
            if name in position:
                sources.append(("copy", position[name]))
            elif name == "aVR" and "-aVR" in position:
                sources.append(("negate", position["-aVR"]))
            elif can_derive and name in DERIVABLE_LEADS:
                sources.append(("derive", name))
                derived.append(name)
            elif self.fill_missing == "zeros":
                sources.append(("zeros", None))
                filled.append(name)
            else:
                missing.append(name)
        if missing:
            msg = f"leads {missing} are missing from X (input leads: {list(inp)})"
            if any(name in DERIVABLE_LEADS for name in missing):
                msg += (
                    "; III, aVR, aVL and aVF can be derived from I and II"
                    + (" (derive_limb=False)" if not self.derive_limb else ", which X does not both have")
                )
            unrecognised = [name for name in inp if name not in STANDARD_12 and name != "-aVR"]
            if unrecognised:
                msg += f"; these input lead names were not recognised: {unrecognised}"
            msg += ". Pass fill_missing='zeros' to fill missing leads with zeros."
            raise ValueError(msg)
        return sources, tuple(derived), tuple(filled)

    def _output_shape(self, n_leads, n_times):
        self._plan(n_leads)
        return len(self.output_leads), n_times

    def _fit_shape(self, n_leads, n_times):
        super()._fit_shape(n_leads, n_times)
        _, self.derived_leads_, self.filled_leads_ = self._plan(n_leads)
        self.output_leads_ = canonical_lead_names(self.output_leads)
        return self

    def _chunk_kernel(self, n_ecgs, n_leads, n_times):
        sources, derived, _ = self._plan(n_leads)
        if sources == [("copy", i) for i in range(n_leads)]:
            return None  # already in order: identity, no copy
        copies = [(j, src) for j, (kind, src) in enumerate(sources) if kind == "copy"]
        negated = [(j, src) for j, (kind, src) in enumerate(sources) if kind == "negate"]
        derived_pos = [(j, src) for j, (kind, src) in enumerate(sources) if kind == "derive"]
        zeros = [j for j, (kind, _) in enumerate(sources) if kind == "zeros"]
        inp = () if self.input_leads is None else canonical_lead_names(self.input_leads)
        i_lead = inp.index("I") if derived else None
        ii_lead = inp.index("II") if derived else None
        out_pos = np.array([j for j, _ in copies], dtype=np.intp)
        in_pos = np.array([src for _, src in copies], dtype=np.intp)
        n_out = len(sources)

        def kernel(Xc, rows):
            Y = np.empty((Xc.shape[0], n_out, Xc.shape[2]), dtype=np.float32)
            if len(out_pos):
                Y[:, out_pos] = Xc[:, in_pos]
            for j, src in negated:
                np.negative(Xc[:, src], out=Y[:, j])
            if derived_pos:
                limb = derive_limb_leads(Xc[:, i_lead], Xc[:, ii_lead])
                for j, name in derived_pos:
                    Y[:, j] = limb[name]
            for j in zeros:
                Y[:, j] = 0.0
            return Y

        return kernel
