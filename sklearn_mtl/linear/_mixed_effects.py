"""Multi-task linear regression as a linear mixed model, fitted by EM.

Every task's coefficients are a shared mean plus a random deviation,
``w_t = beta + u_t`` with ``u_t ~ N(0, Psi)``, and the noise is
``N(0, sigma2)``. ``beta``, the deviation covariance ``Psi``
and the noise variance ``sigma2`` are estimated by maximizing the marginal
likelihood (EM); the coefficients are then the posterior means. There is no
strength to cross-validate: how far each task may move from the shared model,
and along which feature directions, is learned from the spread of the tasks.

With ``Psi = psi I`` the posterior mean is the mean-regularized ("full"
graph) model, ``GraphMultiTaskRegressor(alpha_graph=sigma2 / (2 psi),
alpha_l2=0)``; a full ``Psi`` is its generalization to a learned metric
(tested against the graph model and a brute-force likelihood).
"""

import warnings
from numbers import Integral, Real

import numpy as np
from scipy.linalg import eigh, pinvh
from scipy.special import expit, log_expit
from sklearn.base import BaseEstimator, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import Interval, StrOptions

from .._base import MultiTaskClassifierMixin, MultiTaskRegressorMixin
from .._tasks import check_fit_data
from ._prediction import LinearTaskClassifierMixin, LinearTaskRegressorMixin

__all__ = ["MixedEffectsMultiTaskClassifier", "MixedEffectsMultiTaskRegressor"]


def _shaped(S, covariance_type):
    """The covariance of form ``covariance_type`` nearest ``S`` (the M-step)."""
    if covariance_type == "diag":
        return np.diag(np.diag(S))
    if covariance_type == "spherical":
        return np.eye(S.shape[0]) * np.trace(S) / S.shape[0]
    return S


def _root(psi):
    """R with R R^T = psi, from the eigenvectors (psi may be singular)."""
    values, vectors = eigh(psi)
    return vectors * np.sqrt(np.clip(values, 0.0, None))


def _centered_blocks(data):
    """Per-task weighted Gram ``G``, ``X^T y``, ``y^T y`` of the data centered
    within the task (the unpenalized intercepts profiled out), with the means.
    """
    X, y = data.X_rows, data.y
    w = np.ones(data.n_rows) if data.sample_weight is None else data.sample_weight
    blocks = []
    for rows in data.rows_of_tasks():
        Xt, yt, wt = X[rows], y[rows], w[rows]
        total = wt.sum()
        x_mean = wt @ Xt / total
        y_mean = wt @ yt / total
        Xc, yc = Xt - x_mean, yt - y_mean
        Xw = Xc * wt[:, None]
        blocks.append((Xw.T @ Xc, Xw.T @ yc, yc @ (wt * yc), total, x_mean, y_mean))
    return blocks


class _EStep:
    """Posterior of every task's deviation given (Psi, sigma2); GLS beta."""

    def __init__(self, blocks, psi, sigma2):
        d = psi.shape[0]
        # Psi = R R^T from its eigenvectors: the posterior covariance
        # R (I + R^T G R / sigma2)^-1 R^T never inverts Psi, which EM may
        # drive to singular (a direction in which the tasks do not differ).
        R = _root(psi)
        self.cov, self.logdet = [], 0.0
        normal, rhs = np.zeros((d, d)), np.zeros(d)
        for G, c, _, _, _, _ in blocks:
            inner = np.eye(d) + R.T @ G @ R / sigma2
            self.logdet += np.linalg.slogdet(inner)[1]
            C = R @ np.linalg.solve(inner, R.T)
            C = (C + C.T) / 2
            self.cov.append(C)
            # X^T V^-1 X and X^T V^-1 y by Woodbury, V = X Psi X^T + sigma2 W^-1.
            normal += G / sigma2 - G @ C @ G / sigma2**2
            rhs += c / sigma2 - G @ (C @ c) / sigma2**2
        # Features the data cannot identify (collinear columns) get the
        # minimum-norm mean.
        self.beta = pinvh(normal) @ rhs
        self.means = np.array(
            [
                C @ (c - G @ self.beta) / sigma2
                for (G, c, *_), C in zip(blocks, self.cov)
            ]
        )


