"""Clustered multi-task learning (convex relaxation): M-step, penalty, fits."""

import numpy as np
import pytest
import scipy.optimize
import scipy.sparse as sp
from scipy.spatial.transform import Rotation
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import adjusted_rand_score
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_mtl.linear._clustered import (
    ClusteredMultiTaskClassifier,
    ClusteredMultiTaskRegressor,
)
from sklearn_mtl.linear._smooth_penalties import (
    ClusteredPenalty,
    cluster_eigenvalues,
)


def _matrix_fractional(W, M, eta):
    return float(np.trace(W.T @ np.linalg.solve(eta * np.eye(len(M)) + M, W)))


def _brute_force_m(W, k, eta, seed=0):
    """min over 0 <= M <= I, tr M = k of tr(W^T (eta I + M)^-1 W) for T = 3, by
    SLSQP on M = Q diag(g) Q^T (Q a rotation), from several starts."""
    T = W.shape[0]
    rng = np.random.default_rng(seed)

    def unpack(z):
        Q = Rotation.from_rotvec(z[T:]).as_matrix()
        return (Q * z[:T]) @ Q.T

    best = np.inf
    for _ in range(4):
        g0 = rng.uniform(size=T)
        g0 *= k / g0.sum()
        z0 = np.concatenate([np.clip(g0, 0, 1), rng.normal(size=3)])
        result = scipy.optimize.minimize(
            lambda z: _matrix_fractional(W, unpack(z), eta),
            z0,
            method="SLSQP",
            bounds=[(0, 1)] * T + [(None, None)] * 3,
            constraints=[{"type": "eq", "fun": lambda z: z[:T].sum() - k}],
            options={"ftol": 1e-14, "maxiter": 300},
        )
        best = min(best, result.fun)
    return best


@pytest.mark.parametrize("k, eta", [(1, 0.3), (2, 2.0)])
def test_m_step_is_the_constrained_minimizer(k, eta):
    rng = np.random.default_rng(k)
    W = rng.normal(size=(3, 4)) * np.array([3.0, 1.0, 0.3, 0.1])
    penalty = ClusteredPenalty(alpha=1.0, alpha_l2=eta, n_clusters=k)
    M = penalty.cluster_matrix(W)
    eigenvalues = np.linalg.eigvalsh(M)
    assert eigenvalues.min() >= -1e-12 and eigenvalues.max() <= 1 + 1e-12
    assert np.trace(M) == pytest.approx(k, abs=1e-12)
    closed_form = _matrix_fractional(W, M, eta)
    assert closed_form == pytest.approx(_brute_force_m(W, k, eta), rel=1e-6)
    # The penalty is that minimum times c = alpha eta (1 + eta).
    value, _ = penalty.value_grad(W)
    assert value == pytest.approx(eta * (1 + eta) * closed_form, rel=1e-12)


def test_cluster_eigenvalues_against_slsqp():
    s = np.array([5.0, 3.0, 2.0, 1.5, 0.2])
    for k, eta in [(1, 0.1), (2, 1.0), (3, 0.05)]:
        gamma = cluster_eigenvalues(s, k, eta)
        result = scipy.optimize.minimize(
            lambda g, eta=eta: np.sum(s**2 / (eta + g)),
            np.full(5, k / 5),
            method="SLSQP",
            bounds=[(0, 1)] * 5,
            constraints=[{"type": "eq", "fun": lambda g, k=k: g.sum() - k}],
            options={"ftol": 1e-15, "maxiter": 500},
        )
        np.testing.assert_allclose(gamma, result.x, atol=1e-5)
        assert gamma.sum() == pytest.approx(k, abs=1e-12)


