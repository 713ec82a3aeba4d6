"""The losses x penalties x solvers core: a new penalty in a few lines, the graph
penalty on the same core, and the solvers' refusals.

``NonNegativeL1Penalty`` below is the worked example of docs/adding_a_penalty.rst
(included from this file, so the page shows code that is tested here).
"""

import numpy as np
import pytest
import scipy.optimize
from sklearn.linear_model import Lasso

from sklearn_mtl._tasks import check_fit_data
from sklearn_mtl.linear._graph_model import GraphMultiTaskRegressor
from sklearn_mtl.linear._losses import LogisticLoss, SquaredLoss
from sklearn_mtl.linear._penalties import L1Penalty, TraceNormPenalty
from sklearn_mtl.linear._problems import solve_smooth
from sklearn_mtl.linear._smooth_penalties import TaskPenalty
from sklearn_mtl.linear._solvers import apg, check_solver_pair, gram_bcd


class NonNegativeL1Penalty:
    """``alpha * sum(W)`` for ``W >= 0`` (+inf otherwise): a non-negative lasso."""

    # A sum over features: block coordinate descent may use it.
    feature_separable = True

    def __init__(self, alpha):
        self.alpha = float(alpha)

    def value(self, W):
        return self.alpha * float(W.sum()) if np.all(W >= 0) else np.inf

    def prox(self, V, step):
        # argmin_W  ||W - V||^2 / (2 step) + step-free penalty: shift, clip at 0.
        return np.maximum(V - step * self.alpha, 0.0)

    def optimality(self, W, grad):
        # -grad must lie in the subdifferential: = alpha where w > 0,
        # (-inf, alpha] where w = 0, i.e. grad + alpha >= 0 there.
        violation = np.where(
            W > 0, np.abs(grad + self.alpha), np.maximum(-(grad + self.alpha), 0.0)
        )
        return float(violation.max(initial=0.0))

    def dual_norm(self, G):
        # W = 0 is optimal iff G + alpha >= 0 everywhere: alpha_max = max(-G).
        return float(max(-G.min(initial=0.0), 0.0))

    def block_minimize(self, a, b):
        # argmin_w sum_t (a_t / 2) w_t^2 - b_t w_t + alpha w_t over w >= 0.
        return np.maximum(b - self.alpha, 0.0) / a


def fit(loss, penalty, *, solver, tol=1e-10, max_iter=10000):
    """Compose a loss, a penalty and a solver (as the structured estimators do)."""
    check_solver_pair(solver, loss, penalty)
    scale = penalty.dual_norm(loss.zero_gradient()) or 1.0
    if solver == "bcd":
        return gram_bcd(
            loss.gram,
            loss.rhs,
            penalty.block_minimize,
            lambda W, grad: penalty.optimality(W, grad) / scale,
            loss.initial(),
            tol=tol,
            max_iter=max_iter,
        )
    return apg(
        loss.value_grad,
        penalty.prox,
        lambda W, grad: penalty.optimality(W, grad) / scale,
        loss.initial(),
        lipschitz=loss.lipschitz(),
        tol=tol,
        max_iter=max_iter,
    )


def _shared_design(seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(50, 6))
    W = rng.normal(size=(3, 6))
    Y = X @ W.T + 0.5 * rng.normal(size=(50, 3))
    return X, Y


def test_example_prox_against_brute_force():
    rng = np.random.default_rng(0)
    penalty = NonNegativeL1Penalty(0.7)
    V = rng.normal(size=(2, 3))
    expected = scipy.optimize.minimize(
        lambda w: np.sum((w - V.ravel()) ** 2) / (2 * 0.3) + 0.7 * w.sum(),
        np.ones(6),
        bounds=[(0, None)] * 6,
        method="L-BFGS-B",
        options={"ftol": 1e-15, "gtol": 1e-12},
    ).x
    np.testing.assert_allclose(penalty.prox(V, 0.3).ravel(), expected, atol=1e-6)


@pytest.mark.parametrize("solver", ["apg", "bcd"])
def test_example_equals_positive_lasso(solver):
    """Shared design, "mean" normalization: scikit-learn's Lasso(positive=True)."""
    X, Y = _shared_design()
    data = check_fit_data(GraphMultiTaskRegressor(), X, Y, None, None)
    loss = SquaredLoss(data, "mean")
    result = fit(loss, NonNegativeL1Penalty(0.1), solver=solver)
    assert result.converged
    for t in range(3):
        lasso = Lasso(alpha=0.1, positive=True, tol=1e-14, max_iter=100000)
        lasso.fit(X, Y[:, t])
        np.testing.assert_allclose(result.x[t], lasso.coef_, atol=1e-8)
    assert np.any(result.x == 0) and np.all(result.x >= 0)


