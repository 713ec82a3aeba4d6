"""The graph-regularized models against reference solutions and optimality."""

import pickle

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import check_grad
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Lasso, LogisticRegression, Ridge

from sklearn_mtl import (
    GraphMultiTaskClassifier,
    GraphMultiTaskRegressor,
    IndependentTasks,
)
from sklearn_mtl._tasks import check_fit_data
from sklearn_mtl.datasets import (
    make_multitask_classification,
    make_multitask_regression,
)
from sklearn_mtl.graphs import ChainGraph, KNNGraph, LearnedGraph, TreeGraph, laplacian
from sklearn_mtl.linear._problems import (
    LogisticProblem,
    SquaredProblem,
    TaskPenalty,
    task_loss_scale,
)


@pytest.fixture
def regression():
    return make_multitask_regression(
        n_tasks=5, n_samples=[15, 30, 25, 40, 20], n_features=6, random_state=0
    )


@pytest.mark.parametrize("solver", ["cg", "direct", "fista"])
def test_zero_graph_weight_is_independent_ridge(regression, solver):
    X, y, task_ids = regression
    model = GraphMultiTaskRegressor(
        alpha_graph=0.0, alpha_l2=3.0, solver=solver, tol=1e-10
    )
    model.fit(X, y, task_ids=task_ids)
    reference = IndependentTasks(Ridge(alpha=3.0)).fit(X, y, task_ids=task_ids)
    np.testing.assert_allclose(
        model.coef_, [est.coef_ for est in reference.estimators_], rtol=1e-6, atol=1e-8
    )
    np.testing.assert_allclose(
        model.intercept_, [est.intercept_ for est in reference.estimators_], rtol=1e-6
    )


def test_mean_normalization_scales_the_ridge_per_task(regression):
    X, y, task_ids = regression
    model = GraphMultiTaskRegressor(
        alpha_graph=0.0, alpha_l2=0.1, loss_normalization="mean", tol=1e-12
    ).fit(X, y, task_ids=task_ids)
    for t, n_t in enumerate(np.bincount(task_ids)):
        rows = task_ids == t
        ridge = Ridge(alpha=0.1 * n_t).fit(X[rows], y[rows])
        np.testing.assert_allclose(model.coef_[t], ridge.coef_, rtol=1e-7)


def test_huge_full_graph_weight_shares_one_model(regression):
    """alpha_graph -> inf with "full": one w for all tasks, each its own intercept.

    That limit is a pooled ridge on per-task centred data with alpha = T * alpha_l2
    (the T copies of the shared w each pay the ridge penalty).
    """
    X, y, task_ids = regression
    model = GraphMultiTaskRegressor(
        graph="full", alpha_graph=1e9, alpha_l2=2.0, solver="direct"
    ).fit(X, y, task_ids=task_ids)
    Xc, yc = X.copy(), y.copy()
    for t in range(5):
        rows = task_ids == t
        Xc[rows] -= X[rows].mean(axis=0)
        yc[rows] -= y[rows].mean()
    pooled = Ridge(alpha=5 * 2.0, fit_intercept=False).fit(Xc, yc)
    # The gap to the limit shrinks as 1 / alpha_graph (2e-6 at 1e7, 2e-8 at 1e9).
    np.testing.assert_allclose(model.coef_, np.tile(pooled.coef_, (5, 1)), atol=1e-7)
    cg = GraphMultiTaskRegressor(graph="full", alpha_graph=1e9, alpha_l2=2.0, tol=1e-13)
    np.testing.assert_allclose(
        cg.fit(X, y, task_ids=task_ids).coef_, model.coef_, atol=1e-7
    )


@pytest.mark.parametrize("graph", ["chain", "knn", "learned"])
def test_cg_and_direct_solvers_agree(regression, graph):
    X, y, task_ids = regression
    cg = GraphMultiTaskRegressor(graph=graph, alpha_graph=3.0, tol=1e-12).fit(
        X, y, task_ids=task_ids
    )
    direct = GraphMultiTaskRegressor(graph=graph, alpha_graph=3.0, solver="direct").fit(
        X, y, task_ids=task_ids
    )
    np.testing.assert_allclose(cg.coef_, direct.coef_, rtol=1e-7, atol=1e-9)


