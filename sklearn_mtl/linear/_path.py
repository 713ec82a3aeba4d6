"""Warm-started regularization paths of the structured multi-task models.

:func:`multitask_path` fits any structured estimator at a decreasing grid of
its penalty strength, from ``alpha_max`` (the smallest value giving all-zero
coefficients) down, each fit starting from the previous solution, as
:func:`sklearn.linear_model.lasso_path` does for the lasso.

The hook an estimator provides, in order of preference:

1. ``_path_problem(X, y, task_ids=None, sample_weight=None)``: validates the
   data once, sets the data-dependent fitted attributes on the estimator
   (``tasks_``, ``classes_``...) and returns an object with an ``alpha_max``
   attribute and a ``fit(alpha)`` method returning a fitted copy of the
   estimator at that strength, warm-started from its previous ``fit``
   (building the loss once: the Gram blocks are formed once per path). Its
   optional ``converged`` attribute tells whether the last solve met ``tol``.
2. otherwise, a ``warm_start`` parameter and an ``alpha_max_`` fitted
   attribute: the estimator is then cloned and refitted with
   ``warm_start=True`` at each strength (the data are validated and the loss
   rebuilt at every point, so this is slower but needs nothing more).

The strength parameter is named by the class attribute ``_path_param``
(default ``"alpha"``).
"""

import copy
import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import Interval, validate_params

__all__ = ["multitask_path", "alpha_grid"]


def path_param(estimator):
    """Name of the estimator's penalty-strength parameter (``_path_param``)."""
    return getattr(estimator, "_path_param", "alpha")


