"""Structured multi-task models (L2,1 and trace norm) against hand computations
and scikit-learn. Each test names the planted mistake it was seen to catch."""

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.special import expit
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Lasso, MultiTaskLasso
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_mtl._tasks import check_fit_data
from sklearn_mtl.linear import (
    JointFeatureMultiTaskClassifier,
    JointFeatureMultiTaskRegressor,
    LowRankMultiTaskClassifier,
    LowRankMultiTaskRegressor,
)
from sklearn_mtl.linear._losses import SquaredLoss
from sklearn_mtl.linear._penalties import L1Penalty, L21Penalty, TraceNormPenalty
from sklearn_mtl.linear._solvers import apg
from sklearn_mtl.linear._structured import solve


def _long_data(n_tasks=4, n_features=7, seed=0, classify=False, rank=None):
    """Unequal task sizes, a design per task, jointly sparse (or low-rank) truth."""
    rng = np.random.RandomState(seed)
    sizes = rng.randint(25, 45, size=n_tasks)
    task_ids = np.repeat(np.arange(n_tasks), sizes)
    X = rng.standard_normal((task_ids.size, n_features)) + 0.3
    if rank is None:
        W = np.zeros((n_tasks, n_features))
        W[:, :3] = rng.standard_normal((n_tasks, 3))
    else:
        W = rng.standard_normal((n_tasks, rank)) @ rng.standard_normal(
            (rank, n_features)
        )
    scores = (
        np.einsum("nd,nd->n", X, W[task_ids]) + rng.standard_normal(n_tasks)[task_ids]
    )
    weights = rng.uniform(0.5, 2.0, size=task_ids.size)
    if classify:
        y = (scores + rng.standard_normal(task_ids.size) > 0).astype(int)
    else:
        y = scores + 0.5 * rng.standard_normal(task_ids.size)
    return X, y, task_ids, weights


def _hand_grad(X, y, task_ids, weights, scale, coef, intercept, classify=False):
    """Gradient of the documented data term in (W, b), task by task."""
    score = np.einsum("nd,nd->n", X, coef[task_ids]) + intercept[task_ids]
    # d loss / d score: -(y - f) for the squared loss, p - y for the logistic.
    d_score = expit(score) - y if classify else score - y
    row = weights * scale[task_ids] * d_score
    grad_w = np.stack([row[task_ids == t] @ X[task_ids == t] for t in range(len(coef))])
    grad_b = np.bincount(task_ids, weights=row)
    return grad_w, grad_b


def _task_scale(task_ids, weights, normalization):
    if normalization == "sum":
        return np.ones(task_ids.max() + 1)
    return 1.0 / np.bincount(task_ids, weights=weights)


def _l21_kkt(grad, W, alpha):
    """Largest violation of the L2,1 optimality conditions, feature by feature."""
    worst = 0.0
    for j in range(W.shape[1]):
        norm = np.linalg.norm(W[:, j])
        if norm > 0:
            worst = max(worst, np.linalg.norm(grad[:, j] + alpha * W[:, j] / norm))
        else:
            worst = max(worst, np.linalg.norm(grad[:, j]) - alpha)
    return worst


def _trace_kkt(grad, W, alpha):
    """Check ``-grad = alpha (U V^T + M)``, ``U^T M = M V = 0``, ``||M||_2 <= 1``.

    Returns (largest deviation, spectral norm of M).
    """
    U, s, Vt = np.linalg.svd(W, full_matrices=False)
    r = int(np.sum(s > 1e-8 * s[0]))
    U, V = U[:, :r], Vt[:r].T
    M = -grad / alpha - U @ V.T
    deviation = max(np.abs(U.T @ M).max(initial=0), np.abs(M @ V).max(initial=0))
    return deviation, np.linalg.norm(M, 2)


# Outside the estimator checks, every fit here must reach its tolerance.
_converges = pytest.mark.filterwarnings("error::sklearn.exceptions.ConvergenceWarning")

# -- scikit-learn equivalences -------------------------------------------------


