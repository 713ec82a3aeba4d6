"""The fast paths of the shared-design solver (a complete wide ``y``).

``check_fit_data(..., shared_design=True)`` hands back ``X`` and the (n, T)
target without per-row arrays; the solver centers by a rank-one correction
(unless the offsets are large) and builds only the Gram columns its working
set needs. Every path is checked against the general one it replaces. Each
test names the planted mistake it was seen to catch.
"""

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import MultiTaskLasso

import sklearn_mtl.linear._working_set as working_set
from sklearn_mtl._tasks import SharedDesignData, TaskData, check_fit_data
from sklearn_mtl.linear._path import multitask_path
from sklearn_mtl.linear._sparse import SparseMultiTaskRegressor
from sklearn_mtl.linear._structured import (
    JointFeatureMultiTaskRegressor,
    LowRankMultiTaskRegressor,
)
from sklearn_mtl.linear._working_set import (
    WorkingSetPath,
    _GramColumns,
    columns_have_small_offsets,
    small_offsets,
)

_converges = pytest.mark.filterwarnings("error::sklearn.exceptions.ConvergenceWarning")
TIGHT = {"tol": 1e-12, "max_iter": 100000}


def _shared(n=80, d=6, T=3, seed=0, x_offset=0.0, y_offset=0.0, n_support=2):
    rng = np.random.RandomState(seed)
    X = rng.standard_normal((n, d)) * rng.uniform(0.5, 2.0, size=d) + x_offset
    W = np.zeros((T, d))
    W[:, :n_support] = rng.standard_normal((T, n_support))
    Y = X @ W.T + rng.standard_normal((n, T)) + y_offset
    return X, Y


def _centered_objective(X, Y, coef, intercept, alpha, c):
    residual = Y - X @ coef.T - intercept
    return 0.5 * c * np.vdot(residual, residual) + alpha * np.sum(
        np.linalg.norm(coef, axis=0)
    )


# -- check_fit_data(shared_design=True) -----------------------------------------


def test_shared_design_data_rows_equal_the_default_task_data():
    # Catches: rows() ordered sample by sample instead of task by task, a
    # wrong X_column_sums (e.g. means), tasks_ not set by the fast path.
    X, Y = _shared(n=9, d=3, T=4)
    fast_model, slow_model = (
        JointFeatureMultiTaskRegressor(),
        JointFeatureMultiTaskRegressor(),
    )
    fast = check_fit_data(fast_model, X, Y, shared_design=True)
    slow = check_fit_data(slow_model, X, Y)
    assert isinstance(fast, SharedDesignData) and isinstance(slow, TaskData)
    np.testing.assert_array_equal(fast.Y, Y)
    np.testing.assert_allclose(fast.X_column_sums, X.sum(axis=0), rtol=1e-14)
    rows = fast.rows()
    for field in ("task_index", "sample_index", "y"):
        np.testing.assert_array_equal(getattr(rows, field), getattr(slow, field))
    assert rows.task_index.dtype == slow.task_index.dtype
    assert (rows.n_tasks, rows.wide, rows.sample_weight) == (4, True, None)
    np.testing.assert_array_equal(fast_model.tasks_, slow_model.tasks_)
    assert fast_model.task_format_ == slow_model.task_format_ == "wide"
    assert fast_model.n_features_in_ == 3


@pytest.mark.parametrize(
    "case",
    ["nan_label", "weights", "one_d", "task_ids", "classifier", "too_few"],
)
def test_shared_design_falls_back_to_rows(case):
    # Catches: the fast path taken for a target with a missing label (the
    # finiteness test dropped), with sample weights, or for a classifier.
    X, Y = _shared(n=12, d=3, T=2)
    kwargs = {"shared_design": True}
    y, task_ids, weights = Y, None, None
    if case == "nan_label":
        y = Y.copy()
        y[3, 1] = np.nan
    elif case == "weights":
        weights = np.ones(12)
    elif case == "one_d":
        y = Y[:, 0]
    elif case == "task_ids":
        y, task_ids = Y[:, 0], np.repeat([0, 1], 6)
    elif case == "classifier":
        y = (Y > 0).astype(int)
        kwargs["classifier"] = True
    else:
        kwargs["min_samples_per_task"] = 13
        with pytest.raises(ValueError, match="at least 13 are required"):
            check_fit_data(JointFeatureMultiTaskRegressor(), X, y, **kwargs)
        return
    data = check_fit_data(
        JointFeatureMultiTaskRegressor(), X, y, task_ids, weights, **kwargs
    )
    assert isinstance(data, TaskData)


