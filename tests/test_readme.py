"""The README's Python quick start runs verbatim, and the docs show the same code."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
GETTING_STARTED = ROOT / "docs" / "getting_started.rst"


def _first_python_block(markdown: str) -> str:
    match = re.search(r"^```python[ \t]*\n(.*?)^```", markdown, flags=re.M | re.S)
    assert match is not None, f"{README} has no ```python code block"
    return match.group(1)


def _rst_code_blocks(rst: str) -> list[str]:
    """Bodies of the ``.. code-block:: python`` directives of a reST file, dedented."""
    blocks = []
    lines = rst.splitlines()
    for i, line in enumerate(lines):
        if line.strip() != ".. code-block:: python":
            continue
        body = []
        for following in lines[i + 1 :]:
            if following.strip() and not following.startswith((" ", "\t")):
                break
            body.append(following)
        blocks.append(textwrap.dedent("\n".join(body)).strip("\n") + "\n")
    return blocks


def test_readme_quick_start_runs_verbatim(capsys):
    code = _first_python_block(README.read_text(encoding="utf-8"))
    namespace: dict = {"__name__": "__readme__"}
    exec(compile(code, str(README), "exec"), namespace)  # noqa: S102 - the point of the test
    printed = capsys.readouterr().out
    assert printed.strip(), "the quick start printed nothing"
    # The README promises (200, 12, 2500) float32 at 250 Hz from the bundled sample.
    X = namespace["X"]
    assert X.shape == (200, 12, 2500) and X.dtype == np.float32
    assert str(X.shape) in printed
    assert np.isfinite(X).all()


def test_getting_started_shows_the_readme_quick_start():
    readme_code = _first_python_block(README.read_text(encoding="utf-8")).strip("\n") + "\n"
    blocks = _rst_code_blocks(GETTING_STARTED.read_text(encoding="utf-8"))
    assert readme_code in blocks, (
        "docs/getting_started.rst must show the README's quick start verbatim "
        "(a `.. code-block:: python` with the same lines)"
    )
