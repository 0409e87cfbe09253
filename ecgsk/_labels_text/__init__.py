"""Labels from ECG report text (re-exported by :mod:`ecgsk.labels`).

Modules: ``_normalize`` (folding, statements, pattern syntax), ``_lexicon`` (the phrases),
``_territory`` (leads and territories), ``_extract`` (matching, negation and uncertainty
scopes), ``_api`` (:func:`labels_from_text`, :class:`LabelExtraction`).
"""

from ._api import LabelExtraction, labels_from_text

__all__ = ["LabelExtraction", "labels_from_text"]
