"""Behaviour shared by every multi-task estimator: routing defaults and scores."""

import numpy as np
from sklearn.base import ClassifierMixin, RegressorMixin
from sklearn.metrics import accuracy_score, r2_score

from ._tasks import missing_labels

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
            task's R² on its labelled samples (wide format).
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
            each task's accuracy on its labelled samples (wide format).
        """
        y_pred = self.predict(X, task_ids=task_ids)
        return _score_by_layout(accuracy_score, y, y_pred, sample_weight)


def _score_by_layout(metric, y, y_pred, sample_weight):
    y = np.asarray(y)
    if y_pred.ndim == 1 or y.ndim == 1:
        return float(
            metric(y.reshape(y_pred.shape), y_pred, sample_weight=sample_weight)
        )
    scores = []
    for task in range(y.shape[1]):
        column = y[:, task]
        labelled = ~missing_labels(column)
        weights = None if sample_weight is None else np.asarray(sample_weight)[labelled]
        scores.append(
            metric(
                column[labelled].astype(y_pred.dtype),
                y_pred[labelled, task],
                sample_weight=weights,
            )
        )
    return float(np.mean(scores))
