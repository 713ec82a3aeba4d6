"""Graph models against hand computations: each test catches one planted mistake.

Every test here was checked by planting the mistake it names in a copy of the
package and seeing it fail (see the issue's section 3).
"""

import numpy as np
import pytest
import scipy.linalg
from sklearn.linear_model import Ridge

from sklearn_mtl import GraphMultiTaskClassifier, GraphMultiTaskRegressor
from sklearn_mtl.graphs import ChainGraph, FullGraph, KNNGraph, LearnedGraph


def _hand_objective_grad(X, y, task_ids, weights, scale, coef, intercept, L, a_g, a_2):
    """Gradient of the documented objective, written out row by row.

    ``sum_t c_t sum_i s_i (1/2)(y_i - x_i w_t - b_t)^2 + a_g tr(W^T L W)
    + (a_2 / 2) ||W||^2``, with respect to (W, b).
    """
    residual = y - np.einsum("nd,nd->n", X, coef[task_ids]) - intercept[task_ids]
    row_weight = weights * scale[task_ids]
    grad_w = np.zeros_like(coef)
    grad_b = np.zeros_like(intercept)
    for t in range(coef.shape[0]):
        rows = task_ids == t
        grad_w[t] = -(row_weight[rows] * residual[rows]) @ X[rows]
        grad_b[t] = -np.sum(row_weight[rows] * residual[rows])
    grad_w += 2 * a_g * L @ coef + a_2 * coef
    return grad_w, grad_b


def _regression(n_tasks=5, n_features=6, seed=0):
    rng = np.random.RandomState(seed)
    sizes = rng.randint(12, 30, size=n_tasks)
    task_ids = np.repeat(np.arange(n_tasks), sizes)
    X = rng.standard_normal((task_ids.size, n_features))
    coef = rng.standard_normal((n_tasks, n_features))
    y = np.einsum("nd,nd->n", X, coef[task_ids]) + rng.standard_normal(task_ids.size)
    return X, y, task_ids


# --- wide-format sample weights follow their sample -------------------------


