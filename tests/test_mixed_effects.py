"""MixedEffectsMultiTaskRegressor against references: the graph model it
reduces to, a brute-force joint MAP, a brute-force likelihood, stationarity."""

import numpy as np
import pytest
from scipy.linalg import null_space
from scipy.optimize import approx_fprime, minimize
from scipy.special import expit, log_expit
from scipy.stats import multivariate_normal
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_mtl import GraphMultiTaskClassifier, GraphMultiTaskRegressor
from sklearn_mtl.linear._mixed_effects import (
    MixedEffectsMultiTaskClassifier,
    MixedEffectsMultiTaskRegressor,
)


def _data(seed=0, n_tasks=6, n=25, d=3, spread=0.5):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_tasks * n, d)) * np.arange(1, d + 1)
    task_ids = np.repeat(np.arange(n_tasks), n)
    W = rng.normal(size=d) + spread * rng.normal(size=(n_tasks, d))
    y = np.einsum("ij,ij->i", X, W[task_ids]) + 3.0 * task_ids
    y += rng.normal(size=len(y))
    weights = rng.uniform(0.5, 2.0, size=len(y))
    return X, y, task_ids, weights


def _fit(covariance_type, tol=1e-11, **data):
    model = MixedEffectsMultiTaskRegressor(
        covariance_type=covariance_type, tol=tol, max_iter=5000
    )
    return model.fit(**data)


def _repeated(X, y, task_ids, counts):
    """The data with each sample repeated counts[i] times."""
    return (
        np.repeat(X, counts, axis=0),
        np.repeat(y, counts),
        np.repeat(task_ids, counts),
    )


def _contrasts(X, y, task_ids, weights):
    """Per task, the weighted data projected orthogonally to the intercept."""
    out = []
    for task in np.unique(task_ids):
        rows = task_ids == task
        root = np.sqrt(weights[rows])
        Q = null_space(root[None, :])  # (n_t, n_t - 1), orthonormal, ⊥ sqrt(w)
        out.append((Q.T @ (root[:, None] * X[rows]), Q.T @ (root * y[rows])))
    return out


def _brute_log_likelihood(contrasts, beta, psi, sigma2):
    return sum(
        multivariate_normal(A @ beta, A @ psi @ A.T + sigma2 * np.eye(len(z))).logpdf(z)
        for A, z in contrasts
    )


def test_spherical_is_the_full_graph_model():
    X, y, task_ids, w = _data()
    model = _fit("spherical", X=X, y=y, task_ids=task_ids, sample_weight=w)
    psi = model.covariance_[0, 0]
    assert np.allclose(model.covariance_, psi * np.eye(3))
    graph = GraphMultiTaskRegressor(
        graph="full", alpha_graph=model.sigma2_ / (2 * psi), alpha_l2=0.0, tol=1e-12
    ).fit(X, y, task_ids=task_ids, sample_weight=w)
    np.testing.assert_allclose(model.coef_, graph.coef_, atol=1e-8)
    np.testing.assert_allclose(model.intercept_, graph.intercept_, atol=1e-8)


@pytest.mark.parametrize("covariance_type", ["full", "diag"])
def test_coef_is_the_joint_map_under_the_fitted_covariance(covariance_type):
    # Brute force: minimize over (beta, W, b) the dense least squares
    #   sum_i w_i (y_i - x_i w_t - b_t)^2 / sigma2 + sum_t |Psi^-1/2 (w_t - beta)|^2.
    X, y, task_ids, w = _data(seed=1)
    model = _fit(
        covariance_type, tol=1e-4, X=X, y=y, task_ids=task_ids, sample_weight=w
    )
    T, d = 6, 3
    root_prec = np.linalg.cholesky(np.linalg.inv(model.covariance_)).T
    n_var = d + T * d + T  # beta, W, b
    rows, rhs = [], []
    for i in range(len(y)):
        row = np.zeros(n_var)
        t = task_ids[i]
        row[d + t * d : d + (t + 1) * d] = X[i]
        row[d + T * d + t] = 1.0
        scale = np.sqrt(w[i] / model.sigma2_)
        rows.append(scale * row)
        rhs.append(scale * y[i])
    for t in range(T):
        block = np.zeros((d, n_var))
        block[:, :d] = -root_prec
        block[:, d + t * d : d + (t + 1) * d] = root_prec
        rows.extend(block)
        rhs.extend(np.zeros(d))
    solution = np.linalg.lstsq(np.array(rows), np.array(rhs), rcond=None)[0]
    np.testing.assert_allclose(model.mean_coef_, solution[:d], atol=1e-7)
    np.testing.assert_allclose(
        model.coef_, solution[d : d + T * d].reshape(T, d), atol=1e-7
    )
    np.testing.assert_allclose(model.intercept_, solution[d + T * d :], atol=1e-7)


