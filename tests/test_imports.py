"""The import structure of ecgsk: no circles, no imports back up to the package root, and
importing ecgsk changes nothing in other libraries."""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import ecgsk

ROOT = Path(ecgsk.__file__).parent
PACKAGE = "ecgsk"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


def _imports(name: str, path: Path, modules) -> list[tuple[str, str | None, int]]:
    """``(target module, imported name or None, line)`` of every ecgsk import in the file.

    Module-level and function-level imports alike (the whole tree is walked); relative imports
    are resolved against the module's package; ``from pkg import sub`` targets ``pkg.sub``
    when ``sub`` is a module.
    """
    is_package = path.name == "__init__.py"
    package = name if is_package else name.rpartition(".")[0]
    out = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out += [(a.name, None, node.lineno) for a in node.names
                     if a.name == PACKAGE or a.name.startswith(PACKAGE + ".")]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target != PACKAGE and not target.startswith(PACKAGE + "."):
                continue
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                out.append((sub, None, node.lineno) if sub in modules
                           else (target, alias.name, node.lineno))
    return out


def import_graph() -> dict[str, set[str]]:
    """Module -> the ecgsk modules it imports (anywhere in its code)."""
    modules = _modules()
    graph = {}
    for name, path in modules.items():
        graph[name] = {t for t, _, _ in _imports(name, path, modules) if t in modules and t != name}
    return graph


def strongly_connected_components(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm (iterative); components of one module are included."""
    index, low, on_stack, stack, out = {}, {}, set(), [], []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                out.append(sorted(component))
    return out


def test_the_graph_sees_function_level_and_relative_imports():
    graph = import_graph()
    assert len(graph) > 50
    # module level, relative: from ._cards import ... in _persistence
    assert "ecgsk.estimators._cards" in graph["ecgsk.estimators._persistence"]
    # function level: resolve_network imports ecgsk.nn inside the function
    assert "ecgsk.nn" in graph["ecgsk.estimators._cards"]
    cycle = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert sorted(map(len, strongly_connected_components(cycle))) == [1, 3]


def test_no_import_circles():
    circles = [c for c in strongly_connected_components(import_graph()) if len(c) > 1]
    assert not circles, "import circles (strongly connected components):\n" + "\n".join(
        f"  {len(c)} modules: {', '.join(c)}" for c in circles)


def test_no_import_from_a_subpackage_back_up_to_the_package_root():
    modules = _modules()
    bad = [
        f"{name} line {line}: from {PACKAGE} import {what}"
        for name, path in modules.items() if name != PACKAGE
        for target, what, line in _imports(name, path, modules)
        if target == PACKAGE and what is not None  # a name of ecgsk/__init__, not a submodule
    ]
    assert not bad, "\n".join(bad)


def _run(code: str) -> str:
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                         text=True, timeout=300, cwd=ROOT.parent)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_importing_ecgsk_changes_nothing_in_scikit_learn():
    out = _run("""
        import sys
        from sklearn.metrics import get_scorer_names
        from sklearn.model_selection import GridSearchCV, cross_val_score
        from sklearn.utils._param_validation import StrOptions

        def constraints():
            seen = []
            for name, module in sorted(sys.modules.items()):
                if module is None or not name.startswith("sklearn"):
                    continue
                for key, obj in sorted(vars(module).items()):
                    for table in (getattr(obj, "_skl_parameter_constraints", None),
                                  vars(obj).get("_parameter_constraints")
                                  if isinstance(obj, type) else None):
                        for param, options in (table or {}).items():
                            for c in options if isinstance(options, list) else ():
                                if isinstance(c, StrOptions):
                                    seen.append(((name, key, param), sorted(c.options)))
            return dict(seen)

        names, before = sorted(get_scorer_names()), constraints()
        import ecgsk, ecgsk.metrics, ecgsk.estimators, ecgsk.nn, ecgsk.cli
        from ecgsk import ECGClassifier
        after = constraints()
        assert "roc_auc_macro" not in get_scorer_names()
        # the constraints of every scikit-learn object loaded before ecgsk, unchanged
        same = names == sorted(get_scorer_names()) and all(after[k] == v for k, v in before.items())
        print(same, len(before))
    """)
    same, n_constraints = out.split()
    assert same == "True" and int(n_constraints) > 10


@pytest.mark.parametrize("module", ["ecgsk", "ecgsk.nn"])
def test_ecgsk_nn_imports_neither_sklearn_nor_pandas(module):
    out = _run(f"""
        import sys
        import {module}
        print(sorted(m for m in ("sklearn", "pandas", "skorch") if m in sys.modules))
    """)
    assert out == "[]"
