"""Repository-wide pytest setup: doctests that need the neural extra skip without it."""

import importlib.util

_HAS_TORCH = all(importlib.util.find_spec(m) for m in ("torch", "skorch"))

# Their Examples train networks; without torch and skorch there is nothing to run.
collect_ignore = (
    []
    if _HAS_TORCH
    else [
        "sklearn_mtl/meta/_gradient.py",
        "sklearn_mtl/meta/_prototypes.py",
        "sklearn_mtl/neural/_data.py",
        "sklearn_mtl/neural/_estimators.py",
        "sklearn_mtl/neural/_modules.py",
        "sklearn_mtl/neural/_net.py",
        "sklearn_mtl/neural/_torch_weighting.py",
        "sklearn_mtl/neural/_training.py",
        "sklearn_mtl/transfer/_deep.py",
        "sklearn_mtl/transfer/_deep_modules.py",
        "sklearn_mtl/transfer/_deep_net.py",
        "sklearn_mtl/transfer/_transformers.py",
    ]
)
