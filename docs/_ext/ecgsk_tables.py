"""Sphinx directives that build reference tables from the installed ecgsk at build time.

The tables are generated, not written by hand, so that the documentation cannot drift from
the code: ``ecgsk-label-table`` (the 77 DeepECG labels and their categories),
``ecgsk-category-table`` (label counts per category), ``ecgsk-scp-table`` (the PTB-XL SCP ->
DeepECG mapping and the unmapped statements) and ``ecgsk-model-table`` (the model registry
with its documented parameter counts). It also gives constants re-exported by a package the
doc comment of their defining module.
"""

from __future__ import annotations

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.util.docutils import SphinxDirective


def _table(header: list[str], rows: list[list[str]], widths: list[int]) -> nodes.table:
    table = nodes.table(classes=["ecgsk-generated"])
    group = nodes.tgroup(cols=len(header))
    table += group
    for width in widths:
        group += nodes.colspec(colwidth=width)
    head = nodes.thead()
    group += head
    head += _row(header)
    body = nodes.tbody()
    group += body
    for cells in rows:
        body += _row(cells)
    return table


def _row(cells: list[str]) -> nodes.row:
    row = nodes.row()
    for text in cells:
        entry = nodes.entry()
        entry += nodes.paragraph(text=text)
        row += entry
    return row


class LabelTable(SphinxDirective):
    """The 77 labels in output order, with their categories and PTB-XL statements."""

    def run(self):
        from ecgsk.labels import DEEPECG_LABELS, SCP_TO_DEEPECG, label_categories

        sources: dict[str, list[str]] = {name: [] for name in DEEPECG_LABELS}
        for code, targets in SCP_TO_DEEPECG.items():
            for target in targets:
                sources[target].append(code)
        rows = [
            [str(i), name, "; ".join(label_categories(name)), ", ".join(sources[name]) or "-"]
            for i, name in enumerate(DEEPECG_LABELS)
        ]
        header = ["#", "Label", "Category", "PTB-XL statements"]
        return [_table(header, rows, [4, 40, 28, 20])]


class CategoryTable(SphinxDirective):
    """Number of labels per category."""

    def run(self):
        from ecgsk.labels import DEEPECG_CATEGORIES

        rows = [[name, str(len(members))] for name, members in DEEPECG_CATEGORIES.items()]
        return [_table(["Category", "Labels"], rows, [50, 10])]


class ScpTable(SphinxDirective):
    """The PTB-XL SCP statements with a DeepECG counterpart, or those without one."""

    option_spec = {"unmapped": directives.flag}

    def run(self):
        from ecgsk.labels import PTBXL_SCP_STATEMENTS, SCP_TO_DEEPECG, UNMAPPED_SCP

        if "unmapped" in self.options:
            text = ", ".join(f"``{code}``" for code in UNMAPPED_SCP)
            intro = (
                f"{len(UNMAPPED_SCP)} of the {len(PTBXL_SCP_STATEMENTS)} PTB-XL statements "
                f"have no DeepECG counterpart: {text}."
            )
            return self.parse_text_to_nodes(intro)
        rows = [[code, "; ".join(targets)] for code, targets in SCP_TO_DEEPECG.items()]
        return [_table(["SCP statement", "DeepECG labels"], rows, [15, 60])]


class ModelTable(SphinxDirective):
    """The model registry: names, documented parameter counts and descriptions."""

    def run(self):
        from ecgsk.nn import list_models, model_info

        rows = []
        for name in list_models():
            spec = model_info(name)
            rows.append([name, f"{spec.n_params:,}", "yes" if spec.tiny else "", spec.description])
        header = ["Name", "Parameters", "Tiny", "Description"]
        return [_table(header, rows, [20, 14, 6, 60])]


def _defining_module_doc(fullname: str, obj) -> list[str] | None:
    """The doc comment of a constant re-exported by a package, read in its defining module.

    autodoc looks for the string literal under an assignment only in the module named in the
    directive; for ``ecgsk.preprocessing.DEEPECG_TARGET_MAGNITUDE`` that is the package's
    ``__init__``, so it would fall back to the docstring of ``float``.
    """
    import importlib
    import pkgutil

    from sphinx.pycode import ModuleAnalyzer

    package_name, _, attr = fullname.rpartition(".")
    package = importlib.import_module(package_name)
    candidates = [package_name]
    if hasattr(package, "__path__"):
        candidates += [f"{package_name}.{m.name}" for m in pkgutil.iter_modules(package.__path__)]
    for modname in candidates:
        module = importlib.import_module(modname)
        if getattr(module, attr, None) is not obj:
            continue
        docs = ModuleAnalyzer.for_module(modname).find_attr_docs()
        if ("", attr) in docs:
            return list(docs[("", attr)])
    return None


def _fix_constant_docstrings(app, what, name, obj, options, lines):
    if what != "data" or not name.startswith("ecgsk."):
        return
    own = _defining_module_doc(name, obj)
    if own is not None:
        lines[:] = own
        return
    # No doc comment anywhere: drop the docstring of the value's type (tuple, float...).
    builtin_start = " ".join((type(obj).__doc__ or "").split())[:40]
    if builtin_start and builtin_start in " ".join(" ".join(lines).split()):
        lines[:] = []


def setup(app):
    app.connect("autodoc-process-docstring", _fix_constant_docstrings)
    app.add_directive("ecgsk-label-table", LabelTable)
    app.add_directive("ecgsk-category-table", CategoryTable)
    app.add_directive("ecgsk-scp-table", ScpTable)
    app.add_directive("ecgsk-model-table", ModelTable)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
