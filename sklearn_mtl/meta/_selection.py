"""Model selection on new tasks: a train-tasks / test-tasks splitter and a
scorer that adapts to each test task before scoring it.

Design. Selecting a meta-learner's hyperparameters must score it the way it
is used: meta-learn on some tasks, then learn *new* tasks from ``k`` samples.
The two halves fit scikit-learn's search loop without changing it:

* :class:`MetaTaskSplit` puts whole tasks on one side: each split's test rows
  are every row of a random subset of tasks, so ``GridSearchCV`` fits the
  meta-learner on the training tasks only.
* :func:`make_adapt_scorer` is the ``scoring=``: given the fitted
  meta-learner and the test rows, it calls ``adapt`` on the first ``k`` rows of
  each test task (its support set), predicts the remaining rows (its query
  set) and averages the metric over tasks. It adapts a copy, so the searched
  estimator is left as ``fit`` made it.

The scorer reads the test rows' tasks from ``task_ids`` if given directly,
else from the estimator's ``task_column`` (the routing-free way, as for every
scorer of this package), so a search needs ``task_column`` set.
"""

import copy
from numbers import Integral, Real

import numpy as np
from sklearn.base import is_classifier
from sklearn.metrics import accuracy_score, r2_score
from sklearn.model_selection import BaseCrossValidator
from sklearn.utils import _safe_indexing, check_random_state

from .._tasks import resolve_task_labels, task_rows

__all__ = ["MetaTaskSplit", "make_adapt_scorer"]


class MetaTaskSplit(BaseCrossValidator):
    """Random train-tasks / test-tasks splits, for selection on new tasks.

    Each split draws ``test_size`` of the tasks (a fraction, or a count) as
    test tasks: all their rows are the test fold; all rows of the other tasks
    the training fold. Use it with :func:`make_adapt_scorer`.

    Parameters
    ----------
    n_splits : int, default=5
        Number of random splits.
    test_size : float or int, default=0.3
        Fraction of the tasks (float in (0, 1)) or number of tasks (int) held
        out in each split; at least one task stays on each side.
    random_state : int, RandomState instance or None, default=None
        Seed of the task draws.
    task_column : int or str, default=None
        Column of ``X`` holding the task labels; else ``task_ids`` or
        ``groups``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_mtl.meta import MetaTaskSplit
    >>> tasks = np.repeat(np.arange(10), 4)
    >>> train, test = next(MetaTaskSplit(test_size=0.3, random_state=0).split(
    ...     np.zeros((40, 1)), task_ids=tasks))
    >>> len(np.unique(tasks[test])), np.intersect1d(tasks[train], tasks[test]).size
    (3, 0)
    """

    __metadata_request__split = {"task_ids": True, "groups": True}

    def __init__(
        self, n_splits=5, *, test_size=0.3, random_state=None, task_column=None
    ):
        self.n_splits = n_splits
        self.test_size = test_size
        self.random_state = random_state
        self.task_column = task_column

    def get_n_splits(self, X=None, y=None, groups=None, task_ids=None):
        """Number of splits.

        Parameters
        ----------
        X, y, groups, task_ids : object
            Ignored.

        Returns
        -------
        n_splits : int
        """
        return self.n_splits

    def _n_test(self, n_tasks):
        size = self.test_size
        if isinstance(size, Integral) and not isinstance(size, bool):
            n_test = int(size)
        elif isinstance(size, Real) and 0 < size < 1:
            n_test = int(np.ceil(size * n_tasks))
        else:
            raise ValueError(
                f"MetaTaskSplit: test_size must be a float in (0, 1) or an int, "
                f"got {size!r}."
            )
        if not 1 <= n_test < n_tasks:
            raise ValueError(
                f"MetaTaskSplit: test_size={size!r} holds out {n_test} of "
                f"{n_tasks} tasks; at least one task must be on each side."
            )
        return n_test

    def split(self, X, y=None, groups=None, task_ids=None):
        """Yield (train rows, test rows), test rows being whole tasks.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples (holding the task column when ``task_column`` is set).
        y : array-like of shape (n_samples,), default=None
            Ignored.
        groups : array-like of shape (n_samples,), default=None
            Task labels, for callers that route no metadata.
        task_ids : array-like of shape (n_samples,), default=None
            Task labels.

        Yields
        ------
        train, test : ndarray
            Row indices.
        """
        if not isinstance(self.n_splits, Integral) or self.n_splits < 1:
            raise ValueError(
                f"MetaTaskSplit: n_splits must be a positive int, got "
                f"{self.n_splits!r}."
            )
        labels = resolve_task_labels(
            X,
            y,
            task_ids,
            task_column=self.task_column,
            groups=groups,
            owner="MetaTaskSplit",
        )
        if labels is None:
            raise ValueError(
                "MetaTaskSplit needs one task label per row (long format); a "
                "wide 2-D y shares its rows between tasks."
            )
        tasks, rows = task_rows(labels)
        n_test = self._n_test(len(tasks))
        rng = check_random_state(self.random_state)
        n = labels.shape[0]
        for _ in range(self.n_splits):
            chosen = rng.permutation(len(tasks))[:n_test]
            test = np.sort(np.concatenate([rows[t] for t in chosen]))
            yield np.setdiff1d(np.arange(n), test), test

    def _iter_test_indices(self, X=None, y=None, groups=None):  # pragma: no cover
        raise NotImplementedError  # split is overridden


