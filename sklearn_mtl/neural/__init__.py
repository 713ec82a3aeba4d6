"""Neural multi-task estimators (torch + skorch, the ``neural`` extra).

Importing this package needs neither torch nor skorch; fitting does.
"""

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
