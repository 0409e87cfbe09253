"""The phrase lexicon: findings, negation and uncertainty cues in English, French, German, Swedish.

Patterns are written in report spelling (see :func:`._normalize.compile_pattern`: a space
also matches a hyphen or nothing, ``ä`` also matches ``a`` and ``ae``). Each finding rule
has a kind:

- ``label``: the rule's fixed DeepECG labels;
- ``none``: a statement recognised but without a DeepECG counterpart (``normal ECG``,
  ``incomplete RBBB``, ischaemia...), reported in ``unmapped`` with its reason;
- ``q``, ``ste``, ``std``, ``tinv``: Q wave / infarction, ST elevation, ST depression and
  T-wave inversion, whose DeepECG labels depend on the territory the report names (a
  territory word inside the match, in the ``terr`` group, or the leads or territory words
  that follow it);
- ``voltage``: voltage criteria for LVH ("Amplitudenkriterien für Linkshypertrophie"): their
  label, and "Left ventricular hypertrophy" as an uncertain finding (the criteria suggest
  it), as the English reports' "voltages are high in chest leads suggesting LVH";
- ``qs``: a QS complex, "QS complex in V1-V2-V3" when the leads named lie in V1-V3, and
  the Q-wave labels of the territories its leads name (a QS complex is a Q wave without an
  R wave), except a QS confined to V1, a normal variant.
- ``qrsheading`` and ``damage``: the "QRS(T) abnormal" heading of the PTB-XL reports' German
  and Swedish statements, and "<territory> myocardial damage"; after that heading (in the
  same statement, with only infarct statements between) the damage is an infarct (a Q-wave
  label of the territory), elsewhere an ischaemia statement without a label.

The choices that keep this route consistent with :data:`ecgsk.labels.SCP_TO_DEEPECG`:
sinus rhythm, arrhythmia, tachycardia and bradycardia all give "Sinusal" (bradycardia also
"Bradycardia"); atrial fibrillation gives "Afib" and "Irregularly irregular"; WPW gives the
WPW label and "Delta wave"; a prolonged PR interval gives "1st degree AV block"; incomplete
bundle-branch blocks and second-degree AV block without a Mobitz type have no label; voltage
criteria for LVH give "SV1 + RV5 or RV6 > 35 mm" (as ``VCLVH``); infarcts give the Q-wave
label of their territory, an anteroseptal infarct the septal one (as ``ASMI``), an
anterolateral infarct the anterior and lateral ones (as ``ALMI``), an anterior infarct
named without leads the septal and the anterior ones (see :mod:`._territory`: the anterior
wall faces V1-V4, and PTB-XL codes such statements ``ASMI`` as well as ``AMI``); the usual
abbreviations IMI/IWMI, ASMI, AWMI, ALMI and ILMI as the SCP statements of those names; a pacemaker rhythm of
unstated mode gives "Ventricular paced" (as ``PACE``).
"""

from __future__ import annotations

from typing import NamedTuple

from ._normalize import compile_pattern

LANGUAGES = ("en", "fr", "de", "sv")

# territory words; the group is named so that a rule can read the territory it matched
TERR = (
    r"(?P<terr>(?:high |hoch |hög )?(?:infero |antero |postero )?(?:postero )?"
    r"(?:inferi|inférieu|anteri|antérieu|septa|septu|latera|latéra|posteri|postérieu"
    r"|posterobasa|hinterwand|vorderwand|seitenwand|diaphragm|diafragm|framvägg|bakvägg"
    r"|sidovägg)[a-z]*)"
)


class Rule(NamedTuple):
    """One finding pattern."""

    pattern: object
    kind: str
    labels: tuple
    lang: str
    source: str


class Cue(NamedTuple):
    """One negation, uncertainty, history or neutral pattern.

    ``scope`` is ``pre`` (the finding after it), ``post`` (the finding before it) or
    ``both`` (the adjacent finding before it, else the one after it).
    """

    pattern: object
    kind: str
    scope: str
    lang: str
    source: str


SIN, BRADY, AFIB, IRREG = "Sinusal", "Bradycardia", "Afib", "Irregularly irregular"
FLUTTER, PVC, PAC = "Atrial flutter", "Premature ventricular complex", "Premature atrial complex"
SVT, AT, EAR = ("Supraventricular tachycardia", "Atrial tachycardia (>= 100 BPM)",
                "Ectopic atrial rhythm (< 100 BPM)")
JUNC, VT, VR = "Junctional rhythm", "Ventricular tachycardia", "Ventricular Rhythm"
VPACE, APACE, LVPACE = "Ventricular paced", "Atrial paced", "LV pacing"
AVB1, MOB1, MOB2, AVB3 = ("1st degree AV block", "2nd degree AV block - mobitz 1",
                          "2nd degree AV block - mobitz 2", "Third Degree AV Block")
LBBB, RBBB = "Left bundle branch block", "Right bundle branch block"
LAFB, LPFB = "Left anterior fascicular block", "Left posterior fascicular block"
IVCD = "Nonspecific intraventricular conduction delay"
LVH, RVH, SOKOLOW = ("Left ventricular hypertrophy", "Right ventricular hypertrophy",
                     "SV1 + RV5 or RV6 > 35 mm")
LAE, RAE, BAE = "Left atrial enlargement", "Right atrial enlargement", "Bi-atrial enlargement"
LOWV, LAD, RAD, RSA = ("Low voltage", "Left axis deviation", "Right axis deviation",
                       "Right superior axis")
WPW, DELTA = "Wolff-Parkinson-White (Pre-excitation syndrome)", "Delta wave"
LQT, PERI, EREP, BRUG = "Prolonged QT", "Acute pericarditis", "Early repolarization", "Brugada"
UWAVE, MISPLACED, ACUTE_MI = "U wave", "Lead misplacement", "Acute MI"
REG, REGIRR = "Regular", "Regularly irregular"
RSR, RS_RATIO = "rSR' in V1-V2", "R/S ratio in V1-V2 >1"
MONO, POLY = "Monomorph", "Polymorph"
DOWN, UP = "ST downslopping", "ST upslopping"
Q_INF, Q_SEP = "Q wave (inferior - II, III, aVF)", "Q wave (septal- V1-V2)"
Q_ANT, Q_LAT = "Q wave (anterior - V3-V4)", "Q wave (lateral- I, aVL, V5-V6)"

