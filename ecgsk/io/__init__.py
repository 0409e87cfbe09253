"""Readers for ECG files: WFDB (PhysioNet, CinC 2021), GE MUSE XML, HL7 aECG,
Philips XML, DICOM waveforms, SCP-ECG, folders of them.

Every reader returns an :class:`ECGRecords` named tuple ``(signals, sfreq,
leads, meta)`` with ``signals`` of shape ``(n_ecgs, n_leads, n_times)`` in
float32 millivolts.

Examples
--------
>>> from ecgsk.io import read_wfdb, read_muse_xml, read_records, ECGRecords
>>> ECGRecords._fields
('signals', 'sfreq', 'leads', 'meta')
"""

from __future__ import annotations

from ._convert import ConvertReport, convert
from ._dicom import read_dicom_ecg
from ._folder import read_records
from ._hl7 import read_hl7_aecg
from ._muse import read_muse_xml, write_muse_xml
from ._philips import read_philips_xml
from ._records import ECGRecords
from ._scp import read_scp_ecg
from ._wfdb import read_wfdb

__all__ = [
    "ConvertReport", "ECGRecords", "convert", "read_dicom_ecg", "read_hl7_aecg", "read_muse_xml",
    "read_philips_xml", "read_records", "read_scp_ecg", "read_wfdb", "write_muse_xml",
]