def test_squared_gradient_and_stationarity(regression):
    X, y, task_ids = regression
    model = GraphMultiTaskRegressor(
        graph="chain", alpha_graph=2.0, alpha_l2=0.5, tol=1e-12
    )
    model.fit(X, y, task_ids=task_ids)
    data = check_fit_data(model, X, y, task_ids)
    problem = SquaredProblem(data, task_loss_scale(data, "sum"))
    penalty = TaskPenalty(model.laplacian_, 2.0, 0.5)

    def value(w):
        return problem.objective(w.reshape(5, 6), penalty)

    def grad(w):
        W = w.reshape(5, 6)
        return (problem._data_grad(W) + penalty.value_grad(W)[1]).ravel()

    point = np.random.RandomState(1).standard_normal(30)
    assert check_grad(value, grad, point) < 1e-5 * np.linalg.norm(grad(point))
    assert np.abs(grad(model.coef_.ravel())).max() < 1e-8
    # The objective written out by hand, with the fitted intercepts.
    residual = (
        y - np.einsum("nd,nd->n", X, model.coef_[task_ids]) - model.intercept_[task_ids]
    )
    A = ChainGraph().adjacency(range(5)).toarray()
    graph_term = sum(
        A[s, t] * np.sum((model.coef_[s] - model.coef_[t]) ** 2)
        for s in range(5)
        for t in range(5)
    )
    by_hand = (
        0.5 * residual @ residual + 1.0 * graph_term + 0.25 * np.sum(model.coef_**2)
    )
    assert by_hand == pytest.approx(value(model.coef_.ravel()), rel=1e-10)


def test_l1_reaches_exact_zeros_and_kkt(regression):
    X, y, task_ids = regression
    model = GraphMultiTaskRegressor(
        graph="full",
        alpha_graph=1.0,
        alpha_l2=0.1,
        alpha_l1=20.0,
        tol=1e-9,
        max_iter=20000,
    ).fit(X, y, task_ids=task_ids)
    assert 0 < np.sum(model.coef_ == 0) < model.coef_.size
    data = check_fit_data(model, X, y, task_ids)
    problem = SquaredProblem(data, task_loss_scale(data, "sum"))
    penalty = TaskPenalty(model.laplacian_, 1.0, 0.1)
    grad = problem._data_grad(model.coef_) + penalty.value_grad(model.coef_)[1]
    zero = model.coef_ == 0
    assert np.all(np.abs(grad[zero]) <= 20.0 * (1 + 1e-6))
    np.testing.assert_allclose(
        grad[~zero], -20.0 * np.sign(model.coef_[~zero]), atol=1e-5
    )


def test_single_task_l1_matches_lasso(rng):
    X = rng.standard_normal((60, 8))
    y = X[:, :3] @ [2.0, -1.0, 0.5] + 0.1 * rng.standard_normal(60)
    model = GraphMultiTaskRegressor(
        alpha_l2=0.0, alpha_l1=6.0, tol=1e-10, max_iter=50000
    )
    model.fit(X, y)
    lasso = Lasso(alpha=6.0 / 60, tol=1e-12, max_iter=100000).fit(X, y)
    np.testing.assert_allclose(model.coef_[0], lasso.coef_, atol=1e-6)
    assert model.intercept_[0] == pytest.approx(lasso.intercept_, abs=1e-6)