# (kind, labels, patterns) per language; "*" rules (abbreviations) apply to every language
_FINDINGS = {
    "*": [
        ("label", (LBBB,), ["c?lbbb"]),
        ("label", (RBBB,), ["c?rbbb"]),
        ("none", (), ["ilbbb", "irbbb", "incomplete lbbb", "incomplete rbbb", "irsb", "ilsb"]),
        ("label", (LAFB,), ["lafb", "lahb"]),
        ("label", (LPFB,), ["lpfb", "lphb"]),
        # infarct abbreviations of English reports, labelled as the SCP statements they name
        ("label", (Q_INF,), ["imi", "iwmi"]),
        ("label", (Q_SEP,), ["asmi"]),
        ("label", (Q_SEP, Q_ANT), ["awmi"]),
        ("label", (Q_ANT, Q_LAT), ["almi"]),
        ("label", (Q_INF, Q_LAT), ["ilmi"]),
        ("label", (LVH,), ["lvh"]),
        ("label", (RVH,), ["rvh"]),
        ("label", (IVCD,), ["ivcd"]),
        ("label", (WPW, DELTA), [r"wpw(?: syndrom\w*| pattern| muster)?(?: typ \w)?",
                                 "wolff parkinson white(?: syndrom\\w*| pattern)?"]),
        ("label", (AFIB, IRREG), ["afib", r"a\. ?fib"]),
        ("label", (PVC,), ["pvcs?", "vpcs?", "vpbs?", "ves"]),
        ("label", (PAC,), ["pacs?", "apcs?", "sves"]),
        ("label", (SVT,), ["psvt", "svt", "avnrt", "avrt"]),
        ("label", (AVB1,), [r"a v block (?:i|1)(?:°|\.? ?grades?| grad| degree)?",
                            r"a v block grad (?:i|1)", r"1\.? ?avb", r"avb (?:i|1)"]),
        ("none", (), [r"a v block (?:ii|2)(?:°|\.? ?grades?| grad| degree)?",
                      r"2 ?: ?1 (?:av |a v )?(?:block|conduction|überleitung)"]),
        ("label", (AVB3,), [r"a v block (?:iii|3)(?:°|\.? ?grades?| grad| degree)?"]),
        ("label", (MOB1,), [r"(?:a v block (?:ii|2)(?:°|\.? ?grades?)? ?,? )?(?:typ |type )?"
                            r"(?:mobitz (?:type )?(?:i|1)|(?:luciani )?wenckebach\w*)"]),
        ("label", (MOB2,), [r"(?:a v block (?:ii|2)(?:°|\.? ?grades?)? ?,? )?(?:typ |type )?"
                            r"mobitz (?:type |typ )?(?:ii|2)"]),
        ("label", (BRUG,), [r"brugada(?: pattern| syndrom\w*| muster| type \w+| typ \w+)?"]),
        ("label", (ACUTE_MI,), ["stemi"]),
        ("label", (VPACE,), ["pacemaker ?(?:ekg|ecg|rhythm|rhythmus|rytm)", "pacemaker"]),
        ("label", (RSR,), [r"rsr'?(?: pattern| muster| complex\w*)?", r"rsr's?"]),
        # a bare "QS" followed by its leads ("QS in V1-V3", "QS V2")
        ("qs", (), [r"qs(?= (?:in |en |i )?(?:leads? |ableitungen? )?(?:v[1-9]|d?i{1,3}|av[lf]))"]),
        # a Sokolow-Lyon index quoted with its value: SV1 + RV5/6 >= 35 mm (3.5 mV) is the
        # criterion (Sokolow & Lyon, Am Heart J 1949); lower values are no finding
        ("label", (SOKOLOW,), [r"sokolow(?: lyon)?(?: index)? ?(?:>|>=|=|:|of)? ?"
                               r"(?:3[,.][5-9]\d*|[4-9][,.]\d+|[4-9]) ?mv",
                               r"sokolow(?: lyon)?(?: index)? ?(?:>|>=|=|:|of)? ?"
                               r"(?:3[5-9]|[4-9]\d)(?:[,.]\d+)? ?mm"]),
        ("none", (), ["sokolow(?: lyon)?(?: index)? ?[0-9,.]*", "edit"]),
    ],
    "en": [
        ("label", (SIN,), ["(?:normal )?sinus rhythm", "sinus arrhythmia", "sinus tachycardia",
                           "nsr"]),
        ("label", (SIN, BRADY), ["sinus bradycardia"]),
        ("label", (BRADY,), ["bradycardia", "bradycardic"]),
        ("label", (AFIB, IRREG), ["atrial fibrillation", "atrial fib", "af",
                                  "atrial fibrillation ?/ ?(?:atrial )?flutter",
                                  "atrial fib ?/ ?flutter"]),
        ("label", (FLUTTER,), ["atrial flutter", "a flutter", "aflutter", "afl"]),
        ("label", (IRREG,), ["irregularly irregular", "irregular irregular"]),
        ("label", (REGIRR,), ["regularly irregular", "group beating"]),
        ("label", (REG,), ["regular rhythm", "rhythm is regular",
                           "regular(?= (?:narrow complex |broad complex |wide complex )?"
                           "(?:supraventricular )?tachycardia)"]),
        ("label", (PVC,), [r"premature ventricular (?:contraction|complexe?|beat|depolari[sz]"
                           r"ation)s?(?:\(s\)|\(es\))?",
                           r"ventricular premature (?:contraction|complexe?|beat)s?(?:\(s\))?",
                           "ventricular extrasystoles?", "ventricular ectopics?",
                           "ventricular ectopic (?:beats?|complex\\w*)", "ventricular ectopy",
                           "ventricular (?:bigeminy|trigeminy|couplets?)"]),
        ("label", (PVC, MONO), ["monomorphic (?:pvcs?|ventricular (?:premature|ectopic)\\w*"
                                "(?: \\w+)?)", "unifocal (?:pvcs?|ventricular ectopics?)"]),
        ("label", (PVC, POLY), ["(?:polymorphic|multiform|multifocal) (?:pvcs?|ventricular "
                                "(?:premature|ectopic|extrasystol)\\w*(?: \\w+)?)"]),
        ("label", (PAC,), [r"premature (?:atrial|supraventricular) (?:contraction|complexe?|beat)"
                           r"s?(?:\(s\)|\(es\))?",
                           r"(?:atrial|supraventricular) premature (?:contraction|complexe?|beat)"
                           r"s?(?:\(s\))?",
                           "(?:atrial|supraventricular) extrasystoles?",
                           "atrial ectopics?", "atrial ectopic beats?", "atrial bigeminy"]),
        ("label", (SVT,), ["(?:paroxysmal )?supraventricular tachycardia",
                           "narrow complex tachycardia"]),
        ("label", (AT,), ["(?:ectopic |multifocal )?atrial tachycardia"]),
        ("label", (EAR,), ["ectopic atrial rhythm", "low atrial rhythm", "coronary sinus rhythm"]),
        ("label", (JUNC,), ["(?:accelerated )?junctional (?:escape )?rhythm",
                            "(?:av )?nodal rhythm"]),
        ("label", (VT,), ["(?:non sustained |sustained |monomorphic |polymorphic )?"
                          "ventricular tachycardia", "nsvt", "vt"]),
        ("label", (VR,), ["(?:accelerated )?idioventricular rhythm",
                          "ventricular (?:escape )?rhythm"]),
        ("label", (VPACE,), ["ventricular(?:ly)? paced(?: rhythm)?", "ventricular pacing",
                             "v paced", "paced (?:rhythm|ecg|complexes)", "electronic pacemaker"]),
        ("label", (APACE,), ["atrial(?:ly)? paced(?: rhythm)?", "atrial pacing", "a paced"]),
        ("label", (APACE, VPACE), ["(?:av|atrioventricular|dual chamber) (?:sequential )?"
                                   "pac(?:ed|ing)(?: rhythm)?"]),
        ("label", (LVPACE,), ["biventricular pac(?:ed|ing)(?: rhythm)?", "lv pacing",
                              "left ventricular pacing", "crt pacing"]),
        ("label", (AVB1,), ["(?:1st|first) degree (?:av |a v |atrioventricular )?(?:heart )?block",
                            "prolonged pr(?: interval)?", "pr (?:interval )?prolongation",
                            "long pr(?: interval)?", "pr interval (?:is )?prolonged"]),
        ("label", (MOB1,), ["(?:2nd|second) degree (?:av |atrioventricular )?(?:heart )?block"
                            ",? (?:mobitz )?(?:type )?(?:i|1|wenckebach)"]),
        ("label", (MOB2,), ["(?:2nd|second) degree (?:av |atrioventricular )?(?:heart )?block"
                            ",? (?:mobitz )?type (?:ii|2)"]),
        ("none", (), ["(?:2nd|second) degree (?:av |atrioventricular )?(?:heart )?block",
                      "(?:high grade|advanced) (?:av |atrioventricular )?block"]),
        ("label", (AVB3,), ["(?:3rd|third) degree (?:av |atrioventricular )?(?:heart )?block",
                            "complete (?:av |atrioventricular )?(?:heart )?block", "chb"]),
        ("label", (LBBB,), ["(?:complete )?left bundle branch block"]),
        ("label", (RBBB,), ["(?:complete )?right bundle branch block"]),
        ("none", (), ["(?:incomplete|partial) (?:left|right) bundle branch block",
                      "(?:bi|tri)fascicular block"]),
        ("label", (LAFB,), ["(?:left )?anterior (?:fascic(?:ular|le) |hemi ?)block",
                            "left anterior hemiblock"]),
        ("label", (LPFB,), ["(?:left )?posterior (?:fascic(?:ular|le) |hemi ?)block",
                            "left posterior hemiblock"]),
        ("label", (IVCD,), ["(?:minor )?(?:non ?specific )?intraventricular (?:conduction )?"
                            "(?:delay|block|defect|disturbance)"]),
        ("label", (LVH,), ["left ventricular hypertrophy", "lv hypertrophy"]),
        ("label", (SOKOLOW,), [
            # "voltages are high in chest leads" is the VCLVH statement; the "suggesting LVH"
            # that often follows is read as its own, hedged, LVH statement
            "(?:qrs )?voltages? (?:are |is )?(?:high|increased) in (?:the )?(?:chest|limb|"
            "precordial) leads?", "(?:chest|limb|precordial) lead voltages?(?= suggest)"]),
        ("voltage", (SOKOLOW,), ["(?:minimal |borderline )?voltage criteria (?:for|of) (?:lvh|"
                                 "lv hypertrophy|left ventricular hypertrophy)"]),
        ("label", (SOKOLOW, LVH), ["(?:lvh|left ventricular hypertrophy) by voltage(?: criteria)?"]),
        ("none", (), ["high (?:v lead |qrs |chest lead |limb lead )?voltages?"]),
        ("label", (RVH,), ["right ventricular hypertrophy", "rv hypertrophy"]),
        ("label", (LAE,), ["left atrial (?:enlargement|abnormality|hypertrophy|overload|"
                           "dilatation)", "lae", "p mitrale"]),
        ("label", (RAE,), ["right atrial (?:enlargement|abnormality|hypertrophy|overload|"
                           "dilatation)", "rae", "p pulmonale"]),
        ("label", (BAE,), ["bi ?atrial (?:enlargement|abnormality|hypertrophy|overload)",
                           "combined atrial enlargement"]),
        ("label", (LOWV,), ["low (?:qrs )?voltages?(?: qrs)?",
                            "low (?:limb|chest|precordial|extremity) lead (?:qrs )?voltages?",
                            "voltages? (?:are |is )?low",
                            "(?:limb|chest|precordial) lead voltages? (?:are |is )?low"]),
        ("label", (LAD,), ["(?:abnormal |marked |extreme )?left axis deviation",
                           "leftward axis", "left axis"]),
        ("label", (RAD,), ["(?:abnormal |marked )?right axis deviation", "rightward axis",
                           "right axis"]),
        ("label", (RSA,), ["right superior axis(?: deviation)?", "northwest axis",
                           "extreme axis deviation", "superior right axis"]),
        ("none", (), ["(?:normal|indeterminate) (?:qrs )?axis", "axis (?:is )?indeterminate"]),
        ("label", (WPW, DELTA), ["(?:ventricular )?pre ?excitation(?: syndrome| pattern)?"]),
        ("label", (DELTA,), ["delta waves?"]),
        ("label", (LQT,), ["(?:minor )?(?:prolonged|long) qtc?(?: interval)?",
                           "(?:minor )?qtc? (?:interval )?prolongation",
                           "qtc? (?:interval )?(?:is )?prolonged", "lengthened qtc?"]),
        ("label", (PERI,), ["(?:acute )?pericarditis"]),
        ("label", (EREP,), ["early repolari[sz]ation(?: pattern)?", "benign early repolari[sz]ation"]),
        ("label", (UWAVE,), ["(?:prominent )?u waves?"]),
        ("label", (MISPLACED,), [
            "(?:limb |arm |precordial )?(?:lead|electrode)s? (?:reversal|misplacement|misplaced|"
            "reversed|transposition|transposed)", "(?:arm|limb) leads? (?:are )?reversed",
            "reversed (?:arm|limb) leads"]),
        ("label", (ACUTE_MI,), ["acute (?:myocardial infarction|mi|infarct|infarction)",
                                "acute st elevation myocardial infarction"]),
        ("q", (), [rf"(?:(?:old|acute|recent|chronic|healed|subacute|evolving|extensive) )?{TERR}"
                   r" (?:wall )?(?:myocardial )?(?:infarction|infarct|mi|necrosis|scar)",
                   # a report cut short (PTB-XL keeps 250 characters): "... old inferior myocardial"
                   rf"(?:(?:old|acute|recent|chronic|healed|subacute) )?{TERR} myocardial$",
                   "(?:pathological |abnormal |deep |significant |small )?q waves?",
                   rf"{TERR} (?:pathological |abnormal |deep |significant )?q waves?"]),
        ("qs", (), ["qs (?:complex\\w*|waves?|pattern)"]),
        ("label", (RS_RATIO,), ["(?:dominant|tall) r waves? in v1", "r ?/ ?s ratio ?> ?1(?: in v1)?"]),
        ("ste", (), [rf"(?:{TERR} )?st (?:segment )?elevations?",
                     "st segments? (?:are |is )?(?:slightly |markedly |minimally )?elevated",
                     "(?:and |or )?elevated st segments?", "st elevated"]),
        ("std", (), [rf"(?:{TERR} )?st (?:segment )?depressions?",
                     "st segments? (?:are |is )?(?:slightly |markedly |minimally )?depressed",
                     "depressed st segments?", "st depressed"]),
        ("std", (DOWN,), ["down ?sloping st(?: segment)? depressions?"]),
        ("std", (UP,), ["up ?sloping st(?: segment)? depressions?"]),
        ("tinv", (), ["t waves? (?:are )?(?:slightly |deeply |markedly )?inverted",
                      "inverted t waves?", "t wave inversions?", "t inversions?",
                      "(?:and |or )(?:slightly |deeply )?inverted"]),
        ("none", (), [
            "(?:otherwise )?normal (?:ecg|ekg|tracing|electrocardiogram)",
            "(?:otherwise )?no definite pathology", "within normal limits", "normal variant",
            "borderline ecg", "abnormal ecg",
            "(?:minor )?non ?specific (?:st t|st|t) (?:wave |segment )?(?:flattening|changes?|"
            "abnormalit\\w+|depression)",
            "(?:minor )?(?:widespread )?(?:non ?specific )?t wave (?:flattening|changes?|"
            "abnormalit\\w+)",
            "(?:minor )?non ?specific (?:anterior |inferior |lateral )?st ?\\.? ?t changes",
            "t waves? (?:are )?(?:low or flat|flat or low|low|flat)",
            rf"{TERR} (?:myocardial )?(?:isch(?:a)?emi\w*|damage|injury)",
            "(?:myocardial )?isch(?:a)?emi\\w*", "isch(?:a)?emic heart disease",
            "(?:lv|left ventricular|rv|right ventricular) strain", "strain pattern",
            "myocardial (?:damage|injury)", "subendocardial (?:injury|infarction)",
            "(?:digitalis|drug) effect", "digitalis", "electrolyte disturbance",
            "hypokal(?:a)?emia", "hyperkal(?:a)?emia", "poor (?:r wave )?progression(?: of r waves?)?",
            "tiny r waves?", "small r waves?", "r s transition(?: zone)?", "transition zone",
            "artefacts?", "artifacts?", "trace only requested", "aneurysm",
            "mitral valve disease", "fibrillation waves", "bigeminy", "trigeminy",
            "(?:myocardial )?infarction", "infarct", "heart disease", "pathology"]),
    ],
    "de": [
        ("label", (SIN,), ["sinus ?rhythmus", "sinus ?rhytmus", "sinus ?arrhythmie",
                           "sinus ?tachykardie", "sinus ?arrhytmie"]),
        ("label", (SIN, BRADY), ["sinus ?br\\w{0,2}dykardie"]),
        ("label", (BRADY,), ["bradykard\\w*"]),
        ("label", (AFIB, IRREG), ["(?:tachykardes |bradykardes |normofrequentes )?vorhof ?flimmern"
                                  "(?: ?/ ?(?:vorhof)?flattern)?",
                                  "absolute arrhythmie(?: bei vorhofflimmern)?", "vhf",
                                  "(?:tachy|brady)arrhythmia absoluta", "tachyarrhythmie"]),
        ("label", (FLUTTER,), ["vorhof ?flattern", "vhfl"]),
        ("label", (REG,), ["regelmäßiger rhythmus", "rhythmus regelmäßig"]),
        ("label", (PVC,), [r"(?:interponierte )?ventrikuläre extrasystol\w*(?:\(n\))?",
                           r"kammer ?extrasystol\w*(?:\(n\))?", "ventrikulärer bigeminus",
                           "ventrikuläre es"]),
        ("label", (PVC, MONO), [r"mono(?:morphe|tope) (?:ventrikuläre )?extrasystol\w*(?:\(n\))?",
                                "monotope ves"]),
        ("label", (PVC, POLY), [r"poly(?:morphe|tope) (?:ventrikuläre )?extrasystol\w*(?:\(n\))?",
                                "polytope ves"]),
        ("label", (PAC,), [r"(?:interponierte )?supraventrikuläre extrasystol\w*(?:\(n\))?",
                           r"(?:vorhof|atriale) ?extrasystol\w*(?:\(n\))?"]),
        ("label", (SVT,), ["(?:paroxysmale )?supraventrikuläre tachykardie"]),
        ("label", (AT,), ["(?:ektope )?vorhof ?tachykardie", "atriale tachykardie"]),
        ("label", (EAR,), ["ektoper (?:vorhof|atrialer) ?rhythmus", "vorhofersatzrhythmus",
                           "tiefer vorhofrhythmus"]),
        ("label", (JUNC,), ["(?:av )?knoten ?(?:ersatz)?rhythmus", "junktionaler (?:ersatz)?rhythmus",
                            "av rhythmus"]),
        ("label", (VT,), ["ventrikuläre tachykardie", "kammertachykardie"]),
        ("label", (VR,), ["idioventrikulärer rhythmus", "kammer ?(?:eigen|ersatz) ?rhythmus",
                          "ventrikulärer ersatzrhythmus"]),
        ("label", (VPACE,), ["schrittmacher ?(?:ekg|rhythmus)?", "ventrikulär stimuliert\\w*",
                             "ventrikuläre stimulation"]),
        ("label", (APACE,), ["vorhof ?stimulation", "vorhof stimuliert\\w*"]),
        ("label", (AVB1,), ["pq ?(?:zeit ?)?verlängerung", "verlängerte pq(?: zeit| dauer)?",
                            "pq (?:zeit )?verlängert", "pr verlängerung",
                            r"a v block (?:ersten|1\.) grades"]),
        ("label", (AVB3,), ["(?:totaler|kompletter|drittgradiger) av block"]),
        ("label", (LBBB,), ["(?:kompletter |vollständiger )?links ?schenkel ?block", "c?lsb"]),
        ("label", (RBBB,), ["(?:kompletter |vollständiger )?rechts ?schenkel ?block", "c?rsb"]),
        ("none", (), [r"(?:unvollst\w*|inkompl\w*)\.? (?:links ?schenkel ?block|lsb|"
                      r"rechts ?schenkel ?block|rsb)", "bifaszikulärer block"]),
        ("label", (LAFB,), ["links ?anteriorer (?:hemi|faszikel) ?block",
                            "anteriorer (?:hemi|faszikel) ?block(?: links)?", "lah"]),
        ("label", (LPFB,), ["links ?posteriorer (?:hemi|faszikel) ?block",
                            "posteriorer (?:hemi|faszikel) ?block(?: links)?", "lph"]),
        ("label", (IVCD,), [r"(?:unspezifische |unspezifischer )?intraventr\w*\.? ?(?:erregungs)?"
                            r"(?:leitungs|leistungs)(?:stö\w*|verzögerung)",
                            "(?:unspezifischer )?intraventrikulärer block"]),
        ("label", (LVH,), ["links ?(?:herz)?hypertrophie\\w*",
                           "linksventrikuläre\\w? hypertrophie\\w*"]),
        ("voltage", (SOKOLOW,), ["(?:mäßige )?amplituden ?kriterien (?:für )?(?:eine )?"
                                 "(?:links ?(?:herz)?hypertrophie|lvh)"]),
        ("label", (SOKOLOW,), [
                               "(?:positiver )?sokolow (?:lyon )?(?:index )?positiv",
                               "positiver sokolow(?: lyon)?(?: index)?"]),
        ("label", (RVH,), ["rechts ?(?:herz)?hypertrophie\\w*",
                           "rechtsventrikuläre\\w? hypertrophie\\w*"]),
        ("label", (LAE,), ["p sinistro ?(?:cardiale|kardiale|atriale)", "p mitrale",
                           "links ?atriale (?:überlastung|vergrößerung|hypertrophie)",
                           "vorhofs? ?überlastung links", "links ?vorhof ?(?:überlastung|"
                           "hypertrophie|vergrößerung)", "p verbreiterung"]),
        ("label", (RAE,), ["p dextro ?(?:cardiale|kardiale|atriale)", "p pulmonale",
                           "rechts ?atriale (?:überlastung|vergrößerung|hypertrophie)",
                           "vorhofs? ?überlastung rechts", "rechts ?vorhof ?(?:überlastung|"
                           "hypertrophie|vergrößerung)"]),
        ("label", (BAE,), ["p biatriale", "biatriale (?:überlastung|vergrößerung|hypertrophie)",
                           "vorhofs? ?überlastung beidseits"]),
        ("label", (LOWV,), ["(?:periphere |zentrale |periphere und zentrale )?(?:nieder ?spannung|"
                            "nieder ?voltage|low voltage)"]),
        ("label", (LAD,), ["überdrehter links ?typ", "überdrehte linkslage"]),
        ("label", (RAD,), ["(?:überdrehter )?rechts ?typ", "(?:überdrehte )?rechtslage"]),
        ("none", (), ["links ?typ", "lagetyp(?: normal)?", "normal ?typ", r"indiff\w*\.? ?typ",
                      "steil ?typ", "steil ?lage", "mittel ?lage", "links ?lage", "sagittal ?typ",
                      "(?:schwierig )?bestimmbare qrs achse", "qrs achse"]),
        ("label", (WPW, DELTA), ["prä ?exzitation\\w*"]),
        ("label", (DELTA,), ["delta ?welle\\w*"]),
        ("label", (LQT,), ["qtc? ?(?:zeit ?)?verlängerung", "verlängerte qtc?(?: zeit| dauer)?",
                           "qtc? (?:zeit )?verlängert"]),
        ("label", (PERI,), ["perikarditis"]),
        ("label", (EREP,), ["(?:frühe|vorzeitige) repolarisation"]),
        ("label", (UWAVE,), ["u ?welle\\w*"]),
        ("label", (MISPLACED,), ["elektroden ?vertauschung", "vertauschte (?:extremitäten ?)?"
                                 "(?:elektroden|ableitungen)", "elektroden vertauscht",
                                 "verpolung"]),
        ("label", (ACUTE_MI,), ["(?:akuter|frischer) (?:herz|myokard)?infarkt",
                                "akuter herzinfarkt"]),
        ("q", (), [rf"(?:(?:alter|alte|akuter|frischer|subakuter|chron\w*\.?|abgelaufener|"
                   rf"älterer) )?{TERR} (?:myokard|herz)?infarkt\w*",
                   rf"(?:myokard)?infarkt ?(?:narbe )?{TERR}", rf"{TERR} narbe",
                   "(?:pathologische |tiefe )?q ?(?:zacken?|wellen?)",
                   rf"{TERR} (?:pathologische |tiefe )?q ?(?:zacken?|wellen?)"]),
        ("damage", (), [rf"{TERR} myokardschad\w*"]),
        ("qrsheading", (), [r"qrs\(t\) abnormal"]),
        ("qs", (), ["qs ?(?:komplex\\w*|muster|zacken?)"]),
        ("ste", (), [rf"(?:{TERR} )?st ?(?:strecken)?hebung\w*", "st elevation\\w*",
                     "hebung der st strecke"]),
        ("std", (), [rf"(?:{TERR} )?st ?(?:strecken)?senkung\w*", "senkung der st strecke"]),
        ("std", (DOWN,), ["(?:descendierende|deszendierende|absteigende) st ?(?:strecken)?"
                          "senkung\\w*"]),
        ("std", (UP,), ["(?:ascendierende|aszendierende|aufsteigende) st ?(?:strecken)?senkung\\w*"]),
        ("tinv", (), ["t ?negativierung\\w*", "(?:terminal )?negative\\w? t(?: ?wellen?)?",
                      r"neg\.? t(?: ?wellen?)?", r"t ?(?:wellen? )?neg(?:ativ\w*|\.)?",
                      "t ?veränderung\\w* neg(?:ativ\\w*|\\.)?", "t inversion\\w*"]),
        ("none", (), [
            "(?:sonst )?normales ekg", "ekg normal", "normalbefund", "grenzbefund",
            "(?:path\\.?|pathologisches) ekg", "pathologisch\\w*",
            "st (?:&|und) t abnormal", "t abnormal",
            "unspezifische\\w? abnormale\\w? t", "(?:unspezifische )?(?:st )?t ?veränderung\\w*",
            "erregungsrückbildungsstörung\\w*", "repolarisationsstörung\\w*",
            r"rep\.? ?störung\w*", "pathologische repolarisation",
            rf"{TERR} ischämie\w*",
            r"(?:unspez\.? )?myokardschad\w*", r"(?:unspez\.? )?myokardschädigung\w*",
            "\\w*ischämie\\w*", "links ?belastung", "rechts ?belastung",
            "vorhofs? ?überlastung", "kammerhypertrophie",
            "r s übergang in v ableitungen nach (?:rechts|links) verschoben",
            "(?:schlechte|fehlende|verzögerte) r progression\\w*(?: v\\d(?: ?- ?v?\\d)?)?",
            "(?:vorderwand)?aneurysma", "digitalis\\w*", "überleitung",
            r"supraventrikuläre ersatzsystol\w*(?:\(n\))?", r"ersatzsystol\w*(?:\(n\))?",
            "(?:hohe,? )?spitze t", "bigeminus", "infarkt"]),
    ],
    "fr": [
        ("label", (SIN,), ["rythme sinusal", "tachycardie sinusale", "arythmie sinusale"]),
        ("label", (SIN, REG), ["rythme sinusal régulier"]),
        ("label", (SIN, BRADY), ["bradycardie sinusale"]),
        ("label", (BRADY,), ["bradycardie"]),
        ("label", (AFIB, IRREG), ["fibrillation (?:auriculaire|atriale)", "acfa", "fa",
                                  "arythmie complète(?: par fibrillation (?:auriculaire|atriale))?"]),
        ("label", (FLUTTER,), ["flutter(?: auriculaire| atrial)?"]),
        ("label", (REG,), ["rythme régulier"]),
        ("label", (IRREG,), ["irrégulièrement irrégulier"]),
        ("label", (PVC,), ["extrasystoles? ventriculaires?", "esv", "extrasystolie ventriculaire",
                           "bigéminisme ventriculaire"]),
        ("label", (PVC, MONO), ["extrasystoles? ventriculaires? monomorphes?"]),
        ("label", (PVC, POLY), ["extrasystoles? ventriculaires? polymorphes?"]),
        ("label", (PAC,), ["extrasystoles? (?:auriculaires?|atriales?|supraventriculaires?)",
                           "esa", "essv"]),
        ("label", (SVT,), ["tachycardie (?:supraventriculaire|jonctionnelle)", "tsv"]),
        ("label", (AT,), ["tachycardie atriale", "tachysystolie (?:auriculaire|atriale)"]),
        ("label", (EAR,), ["rythme (?:auriculaire|atrial) ectopique", "rythme ectopique "
                           "(?:auriculaire|atrial)", "rythme du sinus coronaire"]),
        ("label", (JUNC,), ["rythme (?:jonctionnel|nodal)"]),
        ("label", (VT,), ["tachycardie ventriculaire"]),
        ("label", (VR,), ["rythme idioventriculaire(?: accéléré)?", "rythme ventriculaire"]),
        ("label", (VPACE,), ["rythme électro ?entraîné", "électro ?entraînement(?: ventriculaire)?",
                             "stimulation ventriculaire", "entraînement électrosystolique",
                             "stimulateur cardiaque"]),
        ("label", (APACE,), ["stimulation (?:auriculaire|atriale)",
                             "électro ?entraînement (?:auriculaire|atrial)"]),
        ("label", (APACE, VPACE), ["stimulation (?:double chambre|séquentielle|"
                                   "atrio ?ventriculaire)"]),
        ("label", (LVPACE,), ["stimulation biventriculaire", "resynchronisation"]),
        ("label", (AVB1,), ["(?:bloc auriculo ventriculaire|bav) (?:du |de )?(?:1er|premier|1|i) "
                            "degré", "bav (?:1|i)", "allongement (?:de l'espace |du )?pr",
                            "(?:espace |intervalle )?pr allongé"]),
        ("label", (MOB1,), ["(?:bloc auriculo ventriculaire|bav) (?:du |de )?(?:2e|2ème|deuxième|"
                            "second|ii|2) degré (?:de )?(?:type )?(?:mobitz (?:i|1)|"
                            "luciani wenckebach|wenckebach)"]),
        ("label", (MOB2,), ["(?:bloc auriculo ventriculaire|bav) (?:du |de )?(?:2e|2ème|deuxième|"
                            "second|ii|2) degré (?:de )?(?:type )?mobitz (?:ii|2)"]),
        ("none", (), ["(?:bloc auriculo ventriculaire|bav) (?:du |de )?(?:2e|2ème|deuxième|"
                      "second|ii|2) degré"]),
        ("label", (AVB3,), ["(?:bloc auriculo ventriculaire|bav) (?:du |de )?(?:3e|3ème|troisième|"
                            "iii|3) degré", "(?:bloc auriculo ventriculaire|bav) complet"]),
        ("label", (LBBB,), ["bloc de branche gauche(?: complet)?", "bbgc?", "bbg complet"]),
        ("label", (RBBB,), ["bloc de branche droit(?: complet)?", "bbdc?", "bbd complet"]),
        ("none", (), ["bloc de branche (?:gauche|droit) incomplet", "bbgi", "bbdi",
                      "bb[gd] incomplet", "bloc bifasciculaire"]),
        ("label", (LAFB,), ["hémibloc (?:gauche )?antérieur(?: gauche)?", "hbag",
                            "bloc fasciculaire antérieur gauche"]),
        ("label", (LPFB,), ["hémibloc postérieur gauche", "hbpg",
                            "bloc fasciculaire postérieur gauche"]),
        ("label", (IVCD,), ["troubles? de (?:la )?conduction intraventriculaire(?: non spécifiques?)?",
                            "retard de conduction intraventriculaire",
                            "bloc intraventriculaire(?: non spécifique)?"]),
        ("label", (LVH,), ["hypertrophie ventriculaire gauche", "hvg"]),
        ("voltage", (SOKOLOW,), ["critères (?:de voltage|électriques|de sokolow) "
                                 "d'hypertrophie ventriculaire gauche"]),
        ("label", (SOKOLOW,), [
                               "indice de sokolow (?:positif|> ?35\\w*)"]),
        ("label", (RVH,), ["hypertrophie ventriculaire droite", "hvd"]),
        ("label", (LAE,), ["hypertrophie (?:auriculaire|atriale) gauche", "hag",
                           "dilatation (?:de l'oreillette|auriculaire|atriale) gauche",
                           "surcharge (?:auriculaire|atriale) gauche"]),
        ("label", (RAE,), ["hypertrophie (?:auriculaire|atriale) droite",
                           "dilatation (?:de l'oreillette|auriculaire|atriale) droite",
                           "surcharge (?:auriculaire|atriale) droite"]),
        ("label", (BAE,), ["hypertrophie bi ?(?:auriculaire|atriale)"]),
        ("label", (LOWV,), ["micro ?voltage(?: périphérique| diffus| standard)?", "bas voltage"]),
        ("label", (LAD,), ["déviation axiale gauche", "axe (?:hyper ?)?gauche",
                           "axe dévié à gauche"]),
        ("label", (RAD,), ["déviation axiale droite", "axe (?:hyper ?)?droit",
                           "axe dévié à droite"]),
        ("none", (), ["axe (?:normal|indéterminé)"]),
        ("label", (WPW, DELTA), ["pré ?excitation(?: ventriculaire)?"]),
        ("label", (DELTA,), ["ondes? delta"]),
        ("label", (LQT,), ["(?:intervalle )?qtc? (?:long|allongé)", "allongement (?:de l'intervalle |"
                           "du )?qtc?"]),
        ("label", (PERI,), ["péricardite(?: aiguë)?"]),
        ("label", (EREP,), ["(?:syndrome de )?repolarisation précoce"]),
        ("label", (UWAVE,), ["ondes? u"]),
        ("label", (MISPLACED,), ["inversion (?:des |d')?(?:électrodes|dérivations|câbles)",
                                 "erreur de (?:placement|branchement)", "électrodes? inversées?"]),
        ("label", (ACUTE_MI,), ["infarctus (?:du myocarde )?aigu", "sca st ?\\+"]),
        ("q", (), [rf"(?:infarctus|idm|nécrose|séquelles? (?:de nécrose|d'infarctus)|ondes? q de "
                   rf"nécrose) (?:du myocarde )?(?:ancien |récent |aigu |en )?(?:territoire )?"
                   rf"{TERR}", "ondes? q(?: pathologiques?| de nécrose)?"]),
        ("qs", (), ["(?:aspect|complexes?) qs"]),
        ("ste", (), [rf"(?:sus ?décalage|surélévation) (?:du segment st|de st|st)?(?: {TERR})?"]),
        ("std", (), [rf"(?:sous ?décalage|dépression) (?:du segment st|de st|st)?(?: {TERR})?"]),
        ("std", (DOWN,), ["sous ?décalage (?:du segment st |de st |st )?descendant"]),
        ("std", (UP,), ["sous ?décalage (?:du segment st |de st |st )?ascendant"]),
        ("tinv", (), [rf"ondes? t (?:négatives?|inversées?)(?: {TERR})?",
                      "inversion des ondes t", "t négatives?", "négativation des ondes t"]),
        ("none", (), ["ecg normal", "ecg dans les limites de la normale", "ischémie\\w*",
                      "troubles? (?:diffus )?de (?:la )?repolarisation",
                      "ondes? t (?:plates?|aplaties?)", "aplatissement des ondes t",
                      "surcharge ventriculaire (?:gauche|droite)",
                      "lésion sous (?:épicardique|endocardique)", "imprégnation digitalique",
                      "infarctus", "nécrose"]),
    ],
    "sv": [
        ("label", (SIN,), ["sinus ?rytm", "sinus ?arytmi", "sinus ?(?:takykardi|tachykardi)"]),
        ("label", (SIN, BRADY), ["sinus ?bradykardi"]),
        ("label", (BRADY,), ["bradykardi"]),
        ("label", (AFIB, IRREG), ["förmaks ?flimmer(?: ?/ ?(?:förmaks)?fladder)?"]),
        ("label", (FLUTTER,), ["förmaks ?fladder"]),
        ("label", (REG,), ["regelbunden rytm"]),
        ("label", (PVC,), [r"ventrikulär(?:a|\(a\))? extra ?systol\w*(?:\(er\))?",
                           "ventrikulära extraslag", r"kammar ?extra ?systol\w*(?:\(er\))?"]),
        ("label", (PAC,), [r"supraventrikulär(?:a|\(a\))? extra ?systol\w*(?:\(er\))?",
                           "supraventrikulära extraslag", r"förmaks ?extrasystol\w*(?:\(er\))?"]),
        ("label", (SVT,), ["supraventrikulär (?:takykardi|tachykardi)"]),
        ("label", (AT,), ["förmaks ?takykardi"]),
        ("label", (JUNC,), ["nodal ?rytm", "junktionell rytm"]),
        ("label", (VT,), ["ventrikulär (?:takykardi|tachykardi)", "kammar ?takykardi"]),
        ("label", (VR,), ["idioventrikulär rytm"]),
        ("label", (VPACE,), ["pacemaker ?rytm", "pacad rytm"]),
        ("label", (LBBB,), ["vänster(?:sidigt)? skänkel ?block"]),
        ("label", (RBBB,), ["höger(?:sidigt)? skänkel ?block"]),
        ("none", (), ["(?:ospecifikt )?inkomplett (?:vänster|höger)(?:sidigt)? skänkel ?block",
                      "ospecifikt inkomplett skänkel ?block", "bifaskikulärt block",
                      "bifascikulärt block"]),
        ("label", (IVCD,), ["ospecifikt skänkel ?block", "intraventrikulärt ledningshinder"]),
        ("label", (LAFB,), ["vänster(?:sidigt)? (?:främre|anteriort?) (?:hemi|fascikel) ?block"]),
        ("label", (LPFB,), ["vänster(?:sidigt)? (?:bakre|posteriort?) (?:hemi|fascikel) ?block"]),
        ("label", (AVB1,), ["förlängd p[qr] ?(?:tid|intervall)", "p[qr] ?(?:tid|intervall)(?:et)? "
                            "(?:är )?förläng[dt]", "(?:första|1:a) gradens av ?block"]),
        ("label", (LVH,), ["vänster ?kammar\\w?hypertrofi"]),
        ("voltage", (SOKOLOW,), [r"(?:måttliga )?amplitud ?krit\w*\.? för vänster ?kammar\w?"
                               r"hypertrofi"]),
        ("label", (RVH,), ["höger ?kammar\\w?hypertrofi"]),
        ("label", (LAE,), ["vänster förmaks ?(?:förstoring|belastning|hypertrofi)"]),
        ("label", (RAE,), ["höger förmaks ?(?:förstoring|belastning|hypertrofi)"]),
        ("label", (LOWV,), ["låga (?:qrs )?amplituder\\w*(?: i (?:extremitets|bröst)avledningarna)?",
                            "låg ?volt\\w*"]),
        ("label", (LAD,), ["(?:extrem )?vänster ?(?:ställd )?el ?axel"]),
        ("label", (RAD,), ["(?:extrem )?höger ?(?:ställd )?el ?axel"]),
        ("none", (), ["svår ?bestäm\\w* el ?axel", "el ?axel"]),
        ("label", (LQT,), ["qt ?(?:tid )?förlängd", "förlängd qt(?: tid)?", "qt ?förlängning"]),
        ("label", (PERI,), ["perikardit"]),
        ("label", (EREP,), ["tidig repolarisation"]),
        ("q", (), [rf"{TERR} (?:hjärt)?infarkt\w*", "(?:patologiska )?q ?våg(?:or)?"]),
        ("qs", (), ["qs ?(?:komplex\\w*|mönster)"]),
        ("damage", (), [rf"{TERR} myokardskada\w*"]),
        ("qrsheading", (), [r"avvikande qrs\(t\) förlopp"]),
        ("ste", (), [rf"(?:{TERR} )?st ?(?:höjning\w*|lyft)"]),
        ("std", (), [rf"(?:{TERR} )?st(?: ?t)? ?sänkning\w*"]),
        ("tinv", (), ["negativa t(?: ?vågor)?", "inverterade t(?: ?vågor)?", "t ?vågs ?inversion"]),
        ("none", (), [
            "(?:eljest )?normalt ekg", "inget säkert patologiskt",
            "ospecifik\\w* (?:st )?t ?förändring\\w*", "(?:st )?t ?förändring\\w*",
            rf"{TERR} (?:ischemi|myokardaffektion)\w*",
            "\\w*ischemi\\w*", "vänster (?:kammar)?belastning", "kammar ?belastning",
            "myokardaffektion", "myokardskada", "flacka t ?vågor", "slag med avvikande "
            "impulsutbredning", r"supraventrikulär(?:a|\(a\))? escape beat\(?s?\)?",
            r"escape beat\(?s?\)?", "bröstavledningarnas r s transition förskjuten"
            "(?: åt (?:vänster|höger))?", "p förlängd", "oförändrat(?: jmf med ekg \\d*)?",
            "aneurysm", "infarkt", "inga p ?vågor? funna"]),
    ],
}

