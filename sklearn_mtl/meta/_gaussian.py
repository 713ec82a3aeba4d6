"""Empirical-Bayes math of the linear meta-learners (numpy / scipy only).

Every task ``t`` has a linear model ``w_t ~ N(mu, Sigma)`` with
``Sigma = U U^T + s2 I``. Tasks are read through per-task sufficient
statistics, so every solve is a batched (T, d, d) Cholesky: the (dT, dT)
system of all tasks is never formed.
"""

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.optimize import minimize
from scipy.special import expit

# Relative floors: a variance that collapses to 0 would make the prior
# precision infinite (e.g. one training task, or noise-free targets).
_VARIANCE_FLOOR = 1e-10


@dataclass
class TaskStats:
    """Sufficient statistics of the squared loss, one entry per task.

    ``centered``: of centered data (a flat prior on each task's intercept);
    else of rows ``[x, 1]`` uncentered, the intercept being the last
    coefficient (and ``x_mean``, ``y_mean`` zero).
    """

    n: np.ndarray  # (T,) samples
    x_mean: np.ndarray  # (T, p)
    y_mean: np.ndarray  # (T,)
    gram: np.ndarray  # (T, p, p) X^T X
    xy: np.ndarray  # (T, p) X^T y
    yy: np.ndarray  # (T,) y^T y
    centered: bool = True

    @property
    def dof(self):
        """Degrees of freedom of each task's residual (centering takes one)."""
        return self.n - 1 if self.centered else self.n


def task_stats(data, y=None, center=True):
    """Statistics of each task of a TaskData (a loop over tasks only)."""
    y = data.y if y is None else y
    y = np.asarray(y, dtype=np.float64)
    p = data.X.shape[1] + (0 if center else 1)
    T = data.n_tasks
    stats = TaskStats(
        n=np.zeros(T),
        x_mean=np.zeros((T, p)),
        y_mean=np.zeros(T),
        gram=np.zeros((T, p, p)),
        xy=np.zeros((T, p)),
        yy=np.zeros(T),
        centered=center,
    )
    for t, rows in enumerate(data.rows_of_tasks()):
        X = data.features_of(rows)
        yt = y[rows]
        stats.n[t] = rows.size
        if center:
            stats.x_mean[t] = X.mean(axis=0)
            stats.y_mean[t] = yt.mean()
            X, yt = X - stats.x_mean[t], yt - stats.y_mean[t]
        else:
            X = np.hstack([X, np.ones((rows.size, 1))])
        stats.gram[t] = X.T @ X
        stats.xy[t] = X.T @ yt
        stats.yy[t] = yt @ yt
    return stats


def _batched_inverse_spd(A):
    """Inverse and log-determinant of a stack of SPD matrices via Cholesky."""
    L = np.linalg.cholesky(A)
    eye = np.broadcast_to(np.eye(A.shape[-1]), A.shape)
    L_inv = np.linalg.solve(L, eye)  # triangular; d is small
    inverse = np.swapaxes(L_inv, -1, -2) @ L_inv
    logdet = 2.0 * np.log(np.diagonal(L, axis1=-2, axis2=-1)).sum(axis=-1)
    return inverse, logdet


def low_rank_covariance(S, rank, floor):
    """Probabilistic-PCA maximizer of ``-log|C| - tr(C^{-1} S)`` over
    ``C = U U^T + s2 I`` with ``U`` of ``rank`` columns (Tipping & Bishop).

    ``s2`` is the mean of the ``d - rank`` smallest eigenvalues of ``S`` and
    ``U = V_r (Lambda_r - s2)^{1/2}``; ``rank`` is clipped to ``d - 1``.
    """
    d = S.shape[0]
    rank = min(rank, d - 1)
    values, vectors = np.linalg.eigh((S + S.T) / 2)
    values, vectors = values[::-1], vectors[:, ::-1]
    s2 = max(values[rank:].mean(), floor)
    U = vectors[:, :rank] * np.sqrt(np.maximum(values[:rank] - s2, 0.0))
    return U, s2


