"""Regularization paths and the ...CV estimators of the structured models,
against cold fits, scikit-learn's lasso path and a cross-validation loop by
hand. Each test names the planted mistake it was seen to catch."""

import pickle
import warnings

import numpy as np
import pytest
from joblib import parallel_config
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import MultiTaskLasso, lasso_path
from sklearn.metrics import mean_squared_error
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_mtl.linear import (
    JointFeatureMultiTaskClassifier,
    JointFeatureMultiTaskRegressor,
    LowRankMultiTaskClassifier,
    LowRankMultiTaskRegressor,
)
from sklearn_mtl.linear._cv import (
    JointFeatureMultiTaskClassifierCV,
    JointFeatureMultiTaskRegressorCV,
    LowRankMultiTaskClassifierCV,
    LowRankMultiTaskRegressorCV,
)
from sklearn_mtl.linear._path import _RefitPath, alpha_grid, fit_path, multitask_path
from sklearn_mtl.metrics import make_task_scorer
from sklearn_mtl.model_selection import TaskKFold

TIGHT = {"tol": 1e-10, "max_iter": 100000}


def _long_data(n_tasks=4, n_features=6, seed=0, classify=False):
    """Unequal task sizes, a design per task, jointly sparse truth, weights."""
    rng = np.random.RandomState(seed)
    sizes = rng.randint(30, 45, size=n_tasks)
    task_ids = np.repeat(np.arange(n_tasks), sizes)
    X = rng.standard_normal((task_ids.size, n_features)) + 0.3
    W = np.zeros((n_tasks, n_features))
    W[:, :3] = rng.standard_normal((n_tasks, 3))
    scores = (
        np.einsum("nd,nd->n", X, W[task_ids]) + rng.standard_normal(n_tasks)[task_ids]
    )
    weights = rng.uniform(0.5, 2.0, size=task_ids.size)
    if classify:
        y = (scores + rng.standard_normal(task_ids.size) > 0).astype(int)
    else:
        y = scores + 1.0 * rng.standard_normal(task_ids.size)
    return X, y, task_ids, weights


ESTIMATORS = [
    (JointFeatureMultiTaskRegressor, False),
    (LowRankMultiTaskRegressor, False),
    (JointFeatureMultiTaskClassifier, True),
    (LowRankMultiTaskClassifier, True),
]


@pytest.mark.parametrize("Estimator, classify", ESTIMATORS)
def test_path_starts_at_zero_and_leaves_it_just_below(Estimator, classify):
    # Planted: alpha_max 1 % too large in the path hook -> just below it, the
    # solution is still all zero (all four estimators fail).
    X, y, task_ids, weights = _long_data(classify=classify)
    model = Estimator(**TIGHT)
    alphas, coefs, intercepts, n_iters = multitask_path(
        model, X, y, task_ids, weights, alphas=5, eps=0.1
    )
    alpha_max = model.set_params(alpha=1.0).fit(X, y, task_ids, weights).alpha_max_
    np.testing.assert_allclose(alphas, alpha_grid(alpha_max, n_alphas=5, eps=0.1))
    assert np.all(coefs[0] == 0)
    assert np.all(coefs[1:].any(axis=(1, 2)))
    assert n_iters.shape == (5,) and intercepts.shape[:2] == (5, 4)
    # Just below alpha_max some coefficient leaves zero.
    _, coefs, _, _ = multitask_path(
        model, X, y, task_ids, weights, alphas=[alpha_max * (1 - 1e-3)]
    )
    assert np.abs(coefs).max() > 0


