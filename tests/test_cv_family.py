"""The ...CV variants of the sparse, dirty and robust models, against a
cross-validation loop by hand over TaskKFold folds and a refit by hand. Each
test names the planted mistake it was seen to catch."""

import warnings

import numpy as np
import pytest
from scipy.optimize import minimize
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_mtl.linear._cv_family import (
    DirtyMultiTaskClassifierCV,
    DirtyMultiTaskRegressorCV,
    RobustMultiTaskClassifierCV,
    RobustMultiTaskRegressorCV,
    SparseMultiTaskClassifierCV,
    SparseMultiTaskRegressorCV,
)
from sklearn_mtl.linear._dirty import DirtyMultiTaskClassifier, DirtyMultiTaskRegressor
from sklearn_mtl.linear._path import alpha_grid
from sklearn_mtl.linear._penalties import L21Penalty
from sklearn_mtl.linear._robust import RobustMultiTaskRegressor
from sklearn_mtl.linear._sparse import SparseMultiTaskClassifier
from sklearn_mtl.model_selection import TaskKFold

TIGHT = {"tol": 1e-9, "max_iter": 20000}


def _long_data(seed, classify=False, n_tasks=5, n_features=6):
    """Unequal task sizes, a design per task, shared support plus one task's
    own feature and one outlier task, unequal sample weights."""
    rng = np.random.RandomState(seed)
    sizes = rng.randint(28, 40, size=n_tasks)
    task_ids = np.repeat(np.arange(n_tasks), sizes)
    X = rng.standard_normal((task_ids.size, n_features)) + 0.3
    W = np.zeros((n_tasks, n_features))
    W[:, :2] = rng.standard_normal(2) + 0.3 * rng.standard_normal((n_tasks, 2))
    W[0, 4] = 1.5
    W[-1] = rng.standard_normal(n_features)
    scores = (
        np.einsum("nd,nd->n", X, W[task_ids]) + rng.standard_normal(n_tasks)[task_ids]
    )
    weights = rng.uniform(0.5, 2.0, size=task_ids.size)
    if classify:
        y = (scores + rng.standard_normal(task_ids.size) > 0).astype(int)
    else:
        y = scores + 1.5 * rng.standard_normal(task_ids.size)
    return X, y, task_ids, weights


def _hand_cv(Estimator, params, X, y, task_ids, weights, alphas, splits):
    """Scores (n_alphas, n_folds) by cold fits over the given folds."""
    scores = np.empty((len(alphas), len(splits)))
    for k, (train, test) in enumerate(splits):
        for i, alpha in enumerate(alphas):
            model = Estimator(alpha=alpha, **params).fit(
                X[train], y[train], task_ids[train], weights[train]
            )
            scores[i, k] = model.score(X[test], y[test], task_ids[test], weights[test])
    return scores


@pytest.mark.parametrize(
    "Estimator, EstimatorCV, params, parts, classify",
    [
        (SparseMultiTaskClassifier, SparseMultiTaskClassifierCV, {}, (), True),
        (
            DirtyMultiTaskRegressor,
            DirtyMultiTaskRegressorCV,
            {"specific_ratio": 0.7},
            ("coef_shared_", "coef_specific_"),
            False,
        ),
        (
            RobustMultiTaskRegressor,
            RobustMultiTaskRegressorCV,
            {"outlier_ratio": 0.8},
            ("coef_low_rank_", "coef_outlier_", "outlier_tasks_"),
            False,
        ),
    ],
)
def test_cv_equals_hand_loop_over_task_folds(
    Estimator, EstimatorCV, params, parts, classify
):
    # Planted: the ratio of the two parts not passed to the fold estimators
    # (CV drops specific_ratio/outlier_ratio) -> fold scores differ; the
    # parts not copied from the refit -> missing attribute; the refit at the
    # next strength -> coef_ differs from the refit by hand; the test folds
    # scored without their sample weights -> scores differ.
    X, y, task_ids, weights = _long_data(seed=3, classify=classify)
    params = {**params, **TIGHT}
    n_alphas, eps = 6, 0.02
    cv_model = EstimatorCV(alphas=n_alphas, eps=eps, cv=3, **params).fit(
        X, y, task_ids=task_ids, sample_weight=weights
    )
    full = Estimator(**params).fit(X, y, task_ids, weights)
    alphas = alpha_grid(full.alpha_max_, n_alphas=n_alphas, eps=eps)
    np.testing.assert_allclose(cv_model.alphas_, alphas)
    # The default folds: TaskKFold, stratified by class for a classifier.
    splitter = TaskKFold(3, stratify=True) if classify else TaskKFold(3)
    splits = list(splitter.split(X, y, groups=task_ids))
    scores = _hand_cv(Estimator, params, X, y, task_ids, weights, alphas, splits)
    np.testing.assert_allclose(cv_model.scores_path_, scores, atol=1e-6)
    best = int(np.argmax(scores.mean(axis=1)))
    assert 0 < best < n_alphas - 1  # a non-trivial choice
    assert cv_model.alpha_ == alphas[best]
    refit = Estimator(alpha=alphas[best], **params).fit(X, y, task_ids, weights)
    np.testing.assert_allclose(cv_model.coef_, refit.coef_, atol=1e-6)
    np.testing.assert_allclose(cv_model.intercept_, refit.intercept_, atol=1e-6)
    for name in parts:
        np.testing.assert_allclose(
            getattr(cv_model, name), getattr(refit, name), atol=1e-6
        )
    if parts:
        # Both parts active at the chosen strength, and they sum to coef_.
        first, second = (getattr(cv_model, name) for name in parts[:2])
        assert np.any(first != 0) and np.any(second != 0)
        np.testing.assert_allclose(first + second, cv_model.coef_, atol=1e-12)