@_converges
@pytest.mark.parametrize("solver", ["bcd", "apg"])
def test_single_task_equals_lasso(solver):
    # Catches: L2,1 groups taken over the wrong axis (features across tasks
    # vs tasks across features), and "mean" normalization dropped.
    rng = np.random.RandomState(1)
    X = rng.standard_normal((80, 10)) + 1.0
    y = X[:, :3] @ [1.0, -2.0, 0.5] + 3.0 + 0.3 * rng.standard_normal(80)
    alpha = 0.1
    ours = JointFeatureMultiTaskRegressor(
        alpha=alpha,
        loss_normalization="mean",
        solver=solver,
        tol=1e-11,
        max_iter=20000,
    ).fit(X, y)
    lasso = Lasso(alpha=alpha, tol=1e-14, max_iter=100000).fit(X, y)
    assert np.count_nonzero(lasso.coef_) < 10
    np.testing.assert_allclose(ours.coef_[0], lasso.coef_, atol=1e-8)
    np.testing.assert_allclose(ours.intercept_[0], lasso.intercept_, atol=1e-8)


@_converges
@pytest.mark.parametrize("solver", ["bcd", "apg"])
def test_shared_design_equals_multitask_lasso(solver):
    # Catches: a group soft-threshold by alpha instead of step * alpha, the
    # Newton block step off, the intercepts not eliminated.
    rng = np.random.RandomState(2)
    X = rng.standard_normal((100, 12)) + 0.5
    W = np.zeros((5, 12))
    W[:, :4] = rng.standard_normal((5, 4))
    Y = X @ W.T + rng.standard_normal(5) + 0.5 * rng.standard_normal((100, 5))
    alpha = 0.2
    ours = JointFeatureMultiTaskRegressor(
        alpha=alpha,
        loss_normalization="mean",
        solver=solver,
        tol=1e-11,
        max_iter=20000,
    ).fit(X, Y)
    ref = MultiTaskLasso(alpha=alpha, tol=1e-14, max_iter=100000).fit(X, Y)
    assert 0 < np.count_nonzero(np.linalg.norm(ref.coef_, axis=0)) < 12
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-8)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, atol=1e-8)


@_converges
@pytest.mark.parametrize("solver", ["bcd", "apg"])
def test_l1_penalty_equals_lasso_per_task(solver):
    # Catches: an L1 prox or coordinate step that shrinks by the wrong amount.
    X, y, task_ids, _ = _long_data(seed=3)
    estimator = JointFeatureMultiTaskRegressor(loss_normalization="mean")
    data = check_fit_data(estimator, X, y, task_ids)
    loss = SquaredLoss(data, "mean")
    result, _ = solve(
        loss,
        L1Penalty(0.05),
        loss.initial(),
        solver=solver,
        tol=1e-11,
        max_iter=20000,
    )
    assert result.converged
    for t in range(4):
        rows = task_ids == t
        ref = Lasso(alpha=0.05, tol=1e-14, max_iter=100000).fit(X[rows], y[rows])
        np.testing.assert_allclose(result.x[t], ref.coef_, atol=1e-8)


# -- alpha_max -------------------------------------------------------------------


