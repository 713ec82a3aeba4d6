"""L1 / elastic-net, dirty and robust multi-task models against scikit-learn,
brute-force minimization, hand-computed optimality conditions and the models
they reduce to. Each test names the planted mistakes it was seen to catch."""

import numpy as np
import pytest
import scipy.optimize
import scipy.sparse as sp
from scipy.special import expit
from sklearn.base import clone
from sklearn.linear_model import ElasticNet, Lasso
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_mtl.linear._dirty import DirtyMultiTaskClassifier, DirtyMultiTaskRegressor
from sklearn_mtl.linear._penalties import (
    L1Penalty,
    L21Penalty,
    StackedPenalty,
    TaskGroupPenalty,
    TraceNormPenalty,
)
from sklearn_mtl.linear._robust import (
    RobustMultiTaskClassifier,
    RobustMultiTaskRegressor,
)
from sklearn_mtl.linear._sparse import (
    SparseMultiTaskClassifier,
    SparseMultiTaskRegressor,
)
from sklearn_mtl.linear._structured import (
    JointFeatureMultiTaskClassifier,
    JointFeatureMultiTaskRegressor,
    LowRankMultiTaskClassifier,
    LowRankMultiTaskRegressor,
)

# Outside the estimator checks, every fit here must reach its tolerance.
_converges = pytest.mark.filterwarnings("error::sklearn.exceptions.ConvergenceWarning")


def _long_data(n_tasks=4, n_features=6, seed=0, classify=False):
    """Unequal task sizes, a design per task, non-zero means, sample weights."""
    rng = np.random.RandomState(seed)
    sizes = rng.randint(25, 40, size=n_tasks)
    task_ids = np.repeat(np.arange(n_tasks), sizes)
    X = rng.standard_normal((task_ids.size, n_features)) + 0.3
    W = np.zeros((n_tasks, n_features))
    W[:, :2] = rng.standard_normal((n_tasks, 2))
    W[0, 4] = 2.0
    scores = (
        np.einsum("nd,nd->n", X, W[task_ids]) + rng.standard_normal(n_tasks)[task_ids]
    )
    weights = rng.uniform(0.5, 2.0, size=task_ids.size)
    if classify:
        y = (scores + rng.standard_normal(task_ids.size) > 0).astype(int)
    else:
        y = scores + 0.5 * rng.standard_normal(task_ids.size)
    return X, y, task_ids, weights


def _hand_grad(X, y, task_ids, weights, coef, intercept, classify):
    """Gradient in (W, b) of the documented "mean"-normalized data term."""
    scale = 1.0 / np.bincount(task_ids, weights=weights)
    score = np.einsum("nd,nd->n", X, coef[task_ids]) + intercept[task_ids]
    # d loss / d score: f - y for the squared loss, p - y for the logistic.
    d_score = expit(score) - y if classify else score - y
    row = weights * scale[task_ids] * d_score
    grad_w = np.stack([row[task_ids == t] @ X[task_ids == t] for t in range(len(coef))])
    return grad_w, np.bincount(task_ids, weights=row)


# -- optimality conditions by hand, one per penalty ------------------------------


def _l1_kkt(grad, W, alpha):
    return np.where(
        W != 0, np.abs(grad + alpha * np.sign(W)), np.abs(grad) - alpha
    ).max()


def _group_kkt(grad, W, alpha, axis):
    """Groups are columns (axis=0: L2,1 over features) or rows (axis=1: tasks)."""
    norms = np.linalg.norm(W, axis=axis, keepdims=True)
    on = np.linalg.norm(grad + alpha * W / np.where(norms > 0, norms, 1), axis=axis)
    off = np.linalg.norm(grad, axis=axis) - alpha
    return np.where(norms.ravel() > 0, on, off).max()


def _trace_kkt(grad, W, alpha):
    """-grad = alpha (U V^T + M), U^T M = 0, M V = 0, ||M||_2 <= 1."""
    U, s, Vt = np.linalg.svd(W, full_matrices=False)
    r = int(np.sum(s > 1e-7 * max(s[0], 1e-300)))
    U, V = U[:, :r], Vt[:r].T
    M = -grad / alpha - U @ V.T
    side = max(np.abs(U.T @ M).max(initial=0), np.abs(M @ V).max(initial=0))
    return max(alpha * side, alpha * (np.linalg.norm(M, 2) - 1.0))