class _RefitPath:
    """The fallback hook: refit a ``warm_start`` clone at each strength."""

    def __init__(self, estimator, X, y, task_ids, sample_weight):
        name = type(estimator).__name__
        params = estimator.get_params(deep=False)
        if "warm_start" not in params:
            raise TypeError(
                f"{name} has no regularization path: it provides neither "
                "_path_problem() nor a warm_start parameter."
            )
        self._args = (X, y)
        self._kwargs = {"task_ids": task_ids}
        if sample_weight is not None:
            self._kwargs["sample_weight"] = sample_weight
        self._param = path_param(estimator)
        self._model = clone(estimator).set_params(warm_start=True)
        # alpha_max_ is known before any solver iteration: a one-iteration
        # fit at the estimator's own strength gives it.
        probe = clone(estimator).set_params(warm_start=False)
        if "max_iter" in params:
            probe.set_params(max_iter=1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            probe.fit(*self._args, **self._kwargs)
        if not hasattr(probe, "alpha_max_"):
            raise TypeError(
                f"{name} has no regularization path: it sets no alpha_max_ in "
                "fit, so the path has no starting point."
            )
        self.alpha_max = float(probe.alpha_max_)
        self.converged = True

    def fit(self, alpha):
        self._model.set_params(**{self._param: alpha})
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            self._model.fit(*self._args, **self._kwargs)
        self.converged = not any(
            issubclass(w.category, ConvergenceWarning) for w in caught
        )
        return copy.deepcopy(self._model)


def path_problem(estimator, X, y, task_ids=None, sample_weight=None):
    """The estimator's path hook on (X, y): ``alpha_max`` and ``fit(alpha)``.

    ``estimator`` is cloned first, so it is never modified.
    """
    model = clone(estimator)
    if getattr(type(model), "_path_problem", None) is not None:
        return model._path_problem(X, y, task_ids, sample_weight)
    return _RefitPath(model, X, y, task_ids, sample_weight)


@validate_params(
    {
        "alpha_max": [Interval(Real, 0, None, closed="left")],
        "n_alphas": [Interval(Integral, 1, None, closed="left")],
        "eps": [Interval(Real, 0, None, closed="neither")],
    },
    prefer_skip_nested_validation=True,
)
def alpha_grid(alpha_max, *, n_alphas=100, eps=1e-3):
    """Geometric grid of strengths from ``alpha_max`` down to ``eps * alpha_max``.

    As scikit-learn's lasso grid: ``n_alphas`` values evenly spaced on a log
    scale, decreasing. A zero ``alpha_max`` (a target the features cannot
    explain at all) gives a grid of the float resolution, as scikit-learn's.

    Parameters
    ----------
    alpha_max : float
        Largest strength, usually an estimator's ``alpha_max_``.
    n_alphas : int, default=100
        Number of strengths.
    eps : float, default=1e-3
        Ratio of the smallest to the largest strength.

    Returns
    -------
    alphas : ndarray of shape (n_alphas,)
        Decreasing strengths.

    Examples
    --------
    >>> from sklearn_mtl.linear._path import alpha_grid
    >>> alpha_grid(10.0, n_alphas=3, eps=0.01)
    array([10. ,  1. ,  0.1])
    """
    resolution = np.finfo(float).resolution
    if alpha_max <= resolution:
        return np.full(n_alphas, resolution)
    return np.geomspace(alpha_max, alpha_max * eps, num=n_alphas)


def _check_alphas(alphas):
    alphas = np.asarray(alphas, dtype=float)
    if alphas.ndim != 1 or alphas.size == 0:
        raise ValueError(
            f"alphas must be a non-empty 1-D array of strengths, got shape "
            f"{alphas.shape}."
        )
    if not np.all(np.isfinite(alphas)) or np.any(alphas < 0):
        raise ValueError("alphas must be finite and non-negative.")
    # Decreasing: each fit then starts from a sparser (simpler) solution.
    return np.sort(alphas)[::-1]


@validate_params(
    {
        "estimator": [object],
        "X": ["array-like", "sparse matrix"],
        "y": ["array-like"],
        "task_ids": ["array-like", None],
        "sample_weight": ["array-like", None],
        "alphas": ["array-like", Interval(Integral, 1, None, closed="left")],
        "eps": [Interval(Real, 0, None, closed="neither")],
    },
    prefer_skip_nested_validation=False,
)
def multitask_path(
    estimator, X, y, task_ids=None, sample_weight=None, *, alphas=100, eps=1e-3
):
    """Coefficients of a structured multi-task model along a strength grid.

    Fits ``estimator`` (its other parameters kept) at each strength in
    ``alphas``, from the largest down, each fit starting from the previous
    solution (a warm start), as :func:`sklearn.linear_model.lasso_path` does.
    The loss (per-task Gram blocks, block design) is built once for the
    whole path.

    Parameters
    ----------
    estimator : estimator instance
        A structured multi-task estimator, e.g.
        :class:`~sklearn_mtl.linear.JointFeatureMultiTaskRegressor`; not
        modified. Its strength parameter (``alpha``) is varied.
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        Training data.
    y : array-like of shape (n_samples,) or (n_samples, n_tasks)
        Targets, in any of the package's task layouts.
    task_ids : array-like of shape (n_samples,), default=None
        Task label of each sample.
    sample_weight : array-like of shape (n_samples,), default=None
        Sample weights.
    alphas : int or array-like, default=100
        An int: that many strengths from ``alpha_max`` (all coefficients zero)
        down to ``eps * alpha_max`` on a log scale. An array: these strengths,
        fitted in decreasing order.
    eps : float, default=1e-3
        Ratio of the smallest to the largest strength when ``alphas`` is an
        int.

    Returns
    -------
    alphas : ndarray of shape (n_alphas,)
        The strengths, decreasing.
    coefs : ndarray of shape (n_alphas, n_tasks, n_features) or \
(n_alphas, n_tasks, n_classes, n_features)
        ``coef_`` at each strength.
    intercepts : ndarray of shape (n_alphas, n_tasks) or \
(n_alphas, n_tasks, n_classes)
        ``intercept_`` at each strength.
    n_iters : ndarray of shape (n_alphas,)
        Solver iterations at each strength.

    Warns
    -----
    ConvergenceWarning
        Once, naming the strengths at which the solver stopped at
        ``max_iter`` before reaching ``tol``.

    See Also
    --------
    sklearn.linear_model.lasso_path : The lasso's path, one shared design.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_mtl.linear import JointFeatureMultiTaskRegressor
    >>> from sklearn_mtl.linear import multitask_path
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(60, 5))
    >>> task_ids = np.repeat([0, 1, 2], 20)
    >>> y = X[:, 0] * np.array([1.0, 2.0, 3.0])[task_ids] + rng.normal(size=60)
    >>> alphas, coefs, intercepts, n_iters = multitask_path(
    ...     JointFeatureMultiTaskRegressor(), X, y, task_ids, alphas=4
    ... )
    >>> coefs.shape
    (4, 3, 5)
    >>> [int(np.count_nonzero(np.linalg.norm(c, axis=0))) for c in coefs]
    [0, 2, 5, 5]
    """
    problem = path_problem(estimator, X, y, task_ids, sample_weight)
    models, alphas = fit_path(problem, alphas, eps)
    coefs = np.stack([m.coef_ for m in models])
    intercepts = np.stack([np.asarray(m.intercept_) for m in models])
    n_iters = np.array([m.n_iter_ for m in models])
    return alphas, coefs, intercepts, n_iters


def fit_path(problem, alphas, eps, warn=True):
    """Fitted models along the grid (a list) and the grid, from a path hook."""
    if isinstance(alphas, Integral):
        alphas = alpha_grid(problem.alpha_max, n_alphas=int(alphas), eps=eps)
    else:
        alphas = _check_alphas(alphas)
    models, failed = [], []
    for alpha in alphas:
        with warnings.catch_warnings():
            # One warning for the whole path instead of one per strength.
            warnings.simplefilter("ignore", ConvergenceWarning)
            models.append(problem.fit(float(alpha)))
        if not getattr(problem, "converged", True):
            failed.append(float(alpha))
    if failed and warn:
        warnings.warn(
            f"The solver stopped at max_iter before reaching tol at "
            f"{len(failed)} of {len(alphas)} strengths (largest {max(failed):.4g}); "
            "increase max_iter or tol.",
            ConvergenceWarning,
            stacklevel=3,
        )
    return models, alphas
