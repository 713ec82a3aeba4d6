"""Synthetic related tasks generated from a known task graph."""

from numbers import Integral, Real

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, validate_params

__all__ = ["make_multitask_regression", "make_multitask_classification"]


def _related_tasks(n_tasks, n_samples, n_features, n_clusters, task_spread, rng):
    """Shared design: task models scattered around a few cluster centres."""
    sizes = (
        np.full(n_tasks, n_samples)
        if isinstance(n_samples, Integral)
        else np.asarray(n_samples)
    )
    if sizes.shape != (n_tasks,) or sizes.dtype.kind not in "iu" or np.any(sizes < 1):
        raise ValueError(
            "n_samples must be a positive int or one positive count per task, got "
            f"{n_samples!r}."
        )
    n_clusters = min(n_clusters, n_tasks)
    membership = np.arange(n_tasks) % n_clusters
    centres = rng.standard_normal((n_clusters, n_features))
    coef = centres[membership] + task_spread * rng.standard_normal(
        (n_tasks, n_features)
    )
    intercept = 0.5 * rng.standard_normal(n_tasks)
    adjacency = (membership[:, None] == membership[None, :]).astype(float)
    np.fill_diagonal(adjacency, 0.0)
    task_ids = np.repeat(np.arange(n_tasks), sizes)
    X = rng.standard_normal((sizes.sum(), n_features))
    return X, task_ids, coef, intercept, adjacency


_COMMON_CONSTRAINTS = {
    "n_tasks": [Interval(Integral, 1, None, closed="left")],
    "n_samples": [Interval(Integral, 1, None, closed="left"), "array-like"],
    "n_features": [Interval(Integral, 1, None, closed="left")],
    "n_clusters": [Interval(Integral, 1, None, closed="left")],
    "task_spread": [Interval(Real, 0, None, closed="left")],
    "return_coef": ["boolean"],
    "random_state": ["random_state"],
}


@validate_params(
    {**_COMMON_CONSTRAINTS, "noise": [Interval(Real, 0, None, closed="left")]},
    prefer_skip_nested_validation=True,
)
def make_multitask_regression(
    n_tasks=5,
    n_samples=40,
    n_features=10,
    *,
    n_clusters=2,
    task_spread=0.2,
    noise=0.5,
    return_coef=False,
    random_state=None,
):
    """Related regression tasks whose models cluster on a known graph.

    Tasks fall into ``n_clusters`` groups; a task's coefficients are its
    group's centre plus ``task_spread`` times standard normal noise, so tasks
    of one group are alike. ``y = X @ w_t + b_t + noise * N(0, 1)``.

    Parameters
    ----------
    n_tasks : int, default=5
        Number of tasks.
    n_samples : int or array-like of shape (n_tasks,), default=40
        Samples per task.
    n_features : int, default=10
        Number of features.
    n_clusters : int, default=2
        Number of groups of similar tasks.
    task_spread : float, default=0.2
        Spread of task models around their group centre.
    noise : float, default=0.5
        Standard deviation of the Gaussian noise on ``y``.
    return_coef : bool, default=False
        Also return the true coefficients, intercepts and task graph.
    random_state : int, RandomState instance or None, default=None
        Seed.

    Returns
    -------
    X : ndarray of shape (n_total, n_features)
    y : ndarray of shape (n_total,)
    task_ids : ndarray of shape (n_total,)
        Task of each sample, 0..n_tasks-1.
    coef : ndarray of shape (n_tasks, n_features)
        Only with ``return_coef``.
    intercept : ndarray of shape (n_tasks,)
        Only with ``return_coef``.
    adjacency : ndarray of shape (n_tasks, n_tasks)
        The true graph (tasks of one group linked, weight 1); only with
        ``return_coef``.

    Examples
    --------
    >>> from sklearn_mtl.datasets import make_multitask_regression
    >>> X, y, task_ids = make_multitask_regression(n_tasks=3, n_samples=20,
    ...                                            random_state=0)
    >>> X.shape, y.shape, task_ids.shape
    ((60, 10), (60,), (60,))
    """
    rng = check_random_state(random_state)
    X, task_ids, coef, intercept, adjacency = _related_tasks(
        n_tasks, n_samples, n_features, n_clusters, task_spread, rng
    )
    y = np.einsum("nd,nd->n", X, coef[task_ids]) + intercept[task_ids]
    y += noise * rng.standard_normal(y.shape)
    if return_coef:
        return X, y, task_ids, coef, intercept, adjacency
    return X, y, task_ids


@validate_params(
    {**_COMMON_CONSTRAINTS, "flip_y": [Interval(Real, 0, 1, closed="both")]},
    prefer_skip_nested_validation=True,
)
def make_multitask_classification(
    n_tasks=5,
    n_samples=40,
    n_features=10,
    *,
    n_clusters=2,
    task_spread=0.2,
    flip_y=0.05,
    return_coef=False,
    random_state=None,
):
    """Related binary classification tasks whose models cluster on a known graph.

    Models as in :func:`make_multitask_regression`; the label is
    ``x @ w_t + b_t > 0``, with a fraction ``flip_y`` of labels flipped.

    Parameters
    ----------
    n_tasks : int, default=5
        Number of tasks.
    n_samples : int or array-like of shape (n_tasks,), default=40
        Samples per task.
    n_features : int, default=10
        Number of features.
    n_clusters : int, default=2
        Number of groups of similar tasks.
    task_spread : float, default=0.2
        Spread of task models around their group centre.
    flip_y : float, default=0.05
        Fraction of labels flipped at random.
    return_coef : bool, default=False
        Also return the true coefficients, intercepts and task graph.
    random_state : int, RandomState instance or None, default=None
        Seed.

    Returns
    -------
    X : ndarray of shape (n_total, n_features)
    y : ndarray of shape (n_total,)
        Labels in {0, 1}.
    task_ids : ndarray of shape (n_total,)
    coef, intercept, adjacency : ndarray
        Only with ``return_coef``, as in :func:`make_multitask_regression`.

    Examples
    --------
    >>> from sklearn_mtl.datasets import make_multitask_classification
    >>> X, y, task_ids = make_multitask_classification(n_tasks=3, random_state=0)
    >>> sorted(set(y.tolist()))
    [0, 1]
    """
    rng = check_random_state(random_state)
    X, task_ids, coef, intercept, adjacency = _related_tasks(
        n_tasks, n_samples, n_features, n_clusters, task_spread, rng
    )
    margin = np.einsum("nd,nd->n", X, coef[task_ids]) + intercept[task_ids]
    y = (margin > 0).astype(int)
    flip = rng.random_sample(y.shape) < flip_y
    y[flip] = 1 - y[flip]
    if return_coef:
        return X, y, task_ids, coef, intercept, adjacency
    return X, y, task_ids