@pytest.mark.parametrize("Estimator, classify", ESTIMATORS)
def test_every_path_point_is_a_cold_fit(Estimator, classify):
    # Planted: each point solved at the previous point's alpha -> coefficients
    # differ from cold fits (all four estimators fail).
    X, y, task_ids, weights = _long_data(seed=1, classify=classify)
    model = Estimator(loss_normalization="mean", alpha_l2=0.05, **TIGHT)
    alphas, coefs, intercepts, _ = multitask_path(
        model, X, y, task_ids, weights, alphas=4, eps=0.05
    )
    for alpha, coef, intercept in zip(alphas, coefs, intercepts):
        cold = Estimator(
            alpha=alpha, loss_normalization="mean", alpha_l2=0.05, **TIGHT
        ).fit(X, y, task_ids=task_ids, sample_weight=weights)
        np.testing.assert_allclose(coef, cold.coef_, atol=1e-6)
        np.testing.assert_allclose(intercept, cold.intercept_, atol=1e-6)


def test_l21_path_equals_sklearn_multitask_lasso_path():
    # Planted: the grid ending at alpha_max * eps**2 -> alphas differ; each
    # point solved at the previous alpha -> coefs differ.
    rng = np.random.RandomState(0)
    n, d, T = 80, 10, 5
    X = rng.standard_normal((n, d))
    W = np.zeros((T, d))
    W[:, :4] = rng.standard_normal((T, 4))
    Y = X @ W.T + rng.standard_normal((n, T))
    # scikit-learn's path fits no intercept: give it centered data, which is
    # what our intercepts do. Both minimize (1/2n)||Y - X W^T||^2 + a ||W||_21.
    Xc, Yc = X - X.mean(axis=0), Y - Y.mean(axis=0)
    ours = JointFeatureMultiTaskRegressor(loss_normalization="mean", **TIGHT)
    alphas, coefs, intercepts, _ = multitask_path(ours, X, Y, alphas=8, eps=1e-2)
    sk_alphas, sk_coefs, _ = lasso_path(Xc, Yc, alphas=8, eps=1e-2, tol=1e-14)
    np.testing.assert_allclose(alphas, sk_alphas, rtol=1e-12)
    # sklearn's coefs: (T, d, n_alphas).
    np.testing.assert_allclose(coefs, np.moveaxis(sk_coefs, 2, 0), atol=1e-6)
    np.testing.assert_allclose(
        intercepts, Y.mean(axis=0) - coefs @ X.mean(axis=0), atol=1e-10
    )


def _hand_cv(Estimator, X, y, task_ids, weights, alphas, n_splits, scorer=None):
    """Scores (n_alphas, n_folds) by a loop of cold fits over TaskKFold folds."""
    folds = list(TaskKFold(n_splits).split(X, y, task_ids=task_ids))
    scores = np.empty((len(alphas), len(folds)))
    for k, (train, test) in enumerate(folds):
        for i, alpha in enumerate(alphas):
            model = Estimator(alpha=alpha, **TIGHT).fit(
                X[train], y[train], task_ids[train], weights[train]
            )
            if scorer is None:
                scores[i, k] = model.score(
                    X[test], y[test], task_ids[test], weights[test]
                )
            else:
                scores[i, k] = scorer(
                    model,
                    X[test],
                    y[test],
                    task_ids=task_ids[test],
                    sample_weight=weights[test],
                )
    return scores


