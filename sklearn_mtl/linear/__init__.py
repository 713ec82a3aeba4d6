"""Multi-task linear models solved with scipy."""

from ._clustered import ClusteredMultiTaskClassifier, ClusteredMultiTaskRegressor
from ._cv import (
    JointFeatureMultiTaskClassifierCV,
    JointFeatureMultiTaskRegressorCV,
    LowRankMultiTaskClassifierCV,
    LowRankMultiTaskRegressorCV,
)
from ._cv_family import (
    ClusteredMultiTaskClassifierCV,
    ClusteredMultiTaskRegressorCV,
    DirtyMultiTaskClassifierCV,
    DirtyMultiTaskRegressorCV,
    RobustMultiTaskClassifierCV,
    RobustMultiTaskRegressorCV,
    SparseMultiTaskClassifierCV,
    SparseMultiTaskRegressorCV,
)
from ._dirty import DirtyMultiTaskClassifier, DirtyMultiTaskRegressor
from ._graph_model import GraphMultiTaskClassifier, GraphMultiTaskRegressor
from ._mixed_effects import (
    MixedEffectsMultiTaskClassifier,
    MixedEffectsMultiTaskRegressor,
)
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
    "ClusteredMultiTaskClassifierCV",
    "ClusteredMultiTaskRegressor",
    "ClusteredMultiTaskRegressorCV",
    "DirtyMultiTaskClassifier",
    "DirtyMultiTaskClassifierCV",
    "DirtyMultiTaskRegressor",
    "DirtyMultiTaskRegressorCV",
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
    "MixedEffectsMultiTaskClassifier",
    "MixedEffectsMultiTaskRegressor",
    "RobustMultiTaskClassifier",
    "RobustMultiTaskClassifierCV",
    "RobustMultiTaskRegressor",
    "RobustMultiTaskRegressorCV",
    "SparseMultiTaskClassifier",
    "SparseMultiTaskClassifierCV",
    "SparseMultiTaskRegressor",
    "SparseMultiTaskRegressorCV",
    "multitask_path",
]