def _log_likelihood(blocks, estep, sigma2, n_dof):
    """Marginal log-likelihood of the within-task contrasts (up to weights'
    log-determinant, a constant)."""
    quad = 0.0
    for (G, c, yy, *_), C in zip(blocks, estep.cov):
        r = c - G @ estep.beta
        rr = yy - 2 * estep.beta @ c + estep.beta @ G @ estep.beta
        quad += (rr - r @ C @ r / sigma2) / sigma2
    return -0.5 * (n_dof * np.log(2 * np.pi * sigma2) + estep.logdet + quad)


class MixedEffectsMultiTaskRegressor(
    MultiTaskRegressorMixin, LinearTaskRegressorMixin, BaseEstimator
):
    """Multi-task linear regression with task coefficients as random effects.

    Each task's model is ``f_t(x) = x @ (beta + u_t) + b_t``: a shared
    ``beta``, a deviation ``u_t ~ N(0, Psi)`` and an unpenalized intercept
    ``b_t``; the noise is ``N(0, sigma2)``. ``beta``, ``Psi``
    and ``sigma2`` maximize the likelihood of the within-task centered data
    (the intercepts profiled out, as restricted maximum likelihood does for
    fixed effects), by expectation-maximization; ``coef_`` are the posterior
    means ``beta + E[u_t | data]``. This is the hierarchical linear model of
    multilevel statistics with every coefficient random (Goldstein's school
    effectiveness model); Bayesian multi-task learning with a Gaussian prior
    learned from all tasks.

    No strength needs cross-validation: small or noisy tasks are pulled to
    ``beta`` more, and along the directions in which the tasks differ least.
    With ``covariance_type="spherical"`` (``Psi = psi I``) the coefficients
    are those of ``GraphMultiTaskRegressor(graph="full",
    alpha_graph=sigma2_ / (2 psi), alpha_l2=0)`` (a pull of every task toward the
    mean model), with the strength estimated instead of cross-validated.
    The coefficients depend on the features' scales unless
    ``covariance_type="full"``: standardize them first.

    Parameters
    ----------
    covariance_type : {"full", "diag", "spherical"}, default="full"
        Form of ``Psi``: a full (d, d) matrix (tasks may differ along any
        directions, d (d + 1) / 2 variances), a diagonal (each feature its own
        spread) or one variance for every feature.
    task_column : int or str, default=None
        Column of ``X`` holding the task labels, removed before fitting.
    tol : float, default=1e-6
        Stop when the log-likelihood gains less than ``tol`` times its
        absolute value in one EM iteration.
    max_iter : int, default=500
        Maximum number of EM iterations.

    Attributes
    ----------
    coef_ : ndarray of shape (n_tasks, n_features)
        Posterior mean coefficients of each task.
    intercept_ : ndarray of shape (n_tasks,)
        Intercept of each task.
    mean_coef_ : ndarray of shape (n_features,)
        The shared mean ``beta``.
    covariance_ : ndarray of shape (n_features, n_features)
        The deviation covariance ``Psi``.
    sigma2_ : float
        The noise variance.
    log_likelihood_ : float
        Marginal log-likelihood of the within-task centered data at the
        solution; with sample weights, that of the data with every sample
        repeated ``sample_weight`` times.
    n_iter_ : int
        Number of EM iterations run.
    tasks_ : ndarray of shape (n_tasks,)
        Task labels, sorted.
    n_features_in_ : int
        Number of features seen during fit (without the task column).
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when ``X`` has string column names.

    See Also
    --------
    GraphMultiTaskRegressor : The mean-regularized model with a cross-validated
        strength (the spherical case).
    LowRankMultiTaskRegressor : Tasks in a shared low-dimensional subspace.

    Notes
    -----
    Each iteration costs O(T d^3) after one O(n d^2) pass building the
    per-task Gram blocks; no (dT, dT) matrix is formed. Every task needs at
    least two samples (one is spent on its intercept).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_mtl import MixedEffectsMultiTaskRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(400, 3))
    >>> task_ids = np.repeat(np.arange(20), 20)
    >>> W = np.array([1.0, -2.0, 0.5]) + 0.3 * rng.normal(size=(20, 3))
    >>> y = np.einsum("ij,ij->i", X, W[task_ids]) + 0.5 * rng.normal(size=400)
    >>> model = MixedEffectsMultiTaskRegressor(covariance_type="diag")
    >>> model = model.fit(X, y, task_ids=task_ids)
    >>> model.mean_coef_.round(1)  # the shared model
    array([ 0.9, -2. ,  0.5])
    >>> np.sqrt(np.diag(model.covariance_)).round(1)  # spread of the tasks
    array([0.3, 0.2, 0.4])
    >>> round(model.sigma2_, 2)  # noise variance (0.25)
    0.26
    >>> model.coef_.shape
    (20, 3)
    """

    _parameter_constraints: dict = {
        "covariance_type": [StrOptions({"full", "diag", "spherical"})],
        "task_column": [None, Integral, str],
        "tol": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(
        self, *, covariance_type="full", task_column=None, tol=1e-6, max_iter=500
    ):
        self.covariance_type = covariance_type
        self.task_column = task_column
        self.tol = tol
        self.max_iter = max_iter

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, task_ids=None, sample_weight=None):
        """Fit by EM on the marginal likelihood.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data (with the task column if ``task_column`` is set).
        y : array-like of shape (n_samples,) or (n_samples, n_tasks)
            Targets; wide format with NaN for missing labels.
        task_ids : array-like of shape (n_samples,), default=None
            Task of each sample (long format).
        sample_weight : array-like of shape (n_samples,), default=None
            Frequency weights: a sample of weight ``k`` counts as ``k``
            copies of it (in the posterior, the noise variance of a sample
            is ``sigma2 / sample_weight``).

        Returns
        -------
        self : MixedEffectsMultiTaskRegressor
            Fitted estimator.
        """
        data = check_fit_data(self, X, y, task_ids, sample_weight)
        blocks = _centered_blocks(data)
        n_tasks, d = data.n_tasks, data.X.shape[1]
        # One degree of freedom per task goes to its intercept.
        n_dof = sum(block[3] for block in blocks) - n_tasks
        if n_dof <= 0:
            raise ValueError(
                "MixedEffectsMultiTaskRegressor needs more samples (in total "
                "weight) than tasks: one per task is spent on its intercept."
            )
        sigma2 = sum(block[2] for block in blocks) / n_dof
        if sigma2 <= 0:  # a constant target within every task
            sigma2 = 1.0
        # A floor on the noise: data fitted exactly would send it to 0.
        floor = 1e-12 * sigma2
        # Start: deviations of the size one feature's share of the variance.
        scale = sum(np.trace(block[0]) for block in blocks) / n_dof
        # No feature varying within any task (scale 0) leaves the slopes
        # unidentified: start from unit spread rather than an infinite one.
        psi = np.eye(d) * sigma2 / (scale if scale > 0 else 1.0)
        previous = -np.inf
        converged, n_iter = False, 0
        while n_iter < self.max_iter:
            n_iter += 1
            estep = _EStep(blocks, psi, sigma2)
            likelihood = _log_likelihood(blocks, estep, sigma2, n_dof)
            if likelihood - previous <= self.tol * abs(likelihood):
                converged = True
                break
            previous = likelihood
            # M-step: Psi = mean of E[u u^T]; sigma2 = E[residual^2] / dof.
            second = sum(np.outer(m, m) + C for m, C in zip(estep.means, estep.cov))
            psi = _shaped(second / n_tasks, self.covariance_type)
            rss = 0.0
            for (G, c, yy, *_), m, C in zip(blocks, estep.means, estep.cov):
                w = estep.beta + m
                rss += yy - 2 * w @ c + w @ G @ w + np.sum(G * C)
            sigma2 = max(rss / n_dof, floor)
        if not converged:
            estep = _EStep(blocks, psi, sigma2)
            likelihood = _log_likelihood(blocks, estep, sigma2, n_dof)
            warnings.warn(
                f"MixedEffectsMultiTaskRegressor did not converge in "
                f"max_iter={self.max_iter} EM iterations to tol={self.tol}.",
                ConvergenceWarning,
                stacklevel=3,  # the caller of fit (past _fit_context)
            )
        # The attributes come from the last E-step, so that coef_ are the
        # posterior means under covariance_ and sigma2_ exactly.
        self.mean_coef_ = estep.beta
        self.coef_ = estep.beta + estep.means
        self.intercept_ = np.array(
            [block[5] - block[4] @ w for block, w in zip(blocks, self.coef_)]
        )
        self.covariance_ = psi
        self.sigma2_ = float(sigma2)
        self.log_likelihood_ = float(likelihood)
        self.n_iter_ = n_iter
        return self


