"""Rebuild the preprocessing recorded in a model card, and read its sampling rates.

``save(path, preprocessing=pipe)`` records ``repr(pipe)`` in ``card.json``. scikit-learn's
repr lists the parameters that differ from their defaults, so it is enough to rebuild the
pipeline. The text is parsed with :mod:`ast` and only calls to the ecgsk preprocessing
classes (and scikit-learn's ``Pipeline``) with literal arguments are accepted: a card is
data, and loading one must never run code from it.
"""

from __future__ import annotations

import ast
import math

from sklearn.pipeline import Pipeline

from .. import preprocessing as _pre
from ._errors import CLIError


def _allowed_classes() -> dict[str, type]:
    classes = {name: getattr(_pre, name) for name in _pre.__all__}
    allowed = {name: obj for name, obj in classes.items() if isinstance(obj, type)}
    allowed["Pipeline"] = Pipeline
    return allowed


_NUMPY_SCALARS = {
    "float16": float, "float32": float, "float64": float, "int8": int, "int16": int,
    "int32": int, "int64": int, "uint8": int, "uint16": int, "uint32": int, "uint64": int,
    "bool_": bool, "str_": str,
}
_NAMES = {"inf": math.inf, "nan": math.nan, "None": None, "True": True, "False": False}


class _Builder:
    def __init__(self, source: str):
        self.source = source
        self.classes = _allowed_classes()

    def fail(self, node, why: str):
        snippet = ast.get_source_segment(self.source, node) or ""
        raise CLIError(
            f"the model card's preprocessing cannot be rebuilt: {why} ({snippet[:80]!r})"
        )

    def value(self, node):
        if isinstance(node, ast.Constant):
            if node.value is Ellipsis:
                self.fail(node, "it was recorded truncated ('...')")
            return node.value
        if isinstance(node, (ast.List, ast.Tuple)):
            items = [self.value(item) for item in node.elts]
            return items if isinstance(node, ast.List) else tuple(items)
        if isinstance(node, ast.Dict):
            pairs = zip(node.keys, node.values, strict=True)
            return {self.value(k): self.value(v) for k, v in pairs}
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            operand = self.value(node.operand)
            if isinstance(operand, bool) or not isinstance(operand, (int, float)):
                self.fail(node, "a sign applies only to numbers")
            return -operand if isinstance(node.op, ast.USub) else operand
        if isinstance(node, ast.Name) and node.id in _NAMES:
            return _NAMES[node.id]
        if isinstance(node, ast.Call):
            return self.call(node)
        self.fail(node, "it holds something other than a literal or a preprocessing step")

    def call(self, node: ast.Call):
        func = node.func
        # numpy 2 writes scalars as np.float64(250.0)
        if (
            isinstance(func, ast.Attribute)
            and isinstance(func.value, ast.Name)
            and func.value.id in {"np", "numpy"}
            and func.attr in _NUMPY_SCALARS
            and len(node.args) == 1
            and not node.keywords
        ):
            return _NUMPY_SCALARS[func.attr](self.value(node.args[0]))
        if not isinstance(func, ast.Name) or func.id not in self.classes:
            self.fail(node, "only ecgsk.preprocessing steps and Pipeline may appear")
        args = [self.value(arg) for arg in node.args]
        kwargs = {}
        for keyword in node.keywords:
            if keyword.arg is None:
                self.fail(node, "** arguments are not allowed")
            kwargs[keyword.arg] = self.value(keyword.value)
        if "steps" in kwargs:  # steps come back as lists; Pipeline wants (name, step) pairs
            kwargs["steps"] = [tuple(step) for step in kwargs["steps"]]
        try:
            return self.classes[func.id](*args, **kwargs)
        except TypeError as exc:
            self.fail(node, str(exc))


def pipeline_from_card(text: str | None):
    """Rebuild the unfitted preprocessing recorded in a model card, or None.

    Parameters
    ----------
    text : str or None
        The card's ``"preprocessing"`` entry (the repr of the object given to
        ``save(..., preprocessing=)``).

    Returns
    -------
    estimator or None
        A fresh, unfitted transformer (usually an :class:`~ecgsk.preprocessing.ECGPipeline`).

    Raises
    ------
    CLIError
        If the text is not a call of ecgsk preprocessing classes with literal arguments.

    Examples
    --------
    >>> from ecgsk.preprocessing import make_deepecg_preprocessing
    >>> pipe = pipeline_from_card(repr(make_deepecg_preprocessing(500)))
    >>> [name for name, _ in pipe.steps][:3], pipe.named_steps["resample"].sfreq_in
    (['leads', 'bandpass', 'notch'], 500.0)
    >>> pipeline_from_card(None) is None
    True
    """
    if text is None:
        return None
    if not isinstance(text, str) or not text.strip():
        raise CLIError(f"the model card's preprocessing entry is not a description: {text!r}")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise CLIError(
            f"the model card's preprocessing cannot be rebuilt: it is not a Python expression "
            f"({exc.msg})"
        ) from None
    return _Builder(text.strip()).value(tree.body)


def active_steps(pipe) -> list:
    """The steps of a pipeline that do something (or ``[pipe]`` for a single transformer)."""
    if isinstance(pipe, Pipeline):
        return [step for _, step in pipe.steps if step is not None and step != "passthrough"]
    return [pipe]


def pipeline_rates(pipe) -> tuple[float | None, float | None]:
    """Sampling rate a preprocessing expects at its input and produces at its output.

    Read from the steps' ``sfreq``, ``sfreq_in`` and ``sfreq_out`` parameters; ``(None,
    None)`` when no step depends on the rate.

    Examples
    --------
    >>> from ecgsk.preprocessing import make_deepecg_preprocessing
    >>> pipeline_rates(make_deepecg_preprocessing(500))
    (500.0, 250.0)
    """
    rate_in = rate_out = None
    for step in active_steps(pipe):
        params = step.get_params(deep=False)
        if "sfreq_in" in params and "sfreq_out" in params:
            step_in, step_out = float(params["sfreq_in"]), float(params["sfreq_out"])
        elif "sfreq" in params and params["sfreq"] is not None:
            step_in = step_out = float(params["sfreq"])
        else:
            continue
        if rate_in is None:
            rate_in = step_in
        rate_out = step_out
    return rate_in, rate_out


def lead_step(pipe):
    """The first active step if it is a :class:`~ecgsk.preprocessing.ReorderLeads`, else None."""
    steps = active_steps(pipe)
    if steps and isinstance(steps[0], _pre.ReorderLeads):
        return steps[0]
    return None