@pytest.mark.parametrize("n_classes", [2, 3])
def test_zero_graph_weight_is_logistic_regression_per_task(rng, n_classes):
    X = rng.standard_normal((150, 4))
    task_ids = np.repeat([0, 1, 2], 50)
    y = rng.randint(n_classes, size=150)
    y[X[:, 0] > 0.5] = 0
    model = GraphMultiTaskClassifier(alpha_graph=0.0, alpha_l2=0.5, tol=1e-10)
    model.fit(X, y, task_ids=task_ids)
    for t in range(3):
        rows = task_ids == t
        reference = LogisticRegression(C=2.0, tol=1e-12, max_iter=10000).fit(
            X[rows], y[rows]
        )
        coef = model.coef_[t] if n_classes > 2 else model.coef_[t][None]
        np.testing.assert_allclose(coef, reference.coef_, rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(
            model.predict_proba(X[rows], task_ids=task_ids[rows]),
            reference.predict_proba(X[rows]),
            atol=1e-5,
        )


@pytest.mark.parametrize("n_classes", [2, 3])
def test_logistic_gradient(rng, n_classes):
    X = rng.standard_normal((60, 3))
    task_ids = np.repeat([0, 1], 30)
    y = rng.randint(n_classes, size=60)
    estimator = GraphMultiTaskClassifier()
    data = check_fit_data(
        estimator, X, y, task_ids, rng.random_sample(60), classifier=True
    )
    problem = LogisticProblem(data, task_loss_scale(data, "mean"), np.unique(y))
    adjacency = sp.csr_array(np.array([[0.0, 1.0], [1.0, 0.0]]))
    penalty = TaskPenalty(laplacian(adjacency), 0.7, 0.3)
    shape = (2, 4, 1 if n_classes == 2 else n_classes)

    def value(theta):
        return problem.value_grad(theta.reshape(shape), penalty)[0]

    def grad(theta):
        return problem.value_grad(theta.reshape(shape), penalty)[1].ravel()

    point = rng.standard_normal(np.prod(shape))
    assert check_grad(value, grad, point) < 1e-6


def test_logistic_l1_kkt(rng):
    X, y, task_ids = make_multitask_classification(
        n_tasks=3, n_features=8, random_state=0
    )
    model = GraphMultiTaskClassifier(
        alpha_l1=2.0, alpha_graph=1.0, tol=1e-8, max_iter=50000
    )
    model.fit(X, y, task_ids=task_ids)
    assert np.any(model.coef_ == 0)
    data = check_fit_data(model, X, y, task_ids, classifier=True)
    problem = LogisticProblem(data, task_loss_scale(data, "sum"), model.classes_)
    theta = model._packed_params()
    _, grad = problem.value_grad(theta, TaskPenalty(model.laplacian_, 1.0, 1.0))
    grad = grad * problem.scale
    coef_grad, coef = grad[:, :-1, 0], theta[:, :-1, 0]
    assert np.all(np.abs(coef_grad[coef == 0]) <= 2.0 + 1e-5)
    np.testing.assert_allclose(
        coef_grad[coef != 0], -2.0 * np.sign(coef[coef != 0]), atol=1e-5
    )
    np.testing.assert_allclose(grad[:, -1, 0], 0.0, atol=1e-5)


def test_graph_inputs_are_equivalent(regression):
    X, y, task_ids = regression
    dense = np.zeros((5, 5))
    dense[0, 1] = dense[1, 0] = 2.0
    dense[3, 4] = dense[4, 3] = 0.5
    edges = {(0, 1): 2.0, (3, 4): 0.5}
    models = [
        GraphMultiTaskRegressor(graph=g, tol=1e-12).fit(X, y, task_ids=task_ids)
        for g in [dense, sp.csr_array(dense), edges, np.triu(dense) * 2]
    ]
    for model in models:
        # The graph used is the one given, not a rescaled copy of it.
        np.testing.assert_array_equal(model.adjacency_.toarray(), dense)
        np.testing.assert_allclose(model.coef_, models[0].coef_, rtol=1e-8)


def test_bad_graphs_are_named(regression):
    X, y, task_ids = regression
    with pytest.raises(
        ValueError, match=r"graph has shape \(3, 3\) but the data has 5 tasks"
    ):
        GraphMultiTaskRegressor(graph=np.ones((3, 3))).fit(X, y, task_ids=task_ids)
    with pytest.raises(ValueError, match="non-negative"):
        GraphMultiTaskRegressor(graph=-np.ones((5, 5))).fit(X, y, task_ids=task_ids)
    with pytest.raises(ValueError, match="graph names task 9"):
        GraphMultiTaskRegressor(graph={(0, 9): 1.0}).fit(X, y, task_ids=task_ids)
    with pytest.raises(ValueError, match="NaN"):
        GraphMultiTaskRegressor(graph=np.full((5, 5), np.nan)).fit(
            X, y, task_ids=task_ids
        )
    with pytest.raises(ValueError, match="cycle"):
        GraphMultiTaskRegressor(graph=TreeGraph({0: 1, 1: 0})).fit(
            X, y, task_ids=task_ids
        )
    with pytest.raises(ValueError, match="alpha_l1 > 0"):
        GraphMultiTaskRegressor(alpha_l1=1.0, solver="cg").fit(X, y, task_ids=task_ids)


def test_tree_graph_reduces_latent_parents_by_hand():
    # a - p - b through a latent parent p: two unit edges in series conduct 1/2.
    adjacency = TreeGraph({"a": "p", "b": "p"}).adjacency(["a", "b"])
    np.testing.assert_allclose(adjacency, [[0, 0.5], [0.5, 0]])
    # Tasks as inner nodes keep their direct edges; absent tasks stay unlinked.
    adjacency = TreeGraph({"b": "a", "c": "a"}).adjacency(["a", "b", "c", "d"])
    np.testing.assert_allclose(
        adjacency, [[0, 1, 1, 0], [1, 0, 0, 0], [1, 0, 0, 0], [0, 0, 0, 0]]
    )


def test_builtin_graphs_by_hand():
    from sklearn_mtl.graphs import FullGraph, KNNGraph

    np.testing.assert_allclose(
        FullGraph().adjacency(range(4)).toarray(), (np.ones((4, 4)) - np.eye(4)) / 4
    )
    np.testing.assert_allclose(
        ChainGraph().adjacency(range(3)).toarray(), [[0, 1, 0], [1, 0, 1], [0, 1, 0]]
    )
    # Task 2 is long and near task 1's direction; by cosine task 0 picks task 1
    # (0.71 vs 0.32), by dot product it would pick task 2 (5 vs 1).
    coef = np.array([[1.0, 1.0], [0.0, 1.0], [-5.0, 10.0]])
    np.testing.assert_allclose(
        KNNGraph(n_neighbors=1).adjacency(range(3), coef).toarray(),
        [[0, 1, 0], [1, 0, 1], [0, 1, 0]],
    )
    np.testing.assert_allclose(
        laplacian(np.array([[0, 2.0], [2.0, 0]])), [[2, -2], [-2, 2]]
    )


def test_learned_graph_finds_the_task_clusters():
    X, y, task_ids, coef, _, adjacency = make_multitask_regression(
        n_tasks=6,
        n_samples=60,
        n_features=8,
        n_clusters=2,
        task_spread=0.1,
        return_coef=True,
        random_state=3,
    )
    model = GraphMultiTaskRegressor(graph=LearnedGraph(n_iter=20), alpha_graph=1.0)
    model.fit(X, y, task_ids=task_ids)
    cov = model.task_covariance_
    assert np.trace(cov) == pytest.approx(6.0)
    assert np.all(np.linalg.eigvalsh(cov) > 0)
    corr = cov / np.sqrt(np.outer(np.diag(cov), np.diag(cov)))
    same = adjacency > 0
    off_diagonal = ~np.eye(6, dtype=bool)
    assert corr[same].min() > corr[off_diagonal & ~same].max()


def test_knn_graph_recovers_true_neighbours():
    X, y, task_ids, _, _, adjacency = make_multitask_regression(
        n_tasks=8,
        n_samples=80,
        n_features=6,
        n_clusters=2,
        task_spread=0.1,
        return_coef=True,
        random_state=0,
    )
    model = GraphMultiTaskRegressor(graph=KNNGraph(n_neighbors=3)).fit(
        X, y, task_ids=task_ids
    )
    # Two clusters of four tasks and three neighbours each: the graph is
    # exactly the clusters (an empty graph would not pass).
    np.testing.assert_array_equal(model.adjacency_.toarray(), adjacency > 0)


def test_graph_helps_related_tasks_with_few_samples():
    X, y, task_ids, coef, intercept, _ = make_multitask_regression(
        n_tasks=10,
        n_samples=12,
        n_features=10,
        task_spread=0.1,
        noise=1.0,
        return_coef=True,
        random_state=0,
    )
    rng = np.random.RandomState(5)
    X_test, t_test = rng.standard_normal((2000, 10)), np.repeat(np.arange(10), 200)
    y_test = np.einsum("nd,nd->n", X_test, coef[t_test]) + intercept[t_test]
    independent = IndependentTasks(Ridge(alpha=1.0)).fit(X, y, task_ids=task_ids)
    baseline = independent.score(X_test, y_test, task_ids=t_test)  # 0.73
    for graph in ["full", "knn", "learned"]:
        model = GraphMultiTaskRegressor(graph=graph, alpha_graph=1.0).fit(
            X, y, task_ids=task_ids
        )
        assert model.score(X_test, y_test, task_ids=t_test) > baseline + 0.03


def test_warm_start_and_convergence_warning(regression):
    X, y, task_ids = regression
    cold = GraphMultiTaskRegressor(graph="chain", alpha_graph=5.0, tol=1e-10).fit(
        X, y, task_ids=task_ids
    )
    warm = GraphMultiTaskRegressor(
        graph="chain", alpha_graph=5.0, tol=1e-10, warm_start=True
    )
    warm.fit(X, y, task_ids=task_ids)
    warm.fit(X, y, task_ids=task_ids)
    assert warm.n_iter_ < cold.n_iter_
    with pytest.warns(ConvergenceWarning, match="did not converge"):
        GraphMultiTaskRegressor(graph="chain", max_iter=1, tol=1e-14).fit(
            X, y, task_ids=task_ids
        )
    with pytest.warns(ConvergenceWarning):
        GraphMultiTaskClassifier(max_iter=1).fit(X, y > 0, task_ids=task_ids)


@pytest.mark.parametrize(
    "model",
    [GraphMultiTaskRegressor(graph="knn"), GraphMultiTaskClassifier(graph="learned")],
)
def test_pickle_round_trip(model):
    X, y, task_ids = make_multitask_classification(n_tasks=3, random_state=0)
    names = np.array(["x", "y", "z"])[task_ids]
    model.fit(X, y, task_ids=names)
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(
        restored.predict(X, task_ids=names), model.predict(X, task_ids=names)
    )


def test_user_graph_without_constraints_fits(regression):
    """A user's TaskGraph subclass that declares no constraints (and stores
    its settings under other names, so get_params cannot read them) fits as
    the same fixed graph given as a matrix."""
    from sklearn_mtl.graphs import TaskGraph

    class StrengthGraph(TaskGraph):
        def __init__(self, strength=2.0):
            self._strength = strength

        def adjacency(self, tasks, task_coef=None):
            n = len(tasks)
            return sp.csr_matrix(self._strength * (np.ones((n, n)) - np.eye(n)))

    X, y, task_ids = regression
    n_tasks = len(np.unique(task_ids))
    custom = GraphMultiTaskRegressor(graph=StrengthGraph()).fit(X, y, task_ids=task_ids)
    matrix = 2.0 * (np.ones((n_tasks, n_tasks)) - np.eye(n_tasks))
    given = GraphMultiTaskRegressor(graph=matrix).fit(X, y, task_ids=task_ids)
    np.testing.assert_allclose(custom.coef_, given.coef_, rtol=1e-8, atol=1e-10)