@pytest.mark.parametrize(
    "bad",
    ["X_nan", "X_inf", "y_inf", "y_strings", "y_complex", "y_none"],
)
def test_shared_design_keeps_every_error_message(bad):
    # Catches: the column-sum finiteness test letting NaN/inf in X through, or
    # an error raised by the fast path instead of the general one.
    X, Y = _shared(n=10, d=3, T=2)
    X, Y = X.copy(), Y.astype(object if bad == "y_none" else float)
    if bad == "X_nan":
        X[2, 1] = np.nan
    elif bad == "X_inf":
        X[4, 0] = -np.inf
    elif bad == "y_inf":
        Y[1, 1] = np.inf
    elif bad == "y_strings":
        Y = Y.astype(str)
        Y[0, 0] = "a"
    elif bad == "y_complex":
        Y = Y + 1j
    else:
        Y[0, 0] = None
        Y[1, 1] = "x"
    messages = []
    for shared in (False, True):
        with pytest.raises((ValueError, TypeError)) as info:
            check_fit_data(JointFeatureMultiTaskRegressor(), X, Y, shared_design=shared)
        messages.append((type(info.value), str(info.value)))
    assert messages[0] == messages[1]


def test_shared_design_treats_a_none_label_as_missing():
    # Catches: an object y with None taken as complete (check_array makes it NaN).
    X, Y = _shared(n=10, d=3, T=2)
    Y = Y.astype(object)
    Y[0, 0] = None
    data = check_fit_data(JointFeatureMultiTaskRegressor(), X, Y, shared_design=True)
    assert isinstance(data, TaskData) and data.n_rows == 19


# -- the fitted model: fast path against the general one ------------------------


@_converges
@pytest.mark.parametrize(
    "Estimator, extra",
    [
        (JointFeatureMultiTaskRegressor, {}),
        (JointFeatureMultiTaskRegressor, {"alpha_l2": 0.3}),
        (SparseMultiTaskRegressor, {}),
    ],
)
@pytest.mark.parametrize("normalization", ["sum", "mean"])
def test_complete_wide_fit_equals_long_format_fit(Estimator, extra, normalization):
    # Catches: the loss scale c or an offset target handled wrongly by the fast
    # path (the long format takes the per-task Gram blocks of every row).
    X, Y = _shared(n=60, d=7, T=3, seed=1, x_offset=0.7, y_offset=-2.0)
    model = Estimator(loss_normalization=normalization, **extra, **TIGHT)
    alpha_max = model.fit(X, Y).alpha_max_
    wide = model.set_params(alpha=0.3 * alpha_max).fit(X, Y)
    coef, intercept = wide.coef_.copy(), wide.intercept_.copy()
    long = model.fit(np.tile(X, (3, 1)), Y.T.ravel(), task_ids=np.repeat([0, 1, 2], 60))
    assert np.any(coef == 0) and np.any(coef != 0)
    np.testing.assert_allclose(long.alpha_max_, alpha_max, rtol=1e-12)
    np.testing.assert_allclose(coef, long.coef_, atol=1e-10)
    np.testing.assert_allclose(intercept, long.intercept_, atol=1e-10)
    # Unit sample weights take the general row path on the same wide data.
    weighted = model.fit(X, Y, sample_weight=np.ones(60))
    np.testing.assert_allclose(coef, weighted.coef_, atol=1e-10)


@_converges
@pytest.mark.parametrize("solver", ["apg", "auto"])
def test_models_without_the_working_set_get_rows(solver):
    # Catches: a SharedDesignData handed to the general loss (no task_index).
    X, Y = _shared(n=50, d=5, T=3, seed=2)
    Estimator = (
        LowRankMultiTaskRegressor
        if solver == "auto"
        else (JointFeatureMultiTaskRegressor)
    )
    wide = Estimator(alpha=2.0, solver=solver, **TIGHT).fit(X, Y)
    long = Estimator(alpha=2.0, solver=solver, **TIGHT).fit(
        np.tile(X, (3, 1)), Y.T.ravel(), task_ids=np.repeat([0, 1, 2], 50)
    )
    np.testing.assert_allclose(wide.coef_, long.coef_, atol=1e-8)


# -- centering by a rank-one correction -----------------------------------------


