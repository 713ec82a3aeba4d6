"""Per-task splitters and ``train_test_split``: every task on both sides.

:class:`TaskKFold`, :class:`TaskShuffleSplit` and :func:`train_test_split`
split inside each task, so every task is in every training and test set. The
task labels are read, and ``task_ids`` requested for ``split``, as
``_task_splitter.py`` describes.
"""

import warnings
from math import ceil, floor
from numbers import Integral, Real

import numpy as np
from sklearn.model_selection import KFold, StratifiedKFold, StratifiedShuffleSplit
from sklearn.model_selection import train_test_split as _sk_train_test_split
from sklearn.utils import _safe_indexing, check_random_state, indexable
from sklearn.utils._param_validation import (
    Interval,
    RealNotInt,
    validate_params,
)
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import _num_samples

from .._tasks import resolve_task_labels, task_rows
from ._task_splitter import (
    _check_n_splits,
    _check_stratify,
    _check_task_column,
    _TaskSplitter,
)

__all__ = [
    "TaskKFold",
    "TaskShuffleSplit",
    "train_test_split",
]


def _stratify_target(stratify, y, owner):
    """The class labels to stratify on, or None when not stratifying.

    ``"auto"`` stratifies when ``y`` holds class labels: a 1-D ``y`` of
    integer, boolean, string or object dtype that scikit-learn calls binary or
    multiclass. Float targets count as regression; ``stratify=True`` forces
    stratification of float-coded labels.
    """
    if stratify is False or y is None:
        if stratify is True:
            raise ValueError(f"{owner}(stratify=True) needs y to stratify on.")
        return None
    y = np.asarray(y) if not hasattr(y, "to_numpy") else y.to_numpy()
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        if stratify is True:
            raise ValueError(
                f"{owner}(stratify=True) needs a 1-D y of class labels, got shape "
                f"{y.shape}."
            )
        return None
    if stratify == "auto" and (
        y.dtype.kind == "f" or type_of_target(y) not in ("binary", "multiclass")
    ):
        return None
    return y


def _task_seeds(random_state, n_tasks, shuffle=True):
    """One integer seed per task drawn from ``random_state``.

    With an int ``random_state`` every call to ``split`` draws the same seeds,
    so repeated ``split`` calls give the same folds, as scikit-learn requires.
    """
    if not shuffle:
        return [None] * n_tasks
    rng = check_random_state(random_state)
    return rng.randint(np.iinfo(np.int32).max, size=n_tasks).tolist()


