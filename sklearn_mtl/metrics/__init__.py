"""Per-task metrics, their averages, Δ% and task-aware scorers."""

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
    "make_task_scorer",
    "normalized_mean_squared_error",
    "per_task_nmse",
    "per_task_roc_auc",
    "per_task_score",
]