def test_small_offsets_by_hand():
    # Catches: the test on mean^2 against var (not the mean square), or the
    # inequality turned around.
    k = working_set.MAX_OFFSET
    mean = np.array([0.0, 1.0, k, k, -3.0, 2.0])
    var = np.array([1.0, 1.0, 1.0 + 1e-9, 1.0 - 1e-6, 0.0, 0.0])
    expected = [True, True, True, False, False, False]
    for m, v, e in zip(mean, var, expected):
        assert small_offsets(np.array([v + m**2]), np.array([m])) is e
    assert small_offsets(np.array([0.0]), np.array([0.0]))  # an all-zero column
    assert not small_offsets(np.array([1.0, 4.0]), np.array([0.0, 2.0]))


def test_offsets_read_from_the_first_rows_equal_the_exact_test():
    # Catches: the first rows' mean square taken for the whole column's (it
    # is not a lower bound: below, the first rows spread, the rest do not).
    rng = np.random.RandomState(8)
    n = 400
    for ratio in [0.0, 1.0, 5.0, 9.9, 10.1, 30.0]:
        A = rng.standard_normal((n, 3)) + ratio
        means = A.mean(axis=0)
        exact = small_offsets((A**2).mean(axis=0), means)
        assert columns_have_small_offsets(A, means) is exact
    column = np.full(n, 1e3)
    column[: n // 8] += 200.0 * np.where(np.arange(n // 8) % 2, 1.0, -1.0)
    A = column[:, None]
    means = A.mean(axis=0)
    assert not small_offsets((A**2).mean(axis=0), means)
    assert not columns_have_small_offsets(A, means)
    constant_head = np.r_[np.zeros(n // 2), rng.standard_normal(n // 2)][:, None]
    assert columns_have_small_offsets(constant_head, constant_head.mean(axis=0))


def _force_offset_limit(monkeypatch, limit):
    monkeypatch.setattr(working_set, "MAX_OFFSET", limit)


@_converges
@pytest.mark.parametrize("offset", ["x", "y", "both"])
def test_rank_one_centering_equals_the_centered_copy(monkeypatch, offset):
    # Catches: the correction n m m^T with n - 1 or without the factor n,
    # m (1^T Y) left out of X^T Y, the intercept from uncorrected means.
    X, Y = _shared(
        n=70,
        d=6,
        T=3,
        seed=3,
        x_offset=4.0 if offset != "y" else 0.0,
        y_offset=6.0 if offset != "x" else 0.0,
    )
    model = JointFeatureMultiTaskRegressor(alpha=5.0, **TIGHT)
    data = check_fit_data(model, X, Y, shared_design=True)
    assert small_offsets((X**2).mean(axis=0), X.mean(axis=0))
    rank_one = WorkingSetPath(model, data)
    fitted = model.fit(X, Y)
    _force_offset_limit(monkeypatch, 0.0)  # every offset counts as large
    copy = WorkingSetPath(model, data)
    np.testing.assert_allclose(rank_one._gram.matrix, copy._gram.matrix, atol=1e-10)
    np.testing.assert_allclose(rank_one._rhs, copy._rhs, rtol=1e-12, atol=1e-10)
    Xc, Yc = X - X.mean(axis=0), Y - Y.mean(axis=0)
    np.testing.assert_allclose(copy._gram.matrix, Xc.T @ Xc, rtol=1e-12)
    np.testing.assert_allclose(copy._rhs, (Xc.T @ Yc).T, rtol=1e-12, atol=1e-10)
    by_copy = JointFeatureMultiTaskRegressor(alpha=5.0, **TIGHT).fit(X, Y)
    np.testing.assert_allclose(fitted.coef_, by_copy.coef_, atol=1e-10)
    np.testing.assert_allclose(fitted.intercept_, by_copy.intercept_, atol=1e-10)
    assert np.count_nonzero(np.linalg.norm(fitted.coef_, axis=0)) >= 2


@_converges
def test_large_offsets_take_the_centered_copy(monkeypatch):
    # Catches: the guard on the offsets dropped or turned around: on a column
    # with mean 1e7 times its spread the rank-one correction cancels ~14 of
    # 16 digits of the Gram matrix.
    X, Y = _shared(n=200, d=5, T=3, seed=4)
    X[:, 2] = 1e7 + 0.3 * X[:, 2]
    Y = Y + 1e9
    Xc, Yc = X - X.mean(axis=0), Y - Y.mean(axis=0)
    alpha = 0.2 * np.linalg.norm(Xc.T @ Yc, axis=1).max()
    guarded = JointFeatureMultiTaskRegressor(alpha=alpha, **TIGHT).fit(X, Y)
    reference = JointFeatureMultiTaskRegressor(alpha=alpha, **TIGHT).fit(Xc, Yc)
    np.testing.assert_allclose(guarded.coef_, reference.coef_, rtol=1e-7, atol=1e-9)
    assert np.all(np.linalg.norm(guarded.coef_, axis=0)[[0, 1]] > 0)
    # Without the guard the Gram matrix is visibly wrong.
    _force_offset_limit(monkeypatch, np.inf)
    data = check_fit_data(guarded, X, Y, shared_design=True)
    unguarded = WorkingSetPath(guarded, data)
    error = np.abs(unguarded._gram.matrix[2, 2] - Xc[:, 2] @ Xc[:, 2])
    assert error > 1e-6 * (Xc[:, 2] @ Xc[:, 2])


def test_large_target_offsets_center_the_target(monkeypatch):
    # Catches: the target's offset guard dropped: X^T Y - m (1^T Y) then
    # cancels the digits of a target offset 1e8 times its spread.
    rng = np.random.RandomState(4)
    X = rng.standard_normal((200, 5)) + 0.5
    Y = X[:, :2] @ rng.standard_normal((2, 3)) + rng.standard_normal((200, 3)) + 1e8
    expected = ((X - X.mean(axis=0)).T @ (Y - Y.mean(axis=0))).T
    model = JointFeatureMultiTaskRegressor(alpha=1.0)
    data = check_fit_data(model, X, Y, shared_design=True)
    errors = []
    for limit in (working_set.MAX_OFFSET, np.inf):
        _force_offset_limit(monkeypatch, limit)
        rhs = WorkingSetPath(model, data)._rhs
        errors.append(np.abs(rhs - expected).max() / np.abs(expected).max())
    assert errors[0] < 1e-12 < 1e-9 < errors[1]


# -- Gram columns on demand ----------------------------------------------------


def test_gram_columns_by_hand():
    # Catches: a block stored in the columns only (its rows left zero), the
    # correction with the shifts of the wrong features, the scale c dropped.
    rng = np.random.RandomState(5)
    X = rng.standard_normal((40, 9)) + rng.uniform(-2, 2, size=9)
    mean = X.mean(axis=0)
    Xc = X - mean
    gram = _GramColumns(X, mean, c=0.25)
    gram.fill(np.array([7, 2]))
    gram.fill(np.array([2, 4]))
    known = np.array([2, 4, 7])
    assert np.flatnonzero(gram.known).tolist() == known.tolist()
    expected = 0.25 * Xc.T @ Xc
    np.testing.assert_allclose(gram.matrix[:, known], expected[:, known], atol=1e-12)
    np.testing.assert_allclose(gram.matrix[known, :], expected[known, :], atol=1e-12)
    np.testing.assert_array_equal(gram.matrix, gram.matrix.T)
    gram.fill(np.arange(5))  # past half of the features: the whole matrix
    assert gram.known.all()
    np.testing.assert_allclose(gram.matrix, expected, atol=1e-12)
    np.testing.assert_array_equal(gram.matrix, gram.matrix.T)


def _suppressor_data(n=300, d=70, T=4, seed=6):
    """y depends on x0 - x1, where x1 = b alone is uncorrelated with y.

    At W = 0 only x0 = a + b violates its condition; once x0 is in, its
    nuisance part b makes x1 violate: the working set has to grow.
    """
    rng = np.random.RandomState(seed)
    a, b = rng.standard_normal(n), rng.standard_normal(n)
    X = 0.3 * rng.standard_normal((n, d))
    X[:, 0], X[:, 1] = a + b, b
    Y = np.outer(a, rng.uniform(1.0, 2.0, size=T)) + 0.1 * rng.standard_normal((n, T))
    return X, Y


@_converges
@pytest.mark.parametrize(
    "Estimator", [JointFeatureMultiTaskRegressor, SparseMultiTaskRegressor]
)
@pytest.mark.parametrize("alpha_l2", [0.0, 0.3])
def test_lazy_gram_columns_equal_the_whole_gram(monkeypatch, Estimator, alpha_l2):
    # Catches: a working set that never grows past the features violating at
    # W = 0 (x1 is then left at zero), the gradient from the working set's
    # columns only, max_iter not shared between the rounds.
    X, Y = _suppressor_data()
    fills = []
    fill = _GramColumns.fill

    def counting_fill(self, features):
        before = np.count_nonzero(self.known)
        fill(self, features)
        fills.append((before, np.count_nonzero(self.known)))

    monkeypatch.setattr(_GramColumns, "fill", counting_fill)
    model = Estimator(alpha=1.0, alpha_l2=alpha_l2, loss_normalization="mean", **TIGHT)
    alpha = 0.1 * model.fit(X, Y).alpha_max_
    lazy = model.set_params(alpha=alpha).fit(X, Y)
    grown = [f for f in fills if f[1] > f[0]]
    assert len(grown) >= 2 and grown[-1][1] < X.shape[1]
    norms = np.linalg.norm(lazy.coef_, axis=0)
    assert norms[0] > 0 and norms[1] > 0
    monkeypatch.setattr(working_set, "LAZY_MIN_FEATURES", 10**9)
    whole = Estimator(
        alpha=alpha, alpha_l2=alpha_l2, loss_normalization="mean", **TIGHT
    ).fit(X, Y)
    np.testing.assert_allclose(lazy.coef_, whole.coef_, atol=1e-10)
    np.testing.assert_allclose(lazy.intercept_, whole.intercept_, atol=1e-10)


@_converges
def test_lazy_gram_equals_multitask_lasso_and_path_equals_cold_fits():
    # Catches: a warm start whose nonzero features miss their Gram columns
    # (their gradient then reads zeros), a stale working set between path points.
    X, Y = _suppressor_data(seed=7)
    model = JointFeatureMultiTaskRegressor(loss_normalization="mean", **TIGHT)
    alphas, coefs, intercepts, _ = multitask_path(model, X, Y, alphas=6, eps=0.02)
    for alpha, coef, intercept in zip(alphas, coefs, intercepts):
        cold = JointFeatureMultiTaskRegressor(
            alpha=alpha, loss_normalization="mean", **TIGHT
        ).fit(X, Y)
        np.testing.assert_allclose(coef, cold.coef_, atol=1e-9)
        np.testing.assert_allclose(intercept, cold.intercept_, atol=1e-9)
    Xc, Yc = X - X.mean(axis=0), Y - Y.mean(axis=0)
    reference = MultiTaskLasso(
        alpha=alphas[3], fit_intercept=False, tol=1e-14, max_iter=100000
    )
    reference.fit(Xc, Yc)
    np.testing.assert_allclose(coefs[3], reference.coef_, atol=1e-7)
    c = 1.0 / X.shape[0]
    ours = _centered_objective(Xc, Yc, coefs[3], 0.0, alphas[3], c)
    theirs = _centered_objective(Xc, Yc, reference.coef_, 0.0, alphas[3], c)
    assert ours <= theirs * (1 + 1e-12)


def test_rounds_share_max_iter():
    # Catches: every round of the working set given max_iter passes of its own.
    X, Y = _suppressor_data(seed=9)
    model = JointFeatureMultiTaskRegressor(alpha=1.0, loss_normalization="mean")
    alpha = 0.1 * model.fit(X, Y).alpha_max_
    with pytest.warns(ConvergenceWarning, match="max_iter=3"):
        model.set_params(alpha=alpha, tol=1e-15, max_iter=3).fit(X, Y)
    assert model.n_iter_ == 3


@_converges
@pytest.mark.parametrize("first, second", [(0.02, 0.3), (0.5, 0.05)])
def test_warm_start_from_another_support(first, second):
    # Catches: a working set that never grows (from the narrow support of a
    # strong alpha the weak one needs more), Gram rows of the wrong features.
    X, Y = _suppressor_data(seed=8)
    model = JointFeatureMultiTaskRegressor(alpha=1.0, warm_start=True, **TIGHT)
    alpha_max = model.fit(X, Y).alpha_max_
    model.set_params(alpha=first * alpha_max).fit(X, Y)
    warm = model.set_params(alpha=second * alpha_max).fit(X, Y)
    cold = JointFeatureMultiTaskRegressor(alpha=second * alpha_max, **TIGHT).fit(X, Y)
    np.testing.assert_allclose(warm.coef_, cold.coef_, atol=1e-9)
    np.testing.assert_allclose(warm.intercept_, cold.intercept_, atol=1e-9)