@pytest.mark.parametrize(
    "Estimator, EstimatorCV, classify",
    [
        (JointFeatureMultiTaskRegressor, JointFeatureMultiTaskRegressorCV, False),
        (LowRankMultiTaskClassifier, LowRankMultiTaskClassifierCV, True),
    ],
)
def test_cv_equals_hand_loop_over_folds(Estimator, EstimatorCV, classify):
    # Planted: the mean scores misaligned with the alphas -> alpha_ differs;
    # the test fold scored without its sample weights -> scores differ; the
    # refit at alphas_[best + 1] -> coef_ differs from the refit by hand.
    X, y, task_ids, weights = _long_data(seed=2, classify=classify)
    cv_model = EstimatorCV(alphas=6, eps=0.01, cv=3, **TIGHT).fit(
        X, y, task_ids=task_ids, sample_weight=weights
    )
    alpha_max = Estimator(**TIGHT).fit(X, y, task_ids, weights).alpha_max_
    alphas = alpha_grid(alpha_max, n_alphas=6, eps=0.01)
    np.testing.assert_allclose(cv_model.alphas_, alphas)
    scores = _hand_cv(Estimator, X, y, task_ids, weights, alphas, 3)
    np.testing.assert_allclose(cv_model.scores_path_, scores, atol=1e-6)
    best = np.argmax(scores.mean(axis=1))
    assert 0 < best < len(alphas) - 1  # a non-trivial choice
    assert cv_model.alpha_ == alphas[best]
    refit = Estimator(alpha=alphas[best], **TIGHT).fit(X, y, task_ids, weights)
    np.testing.assert_allclose(cv_model.coef_, refit.coef_, atol=1e-6)
    np.testing.assert_allclose(cv_model.intercept_, refit.intercept_, atol=1e-6)
    results = cv_model.cv_results_
    np.testing.assert_allclose(results["mean_test_score"], scores.mean(axis=1))
    assert results["rank_test_score"][best] == 1
    np.testing.assert_allclose(results["split1_test_score"], scores[:, 1], atol=1e-6)


def test_cv_with_task_scorer_equals_hand_loop():
    # Planted: task_ids withheld from a task scorer -> it scores the rows as
    # one task and the scores differ.
    X, y, task_ids, weights = _long_data(seed=3)
    scorer = make_task_scorer(mean_squared_error, greater_is_better=False)
    model = LowRankMultiTaskRegressorCV(alphas=[3.0, 1.0, 0.3], cv=3, scoring=scorer)
    model.set_params(**TIGHT).fit(X, y, task_ids=task_ids, sample_weight=weights)
    scores = _hand_cv(
        LowRankMultiTaskRegressor, X, y, task_ids, weights, [3.0, 1.0, 0.3], 3, scorer
    )
    np.testing.assert_allclose(model.scores_path_, scores, atol=1e-6)
    assert np.all(model.scores_path_ < 0)


def test_cv_n_jobs_two_equals_one_and_cv_forms():
    X, y, task_ids, _ = _long_data(seed=4)
    one = JointFeatureMultiTaskRegressorCV(alphas=5, cv=3, n_jobs=1).fit(
        X, y, task_ids=task_ids
    )
    # Threads: the same joblib code path as processes, without the seconds
    # that starting worker processes costs on a busy machine.
    with parallel_config(backend="threading"):
        two = JointFeatureMultiTaskRegressorCV(alphas=5, cv=3, n_jobs=2).fit(
            X, y, task_ids=task_ids
        )
    np.testing.assert_array_equal(one.scores_path_, two.scores_path_)
    np.testing.assert_array_equal(one.coef_, two.coef_)
    # A splitter and an iterable of its splits give the same result.
    splitter = TaskKFold(3)
    by_splitter = JointFeatureMultiTaskRegressorCV(alphas=5, cv=splitter).fit(
        X, y, task_ids=task_ids
    )
    splits = list(splitter.split(X, y, task_ids=task_ids))
    by_list = JointFeatureMultiTaskRegressorCV(alphas=5, cv=splits).fit(
        X, y, task_ids=task_ids
    )
    np.testing.assert_array_equal(by_splitter.scores_path_, one.scores_path_)
    np.testing.assert_array_equal(by_list.scores_path_, one.scores_path_)


def test_cv_pickles_and_wide_format():
    rng = np.random.RandomState(5)
    X = rng.standard_normal((60, 5))
    Y = X[:, :2] @ rng.standard_normal((2, 3)) + 0.5 * rng.standard_normal((60, 3))
    Y[::7, 1] = np.nan
    model = JointFeatureMultiTaskRegressorCV(alphas=5, cv=3).fit(X, Y)
    again = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(again.predict(X), model.predict(X))
    assert model.task_format_ == "wide" and model.coef_.shape == (3, 5)