class _TaskModes:
    """Laplace E-step of the logistic model: every task's posterior mode
    ``(w_t, b_t)`` under the prior ``w_t ~ N(beta, Psi)`` (flat on ``b_t``),
    the posterior covariance of ``w_t`` and the Laplace log-likelihood."""

    def __init__(self, tasks, psi, beta, theta):
        d = psi.shape[0]
        R = _root(psi)
        values, vectors = eigh(psi)
        # Psi^-1 for the modes; a direction without spread (EM drives some
        # to 0) is pinned to beta by a huge but finite precision.
        floor = 1e-12 * max(values.max(), np.finfo(float).tiny)
        precision = (vectors / np.maximum(values, floor)) @ vectors.T
        self.theta, self.cov, self.log_likelihood = theta.copy(), [], 0.0
        for t, (A, z, w) in enumerate(tasks):
            th = self.theta[t] = _newton(A, z, w, precision, beta, self.theta[t])
            p = expit(A @ th)
            hessian = (A * (w * p * (1 - p))[:, None]).T @ A
            # The data's curvature on w_t once b_t is profiled out (Schur
            # complement); the posterior covariance R (I + R^T S R)^-1 R^T
            # needs no inverse of Psi.
            S = hessian[:d, :d] - np.outer(hessian[:d, d], hessian[d, :d]) / max(
                hessian[d, d], np.finfo(float).tiny
            )
            inner = np.eye(d) + R.T @ S @ R
            C = R @ np.linalg.solve(inner, R.T)
            self.cov.append((C + C.T) / 2)
            u = th[:d] - beta
            scores = A @ th
            self.log_likelihood += (
                w @ (z * log_expit(scores) + (1 - z) * log_expit(-scores))
                - 0.5 * u @ precision @ u
                - 0.5 * np.linalg.slogdet(inner)[1]
            )


