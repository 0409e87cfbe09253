"""A 12-lead ECG drawn on standard grid paper (25 mm/s, 10 mm/mV)."""

from __future__ import annotations

import math

import numpy as np

from .._validation import check_sfreq
from ..leads import STANDARD_12, canonical_lead_names

PAPER_SPEED_MM_PER_S = 25.0
"""Horizontal scale of standard ECG paper."""
GAIN_MM_PER_MV = 10.0
"""Vertical scale of standard ECG paper."""

# The standard printed 3x4 layout: four sequential time windows, three leads each.
LAYOUT_3X4: tuple[tuple[str, ...], ...] = (
    ("I", "II", "III"),
    ("aVR", "aVL", "aVF"),
    ("V1", "V2", "V3"),
    ("V4", "V5", "V6"),
)

_MINOR_COLOR = "#f6c9c9"
_MAJOR_COLOR = "#e07b7b"
_TRACE_COLOR = "black"
_CAL_WIDTH_MM = 5.0  # a 1 mV, 200 ms calibration pulse
_LEFT_MARGIN_MM = 10.0


def _as_single_ecg(signals_mv) -> np.ndarray:
    arr = np.asarray(signals_mv)
    if arr.dtype == object or not (
        np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)
    ):
        raise TypeError(f"signals_mv must hold real numbers, got dtype {arr.dtype}")
    if arr.ndim == 3:
        if arr.shape[0] != 1:
            raise ValueError(
                f"plot_ecg draws one ECG; got a batch of {arr.shape[0]} (shape {arr.shape}). "
                "Pass X[i] to draw ECG i."
            )
        arr = arr[0]
    if arr.ndim != 2:
        raise ValueError(
            f"signals_mv must be (n_leads, n_times) or (1, n_leads, n_times); got shape {arr.shape}"
        )
    if arr.shape[0] == 0 or arr.shape[1] < 2:
        raise ValueError(f"signals_mv has no leads or fewer than 2 samples (shape {arr.shape})")
    arr = arr.astype(np.float64)
    if np.isinf(arr).any():
        raise ValueError("signals_mv contains inf")
    return arr


def _draw_grid(ax, width_mm: float, height_mm: float) -> None:
    from matplotlib.collections import LineCollection

    def segments(step: float) -> list:
        xs = np.arange(0.0, width_mm + 1e-9, step)
        ys = np.arange(0.0, height_mm + 1e-9, step)
        vertical = [((x, 0.0), (x, height_mm)) for x in xs]
        horizontal = [((0.0, y), (width_mm, y)) for y in ys]
        return vertical + horizontal

    minor = LineCollection(segments(1.0), colors=_MINOR_COLOR, linewidths=0.3, zorder=0)
    major = LineCollection(segments(5.0), colors=_MAJOR_COLOR, linewidths=0.6, zorder=1)
    minor.set_gid("ecg-grid-minor")
    major.set_gid("ecg-grid-major")
    ax.add_collection(minor)
    ax.add_collection(major)


def _draw_calibration(ax, x0: float, baseline: float) -> None:
    pulse_x = [x0, x0 + 1.0, x0 + 1.0, x0 + 1.0 + _CAL_WIDTH_MM, x0 + 1.0 + _CAL_WIDTH_MM, x0 + 8.0]
    top = baseline + GAIN_MM_PER_MV
    pulse_y = [baseline, baseline, top, top, baseline, baseline]
    ax.plot(pulse_x, pulse_y, color=_TRACE_COLOR, linewidth=0.8, label="_calibration", zorder=3)


def _draw_trace(ax, values_mv, sfreq, x0_mm, baseline_mm, name) -> None:
    x = x0_mm + np.arange(values_mv.shape[0]) / sfreq * PAPER_SPEED_MM_PER_S
    y = baseline_mm + values_mv * GAIN_MM_PER_MV
    (line,) = ax.plot(x, y, color=_TRACE_COLOR, linewidth=0.7, zorder=4, label=name)
    line.set_gid(f"ecg-trace-{name}")


