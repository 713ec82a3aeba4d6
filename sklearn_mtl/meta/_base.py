"""The ``adapt()`` contract shared by every meta-learner.

``fit(X, y, task_ids=...)`` meta-learns from the training tasks and sets the
meta-learned state; ``adapt(X_support, y_support, task_ids=...)`` learns new
tasks from a few samples each. ``adapt`` never changes the meta-learned state
(``meta_tasks_``, the prior, and the fitted tasks' ``coef_`` / ``intercept_``):
the new tasks' models go to ``adapted_tasks_`` / ``adapted_coef_`` /
``adapted_intercept_``, and ``tasks_`` becomes the sorted union, so
``predict`` and ``score`` serve every task seen in ``fit`` or ``adapt``.
"""

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted, validate_data

from .._tasks import check_fit_data

__all__ = ["MetaLearnerMixin"]


class _SupportView(BaseEstimator):
    """Stand-in estimator that reads support data through ``check_fit_data``.

    ``check_fit_data`` records ``tasks_`` and the feature count on the object
    it is given; handing it this view keeps the meta-learner itself untouched.
    """

    def __init__(self, task_column=None):
        self.task_column = task_column


class MetaLearnerMixin:
    """``adapt`` bookkeeping: support validation and the table of served tasks.

    Subclasses implement ``_adapt_tasks(data) -> (coef, intercept)`` for the
    validated support ``data`` (one model per task of ``data``, in the order of
    its sorted labels) and call ``_start_meta_state(coef, intercept)`` at the
    end of ``fit``.
    """

    __metadata_request__adapt = {"task_ids": True}
    _adapt_min_samples = 1

    def _start_meta_state(self, coef, intercept):
        self.coef_, self.intercept_ = coef, intercept
        self.meta_tasks_ = self.tasks_.copy()
        self.adapted_tasks_ = self.tasks_[:0].copy()
        self.adapted_coef_ = coef[:0].copy()
        self.adapted_intercept_ = intercept[:0].copy()
        self._serving_coef, self._serving_intercept = coef, intercept

    def _check_support(self, X, y, task_ids):
        check_is_fitted(self, "meta_tasks_")
        # Feature count and names against fit, without resetting them.
        validate_data(self, X, reset=False, skip_check_array=True)
        has_labels = task_ids is not None or self.task_column is not None
        if not has_labels:
            raise ValueError(
                f"{type(self).__name__}.adapt needs the new tasks' labels: pass "
                "task_ids= (one label per support sample) or set task_column. "
                "Without them the support rows would be task 0, clashing with "
                "the tasks seen in fit."
            )
        if self._is_classifier_meta:
            y = self._encode_support_labels(y)
        view = _SupportView(task_column=self.task_column)
        data = check_fit_data(
            view,
            X,
            y,
            task_ids,
            min_samples_per_task=self._adapt_min_samples,
        )
        new = view.tasks_
        fit_kind, new_kind = self.meta_tasks_.dtype.kind, new.dtype.kind
        if (fit_kind in "US") != (new_kind in "US"):
            raise ValueError(
                f"adapt got task labels of dtype {new.dtype}, but fit's tasks are "
                f"{self.meta_tasks_.dtype}; use labels of the same kind."
            )
        seen = np.isin(new, self.meta_tasks_)
        if np.any(seen):
            raise ValueError(
                f"adapt got task(s) {new[seen].tolist()[:8]} that were meta-learned "
                "in fit; adapt learns new tasks only (refit to change them)."
            )
        return data, new

    def _encode_support_labels(self, y):
        """Positions of the support labels in ``classes_`` (as floats).

        A support set may hold one class only (the prior keeps its model
        finite), which the classifier checks of ``check_fit_data`` refuse, so
        labels are checked against ``classes_`` here and read as numbers.
        """
        y = np.asarray(y) if not hasattr(y, "to_numpy") else y.to_numpy()
        if y.ndim == 2 and y.shape[1] == 1:
            y = y[:, 0]
        if y.ndim != 1:
            raise ValueError(
                f"adapt needs a 1-D y of class labels, got shape {y.shape}."
            )
        try:
            known = np.isin(y, self.classes_)
        except TypeError:
            known = np.zeros(y.shape, dtype=bool)
        if not np.all(known):
            raise ValueError(
                f"adapt got class label(s) {np.unique(y[~known]).tolist()[:8]} not "
                f"seen in fit; known classes: {self.classes_.tolist()}."
            )
        return np.searchsorted(self.classes_, y).astype(np.float64)

    def adapt(self, X, y, task_ids=None):
        """Learn new tasks from their few support samples.

        The meta-learned state (``meta_tasks_``, the prior, ``coef_`` and
        ``intercept_`` of the fitted tasks) is left exactly as it is. Adapting
        a task that was already adapted replaces its model.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Support samples of the new tasks (with the task column when
            ``task_column`` is set).
        y : array-like of shape (n_samples,)
            Their targets.
        task_ids : array-like of shape (n_samples,), default=None
            Task label of each support sample; required unless
            ``task_column`` is set. Labels must be new (not in ``meta_tasks_``).

        Returns
        -------
        self : object
            The estimator, now also serving the adapted tasks.
        """
        data, new = self._check_support(X, y, task_ids)
        coef, intercept = self._adapt_tasks(data)
        keep = ~np.isin(self.adapted_tasks_, new)
        tasks = np.concatenate([self.adapted_tasks_[keep], new])
        coef = np.concatenate([self.adapted_coef_[keep], coef])
        intercept = np.concatenate([self.adapted_intercept_[keep], intercept])
        order = np.argsort(tasks, kind="stable")
        self.adapted_tasks_ = tasks[order]
        self.adapted_coef_, self.adapted_intercept_ = coef[order], intercept[order]
        all_tasks = np.concatenate([self.meta_tasks_, self.adapted_tasks_])
        all_coef = np.concatenate([self.coef_, self.adapted_coef_])
        all_intercept = np.concatenate([self.intercept_, self.adapted_intercept_])
        order = np.argsort(all_tasks, kind="stable")
        self.tasks_ = all_tasks[order]
        self._serving_coef = all_coef[order]
        self._serving_intercept = all_intercept[order]
        return self

    def _linear_scores(self, data):
        """``x @ w_t + b_t`` of every row under its (fitted or adapted) task."""
        coef = self._serving_coef[data.task_index]
        X = data.X_rows
        if coef.ndim == 2:
            return (
                np.einsum("ij,ij->i", X, coef)
                + self._serving_intercept[data.task_index]
            )
        return (
            np.einsum("ij,ikj->ik", X, coef) + self._serving_intercept[data.task_index]
        )
