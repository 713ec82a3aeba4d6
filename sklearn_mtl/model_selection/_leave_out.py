"""Leave-tasks-out splitters: test on whole tasks the model never trained on.

Unlike the per-task splits of ``_split.py`` (every task on both sides), these
hold tasks out entirely, so they need one task label per sample (the long
format).
"""

from itertools import combinations
from math import comb
from numbers import Integral

import numpy as np

from .._tasks import task_rows
from ._task_splitter import _check_task_column, _TaskSplitter

__all__ = ["LeaveOneTaskOut", "LeavePTasksOut"]


def _long_labels_only(labels, owner):
    if labels is None:
        raise ValueError(
            f"{owner} needs one task label per sample (long format: task_ids, "
            "groups or task_column). With a wide 2-D y every task shares the "
            "samples of X, so no task can be left out of the training rows."
        )
    return labels


class LeaveOneTaskOut(_TaskSplitter):
    """Train on all tasks but one, test on the task left out.

    Answers "does the model help a task it has never seen?": split k tests on
    every sample of the k-th task (sorted labels) and trains on every other
    task. Needs the long format (``task_ids``, ``groups`` or ``task_column``);
    a wide 2-D ``y`` raises, since its tasks share every sample.

    Parameters
    ----------
    task_column : int or str, default=None
        Column of ``X`` holding the task labels.

    See Also
    --------
    LeavePTasksOut : Leave several tasks out at once.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_mtl.model_selection import LeaveOneTaskOut
    >>> task_ids = np.array(["b", "a", "b", "c"])
    >>> for train, test in LeaveOneTaskOut().split(np.zeros((4, 1)), task_ids=task_ids):
    ...     print(train, test)
    [0 2 3] [1]
    [1 3] [0 2]
    [0 1 2] [3]
    """

    def __init__(self, *, task_column=None):
        _check_task_column(task_column, "LeaveOneTaskOut")
        self.task_column = task_column

    def get_n_splits(self, X=None, y=None, groups=None, task_ids=None):
        """Number of splits: the number of tasks.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), default=None
            Needed only with ``task_column``.
        y : object
            Ignored.
        groups, task_ids : array-like of shape (n_samples,), default=None
            Task labels.

        Returns
        -------
        n_splits : int
        """
        if X is None:
            X = task_ids if task_ids is not None else groups
        labels = _long_labels_only(
            self._labels(X, None, groups, task_ids), "LeaveOneTaskOut"
        )
        return np.unique(labels).shape[0]

    def split(self, X, y=None, groups=None, task_ids=None):
        """Generate train/test indices, one task in each test set.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples (and the task column when ``task_column`` is set).
        y : object
            Ignored.
        groups, task_ids : array-like of shape (n_samples,), default=None
            Task labels (``groups`` for callers that route no metadata).

        Yields
        ------
        train : ndarray
            Indices of every other task.
        test : ndarray
            Indices of the task left out.
        """
        yield from _leave_tasks_out(self, X, y, groups, task_ids, 1)


def _leave_tasks_out(splitter, X, y, groups, task_ids, p):
    owner = type(splitter).__name__
    labels = _long_labels_only(splitter._labels(X, y, groups, task_ids), owner)
    tasks, rows = task_rows(labels)
    if len(tasks) <= p:
        raise ValueError(
            f"{owner} needs more than {p} task(s) so that one is left to train "
            f"on; got {len(tasks)}: {tasks.tolist()}."
        )
    n_samples = labels.shape[0]
    for chosen in combinations(range(len(tasks)), p):
        test = np.sort(np.concatenate([rows[t] for t in chosen]))
        mask = np.ones(n_samples, dtype=bool)
        mask[test] = False
        yield np.flatnonzero(mask), test


class LeavePTasksOut(_TaskSplitter):
    """Train on all but ``n_tasks`` tasks, test on those left out.

    One split per combination of ``n_tasks`` tasks (sorted labels,
    lexicographic order), as
    :class:`~sklearn.model_selection.LeavePGroupsOut` does for groups. Needs
    the long format, like :class:`LeaveOneTaskOut`.

    Parameters
    ----------
    n_tasks : int
        Number of tasks in each test set, at least 1.
    task_column : int or str, default=None
        Column of ``X`` holding the task labels.

    See Also
    --------
    LeaveOneTaskOut : The case ``n_tasks=1``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_mtl.model_selection import LeavePTasksOut
    >>> task_ids = np.array([0, 1, 2, 0])
    >>> cv = LeavePTasksOut(n_tasks=2)
    >>> cv.get_n_splits(task_ids=task_ids)
    3
    >>> [test.tolist() for _, test in cv.split(np.zeros((4, 1)), task_ids=task_ids)]
    [[0, 1, 3], [0, 2, 3], [1, 2]]
    """

    def __init__(self, n_tasks, *, task_column=None):
        if (
            not isinstance(n_tasks, Integral)
            or isinstance(n_tasks, bool)
            or n_tasks < 1
        ):
            raise ValueError(
                f"LeavePTasksOut: n_tasks must be a positive integer, got {n_tasks!r}."
            )
        _check_task_column(task_column, "LeavePTasksOut")
        self.n_tasks = n_tasks
        self.task_column = task_column

    def get_n_splits(self, X=None, y=None, groups=None, task_ids=None):
        """Number of splits: the number of combinations of ``n_tasks`` tasks.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), default=None
            Needed only with ``task_column``.
        y : object
            Ignored.
        groups, task_ids : array-like of shape (n_samples,), default=None
            Task labels.

        Returns
        -------
        n_splits : int
        """
        if X is None:
            X = task_ids if task_ids is not None else groups
        labels = _long_labels_only(
            self._labels(X, None, groups, task_ids), "LeavePTasksOut"
        )
        return comb(np.unique(labels).shape[0], self.n_tasks)

    def split(self, X, y=None, groups=None, task_ids=None):
        """Generate train/test indices, ``n_tasks`` tasks in each test set.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples (and the task column when ``task_column`` is set).
        y : object
            Ignored.
        groups, task_ids : array-like of shape (n_samples,), default=None
            Task labels (``groups`` for callers that route no metadata).

        Yields
        ------
        train : ndarray
            Indices of the tasks kept.
        test : ndarray
            Indices of the tasks left out.
        """
        yield from _leave_tasks_out(self, X, y, groups, task_ids, self.n_tasks)