class TaskKFold(_TaskSplitter):
    """K-fold cross-validation inside every task: every task in every fold.

    Each task's samples are split into ``n_splits`` folds of sizes differing
    by at most one (as :class:`~sklearn.model_selection.KFold` splits them);
    test fold k is the union over tasks of each task's k-th fold. So every task
    is trained on and tested in every split, with ``n_t // n_splits`` or
    ``n_t // n_splits + 1`` test samples of a task of ``n_t`` samples.

    For classification targets the folds of each task are stratified by class
    (as :class:`~sklearn.model_selection.StratifiedKFold` within the task).

    Tasks are read through the package's task convention: ``task_ids`` given
    to ``split`` (routed by ``cross_validate``/``GridSearchCV`` with metadata
    routing enabled; requested by default), ``groups`` (the routing-free
    alias: scikit-learn passes ``groups`` to every splitter), or the
    ``task_column`` of ``X``. With a wide 2-D ``y`` (tasks are columns sharing
    ``X``) and no labels, the rows (samples) are split with
    :class:`~sklearn.model_selection.KFold` semantics and no stratification.

    Parameters
    ----------
    n_splits : int, default=5
        Number of folds, at least 2. Every task needs at least ``n_splits``
        samples.
    stratify : {"auto", True, False}, default="auto"
        Stratify each task's folds by class. ``"auto"``: when ``y`` holds class
        labels (a 1-D ``y`` of integer, boolean, string or object dtype that is
        binary or multiclass); float targets count as regression.
    shuffle : bool, default=False
        Shuffle each task's samples before folding.
    random_state : int, RandomState instance or None, default=None
        Seeds the per-task shuffles when ``shuffle=True``. Pass an int for
        the same folds on every call.
    task_column : int or str, default=None
        Column of ``X`` holding the task labels (as the estimators'
        ``task_column``); for searches without metadata routing.

    See Also
    --------
    TaskShuffleSplit : Random per-task train/test fractions.
    LeaveOneTaskOut : Test on a task never seen in training.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_mtl.model_selection import TaskKFold
    >>> X = np.zeros((7, 1))
    >>> task_ids = np.array([0, 0, 0, 0, 1, 1, 1])
    >>> for train, test in TaskKFold(n_splits=2).split(X, task_ids=task_ids):
    ...     print(test)
    [0 1 4 5]
    [2 3 6]
    """

    def __init__(
        self,
        n_splits=5,
        *,
        stratify="auto",
        shuffle=False,
        random_state=None,
        task_column=None,
    ):
        _check_n_splits(n_splits, "TaskKFold")
        _check_stratify(stratify, "TaskKFold")
        _check_task_column(task_column, "TaskKFold")
        if not isinstance(shuffle, (bool, np.bool_)):
            raise ValueError(
                f"TaskKFold: shuffle must be True or False, got {shuffle!r}."
            )
        if not shuffle and random_state is not None:
            raise ValueError(
                "TaskKFold: setting random_state has no effect since shuffle is "
                "False; set shuffle=True or leave random_state=None."
            )
        self.n_splits = n_splits
        self.stratify = stratify
        self.shuffle = shuffle
        self.random_state = random_state
        self.task_column = task_column

    def get_n_splits(self, X=None, y=None, groups=None, task_ids=None):
        """Number of splits, ``n_splits``.

        Parameters
        ----------
        X, y, groups, task_ids : object
            Ignored, for API compatibility.

        Returns
        -------
        n_splits : int
        """
        return self.n_splits

    def split(self, X, y=None, groups=None, task_ids=None):
        """Generate train/test indices, every task in every fold.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples (and the task column when ``task_column`` is set).
        y : array-like of shape (n_samples,) or (n_samples, n_tasks), default=None
            Targets; class labels are stratified on within each task.
        groups : array-like of shape (n_samples,), default=None
            Task labels, for callers that route no metadata.
        task_ids : array-like of shape (n_samples,), default=None
            Task label of each sample.

        Yields
        ------
        train : ndarray
            Training indices of the split.
        test : ndarray
            Test indices of the split.

        Raises
        ------
        ValueError
            If a task has fewer than ``n_splits`` samples (the message names
            it), or fewer than ``n_splits`` samples of its most frequent class
            when stratifying.
        """
        labels = self._labels(X, y, groups, task_ids)
        if labels is None:
            kfold = KFold(
                self.n_splits, shuffle=self.shuffle, random_state=self.random_state
            )
            yield from kfold.split(X)
            return
        tasks, rows = task_rows(labels)
        counts = np.array([r.shape[0] for r in rows])
        too_small = np.flatnonzero(counts < self.n_splits)
        if too_small.size:
            t = too_small[0]
            raise ValueError(
                f"Task {tasks.tolist()[t]!r} has {counts[t]} samples, fewer than "
                f"n_splits={self.n_splits}; every task must appear in every test "
                f"fold ({too_small.size} task(s) too small). Lower n_splits or "
                "drop the task."
            )
        target = _stratify_target(self.stratify, y, "TaskKFold")
        seeds = _task_seeds(self.random_state, len(tasks), self.shuffle)
        test_fold = np.empty(labels.shape[0], dtype=np.intp)
        for t, task_rows_t in enumerate(rows):
            test_fold[task_rows_t] = self._task_folds(
                tasks.tolist()[t], task_rows_t, target, seeds[t]
            )
        for k in range(self.n_splits):
            yield np.flatnonzero(test_fold != k), np.flatnonzero(test_fold == k)

    def _task_folds(self, task, rows, target, seed):
        """Fold number of each of one task's samples."""
        fold = np.empty(rows.shape[0], dtype=np.intp)
        placeholder = np.zeros((rows.shape[0], 1))
        if target is None:
            splitter = KFold(self.n_splits, shuffle=self.shuffle, random_state=seed)
            folds = splitter.split(placeholder)
        else:
            splitter = StratifiedKFold(
                self.n_splits, shuffle=self.shuffle, random_state=seed
            )
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                try:
                    folds = list(splitter.split(placeholder, target[rows]))
                except ValueError as exc:
                    raise ValueError(
                        f"Task {task!r} cannot be split into {self.n_splits} "
                        f"stratified folds: {exc} Use stratify=False or lower "
                        "n_splits."
                    ) from exc
            for warning in caught:
                warnings.warn(
                    f"Task {task!r}: {warning.message}", UserWarning, stacklevel=4
                )
        for k, (_, test) in enumerate(folds):
            fold[test] = k
        return fold


