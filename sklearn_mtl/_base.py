"""Behaviour shared by every multi-task estimator: routing defaults and scores."""

import numpy as np
from sklearn.base import ClassifierMixin, RegressorMixin
from sklearn.metrics import accuracy_score, r2_score

from ._tasks import _check_weights, missing_labels

__all__ = ["MultiTaskMixin", "MultiTaskRegressorMixin", "MultiTaskClassifierMixin"]


class MultiTaskMixin:
    """Requests ``task_ids`` by default wherever metadata routing is enabled.

    With ``sklearn.set_config(enable_metadata_routing=True)`` a ``Pipeline``,
    ``cross_validate`` or ``GridSearchCV`` given ``task_ids`` passes them to
    ``fit``, ``predict`` and ``score`` without ``set_*_request`` calls. Routing
    itself is never switched on here.
    """

    __metadata_request__fit = {"task_ids": True}
    __metadata_request__predict = {"task_ids": True}
    __metadata_request__score = {"task_ids": True}
    __metadata_request__predict_proba = {"task_ids": True}
    __metadata_request__decision_function = {"task_ids": True}


class MultiTaskRegressorMixin(MultiTaskMixin, RegressorMixin):
    """``score``: R² over all labelled rows (long) or averaged over tasks (wide)."""

    def score(self, X, y, task_ids=None, sample_weight=None):
        """Return the coefficient of determination R² of the predictions.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Test samples.
        y : array-like of shape (n_samples,) or (n_samples, n_tasks)
            True targets; in wide format NaN marks a missing label.
        task_ids : array-like of shape (n_samples,), default=None
            Task of each sample (long format).
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.

        Returns
        -------
        score : float
            R² over all samples (long format), or the mean over tasks of each
            task's R² on its labelled samples (wide format). A task with no
            labelled sample in ``y`` is left out of the mean; a ``y`` with no
            label at all raises a ValueError.
        """
        y_pred = self.predict(X, task_ids=task_ids)
        return _score_by_layout(r2_score, y, y_pred, sample_weight)


class MultiTaskClassifierMixin(MultiTaskMixin, ClassifierMixin):
    """``score``: accuracy over rows (long) or averaged over tasks (wide)."""

    def score(self, X, y, task_ids=None, sample_weight=None):
        """Return the mean accuracy of the predictions.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Test samples.
        y : array-like of shape (n_samples,) or (n_samples, n_tasks)
            True labels; in wide format NaN marks a missing label.
        task_ids : array-like of shape (n_samples,), default=None
            Task of each sample (long format).
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.

        Returns
        -------
        score : float
            Accuracy over all samples (long format), or the mean over tasks of
            each task's accuracy on its labelled samples (wide format). A task
            with no labelled sample in ``y`` is left out of the mean; a ``y``
            with no label at all raises a ValueError.
        """
        y_pred = self.predict(X, task_ids=task_ids)
        return _score_by_layout(accuracy_score, y, y_pred, sample_weight)


def _score_by_layout(metric, y, y_pred, sample_weight):
    """``metric`` over all rows (long), or its mean over tasks (wide).

    In wide format a task with no labelled sample in ``y`` (its column all
    missing) has no score and is left out of the mean; with no labelled task
    at all there is nothing to score and a ValueError says so.
    """
    y = np.asarray(y) if not hasattr(y, "to_numpy") else y.to_numpy()
    if y_pred.ndim == 1:
        if y.ndim == 2 and y.shape[1] == 1:
            y = y[:, 0]
        if y.ndim != 1:
            raise ValueError(
                f"y has shape {y.shape}, but the model predicts one value per "
                "sample (it was fitted in long format); give a 1-D y."
            )
        return float(metric(y, y_pred, sample_weight=sample_weight))
    if y.ndim == 1 and y_pred.shape[1] == 1:
        y = y[:, None]
    if y.ndim != 2 or y.shape[1] != y_pred.shape[1]:
        raise ValueError(
            f"y has shape {y.shape}, but the model was fitted on "
            f"{y_pred.shape[1]} tasks in wide format; give y of shape "
            f"(n_samples, {y_pred.shape[1]}), NaN marking a missing label."
        )
    if y.shape[0] != y_pred.shape[0]:
        raise ValueError(
            f"y has {y.shape[0]} samples but X has {y_pred.shape[0]}; they must match."
        )
    labelled = ~missing_labels(y)
    scored = np.flatnonzero(labelled.any(axis=0))
    if scored.size == 0:
        raise ValueError(
            "y has no label for any task (every entry is missing); there is "
            "nothing to score."
        )
    weights = (
        None if sample_weight is None else _check_weights(sample_weight, y.shape[0])
    )
    scores = [
        metric(
            y[labelled[:, task], task].astype(y_pred.dtype),
            y_pred[labelled[:, task], task],
            sample_weight=None if weights is None else weights[labelled[:, task]],
        )
        for task in scored
    ]
    return float(np.mean(scores))
