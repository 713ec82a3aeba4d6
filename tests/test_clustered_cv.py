"""The clustered models' CV variants: against a cross-validation loop by hand
over the folds and the grid, cold fits, a plain refit, a hand computation of
the reference strength and its scaling. Each test names the planted mistake
it was seen to catch."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import mean_squared_error
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_mtl.linear._clustered import (
    GRID_TOP,
    ClusteredMultiTaskClassifier,
    ClusteredMultiTaskRegressor,
)
from sklearn_mtl.linear._cv_family import (
    ClusteredMultiTaskClassifierCV,
    ClusteredMultiTaskRegressorCV,
)
from sklearn_mtl.linear._path import alpha_grid, fit_path, multitask_path, path_problem
from sklearn_mtl.metrics import make_task_scorer
from sklearn_mtl.model_selection import TaskKFold

TIGHT = {"tol": 1e-10, "max_iter": 5000}


def _clustered_data(seed, classify=False, n_tasks=6, n_features=4):
    """Two clusters of tasks around two centres, unequal task sizes, a
    non-centred design, unequal sample weights."""
    rng = np.random.RandomState(seed)
    sizes = rng.randint(25, 40, size=n_tasks)
    task_ids = np.repeat(np.arange(n_tasks), sizes)
    X = rng.standard_normal((task_ids.size, n_features)) + 0.5
    centres = 1.5 * rng.standard_normal((2, n_features))
    W = centres[np.arange(n_tasks) % 2] + 0.4 * rng.standard_normal(
        (n_tasks, n_features)
    )
    scores = (
        np.einsum("nd,nd->n", X, W[task_ids]) + rng.standard_normal(n_tasks)[task_ids]
    )
    weights = rng.uniform(0.5, 2.0, size=task_ids.size)
    if classify:
        y = (scores + rng.standard_normal(task_ids.size) > 0).astype(int)
    else:
        y = scores + 2.0 * rng.standard_normal(task_ids.size)
    return X, y, task_ids, weights


def test_cv_equals_hand_loop_over_folds_and_grid(monkeypatch):
    # Planted: scores_path_ filled in (l2_ratio, n_clusters) order instead of
    # (n_clusters, l2_ratio) -> scores differ; the chosen index split as
    # divmod(best, n_points) -> a different (alpha, n_clusters); the refit
    # at the next alpha of the grid -> alpha_ / coef_ differ; alpha_l2 =
    # alpha / l2_ratio in the path -> scores differ; test folds scored
    # without their weights -> scores differ.
    # The k-means labels play no part in the scores; skipping them keeps
    # the 72 cold fits of the hand loop fast.
    monkeypatch.setattr(
        ClusteredMultiTaskRegressor,
        "_cluster_labels",
        lambda self, penalty, coef: np.zeros(len(coef), dtype=int),
    )
    X, y, task_ids, weights = _clustered_data(seed=0)
    scorer = make_task_scorer(mean_squared_error, greater_is_better=False)
    clusters, ratios, n_alphas = [1, 2], [0.03, 0.3], 6
    splitter = TaskKFold(3, shuffle=True, random_state=0)
    model = ClusteredMultiTaskRegressorCV(
        alphas=n_alphas,
        eps=1e-3,
        n_clusters=clusters,
        l2_ratio=ratios,
        cv=splitter,
        scoring=scorer,
        **TIGHT,
    ).fit(X, y, task_ids=task_ids, sample_weight=weights)
    alphas = alpha_grid(GRID_TOP * model.alpha_ref_, n_alphas=n_alphas, eps=1e-3)
    np.testing.assert_allclose(model.alphas_, alphas, rtol=1e-12)
    splits = list(splitter.split(X, y, groups=task_ids))
    hand = np.empty((len(clusters), len(ratios), n_alphas, len(splits)))
    for f, (train, test) in enumerate(splits):
        for i, k in enumerate(clusters):
            for j, ratio in enumerate(ratios):
                for a, alpha in enumerate(alphas):
                    fitted = ClusteredMultiTaskRegressor(
                        n_clusters=k, alpha=alpha, alpha_l2=ratio * alpha, **TIGHT
                    ).fit(X[train], y[train], task_ids[train], weights[train])
                    hand[i, j, a, f] = scorer(
                        fitted,
                        X[test],
                        y[test],
                        task_ids=task_ids[test],
                        sample_weight=weights[test],
                    )
    np.testing.assert_allclose(model.scores_path_, hand, rtol=1e-6)
    mean = hand.mean(axis=-1)
    i, j, a = np.unravel_index(np.argmax(mean), mean.shape)
    assert (model.n_clusters_, model.l2_ratio_) == (clusters[i], ratios[j])
    assert model.alpha_ == alphas[a] and 0 < a < n_alphas - 1
    assert model.best_score_ == pytest.approx(mean[i, j, a], rel=1e-6)
    results = model.cv_results_
    flat = np.ravel_multi_index((i, j, a), mean.shape)
    assert results["rank_test_score"][flat] == 1
    assert results["param_n_clusters"][flat] == clusters[i]
    assert results["param_l2_ratio"][flat] == ratios[j]
    assert results["param_alpha"][flat] == alphas[a]
    np.testing.assert_allclose(results["split1_test_score"], hand[..., 1].ravel())


@pytest.mark.parametrize("classify", [False, True])
def test_warm_path_points_equal_cold_fits(classify):
    # Planted: alpha_l2 left at the template's in the path -> coefs differ;
    # the warm start taken from the first point only (not the previous
    # one) -> still equal (a warm start only changes the starting point).
    X, y, task_ids, weights = _clustered_data(seed=1, classify=classify)
    Estimator = (
        ClusteredMultiTaskClassifier if classify else ClusteredMultiTaskRegressor
    )
    problem = path_problem(Estimator(**TIGHT), X, y, task_ids, weights)
    problem.configure(n_clusters=2, l2_ratio=0.1)
    alphas = alpha_grid(problem.alpha_max, n_alphas=5, eps=1e-3)
    models, _ = fit_path(problem, alphas, eps=None)
    for alpha, warm in zip(alphas, models):
        cold = Estimator(n_clusters=2, alpha=alpha, alpha_l2=0.1 * alpha, **TIGHT)
        cold.fit(X, y, task_ids, weights)
        np.testing.assert_allclose(warm.coef_, cold.coef_, atol=1e-6)
        np.testing.assert_allclose(warm.intercept_, cold.intercept_, atol=1e-6)
        np.testing.assert_allclose(
            warm.cluster_matrix_, cold.cluster_matrix_, atol=1e-5
        )


@pytest.mark.parametrize("classify", [False, True])
def test_refit_equals_plain_fit_and_n_jobs(classify):
    # Planted: the refit at the next alpha of the grid -> coef_ differs;
    # refit with alpha_l2 = l2_ratio (not times alpha) -> coef_ differs;
    # cluster_labels_ not computed in the refit -> missing attribute.
    X, y, task_ids, weights = _clustered_data(seed=2, classify=classify)
    Estimator = (
        ClusteredMultiTaskClassifier if classify else ClusteredMultiTaskRegressor
    )
    EstimatorCV = (
        ClusteredMultiTaskClassifierCV if classify else ClusteredMultiTaskRegressorCV
    )
    params = {"alphas": 4, "n_clusters": [1, 2], "l2_ratio": [0.1, 1.0], "cv": 2}
    params.update(tol=1e-8, random_state=0)
    model = EstimatorCV(**params).fit(X, y, task_ids=task_ids, sample_weight=weights)
    plain = Estimator(
        n_clusters=model.n_clusters_,
        alpha=model.alpha_,
        alpha_l2=model.l2_ratio_ * model.alpha_,
        tol=1e-8,
        random_state=0,
    ).fit(X, y, task_ids, weights)
    assert model.alpha_l2_ == pytest.approx(plain.alpha_l2, rel=1e-15)
    np.testing.assert_allclose(model.coef_, plain.coef_, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(model.intercept_, plain.intercept_, rtol=1e-12)
    np.testing.assert_array_equal(model.cluster_labels_, plain.cluster_labels_)
    np.testing.assert_allclose(model.predict(X, task_ids), plain.predict(X, task_ids))
    if classify:
        return
    # Folds in parallel (processes) give the same scores and choice.
    parallel = EstimatorCV(**params, n_jobs=2).fit(
        X, y, task_ids=task_ids, sample_weight=weights
    )
    np.testing.assert_array_equal(parallel.scores_path_, model.scores_path_)
    assert parallel.alpha_ == model.alpha_
    assert parallel.n_clusters_ == model.n_clusters_


@pytest.mark.parametrize("classify", [False, True])
def test_default_folds_hold_every_task(classify):
    # Planted: a plain KFold on the sorted rows -> a task missing from a fold.
    X, y, task_ids, _ = _clustered_data(seed=3, classify=classify)
    EstimatorCV = (
        ClusteredMultiTaskClassifierCV if classify else ClusteredMultiTaskRegressorCV
    )
    splits = EstimatorCV()._splits(X, y, task_ids)
    assert len(splits) == 5
    for train, test in splits:
        assert set(task_ids[train]) == set(task_ids[test]) == set(task_ids)
        if classify:  # stratified by class within each task
            for t in np.unique(task_ids):
                assert set(y[test][task_ids[test] == t]) == {0, 1}


def _hand_reference(X, y, task_ids, weights, classify):
    """L / 2 by dense per-task algebra: the largest eigenvalue over tasks of
    the weighted, centered Gram matrix (times p (1 - p) for the logistic)."""
    largest = 0.0
    for t in np.unique(task_ids):
        rows = task_ids == t
        w, Xt = weights[rows], X[rows]
        centred = Xt - np.average(Xt, axis=0, weights=w)
        gram = centred.T @ (w[:, None] * centred)
        if classify:
            p = np.average(y[rows], weights=w)
            gram *= p * (1 - p)
        largest = max(largest, np.linalg.eigvalsh(gram)[-1])
    return largest / 2


@pytest.mark.parametrize("classify", [False, True])
def test_reference_strength_by_hand_and_scale_equivariance(classify):
    # Planted: alpha_ref from the uncentered Gram -> differs from the hand
    # value and from its X-scaling; the logistic bound 1/4 instead of
    # p (1 - p) -> differs from the hand value; the grid built from a fixed
    # (data-independent) top -> alphas_ do not scale with c**2.
    X, y, task_ids, weights = _clustered_data(seed=4, classify=classify)
    EstimatorCV = (
        ClusteredMultiTaskClassifierCV if classify else ClusteredMultiTaskRegressorCV
    )
    params = {"alphas": 4, "n_clusters": [1, 2], "l2_ratio": 0.1, "cv": 2}
    params.update(tol=1e-9)
    model = EstimatorCV(**params).fit(X, y, task_ids=task_ids, sample_weight=weights)
    reference = _hand_reference(X, y, task_ids, weights, classify)
    assert model.alpha_ref_ == pytest.approx(reference, rel=1e-10)
    c = 3.0
    scaled = EstimatorCV(**params).fit(
        c * X, y, task_ids=task_ids, sample_weight=weights
    )
    # X times c: the objective at alpha c^2 is that at alpha, W / c.
    assert scaled.alpha_ref_ == pytest.approx(c**2 * model.alpha_ref_, rel=1e-10)
    np.testing.assert_allclose(scaled.alphas_, c**2 * model.alphas_, rtol=1e-10)
    np.testing.assert_allclose(scaled.scores_path_, model.scores_path_, atol=1e-6)
    assert scaled.alpha_ == pytest.approx(c**2 * model.alpha_, rel=1e-10)
    np.testing.assert_allclose(scaled.coef_, model.coef_ / c, atol=1e-6)
    if not classify:
        # y times c: the same grid, the coefficients times c, the same R^2.
        scaled_y = EstimatorCV(**params).fit(
            X, c * y, task_ids=task_ids, sample_weight=weights
        )
        assert scaled_y.alpha_ref_ == pytest.approx(model.alpha_ref_, rel=1e-12)
        np.testing.assert_allclose(scaled_y.alphas_, model.alphas_, rtol=1e-12)
        np.testing.assert_allclose(scaled_y.scores_path_, model.scores_path_, atol=1e-6)
        np.testing.assert_allclose(scaled_y.coef_, c * model.coef_, atol=1e-5)


def test_multiclass_reference_and_model_path():
    # Planted: the multiclass class variance taken as the mean share's
    # p (1 - p) -> differs from the eigenvalue of diag(p) - p p^T.
    rng = np.random.RandomState(5)
    task_ids = np.repeat([0, 1, 2], 40)
    X = rng.standard_normal((120, 3))
    y = np.tile([0, 0, 1, 2], 30)
    problem = path_problem(ClusteredMultiTaskClassifier(), X, y, task_ids)
    largest = 0.0
    for t in range(3):
        rows = task_ids == t
        p = np.bincount(y[rows], minlength=3) / rows.sum()
        spread = np.linalg.eigvalsh(np.diag(p) - np.outer(p, p))[-1]
        centred = X[rows] - X[rows].mean(axis=0)
        largest = max(largest, spread * np.linalg.eigvalsh(centred.T @ centred)[-1])
    assert problem.alpha_ref == pytest.approx(largest / 2, rel=1e-10)
    # The model's own path (fixed alpha_l2) through multitask_path.
    alphas, coefs, _, _ = multitask_path(
        ClusteredMultiTaskRegressor(alpha_l2=0.5),
        X,
        y.astype(float),
        task_ids,
        alphas=3,
    )
    reference = _hand_reference(X, None, task_ids, np.ones(120), classify=False)
    assert alphas[0] == pytest.approx(GRID_TOP * reference, rel=1e-10)
    assert coefs.shape == (3, 3, 3)


def test_grid_values_and_errors():
    # Planted: n_clusters above the number of tasks kept -> fit raises.
    X, y, task_ids, _ = _clustered_data(seed=6, n_tasks=3)
    model = ClusteredMultiTaskRegressorCV(
        alphas=[3.0, 1.0], n_clusters=[2, 5, 9], l2_ratio=0.5, cv=2
    ).fit(X, y, task_ids=task_ids)
    np.testing.assert_array_equal(
        np.unique(model.cv_results_["param_n_clusters"]), [2, 3]
    )
    assert model.scores_path_.shape == (2, 1, 2, 2)
    np.testing.assert_array_equal(model.alphas_, [3.0, 1.0])
    for params, match in [
        ({"n_clusters": [1, 1.5]}, "n_clusters"),
        ({"n_clusters": [0, 2]}, "n_clusters"),
        ({"l2_ratio": [0.1, -1.0]}, "l2_ratio"),
        ({"l2_ratio": []}, "l2_ratio"),
    ]:
        with pytest.raises(ValueError, match=match):
            ClusteredMultiTaskRegressorCV(**params, cv=2).fit(X, y, task_ids=task_ids)
    with pytest.raises(TypeError, match="chooses its own strength"):
        multitask_path(ClusteredMultiTaskRegressorCV(), X, y, task_ids, alphas=2)


def test_wide_y_with_nan_and_sparse_x_agree():
    # A wide y (NaN = missing label) is split by TaskKFold like long data;
    # a sparse X gives the same folds, grid and models.
    rng = np.random.default_rng(8)
    X = rng.normal(size=(60, 4))
    Y = X @ rng.normal(size=(4, 3)) + rng.normal(size=(60, 3))
    Y[rng.random(Y.shape) < 0.1] = np.nan
    params = {"alphas": 4, "n_clusters": [1, 2], "cv": 3, "tol": 1e-9}
    dense = ClusteredMultiTaskRegressorCV(**params).fit(X, Y)
    sparse = ClusteredMultiTaskRegressorCV(**params).fit(sp.csr_array(X), Y)
    assert dense.task_format_ == "wide" and dense.predict(X).shape == (60, 3)
    np.testing.assert_allclose(sparse.scores_path_, dense.scores_path_, atol=1e-8)
    np.testing.assert_allclose(sparse.coef_, dense.coef_, atol=1e-8)
    assert sparse.alpha_ref_ == pytest.approx(dense.alpha_ref_, rel=1e-10)


def test_refit_warns_when_not_converged():
    X, y, task_ids, _ = _clustered_data(seed=7)
    model = ClusteredMultiTaskRegressorCV(
        alphas=2, n_clusters=2, l2_ratio=0.01, cv=2, tol=1e-12, max_iter=2
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(X, y, task_ids=task_ids)
    # In the CV's name, at the caller's line.
    (warning,) = [w for w in caught if issubclass(w.category, ConvergenceWarning)]
    assert "ClusteredMultiTaskRegressorCV did not converge" in str(warning.message)
    assert warning.filename == __file__


@parametrize_with_checks(
    [
        # Short grids, loose tolerances: the checks fit dozens of times.
        ClusteredMultiTaskRegressorCV(
            alphas=2, n_clusters=(1, 2), l2_ratio=0.1, cv=2, tol=1e-4
        ),
        ClusteredMultiTaskClassifierCV(
            alphas=2, n_clusters=(1, 2), l2_ratio=0.1, cv=2, tol=1e-4, max_iter=100
        ),
    ]
)
def test_sklearn_compatible(estimator, check):
    check(estimator)