def test_two_part_cv_keeps_its_ratio_and_classifier_parts():
    # Planted: the ratio dropped from the CV's parameters -> not in
    # get_params, and the fold estimators use the default 0.5.
    X, y, task_ids, weights = _long_data(seed=4, classify=True)
    model = DirtyMultiTaskClassifierCV(
        alphas=[0.3, 0.1], cv=2, specific_ratio=0.8, tol=1e-5, max_iter=2000
    )
    assert model.get_params()["specific_ratio"] == 0.8
    assert "alpha" not in model.get_params() and "warm_start" not in model.get_params()
    model.fit(X, y, task_ids=task_ids, sample_weight=weights)
    refit = DirtyMultiTaskClassifier(
        alpha=model.alpha_, specific_ratio=0.8, tol=1e-5, max_iter=2000
    ).fit(X, y, task_ids, weights)
    np.testing.assert_allclose(model.coef_shared_, refit.coef_shared_, atol=1e-4)
    np.testing.assert_allclose(model.coef_specific_, refit.coef_specific_, atol=1e-4)


# -- the L2,1 block step under every CV path on per-task designs --------------


@pytest.mark.parametrize("alpha_l2", [0.0, 0.3])
def test_l21_block_step_equals_brute_force_with_zero_curvature_tasks(alpha_l2):
    # Planted: the final step b / (a + alpha * rho) -> differs from the
    # minimizer. (A wrong Newton slope or start changes only the speed: the
    # fixed point is the root; the School timing shows it.)
    rng = np.random.RandomState(0)
    a = rng.uniform(0.2, 4.0, size=7)
    b = 3.0 * rng.standard_normal(7)
    # Tasks where the feature is constant: no curvature, no correlation.
    a[[1, 4]], b[[1, 4]] = 0.0, 0.0
    w = L21Penalty(1.3, alpha_l2=alpha_l2).block_minimize(a, b)

    def objective(v):
        return 0.5 * np.sum((a + alpha_l2) * v**2) - b @ v + 1.3 * np.linalg.norm(v)

    start = b / (a + alpha_l2 + 1.0)
    reference = minimize(objective, start, method="Powell", options={"xtol": 1e-10})
    assert objective(w) <= reference.fun + 1e-12
    norm = np.linalg.norm(w)
    np.testing.assert_allclose((a + alpha_l2) * w - b + 1.3 * w / norm, 0, atol=1e-12)


def test_l21_block_step_just_above_threshold_is_finite_without_warning():
    # Planted: the Newton search started at rho = 0 (as before) -> with
    # ||b|| a few ulps above alpha it stops at once and divides by rho = 0
    # (the School "divide by zero" RuntimeWarning).
    rng = np.random.RandomState(1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for _ in range(300):
            a = rng.uniform(0.1, 3.0, size=4)
            alpha = rng.uniform(0.01, 10.0)
            b = rng.standard_normal(4)
            b *= alpha / np.linalg.norm(b) * (1 + rng.randint(1, 4) * 1.1e-16)
            w = L21Penalty(alpha).block_minimize(a, b)
            assert np.all(np.isfinite(w)) and np.linalg.norm(w) < 1e-12


@parametrize_with_checks(
    [
        # Short paths, loose tolerances: the checks fit dozens of times.
        SparseMultiTaskRegressorCV(alphas=2, eps=0.1, cv=2),
        SparseMultiTaskClassifierCV(alphas=2, eps=0.1, cv=2, tol=1e-3, max_iter=50),
        DirtyMultiTaskRegressorCV(alphas=2, eps=0.1, cv=2, tol=1e-4, max_iter=200),
        DirtyMultiTaskClassifierCV(alphas=2, eps=0.1, cv=2, tol=1e-3, max_iter=50),
        RobustMultiTaskRegressorCV(alphas=2, eps=0.1, cv=2, tol=1e-4, max_iter=200),
        RobustMultiTaskClassifierCV(alphas=2, eps=0.1, cv=2, tol=1e-3, max_iter=50),
    ]
)
def test_sklearn_compatible(estimator, check):
    check(estimator)