def plot_ecg(
    signals_mv,
    sfreq,
    leads=STANDARD_12,
    layout: str = "3x4",
    rhythm_lead: str | None = "II",
    title: str | None = None,
    *,
    start: float = 0.0,
    duration: float | None = 10.0,
    row_height_mm: float | None = None,
    calibration: bool = True,
    ax=None,
    dpi: float = 100.0,
):
    """Draw one ECG on standard grid paper (25 mm/s, 10 mm/mV).

    The ``"3x4"`` layout is the usual printout: four consecutive time windows
    (each a quarter of the displayed duration, 2.5 s for a 10 s ECG) showing
    I, II, III | aVR, aVL, aVF | V1, V2, V3 | V4, V5, V6, plus a full-length
    rhythm strip of ``rhythm_lead`` underneath. The ``"12x1"`` layout gives each
    lead its own full-length row. The grid has 1 mm minor and 5 mm major
    lines, and the axes are in paper millimetres: when ``ax`` is not given the
    figure is sized so that the paper prints at its true physical scale.

    Parameters
    ----------
    signals_mv : array-like of shape (n_leads, n_times) or (1, n_leads, n_times)
        One ECG in millivolts. NaN samples are drawn as gaps.
    sfreq : float
        Sampling rate in Hz.
    leads : sequence of str, default=STANDARD_12
        Names of the rows of ``signals_mv`` (any case and usual aliases).
    layout : {"3x4", "12x1"}, default="3x4"
        ``"3x4"`` needs the 12 standard leads; ``"12x1"`` draws every lead given.
    rhythm_lead : str or None, default="II"
        Lead of the rhythm strip under the ``"3x4"`` layout; None for none.
        Ignored by ``"12x1"``.
    title : str, optional
        Figure title.
    start : float, default=0.0
        Start of the displayed window in seconds.
    duration : float or None, default=10.0
        Length of the displayed window in seconds (shortened to the record);
        None shows the whole record.
    row_height_mm : float, optional
        Vertical space per row; default 30 mm (3 mV) for ``"3x4"`` and 20 mm
        for ``"12x1"``.
    calibration : bool, default=True
        Draw a 1 mV x 200 ms calibration pulse at the start of each row.
    ax : matplotlib Axes, optional
        Draw into this Axes instead of a new figure.
    dpi : float, default=100
        Resolution of a new figure.

    Returns
    -------
    matplotlib.figure.Figure
        The figure holding the drawing. Each trace is a ``Line2D`` labelled
        with its lead name; x and y data are in paper millimetres.

    Raises
    ------
    ValueError
        For a batch of more than one ECG, a wrong shape, lead names that do
        not match the rows, missing standard leads for ``"3x4"``, an unknown
        layout or a window outside the record.

    Examples
    --------
    >>> import numpy as np
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> t = np.arange(2500) / 250
    >>> ecg = np.tile(0.5 * np.sin(2 * np.pi * 1.2 * t), (12, 1))
    >>> fig = plot_ecg(ecg, sfreq=250)
    >>> len([ln for ln in fig.axes[0].lines if not ln.get_label().startswith("_")])
    13
    """
    sfreq = check_sfreq(sfreq)
    data = _as_single_ecg(signals_mv)
    names = canonical_lead_names(leads)
    if len(names) != data.shape[0]:
        raise ValueError(
            f"leads names {len(names)} leads but signals_mv has {data.shape[0]} rows"
        )
    if layout not in ("3x4", "12x1"):
        raise ValueError(f"layout must be '3x4' or '12x1', got {layout!r}")

    n_times = data.shape[1]
    first = int(round(start * sfreq))
    if start < 0 or first >= n_times - 1:
        raise ValueError(f"start={start} s is outside the record ({n_times / sfreq:.3f} s long)")
    last = n_times if duration is None else min(n_times, first + int(round(duration * sfreq)))
    if last - first < 4:
        raise ValueError(f"the displayed window holds fewer than 4 samples (duration={duration})")
    window = data[:, first:last]
    index = {name: i for i, name in enumerate(names)}

    if layout == "3x4":
        missing = [lead for col in LAYOUT_3X4 for lead in col if lead not in index]
        if missing:
            raise ValueError(
                f"the 3x4 layout needs the 12 standard leads; missing {missing}. "
                "Use layout='12x1' or derive the limb leads with ecgsk.preprocessing.ReorderLeads."
            )
        if rhythm_lead is not None:
            rhythm_lead = canonical_lead_names([rhythm_lead])[0]
            if rhythm_lead not in index:
                raise ValueError(f"rhythm_lead {rhythm_lead!r} is not among the leads {list(names)}")
        rows = 3 + (rhythm_lead is not None)
        row_h = 30.0 if row_height_mm is None else float(row_height_mm)
    else:
        rows = len(names)
        row_h = 20.0 if row_height_mm is None else float(row_height_mm)
    if row_h <= 0:
        raise ValueError(f"row_height_mm must be positive, got {row_height_mm}")

    n_win = window.shape[1]
    trace_mm = n_win / sfreq * PAPER_SPEED_MM_PER_S
    left = _LEFT_MARGIN_MM if calibration else 2.0
    # Round the paper up to whole 5 mm blocks so the major grid closes at the edges.
    width_mm = 5.0 * math.ceil((left + trace_mm + 2.0) / 5.0)
    height_mm = 5.0 * math.ceil(rows * row_h / 5.0)

    if ax is None:
        import matplotlib.pyplot as plt

        fig = plt.figure(figsize=(width_mm / 25.4, height_mm / 25.4 + (0.35 if title else 0.0)),
                         dpi=dpi)
        bottom_frac = 0.0
        top_frac = height_mm / 25.4 / fig.get_figheight()
        ax = fig.add_axes((0.0, bottom_frac, 1.0, top_frac))
    else:
        fig = ax.figure

    _draw_grid(ax, width_mm, height_mm)
    baselines = [height_mm - (r + 0.5) * row_h for r in range(rows)]

    if layout == "3x4":
        n_cols = len(LAYOUT_3X4)
        edges = np.linspace(0, n_win, n_cols + 1).round().astype(int)
        for c, column in enumerate(LAYOUT_3X4):
            lo, hi = edges[c], edges[c + 1]
            # Columns join end to end: include the next column's first sample to avoid gaps.
            hi_draw = min(hi + 1, n_win)
            x0 = left + lo / sfreq * PAPER_SPEED_MM_PER_S
            for r, lead in enumerate(column):
                _draw_trace(ax, window[index[lead], lo:hi_draw], sfreq, x0, baselines[r], lead)
                ax.text(x0 + 1.0, baselines[r] + 0.45 * row_h, lead, fontsize=8,
                        va="top", ha="left", zorder=5)
            if c > 0:  # the short separator mark printed between columns
                for r in range(3):
                    ax.plot([x0, x0], [baselines[r] - 2.5, baselines[r] + 2.5],
                            color=_TRACE_COLOR, linewidth=0.8, label="_separator", zorder=3)
        if rhythm_lead is not None:
            r = 3
            _draw_trace(ax, window[index[rhythm_lead]], sfreq, left, baselines[r], rhythm_lead)
            ax.text(left + 1.0, baselines[r] + 0.45 * row_h, rhythm_lead, fontsize=8,
                    va="top", ha="left", zorder=5)
    else:
        for r, lead in enumerate(names):
            _draw_trace(ax, window[r], sfreq, left, baselines[r], lead)
            ax.text(left + 1.0, baselines[r] + 0.45 * row_h, lead, fontsize=8,
                    va="top", ha="left", zorder=5)
    if calibration:
        for b in baselines:
            _draw_calibration(ax, 1.0, b)

    ax.set_xlim(0.0, width_mm)
    ax.set_ylim(0.0, height_mm)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)
    footer = f"{PAPER_SPEED_MM_PER_S:g} mm/s, {GAIN_MM_PER_MV:g} mm/mV, {sfreq:g} Hz"
    ax.text(width_mm - 1.0, 1.0, footer, fontsize=6, ha="right", va="bottom", zorder=5)
    if title:
        fig.suptitle(title, fontsize=10)
    return fig