def gaussian_posterior(stats, mean, precision, noise):
    """Exact posterior of every task's ``w`` under ``N(mean, precision^{-1})``.

    Returns posterior means (T, d), covariances (T, d, d) and the log
    determinants of the posterior precisions (T,).
    """
    A = stats.gram / noise + precision
    cov, logdet = _batched_inverse_spd(A)
    rhs = stats.xy / noise + precision @ mean
    return np.einsum("tij,tj->ti", cov, rhs), cov, logdet


def log_marginal_likelihood(stats, mean, precision, prior_logdet, noise, post):
    """Sum over tasks of ``log p(y_t | X_t)`` with ``w_t`` integrated out.

    With centered statistics the intercept has a flat prior, so each task
    keeps ``n_t - 1`` degrees of freedom. Uses ``|noise I + X S X^T| = noise^n |S| |A|``
    and Woodbury, all in (d, d).
    """
    m, cov, logdet_A = post
    resid = (
        stats.yy - 2 * stats.xy @ mean + np.einsum("i,tij,j->t", mean, stats.gram, mean)
    )
    b = (stats.xy - stats.gram @ mean) / noise
    quad = resid / noise - np.einsum("ti,tij,tj->t", b, cov, b)
    ll = stats.dof * np.log(2 * np.pi * noise) + prior_logdet + logdet_A + quad
    return -0.5 * float(ll.sum())


def fit_gaussian_prior(stats, rank, max_iter, tol):
    """EM for ``mu``, ``U``, ``s2`` and the noise variance over training tasks.

    E-step: exact Gaussian posterior of every task (batched Cholesky).
    M-step: ``mu`` = mean of posterior means; the covariance from the
    posterior second moments ``S = mean_t [C_t + (m_t - mu)(m_t - mu)^T]`` by
    the PPCA update; noise = expected residual sum of squares / degrees of
    freedom. With uncentered statistics the last coefficient is the intercept,
    with its own prior ``N(b0, tau2)`` learned the same way (``tau2`` the last
    diagonal entry of ``S``). The log marginal likelihood never decreases
    (exact EM).

    Returns ``mean`` (p,), ``U``, ``s2``, ``tau2`` (None when centered),
    ``noise``, the log marginal likelihood history and the iterations run.
    """
    T, p = stats.xy.shape
    d = p if stats.centered else p - 1
    dof = max(float(stats.dof.sum()), 1.0)
    scale_y = max(float(stats.yy.sum()) / dof, np.finfo(float).tiny)
    noise_floor = _VARIANCE_FLOOR * scale_y
    # Start: independent ridge fits (penalty 1 relative to the noise).
    noise = scale_y
    ridge = np.linalg.solve(stats.gram + np.eye(p), stats.xy[..., None])[..., 0]
    mean = ridge.mean(axis=0)
    spread = ridge - mean
    S = spread.T @ spread / T + np.eye(p) * (max(float(np.mean(ridge**2)), 1e-6) * 1e-2)
    cov_floor = _VARIANCE_FLOOR * max(float(np.trace(S)) / p, 1e-300)

    def prior_update(S):
        U, s2 = low_rank_covariance(S[:d, :d], rank, cov_floor)
        return U, s2, (None if stats.centered else max(float(S[d, d]), cov_floor))

    U, s2, tau2 = prior_update(S)
    history = []
    for it in range(1, max_iter + 1):  # noqa: B007 (returned below)
        precision, prior_logdet = prior_precision(U, s2)
        if tau2 is not None:
            precision = _block_precision(U, s2, tau2)
            prior_logdet += np.log(tau2)
        post = gaussian_posterior(stats, mean, precision, noise)
        history.append(
            log_marginal_likelihood(stats, mean, precision, prior_logdet, noise, post)
        )
        m, cov, _ = post
        mean = m.mean(axis=0)
        spread = m - mean
        S = (cov.sum(axis=0) + spread.T @ spread) / T
        U, s2, tau2 = prior_update(S)
        rss = (
            stats.yy
            - 2 * np.einsum("ti,ti->t", m, stats.xy)
            + np.einsum("ti,tij,tj->t", m, stats.gram, m)
            + np.einsum("tij,tji->t", stats.gram, cov)
        )
        noise = max(float(rss.sum()) / dof, noise_floor)
        if it > 1 and abs(history[-1] - history[-2]) <= tol * abs(history[-1]):
            break
    return mean, U, s2, tau2, noise, np.asarray(history), it