def _task_sizes(n_samples, test_size, train_size, task, default_test_size):
    """(n_train, n_test) of one task, naming the task when the sizes fail."""
    if test_size is None and train_size is None:
        test_size = default_test_size
    if isinstance(test_size, Integral) and test_size >= n_samples:
        raise ValueError(
            f"Task {task!r} has {n_samples} samples; test_size={test_size} samples "
            "per task leaves none for training."
        )
    if isinstance(train_size, Integral) and train_size >= n_samples:
        raise ValueError(
            f"Task {task!r} has {n_samples} samples; train_size={train_size} "
            "samples per task leaves none for testing."
        )
    n_test = None
    if test_size is not None:
        n_test = (
            ceil(test_size * n_samples)
            if isinstance(test_size, Real) and not isinstance(test_size, Integral)
            else int(test_size)
        )
    n_train = None
    if train_size is not None:
        n_train = (
            floor(train_size * n_samples)
            if isinstance(train_size, Real) and not isinstance(train_size, Integral)
            else int(train_size)
        )
    if n_train is None:
        n_train = n_samples - n_test
    if n_test is None:
        n_test = n_samples - n_train
    if n_train + n_test > n_samples:
        raise ValueError(
            f"Task {task!r} has {n_samples} samples, fewer than the {n_train} "
            f"training plus {n_test} test samples asked for."
        )
    if n_train == 0 or n_test == 0:
        side = "training" if n_train == 0 else "test"
        raise ValueError(
            f"Task {task!r} has {n_samples} samples; with test_size={test_size} and "
            f"train_size={train_size} its {side} set would be empty."
        )
    return n_train, n_test


def _shuffle_one_task(task, n_samples, n_train, n_test, rng, target):
    """Positions (within the task) of one random train/test split."""
    if target is None:
        permutation = rng.permutation(n_samples)
        return permutation[n_test : n_test + n_train], permutation[:n_test]
    splitter = StratifiedShuffleSplit(
        1, test_size=n_test, train_size=n_train, random_state=rng
    )
    try:
        return next(splitter.split(np.zeros((n_samples, 1)), target))
    except ValueError as exc:
        raise ValueError(
            f"Task {task!r} cannot be split with stratification: {exc}"
        ) from exc


def _check_size(value, name, owner):
    if value is None:
        return
    if isinstance(value, Integral) and not isinstance(value, bool):
        if value < 1:
            raise ValueError(f"{owner}: {name}={value} must be at least 1.")
        return
    if isinstance(value, Real) and not isinstance(value, bool) and 0 < value < 1:
        return
    raise ValueError(
        f"{owner}: {name} must be a float in (0, 1) (a fraction of each task), a "
        f"positive int (samples per task) or None, got {value!r}."
    )


