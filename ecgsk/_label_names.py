"""The 77 DeepECG label names, in one low-level module.

:mod:`ecgsk.labels` (public) and :mod:`ecgsk._labels_text` (the report-text labeller, which
``ecgsk.labels`` imports) both need them; keeping them here avoids an import circle.
"""

DEEPECG_LABELS: tuple[str, ...] = (
    "Sinusal", "Regular", "Monomorph", "QS complex in V1-V2-V3", "R complex in V5-V6",
    "T wave inversion (inferior - II, III, aVF)", "Left bundle branch block", "RaVL > 11 mm",
    "SV1 + RV5 or RV6 > 35 mm", "T wave inversion (lateral -I, aVL, V5-V6)",
    "T wave inversion (anterior - V3-V4)", "Left axis deviation", "Left ventricular hypertrophy",
    "Bradycardia", "Q wave (inferior - II, III, aVF)", "Afib", "Irregularly irregular",
    "Atrial tachycardia (>= 100 BPM)", "Nonspecific intraventricular conduction delay",
    "Premature ventricular complex", "Polymorph", "T wave inversion (septal- V1-V2)",
    "Right bundle branch block", "Ventricular paced", "ST elevation (anterior - V3-V4)",
    "ST elevation (septal - V1-V2)", "1st degree AV block", "Premature atrial complex",
    "Atrial flutter", "rSR' in V1-V2", "qRS in V5-V6-I, aVL", "Left anterior fascicular block",
    "Right axis deviation", "2nd degree AV block - mobitz 1", "ST depression (inferior - II, III, aVF)",
    "Acute pericarditis", "ST elevation (inferior - II, III, aVF)", "Low voltage",
    "Regularly irregular", "Junctional rhythm", "Left atrial enlargement",
    "ST elevation (lateral - I, aVL, V5-V6)", "Atrial paced", "Right ventricular hypertrophy",
    "Delta wave", "Wolff-Parkinson-White (Pre-excitation syndrome)", "Prolonged QT",
    "ST depression (anterior - V3-V4)", "QRS complex negative in III",
    "Q wave (lateral- I, aVL, V5-V6)", "Supraventricular tachycardia", "ST downslopping",
    "ST depression (lateral - I, avL, V5-V6)", "2nd degree AV block - mobitz 2", "U wave",
    "R/S ratio in V1-V2 >1", "RV1 + SV6 > 11 mm", "Left posterior fascicular block",
    "Right atrial enlargement", "ST depression (septal- V1-V2)", "Q wave (septal- V1-V2)",
    "Q wave (anterior - V3-V4)", "ST upslopping", "Right superior axis", "Ventricular tachycardia",
    "ST elevation (posterior - V7-V8-V9)", "Ectopic atrial rhythm (< 100 BPM)", "Lead misplacement",
    "Third Degree AV Block", "Acute MI", "Early repolarization", "Q wave (posterior - V7-V9)",
    "Bi-atrial enlargement", "LV pacing", "Brugada", "Ventricular Rhythm", "no_qrs",
)
"""The 77 DeepECG labels, in the order of the released models' outputs."""
