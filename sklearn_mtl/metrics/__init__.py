"""Per-task metrics, their averages, Δ% and task-aware scorers."""

from ._domain_scorers import (
    make_importance_weighted_scorer,
    make_interpolation_consistency_scorer,
    make_prediction_entropy_scorer,
    make_soft_neighborhood_density_scorer,
)
from ._domain_validation import (
    make_circular_validation_scorer,
    make_deep_embedded_validation_scorer,
    make_target_scorer,
)
from ._per_task import (
    delta_percent,
    normalized_mean_squared_error,
    per_task_nmse,
    per_task_roc_auc,
    per_task_score,
)
from ._scorer import make_task_scorer

__all__ = [
    "delta_percent",
    "make_circular_validation_scorer",
    "make_deep_embedded_validation_scorer",
    "make_importance_weighted_scorer",
    "make_interpolation_consistency_scorer",
    "make_prediction_entropy_scorer",
    "make_soft_neighborhood_density_scorer",
    "make_target_scorer",
    "make_task_scorer",
    "normalized_mean_squared_error",
    "per_task_nmse",
    "per_task_roc_auc",
    "per_task_score",
]
