"""sklearn_mtl: multi-task and transfer learning for the scikit-learn ecosystem.

Every estimator takes tasks the same way: ``task_ids=`` (one label per
sample), a ``task_column`` of ``X``, or a 2-D ``y`` with one column per task.
Task-aware splitters, per-task metrics and scorers live in
:mod:`sklearn_mtl.model_selection` and :mod:`sklearn_mtl.metrics`.
"""

from ._baselines import IndependentTasks, PooledTasks
from .linear import (
    ClusteredMultiTaskClassifier,
    ClusteredMultiTaskClassifierCV,
    ClusteredMultiTaskRegressor,
    ClusteredMultiTaskRegressorCV,
    DirtyMultiTaskClassifier,
    DirtyMultiTaskClassifierCV,
    DirtyMultiTaskRegressor,
    DirtyMultiTaskRegressorCV,
    GraphMultiTaskClassifier,
    GraphMultiTaskRegressor,
    JointFeatureMultiTaskClassifier,
    JointFeatureMultiTaskClassifierCV,
    JointFeatureMultiTaskRegressor,
    JointFeatureMultiTaskRegressorCV,
    LowRankMultiTaskClassifier,
    LowRankMultiTaskClassifierCV,
    LowRankMultiTaskRegressor,
    LowRankMultiTaskRegressorCV,
    MixedEffectsMultiTaskClassifier,
    MixedEffectsMultiTaskRegressor,
    RobustMultiTaskClassifier,
    RobustMultiTaskClassifierCV,
    RobustMultiTaskRegressor,
    RobustMultiTaskRegressorCV,
    SparseMultiTaskClassifier,
    SparseMultiTaskClassifierCV,
    SparseMultiTaskRegressor,
    SparseMultiTaskRegressorCV,
)
from .meta import (
    CommonMeanRidge,
    CommonMeanRidgeClassifier,
    GradientMetaClassifier,
    GradientMetaRegressor,
    LearnedPriorClassifier,
    LearnedPriorRegressor,
    PrototypicalClassifier,
)
from .neural import MultiTaskClassifier, MultiTaskRegressor
from .preprocessing import PerTask
from .transfer import TransferClassifier, TransferRegressor

__version__ = "0.1.0.dev0"

__all__ = [
    "ClusteredMultiTaskClassifier",
    "ClusteredMultiTaskClassifierCV",
    "ClusteredMultiTaskRegressor",
    "ClusteredMultiTaskRegressorCV",
    "CommonMeanRidge",
    "CommonMeanRidgeClassifier",
    "DirtyMultiTaskClassifier",
    "DirtyMultiTaskClassifierCV",
    "DirtyMultiTaskRegressor",
    "DirtyMultiTaskRegressorCV",
    "GradientMetaClassifier",
    "GradientMetaRegressor",
    "GraphMultiTaskClassifier",
    "GraphMultiTaskRegressor",
    "IndependentTasks",
    "JointFeatureMultiTaskClassifier",
    "JointFeatureMultiTaskClassifierCV",
    "JointFeatureMultiTaskRegressor",
    "JointFeatureMultiTaskRegressorCV",
    "LearnedPriorClassifier",
    "LearnedPriorRegressor",
    "LowRankMultiTaskClassifier",
    "LowRankMultiTaskClassifierCV",
    "LowRankMultiTaskRegressor",
    "LowRankMultiTaskRegressorCV",
    "MixedEffectsMultiTaskClassifier",
    "MixedEffectsMultiTaskRegressor",
    "MultiTaskClassifier",
    "MultiTaskRegressor",
    "PerTask",
    "PooledTasks",
    "PrototypicalClassifier",
    "RobustMultiTaskClassifier",
    "RobustMultiTaskClassifierCV",
    "RobustMultiTaskRegressor",
    "RobustMultiTaskRegressorCV",
    "SparseMultiTaskClassifier",
    "SparseMultiTaskClassifierCV",
    "SparseMultiTaskRegressor",
    "SparseMultiTaskRegressorCV",
    "TransferClassifier",
    "TransferRegressor",
]