@pytest.mark.parametrize("normalization", ["sum", "mean"])
def test_wide_weights_follow_the_sample_when_labels_are_missing(normalization):
    """Mistake caught: weights attached to rows by position, not by sample."""
    rng = np.random.RandomState(1)
    n, d, n_tasks = 40, 4, 3
    X = rng.standard_normal((n, d))
    Y = X @ rng.standard_normal((d, n_tasks)) + 0.3 * rng.standard_normal((n, 3))
    # Missing labels early in task 0 shift every later row of a by-position
    # attachment against its sample.
    Y[[0, 2, 3, 7], 0] = np.nan
    Y[[1, 5], 1] = np.nan
    Y[[4, 9, 11], 2] = np.nan
    weights = rng.uniform(0.1, 5.0, size=n)
    params = dict(
        graph="chain",
        alpha_graph=2.0,
        alpha_l2=0.5,
        loss_normalization=normalization,
        tol=1e-12,
    )
    wide = GraphMultiTaskRegressor(**params).fit(X, Y, sample_weight=weights)
    # The same data in long format, one row per (sample, task) label.
    sample, task = np.nonzero(~np.isnan(Y))
    long = GraphMultiTaskRegressor(**params).fit(
        X[sample], Y[sample, task], task_ids=task, sample_weight=weights[sample]
    )
    np.testing.assert_allclose(wide.coef_, long.coef_, rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(wide.intercept_, long.intercept_, rtol=1e-9)


def test_wide_classifier_weights_follow_the_sample():
    rng = np.random.RandomState(2)
    n, d = 60, 3
    X = rng.standard_normal((n, d))
    Y = (X @ rng.standard_normal((d, 2)) + rng.standard_normal((n, 2)) > 0).astype(
        float
    )
    Y[[0, 1, 2, 3, 4], 0] = np.nan
    weights = rng.uniform(0.1, 5.0, size=n)
    params = dict(alpha_graph=1.0, alpha_l2=0.3, tol=1e-10)
    wide = GraphMultiTaskClassifier(**params).fit(X, Y, sample_weight=weights)
    sample, task = np.nonzero(~np.isnan(Y))
    long = GraphMultiTaskClassifier(**params).fit(
        X[sample], Y[sample, task], task_ids=task, sample_weight=weights[sample]
    )
    np.testing.assert_allclose(wide.coef_, long.coef_, rtol=1e-5, atol=1e-7)


# --- kNN graph by cosine ---------------------------------------------------


def test_knn_graph_uses_cosine_not_dot_product_by_hand():
    """Mistake caught: neighbours ranked by the raw dot product."""
    # Task 0's direction is task 2's (cosine 0.999), but task 1 is ten times
    # longer at 45 degrees: the dot product would pick task 1 (10 > 1).
    coef = np.array([[1.0, 0.0], [10.0, 10.0], [1.0, 0.05], [-0.2, 1.0]])
    got = KNNGraph(n_neighbors=1).adjacency(range(4), coef).toarray()
    # By hand, nearest by cosine: 0 -> 2 (0.999); 1 -> 2 (0.742, vs 0.707 to
    # task 0 and 0.555 to task 3); 2 -> 0; 3 -> 1 (0.555). An edge when either
    # task picks the other.
    expected = np.zeros((4, 4))
    for s, t in [(0, 2), (1, 2), (1, 3)]:
        expected[s, t] = expected[t, s] = 1.0
    np.testing.assert_array_equal(got, expected)


def test_fitted_knn_graph_is_the_cosine_graph_of_ridge_fits():
    """The estimator's kNN graph, rebuilt by hand from per-task Ridge fits."""
    rng = np.random.RandomState(3)
    n_tasks, d, k = 8, 5, 2
    # Directions in two groups, norms spread over two orders of magnitude, so
    # dot-product neighbours differ from cosine neighbours.
    base = np.array([[1.0, 0.2, 0, 0, 0], [0, 0, 0.3, 1.0, 0.5]])
    norms = np.array([0.3, 1.0, 3.0, 10.0, 0.3, 1.0, 3.0, 10.0])
    coef = base[np.arange(n_tasks) % 2] + 0.15 * rng.standard_normal((n_tasks, d))
    coef *= norms[:, None] / np.linalg.norm(coef, axis=1, keepdims=True)
    task_ids = np.repeat(np.arange(n_tasks), 40)
    X = rng.standard_normal((task_ids.size, d))
    y = np.einsum("nd,nd->n", X, coef[task_ids]) + 0.01 * rng.standard_normal(
        task_ids.size
    )
    model = GraphMultiTaskRegressor(graph=KNNGraph(n_neighbors=k), alpha_l2=1.5)
    model.fit(X, y, task_ids=task_ids)

    ridge = np.array(
        [
            Ridge(alpha=1.5).fit(X[task_ids == t], y[task_ids == t]).coef_
            for t in range(8)
        ]
    )

    def knn(similarity):
        similarity = similarity.copy()
        np.fill_diagonal(similarity, -np.inf)
        A = np.zeros((n_tasks, n_tasks))
        for t in range(n_tasks):
            A[t, np.argsort(-similarity[t])[:k]] = 1.0
        return np.maximum(A, A.T)

    unit = ridge / np.linalg.norm(ridge, axis=1, keepdims=True)
    by_cosine, by_dot = knn(unit @ unit.T), knn(ridge @ ridge.T)
    assert not np.array_equal(by_cosine, by_dot)  # the test can tell them apart
    np.testing.assert_array_equal(model.adjacency_.toarray(), by_cosine)
    assert by_cosine.sum(axis=1).min() >= k  # every task has its k edges


# --- a graph given as a matrix equals the same graph by name ---------------


@pytest.mark.parametrize(
    "name, graph", [("chain", ChainGraph()), ("full", FullGraph())]
)
@pytest.mark.parametrize("as_sparse", [False, True])
def test_matrix_graph_equals_named_graph(name, graph, as_sparse):
    """Mistake caught: a user adjacency doubled (A + A^T) when symmetrized."""
    X, y, task_ids = _regression()
    matrix = graph.adjacency(range(5))
    if not as_sparse:
        matrix = matrix.toarray()
    params = dict(alpha_graph=3.0, alpha_l2=0.7, tol=1e-12)
    by_name = GraphMultiTaskRegressor(graph=name, **params).fit(X, y, task_ids=task_ids)
    by_matrix = GraphMultiTaskRegressor(graph=matrix, **params).fit(
        X, y, task_ids=task_ids
    )
    np.testing.assert_allclose(
        np.asarray(by_matrix.adjacency_.toarray()),
        np.asarray(by_name.adjacency_.toarray()),
        rtol=0,
        atol=1e-15,
    )
    np.testing.assert_allclose(by_matrix.coef_, by_name.coef_, rtol=1e-9, atol=1e-12)


def test_directed_and_edge_graphs_by_hand():
    X, y, task_ids = _regression()
    directed = np.zeros((5, 5))
    directed[0, 1], directed[2, 3], directed[3, 2] = 4.0, 1.0, 3.0
    model = GraphMultiTaskRegressor(graph=directed).fit(X, y, task_ids=task_ids)
    # Documented: an asymmetric A acts as (A + A^T) / 2.
    expected = (directed + directed.T) / 2
    np.testing.assert_array_equal(model.adjacency_.toarray(), expected)
    edges = GraphMultiTaskRegressor(graph={(0, 1): 2.0, (3, 2): 2.0}).fit(
        X, y, task_ids=task_ids
    )
    np.testing.assert_array_equal(edges.adjacency_.toarray(), expected)


# --- the learned graph's covariance update ---------------------------------


def test_learned_covariance_is_the_documented_root_at_the_fitted_models():
    """Mistake caught: covariance update other than (W W^T + eps)^(1/2) / trace."""
    X, y, task_ids = _regression(n_tasks=4, n_features=5, seed=4)
    eps, alpha_graph, alpha_l2 = 1e-2, 2.0, 0.3
    model = GraphMultiTaskRegressor(
        graph=LearnedGraph(n_iter=500, tol=1e-12, eps=eps),
        alpha_graph=alpha_graph,
        alpha_l2=alpha_l2,
        tol=1e-13,
    ).fit(X, y, task_ids=task_ids)
    W = model.coef_
    gram = W @ W.T
    gram += eps * np.trace(gram) / 4 * np.eye(4)
    root = np.real(scipy.linalg.sqrtm(gram))
    expected = 4 * root / np.trace(root)
    np.testing.assert_allclose(model.task_covariance_, expected, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(
        model.laplacian_, np.linalg.inv(model.task_covariance_), rtol=1e-8
    )
    # The models are optimal for that covariance: the objective's gradient,
    # written out by hand, vanishes.
    grad_w, grad_b = _hand_objective_grad(
        X,
        y,
        task_ids,
        np.ones(y.size),
        np.ones(4),
        W,
        model.intercept_,
        model.laplacian_,
        alpha_graph,
        alpha_l2,
    )
    assert np.abs(grad_w).max() < 1e-8
    assert np.abs(grad_b).max() < 1e-8

    # And the covariance is optimal for the models: tr(W^T Omega^-1 W) with
    # eps over covariances of trace T is smallest there.
    def penalty(omega):
        return np.trace(np.linalg.solve(omega, gram))

    rng = np.random.RandomState(0)
    best = penalty(model.task_covariance_)
    for _ in range(20):
        step = rng.standard_normal((4, 4)) * 1e-3
        step = step + step.T
        step -= np.trace(step) / 4 * np.eye(4)  # stay at trace T
        assert penalty(model.task_covariance_ + step) >= best - 1e-12


# --- "mean" normalization uses the sample weights --------------------------


def test_mean_normalization_uses_weighted_task_totals():
    """Mistake caught: c_t = 1 / n_t (counts) instead of 1 / sum of weights."""
    X, y, task_ids = _regression(seed=5)
    rng = np.random.RandomState(6)
    weights = rng.uniform(0.2, 3.0, size=y.size)
    params = dict(graph="chain", alpha_graph=1.5, alpha_l2=0.4, tol=1e-13)
    model = GraphMultiTaskRegressor(loss_normalization="mean", **params)
    model.fit(X, y, task_ids=task_ids, sample_weight=weights)
    scale = 1.0 / np.array([weights[task_ids == t].sum() for t in range(5)])
    L = ChainGraph().adjacency(range(5)).toarray()
    L = np.diag(L.sum(axis=1)) - L
    grad_w, grad_b = _hand_objective_grad(
        X, y, task_ids, weights, scale, model.coef_, model.intercept_, L, 1.5, 0.4
    )
    assert np.abs(grad_w).max() < 1e-9
    assert np.abs(grad_b).max() < 1e-9
    # Equivalently: "sum" with each task's weights divided by their total, and
    # "mean" does not see a per-task rescaling of the weights.
    as_sum = GraphMultiTaskRegressor(loss_normalization="sum", **params).fit(
        X, y, task_ids=task_ids, sample_weight=weights * scale[task_ids]
    )
    np.testing.assert_allclose(model.coef_, as_sum.coef_, rtol=1e-9, atol=1e-12)
    rescaled = GraphMultiTaskRegressor(loss_normalization="mean", **params).fit(
        X, y, task_ids=task_ids, sample_weight=weights * (1.0 + task_ids)
    )
    np.testing.assert_allclose(model.coef_, rescaled.coef_, rtol=1e-9, atol=1e-12)


def test_classifier_mean_normalization_uses_weighted_task_totals():
    rng = np.random.RandomState(7)
    X, y, task_ids = _regression(n_tasks=3, n_features=3, seed=7)
    y = (y > np.median(y)).astype(int)
    weights = rng.uniform(0.2, 3.0, size=y.size)
    params = dict(alpha_graph=1.0, alpha_l2=0.5, tol=1e-10)
    mean = GraphMultiTaskClassifier(loss_normalization="mean", **params)
    mean.fit(X, y, task_ids=task_ids, sample_weight=weights)
    totals = np.bincount(task_ids, weights=weights)
    as_sum = GraphMultiTaskClassifier(loss_normalization="sum", **params).fit(
        X, y, task_ids=task_ids, sample_weight=weights / totals[task_ids]
    )
    np.testing.assert_allclose(mean.coef_, as_sum.coef_, rtol=1e-5, atol=1e-7)


# --- unpenalized tasks with fewer samples than features ---------------------


@pytest.mark.parametrize("solver", ["cg", "direct"])
def test_unpenalized_small_tasks_get_the_minimum_norm_least_squares(solver):
    """alpha_l2=0 and a task without graph edges, n_t < d: lstsq per task."""
    rng = np.random.RandomState(8)
    sizes, d = [6, 30, 25, 8], 10
    task_ids = np.repeat(np.arange(4), sizes)
    X = rng.standard_normal((task_ids.size, d))
    y = rng.standard_normal(task_ids.size)
    weights = rng.uniform(0.5, 2.0, size=task_ids.size)
    # Tasks 0 and 1 linked, tasks 2 and 3 alone; tasks 0 and 3 have n_t < d.
    graph = np.zeros((4, 4))
    graph[0, 1] = graph[1, 0] = 1.0
    for alpha_graph, alone in [(0.0, [0, 1, 2, 3]), (2.0, [2, 3])]:
        model = GraphMultiTaskRegressor(
            graph=graph, alpha_graph=alpha_graph, alpha_l2=0.0, solver=solver, tol=1e-12
        ).fit(X, y, task_ids=task_ids, sample_weight=weights)
        for t in alone:
            rows = task_ids == t
            root = np.sqrt(weights[rows])
            x_mean = np.average(X[rows], axis=0, weights=weights[rows])
            y_mean = np.average(y[rows], weights=weights[rows])
            coef = np.linalg.lstsq(
                root[:, None] * (X[rows] - x_mean),
                root * (y[rows] - y_mean),
                rcond=None,
            )[0]
            np.testing.assert_allclose(model.coef_[t], coef, rtol=1e-8, atol=1e-10)
            assert model.intercept_[t] == pytest.approx(y_mean - x_mean @ coef)
        # The linked tasks are still optimal for their coupled objective.
        L = np.diag(graph.sum(axis=1)) - graph
        grad_w, grad_b = _hand_objective_grad(
            X,
            y,
            task_ids,
            weights,
            np.ones(4),
            model.coef_,
            model.intercept_,
            L,
            alpha_graph,
            0.0,
        )
        assert np.abs(grad_w).max() < 1e-8
        assert np.abs(grad_b).max() < 1e-8


def test_unpenalized_small_tasks_on_the_complete_graph_without_graph_weight():
    rng = np.random.RandomState(9)
    task_ids = np.repeat(np.arange(3), [4, 5, 40])
    X = rng.standard_normal((task_ids.size, 8))
    y = rng.standard_normal(task_ids.size)
    model = GraphMultiTaskRegressor(alpha_graph=0.0, alpha_l2=0.0).fit(
        X, y, task_ids=task_ids
    )
    for t in range(3):
        rows = task_ids == t
        Xc, yc = X[rows] - X[rows].mean(axis=0), y[rows] - y[rows].mean()
        coef = np.linalg.lstsq(Xc, yc, rcond=None)[0]
        np.testing.assert_allclose(model.coef_[t], coef, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("alpha_l2", [0.3, 0.0])
def test_complete_graph_exact_solve_is_stationary_by_hand(alpha_l2):
    """The rank-d (Woodbury) solve of "full" against the written-out gradient."""
    X, y, task_ids = _regression(n_tasks=6, n_features=4, seed=10)
    weights = np.random.RandomState(11).uniform(0.2, 4.0, size=y.size)
    model = GraphMultiTaskRegressor(
        graph="full", alpha_graph=5.0, alpha_l2=alpha_l2, loss_normalization="mean"
    ).fit(X, y, task_ids=task_ids, sample_weight=weights)
    scale = 1.0 / np.bincount(task_ids, weights=weights)
    # A = (11^T - I) / T, so L = D - A = I - 11^T / T.
    L = np.eye(6) - np.ones((6, 6)) / 6
    grad_w, grad_b = _hand_objective_grad(
        X, y, task_ids, weights, scale, model.coef_, model.intercept_, L, 5.0, alpha_l2
    )
    assert np.abs(grad_w).max() < 1e-10
    assert np.abs(grad_b).max() < 1e-10


def test_complete_graph_l1_and_logistic_fits_by_hand():
    """The complete graph's closed-form product P W = W - mean(W), checked by
    the optimality conditions written out with L = I - 11^T / T."""
    X, y, task_ids = _regression(n_tasks=4, n_features=5, seed=12)
    L = np.eye(4) - np.ones((4, 4)) / 4
    lasso = GraphMultiTaskRegressor(
        graph="full", alpha_graph=3.0, alpha_l2=0.2, alpha_l1=4.0, tol=1e-10
    ).fit(X, y, task_ids=task_ids)
    grad_w, grad_b = _hand_objective_grad(
        X,
        y,
        task_ids,
        np.ones(y.size),
        np.ones(4),
        lasso.coef_,
        lasso.intercept_,
        L,
        3.0,
        0.2,
    )
    zero = lasso.coef_ == 0
    assert zero.any() and not zero.all()
    assert np.all(np.abs(grad_w[zero]) <= 4.0 * (1 + 1e-6))
    np.testing.assert_allclose(
        grad_w[~zero], -4.0 * np.sign(lasso.coef_[~zero]), atol=1e-5
    )
    labels = (y > np.median(y)).astype(int)
    clf = GraphMultiTaskClassifier(
        graph="full", alpha_graph=3.0, alpha_l2=0.2, tol=1e-10
    ).fit(X, labels, task_ids=task_ids)
    scores = np.einsum("nd,nd->n", X, clf.coef_[task_ids]) + clf.intercept_[task_ids]
    error = 1.0 / (1.0 + np.exp(-scores)) - labels
    grad = 2 * 3.0 * L @ clf.coef_ + 0.2 * clf.coef_
    for t in range(4):
        grad[t] += error[task_ids == t] @ X[task_ids == t]
    assert np.abs(grad).max() < 1e-5