@_converges
@pytest.mark.parametrize(
    "Estimator, classify",
    [
        (JointFeatureMultiTaskRegressor, False),
        (LowRankMultiTaskRegressor, False),
        (JointFeatureMultiTaskClassifier, True),
        (LowRankMultiTaskClassifier, True),
    ],
)
def test_alpha_max_is_the_smallest_zero_solution(Estimator, classify):
    # Catches: alpha_max from the gradient with zero intercepts (instead of
    # optimal ones), or the Frobenius instead of the spectral norm.
    X, y, task_ids, weights = _long_data(seed=4, classify=classify)
    model = Estimator(loss_normalization="mean", tol=1e-8, max_iter=5000)
    model.fit(X, y, task_ids=task_ids, sample_weight=weights)
    alpha_max = model.alpha_max_
    # By hand: the data gradient at W = 0 with each task's optimal intercept.
    scale = _task_scale(task_ids, weights, "mean")
    intercept = np.array(
        [np.average(y[task_ids == t], weights=weights[task_ids == t]) for t in range(4)]
    )
    if classify:
        intercept = np.log(intercept / (1 - intercept))
    grad, grad_b = _hand_grad(
        X, y, task_ids, weights, scale, np.zeros((4, 7)), intercept, classify
    )
    np.testing.assert_allclose(grad_b, 0, atol=1e-12)
    norm = (
        np.linalg.norm(grad, axis=0).max()
        if "JointFeature" in Estimator.__name__
        else np.linalg.norm(grad, 2)
    )
    np.testing.assert_allclose(alpha_max, norm, rtol=1e-10)
    at_max = model.set_params(alpha=alpha_max).fit(
        X, y, task_ids=task_ids, sample_weight=weights
    )
    assert np.all(at_max.coef_ == 0)
    below = model.set_params(alpha=0.95 * alpha_max).fit(
        X, y, task_ids=task_ids, sample_weight=weights
    )
    assert np.any(below.coef_ != 0)


# -- optimality at the returned solution, by hand ---------------------------------


@_converges
@pytest.mark.parametrize("solver", ["bcd", "apg"])
@pytest.mark.parametrize("normalization", ["sum", "mean"])
def test_joint_feature_regressor_kkt(solver, normalization):
    # Catches: sample weights or c_t ignored in the Gram blocks, the BCD
    # block step using one task's curvature for all, alpha_l2 left out.
    X, y, task_ids, weights = _long_data(seed=5)
    model = JointFeatureMultiTaskRegressor(
        loss_normalization=normalization,
        solver=solver,
        tol=1e-10,
        max_iter=20000,
        alpha_l2=0.3 if normalization == "sum" else 0.01,
    )
    alpha_max = model.fit(X, y, task_ids=task_ids, sample_weight=weights).alpha_max_
    model.set_params(alpha=0.4 * alpha_max).fit(
        X, y, task_ids=task_ids, sample_weight=weights
    )
    W = model.coef_
    zero = np.linalg.norm(W, axis=0) == 0
    assert zero.any() and not zero.all()
    scale = _task_scale(task_ids, weights, normalization)
    grad, grad_b = _hand_grad(X, y, task_ids, weights, scale, W, model.intercept_)
    grad += model.alpha_l2 * W
    np.testing.assert_allclose(grad_b, 0, atol=1e-9 * alpha_max)
    assert _l21_kkt(grad, W, model.alpha) <= 1e-8 * alpha_max


@_converges
@pytest.mark.parametrize("classify", [False, True])
def test_low_rank_kkt(classify):
    # Catches: singular values thresholded by alpha instead of step * alpha,
    # the prox applied to W^T W, the classifier's intercept penalized.
    X, y, task_ids, weights = _long_data(n_tasks=6, seed=6, classify=classify, rank=2)
    Estimator = LowRankMultiTaskClassifier if classify else LowRankMultiTaskRegressor
    model = Estimator(tol=1e-9, max_iter=50000)
    alpha_max = model.fit(X, y, task_ids=task_ids, sample_weight=weights).alpha_max_
    model.set_params(alpha=0.3 * alpha_max).fit(
        X, y, task_ids=task_ids, sample_weight=weights
    )
    W = model.coef_
    rank = np.linalg.matrix_rank(W, tol=1e-8 * np.abs(W).max())
    assert 0 < rank < 6
    scale = _task_scale(task_ids, weights, "sum")
    grad, grad_b = _hand_grad(
        X, y, task_ids, weights, scale, W, model.intercept_, classify
    )
    np.testing.assert_allclose(grad_b, 0, atol=1e-7 * alpha_max)
    deviation, spectral = _trace_kkt(grad, W, model.alpha)
    assert deviation <= 1e-6
    assert spectral <= 1 + 1e-6