def test_projection_value_is_within_cluster_spread_plus_ridge():
    """M = F F^T (F a normalized assignment) gives the k-means penalty."""
    rng = np.random.default_rng(0)
    W = rng.normal(size=(6, 4))
    labels = np.array([0, 0, 1, 1, 1, 2])
    F = np.eye(3)[labels] / np.sqrt(np.bincount(labels))[labels][:, None]
    penalty = ClusteredPenalty(alpha=0.7, alpha_l2=0.3, n_clusters=3)
    centres = np.stack([W[labels == c].mean(axis=0) for c in range(3)])
    spread = np.sum((W - centres[labels]) ** 2)
    expected = 0.7 * spread + 0.3 * np.sum(W**2)
    assert penalty.value_at(W, F @ F.T) == pytest.approx(expected, rel=1e-12)
    # The relaxation minimizes over a larger set: never above.
    assert penalty.value_grad(W)[0] <= expected + 1e-12


@pytest.mark.parametrize("alpha, alpha_l2, k", [(0.7, 0.3, 2), (2.0, 0.05, 1)])
def test_penalty_gradient_matches_finite_differences(alpha, alpha_l2, k):
    rng = np.random.default_rng(1)
    shape = (5, 4)
    penalty = ClusteredPenalty(alpha, alpha_l2, k)
    point = (rng.normal(size=shape) * np.array([4.0, 2.0, 1.0, 0.5])).ravel()

    def value(w):
        return penalty.value_grad(w.reshape(shape))[0]

    def grad(w):
        return penalty.value_grad(w.reshape(shape))[1].ravel()

    error = scipy.optimize.check_grad(value, grad, point, epsilon=1e-7)
    assert error < 1e-5 * np.linalg.norm(grad(point))
    # Some eigenvalue strictly inside (0, 1): the non-trivial branch ran.
    gamma = penalty.structure(point.reshape(shape))[2]
    assert np.any((gamma > 1e-6) & (gamma < 1 - 1e-6))


def _regression(seed=0, n_tasks=6, n_features=4):
    rng = np.random.default_rng(seed)
    sizes = rng.integers(15, 30, size=n_tasks)
    task_ids = np.repeat(np.arange(n_tasks), sizes)
    X = rng.normal(size=(len(task_ids), n_features))
    W = rng.normal(size=(n_tasks, n_features))
    y = np.einsum("ij,ij->i", X, W[task_ids]) + 0.3 * rng.normal(size=len(X))
    return X, y + task_ids, task_ids, rng.uniform(0.5, 2.0, size=len(X))


def test_one_cluster_per_task_is_independent_ridge():
    """k = T: M = I is feasible and optimal, the penalty is alpha_l2 ||W||^2,
    i.e. Ridge(alpha=2 alpha_l2) per task, whatever alpha."""
    X, y, task_ids, weights = _regression()
    model = ClusteredMultiTaskRegressor(n_clusters=6, alpha=3.0, alpha_l2=0.7)
    model.set_params(tol=1e-10).fit(X, y, task_ids=task_ids, sample_weight=weights)
    for t in range(6):
        rows = task_ids == t
        ridge = Ridge(alpha=1.4).fit(X[rows], y[rows], sample_weight=weights[rows])
        np.testing.assert_allclose(model.coef_[t], ridge.coef_, atol=1e-7)
        assert model.intercept_[t] == pytest.approx(ridge.intercept_, abs=1e-7)
    np.testing.assert_allclose(model.cluster_matrix_, np.eye(6), atol=1e-10)


