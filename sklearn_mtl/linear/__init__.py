"""Multi-task linear models solved with scipy."""

from ._graph_model import GraphMultiTaskClassifier, GraphMultiTaskRegressor
from ._structured import (
    JointFeatureMultiTaskClassifier,
    JointFeatureMultiTaskRegressor,
    LowRankMultiTaskClassifier,
    LowRankMultiTaskRegressor,
)

__all__ = [
    "GraphMultiTaskClassifier",
    "GraphMultiTaskRegressor",
    "JointFeatureMultiTaskClassifier",
    "JointFeatureMultiTaskRegressor",
    "LowRankMultiTaskClassifier",
    "LowRankMultiTaskRegressor",
]
