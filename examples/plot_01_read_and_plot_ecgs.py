"""
Read and plot 12-lead ECGs
==========================

ecgsk works on NumPy arrays of shape ``(n_ecgs, n_leads, n_times)`` in millivolts, with the
sampling rate and the lead order carried next to them, never guessed. This example loads the
real PTB-XL sample bundled with ecgsk, plots two of its ECGs on standard ECG paper, and
round-trips a record through the two file formats ecgsk reads: WFDB (PhysioNet) and GE MUSE
XML.
"""

# %%
# The bundled PTB-XL sample
# -------------------------
# :func:`~ecgsk.datasets.load_ptbxl_sample` returns 200 real 10-second ECGs (PTB-XL records
# 1 to 200, 500 Hz release, CC BY 4.0) with their labels and metadata. No download needed.
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import wfdb

from ecgsk.datasets import load_ptbxl_sample
from ecgsk.io import read_muse_xml, read_records, read_wfdb, write_muse_xml
from ecgsk.plotting import plot_ecg

sample = load_ptbxl_sample()
print(sample.signals.shape, sample.signals.dtype, sample.sfreq, "Hz")
print(sample.leads)

# %%
# ``labels`` holds the five PTB-XL diagnostic superclasses (a record may have several, or
# none), indexed by ``ecg_id``; ``meta`` holds the patient and recording information
# (PTB-XL's ``ptbxl_database.csv`` columns).
print(sample.labels.sum().to_string())
print(sample.meta[["patient_id", "age", "sex", "strat_fold", "report"]].head())

# %%
# Plot an ECG on grid paper
# -------------------------
# :func:`~ecgsk.plotting.plot_ecg` draws one ECG at 25 mm/s and 10 mm/mV, in the usual
# 3 x 4 printout with a lead II rhythm strip. The 1 mV calibration pulses at the start of
# each row show the scale.
ecg_id = sample.labels.index[0]
fig = plot_ecg(
    sample.signals[0], sample.sfreq, sample.leads,
    title=f"PTB-XL ecg_id {ecg_id}: {sample.meta.loc[ecg_id, 'report']}",
)

# %%
# The first record in the sample labelled with a myocardial infarction (MI), one lead per
# row over its 10 seconds: look for the pathological Q waves in the leads of the infarct's
# territory.
mi_id = sample.labels.index[sample.labels["MI"] == 1][0]
row = sample.labels.index.get_loc(mi_id)
print(mi_id, sample.meta.loc[mi_id, "scp_codes"])
fig = plot_ecg(
    sample.signals[row], sample.sfreq, sample.leads, layout="12x1",
    title=f"PTB-XL ecg_id {mi_id} (MI): {sample.meta.loc[mi_id, 'report']}",
)

# %%
# Read WFDB records from files
# ----------------------------
# PTB-XL, MIT-BIH and the PhysioNet/CinC 2021 data are stored as WFDB records (a ``.hea``
# header plus a ``.dat`` or ``.mat`` file). We write two ECGs of the sample as WFDB records,
# with the 16-bit resolution PTB-XL uses (1000 ADC units per mV), then read them back with
# :func:`ecgsk.io.read_wfdb`, which converts to millivolts with each header's gain and
# baseline and verifies the header checksums.
folder = Path(tempfile.mkdtemp())
for i in (0, row):
    wfdb.wrsamp(
        f"ecg{i}", fs=sample.sfreq, units=["mV"] * 12, sig_name=list(sample.leads),
        p_signal=sample.signals[i].T.astype(np.float64), fmt=["16"] * 12,
        adc_gain=[1000.0] * 12, baseline=[0] * 12, write_dir=str(folder),
    )
print(sorted(p.name for p in folder.iterdir()))

records = read_wfdb([folder / "ecg0", folder / f"ecg{row}"])
X, sfreq, leads, meta = records  # an ECGRecords named tuple
print(X.shape, sfreq, leads[:3], list(meta["record_id"]))
print("largest difference after the round trip:",
      float(np.abs(X - sample.signals[[0, row]]).max()), "mV")

# %%
# Read GE MUSE XML, and derived limb leads
# ----------------------------------------
# Hospital ECG systems such as GE MUSE store only 8 independent leads (I, II, V1-V6): III,
# aVR, aVL and aVF are linear combinations of I and II. We write the MI record as a MUSE XML
# file holding those 8 leads only; :func:`ecgsk.io.read_muse_xml` derives the other four
# (III = II - I, aVR = -(I + II)/2, aVL = I - II/2, aVF = II - I/2) and returns the 12 leads
# in the standard order.
eight = [sample.leads.index(name) for name in ("I", "II", "V1", "V2", "V3", "V4", "V5", "V6")]
path = folder / "mi.xml"
write_muse_xml(
    path, sample.signals[row, eight], sample.sfreq, [sample.leads[k] for k in eight],
    age=sample.meta.loc[mi_id, "age"], sex=sample.meta.loc[mi_id, "sex"],
    store_derived=False,
)
muse = read_muse_xml(path)
print(muse.signals.shape, muse.leads)
print(muse.meta[["age", "sex", "waveform_type"]])

# %%
# The derived leads match the ones PTB-XL recorded to within a few microvolts (the file
# stores 4.88 microvolt steps, the original recording 1 microvolt steps): the recording
# device computed them the same way.
fig, axes = plt.subplots(4, 1, figsize=(9, 6), sharex=True)
t = np.arange(sample.signals.shape[-1]) / sample.sfreq
for ax, name in zip(axes, ("III", "aVR", "aVL", "aVF"), strict=True):
    k = sample.leads.index(name)
    ax.plot(t, sample.signals[row, k], lw=2.5, color="0.75", label="recorded")
    ax.plot(t, muse.signals[0, k], lw=0.8, color="C3", label="derived from I and II")
    ax.set_ylabel(f"{name} (mV)")
    err = np.abs(sample.signals[row, k] - muse.signals[0, k]).max()
    ax.set_title(f"{name}: largest difference {1000 * err:.0f} uV", fontsize=9, loc="right")
axes[0].legend(loc="upper left", fontsize=8)
axes[-1].set_xlabel("time (s)")
axes[-1].set_xlim(0, 3)
fig.tight_layout()

# %%
# A folder of mixed files
# -----------------------
# :func:`ecgsk.io.read_records` reads every WFDB record and MUSE XML file of a folder
# (recursively, in sorted order). All records must share a rate and a length unless
# ``sfreq=`` and ``n_times=`` ask for resampling and cropping: here everything is brought to
# 250 Hz, 10 s.
everything = read_records(folder, sfreq=250, n_times=2500)
print(everything.signals.shape, everything.sfreq)
print(everything.meta[["record_id"]].to_string())
plt.show()