@_converges
def test_joint_feature_classifier_kkt():
    # Catches: the logistic gradient without c_t or sample weights, the
    # intercept column thresholded with the features.
    X, y, task_ids, weights = _long_data(seed=7, classify=True)
    model = JointFeatureMultiTaskClassifier(
        loss_normalization="mean", alpha_l2=0.05, tol=1e-10, max_iter=50000
    )
    alpha_max = model.fit(X, y, task_ids=task_ids, sample_weight=weights).alpha_max_
    model.set_params(alpha=0.5 * alpha_max).fit(
        X, y, task_ids=task_ids, sample_weight=weights
    )
    W = model.coef_
    zero = np.linalg.norm(W, axis=0) == 0
    assert zero.any() and not zero.all()
    scale = _task_scale(task_ids, weights, "mean")
    grad, grad_b = _hand_grad(
        X, y, task_ids, weights, scale, W, model.intercept_, classify=True
    )
    grad += model.alpha_l2 * W
    np.testing.assert_allclose(grad_b, 0, atol=1e-9 * alpha_max)
    assert _l21_kkt(grad, W, model.alpha) <= 1e-8 * alpha_max


# -- penalties one by one -------------------------------------------------------


def test_trace_prox_is_singular_value_soft_threshold():
    # Catches: thresholding without the 1 / (1 + step alpha_l2) shrink, or
    # the singular values clipped instead of shifted.
    rng = np.random.RandomState(8)
    V = rng.standard_normal((5, 8))
    penalty = TraceNormPenalty(1.3, alpha_l2=0.4)
    step = 0.7
    U, s, Vt = np.linalg.svd(V, full_matrices=False)
    by_hand = U @ np.diag(np.maximum(s - step * 1.3, 0) / (1 + step * 0.4)) @ Vt
    np.testing.assert_allclose(penalty.prox(V, step), by_hand, atol=1e-12)


@pytest.mark.parametrize(
    "penalty",
    [L21Penalty(0.9, 0.3), L1Penalty(0.6, 0.2), TraceNormPenalty(1.1, 0.5)],
    ids=["l21", "l1", "trace"],
)
def test_prox_minimizes_its_objective(penalty):
    # Catches any prox that is not the minimizer of
    # (1/2)||W - V||^2 + step * penalty(W): random perturbations never do better.
    rng = np.random.RandomState(9)
    V = rng.standard_normal((4, 6))
    step = 0.8
    P = penalty.prox(V, step)

    def objective(W):
        return 0.5 * np.sum((W - V) ** 2) + step * penalty.value(W)

    best = objective(P)
    for _ in range(300):
        trial = P + 1e-3 * rng.standard_normal(P.shape) * (rng.rand(*P.shape) < 0.5)
        assert objective(trial) >= best - 1e-12
    # And the optimality measure agrees: -(P - V) / step is in the
    # subdifferential at P.
    assert penalty.optimality(P, (P - V) / step) <= 1e-10
    assert penalty.optimality(V, (P - V) / step) > 1e-3


