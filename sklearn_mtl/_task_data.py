"""The rows of multi-task data and the caller's output layout.

One job: :class:`TaskData`, the row form every format becomes (one row per
(sample, task) pair), and putting per-row results back in the layout the
caller used (long, or wide (n_samples, n_tasks)). Part of the task
convention; callers go through its entry point, :mod:`sklearn_mtl._tasks`,
which re-exports these names.
"""

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class TaskData:
    """Validated multi-task data, one row per (sample, task) pair.

    Attributes
    ----------
    X : ndarray of shape (n_samples, n_features)
        Validated features, without any task column.
    task_index : ndarray of shape (n_rows,)
        Position in ``tasks_`` of each row's task.
    sample_index : ndarray of shape (n_rows,) or None
        Sample of ``X`` each row reads; None means row i reads sample i.
    n_tasks : int
        Number of fitted tasks.
    wide : bool
        Whether outputs go back as (n_samples, n_tasks).
    y : ndarray of shape (n_rows,) or None
        Target of each row (labels as given, for classifiers).
    sample_weight : ndarray of shape (n_rows,) or None
        Weight of each row.
    labelled : ndarray of shape (n_rows,) of bool or None
        Which rows have a label; None means every row does. Only
        ``check_fit_data(..., unlabelled_tasks=...)`` keeps unlabelled rows
        (their ``y`` entry is the missing marker): they carry features for
        domain adaptation and must never enter a supervised loss.
    """

    X: np.ndarray
    task_index: np.ndarray
    sample_index: np.ndarray | None
    n_tasks: int
    wide: bool
    y: np.ndarray | None = None
    sample_weight: np.ndarray | None = None
    labelled: np.ndarray | None = None

    @property
    def n_rows(self):
        return self.task_index.shape[0]

    @property
    def X_rows(self):
        """Features of every row, shape (n_rows, n_features)."""
        return self.X if self.sample_index is None else self.X[self.sample_index]

    def features_of(self, rows):
        """Features of the given rows, without materializing every row."""
        return (
            self.X[rows]
            if self.sample_index is None
            else self.X[self.sample_index[rows]]
        )

    def rows_of_tasks(self):
        """Row indices of each task, a list of n_tasks arrays (maybe empty)."""
        return _rows_by_index(self.task_index, self.n_tasks)

    def to_output(self, values):
        """Arrange per-row ``values`` (n_rows, ...) in the caller's layout.

        Long format keeps one entry per sample; wide format gives
        (n_samples, n_tasks, ...).
        """
        values = np.asarray(values)
        if not self.wide:
            return values
        n_samples = self.X.shape[0]
        out = np.empty((n_samples, self.n_tasks) + values.shape[1:], values.dtype)
        out[self.sample_index, self.task_index] = values
        return out


def _rows_by_index(index, n_tasks):
    """Positions holding each value of ``index`` in ``0..n_tasks-1``, in order."""
    order = np.argsort(index, kind="stable")
    bounds = np.searchsorted(index[order], np.arange(n_tasks + 1))
    return [order[bounds[t] : bounds[t + 1]] for t in range(n_tasks)]


def proba_output(proba):
    """Probabilities in scikit-learn's multi-output layout.

    (n_samples, n_classes) stays as is. Wide (n_samples, n_tasks, n_classes)
    with two classes is a multilabel problem: it becomes the (n_samples,
    n_tasks) probabilities of ``classes_[1]``, as scikit-learn's multilabel
    classifiers (``MLPClassifier``) return them, column for column beside
    ``decision_function``. With more classes it becomes a list of n_tasks
    (n_samples, n_classes) arrays, like ``MultiOutputClassifier.predict_proba``.
    """
    if proba.ndim != 3:
        return proba
    if proba.shape[2] == 2:
        return proba[:, :, 1]
    return list(np.moveaxis(proba, 1, 0))