@pytest.mark.parametrize("solver", ["apg", "lbfgs"])
def test_regressor_first_order_conditions(solver):
    X, y, task_ids, weights = _regression(seed=2)
    model = ClusteredMultiTaskRegressor(
        n_clusters=2, alpha=5.0, alpha_l2=0.2, solver=solver, tol=1e-10
    )
    model.set_params(max_iter=20000)
    model.fit(X, y, task_ids=task_ids, sample_weight=weights)
    W, b = model.coef_, model.intercept_
    residual = y - np.einsum("ij,ij->i", X, W[task_ids]) - b[task_ids]
    grad_w = ClusteredPenalty(5.0, 0.2, 2).value_grad(W)[1]
    grad_b = np.zeros(6)
    for t in range(6):
        rows = task_ids == t
        grad_w[t] -= X[rows].T @ (weights[rows] * residual[rows])
        grad_b[t] = -np.sum(weights[rows] * residual[rows])
    scale = np.abs(X.T @ (weights * (y - y.mean()))).max()
    assert np.abs(grad_w).max() < 1e-7 * scale
    assert np.abs(grad_b).max() < 1e-7 * scale
    # The clustering is active: the fit is not the k = T (ridge) one.
    ridge = ClusteredMultiTaskRegressor(n_clusters=6, alpha=5.0, alpha_l2=0.2)
    ridge.fit(X, y, task_ids=task_ids, sample_weight=weights)
    assert np.abs(ridge.coef_ - W).max() > 1e-2


def test_classifier_first_order_conditions():
    rng = np.random.default_rng(3)
    task_ids = np.repeat(np.arange(5), 40)
    X = rng.normal(size=(200, 3))
    W = rng.normal(size=(5, 3)) * 2
    y = (np.einsum("ij,ij->i", X, W[task_ids]) + rng.normal(size=200) > 0).astype(int)
    model = ClusteredMultiTaskClassifier(n_clusters=2, alpha=0.5, alpha_l2=0.1)
    model.set_params(tol=1e-10, max_iter=5000).fit(X, y, task_ids=task_ids)
    coef, b = model.coef_, model.intercept_
    proba = 1 / (1 + np.exp(-(np.einsum("ij,ij->i", X, coef[task_ids]) + b[task_ids])))
    residual = proba - y
    grad_w = ClusteredPenalty(0.5, 0.1, 2).value_grad(coef)[1]
    for t in range(5):
        rows = task_ids == t
        grad_w[t] += X[rows].T @ residual[rows]
        assert abs(residual[rows].sum()) < 1e-7
    assert np.abs(grad_w).max() < 1e-7


def test_classifier_one_cluster_per_task_is_logistic_ridge():
    rng = np.random.default_rng(4)
    task_ids = np.repeat(np.arange(3), 50)
    X = rng.normal(size=(150, 3))
    y = (X[:, 0] + (task_ids - 1) * X[:, 1] + rng.normal(size=150) > 0).astype(int)
    model = ClusteredMultiTaskClassifier(n_clusters=3, alpha=2.0, alpha_l2=0.25)
    model.set_params(tol=1e-10).fit(X, y, task_ids=task_ids)
    for t in range(3):
        rows = task_ids == t
        reference = LogisticRegression(C=1 / 0.5, tol=1e-12, max_iter=10000)
        reference.fit(X[rows], y[rows])
        np.testing.assert_allclose(model.coef_[t], reference.coef_[0], atol=1e-6)


def test_three_clusters_are_recovered():
    rng = np.random.default_rng(0)
    n_tasks, n_features = 15, 8
    truth = np.repeat([0, 1, 2], 5)
    centres = 2.0 * rng.normal(size=(3, n_features))
    W = centres[truth] + 0.3 * rng.normal(size=(n_tasks, n_features))
    task_ids = np.repeat(np.arange(n_tasks), 20)
    X = rng.normal(size=(len(task_ids), n_features))
    y = np.einsum("ij,ij->i", X, W[task_ids]) + rng.normal(size=len(X))
    model = ClusteredMultiTaskRegressor(n_clusters=3, alpha=5.0, alpha_l2=0.1)
    model.set_params(random_state=0).fit(X, y, task_ids=task_ids)
    assert adjusted_rand_score(truth, model.cluster_labels_) > 0.95
    # Pulling tasks toward their clusters helps: closer to the truth than
    # every task on its own (k = T).
    alone = ClusteredMultiTaskRegressor(n_clusters=n_tasks, alpha=5.0, alpha_l2=0.1)
    alone.fit(X, y, task_ids=task_ids)
    assert np.linalg.norm(model.coef_ - W) < np.linalg.norm(alone.coef_ - W)