def test_optimality_measures_by_hand():
    # Catches: a zero group's (or entry's) violation measured without
    # subtracting alpha, the trace measure comparing U^T(-grad)V with 0 instead
    # of alpha I, or ignoring the spectral-norm bound on the complement.
    rng = np.random.RandomState(16)
    W = rng.standard_normal((4, 6))
    W[:, [1, 4]] = 0.0
    W[0, 2] = 0.0
    grad = 0.3 * rng.standard_normal((4, 6))
    alpha = 0.5
    assert np.isclose(
        L21Penalty(alpha).optimality(W, grad), max(_l21_kkt(grad, W, alpha), 0)
    )
    # Nonzero groups exactly optimal: only the zero groups' excess over alpha
    # (0.3 for a gradient of norm 0.8, none for norm 0.3) is left.
    exact = -alpha * W / np.maximum(np.linalg.norm(W, axis=0), 1e-300)
    exact[:, 1] = 0.8 * np.eye(4)[0]
    exact[:, 4] = 0.3 * np.eye(4)[1]
    assert np.isclose(L21Penalty(alpha).optimality(W, exact), 0.3)
    by_hand = np.where(
        W != 0,
        np.abs(grad + alpha * np.sign(W)),
        np.maximum(np.abs(grad) - alpha, 0),
    ).max()
    assert np.isclose(L1Penalty(alpha).optimality(W, grad), by_hand)
    # Trace norm: W = U S V^T of rank 2; -grad = alpha (U V^T + U2 A V2^T)
    # lies in the subdifferential while ||A||_2 <= 1.
    Q1, _ = np.linalg.qr(rng.standard_normal((5, 5)))
    Q2, _ = np.linalg.qr(rng.standard_normal((7, 7)))
    U, V, U2, V2 = Q1[:, :2], Q2[:, :2], Q1[:, 2:], Q2[:, 2:]
    W = U @ np.diag([3.0, 1.0]) @ V.T
    A = np.zeros((3, 5))
    A[0, 0], A[1, 1] = 0.5, 0.9
    inside = -alpha * (U @ V.T + U2 @ A @ V2.T)
    penalty = TraceNormPenalty(alpha)
    assert penalty.optimality(W, inside) <= 1e-12
    shifted = inside - 0.2 * U @ V.T
    assert np.isclose(penalty.optimality(W, shifted), 0.2 * np.sqrt(2))
    A[0, 0] = 1.5
    outside = -alpha * (U @ V.T + U2 @ A @ V2.T)
    assert np.isclose(penalty.optimality(W, outside), 0.5 * alpha)


def test_l21_block_minimize_with_unequal_curvature():
    # Catches: the block step using a mean curvature (exact only for equal a_t).
    rng = np.random.RandomState(10)
    a, b = rng.uniform(0.5, 3.0, size=6), 2.0 * rng.standard_normal(6)
    penalty = L21Penalty(0.7, alpha_l2=0.2)
    w = penalty.block_minimize(a, b)
    norm = np.linalg.norm(w)
    assert norm > 0
    np.testing.assert_allclose((a + 0.2) * w - b + 0.7 * w / norm, 0, atol=1e-12)
    assert np.all(penalty.block_minimize(a, 0.1 * b / np.linalg.norm(b)) == 0)


# -- solvers -----------------------------------------------------------------------


def test_solver_refuses_incompatible_pairs():
    X, y, task_ids, _ = _long_data(seed=11)
    with pytest.raises(ValueError, match="sum over features.*solver='apg'"):
        LowRankMultiTaskRegressor(solver="bcd").fit(X, y, task_ids=task_ids)
    yc = (y > np.median(y)).astype(int)
    with pytest.raises(ValueError, match="Gram blocks.*LogisticLoss"):
        JointFeatureMultiTaskClassifier(solver="bcd").fit(X, yc, task_ids=task_ids)


def test_apg_backtracks_from_a_loose_bound():
    # Catches: a line search that never shortens the step (it would take
    # ~100x more iterations from a bound 100x too large) or accepts a step
    # above the quadratic bound (it would diverge from a bound 100x too small
    # is not allowed: the bound caps the search).
    rng = np.random.RandomState(12)
    A = rng.standard_normal((30, 10))
    b = rng.standard_normal(30)
    lipschitz = np.linalg.norm(A, 2) ** 2
    penalty = L1Penalty(1.0)

    def value_grad(x):
        residual = A @ x - b
        return 0.5 * residual @ residual, A.T @ residual

    tight = apg(
        value_grad,
        penalty.prox,
        penalty.optimality,
        np.zeros(10),
        lipschitz=lipschitz,
        tol=1e-9,
        max_iter=10000,
    )
    loose = apg(
        value_grad,
        penalty.prox,
        penalty.optimality,
        np.zeros(10),
        lipschitz=1000 * lipschitz,
        tol=1e-9,
        max_iter=10000,
    )
    assert tight.converged and loose.converged
    np.testing.assert_allclose(loose.x, tight.x, atol=1e-8)
    assert loose.n_iter < 3 * tight.n_iter + 120


# -- the estimator surface -------------------------------------------------------