def test_example_alpha_max_gives_zero():
    X, Y = _shared_design(1)
    data = check_fit_data(GraphMultiTaskRegressor(), X, Y, None, None)
    loss = SquaredLoss(data, "mean")
    alpha_max = NonNegativeL1Penalty(0.0).dual_norm(loss.zero_gradient())
    assert np.all(fit(loss, NonNegativeL1Penalty(alpha_max), solver="apg").x == 0)
    assert np.any(fit(loss, NonNegativeL1Penalty(0.9 * alpha_max), solver="apg").x)


def test_check_solver_pair_refuses_with_the_reason():
    X, Y = _shared_design()
    data = check_fit_data(GraphMultiTaskRegressor(), X, Y, None, None)
    squared = SquaredLoss(data, "sum")
    with pytest.raises(ValueError, match="couples all features"):
        check_solver_pair("bcd", squared, TraceNormPenalty(1.0))
    with pytest.raises(ValueError, match="needs a quadratic penalty"):
        check_solver_pair("cg", squared, L1Penalty(1.0))
    with pytest.raises(ValueError, match="needs a smooth penalty"):
        check_solver_pair("lbfgs", squared, L1Penalty(1.0))
    y = (Y[:, 0] > 0).astype(int)
    classes = check_fit_data(
        GraphMultiTaskRegressor(), X, y, np.arange(50) % 2, None, classifier=True
    )
    logistic = LogisticLoss(classes, "sum", np.array([0, 1]))
    with pytest.raises(ValueError, match="per-task Gram blocks"):
        check_solver_pair("bcd", logistic, L1Penalty(1.0))
    with pytest.raises(ValueError, match="needs the squared loss"):
        check_solver_pair("cg", logistic, TaskPenalty(np.eye(2), 1.0, 1.0))
    check_solver_pair("apg", logistic, TraceNormPenalty(1.0))  # no refusal


@pytest.mark.parametrize("graph", ["chain", "full"])
def test_graph_model_is_loss_plus_smooth_graph_penalty(graph):
    """The graph regressor's linear solves and the generic smooth solver on the
    same core objects (SquaredLoss + TaskPenalty) give the same models."""
    rng = np.random.default_rng(2)
    task_ids = np.repeat(np.arange(4), [12, 20, 15, 30])
    X = rng.normal(size=(len(task_ids), 5))
    y = X @ rng.normal(size=5) + task_ids + rng.normal(size=len(X))
    weights = rng.uniform(0.5, 2, size=len(X))
    model = GraphMultiTaskRegressor(graph=graph, alpha_graph=3.0, alpha_l2=0.5)
    model.set_params(tol=1e-12).fit(X, y, task_ids=task_ids, sample_weight=weights)
    data = check_fit_data(model, X, y, task_ids, weights)
    loss = SquaredLoss(data, "sum")
    laplacian = model.laplacian_
    laplacian = laplacian.toarray() if hasattr(laplacian, "toarray") else laplacian
    penalty = TaskPenalty(laplacian, 3.0, 0.5)
    result = solve_smooth(
        loss, penalty, loss.initial(), solver="apg", tol=1e-12, max_iter=100000
    )
    assert result.converged
    np.testing.assert_allclose(result.x, model.coef_, atol=1e-8)
    np.testing.assert_allclose(loss.intercept(result.x), model.intercept_, atol=1e-8)


def test_apg_quadratic_shortcut_matches_plain_apg():
    """quadratic=True extrapolates the gradient at the momentum point; it must
    land on the same minimizer as evaluating it."""
    X, Y = _shared_design(3)
    data = check_fit_data(GraphMultiTaskRegressor(), X, Y, None, None)
    loss = SquaredLoss(data, "sum")
    penalty = L1Penalty(5.0)
    runs = [
        apg(
            loss.value_grad,
            penalty.prox,
            penalty.optimality,
            loss.initial(),
            lipschitz=loss.lipschitz(),
            tol=1e-10,
            max_iter=20000,
            quadratic=quadratic,
        )
        for quadratic in (False, True)
    ]
    assert all(run.converged for run in runs)
    np.testing.assert_allclose(runs[0].x, runs[1].x, atol=1e-9)
    # Exact extrapolation: the same iterates, so the same count (a stale
    # gradient at the momentum point still converges, in ~4x the iterations).
    assert abs(runs[0].n_iter - runs[1].n_iter) <= 2


@pytest.mark.parametrize("page", ["adding_a_penalty.rst", "clustered.rst"])
def test_docs_page_examples_run(page, monkeypatch):
    """The ``>>>`` examples of the two docs pages run as written."""
    import doctest
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    monkeypatch.syspath_prepend(str(root))
    monkeypatch.delitem(sys.modules, "tests", raising=False)
    result = doctest.testfile(
        str(root / "docs" / page),
        module_relative=False,
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
    )
    assert result.attempted > 0
    assert result.failed == 0