class _AdaptScorer:
    def __init__(self, k, score_func, response_method="predict"):
        self.k = k
        self.score_func = score_func
        self.response_method = response_method

    def __call__(self, estimator, X, y, task_ids=None):
        if not callable(getattr(estimator, "adapt", None)):
            raise TypeError(
                f"make_adapt_scorer scores a meta-learner, which learns new tasks "
                f"with adapt(); {type(estimator).__name__} has no adapt method. "
                "Use make_task_scorer for other multi-task estimators."
            )
        labels = resolve_task_labels(
            X,
            y,
            task_ids,
            task_column=getattr(estimator, "task_column", None),
            owner="make_adapt_scorer",
        )
        if labels is None:
            raise ValueError("make_adapt_scorer needs long-format test rows.")
        y = np.asarray(y)
        tasks, rows = task_rows(labels)
        support = [r[: self.k] for r in rows if r.size > self.k]
        query = [r[self.k :] for r in rows if r.size > self.k]
        if not support:
            raise ValueError(
                f"make_adapt_scorer(k={self.k}): no test task has more than "
                f"{self.k} rows, so none has a query row to score."
            )
        support_rows, query_rows = np.concatenate(support), np.concatenate(query)
        ids = None if task_ids is None else labels
        model = copy.deepcopy(estimator)
        model.adapt(
            _safe_indexing(X, support_rows),
            y[support_rows],
            task_ids=None if ids is None else ids[support_rows],
        )
        y_pred = getattr(model, self.response_method)(
            _safe_indexing(X, query_rows),
            task_ids=None if ids is None else ids[query_rows],
        )
        if self.response_method == "predict_proba" and y_pred.shape[1] == 2:
            # Binary: the positive class's column, as roc_auc_score expects.
            y_pred = y_pred[:, 1]
        # Mean over test tasks of the metric on each task's query rows.
        bounds = np.cumsum([0] + [q.size for q in query])
        y_query = y[query_rows]
        return float(
            np.mean(
                [
                    self.score_func(y_query[a:b], y_pred[a:b])
                    for a, b in zip(bounds[:-1], bounds[1:])
                ]
            )
        )


def make_adapt_scorer(k, score_func=None, *, response_method="predict"):
    """Scorer of a meta-learner on new tasks: adapt on ``k`` rows, score the rest.

    For each task of the scored rows, the first ``k`` rows (in the given
    order) are passed to ``adapt`` and the metric is computed on the task's
    other rows; the score is the mean over tasks (tasks with at most ``k``
    rows are skipped). A copy of the estimator is adapted, never the
    estimator itself. Task labels come from ``task_ids`` (called directly)
    or the estimator's ``task_column``.

    Parameters
    ----------
    k : int
        Support rows per task (shots).
    score_func : callable, default=None
        ``score_func(y_true, y_pred) -> float``, greater is better. None:
        ``r2_score`` for regressors, ``accuracy_score`` for classifiers.
    response_method : {"predict", "predict_proba", "decision_function"}, \
default="predict"
        What ``score_func`` receives as ``y_pred``: for a ranking metric such
        as ``roc_auc_score``, "predict_proba" (binary: the probability of
        ``classes_[1]``; more classes: every column) or "decision_function".

    Returns
    -------
    scorer : callable
        ``scorer(estimator, X, y, task_ids=None) -> float``, usable as
        ``scoring=`` with :class:`MetaTaskSplit` as ``cv=``.
    """
    if not isinstance(k, Integral) or isinstance(k, bool) or k < 1:
        raise ValueError(f"make_adapt_scorer: k must be a positive int, got {k!r}.")
    methods = ("predict", "predict_proba", "decision_function")
    if response_method not in methods:
        raise ValueError(
            f"make_adapt_scorer: response_method must be one of {methods}, got "
            f"{response_method!r}."
        )
    if response_method != "predict" and score_func is None:
        raise ValueError(
            f"make_adapt_scorer: response_method={response_method!r} needs a "
            "score_func that takes scores (e.g. roc_auc_score)."
        )
    if score_func is not None:
        return _AdaptScorer(int(k), score_func, response_method)
    return _DefaultAdaptScorer(int(k))


class _DefaultAdaptScorer(_AdaptScorer):
    """Chooses R² or accuracy from the estimator it scores."""

    def __init__(self, k):
        super().__init__(k, None)

    def __call__(self, estimator, X, y, task_ids=None):
        self.score_func = accuracy_score if is_classifier(estimator) else r2_score
        return super().__call__(estimator, X, y, task_ids)