def test_log_likelihood_is_the_brute_force_one_of_the_repeated_data():
    # Weights are frequencies: log_likelihood_ is the likelihood of the data
    # with every sample repeated sample_weight times, computed by brute force
    # on the repeated rows (one multivariate normal per task).
    X, y, task_ids, _ = _data(seed=2, n=12)
    counts = np.random.default_rng(2).integers(1, 4, size=len(y))
    model = _fit("full", tol=1e-3, X=X, y=y, task_ids=task_ids, sample_weight=counts)
    Xr, yr, tr = _repeated(X, y, task_ids, counts)
    contrasts = _contrasts(Xr, yr, tr, np.ones(len(yr)))
    expected = _brute_log_likelihood(
        contrasts, model.mean_coef_, model.covariance_, model.sigma2_
    )
    assert model.log_likelihood_ == pytest.approx(expected, rel=1e-10)


@pytest.mark.parametrize("covariance_type", ["full", "diag", "spherical"])
def test_solution_is_a_stationary_point_of_the_likelihood(covariance_type):
    X, y, task_ids, _ = _data(seed=3, n_tasks=10, n=15, d=2, spread=0.8)
    counts = np.random.default_rng(3).integers(1, 4, size=len(y))
    model = _fit(covariance_type, X=X, y=y, task_ids=task_ids, sample_weight=counts)
    Xr, yr, tr = _repeated(X, y, task_ids, counts)
    contrasts = _contrasts(Xr, yr, tr, np.ones(len(yr)))
    d = 2
    L = np.linalg.cholesky(model.covariance_)
    mask = {
        "full": np.tril(np.ones((d, d), bool)),
        "diag": np.eye(d, dtype=bool),
        "spherical": np.eye(d, dtype=bool),
    }[covariance_type]

    def unpack(theta):
        beta = theta[:d]
        chol = np.zeros((d, d))
        if covariance_type == "spherical":
            chol = theta[d] * np.eye(d)
            rest = theta[d + 1 :]
        else:
            chol[mask] = theta[d : d + mask.sum()]
            rest = theta[d + mask.sum() :]
        return beta, chol @ chol.T, np.exp(rest[0])

    free = [L[0, 0]] if covariance_type == "spherical" else L[mask]
    theta = np.concatenate([model.mean_coef_, free, [np.log(model.sigma2_)]])
    gradient = approx_fprime(
        theta, lambda th: _brute_log_likelihood(contrasts, *unpack(th)), 1e-6
    )
    assert np.abs(gradient).max() < 1e-4
    # ...and a maximum: moving off it lowers the likelihood.
    at = _brute_log_likelihood(contrasts, *unpack(theta))
    for step in (-0.05, 0.05):
        assert _brute_log_likelihood(contrasts, *unpack(theta + step)) < at


def test_recovers_the_spread_of_the_tasks():
    rng = np.random.default_rng(4)
    T, n, d = 150, 30, 3
    X = rng.normal(size=(T * n, d))
    task_ids = np.repeat(np.arange(T), n)
    spread = np.array([1.0, 0.3, 0.0])
    W = np.array([2.0, -1.0, 0.5]) + spread * rng.normal(size=(T, d))
    y = np.einsum("ij,ij->i", X, W[task_ids]) + 0.5 * rng.normal(size=T * n)
    model = MixedEffectsMultiTaskRegressor(covariance_type="diag").fit(
        X, y, task_ids=task_ids
    )
    np.testing.assert_allclose(np.diag(model.covariance_), spread**2, atol=0.12)
    assert model.sigma2_ == pytest.approx(0.25, rel=0.05)
    # beta is the precision-weighted mean of the task models: the tasks' mean.
    np.testing.assert_allclose(model.mean_coef_, W.mean(axis=0), atol=0.03)