def prior_precision(U, s2):
    """Inverse and log-determinant of ``U U^T + s2 I`` for orthogonal columns.

    ``U`` comes from :func:`low_rank_covariance`, so its columns are
    orthogonal eigenvectors scaled by ``sqrt(lambda - s2)``; the inverse is
    then exact in that eigenbasis. Inverting the (d, d) matrix directly loses
    its positive definiteness once ``s2`` nears its floor.
    """
    d = U.shape[0]
    c = np.sum(U**2, axis=0)
    keep = c > 0
    V = U[:, keep] / np.sqrt(c[keep])
    precision = np.eye(d) / s2 + (V * (1 / (s2 + c[keep]) - 1 / s2)) @ V.T
    logdet = d * np.log(s2) + np.sum(np.log1p(c[keep] / s2))
    return precision, float(logdet)


def posterior_mean_intercept(stats, mean, precision, noise):
    """Posterior mean coefficients and the matching centered intercepts."""
    m, _, _ = gaussian_posterior(stats, mean, precision, noise)
    if not stats.centered:
        return m[:, :-1], m[:, -1]
    return m, stats.y_mean - np.einsum("ti,ti->t", stats.x_mean, m)


def common_mean(stats, alpha, alpha_mean):
    """The ``mu`` minimizing ``sum_t min_{v_t} ||yc_t - Xc_t (mu + v_t)||^2
    + alpha ||v_t||^2`` plus ``alpha_mean ||mu||^2``.

    Setting the gradient to zero gives
    ``[alpha sum_t G_t (G_t + alpha I)^{-1} + alpha_mean I] mu
    = alpha sum_t (G_t + alpha I)^{-1} c_t``.
    """
    d = stats.xy.shape[1]
    inv, _ = _batched_inverse_spd(stats.gram + alpha * np.eye(d))
    lhs = alpha * (stats.gram @ inv).sum(axis=0) + alpha_mean * np.eye(d)
    rhs = alpha * np.einsum("tij,tj->i", inv, stats.xy)
    return np.linalg.lstsq(lhs, rhs, rcond=None)[0]


# Logistic models: theta_t = [w_t, b_t] on augmented rows [x, 1].


class LogisticRows:
    """Rows of a binary problem, with the task indicator for vectorized sums."""

    def __init__(self, data, y01):
        X = data.X_rows
        self.Xa = np.hstack([X, np.ones((X.shape[0], 1))])
        self.y = np.asarray(y01, dtype=np.float64)
        self.task_index = data.task_index
        self.n_tasks = data.n_tasks
        n = X.shape[0]
        self.indicator = sp.csr_array(
            (np.ones(n), (self.task_index, np.arange(n))), shape=(self.n_tasks, n)
        )
        self.rows = data.rows_of_tasks()


