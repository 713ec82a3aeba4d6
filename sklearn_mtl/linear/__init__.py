"""Multi-task linear models solved with scipy."""

from ._clustered import ClusteredMultiTaskClassifier, ClusteredMultiTaskRegressor
from ._cv import (
    JointFeatureMultiTaskClassifierCV,
    JointFeatureMultiTaskRegressorCV,
    LowRankMultiTaskClassifierCV,
    LowRankMultiTaskRegressorCV,
)
from ._dirty import DirtyMultiTaskClassifier, DirtyMultiTaskRegressor
from ._graph_model import GraphMultiTaskClassifier, GraphMultiTaskRegressor
from ._path import multitask_path
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
    "JointFeatureMultiTaskClassifierCV",
    "JointFeatureMultiTaskRegressor",
    "JointFeatureMultiTaskRegressorCV",
    "LowRankMultiTaskClassifier",
    "LowRankMultiTaskClassifierCV",
    "LowRankMultiTaskRegressor",
    "LowRankMultiTaskRegressorCV",
    "RobustMultiTaskClassifier",
    "RobustMultiTaskRegressor",
    "SparseMultiTaskClassifier",
    "SparseMultiTaskRegressor",
    "multitask_path",
]
