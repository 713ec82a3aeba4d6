"""Sphinx configuration of the sklearn_mtl documentation site.

Build with ``bash docs/build.sh`` (warnings are errors and the gallery runs).
The layout follows scikit-learn's own ``doc/conf.py``: numpydoc renders the
docstrings, autosummary writes one page per public object into
``generated/`` and sphinx-gallery runs ``examples/`` into ``auto_examples/``.
"""

import os
import re
import sys
from pathlib import Path

import matplotlib

# The gallery runs headless, on CI as on a laptop.
matplotlib.use("Agg")

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
# Document the checkout being built, even when another copy is installed.
sys.path.insert(0, str(ROOT))

# The examples read the shared real data when it is there (as the benchmarks
# do: ``$SKLEARN_MTL_DATA``, else ``../shared/data`` beside the checkout) and
# fall back on synthetic tasks otherwise.
_shared = ROOT.parent / "shared" / "data"
if "SKLEARN_MTL_DATA" not in os.environ and _shared.is_dir():
    os.environ["SKLEARN_MTL_DATA"] = str(_shared)

import sklearn_mtl  # noqa: E402

project = "sklearn_mtl"
author = "the sklearn_mtl developers"
copyright = "2026, the sklearn_mtl developers"
version = release = sklearn_mtl.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

templates_path = ["_templates"]
exclude_patterns = [
    "_build",
    "**.ipynb_checkpoints",
    # sphinx-gallery's own listing of run times, included by no page.
    "sg_execution_times.rst",
    "auto_examples/*.md5",
]
root_doc = "index"
default_role = "literal"

# -- API reference --------------------------------------------------------------
autosummary_generate = True
autodoc_default_options = {"members": True, "inherited-members": True}
# Members are listed by numpydoc's own tables, not autosummary stubs for each
# method (as in scikit-learn).
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
# Docstring checks that fail the build (numpydoc validation codes): every
# parameter documented, in order, with a type and a capitalized description
# (PR01-PR03, PR07, PR08, PR10); known sections only, in order (GL06, GL07).
numpydoc_validation_checks = {
    "PR01",
    "PR02",
    "PR03",
    "PR07",
    "PR08",
    "PR10",
    "GL06",
    "GL07",
}
numpydoc_validation_exclude = {
    # scikit-learn's inherited helpers, documented upstream.
    r"\.get_metadata_routing$",
    r"\.set_.*_request$",
    r"\.get_params$",
    r"\.set_params$",
    r"\.set_output$",
    r"\.fit_transform$",
    r"\.__init__$",
}

# -- Gallery -----------------------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "ignore_pattern": r"__init__\.py|/_",
    "abort_on_example_error": True,
    "doc_module": ("sklearn_mtl",),
    "backreferences_dir": "generated/backreferences",
    "reference_url": {"sklearn_mtl": None},
    "within_subsection_order": "FileNameSortKey",
    "min_reported_time": 0,
    "show_memory": False,
    "matplotlib_animations": False,
    "image_scrapers": ("matplotlib",),
    "remove_config_comments": True,
    "download_all_examples": False,
}

# -- HTML ------------------------------------------------------------------------
html_theme = "alabaster"
html_title = f"sklearn_mtl {release}"
html_static_path = []
html_theme_options = {
    "description": "Multi-task and transfer learning for scikit-learn",
    "fixed_sidebar": True,
    "page_width": "1100px",
    "sidebar_width": "230px",
}
html_sidebars = {
    "**": ["about.html", "navigation.html", "relations.html", "searchbox.html"]
}


# -- scikit-learn's own helpers ---------------------------------------------------
# Every estimator inherits scikit-learn's metadata-routing and output helpers;
# their docstrings link into scikit-learn's site (labels this site cannot
# resolve offline), and they behave as documented there, so they are named on
# the API page instead of being repeated on every class page.
_SKLEARN_HELPERS = re.compile(r"^(get_metadata_routing|set_output|set_\w+_request)$")


def _skip_sklearn_helpers(app, what, name, obj, skip, options):
    if _SKLEARN_HELPERS.match(name):
        return True
    return None


def setup(app):
    app.connect("autodoc-skip-member", _skip_sklearn_helpers)