def test_task_conventions_agree():
    rng = np.random.default_rng(5)
    X = rng.normal(size=(40, 3))
    Y = X @ rng.normal(size=(3, 4)) + rng.normal(size=(40, 4))
    Y[rng.uniform(size=Y.shape) < 0.2] = np.nan
    model = ClusteredMultiTaskRegressor(n_clusters=2, tol=1e-10)
    wide = model.fit(X, Y).coef_.copy()
    rows, tasks = np.nonzero(~np.isnan(Y))
    long = model.fit(X[rows], Y[rows, tasks], task_ids=tasks).coef_
    np.testing.assert_allclose(wide, long, atol=1e-8)
    with_column = np.column_stack([X[rows], tasks])
    column = model.set_params(task_column=3).fit(with_column, Y[rows, tasks]).coef_
    np.testing.assert_allclose(column, long, atol=1e-8)
    predicted = model.predict(with_column[:5])
    assert predicted.shape == (5,)


def test_sparse_x_and_sample_weight_as_repetition():
    X, y, task_ids, _ = _regression(seed=6)
    repeat = np.random.default_rng(0).integers(1, 3, size=len(y))
    model = ClusteredMultiTaskRegressor(n_clusters=2, alpha=2.0, tol=1e-10)
    weighted = model.fit(
        sp.csr_matrix(X), y, task_ids=task_ids, sample_weight=repeat.astype(float)
    ).coef_
    index = np.repeat(np.arange(len(y)), repeat)
    repeated = model.fit(X[index], y[index], task_ids=task_ids[index]).coef_
    np.testing.assert_allclose(weighted, repeated, atol=1e-7)


def test_warm_start_and_multiclass():
    rng = np.random.default_rng(7)
    task_ids = np.repeat(np.arange(4), 45)
    X = rng.normal(size=(180, 3))
    y = np.argmax(X @ rng.normal(size=(3, 3)) + rng.normal(size=(180, 3)), axis=1)
    model = ClusteredMultiTaskClassifier(n_clusters=2, warm_start=True, tol=1e-8)
    first = model.fit(X, y, task_ids=task_ids)
    assert first.coef_.shape == (4, 3, 3) and first.intercept_.shape == (4, 3)
    proba = model.predict_proba(X[:6], task_ids=task_ids[:6])
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    cold = ClusteredMultiTaskClassifier(n_clusters=2, tol=1e-8)
    n_cold = cold.fit(X, y, task_ids=task_ids).n_iter_
    assert model.fit(X, y, task_ids=task_ids).n_iter_ == 0 < n_cold


def test_errors_name_the_parameter():
    X, y, task_ids, _ = _regression()
    with pytest.raises(ValueError, match="n_clusters=7 exceeds the number of tasks"):
        ClusteredMultiTaskRegressor(n_clusters=7).fit(X, y, task_ids=task_ids)
    with pytest.raises(ValueError, match="alpha_l2"):
        ClusteredMultiTaskRegressor(alpha_l2=0.0).fit(X, y, task_ids=task_ids)


# This check sets n_clusters=2 on any estimator that has it, then fits one
# task: more clusters than tasks, which fit refuses by design.
_EXPECTED_FAILURES = {
    "check_methods_sample_order_invariance": (
        "sets n_clusters=2 and fits a single task; n_clusters > n_tasks is an error"
    )
}


@parametrize_with_checks(
    [
        ClusteredMultiTaskRegressor(n_clusters=1),
        ClusteredMultiTaskClassifier(n_clusters=1),
    ],
    expected_failed_checks=lambda estimator: _EXPECTED_FAILURES,
)
def test_sklearn_compatible(estimator, check):
    check(estimator)