def test_wide_and_long_formats_agree():
    X, y, task_ids, _ = _data(seed=5, n=20)
    long = MixedEffectsMultiTaskRegressor().fit(X, y, task_ids=task_ids)
    Y = np.full((len(y), 6), np.nan)
    Y[np.arange(len(y)), task_ids] = y
    wide = MixedEffectsMultiTaskRegressor().fit(X, Y)
    np.testing.assert_allclose(long.coef_, wide.coef_, atol=1e-10)
    XT = np.column_stack([X, task_ids])
    column = MixedEffectsMultiTaskRegressor(task_column=-1).fit(XT, y)
    np.testing.assert_allclose(column.predict(XT), long.predict(X, task_ids=task_ids))


def test_warns_when_em_stops_early_and_stays_consistent():
    X, y, task_ids, w = _data(seed=6)
    model = MixedEffectsMultiTaskRegressor(covariance_type="spherical", max_iter=2)
    with pytest.warns(ConvergenceWarning, match="max_iter=2"):
        model.fit(X, y, task_ids=task_ids, sample_weight=w)
    assert model.n_iter_ == 2
    # coef_ are the posterior means under the stored covariance_ and sigma2_
    # (not those of the iteration before).
    graph = GraphMultiTaskRegressor(
        graph="full",
        alpha_graph=model.sigma2_ / (2 * model.covariance_[0, 0]),
        alpha_l2=0.0,
        tol=1e-12,
    ).fit(X, y, task_ids=task_ids, sample_weight=w)
    np.testing.assert_allclose(model.coef_, graph.coef_, atol=1e-8)


def test_one_sample_task_is_refused_with_its_name():
    X, y, task_ids, _ = _data(seed=7)
    task_ids = task_ids.copy()
    task_ids[0] = 99
    with pytest.raises(ValueError, match="99"):
        MixedEffectsMultiTaskRegressor().fit(X, y, task_ids=task_ids)


def test_integer_weights_are_repeated_samples():
    X, y, task_ids, _ = _data(seed=8, n=12)
    counts = np.random.default_rng(8).integers(0, 4, size=len(y))
    counts[::12] = 1  # every task keeps samples
    weighted = _fit("full", X=X, y=y, task_ids=task_ids, sample_weight=counts)
    repeated = _fit(
        "full", **dict(zip(["X", "y", "task_ids"], _repeated(X, y, task_ids, counts)))
    )
    np.testing.assert_allclose(weighted.coef_, repeated.coef_, atol=1e-8)
    assert weighted.sigma2_ == pytest.approx(repeated.sigma2_, rel=1e-8)


def _binary(seed=0, n_tasks=8, n=80, d=2):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_tasks * n, d))
    task_ids = np.repeat(np.arange(n_tasks), n)
    W = np.array([1.0, -0.5][:d]) + 0.6 * rng.normal(size=(n_tasks, d))
    logits = np.einsum("ij,ij->i", X, W[task_ids]) + 0.3 * task_ids - 1.0
    y = (rng.random(len(logits)) < expit(logits)).astype(int)
    weights = rng.uniform(0.5, 2.0, size=len(y))
    return X, y, task_ids, weights


def _classifier(covariance_type="full", tol=1e-11, **data):
    model = MixedEffectsMultiTaskClassifier(
        covariance_type=covariance_type, tol=tol, max_iter=3000
    )
    return model.fit(**data)


