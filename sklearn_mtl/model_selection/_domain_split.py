"""Domain-adaptation splitters: model selection and evaluation per target domain.

Task labels are read through the package's task convention (``task_ids=``,
``groups=`` without routing, or ``task_column``); a *domain* is a task.

How the target's labels are withheld from training. A splitter only chooses
rows; the estimator decides what it reads from them. Two documented ways:

- give the target rows a missing label (NaN in a float ``y``, None in an
  object ``y``): :class:`~sklearn_mtl.TransferClassifier` and
  :class:`~sklearn_mtl.TransferRegressor` use such rows for adaptation only
  (the default), and the label-free scorers of :mod:`sklearn_mtl.metrics`
  never read a target label;
- keep the true labels in ``y`` and set ``use_target_labels=False`` on the
  estimator: every target row is then unlabelled *in fit* (as skada masks
  target labels), while a scorer may read the held-out target labels
  (:func:`~sklearn_mtl.metrics.make_target_scorer`). This is what
  :class:`LeaveOneDomainOut` is for.
"""

from numbers import Integral

import numpy as np
from sklearn.utils import check_random_state

from .._tasks import _as_labels, target_mask, task_rows
from ._split import _check_size, _draw_per_task, _task_sizes
from ._task_splitter import _check_n_splits, _check_task_column, _TaskSplitter

__all__ = [
    "LeaveOneDomainOut",
    "SourceTargetShuffleSplit",
    "pack_leave_one_domain_out",
]


def _target_mask(labels, target, owner):
    if labels is None:
        raise ValueError(
            f"{owner} needs one task (domain) label per sample: task_ids, groups "
            "or task_column."
        )
    is_target = target_mask(labels, target, owner)
    if is_target.all():
        raise ValueError(
            f"{owner}: every sample belongs to target={target!r}; there is no "
            "source domain."
        )
    return is_target


class SourceTargetShuffleSplit(_TaskSplitter):
    """Random splits of the source rows and of the target rows, separately.

    In each of ``n_splits`` iterations every domain (the target and each
    source task) gives ``ceil(test_size * n)`` random rows to the test set and
    the rest to the training set, so both sets hold source and target rows:
    the training set for fitting an adaptation (target rows' features), the
    test set for a label-free scorer (held-out source rows with their labels,
    target rows without). The target's labels are withheld as the module
    docstring says (missing labels, or ``use_target_labels=False``).

    Parameters
    ----------
    target : object
        Task label of the target domain.
    n_splits : int, default=5
        Number of random splits.
    test_size : float or int, default=0.2
        Fraction (float in (0, 1)) or number (int) of each domain's rows in
        the test set.
    random_state : int, RandomState instance or None, default=None
        Controls the shuffling; an int gives the same splits on every call.
    task_column : int or str, default=None
        Column of ``X`` holding the task labels.

    See Also
    --------
    LeaveOneDomainOut : Each domain in turn as the target.
    sklearn_mtl.model_selection.TaskShuffleSplit : The same per-task draw
        without a named target.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_mtl.model_selection import SourceTargetShuffleSplit
    >>> domains = np.repeat(["source", "target"], [8, 4])
    >>> cv = SourceTargetShuffleSplit("target", n_splits=2, test_size=0.25,
    ...                               random_state=0)
    >>> [np.unique(domains[test], return_counts=True)[1].tolist()
    ...  for _, test in cv.split(np.zeros((12, 1)), task_ids=domains)]
    [[2, 1], [2, 1]]
    """

    def __init__(
        self, target, *, n_splits=5, test_size=0.2, random_state=None, task_column=None
    ):
        _check_n_splits(n_splits, "SourceTargetShuffleSplit", minimum=1)
        _check_size(test_size, "test_size", "SourceTargetShuffleSplit")
        _check_task_column(task_column, "SourceTargetShuffleSplit")
        self.target = target
        self.n_splits = n_splits
        self.test_size = test_size
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
        """Generate train/test indices with source and target rows on both sides.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples (and the task column when ``task_column`` is set).
        y : object
            Ignored (target labels may be missing).
        groups, task_ids : array-like of shape (n_samples,), default=None
            Domain (task) labels (``groups`` for callers that route no
            metadata).

        Yields
        ------
        train, test : ndarray
            Sorted indices.
        """
        owner = "SourceTargetShuffleSplit"
        labels = self._labels(X, None, groups, task_ids)
        _target_mask(labels, self.target, owner)
        tasks, rows = task_rows(labels)
        sizes = [
            _task_sizes(len(r), self.test_size, None, task, 0.2)
            for task, r in zip(tasks.tolist(), rows)
        ]
        random = check_random_state(self.random_state)
        for _ in range(self.n_splits):
            yield _draw_per_task(tasks, rows, sizes, random, None)


