"""Multi-task linear models solved with scipy."""

from ._clustered import ClusteredMultiTaskClassifier, ClusteredMultiTaskRegressor
from ._dirty import DirtyMultiTaskClassifier, DirtyMultiTaskRegressor
from ._graph_model import GraphMultiTaskClassifier, GraphMultiTaskRegressor
from ._robust import RobustMultiTaskClassifier, RobustMultiTaskRegressor
from ._sparse import SparseMultiTaskClassifier, SparseMultiTaskRegressor
from ._structured import (
    JointFeatureMultiTaskClassifier,
    JointFeatureMultiTaskRegressor,
    LowRankMultiTaskClassifier,
    LowRankMultiTaskRegressor,
)

__all__ = [
    "ClusteredMultiTaskClassifier",
    "ClusteredMultiTaskRegressor",
    "DirtyMultiTaskClassifier",
    "DirtyMultiTaskRegressor",
    "GraphMultiTaskClassifier",
    "GraphMultiTaskRegressor",
    "JointFeatureMultiTaskClassifier",
    "JointFeatureMultiTaskRegressor",
    "LowRankMultiTaskClassifier",
    "LowRankMultiTaskRegressor",
    "RobustMultiTaskClassifier",
    "RobustMultiTaskRegressor",
    "SparseMultiTaskClassifier",
    "SparseMultiTaskRegressor",
]
