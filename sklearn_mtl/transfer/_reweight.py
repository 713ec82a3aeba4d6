"""Reweighting: source samples weighted by an estimate of ``p_target / p_source``.

Functions returning one weight per source row, like :func:`kmm_weights`; pass
them as ``sample_weight`` of any estimator.
"""

from numbers import Integral, Real

import numpy as np
import scipy.optimize
from sklearn.linear_model import LogisticRegression
from sklearn.metrics.pairwise import euclidean_distances
from sklearn.neighbors import NearestNeighbors
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, validate_params
from sklearn.utils.validation import check_array

__all__ = ["kliep_weights", "discriminator_weights", "nn_weights"]


def _check_domains(X_source, X_target, name):
    """Both domains as finite 2-D arrays with a row each and the same features."""
    for given, input_name in [(X_source, "X_source"), (X_target, "X_target")]:
        # check_array's own message for no rows does not say which input.
        if np.ndim(given) == 2 and np.shape(given)[0] == 0:
            raise ValueError(f"{input_name} has no rows; {name} needs at least one.")
    X_source = check_array(X_source, input_name="X_source")
    X_target = check_array(X_target, input_name="X_target")
    if X_source.shape[1] != X_target.shape[1]:
        raise ValueError(
            f"X_source has {X_source.shape[1]} features but X_target has "
            f"{X_target.shape[1]}; {name} compares samples of the same features."
        )
    return X_source, X_target


def _median_gamma(X, random_state, max_rows=1000):
    """RBF ``gamma = 1 / (2 sigma^2)``, sigma the median pairwise distance.

    The median over a subsample of at most ``max_rows`` rows (quadratic cost);
    1 when every row is the same.
    """
    if len(X) > max_rows:
        X = X[random_state.choice(len(X), max_rows, replace=False)]
    distances = euclidean_distances(X)
    positive = distances[np.triu_indices(len(X), k=1)]
    positive = positive[positive > 0]
    sigma = np.median(positive) if positive.size else 1.0
    return 1.0 / (2.0 * sigma**2)