# negation (neg), uncertainty (unc), history (hist) and neutral qualifiers (masking cues)
_CUES = {
    "*": [
        ("unc", "both", [r"\?"]),
    ],
    "en": [
        ("neg", "pre", ["no", "not", "without", "absence of", "negative for",
                        "free of", "never", "no longer", "no evidence of", "no sign of",
                        "no ecg evidence(?: to suggest)?", "rather than", "neither", "nor"]),
        ("neg", "post", ["(?:is |are |was )?(?:absent|not seen|not present|ruled out|"
                         "excluded|resolved)"]),
        ("neg", "both", ["(?:would be |is )?unlikely"]),
        ("unc", "both", ["(?:is )?(?:possible|probable|likely|suspected)"]),
        ("unc", "pre", ["possibly", "probably",
                        "may be", "might be", "cannot rule out", "can not rule out",
                        "cannot exclude", "suspicion of", "questionable",
                        "borderline", "consider", "query", "suggestive of", "maybe",
                        "suggest(?:s|ing)?",
                        "equivocal"]),
        ("unc", "post", ["cannot be (?:entirely |completely |definitely )?(?:excluded|ruled out)",
                         "not (?:be )?excluded",
                         "is a likely cause", "(?:is )?not certain"]),
        ("hist", "pre", ["previously", "formerly", "cardioversion of", "rhythm was previously"]),
        ("neutral", "pre", [
            "(?:probably|possibly|likely) (?:old|recent|acute|of recent onset)",
            "(?:of )?(?:uncertain|undetermined|indeterminate) age", "age undetermined",
            "with (?:rapid|slow|controlled) ventricular response", "probably a normal variant",
            "normal for age", "compared with", "it is not significantly changed",
            "no significant change", "not significantly changed", "of doubtful significance",
            "the cause of the bradycardia is not evident", "lead v\\d shows artifact"]),
    ],
    "de": [
        ("neg", "pre", ["kein(?:e|en|er|es|em)?", "ohne", "nicht", "kein anhalt für",
                        "kein hinweis auf", "keine zeichen (?:eines?|für)", "ausschluss"]),
        ("neg", "post", ["ausgeschlossen", "nicht (?:mehr )?nachweisbar", "nicht vorhanden",
                         "unwahrscheinlich", "nicht sichtbar"]),
        ("unc", "both", ["wahrscheinlich", "möglich(?:er|e|es)?", "möglicherweise", "fraglich\\w*",
                         "vermutlich", "vermutet"]),
        ("unc", "pre", ["verdacht auf", r"v\. ?a\.?", "eventuell", r"evtl\.?", r"dd:?",
                        "am ehesten", "grenzwertig\\w*", "angedeutet\\w*"]),
        ("unc", "post", ["nicht (?:sicher )?auszuschlie(?:ß|ss|s)en", "nicht (?:sicher )?"
                         "ausgeschlossen", "nicht sicher", "kann nicht ausgeschlossen werden"]),
        ("hist", "pre", ["früher", "vorher", "cardioversion von", "kardioversion von",
                         "erfolgreiche (?:cardioversion|kardioversion) von"]),
        ("neutral", "pre", [
            "(?:wahrscheinlich|möglicherweise|vermutlich) (?:alt|älter|frisch)",
            r"alter unbest\w*\.?", "alters unbestimmt", "unbestimmten alters", "interponierte",
            "sonst", r"insbes\.?", "unverändert", "keine p ?welle erkannt"]),
    ],
    "fr": [
        ("neg", "pre", ["pas de", "pas d'", "sans", "absence de", "absence d'", "aucune?",
                        "ni", "plus de"]),
        ("neg", "post", ["absente?s?", "exclue?s?", "non retrouvée?s?", "disparue?s?",
                         "peu probable", "improbable"]),
        ("unc", "both", ["possible", "probable", "douteux", "douteuse", "suspectée?s?"]),
        ("unc", "pre", ["probablement", "suspicion de", "suspicion d'", "peut être",
                        "éventuel\\w*", "évocat\\w* (?:de|d')", "évoquant", "doute sur"]),
        ("unc", "post", ["non exclue?s?", "ne peut (?:pas )?être exclue?s?", "à éliminer",
                         "à confirmer"]),
        ("hist", "pre", ["antécédents? de", "ancien(?:ne)?ment", "cardioversion (?:de|du|d')"]),
        ("neutral", "pre", ["d'âge indéterminé", "probablement (?:ancien|récent)\\w*"]),
    ],
    "sv": [
        ("neg", "pre", ["ingen", "inget", "inga", "inte", "ej", "utan"]),
        ("neg", "post", ["ej påvisbar\\w*", "uteslutes", "osannolik\\w*"]),
        ("unc", "both", ["möjligen", "möjlig\\w*", "sannolikt", "sannolik", "misstänkt"]),
        ("unc", "pre", ["överväg", "misstanke om", "såsom vid", "tveksam\\w*", "som vid"]),
        ("unc", "post", ["bör övervägas", "kan (?:ej|inte) uteslutas", "ifrågasatt"]),
        ("neutral", "pre", ["(?:sannolikt|möjligen) (?:äldre|färsk|ny)",
                            "ålder ej bestämmbar", "interpolerade", "eljest",
                            "med hög kammarfrekvens"]),
    ],
}