def logistic_map(rows, mean, precision, init, tol, alpha_mean=None, max_iter=1000):
    """MAP of every task's ``theta_t`` under ``N(mean, precision^{-1})``.

    Minimizes ``sum_i logloss(y_i, xa_i @ theta_t(i))
    + 1/2 sum_t (theta_t - mean)^T precision (theta_t - mean)`` by L-BFGS over
    all tasks at once (the objective separates by task). With ``alpha_mean``
    not None the mean is learned too, with penalty ``alpha_mean/2 ||mean_w||^2``
    (the intercept entry unpenalized). Returns (theta (T, d+1), mean).
    """
    T, p = rows.n_tasks, rows.Xa.shape[1]
    learn_mean = alpha_mean is not None
    mask = np.ones(p)
    mask[-1] = 0.0

    def unpack(z):
        theta = z[: T * p].reshape(T, p)
        return theta, (z[T * p :] if learn_mean else mean)

    def objective(z):
        theta, mu = unpack(z)
        scores = np.einsum("ij,ij->i", rows.Xa, theta[rows.task_index])
        loss = np.logaddexp(0.0, scores) - rows.y * scores
        residual = expit(scores) - rows.y
        diff = theta - mu
        pulled = diff @ precision
        value = loss.sum() + 0.5 * np.einsum("ti,ti->", diff, pulled)
        grad_theta = rows.indicator @ (residual[:, None] * rows.Xa) + pulled
        if not learn_mean:
            return value, grad_theta.ravel()
        value += 0.5 * alpha_mean * np.sum(mask * mu**2)
        grad_mu = -pulled.sum(axis=0) + alpha_mean * mask * mu
        return value, np.concatenate([grad_theta.ravel(), grad_mu])

    z0 = init.ravel() if not learn_mean else np.concatenate([init.ravel(), mean])
    result = minimize(
        objective,
        z0,
        jac=True,
        method="L-BFGS-B",
        options={"maxiter": max_iter, "gtol": tol, "ftol": 0.0},
    )
    return unpack(result.x)


def logistic_laplace_cov(rows, theta, precision):
    """Laplace covariance of each task: inverse Hessian at the MAP (T, p, p)."""
    p = rows.Xa.shape[1]
    hess = np.empty((rows.n_tasks, p, p))
    for t, r in enumerate(rows.rows):
        Xa = rows.Xa[r]
        prob = expit(Xa @ theta[t])
        hess[t] = (Xa * (prob * (1 - prob))[:, None]).T @ Xa
    cov, _ = _batched_inverse_spd(hess + precision)
    return cov


def fit_logistic_prior(rows, rank, max_iter, tol):
    """Laplace-EM for ``N(mu, U U^T + s2 I)`` on the coefficients and
    ``N(b0, tau2)`` on the intercepts of binary logistic tasks.

    E-step: MAP of every task and its Laplace covariance; M-step: means of
    the MAPs, PPCA update of the coefficient block of the second moments,
    ``tau2`` from the intercept entries. Stops when the prior moves by less
    than ``tol`` (relative).
    """
    T, p = rows.n_tasks, rows.Xa.shape[1]
    d = p - 1
    mean = np.zeros(p)
    U, s2, tau2 = np.zeros((d, min(rank, max(d - 1, 0)))), 1.0, 1.0
    theta = np.zeros((T, p))
    for n_iter in range(1, max_iter + 1):  # noqa: B007 (returned below)
        precision = _block_precision(U, s2, tau2)
        theta, _ = logistic_map(rows, mean, precision, theta, tol=1e-6)
        cov = logistic_laplace_cov(rows, theta, precision)
        new_mean = theta.mean(axis=0)
        spread = theta - new_mean
        S = (cov.sum(axis=0) + spread.T @ spread) / T
        floor = _VARIANCE_FLOOR * max(float(np.trace(S[:d, :d])) / max(d, 1), 1e-300)
        new_U, new_s2 = low_rank_covariance(S[:d, :d], rank, floor)
        new_tau2 = max(float(S[d, d]), _VARIANCE_FLOOR)
        old = np.concatenate([mean, (U @ U.T).ravel(), [s2, tau2]])
        new = np.concatenate([new_mean, (new_U @ new_U.T).ravel(), [new_s2, new_tau2]])
        mean, U, s2, tau2 = new_mean, new_U, new_s2, new_tau2
        if np.linalg.norm(new - old) <= tol * max(np.linalg.norm(new), 1e-12):
            break
    return mean, U, s2, tau2, n_iter


def _block_precision(U, s2, tau2):
    """Precision of ``blockdiag(U U^T + s2 I, tau2)``."""
    d = U.shape[0]
    precision = np.zeros((d + 1, d + 1))
    if d:
        precision[:d, :d] = prior_precision(U, s2)[0]
    precision[d, d] = 1.0 / tau2
    return precision
