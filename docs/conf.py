"""Sphinx configuration for the sknn documentation.

The pages are Markdown (read as they are on GitHub) and are parsed by MyST.
Build them locally, from the repository root::

    pip install sphinx myst-parser numpydoc
    sphinx-build docs docs/_build

sknn is imported from this checkout, so it does not need to be installed; its
runtime dependencies (numpy, scipy, scikit-learn) do.
"""

import os
import sys

sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), "..")))

import sknn  # noqa: E402

project = "sknn"
author = "sknn developers"
copyright = "sknn developers"
version = release = sknn.__version__

extensions = ["myst_parser", "sphinx.ext.autodoc", "numpydoc"]
source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
root_doc = "index"
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]

# Anchors for headings down to level 3, with GitHub's rules, so that links such
# as ``user_guide.md#early-stopping`` work in both places.
myst_heading_anchors = 3
# ``none`` blocks show output that is not Python.
highlight_language = "python3"

autodoc_default_options = {"members": True, "member-order": "bysource"}
numpydoc_show_class_members = False

html_theme = "alabaster"
html_title = f"sknn {release}"