# -- proximal maps against brute force ------------------------------------------

_PENALTIES = {
    "elastic_net": L1Penalty(0.6, 0.3),
    "task_group": TaskGroupPenalty(0.9, 0.2),
    "dirty": StackedPenalty(0.8, [(L21Penalty, 1.0), (L1Penalty, 0.6)], 0.1),
    "robust": StackedPenalty(0.9, [(TraceNormPenalty, 1.0), (TaskGroupPenalty, 0.7)]),
}


def _penalty_by_hand(name, W):
    """The documented value of each penalty above, independent of ``value``."""
    l1, squares = np.abs(W).sum(), np.sum(W**2)
    if name == "elastic_net":
        return 0.6 * l1 + 0.15 * squares
    if name == "task_group":
        return 0.9 * np.linalg.norm(W, axis=1).sum() + 0.1 * squares
    P, Q = W[:, : W.shape[1] // 2], W[:, W.shape[1] // 2 :]
    if name == "dirty":
        shared = np.linalg.norm(P, axis=0).sum()
        return 0.8 * (shared + 0.6 * np.abs(Q).sum()) + 0.05 * squares
    nuclear = np.linalg.svd(P, compute_uv=False).sum()
    return 0.9 * (nuclear + 0.7 * np.linalg.norm(Q, axis=1).sum())


def _powell(objective, x0):
    """Powell's method, restarted where it stops (it stalls on kinks)."""
    best = scipy.optimize.OptimizeResult(x=x0, fun=objective(x0))
    for _ in range(20):
        previous = best.fun
        best = scipy.optimize.minimize(
            objective,
            best.x,
            method="Powell",
            options={"xtol": 1e-10, "ftol": 1e-15, "maxiter": 200000},
        )
        if best.fun >= previous - 1e-15:
            break
    return best


def _burer_monteiro_prox(V, threshold):
    """argmin_A (1/2)||A - V||^2 + threshold ||A||_* through A = U W^T."""
    n, m = V.shape
    rng = np.random.RandomState(0)

    def value_grad(z):
        U, W = z[: n * n].reshape(n, n), z[n * n :].reshape(m, n)
        residual = U @ W.T - V
        value = 0.5 * np.sum(residual**2) + 0.5 * threshold * (
            np.sum(U**2) + np.sum(W**2)
        )
        grad_u = residual @ W + threshold * U
        grad_w = residual.T @ U + threshold * W
        return value, np.concatenate([grad_u.ravel(), grad_w.ravel()])

    result = scipy.optimize.minimize(
        value_grad,
        rng.standard_normal(n * n + m * n),
        jac=True,
        method="L-BFGS-B",
        options={"gtol": 1e-12, "ftol": 1e-16, "maxiter": 10000},
    )
    U, W = result.x[: n * n].reshape(n, n), result.x[n * n :].reshape(m, n)
    return U @ W.T


@pytest.mark.parametrize("name", list(_PENALTIES))
def test_prox_equals_brute_force_minimization(name):
    # Catches: a group threshold of alpha instead of step * alpha, the ridge
    # factor applied before the threshold, the second part's weight ignored
    # in the stacked prox, task groups taken over features.
    penalty = _PENALTIES[name]
    rng = np.random.RandomState(1)
    shape = (3, 6) if name in ("dirty", "robust") else (3, 4)
    V = 1.5 * rng.standard_normal(shape)
    V[1] *= 0.05  # a small task: its group (and some entries) are zeroed
    step = 0.7

    def objective(w):
        W = w.reshape(shape)
        return 0.5 * np.sum((W - V) ** 2) + step * _penalty_by_hand(name, W)

    prox = penalty.prox(V, step)
    if name == "robust":
        # The parts separate; the trace norm's kinks stall Powell's method, so
        # its part is minimized in the smooth form ||A||_* = min_{A = U V^T}
        # (||U||^2 + ||V||^2) / 2 (L-BFGS), the task groups' by Powell.
        left, right = V[:, :3], V[:, 3:]
        brute_left = _burer_monteiro_prox(left, step * 0.9)
        nuclear = np.linalg.svd(brute_left, compute_uv=False).sum()
        value = 0.5 * np.sum((brute_left - left) ** 2) + step * 0.9 * nuclear

        def outlier_objective(w):
            groups = np.linalg.norm(w.reshape(3, 3), axis=1).sum()
            return 0.5 * np.sum((w - right.ravel()) ** 2) + step * 0.9 * 0.7 * groups

        right_part = _powell(outlier_objective, right.ravel())
        brute = scipy.optimize.OptimizeResult(
            x=np.concatenate([brute_left, right_part.x.reshape(3, 3)], axis=1).ravel(),
            fun=value + right_part.fun,
        )
    else:
        brute = _powell(objective, V.ravel())
    # The objective is 1-strongly convex: a value within eps of the minimum
    # is within sqrt(2 eps) of the minimizer.
    assert objective(prox.ravel()) <= brute.fun + 1e-12
    np.testing.assert_allclose(prox.ravel(), brute.x, atol=2e-4)
    # Shrinks some entry or group to zero, so thresholds are exercised.
    assert np.any(prox == 0) and np.any(prox != 0)


@pytest.mark.parametrize("name", list(_PENALTIES))
def test_optimality_zero_at_prox_and_positive_elsewhere(name):
    # Catches an optimality measure that does not vanish at a minimizer:
    # -(P - V) / step is in the subdifferential at P = prox(V).
    penalty = _PENALTIES[name]
    rng = np.random.RandomState(2)
    shape = (3, 6) if name in ("dirty", "robust") else (3, 4)
    V = 1.5 * rng.standard_normal(shape)
    V[1] *= 0.05
    P = penalty.prox(V, 0.7)
    assert penalty.optimality(P, (P - V) / 0.7) <= 1e-10
    assert penalty.optimality(V, (P - V) / 0.7) > 1e-3


def test_task_group_optimality_and_dual_norm_by_hand():
    # Catches: a zero task's violation without subtracting alpha, groups over
    # features instead of tasks, the dual norm as a Frobenius norm.
    rng = np.random.RandomState(3)
    W = rng.standard_normal((4, 5))
    W[[1, 3]] = 0.0
    grad = 0.4 * rng.standard_normal((4, 5))
    penalty = TaskGroupPenalty(0.5)
    assert np.isclose(penalty.optimality(W, grad), max(_group_kkt(grad, W, 0.5, 1), 0))
    assert np.isclose(penalty.dual_norm(grad), np.linalg.norm(grad, axis=1).max())
    # Multiclass (T, d, m): a task's group holds all its classes.
    W3 = rng.standard_normal((3, 4, 2))
    assert np.isclose(
        TaskGroupPenalty(1.0).value(W3), np.linalg.norm(W3.reshape(3, -1), axis=1).sum()
    )


def test_stacked_dual_norm_is_max_of_weighted_parts():
    # Catches: alpha_max of a two-part model as the first part's alone, or
    # the second part's dual norm multiplied (not divided) by its weight.
    rng = np.random.RandomState(4)
    G = rng.standard_normal((5, 3))
    stacked = np.concatenate([G, G], axis=1)
    dirty = StackedPenalty(1.0, [(L21Penalty, 1.0), (L1Penalty, 0.3)])
    expected = max(np.linalg.norm(G, axis=0).max(), np.abs(G).max() / 0.3)
    assert np.isclose(dirty.dual_norm(stacked), expected)
    assert np.abs(G).max() / 0.3 > np.linalg.norm(G, axis=0).max()
    robust = StackedPenalty(0.0, [(TraceNormPenalty, 1.0), (TaskGroupPenalty, 0.9)])
    expected = max(np.linalg.norm(G, 2), np.linalg.norm(G, axis=1).max() / 0.9)
    assert np.isclose(robust.dual_norm(stacked), expected)


# -- L1 / elastic net against scikit-learn ---------------------------------------


@_converges
@pytest.mark.parametrize("solver", ["bcd", "apg"])
@pytest.mark.parametrize("l1_ratio", [1.0, 0.6])
def test_sparse_equals_per_task_elastic_net(solver, l1_ratio):
    # Catches: sample weights dropped, "mean" normalization by counts instead
    # of weight sums, the ridge term not halved, an L1 threshold off.
    X, y, task_ids, weights = _long_data(seed=5)
    a = 0.05
    model = SparseMultiTaskRegressor(
        alpha=a * l1_ratio,
        alpha_l2=a * (1 - l1_ratio),
        loss_normalization="mean",
        solver=solver,
        tol=1e-12,
        max_iter=50000,
    ).fit(X, y, task_ids=task_ids, sample_weight=weights)
    for t in range(4):
        rows = task_ids == t
        Reference = Lasso if l1_ratio == 1 else ElasticNet
        kwargs = {} if l1_ratio == 1 else {"l1_ratio": l1_ratio}
        ref = Reference(alpha=a, tol=1e-14, max_iter=100000, **kwargs)
        ref.fit(X[rows], y[rows], sample_weight=weights[rows])
        assert 0 < np.count_nonzero(ref.coef_) < 6
        np.testing.assert_allclose(model.coef_[t], ref.coef_, atol=1e-8)
        np.testing.assert_allclose(model.intercept_[t], ref.intercept_, atol=1e-8)


# -- optimality at the fitted solution, every (loss, penalty) pair --------------

_PAIRS = [
    (SparseMultiTaskRegressor, {"alpha": 0.05, "alpha_l2": 0.02}),
    (SparseMultiTaskClassifier, {"alpha": 0.02, "alpha_l2": 0.01}),
    (DirtyMultiTaskRegressor, {"alpha": 0.1, "specific_ratio": 0.7, "alpha_l2": 0.02}),
    (DirtyMultiTaskClassifier, {"alpha": 0.03, "specific_ratio": 0.7}),
    (RobustMultiTaskRegressor, {"alpha": 0.1, "outlier_ratio": 0.7}),
    (RobustMultiTaskClassifier, {"alpha": 0.03, "outlier_ratio": 0.7}),
]


@_converges
@pytest.mark.parametrize(
    "Estimator, params", _PAIRS, ids=[E.__name__ for E, _ in _PAIRS]
)
def test_fitted_solution_is_optimal(Estimator, params):
    # Catches: the gradient of one part not the loss's gradient at the sum
    # (a part left out of the sum), sample weights dropped, the Lipschitz
    # bound not doubled for two parts (backtracking would hide it, so the
    # check is the hand KKT), and either part's prox threshold off.
    classify = "Classifier" in Estimator.__name__
    X, y, task_ids, weights = _long_data(seed=6, classify=classify)
    model = Estimator(loss_normalization="mean", tol=1e-9, max_iter=20000, **params)
    model.fit(X, y, task_ids=task_ids, sample_weight=weights)
    grad, grad_b = _hand_grad(
        X, y, task_ids, weights, model.coef_, model.intercept_, classify
    )
    tol = 1e-7 * model.alpha_max_
    assert np.abs(grad_b).max() <= tol
    alpha = params["alpha"]
    if "Sparse" in Estimator.__name__:
        grad = grad + params["alpha_l2"] * model.coef_
        assert _l1_kkt(grad, model.coef_, alpha) <= tol
        assert np.any(model.coef_ == 0) and np.any(model.coef_ != 0)
    elif "Dirty" in Estimator.__name__:
        P, Q = model.coef_shared_, model.coef_specific_
        np.testing.assert_allclose(P + Q, model.coef_, atol=1e-14)
        # The ridge term is on each part.
        ridge = params.get("alpha_l2", 0.0)
        assert _group_kkt(grad + ridge * P, P, alpha, axis=0) <= tol
        assert _l1_kkt(grad + ridge * Q, Q, alpha * params["specific_ratio"]) <= tol
        assert np.any(np.linalg.norm(P, axis=0) > 0) and np.any(Q != 0)
    else:
        L, S = model.coef_low_rank_, model.coef_outlier_
        np.testing.assert_allclose(L + S, model.coef_, atol=1e-14)
        assert _trace_kkt(grad, L, alpha) <= 10 * tol
        assert _group_kkt(grad, S, alpha * params["outlier_ratio"], axis=1) <= tol
        assert np.linalg.norm(L) > 0


# -- reductions to the one-part models ---------------------------------------------


def _reduction_fits(classify):
    X, y, task_ids, weights = _long_data(seed=7, classify=classify)
    common = {"loss_normalization": "mean", "tol": 1e-10, "max_iter": 50000}
    alpha = 0.03 if classify else 0.1
    return X, y, task_ids, weights, common, alpha


@_converges
@pytest.mark.parametrize("classify", [False, True])
def test_dirty_reduces_to_joint_feature_and_to_sparse(classify):
    # Catches: the parts' penalties swapped (L1 on the shared part), the
    # ratio applied to the first part instead of the second.
    X, y, task_ids, weights, common, alpha = _reduction_fits(classify)
    Dirty = DirtyMultiTaskClassifier if classify else DirtyMultiTaskRegressor
    Joint = (
        JointFeatureMultiTaskClassifier if classify else JointFeatureMultiTaskRegressor
    )
    Sparse = SparseMultiTaskClassifier if classify else SparseMultiTaskRegressor
    fit = {"task_ids": task_ids, "sample_weight": weights}
    # specific_ratio >= 1: the L1 part never pays off, Q = 0.
    dirty = Dirty(alpha=alpha, specific_ratio=2.0, **common).fit(X, y, **fit)
    joint = Joint(alpha=alpha, **common).fit(X, y, **fit)
    assert not np.any(dirty.coef_specific_)
    np.testing.assert_allclose(dirty.coef_, joint.coef_, atol=1e-6)
    np.testing.assert_allclose(dirty.intercept_, joint.intercept_, atol=1e-6)
    # specific_ratio <= 1 / sqrt(T): the L2,1 part never pays off, P = 0.
    ratio = 0.4
    dirty = Dirty(alpha=alpha / ratio, specific_ratio=ratio, **common).fit(X, y, **fit)
    sparse = Sparse(alpha=alpha, **common).fit(X, y, **fit)
    assert not np.any(dirty.coef_shared_)
    np.testing.assert_allclose(dirty.coef_, sparse.coef_, atol=1e-6)
    assert 0 < np.count_nonzero(sparse.coef_) < sparse.coef_.size


@_converges
@pytest.mark.parametrize("classify", [False, True])
def test_robust_reduces_to_low_rank(classify):
    # Catches: the outlier part not penalized, or grouped over features.
    X, y, task_ids, weights, common, alpha = _reduction_fits(classify)
    Robust = RobustMultiTaskClassifier if classify else RobustMultiTaskRegressor
    LowRank = LowRankMultiTaskClassifier if classify else LowRankMultiTaskRegressor
    fit = {"task_ids": task_ids, "sample_weight": weights}
    alpha *= 3  # strong enough for a rank below n_tasks
    robust = Robust(alpha=alpha, outlier_ratio=1.5, **common).fit(X, y, **fit)
    low_rank = LowRank(alpha=alpha, **common).fit(X, y, **fit)
    assert not np.any(robust.coef_outlier_) and robust.outlier_tasks_.size == 0
    np.testing.assert_allclose(robust.coef_, low_rank.coef_, atol=1e-6)
    assert np.linalg.matrix_rank(low_rank.coef_, tol=1e-6) < 4


# -- alpha_max ---------------------------------------------------------------------


@_converges
@pytest.mark.parametrize(
    "Estimator, ratio",
    [(DirtyMultiTaskRegressor, 0.6), (RobustMultiTaskClassifier, 0.5)],
)
def test_two_part_alpha_max_by_hand(Estimator, ratio):
    # Catches: alpha_max from the first part only, the ratio multiplied
    # instead of divided, the gradient taken at zero intercepts.
    classify = "Classifier" in Estimator.__name__
    X, y, task_ids, weights = _long_data(seed=8, classify=classify)
    name = "specific_ratio" if "Dirty" in Estimator.__name__ else "outlier_ratio"
    common = {"loss_normalization": "mean", "tol": 1e-9, "max_iter": 20000, name: ratio}
    fit = {"task_ids": task_ids, "sample_weight": weights}
    model = Estimator(**common).fit(X, y, **fit)
    intercept = np.array(
        [np.average(y[task_ids == t], weights=weights[task_ids == t]) for t in range(4)]
    )
    if classify:
        intercept = np.log(intercept / (1 - intercept))
    G, _ = _hand_grad(X, y, task_ids, weights, np.zeros((4, 6)), intercept, classify)
    if "Dirty" in Estimator.__name__:
        first, second = np.linalg.norm(G, axis=0).max(), np.abs(G).max()
    else:
        first, second = np.linalg.norm(G, 2), np.linalg.norm(G, axis=1).max()
    np.testing.assert_allclose(model.alpha_max_, max(first, second / ratio), rtol=1e-9)
    # Where the two bounds differ, the other part would still be zero.
    assert not np.isclose(first, second / ratio, rtol=0.02)
    above = Estimator(alpha=model.alpha_max_ * (1 + 1e-6), **common).fit(X, y, **fit)
    assert not np.any(above.coef_)
    below = Estimator(alpha=model.alpha_max_ * 0.95, **common).fit(X, y, **fit)
    assert np.any(below.coef_)


# -- structure recovered ---------------------------------------------------------


@_converges
def test_dirty_recovers_shared_and_specific_support():
    # Catches: parts swapped in coef_shared_ / coef_specific_; an L1 prox that
    # does not threshold (everything lands in Q).
    rng = np.random.RandomState(10)
    n_tasks, n_features = 8, 15
    task_ids = np.repeat(np.arange(n_tasks), 60)
    X = rng.standard_normal((task_ids.size, n_features))
    W = np.zeros((n_tasks, n_features))
    W[:, :3] = rng.uniform(1.0, 2.0, size=(n_tasks, 3)) * rng.choice([-1, 1], 3)
    specific = [(0, 8), (3, 11), (5, 13)]
    for t, j in specific:
        W[t, j] = 2.5
    y = np.einsum("nd,nd->n", X, W[task_ids]) + 0.3 * rng.standard_normal(task_ids.size)
    model = DirtyMultiTaskRegressor(
        alpha=0.3, specific_ratio=0.6, loss_normalization="mean", tol=1e-7
    ).fit(X, y, task_ids=task_ids)
    shared = np.flatnonzero(np.linalg.norm(model.coef_shared_, axis=0))
    assert shared.tolist() == [0, 1, 2]
    assert sorted(map(tuple, np.argwhere(model.coef_specific_).tolist())) == specific
    np.testing.assert_allclose(model.coef_, W, atol=0.35)


@_converges
def test_robust_flags_outlier_tasks():
    # Catches: outlier groups over features (columns) instead of tasks, the
    # trace-norm part unpenalized (a full-rank L absorbs the outliers).
    rng = np.random.RandomState(11)
    n_tasks, n_features = 12, 8
    task_ids = np.repeat(np.arange(n_tasks), 40)
    X = rng.standard_normal((task_ids.size, n_features))
    # Rank two, every task of norm 2; two tasks off the subspace.
    A = rng.standard_normal((n_tasks, 2))
    A *= 2.0 / np.linalg.norm(A, axis=1, keepdims=True)
    W = A @ np.linalg.qr(rng.standard_normal((n_features, 2)))[0].T
    W[[4, 9]] = 1.5 * rng.standard_normal((2, n_features))
    y = np.einsum("nd,nd->n", X, W[task_ids]) + 0.3 * rng.standard_normal(task_ids.size)
    labels = np.array([f"task{t:02d}" for t in range(n_tasks)])[task_ids]
    model = RobustMultiTaskRegressor(
        alpha=0.5, outlier_ratio=0.7, loss_normalization="mean", tol=1e-7
    ).fit(X, y, task_ids=labels)
    assert model.outlier_tasks_.tolist() == ["task04", "task09"]
    assert np.linalg.matrix_rank(model.coef_low_rank_, tol=1e-6) == 2


# -- task layouts, sparse X, warm start, multiclass ---------------------------------


@_converges
@pytest.mark.parametrize(
    "Estimator, params",
    [
        (SparseMultiTaskRegressor, {"alpha": 2.0}),
        (DirtyMultiTaskRegressor, {"alpha": 4.0}),
        (RobustMultiTaskRegressor, {"alpha": 4.0}),
    ],
)
def test_layouts_and_sparse_x_agree(Estimator, params):
    # Catches: wide NaN rows kept in the loss, a sparse X densified or
    # centered wrongly, the task column left among the features.
    X, y, task_ids, _ = _long_data(seed=12)
    common = {"tol": 1e-10, "max_iter": 20000, **params}
    long = Estimator(**common).fit(X, y, task_ids=task_ids)
    sparse = Estimator(**common).fit(sp.csr_matrix(X), y, task_ids=task_ids)
    np.testing.assert_allclose(sparse.coef_, long.coef_, atol=1e-7)
    np.testing.assert_allclose(
        sparse.predict(sp.csr_matrix(X), task_ids=task_ids),
        long.predict(X, task_ids=task_ids),
        atol=1e-7,
    )
    column = Estimator(task_column=0, **common).fit(np.column_stack([task_ids, X]), y)
    np.testing.assert_allclose(column.coef_, long.coef_, atol=1e-7)
    Y = np.full((y.size, 4), np.nan)
    Y[np.arange(y.size), task_ids] = y
    wide = Estimator(**common).fit(X, Y)
    np.testing.assert_allclose(wide.coef_, long.coef_, atol=1e-7)
    assert wide.predict(X).shape == (y.size, 4)


@_converges
@pytest.mark.parametrize(
    "Estimator", [DirtyMultiTaskRegressor, RobustMultiTaskClassifier]
)
def test_warm_start_resumes_from_the_parts(Estimator):
    # Catches: warm start packing coef_ into both parts (the restart is then
    # not the previous solution and needs many iterations).
    classify = "Classifier" in Estimator.__name__
    X, y, task_ids, _ = _long_data(seed=13, classify=classify)
    model = Estimator(alpha=0.5 if classify else 3.0, tol=1e-8, max_iter=20000)
    cold = model.fit(X, y, task_ids=task_ids).n_iter_
    warm = model.set_params(warm_start=True).fit(X, y, task_ids=task_ids).n_iter_
    assert cold > 5 and warm <= 1


@_converges
@pytest.mark.parametrize(
    "Estimator", [DirtyMultiTaskClassifier, RobustMultiTaskClassifier]
)
def test_multiclass_parts(Estimator):
    rng = np.random.RandomState(14)
    X = rng.standard_normal((150, 4))
    task_ids = np.repeat([0, 1, 2], 50)
    y = np.argmax(X[:, :3] + 0.3 * rng.standard_normal((150, 3)), axis=1)
    y[(task_ids == 2) & (y == 2)] = 1  # task 2 sees two of the three classes
    model = Estimator(alpha=0.5, tol=1e-8, max_iter=20000).fit(X, y, task_ids=task_ids)
    parts = [getattr(model, name) for name in Estimator._part_names]
    assert model.coef_.shape == (3, 3, 4) == parts[0].shape == parts[1].shape
    np.testing.assert_allclose(parts[0] + parts[1], model.coef_, atol=1e-14)
    proba = model.predict_proba(X, task_ids=task_ids)
    assert np.all(proba[task_ids == 2, 2] == 0)


@_converges
def test_path_fits_carry_the_parts():
    # Catches: the path hook solving the unwrapped loss (one part only), or
    # its fitted copies without coef_shared_ / coef_specific_ (what the
    # ...CV estimators refit and expose).
    from sklearn_mtl.linear._path import path_problem

    X, y, task_ids, weights = _long_data(seed=16)
    model = DirtyMultiTaskRegressor(specific_ratio=0.7, tol=1e-10, max_iter=20000)
    problem = path_problem(model, X, y, task_ids, weights)
    for fraction in (0.5, 0.1):
        alpha = fraction * problem.alpha_max
        on_path = problem.fit(alpha)
        cold = clone(model).set_params(alpha=alpha)
        cold.fit(X, y, task_ids=task_ids, sample_weight=weights)
        assert on_path.alpha_max_ == cold.alpha_max_
        for name in ("coef_", "coef_shared_", "coef_specific_", "intercept_"):
            np.testing.assert_allclose(
                getattr(on_path, name), getattr(cold, name), atol=1e-7
            )


def test_bcd_refused_for_two_part_models():
    X, y, task_ids, _ = _long_data(seed=15)
    with pytest.raises(ValueError, match="solver"):
        DirtyMultiTaskRegressor(solver="bcd").fit(X, y, task_ids=task_ids)


# -- scikit-learn compatibility ----------------------------------------------------


@parametrize_with_checks(
    [
        # Strong enough that the checks' separable classification data give
        # bounded coefficients (no probability ties); max_iter keeps the
        # unscaled iris fits short (accuracy is tested above, not here).
        SparseMultiTaskRegressor(alpha=0.1, max_iter=200),
        SparseMultiTaskClassifier(alpha=1.0, max_iter=200),
        DirtyMultiTaskRegressor(alpha=0.1, max_iter=200),
        DirtyMultiTaskClassifier(alpha=1.0, max_iter=200),
        RobustMultiTaskRegressor(alpha=0.1, max_iter=200),
        RobustMultiTaskClassifier(alpha=1.0, max_iter=200),
    ]
)
def test_sklearn_compatible(estimator, check):
    check(estimator)