def test_classifier_modes_are_penalized_logistic_optima():
    X, y, task_ids, w = _binary(seed=10)
    model = _classifier(tol=1e-3, X=X, y=y, task_ids=task_ids, sample_weight=w)
    precision = np.linalg.inv(model.covariance_)
    for t in range(8):
        rows = task_ids == t
        A = np.column_stack([X[rows], np.ones(rows.sum())])

        def objective(theta, A=A, z=y[rows], wt=w[rows]):
            scores = A @ theta
            u = theta[:2] - model.mean_coef_
            loglik = wt @ (z * log_expit(scores) + (1 - z) * log_expit(-scores))
            return -loglik + 0.5 * u @ precision @ u

        best = minimize(objective, np.zeros(3), method="BFGS", options={"gtol": 1e-10})
        np.testing.assert_allclose(model.coef_[t], best.x[:2], atol=1e-5)
        assert model.intercept_[t] == pytest.approx(best.x[2], abs=1e-5)


def test_classifier_is_an_em_fixed_point():
    # At convergence: beta = mean of the modes and Psi = mean of (spread +
    # Laplace posterior covariance), the latter from the full (d+1) Hessian
    # of each task's penalized objective, inverted by hand.
    X, y, task_ids, w = _binary(seed=11)
    model = _classifier(X=X, y=y, task_ids=task_ids, sample_weight=w)
    np.testing.assert_allclose(model.mean_coef_, model.coef_.mean(axis=0), atol=1e-6)
    precision = np.linalg.inv(model.covariance_)
    second = np.zeros((2, 2))
    for t in range(8):
        rows = task_ids == t
        A = np.column_stack([X[rows], np.ones(rows.sum())])
        p = expit(A @ np.append(model.coef_[t], model.intercept_[t]))
        hessian = (A * (w[rows] * p * (1 - p))[:, None]).T @ A
        hessian[:2, :2] += precision
        u = model.coef_[t] - model.mean_coef_
        second += np.outer(u, u) + np.linalg.inv(hessian)[:2, :2]
    np.testing.assert_allclose(model.covariance_, second / 8, rtol=1e-5)


def test_classifier_spherical_is_the_full_graph_model():
    X, y, task_ids, _ = _binary(seed=12)
    model = _classifier("spherical", X=X, y=y, task_ids=task_ids)
    psi = model.covariance_[0, 0]
    graph = GraphMultiTaskClassifier(
        graph="full", alpha_graph=1 / (2 * psi), alpha_l2=0.0, tol=1e-10
    ).fit(X, y, task_ids=task_ids)
    np.testing.assert_allclose(model.coef_, graph.coef_, atol=1e-5)
    np.testing.assert_allclose(model.intercept_, graph.intercept_, atol=1e-5)


def test_classifier_refuses_more_than_two_classes():
    X, y, task_ids, _ = _binary(seed=13)
    y = y + (task_ids % 2) * (X[:, 0] > 1)
    with pytest.raises(
        ValueError, match="Only binary classification is supported.*y has 3 classes"
    ):
        MixedEffectsMultiTaskClassifier().fit(X, y, task_ids=task_ids)


# One task (what the generic checks fit) leaves no spread to estimate: Psi
# tends to 0 and EM converges sublinearly, so the weighted and repeated fits
# stop at tol a few 1e-5 apart; test_integer_weights_are_repeated_samples
# checks the equivalence on several tasks.
@parametrize_with_checks(
    [MixedEffectsMultiTaskRegressor(), MixedEffectsMultiTaskClassifier()],
    expected_failed_checks=lambda est: (
        {"check_sample_weight_equivalence_on_dense_data": "EM stops at tol"}
        if isinstance(est, MixedEffectsMultiTaskRegressor)
        else {}
    ),
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


@pytest.mark.parametrize("classifier", [False, True])
def test_convergence_warning_points_at_the_callers_line(classifier):
    # stacklevel past fit and scikit-learn's _fit_context wrapper: the warning
    # names the user's file, not sklearn/base.py.
    if classifier:
        X, y, task_ids, w = _binary(seed=1)
        model = MixedEffectsMultiTaskClassifier(max_iter=1)
    else:
        X, y, task_ids, w = _data(seed=1)
        model = MixedEffectsMultiTaskRegressor(max_iter=1)
    with pytest.warns(ConvergenceWarning) as record:
        model.fit(X, y, task_ids=task_ids)
    assert record[0].filename == __file__