def _newton(A, z, w, precision, beta, theta, max_iter=100):
    """Mode of one task's penalized logistic log-likelihood, by Newton's
    method with step halving (the objective is strictly convex in w_t and
    convex in b_t)."""
    d = precision.shape[0]

    def objective(th):
        scores = A @ th
        u = th[:d] - beta
        return -w @ (z * log_expit(scores) + (1 - z) * log_expit(-scores)) + 0.5 * (
            u @ precision @ u
        )

    value = objective(theta)
    for _ in range(max_iter):
        p = expit(A @ theta)
        gradient = A.T @ (w * (p - z))
        gradient[:d] += precision @ (theta[:d] - beta)
        hessian = (A * (w * p * (1 - p))[:, None]).T @ A
        hessian[:d, :d] += precision
        hessian[d, d] += 1e-12 * (1.0 + hessian[d, d])
        step = np.linalg.solve(hessian, gradient)
        decrement = gradient @ step
        size = 1.0
        while True:
            candidate = theta - size * step
            new = objective(candidate)
            if new <= value + 1e-4 * size * -decrement or size < 1e-10:
                break
            size /= 2
        theta, value = candidate, new
        # The Newton decrement bounds the gap to the mode (to rounding).
        if decrement < 1e-12 * (1.0 + abs(value)):
            break
    return theta