def pack_leave_one_domain_out(X, y, task_ids, *, target="target"):
    """Lay out labelled domains for :class:`LeaveOneDomainOut`.

    Every row appears twice: first as a *source* row (its own domain label),
    then, in the same order, as a *target copy* (task label ``target``),
    with the same features and label (as skada's ``pack_lodo`` stacks each
    domain as a source and as a masked target).

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Samples of every domain.
    y : array-like of shape (n_samples,)
        Their labels (all present).
    task_ids : array-like of shape (n_samples,)
        Domain of each sample.
    target : object, default="target"
        Task label of the target copies; must not be a domain label.

    Returns
    -------
    X_packed : ndarray of shape (2 * n_samples, n_features)
    y_packed : ndarray of shape (2 * n_samples,)
    task_ids_packed : ndarray of shape (2 * n_samples,)
    """
    X, y = np.asarray(X), np.asarray(y)
    if len(X) != len(y) or len(X) != len(task_ids):
        raise ValueError(
            f"X, y and task_ids have {len(X)}, {len(y)} and {len(task_ids)} rows; "
            "they must have the same number."
        )
    # The task convention's reading: [1, "1"] is refused, never merged.
    task_ids = _as_labels(task_ids, len(X))
    if isinstance(target, str) != (task_ids.dtype.kind in "US"):
        # Mixed label types are refused by every splitter and estimator.
        raise ValueError(
            f"target={target!r} is a {type(target).__name__} but the domain labels "
            f"are {'strings' if task_ids.dtype.kind in 'US' else 'numbers'}; "
            "pass a target label of the same kind (e.g. target=-1 for numbered "
            "domains)."
        )
    if np.any(task_ids == target):
        raise ValueError(
            f"target={target!r} is already a domain label; choose a label no "
            "domain uses for the target copies."
        )
    labels = np.concatenate(
        [task_ids.astype(object), np.full(len(X), target, dtype=object)]
    )
    if all(isinstance(v, str) for v in labels):
        labels = labels.astype(str)
    return np.vstack([X, X]), np.concatenate([y, y]), labels


