"""Which rows are the target and which the sources, from the task convention."""

import numpy as np
from sklearn.utils.validation import column_or_1d

from .._tasks import check_fit_data

__all__ = ["SourceTarget", "split_source_target", "target_position"]


class SourceTarget:
    """Source and target rows of validated multi-task data."""

    def __init__(self, data, target_position):
        self.target_position = target_position
        X_rows = data.X_rows
        is_target = data.task_index == target_position
        weights = (
            np.ones(data.n_rows) if data.sample_weight is None else data.sample_weight
        )
        self.X_source, self.X_target = X_rows[~is_target], X_rows[is_target]
        self.y_source, self.y_target = data.y[~is_target], data.y[is_target]
        self.w_source, self.w_target = weights[~is_target], weights[is_target]
        self.source_task_index = data.task_index[~is_target]

    @property
    def has_source(self):
        return self.X_source.shape[0] > 0

    def stacked(self):
        """(X, y, weights, is_source) of sources then target."""
        return (
            np.vstack([self.X_source, self.X_target]),
            np.concatenate([self.y_source, self.y_target]),
            np.concatenate([self.w_source, self.w_target]),
            np.r_[
                np.ones(len(self.y_source), bool), np.zeros(len(self.y_target), bool)
            ],
        )


def target_position(tasks, target, n_tasks, name="target"):
    """Position of the ``target`` label in the fitted tasks, with clear errors.

    ``target=None`` is the only task of single-task data; otherwise it must be
    one of ``tasks``. A label that matches a task only as text (``1`` against
    ``"1"``) is named as a type mismatch, never silently treated as absent.
    """
    shown = f"{tasks.tolist()[:8]}{' ...' if len(tasks) > 8 else ''}"
    if target is None:
        if n_tasks == 1:
            return 0
        raise ValueError(
            f"The data has {n_tasks} tasks; set {name} to the task to serve "
            f"(one of {shown}); the other tasks are the sources."
        )
    if np.ndim(target) != 0:
        raise ValueError(f"{name} must be a single task label, got {target!r}.")
    matches = np.flatnonzero(tasks == target) if len(tasks) else []
    if len(matches) == 0:
        same_text = [t for t in tasks.tolist() if str(t) == str(target)]
        hint = (
            f" It matches {same_text[0]!r} only as text: {name} is a "
            f"{type(target).__name__}, the task labels are "
            f"{'strings' if tasks.dtype.kind in 'US' else 'numbers'}."
            if same_text
            else ""
        )
        raise ValueError(
            f"{name}={target!r} is not among the tasks of the data: {shown}.{hint}"
        )
    return int(matches[0])


def split_source_target(estimator, X, y, task_ids, sample_weight, *, classifier):
    """Validate through the task convention and split target rows from sources."""
    shape = np.shape(np.asarray(y)) if y is not None else ()
    if len(shape) == 2:
        if shape[1] != 1:
            raise ValueError(
                f"y must be 1-D (one target task), got shape {shape}; give source "
                "tasks as rows with task_ids, not as columns."
            )
        y = column_or_1d(np.asarray(y), warn=True)
    data = check_fit_data(
        estimator,
        X,
        y,
        task_ids,
        sample_weight,
        classifier=classifier,
        min_samples_per_task=1,
        per_task_classes=False,
    )
    position = target_position(estimator.tasks_, estimator.target, data.n_tasks)
    n_target = int(np.sum(data.task_index == position))
    if n_target < 2:
        raise ValueError(
            f"Target task {estimator.tasks_.tolist()[position]!r} has {n_target} "
            "sample(s); at least 2 labelled target samples are required."
        )
    return data, SourceTarget(data, position)