# words that never make a phrase worth reporting on their own
FILLER = frozenset("""
a an the and or of in on at to is are was were be been this that these those with by for from
as it its there which than but also very minor slight slightly mild marked markedly
leads lead limb chest precordial ecg ekg tracing changes change seen present compared
und oder der die das des dem den ein eine einer eines mit bei im in auf ist sind von zu nach
et ou de du des la le les un une avec en dans sur est sont au aux
och eller med vid i pa paa av som ar en ett det den
jetzt dh unter seit um
einzelne vereinzelte vereinzelt gehaeufte haeufige zahlreiche zeichen occasional frequent
isolated multiple single enstaka taeta gammal aeldre alt alte alter old
consistent compatible keeping suggesting suggests suggest suggestive due cause caused may might
most commonly common findings finding evident noted shows show what
""".split())


def _compile():
    rules, cues = [], []
    for lang, table in _FINDINGS.items():
        for kind, labels, patterns in table:
            for source in patterns:
                rules.append(Rule(compile_pattern(source), kind, tuple(labels), lang, source))
    for lang, table in _CUES.items():
        for kind, scope, patterns in table:
            for source in patterns:
                cues.append(Cue(compile_pattern(source), kind, scope, lang, source))
    return tuple(rules), tuple(cues)


RULES, CUES = _compile()

# words that point to a language (normalised spelling), for language="auto"
MARKERS = {
    "en": frozenset("the and of is are with rhythm waves wave leads left right possible probably "
                    "suggesting consistent due this may otherwise no not degree deviation axis "
                    "segments inverted depressed elevated complexes premature".split()),
    "de": frozenset("und der die das mit bei sonst nicht kein keine sinusrhythmus typ linkstyp "
                    "rechtstyp lagetyp wahrscheinlich moeglich abnormales unspezifisches "
                    "niederspannung normales inferiorer anteriorer schenkelblock extrasystole(n) "
                    "ueberdrehter verdacht auf oder".split()),
    "fr": frozenset("le la les des du de avec sans et rythme sinusal onde ondes bloc branche pas "
                    "gauche droit droite axe aucun aucune repolarisation".split()),
    "sv": frozenset("och med eller vid inte ej sinusrytm avvikande vaenster hoeger normalt saasom "
                    "foerlopp el-axel skaenkelblock inget eljest kammarhypertrofi boer oevervaegas "
                    "sannolikt moejligen foer aalder".split()),
}
