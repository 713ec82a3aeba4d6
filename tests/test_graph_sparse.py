"""Graph models on scipy.sparse X: the dense fit, without densifying."""

import numpy as np
import pytest
import scipy.sparse as sp

from sklearn_mtl import GraphMultiTaskClassifier, GraphMultiTaskRegressor
from sklearn_mtl._tasks import check_fit_data
from sklearn_mtl.linear import _problems


def _text_like(n_samples=300, n_features=200, n_tasks=4, density=0.03, seed=0):
    """Word-count-like CSR matrix, task labels, a target and sample weights."""
    rng = np.random.RandomState(seed)
    X = sp.random(
        n_samples, n_features, density=density, random_state=rng, format="csr"
    )
    X.data = rng.poisson(2.0, size=X.data.size) + 1.0
    task_ids = rng.randint(n_tasks, size=n_samples)
    coef = rng.standard_normal((n_tasks, n_features))
    y = np.asarray((X.multiply(coef[task_ids])).sum(axis=1)).ravel()
    y += 0.5 * rng.standard_normal(n_samples)
    weights = rng.uniform(0.3, 3.0, size=n_samples)
    return X, y, task_ids, weights


@pytest.fixture(params=["gram", "matrix-free"])
def path(request, monkeypatch):
    """Both sparse code paths: per-task Gram blocks, and products with X only."""
    if request.param == "matrix-free":
        monkeypatch.setattr(_problems, "MATRIX_FREE_FEATURES", 10)
    return request.param


@pytest.mark.parametrize("graph", ["full", "chain", "knn", "learned"])
def test_sparse_regression_equals_dense(graph, path):
    X, y, task_ids, weights = _text_like()
    params = dict(
        graph=graph,
        alpha_graph=2.0,
        alpha_l2=0.5,
        loss_normalization="mean",
        tol=1e-12,
        max_iter=20000,
    )
    sparse = GraphMultiTaskRegressor(**params).fit(
        X, y, task_ids=task_ids, sample_weight=weights
    )
    dense = GraphMultiTaskRegressor(**params).fit(
        X.toarray(), y, task_ids=task_ids, sample_weight=weights
    )
    np.testing.assert_allclose(sparse.coef_, dense.coef_, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(sparse.intercept_, dense.intercept_, rtol=1e-6)
    np.testing.assert_allclose(
        sparse.predict(X, task_ids=task_ids),
        dense.predict(X.toarray(), task_ids=task_ids),
        rtol=1e-6,
        atol=1e-8,
    )


def test_sparse_l1_and_wide_format_equal_dense(path):
    X, y, task_ids, _ = _text_like(n_features=80, seed=1)
    params = dict(alpha_graph=1.0, alpha_l2=0.1, alpha_l1=2.0, tol=1e-10)
    sparse = GraphMultiTaskRegressor(**params, max_iter=100000).fit(
        X, y, task_ids=task_ids
    )
    dense = GraphMultiTaskRegressor(**params, max_iter=100000).fit(
        X.toarray(), y, task_ids=task_ids
    )
    assert np.any(dense.coef_ == 0)
    np.testing.assert_allclose(sparse.coef_, dense.coef_, rtol=1e-6, atol=1e-7)
    # Wide y (tasks sharing X, some labels missing) from a CSC matrix.
    Y = np.column_stack([y, -y + 1.0])
    Y[::7, 0] = np.nan
    wide = GraphMultiTaskRegressor(graph="chain", tol=1e-12).fit(X.tocsc(), Y)
    wide_dense = GraphMultiTaskRegressor(graph="chain", tol=1e-12).fit(X.toarray(), Y)
    np.testing.assert_allclose(wide.coef_, wide_dense.coef_, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(wide.predict(X), wide_dense.predict(X.toarray()))


@pytest.mark.parametrize("n_classes", [2, 3])
def test_sparse_classifier_equals_dense(n_classes):
    X, y, task_ids, weights = _text_like(n_features=60, seed=2)
    labels = np.digitize(y, np.quantile(y, np.linspace(0, 1, n_classes + 1)[1:-1]))
    params = dict(graph="knn", alpha_graph=1.0, alpha_l2=0.5, tol=1e-10)
    sparse = GraphMultiTaskClassifier(**params).fit(
        X, labels, task_ids=task_ids, sample_weight=weights
    )
    dense = GraphMultiTaskClassifier(**params).fit(
        X.toarray(), labels, task_ids=task_ids, sample_weight=weights
    )
    np.testing.assert_allclose(sparse.coef_, dense.coef_, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(
        sparse.predict_proba(X, task_ids=task_ids),
        dense.predict_proba(X.toarray(), task_ids=task_ids),
        atol=1e-6,
    )
    # FISTA's step size comes from the sparse Grams' largest eigenvalue.
    l1 = dict(params, alpha_l1=0.5, max_iter=50000)
    sparse = GraphMultiTaskClassifier(**l1).fit(X, labels, task_ids=task_ids)
    dense = GraphMultiTaskClassifier(**l1).fit(X.toarray(), labels, task_ids=task_ids)
    np.testing.assert_allclose(sparse.coef_, dense.coef_, atol=1e-6)


def test_many_features_never_form_dense_blocks():
    """30,000 features: dense Gram blocks would need 4 x 7 GB; products only."""
    X, y, task_ids, weights = _text_like(
        n_samples=400, n_features=30_000, density=0.002, seed=3
    )
    model = GraphMultiTaskRegressor(graph="chain", alpha_graph=1.0, alpha_l2=5.0)
    model.set_params(tol=1e-10, max_iter=5000)
    model.fit(X, y, task_ids=task_ids, sample_weight=weights)
    data = check_fit_data(
        model, X, y, task_ids, weights, array_params={"accept_sparse": "csr"}
    )
    problem = _problems.SquaredProblem(data, np.ones(4))
    assert problem.gram is None
    # Stationarity of the objective, written with sparse products per task.
    W, b = model.coef_, model.intercept_
    residual = y - np.asarray(X.multiply(W[task_ids]).sum(axis=1)).ravel() - b[task_ids]
    L = np.diag([1.0, 2.0, 2.0, 1.0]) - np.eye(4, k=1) - np.eye(4, k=-1)
    grad_w = 2 * 1.0 * L @ W + 5.0 * W
    grad_b = np.zeros(4)
    for t in range(4):
        rows = task_ids == t
        grad_w[t] -= X[rows].T @ (weights[rows] * residual[rows])
        grad_b[t] = -np.sum(weights[rows] * residual[rows])
    scale = np.abs(problem.rhs).max()
    assert np.abs(grad_w).max() < 1e-7 * scale
    assert np.abs(grad_b).max() < 1e-7 * scale


def test_unpenalized_sparse_tasks_get_the_minimum_norm_least_squares(path):
    X, y, task_ids, _ = _text_like(n_samples=120, n_features=80, n_tasks=3, seed=4)
    model = GraphMultiTaskRegressor(alpha_graph=0.0, alpha_l2=0.0, tol=1e-12)
    model.set_params(max_iter=20000).fit(X, y, task_ids=task_ids)
    dense = X.toarray()
    for t in range(3):
        rows = task_ids == t
        assert rows.sum() < 80  # fewer samples than features
        Xc = dense[rows] - dense[rows].mean(axis=0)
        coef = np.linalg.lstsq(Xc, y[rows] - y[rows].mean(), rcond=None)[0]
        np.testing.assert_allclose(model.coef_[t], coef, rtol=1e-6, atol=1e-8)