class TaskShuffleSplit(_TaskSplitter):
    """Random train/test splits with the same fraction taken from every task.

    In each of the ``n_splits`` iterations every task contributes
    ``ceil(test_size * n_t)`` test and ``floor(train_size * n_t)`` training
    samples (or the complement of the other), drawn at random inside the
    task, so every task is in every training and test set.

    Tasks are read as :class:`TaskKFold` reads them. With a wide 2-D ``y`` and
    no labels the rows are split with
    :class:`~sklearn.model_selection.ShuffleSplit` semantics.

    Parameters
    ----------
    n_splits : int, default=10
        Number of re-shuffling and splitting iterations.
    test_size : float or int, default=None
        Float in (0, 1): fraction of each task in the test set; int: test
        samples per task. None: the complement of ``train_size``, or 0.1 when
        both are None.
    train_size : float or int, default=None
        As ``test_size``, for the training set; None: the complement.
    stratify : {"auto", True, False}, default=False
        Stratify each task's split by class, as :class:`TaskKFold` decides it.
    random_state : int, RandomState instance or None, default=None
        Controls the randomness; pass an int for the same splits on every call.
    task_column : int or str, default=None
        Column of ``X`` holding the task labels.

    See Also
    --------
    TaskKFold : Every task in every fold.
    train_test_split : One per-task split of several arrays.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_mtl.model_selection import TaskShuffleSplit
    >>> X = np.zeros((12, 1))
    >>> task_ids = np.repeat(["a", "b"], [4, 8])
    >>> cv = TaskShuffleSplit(n_splits=3, test_size=0.25, random_state=0)
    >>> [np.unique(task_ids[test], return_counts=True)[1].tolist()
    ...  for _, test in cv.split(X, task_ids=task_ids)]
    [[1, 2], [1, 2], [1, 2]]
    """

    def __init__(
        self,
        n_splits=10,
        *,
        test_size=None,
        train_size=None,
        stratify=False,
        random_state=None,
        task_column=None,
    ):
        _check_n_splits(n_splits, "TaskShuffleSplit", minimum=1)
        _check_size(test_size, "test_size", "TaskShuffleSplit")
        _check_size(train_size, "train_size", "TaskShuffleSplit")
        _check_stratify(stratify, "TaskShuffleSplit")
        _check_task_column(task_column, "TaskShuffleSplit")
        self.n_splits = n_splits
        self.test_size = test_size
        self.train_size = train_size
        self.stratify = stratify
        self.random_state = random_state
        self.task_column = task_column

    def get_n_splits(self, X=None, y=None, groups=None, task_ids=None):
        """Number of splits, ``n_splits``.

        Parameters
        ----------
        X, y, groups, task_ids : object
            Ignored, for API compatibility.

        Returns
        -------
        n_splits : int
        """
        return self.n_splits

    def split(self, X, y=None, groups=None, task_ids=None):
        """Generate train/test indices, the same fraction from every task.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples (and the task column when ``task_column`` is set).
        y : array-like of shape (n_samples,) or (n_samples, n_tasks), default=None
            Targets.
        groups : array-like of shape (n_samples,), default=None
            Task labels, for callers that route no metadata.
        task_ids : array-like of shape (n_samples,), default=None
            Task label of each sample.

        Yields
        ------
        train : ndarray
            Training indices of the split, sorted.
        test : ndarray
            Test indices of the split, sorted.
        """
        labels = self._labels(X, y, groups, task_ids)
        if labels is None:
            labels = np.zeros(_num_samples(X), dtype=np.intp)
            target = None
        else:
            target = _stratify_target(self.stratify, y, "TaskShuffleSplit")
        tasks, rows = task_rows(labels)
        sizes = [
            _task_sizes(r.shape[0], self.test_size, self.train_size, task, 0.1)
            for task, r in zip(tasks.tolist(), rows)
        ]
        rng = check_random_state(self.random_state)
        for _ in range(self.n_splits):
            yield _draw_per_task(tasks, rows, sizes, rng, target)


def _draw_per_task(tasks, rows, sizes, rng, target):
    train, test = [], []
    for task, r, (n_train, n_test) in zip(tasks.tolist(), rows, sizes):
        tr, te = _shuffle_one_task(
            task,
            r.shape[0],
            n_train,
            n_test,
            rng,
            None if target is None else target[r],
        )
        train.append(r[tr])
        test.append(r[te])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(test))