@validate_params(
    {
        "X_source": ["array-like"],
        "X_target": ["array-like"],
        "n_centers": [Interval(Integral, 1, None, closed="left")],
        "gamma": [None, Interval(Real, 0, None, closed="neither")],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def kliep_weights(X_source, X_target, *, n_centers=100, gamma=None, random_state=0):
    """KLIEP density ratio (Sugiyama et al., 2008): weights of the sources.

    Models ``w(x) = sum_l alpha_l k(x, c_l)`` with Gaussian kernels ``k``
    centred on ``c_l``, a subsample of ``min(n_centers, n_target)`` target
    rows, and maximizes the target log-likelihood
    ``mean_j log w(x_j^t)`` subject to ``mean_i w(x_i^s) = 1`` and
    ``alpha >= 0``. Solved as the scale-free problem
    ``max mean_j log (A alpha)_j - log mean_i (K_s alpha)_i`` by L-BFGS-B on
    ``alpha >= 0``; the weights are then normalized to mean 1 on the source.
    ``gamma`` defaults to the median heuristic ``1 / (2 sigma^2)``, sigma
    the median distance between rows of both domains.

    Parameters
    ----------
    X_source : array-like of shape (n_source, n_features)
        Source samples to weight.
    X_target : array-like of shape (n_target, n_features)
        Target samples (unlabelled).
    n_centers : int, default=100
        Number of kernel centres (at most ``n_target`` are used).
    gamma : float > 0, default=None
        RBF kernel width ``exp(-gamma ||x - c||^2)``; None: median heuristic.
    random_state : int, RandomState instance or None, default=0
        Draws the centres (and the rows of the median heuristic).

    Returns
    -------
    weights : ndarray of shape (n_source,)
        Non-negative, finite, with mean 1.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_mtl.transfer import kliep_weights
    >>> rng = np.random.RandomState(0)
    >>> X_source = rng.normal(size=(200, 1))
    >>> X_target = rng.normal(loc=1.0, size=(100, 1))
    >>> w = kliep_weights(X_source, X_target)
    >>> float(round(w.mean(), 6))
    1.0
    >>> bool(w[X_source[:, 0] > 1].mean() > w[X_source[:, 0] < 0].mean())
    True
    """
    X_source, X_target = _check_domains(X_source, X_target, "KLIEP")
    rng = check_random_state(random_state)
    n_target = len(X_target)
    centres = X_target[rng.choice(n_target, min(n_centers, n_target), replace=False)]
    if gamma is None:
        gamma = _median_gamma(np.vstack([X_source, X_target]), rng)

    def kernel(X):
        # A row far from every centre underflows to 0: weight 0, never NaN
        # (the logarithms below are floored at the smallest positive float).
        return np.exp(-gamma * euclidean_distances(X, centres, squared=True))

    A, b = kernel(X_target), kernel(X_source).mean(axis=0)
    tiny = np.finfo(float).tiny

    def objective(alpha):
        fitted = A @ alpha + tiny
        total = b @ alpha + tiny
        value = -np.mean(np.log(fitted)) + np.log(total)
        grad = -A.T @ (1.0 / fitted) / n_target + b / total
        return value, grad

    alpha = scipy.optimize.minimize(
        objective,
        np.ones(A.shape[1]),
        jac=True,
        method="L-BFGS-B",
        bounds=[(0.0, None)] * A.shape[1],
    ).x
    weights = kernel(X_source) @ alpha
    mean = weights.mean()
    if not np.isfinite(mean) or mean <= 0:
        # No source row near any centre: nothing to tell the rows apart.
        return np.ones(len(X_source))
    return weights / mean


@validate_params(
    {
        "X_source": ["array-like"],
        "X_target": ["array-like"],
        "C": [Interval(Real, 0, None, closed="neither")],
        "clip": [Interval(Real, 1, None, closed="left")],
    },
    prefer_skip_nested_validation=True,
)
def discriminator_weights(X_source, X_target, *, C=1.0, clip=100.0):
    """Density ratio from a domain classifier: weights of the sources.

    A :class:`~sklearn.linear_model.LogisticRegression` (``C``) learns to tell
    target rows (class 1) from source rows (class 0), on features
    standardized over both domains (so ``C`` means the same at any feature
    scale: unscaled, features of size 1e8 made the penalty vanish and the
    weights change); by Bayes' rule
    ``p_t(x) / p_s(x) = p(target | x) / p(source | x) * n_s / n_t``. The odds
    are read from the decision function in the log domain (no division by a
    probability of 0) and the weights clipped to ``[1 / clip, clip]``, so a
    perfectly separable pair of domains gives bounded weights, never inf or
    NaN.

    Parameters
    ----------
    X_source : array-like of shape (n_source, n_features)
        Source samples to weight.
    X_target : array-like of shape (n_target, n_features)
        Target samples (unlabelled).
    C : float > 0, default=1.0
        Inverse regularization strength of the domain classifier.
    clip : float >= 1, default=100.0
        Weights are clipped to ``[1 / clip, clip]``.

    Returns
    -------
    weights : ndarray of shape (n_source,)

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_mtl.transfer import discriminator_weights
    >>> rng = np.random.RandomState(0)
    >>> X_source = rng.normal(size=(200, 1))
    >>> X_target = rng.normal(loc=1.0, size=(100, 1))
    >>> w = discriminator_weights(X_source, X_target)
    >>> bool(w[X_source[:, 0] > 1].mean() > w[X_source[:, 0] < 0].mean())
    True
    """
    X_source, X_target = _check_domains(X_source, X_target, "the domain classifier")
    n_source, n_target = len(X_source), len(X_target)
    X = np.vstack([X_source, X_target])
    domain = np.r_[np.zeros(n_source), np.ones(n_target)]
    classifier = make_pipeline(
        StandardScaler(), LogisticRegression(C=C, max_iter=1000)
    ).fit(X, domain)
    log_odds = classifier.decision_function(X_source)
    log_w = log_odds + np.log(n_source / n_target)
    bound = np.log(clip)
    return np.exp(np.clip(log_w, -bound, bound))


@validate_params(
    {
        "X_source": ["array-like"],
        "X_target": ["array-like"],
        "smoothing": [Interval(Real, 0, None, closed="left")],
    },
    prefer_skip_nested_validation=True,
)
def nn_weights(X_source, X_target, *, smoothing=1.0):
    """Nearest-neighbour density ratio (Loog, 2012): weights of the sources.

    Each target row votes for its nearest source row
    (:class:`~sklearn.neighbors.NearestNeighbors`, Euclidean); a source row's
    weight is its vote count plus ``smoothing`` (Laplace smoothing: a source
    row no target row picked keeps a little weight), normalized to mean 1.
    The votes estimate ``p_t / p_s`` integrated over each source row's
    Voronoi cell; no kernel width to choose and ``O(n_t log n_s)`` cost.

    Parameters
    ----------
    X_source : array-like of shape (n_source, n_features)
        Source samples to weight.
    X_target : array-like of shape (n_target, n_features)
        Target samples (unlabelled).
    smoothing : float >= 0, default=1.0
        Added to every count (0: the raw counts; source rows no target row
        picks get weight 0).

    Returns
    -------
    weights : ndarray of shape (n_source,)
        Non-negative, finite, with mean 1.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_mtl.transfer import nn_weights
    >>> X_source = np.array([[0.0], [1.0], [2.0], [3.0]])
    >>> X_target = np.array([[2.1], [2.9], [3.2], [2.2]])
    >>> nn_weights(X_source, X_target, smoothing=0.0)
    array([0., 0., 2., 2.])
    >>> nn_weights(X_source, X_target)
    array([0.5, 0.5, 1.5, 1.5])
    """
    X_source, X_target = _check_domains(
        X_source, X_target, "Nearest-neighbour reweighting"
    )
    nearest = NearestNeighbors(n_neighbors=1).fit(X_source)
    votes = nearest.kneighbors(X_target, return_distance=False)[:, 0]
    counts = np.bincount(votes, minlength=len(X_source)) + smoothing
    total = counts.sum()
    if total <= 0:  # smoothing=0 and no target row: nothing to weight by
        return np.ones(len(X_source))
    return counts * (len(X_source) / total)