@_converges
def test_layouts_sparse_and_task_column_agree():
    # Catches: wide NaN rows kept in the loss, or sparse X centered wrongly.
    X, y, task_ids, _ = _long_data(seed=13)
    model = JointFeatureMultiTaskRegressor(alpha=2.0, tol=1e-10, max_iter=5000)
    long = model.fit(X, y, task_ids=task_ids).coef_.copy()
    dense_pred = model.predict(X, task_ids=task_ids)
    sparse_fit = model.fit(sp.csr_matrix(X), y, task_ids=task_ids)
    np.testing.assert_allclose(sparse_fit.coef_, long, atol=1e-8)
    np.testing.assert_allclose(
        sparse_fit.predict(sp.csr_matrix(X), task_ids=task_ids), dense_pred, atol=1e-8
    )
    column = np.column_stack([task_ids, X])
    with_column = JointFeatureMultiTaskRegressor(
        alpha=2.0, tol=1e-10, max_iter=5000, task_column=0
    ).fit(column, y)
    np.testing.assert_allclose(with_column.coef_, long, atol=1e-8)
    # Wide: one sample row per task row, NaN elsewhere.
    Y = np.full((y.size, 4), np.nan)
    Y[np.arange(y.size), task_ids] = y
    wide = JointFeatureMultiTaskRegressor(alpha=2.0, tol=1e-10, max_iter=5000)
    np.testing.assert_allclose(wide.fit(X, Y).coef_, long, atol=1e-8)
    assert wide.predict(X).shape == (y.size, 4)


@_converges
def test_warm_start_resumes():
    X, y, task_ids, _ = _long_data(seed=14)
    model = LowRankMultiTaskRegressor(alpha=5.0, tol=1e-8, max_iter=5000)
    cold = model.fit(X, y, task_ids=task_ids).n_iter_
    warm = model.set_params(warm_start=True).fit(X, y, task_ids=task_ids).n_iter_
    assert cold > 5 and warm <= 1


def test_not_converged_warns():
    X, y, task_ids, _ = _long_data(seed=15)
    with pytest.warns(ConvergenceWarning, match="max_iter=2"):
        LowRankMultiTaskRegressor(alpha=1.0, max_iter=2, tol=1e-12).fit(
            X, y, task_ids=task_ids
        )


@parametrize_with_checks(
    [
        JointFeatureMultiTaskRegressor(alpha=0.1),
        JointFeatureMultiTaskRegressor(alpha=0.1, solver="apg", alpha_l2=0.1),
        LowRankMultiTaskRegressor(alpha=0.1),
        JointFeatureMultiTaskClassifier(alpha=0.1),
        LowRankMultiTaskClassifier(alpha=0.1),
    ]
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


@_converges
@pytest.mark.parametrize("normalization", ["sum", "mean"])
def test_shared_design_path_equals_long_format(normalization):
    # Catches: the one-Gram shared-design path losing the sample weights, the
    # loss scale or the weighted means (the long format takes the per-task path).
    rng = np.random.RandomState(17)
    X = rng.standard_normal((50, 6)) + 1.0
    Y = X @ rng.standard_normal((6, 3)) + rng.standard_normal(3)
    weights = rng.uniform(0.5, 2.0, size=50)
    model = JointFeatureMultiTaskRegressor(
        alpha=3.0, alpha_l2=0.5, loss_normalization=normalization, tol=1e-11
    )
    alpha_max = model.fit(X, Y, sample_weight=weights).alpha_max_
    wide = model.set_params(alpha=0.5 * alpha_max).fit(X, Y, sample_weight=weights)
    coef, intercept = wide.coef_.copy(), wide.intercept_.copy()
    long = model.fit(
        np.tile(X, (3, 1)),
        Y.T.ravel(),
        task_ids=np.repeat(np.arange(3), 50),
        sample_weight=np.tile(weights, 3),
    )
    assert np.any(coef == 0) and np.any(coef != 0)
    np.testing.assert_allclose(coef, long.coef_, atol=1e-9)
    np.testing.assert_allclose(intercept, long.intercept_, atol=1e-9)
