"""Sphinx configuration for the ecgsk documentation."""

from __future__ import annotations

import os
import sys

import ecgsk

# Local extension: tables generated from ecgsk at build time (labels, SCP mapping, models).
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "_ext"))

project = "ecgsk"
author = "the ecgsk developers"
copyright = "2026, the ecgsk developers"
release = ecgsk.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "ecgsk_tables",
]

autosummary_generate = True
autodoc_default_options = {"members": True, "inherited-members": False}
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
templates_path = ["_templates"]
exclude_patterns = ["_build", "auto_examples/*.ipynb", "auto_examples/*.py", "auto_examples/*.zip"]

# Offline builds: no intersphinx inventories are fetched.
intersphinx_mapping: dict = {}

html_theme = "pydata_sphinx_theme"
html_static_path = ["_static"]
html_title = f"ecgsk {release}"
html_theme_options = {"show_prev_next": True, "navigation_with_keys": False}

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "ignore_pattern": r"demo\.py",
    "within_subsection_order": "FileNameSortKey",
    "download_all_examples": False,
    "plot_gallery": os.environ.get("ECGSK_DOCS_PLOT", "True"),
    "remove_config_comments": True,
}
