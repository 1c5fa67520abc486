"""Sphinx configuration for the sknn documentation.

Build the site from the repository root, with the ``docs`` extra installed::

    pip install -e ".[docs]"
    python -m sphinx -W --keep-going -b html docs docs/_build/html

The build runs every example of ``examples/`` (the gallery) and needs no
network: the intersphinx inventories of Python, NumPy, SciPy, scikit-learn and
matplotlib are the files in ``docs/intersphinx/`` (see ``build_inventories.py``
there, which writes them from the installed packages).
"""

import os
import sys
from pathlib import Path

import matplotlib
import numpy
import scipy
import sklearn

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
os.environ.setdefault("MPLBACKEND", "Agg")

import sknn  # noqa: E402

project = "sknn"
author = "sknn developers"
copyright = "sknn developers"
version = release = sknn.__version__

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "matplotlib.sphinxext.plot_directive",
]
source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
root_doc = "index"
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "intersphinx"]
templates_path = ["_templates"]

# Markdown: anchors for headings down to level 3, with GitHub's rules, so that
# links such as ``user_guide.md#early-stopping`` work in both places.
myst_heading_anchors = 3
myst_enable_extensions = ["colon_fence"]
highlight_language = "python3"

# API reference: one generated page per public object.
autosummary_generate = True
autodoc_default_options = {"members": True, "inherited-members": False}
autodoc_typehints = "none"
numpydoc_show_class_members = False
numpydoc_xref_param_type = True
numpydoc_xref_aliases = {
    "Pipeline": "sklearn.pipeline.Pipeline",
    "NNClassifier": "sknn.NNClassifier",
    "NNRegressor": "sknn.NNRegressor",
    "Activation": "sknn.activations.Activation",
    "Loss": "sknn.losses.Loss",
    "Optimizer": "sknn.optimizers.Optimizer",
    "Schedule": "sknn.schedules.Schedule",
    "Initializer": "sknn.initializers.Initializer",
    "Callback": "sknn.callbacks.Callback",
    "Component": "sknn.Component",
    "os.PathLike": "os.PathLike",
    "dtype": "numpy.dtype",
    "RandomState": "numpy.random.RandomState",
    # "of shape (n_features_in_,)": numpydoc leaves "n_features_in_," as text, and
    # docutils would read the trailing underscore as a link.
    "n_features_in_,": ":literal:`n_features_in_`,",
}
numpydoc_xref_ignore = {
    "of",
    "or",
    "shape",
    "default",
    "optional",
    "instance",
    "class",
    "type",
    "n_samples",
    "n_features",
    "n_outputs",
    "n_classes",
    "n_epochs",
    "n",
    "n_rows",
    "fan_in",
    "fan_out",
    "n_params",
    "layout",
    "binary",
    "file",
    "object",
    "in",
    "to",
    "and",
    "sparse",
    "matrix",
}


# Types link to the documentation of Python, NumPy, SciPy, scikit-learn and
# matplotlib through inventories kept in the repository (the build has no
# network), at the addresses of the installed versions' documentation.
def _minor(module):
    return ".".join(module.__version__.split(".")[:2])


_sites = {
    "python": "https://docs.python.org/{}.{}/".format(*sys.version_info[:2]),
    "numpy": f"https://numpy.org/doc/{_minor(numpy)}/",
    "scipy": f"https://docs.scipy.org/doc/scipy-{scipy.__version__}/",
    "sklearn": f"https://scikit-learn.org/{_minor(sklearn)}/",
    "matplotlib": f"https://matplotlib.org/{matplotlib.__version__}/",
}
intersphinx_mapping = {
    name: (url, str(HERE / "intersphinx" / f"{name}.inv"))
    for name, url in _sites.items()
}

# The gallery: every script in examples/ runs during the build.
sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"\.py$",
    "subsection_order": [
        f"../examples/{sub}" for sub in ("training", "data", "extending", "models")
    ],
    "within_subsection_order": "FileNameSortKey",
    "download_all_examples": False,
    "remove_config_comments": True,
    "reference_url": {"sknn": None},
    "doc_module": ("sknn",),
    "backreferences_dir": "generated/backreferences",
    "matplotlib_animations": False,
    "min_reported_time": 1,
    "abort_on_example_error": True,
}

# matplotlib's plot directive (the performance figure).
plot_include_source = False
plot_html_show_source_link = False
plot_html_show_formats = False
plot_formats = [("png", 120)]

html_theme = "pydata_sphinx_theme"
html_title = f"sknn {release}"
html_theme_options = {
    "navbar_align": "left",
    "show_toc_level": 2,
    # The examples' code gets the width of the page's toc column.
    "secondary_sidebar_items": {
        "*": ["page-toc"],
        "generated/*": ["page-toc"],
        "auto_examples/**": [],
    },
    "footer_start": ["copyright"],
    "footer_end": [],
    "navigation_with_keys": False,
}
# Pages without sub-pages need no navigation column.
html_sidebars = {
    page: []
    for page in (
        "index",
        "getting_started",
        "why",
        "migration",
        "user_guide",
        "components",
        "plugins",
        "persistence",
        "errors",
        "performance",
        "onnx",
    )
}
html_show_sourcelink = False
html_static_path = ["_static"]
html_css_files = ["custom.css"]
