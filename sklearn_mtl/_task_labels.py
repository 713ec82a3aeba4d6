"""Per-sample task labels for splitters, scorers and transformers.

A thin layer over the task convention of :mod:`sklearn_mtl._tasks` for the
objects that are not estimators (cross-validation splitters, scorers) or that
must keep the task column in their output (``PerTask``). It parses nothing by
itself: labels come from ``_tasks._as_labels`` and task columns from
``_tasks._split_task_column``.

These helpers belong in ``_tasks.py``; they live here only because that file
is owned elsewhere while the model-selection, metrics and preprocessing
packages land.
"""

import numpy as np
from sklearn.utils.validation import _num_samples

from ._tasks import _as_labels, _is_dataframe, _split_task_column

__all__ = ["resolve_task_labels", "task_rows"]


def _target_ndim(y):
    if y is None:
        return None
    return np.ndim(y) if not hasattr(y, "ndim") else y.ndim


def resolve_task_labels(
    X, y=None, task_ids=None, *, task_column=None, groups=None, owner="this object"
):
    """Task label of every sample of ``X``, read through the task convention.

    Parameters
    ----------
    X : array-like or DataFrame of shape (n_samples, n_features)
        Samples; holds the task labels when ``task_column`` is set.
    y : array-like of shape (n_samples,) or (n_samples, n_tasks), default=None
        Targets; a 2-D ``y`` without labels is the wide format.
    task_ids : array-like of shape (n_samples,), default=None
        Task label of each sample.
    task_column : int or str, default=None
        Column of ``X`` holding the task labels.
    groups : array-like of shape (n_samples,), default=None
        Alias of ``task_ids`` for callers that route no metadata (scikit-learn
        passes ``groups`` to every splitter).
    owner : str
        Name used in error messages.

    Returns
    -------
    labels : ndarray of shape (n_samples,) or None
        None for the wide format (2-D ``y`` and no labels).

    Raises
    ------
    ValueError
        If labels are given twice, or not at all for a 1-D ``y``.
    """
    given = [
        name
        for name, value in (
            ("task_ids", task_ids),
            ("groups", groups),
            ("task_column", task_column),
        )
        if value is not None
    ]
    if len(given) > 1:
        raise ValueError(
            f"{owner} got task labels through {' and '.join(given)}; give them "
            "through exactly one of task_ids, groups or task_column."
        )
    n_samples = _num_samples(X)
    if task_ids is not None:
        return _as_labels(task_ids, n_samples)
    if groups is not None:
        return _as_labels(groups, n_samples, name="groups")
    if task_column is not None:
        _, labels = _split_task_column(X, task_column)
        return _as_labels(labels, n_samples, name="the task column")
    if _target_ndim(y) == 2:
        return None
    raise ValueError(
        f"{owner} found no task labels. Pass task_ids= (with "
        "sklearn.set_config(enable_metadata_routing=True), cross_validate and "
        "GridSearchCV route params={'task_ids': ...} to it), groups= (without "
        "routing), set task_column, or give a 2-D y (one column per task)."
    )


def task_rows(labels):
    """Sorted task labels and, for each, the positions of its samples.

    Parameters
    ----------
    labels : ndarray of shape (n_samples,)
        Validated task labels.

    Returns
    -------
    tasks : ndarray of shape (n_tasks,)
        Sorted unique labels (the order of ``tasks_`` in every estimator).
    rows : list of ndarray
        ``rows[t]`` holds the sample positions of ``tasks[t]``, in increasing
        order.
    """
    tasks, index = np.unique(labels, return_inverse=True)
    order = np.argsort(index, kind="stable")
    bounds = np.searchsorted(index[order], np.arange(len(tasks) + 1))
    return tasks, [order[bounds[t] : bounds[t + 1]] for t in range(len(tasks))]


def is_dataframe(X):
    """Whether ``X`` is a DataFrame (the convention's own test)."""
    return _is_dataframe(X)
