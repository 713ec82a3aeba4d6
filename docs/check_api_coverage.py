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
    "sklearn_mtl.neural",
    "sklearn_mtl.transfer",
    "sklearn_mtl.datasets",
    "sklearn_mtl.graphs",
    "sklearn_mtl.model_selection",
    "sklearn_mtl.metrics",
    "sklearn_mtl.preprocessing",
]

api = (Path(__file__).parent / "api.rst").read_text()
# Names listed in autosummary blocks, or named as :class:/:func: targets.
listed = set(re.findall(r"^   ([A-Za-z_]\w*)$", api, flags=re.M))
listed |= set(re.findall(r":(?:class|func):`~?[\w.]*?\.?(\w+)`", api))
missing = []
for name in SUBPACKAGES:
    module = importlib.import_module(name)
    missing += [f"{name}.{n}" for n in module.__all__ if n not in listed]
if missing:
    sys.exit("Public names missing from docs/api.rst: " + ", ".join(missing))
print(f"docs/api.rst lists every public name of {len(SUBPACKAGES)} modules.")