@validate_params(
    {
        "task_ids": ["array-like", None],
        "task_column": [Interval(Integral, None, None, closed="neither"), str, None],
        "test_size": [
            Interval(RealNotInt, 0, 1, closed="neither"),
            Interval(Integral, 1, None, closed="left"),
            None,
        ],
        "train_size": [
            Interval(RealNotInt, 0, 1, closed="neither"),
            Interval(Integral, 1, None, closed="left"),
            None,
        ],
        "random_state": ["random_state"],
        "shuffle": ["boolean"],
        "stratify": ["array-like", None],
    },
    prefer_skip_nested_validation=True,
)
def train_test_split(
    *arrays,
    task_ids=None,
    task_column=None,
    test_size=None,
    train_size=None,
    random_state=None,
    shuffle=True,
    stratify=None,
):
    """Split arrays into train and test subsets with a fraction of every task.

    Every task contributes ``ceil(test_size * n_t)`` test samples (or
    ``test_size`` samples for an int) and the rest (or ``train_size``) to
    training, so every task is in both subsets. Returns the pieces in
    scikit-learn's order: ``X_train, X_test, y_train, y_test, ...``; pass
    ``task_ids`` among ``arrays`` as well to get it split too. Each subset
    keeps the original order of its samples.

    Tasks come from ``task_ids`` or the ``task_column`` of the first array. With
    neither, a 2-D second array (the wide ``y``, tasks sharing every sample)
    splits the rows as :func:`sklearn.model_selection.train_test_split` does.

    Parameters
    ----------
    *arrays : sequence of indexables with the same length
        Lists, numpy arrays, scipy.sparse matrices or DataFrames.
    task_ids : array-like of shape (n_samples,), default=None
        Task label of each sample.
    task_column : int or str, default=None
        Column of the first array holding the task labels.
    test_size : float or int, default=None
        Fraction of each task (float in (0, 1)) or test samples per task (int).
        None: the complement of ``train_size``, or 0.25 when both are None.
    train_size : float or int, default=None
        As ``test_size`` for the training subset; None: the complement.
    random_state : int, RandomState instance or None, default=None
        Controls the shuffling; pass an int for a reproducible split.
    shuffle : bool, default=True
        Shuffle each task before splitting; without it each task's first
        samples train and its next ones test.
    stratify : array-like of shape (n_samples,), default=None
        Class labels to stratify each task's split on. Needs ``shuffle=True``.

    Returns
    -------
    splitting : list of length 2 * len(arrays)
        Train and test pieces of every array.

    Raises
    ------
    ValueError
        If a task is too small for the requested sizes; the message names it.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_mtl.model_selection import train_test_split
    >>> X = np.arange(16).reshape(8, 2)
    >>> y = np.arange(8.0)
    >>> task_ids = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    >>> X_tr, X_te, y_tr, y_te, t_tr, t_te = train_test_split(
    ...     X, y, task_ids, task_ids=task_ids, test_size=0.5, random_state=0)
    >>> t_te
    array([0, 0, 1, 1])
    """
    if not arrays:
        raise ValueError("At least one array required as input.")
    arrays = indexable(*arrays)
    y = arrays[1] if len(arrays) > 1 else None
    labels = resolve_task_labels(
        arrays[0], y, task_ids, task_column=task_column, owner="train_test_split"
    )
    if labels is None:
        return _sk_train_test_split(
            *arrays,
            test_size=test_size,
            train_size=train_size,
            random_state=random_state,
            shuffle=shuffle,
            stratify=stratify,
        )
    if stratify is not None and not shuffle:
        raise ValueError(
            "Stratified train/test split is not implemented for shuffle=False."
        )
    target = None
    if stratify is not None:
        target = np.asarray(stratify)
        if target.shape[0] != labels.shape[0]:
            raise ValueError(
                f"stratify has {target.shape[0]} entries but the arrays have "
                f"{labels.shape[0]} samples."
            )
    tasks, rows = task_rows(labels)
    sizes = [
        _task_sizes(r.shape[0], test_size, train_size, task, 0.25)
        for task, r in zip(tasks.tolist(), rows)
    ]
    if shuffle:
        rng = check_random_state(random_state)
        train, test = _draw_per_task(tasks, rows, sizes, rng, target)
    else:
        train = np.sort(np.concatenate([r[:n_tr] for r, (n_tr, _) in zip(rows, sizes)]))
        test = np.sort(
            np.concatenate(
                [r[n_tr : n_tr + n_te] for r, (n_tr, n_te) in zip(rows, sizes)]
            )
        )
    return [
        piece
        for a in arrays
        for piece in (_safe_indexing(a, train), _safe_indexing(a, test))
    ]
