"""Neural multi-task estimators (torch + skorch, the ``neural`` extra).

Importing this package needs neither torch nor skorch; fitting does.
"""

import importlib.util

from ._estimators import MultiTaskClassifier, MultiTaskRegressor
from ._training import resolve_device
from ._weighting import (
    DynamicWeightAveraging,
    EqualWeighting,
    FixedWeighting,
    GradNorm,
    LossWeighting,
    PCGrad,
    UncertaintyWeighting,
)

__all__ = [
    "DynamicWeightAveraging",
    "EqualWeighting",
    "FixedWeighting",
    "GradNorm",
    "LossWeighting",
    "MultiTaskClassifier",
    "MultiTaskRegressor",
    "PCGrad",
    "UncertaintyWeighting",
    "resolve_device",
]

# ConvNet is a torch module: it is importable, and listed, only where torch is
# installed, so that importing the package never needs torch.
if importlib.util.find_spec("torch") is not None:
    __all__.append("ConvNet")


def __getattr__(name):
    if name == "ConvNet":
        from ._conv import ConvNet

        return ConvNet
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