class LeaveOneDomainOut(_TaskSplitter):
    """Each domain in turn as the target: adapt on its features, test on it.

    For data laid out by :func:`pack_leave_one_domain_out` (every row once
    as a source row of its domain, then, in the same order, as a target copy
    labelled ``target``). Split ``k`` (domains sorted) for domain ``D_k``:

    - train: the source rows of every other domain, minus a held-out fraction
      ``source_test_size`` of them, and the target copies of ``D_k``
      (transductive: the adaptation reads the features of every target row);
    - test: the target copies of ``D_k`` and the held-out source rows.

    The target copies carry their true labels; fit the estimator with
    ``use_target_labels=False`` (:class:`~sklearn_mtl.TransferClassifier`,
    :class:`~sklearn_mtl.TransferRegressor`, ``target`` the same label), so
    they are unlabelled in training, and score with
    :func:`~sklearn_mtl.metrics.make_target_scorer` (target rows' labels) or a
    label-free scorer (held-out source rows' labels only). Domain ``D_k``'s
    source rows are in no set of split ``k``.

    Parameters
    ----------
    target : object, default="target"
        Task label of the target copies.
    source_test_size : float, default=0.2
        Fraction of each source domain's rows held out to the test set (for
        label-free scorers), rounded up (``ceil(source_test_size * n)``: a
        domain of a few rows still gives one); 0 holds none out.
    random_state : int, RandomState instance or None, default=None
        Draws the held-out source rows.
    task_column : int or str, default=None
        Column of ``X`` holding the task labels.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_mtl.model_selection import (
    ...     LeaveOneDomainOut, pack_leave_one_domain_out)
    >>> X, y = np.arange(6.0)[:, None], np.array([0, 1, 0, 1, 0, 1])
    >>> X2, y2, tasks = pack_leave_one_domain_out(X, y, ["a", "a", "b", "b", "c", "c"])
    >>> cv = LeaveOneDomainOut(source_test_size=0)
    >>> for train, test in cv.split(X2, task_ids=tasks):
    ...     print(tasks[train].tolist(), test.tolist())
    ['b', 'b', 'c', 'c', 'target', 'target'] [6, 7]
    ['a', 'a', 'c', 'c', 'target', 'target'] [8, 9]
    ['a', 'a', 'b', 'b', 'target', 'target'] [10, 11]
    """

    def __init__(
        self,
        target="target",
        *,
        source_test_size=0.2,
        random_state=None,
        task_column=None,
    ):
        if isinstance(source_test_size, bool) or not (
            isinstance(source_test_size, Integral) and source_test_size == 0
        ):
            if not (isinstance(source_test_size, float) and 0 <= source_test_size < 1):
                raise ValueError(
                    "LeaveOneDomainOut: source_test_size must be a float in "
                    f"[0, 1), got {source_test_size!r}."
                )
        _check_task_column(task_column, "LeaveOneDomainOut")
        self.target = target
        self.source_test_size = source_test_size
        self.random_state = random_state
        self.task_column = task_column

    def _origins(self, X, groups, task_ids):
        labels = self._labels(X, None, groups, task_ids)
        try:
            is_copy = _target_mask(labels, self.target, "LeaveOneDomainOut")
        except ValueError as exc:
            # Most often plain (unpacked) data: say how to lay it out.
            raise ValueError(
                f"{exc} LeaveOneDomainOut splits data laid out by "
                "pack_leave_one_domain_out(X, y, task_ids, "
                f"target={self.target!r})."
            ) from exc
        sources = np.flatnonzero(~is_copy)
        copies = np.flatnonzero(is_copy)
        if len(copies) != len(sources):
            raise ValueError(
                f"LeaveOneDomainOut expects data from pack_leave_one_domain_out: "
                f"as many target copies (task {self.target!r}) as source rows, got "
                f"{len(copies)} and {len(sources)}."
            )
        if X is not None and hasattr(X, "shape") and len(np.shape(X)) == 2:
            X_array = np.asarray(X)
            if X_array.dtype.kind in "fiub" and not np.array_equal(
                X_array[copies], X_array[sources], equal_nan=True
            ):
                raise ValueError(
                    "LeaveOneDomainOut: the target copies are not the source rows "
                    "in the same order; lay the data out with "
                    "pack_leave_one_domain_out."
                )
        return labels, sources, copies

    def get_n_splits(self, X=None, y=None, groups=None, task_ids=None):
        """Number of splits: the number of domains.

        Parameters
        ----------
        X : array-like, default=None
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
        labels = self._labels(X, None, groups, task_ids)
        return len(np.unique(labels[labels != self.target]))

    def split(self, X, y=None, groups=None, task_ids=None):
        """Generate train/test indices, one domain as the target per split.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Packed samples (see :func:`pack_leave_one_domain_out`).
        y : object
            Ignored.
        groups, task_ids : array-like of shape (n_samples,), default=None
            Task labels of the packed rows.

        Yields
        ------
        train, test : ndarray
            Sorted indices.
        """
        labels, sources, copies = self._origins(X, groups, task_ids)
        origin = labels[sources]
        domains = np.unique(origin)
        if len(domains) < 2:
            raise ValueError(
                f"LeaveOneDomainOut needs at least 2 domains, got {domains.tolist()}."
            )
        random = check_random_state(self.random_state)
        for domain in domains:
            held = [copies[origin == domain]]
            train = [copies[origin == domain]]
            for other in domains[domains != domain]:
                rows = sources[origin == other]
                n_test = int(np.ceil(self.source_test_size * len(rows)))
                permutation = random.permutation(rows)
                held.append(permutation[:n_test])
                train.append(permutation[n_test:])
            yield np.sort(np.concatenate(train)), np.sort(np.concatenate(held))
