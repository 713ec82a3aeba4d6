"""Pieces of ``_estimators.py``: the transformed-model wrapper, scoring of
labelled rows, the domain transforms and small fitting helpers."""

import numpy as np
from sklearn.utils import _safe_indexing
from sklearn.utils.validation import has_fit_parameter

from .._task_labels import _as_labels
from .._tasks import missing_labels
from ._transformers import CORAL

__all__ = ["_WithTransform"]


class _WithTransform:
    """Predict through a fitted transformer (target rows: no task labels)."""

    def __init__(self, transformer, model):
        self.transformer, self.model = transformer, model
        self.classes_ = getattr(model, "classes_", None)

    def predict(self, X):
        return self.model.predict(self.transformer.transform(X))

    def predict_proba(self, X):
        return self.model.predict_proba(self.transformer.transform(X))

    def source_features(self, X):
        """Rows *of the source domain*, transformed as source rows."""
        transformer = self.transformer
        source = transformer.tasks_[transformer.tasks_ != transformer.target_][0]
        task_ids = np.full(X.shape[0], source, dtype=transformer.tasks_.dtype)
        return transformer.transform(X, task_ids=task_ids)

    def predict_source(self, X):
        """Predict rows *of the source domain*: transformed as source rows."""
        return self.model.predict(self.source_features(X))


def _labelled_score(score, X, y, task_ids, sample_weight, target=None):
    """``score`` on the target's rows of ``y`` that have a label (NaN / None:
    none).

    Unlabelled target rows may sit in a test fold of ``cross_validate`` or
    ``GridSearchCV``; they have nothing to be scored against. With
    ``task_ids``, rows of other tasks (the held-out *source* rows of
    ``SourceTargetShuffleSplit`` or ``LeaveOneDomainOut``) are not scored
    either: predicted as target rows, they made the default score of a
    cross-validation a source-domain figure, silently.
    """
    y_array = np.asarray(y) if not hasattr(y, "to_numpy") else y.to_numpy()
    if y_array.ndim != 1:
        return score(X, y, task_ids=task_ids, sample_weight=sample_weight)
    keep = ~missing_labels(y_array)
    if task_ids is not None and target is not None:
        of_target = _as_labels(task_ids, len(y_array)) == target
        if not of_target.any():
            raise ValueError(
                f"task_ids has no row of the target task "
                f"{getattr(target, 'item', lambda: target)()!r}; score "
                "serves the target only (rows of other tasks are not scored)."
            )
        keep &= of_target
    if keep.all():
        return score(X, y, task_ids=task_ids, sample_weight=sample_weight)
    if not keep.any():
        raise ValueError(
            "y has no label (every entry is NaN or None) on the target's rows; "
            "there is nothing to score."
        )
    rows = np.flatnonzero(keep)
    y_kept = y_array[rows]
    if y_kept.dtype.kind == "O":
        y_kept = np.asarray(y_kept.tolist())
    return score(
        _safe_indexing(X, rows),
        y_kept,
        task_ids=None if task_ids is None else _safe_indexing(task_ids, rows),
        sample_weight=None
        if sample_weight is None
        else _safe_indexing(sample_weight, rows),
    )


class TargetRegressorScoreMixin:
    """``score``: R² on the target over the labelled rows (put before the
    regressor mixin in the bases: its ``score`` is the one wrapped)."""

    def score(self, X, y, task_ids=None, sample_weight=None):
        """R² on the target, over the rows of ``y`` that have a label.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Target rows.
        y : array-like of shape (n_samples,)
            True values; NaN marks a row without a label (skipped).
        task_ids : array-like of shape (n_samples,), default=None
            Task of each row: only the target task's rows are scored (None:
            every row is a target row).
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.

        Returns
        -------
        score : float
            R² of the labelled rows.
        """
        return _labelled_score(
            super().score, X, y, task_ids, sample_weight, getattr(self, "target_", None)
        )


class TargetClassifierScoreMixin:
    """``score``: accuracy on the target over the labelled rows (put before
    the classifier mixin in the bases: its ``score`` is the one wrapped)."""

    def score(self, X, y, task_ids=None, sample_weight=None):
        """Accuracy on the target, over the rows of ``y`` that have a label.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Target rows.
        y : array-like of shape (n_samples,)
            True labels; NaN or None marks a row without a label (skipped).
        task_ids : array-like of shape (n_samples,), default=None
            Task of each row: only the target task's rows are scored (None:
            every row is a target row).
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.

        Returns
        -------
        score : float
            Accuracy of the labelled rows.
        """
        return _labelled_score(
            super().score, X, y, task_ids, sample_weight, getattr(self, "target_", None)
        )


def _coral_sources(split, X_target):
    """The source rows re-coloured by CORAL toward ``X_target``'s covariance."""
    X = np.vstack([split.X_source, X_target])
    domains = np.repeat(["source", "target"], [len(split.X_source), len(X_target)])
    coral = CORAL(target="target").fit(X, task_ids=domains)
    return coral.transform(split.X_source, task_ids=domains[: len(split.X_source)])


def _domain_transform(transformer_class, X_source, X_target):
    """A domain transformer fitted on the sources and every target row, and the
    transformed source rows."""
    X = np.vstack([X_source, X_target])
    domains = np.repeat(["source", "target"], [len(X_source), len(X_target)])
    transformer = transformer_class(target="target").fit(X, task_ids=domains)
    source_domains = domains[: len(X_source)]
    return transformer, transformer.transform(X_source, task_ids=source_domains)


def _parameterized_layers(module):
    """Sub-modules holding parameters directly, in definition order."""
    return [
        m for m in module.modules() if any(True for _ in m.parameters(recurse=False))
    ]


def _fit(estimator, X, y, weights):
    if weights is not None and has_fit_parameter(estimator, "sample_weight"):
        return estimator.fit(X, y, sample_weight=weights)
    return estimator.fit(X, y)


def _require_weights(estimator, method):
    if not has_fit_parameter(estimator, "sample_weight"):
        raise ValueError(
            f"method={method!r} reweights samples, but {type(estimator).__name__} does "
            "not accept sample_weight in fit."
        )