def test_path_hook_fallback_equals_hook():
    # The refit-with-warm_start fallback (an estimator without _path_problem)
    # gives the same path as the loss-once hook.
    X, y, task_ids, weights = _long_data(seed=6)
    model = JointFeatureMultiTaskRegressor(**TIGHT)
    alphas, coefs, _, _ = multitask_path(model, X, y, task_ids, weights, alphas=4)
    fallback = _RefitPath(model, X, y, task_ids, weights)
    assert fallback.alpha_max == pytest.approx(alphas[0])
    slow, slow_alphas = fit_path(fallback, 4, eps=1e-3)
    np.testing.assert_allclose(slow_alphas, alphas)
    np.testing.assert_allclose([m.coef_ for m in slow], coefs, atol=1e-8)


def test_path_warns_once_and_rejects_bad_alphas():
    X, y, task_ids, _ = _long_data(seed=7)
    with pytest.warns(ConvergenceWarning, match="of 5 strengths"):
        multitask_path(
            LowRankMultiTaskRegressor(max_iter=1, tol=1e-12), X, y, task_ids, alphas=5
        )
    with pytest.raises(ValueError, match="non-negative"):
        multitask_path(JointFeatureMultiTaskRegressor(), X, y, task_ids, alphas=[-1.0])
    with pytest.raises(ValueError, match="every task must appear"):
        JointFeatureMultiTaskRegressorCV(cv=40).fit(X, y, task_ids=task_ids)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        JointFeatureMultiTaskRegressorCV(alphas=3, cv=2).fit(X, y, task_ids=task_ids)


@parametrize_with_checks(
    [
        # Short paths, loose tolerances: the checks fit dozens of times.
        JointFeatureMultiTaskRegressorCV(alphas=2, eps=0.1, cv=2),
        LowRankMultiTaskRegressorCV(alphas=2, eps=0.1, cv=2),
        JointFeatureMultiTaskClassifierCV(alphas=2, eps=0.1, cv=2, tol=1e-4),
        LowRankMultiTaskClassifierCV(alphas=2, eps=0.1, cv=2, tol=1e-4, max_iter=100),
    ]
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


@pytest.mark.parametrize("normalization", ["mean", "sum"])
def test_working_set_for_more_features_than_samples(normalization):
    # d > n on one shared design: the working-set solver (no (d, d) Gram)
    # equals MultiTaskLasso and APG along a path. Planted: the gradient from
    # all but one active feature -> the solve never meets tol (the test
    # hangs until max_iter), so no wrong solution passes silently.
    rng = np.random.RandomState(8)
    n, d, T = 30, 80, 4
    X = rng.standard_normal((n, d)) + 0.5
    W = np.zeros((T, d))
    W[:, :5] = rng.standard_normal((T, 5))
    Y = X @ W.T + rng.standard_normal((n, T))
    # "sum" is n times scikit-learn's objective, alpha included.
    scale = n if normalization == "sum" else 1.0
    alphas, coefs, intercepts, _ = multitask_path(
        JointFeatureMultiTaskRegressor(loss_normalization=normalization, **TIGHT),
        X,
        Y,
        alphas=4,
        eps=0.05,
    )
    for alpha, coef, intercept in zip(alphas, coefs, intercepts):
        sk = MultiTaskLasso(alpha=alpha / scale, tol=1e-14, max_iter=100000)
        sk.fit(X, Y)
        np.testing.assert_allclose(coef, sk.coef_, atol=1e-6)
        np.testing.assert_allclose(intercept, sk.intercept_, atol=1e-6)
    apg = JointFeatureMultiTaskRegressor(
        alpha=alphas[2], loss_normalization=normalization, solver="apg", **TIGHT
    ).fit(X, Y)
    np.testing.assert_allclose(coefs[2], apg.coef_, atol=1e-6)
