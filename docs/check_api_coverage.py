"""Fail when a public name of the package is missing from docs/api.rst.

Every name in the ``__all__`` of ``sklearn_mtl`` and of its public
subpackages must be listed in the API reference, so that a new estimator
cannot ship undocumented. Run by ``docs/build.sh``.
"""

import importlib
import re
import sys
from pathlib import Path

SUBPACKAGES = [
    "sklearn_mtl",
    "sklearn_mtl.linear",
    "sklearn_mtl.meta",
    "sklearn_mtl.neural",
    "sklearn_mtl.transfer",
    "sklearn_mtl.datasets",
    "sklearn_mtl.graphs",
    "sklearn_mtl.model_selection",
    "sklearn_mtl.metrics",
    "sklearn_mtl.preprocessing",
]

api = (Path(__file__).parent / "api.rst").read_text()
# Names listed in the autosummary blocks (indented by three spaces, alone).
listed = set(re.findall(r"^   ([A-Za-z_]\w*)$", api, flags=re.M))
# ... or documented directly (a torch module, whose inherited nn.Module methods
# stay out of the page).
listed |= set(re.findall(r"^\.\. autoclass:: ([A-Za-z_]\w*)$", api, flags=re.M))
top = importlib.import_module("sklearn_mtl")
missing = []
for name in SUBPACKAGES:
    module = importlib.import_module(name)
    for public in module.__all__:
        # A subpackage re-export of a top-level estimator is documented once,
        # under ``sklearn_mtl`` (api.rst says so).
        documented_on_top = (
            module is not top
            and public in top.__all__
            and getattr(top, public) is getattr(module, public)
        )
        if public not in listed and not documented_on_top:
            missing.append(f"{name}.{public}")
if missing:
    sys.exit("Public names missing from docs/api.rst: " + ", ".join(missing))
print(f"docs/api.rst lists every public name of {len(SUBPACKAGES)} modules.")