class MixedEffectsMultiTaskClassifier(
    MultiTaskClassifierMixin, LinearTaskClassifierMixin, BaseEstimator
):
    """Multi-task logistic regression with task coefficients as random effects.

    The logistic counterpart of :class:`MixedEffectsMultiTaskRegressor`
    (binary tasks): each task's log-odds are ``x @ (beta + u_t) + b_t`` with
    ``u_t ~ N(0, Psi)`` and an unpenalized intercept ``b_t``. ``beta`` and
    ``Psi`` maximize the Laplace approximation of the marginal likelihood by
    EM (a generalized linear mixed model): the E-step finds every task's
    posterior mode, a logistic regression pulled toward ``beta`` with
    precision ``Psi^-1``, and its curvature; the M-step sets ``beta`` to the
    mean of the modes and ``Psi`` to the mean of their spread plus posterior
    covariances. ``coef_`` and ``intercept_`` are the modes. No strength
    needs cross-validation.

    With ``covariance_type="spherical"`` (``Psi = psi I``) the modes are those
    of ``GraphMultiTaskClassifier(graph="full", alpha_graph=1 / (2 psi),
    alpha_l2=0)`` with the strength estimated instead of cross-validated.
    Standardize the features unless ``covariance_type="full"``.

    Parameters
    ----------
    covariance_type : {"full", "diag", "spherical"}, default="full"
        Form of ``Psi``: a full (d, d) matrix, a diagonal, or one variance.
    task_column : int or str, default=None
        Column of ``X`` holding the task labels, removed before fitting.
    tol : float, default=1e-4
        Stop when the approximate log-likelihood changes by less than
        ``tol`` times its absolute value in one EM iteration. Tasks with few
        positives are often separable; along their direction the Laplace
        likelihood can keep rising slowly as ``Psi`` grows, without a finite
        maximum, so the default stops once the gain is small (the modes and
        their AUC then barely move).
    max_iter : int, default=500
        Maximum number of EM iterations.

    Attributes
    ----------
    coef_ : ndarray of shape (n_tasks, n_features)
        Posterior modes of the tasks' coefficients.
    intercept_ : ndarray of shape (n_tasks,)
        Intercept of each task.
    mean_coef_ : ndarray of shape (n_features,)
        The shared mean ``beta``.
    covariance_ : ndarray of shape (n_features, n_features)
        The deviation covariance ``Psi``.
    log_likelihood_ : float
        Laplace approximation of the marginal log-likelihood (intercepts
        profiled out) at the solution.
    classes_ : ndarray of shape (2,)
        The two class labels.
    task_class_mask_ : ndarray of shape (n_tasks, 2)
        All True: both classes are allowed in every task.
    n_iter_ : int
        Number of EM iterations run.
    tasks_ : ndarray of shape (n_tasks,)
        Task labels, sorted.
    n_features_in_ : int
        Number of features seen during fit (without the task column).
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when ``X`` has string column names.

    See Also
    --------
    MixedEffectsMultiTaskRegressor : The linear mixed model.
    GraphMultiTaskClassifier : The spherical case with a cross-validated
        strength.

    Notes
    -----
    Each EM iteration runs a few warm-started Newton steps per task, O(n d^2)
    in all, plus O(T d^3); no (dT, dT) matrix is formed.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_mtl import MixedEffectsMultiTaskClassifier
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(600, 2))
    >>> task_ids = np.repeat(np.arange(20), 30)
    >>> W = np.array([2.0, -1.0]) + 0.5 * rng.normal(size=(20, 2))
    >>> logits = np.einsum("ij,ij->i", X, W[task_ids])
    >>> y = (rng.random(600) < 1 / (1 + np.exp(-logits))).astype(int)
    >>> model = MixedEffectsMultiTaskClassifier().fit(X, y, task_ids=task_ids)
    >>> model.mean_coef_.round(1)  # the shared model; [2, -1] generated the data
    array([ 1.6, -1. ])
    >>> model.predict_proba(X[:1], task_ids=[0]).shape
    (1, 2)
    """

    _parameter_constraints: dict = MixedEffectsMultiTaskRegressor._parameter_constraints

    def __init__(
        self, *, covariance_type="full", task_column=None, tol=1e-4, max_iter=500
    ):
        self.covariance_type = covariance_type
        self.task_column = task_column
        self.tol = tol
        self.max_iter = max_iter

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.classifier_tags.multi_class = False
        return tags

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, task_ids=None, sample_weight=None):
        """Fit by EM on the Laplace-approximated marginal likelihood.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data (with the task column if ``task_column`` is set).
        y : array-like of shape (n_samples,) or (n_samples, n_tasks)
            Two class labels; wide format with NaN for missing labels.
        task_ids : array-like of shape (n_samples,), default=None
            Task of each sample (long format).
        sample_weight : array-like of shape (n_samples,), default=None
            Frequency weights: a sample of weight ``k`` counts as ``k``
            copies of it.

        Returns
        -------
        self : MixedEffectsMultiTaskClassifier
            Fitted estimator.
        """
        data = check_fit_data(self, X, y, task_ids, sample_weight, classifier=True)
        self.classes_ = np.unique(data.y)
        if len(self.classes_) != 2:
            raise ValueError(
                "Only binary classification is supported. "
                "MixedEffectsMultiTaskClassifier: y has "
                f"{len(self.classes_)} classes ({self.classes_.tolist()[:5]})."
            )
        positive = (data.y == self.classes_[1]).astype(float)
        weights = (
            np.ones(data.n_rows) if data.sample_weight is None else data.sample_weight
        )
        X_rows = data.X_rows
        tasks = [
            (
                np.column_stack([X_rows[rows], np.ones(rows.size)]),
                positive[rows],
                weights[rows],
            )
            for rows in data.rows_of_tasks()
        ]
        n_tasks, d = data.n_tasks, data.X.shape[1]
        # Start from a unit prior on standardized features: each coefficient
        # of the order of one log-odds unit per standard deviation.
        scale = sum(np.trace((A[:, :d] * w[:, None]).T @ A[:, :d]) for A, _, w in tasks)
        total = sum(w.sum() for _, _, w in tasks)
        psi = np.eye(d) * total / (scale if scale > 0 else 1.0)
        beta = np.zeros(d)
        theta = np.zeros((n_tasks, d + 1))
        for t, (_, z, w) in enumerate(tasks):
            rate = np.clip(w @ z / w.sum(), 1e-3, 1 - 1e-3)
            theta[t, d] = np.log(rate / (1 - rate))
        previous, converged, n_iter = -np.inf, False, 0
        while n_iter < self.max_iter:
            n_iter += 1
            modes = _TaskModes(tasks, psi, beta, theta)
            theta = modes.theta
            # The Laplace likelihood is not EM's exact objective: it may dip,
            # so a fall is not taken for convergence.
            gain = abs(modes.log_likelihood - previous)
            if gain <= self.tol * abs(modes.log_likelihood):
                converged = True
                break
            previous = modes.log_likelihood
            beta = theta[:, :d].mean(axis=0)
            spread = theta[:, :d] - beta
            psi = _shaped(
                (spread.T @ spread + sum(modes.cov)) / n_tasks, self.covariance_type
            )
        if not converged:
            modes = _TaskModes(tasks, psi, beta, theta)
            warnings.warn(
                f"MixedEffectsMultiTaskClassifier did not converge in "
                f"max_iter={self.max_iter} EM iterations to tol={self.tol}.",
                ConvergenceWarning,
                stacklevel=3,  # the caller of fit (past _fit_context)
            )
        self.coef_ = modes.theta[:, :d]
        self.intercept_ = modes.theta[:, d]
        self.mean_coef_ = beta
        self.covariance_ = psi
        self.log_likelihood_ = float(modes.log_likelihood)
        self.task_class_mask_ = np.ones((n_tasks, 2), dtype=bool)
        self.n_iter_ = n_iter
        return self
