"""Linear meta-learners (sklearn_mtl.meta): math against hand computations.

Planted mistakes each test was checked to catch are listed in the report of
the change that added this file; every assertion compares with an independent
computation (sklearn Ridge, a stacked least-squares solve, optimality
conditions, the generating parameters), never with the code under test.
"""

import copy
import pickle

import numpy as np
import pytest
from scipy.special import expit
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Ridge, RidgeCV
from sklearn.metrics import r2_score
from sklearn.model_selection import GridSearchCV
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_mtl.meta import (
    CommonMeanRidge,
    CommonMeanRidgeClassifier,
    LearnedPriorClassifier,
    LearnedPriorRegressor,
    MetaTaskSplit,
    make_adapt_scorer,
)


def related_tasks(
    rng,
    n_tasks,
    n_per_task,
    d=5,
    rank=1,
    s2=0.05,
    noise=0.5,
    first_task=0,
    intercept_sd=1.0,
):
    """Tasks whose coefficients are drawn from N(mu, U U^T + s2 I), their
    intercepts from N(0, intercept_sd^2)."""
    mu = np.linspace(-1.5, 2.0, d)
    U = np.linspace(1.0, -0.5, d * rank).reshape(d, rank) if rank else np.zeros((d, 0))
    W = mu + rng.standard_normal((n_tasks, rank)) @ U.T
    W += np.sqrt(s2) * rng.standard_normal((n_tasks, d))
    b = intercept_sd * rng.standard_normal(n_tasks)
    X = rng.standard_normal((n_tasks * n_per_task, d)) + 0.3
    t = np.repeat(np.arange(n_tasks), n_per_task)
    y = np.einsum("ij,ij->i", X, W[t]) + b[t] + noise * rng.standard_normal(len(t))
    return X, y, t + first_task, dict(mu=mu, cov=U @ U.T + s2 * np.eye(d), W=W)


# --- adaptation against ridge toward the learned mean --------------------------


def test_isotropic_prior_adaptation_is_ridge_toward_learned_mean():
    rng = np.random.default_rng(0)
    X, y, t, _ = related_tasks(rng, 30, 20, rank=0, s2=0.2, noise=0.7)
    model = LearnedPriorRegressor(rank=0, intercept_prior="flat").fit(X, y, task_ids=t)
    assert model.prior_components_.shape == (5, 0)
    Xs, ys, _, _ = related_tasks(rng, 1, 7, rank=0, s2=0.2, noise=0.7)
    model.adapt(Xs, ys, task_ids=np.full(7, 100))
    mu = model.prior_mean_
    alpha = model.noise_variance_ / model.prior_variance_
    # alpha far from 0 and from "infinite": the prior matters, the data too.
    assert 0.5 < alpha < 50
    ridge = Ridge(alpha=alpha).fit(Xs, ys - Xs @ mu)
    np.testing.assert_allclose(model.adapted_coef_[0], ridge.coef_ + mu, rtol=1e-9)
    np.testing.assert_allclose(
        model.adapted_intercept_[0], ridge.intercept_, rtol=1e-9, atol=1e-12
    )
    np.testing.assert_allclose(
        model.predict(Xs, task_ids=np.full(7, 100)),
        ridge.predict(Xs) + Xs @ mu,
        rtol=1e-9,
    )


def test_common_mean_ridge_adaptation_is_ridge_toward_common_mean():
    rng = np.random.default_rng(1)
    X, y, t, _ = related_tasks(rng, 12, 15)
    model = CommonMeanRidge(alpha=3.0, alpha_mean=0.5).fit(X, y, task_ids=t)
    Xs, ys, _, _ = related_tasks(rng, 1, 6)
    model.adapt(Xs, ys, task_ids=np.full(6, 50))
    ridge = Ridge(alpha=3.0).fit(Xs, ys - Xs @ model.common_coef_)
    np.testing.assert_allclose(
        model.adapted_coef_[0], ridge.coef_ + model.common_coef_, rtol=1e-9
    )
    np.testing.assert_allclose(model.adapted_intercept_[0], ridge.intercept_)


def test_common_mean_ridge_fit_matches_stacked_least_squares():
    # The whole objective as one ridge-like least squares over
    # [mu, v_1..v_T, b_1..b_T], solved densely (only possible for tiny T).
    rng = np.random.default_rng(2)
    T, n, d = 4, 9, 3
    X, y, t, _ = related_tasks(rng, T, n, d=d)
    alpha, alpha_mean = 2.5, 0.7
    model = CommonMeanRidge(alpha=alpha, alpha_mean=alpha_mean).fit(X, y, task_ids=t)
    p = d + T * d + T
    A = np.zeros((len(y), p))
    A[:, :d] = X
    for task in range(T):
        rows = t == task
        A[rows, d + task * d : d + (task + 1) * d] = X[rows]
        A[rows, d + T * d + task] = 1.0
    penalty = np.zeros(p)
    penalty[:d] = alpha_mean
    penalty[d : d + T * d] = alpha
    theta = np.linalg.solve(A.T @ A + np.diag(penalty), A.T @ y)
    mu, V, b = theta[:d], theta[d : d + T * d].reshape(T, d), theta[d + T * d :]
    np.testing.assert_allclose(model.common_coef_, mu, rtol=1e-8)
    np.testing.assert_allclose(model.coef_, mu + V, rtol=1e-8)
    np.testing.assert_allclose(model.intercept_, b, rtol=1e-8, atol=1e-10)


# --- empirical Bayes recovers the generating prior ------------------------------


def test_empirical_bayes_recovers_mean_covariance_and_noise():
    rng = np.random.default_rng(3)
    T, n, d, noise = 400, 60, 4, 0.5
    X, y, t, truth = related_tasks(rng, T, n, d=d, rank=1, s2=0.05, noise=noise)
    model = LearnedPriorRegressor(rank=1, tol=1e-9, max_iter=500).fit(X, y, task_ids=t)
    cov = truth["cov"]
    # Sampling error of moments of T draws: the mean's standard error is
    # sqrt(diag(cov + posterior cov) / T); an entry of a Gaussian sample
    # covariance has variance (cov_ii cov_jj + cov_ij^2) / T. Posterior
    # covariances are ~noise^2 / n per coordinate, small next to cov.
    post = noise**2 / n
    mean_se = np.sqrt((np.diag(cov) + post) / T)
    np.testing.assert_array_less(np.abs(model.prior_mean_ - truth["mu"]), 4 * mean_se)
    cov_se = np.sqrt((np.outer(np.diag(cov), np.diag(cov)) + cov**2) / T)
    np.testing.assert_array_less(np.abs(model.prior_covariance_ - cov), 4 * cov_se)
    # Noise: T (n - 1) residual degrees of freedom, relative s.e. sqrt(2 / dof).
    assert abs(model.noise_variance_ / noise**2 - 1) < 4 * np.sqrt(2 / (T * (n - 1)))
    # The low-rank direction is the true one (up to sign).
    u_true = cov - 0.05 * np.eye(d)
    u_true = np.linalg.eigh(u_true)[1][:, -1]
    u = model.prior_components_[:, 0] / np.linalg.norm(model.prior_components_)
    assert abs(u @ u_true) > 0.99


def test_learned_intercept_prior_recovers_offsets_and_adapts_as_posterior_mean():
    # Task intercepts drawn from N(0, 2^2), a variance unlike the slopes'.
    rng = np.random.default_rng(15)
    T, n = 400, 30
    X, y, t, truth = related_tasks(
        rng, T, n, d=3, rank=1, s2=0.05, noise=0.5, intercept_sd=2.0
    )
    model = LearnedPriorRegressor(rank=1, intercept_prior="learned", tol=1e-9)
    model.fit(X, y, task_ids=t)
    post = 0.25 / n * 2  # posterior variance of an intercept, roughly
    assert abs(model.prior_intercept_mean_) < 4 * np.sqrt((4 + post) / T)
    tau2_se = np.sqrt(2 / T) * (4 + post)
    assert abs(model.prior_intercept_variance_ - 4) < 4 * tau2_se
    np.testing.assert_array_less(
        np.abs(model.prior_mean_ - truth["mu"]),
        4 * np.sqrt((np.diag(truth["cov"]) + post) / T),
    )
    assert np.all(np.diff(model.log_marginal_likelihood_) >= -1e-6)
    # Adaptation: the Gaussian posterior mean on rows [x, 1], by hand.
    Xs, ys, _, _ = related_tasks(rng, 1, 4, d=3, rank=1, s2=0.05, noise=0.5)
    model.adapt(Xs, ys, task_ids=[T + 1] * 4)
    precision = np.zeros((4, 4))
    precision[:3, :3] = np.linalg.inv(model.prior_covariance_)
    precision[3, 3] = 1 / model.prior_intercept_variance_
    mean = np.r_[model.prior_mean_, model.prior_intercept_mean_]
    Xa, noise = np.c_[Xs, np.ones(4)], model.noise_variance_
    theta = np.linalg.solve(
        Xa.T @ Xa / noise + precision, Xa.T @ ys / noise + precision @ mean
    )
    np.testing.assert_allclose(model.adapted_coef_[0], theta[:3], rtol=1e-7)
    np.testing.assert_allclose(model.adapted_intercept_[0], theta[3], rtol=1e-7)
    # Four samples: the intercept is shrunk, not the support mean's.
    flat = ys.mean() - Xs.mean(axis=0) @ model.adapted_coef_[0]
    assert abs(model.adapted_intercept_[0] - flat) > 1e-3


@pytest.mark.parametrize("intercept_prior", ["flat", "learned"])
def test_noise_variance_with_few_samples_per_task(intercept_prior):
    # Four samples and two coefficients per task: the expected residual must
    # count the posterior uncertainty tr(G_t C_t) and the degrees of freedom
    # (n_t - 1 after centering, n_t with a learned intercept prior), or the
    # noise is badly misestimated.
    rng = np.random.default_rng(14)
    T, n, noise = 1500, 4, 0.8
    X, y, t, truth = related_tasks(rng, T, n, d=2, rank=0, s2=0.3, noise=noise)
    model = LearnedPriorRegressor(
        rank=0, tol=1e-10, max_iter=1000, intercept_prior=intercept_prior
    ).fit(X, y, task_ids=t)
    # Relative standard errors: sqrt(2 / dof) for the noise; for s2, that of
    # a variance of T draws each blurred by its posterior (~ noise^2 / n).
    dof = T * (n - 1)
    assert abs(model.noise_variance_ / noise**2 - 1) < 4 * np.sqrt(2 / dof)
    s2_se = np.sqrt(2 / T) * (0.3 + noise**2 / n) / 0.3
    assert abs(model.prior_variance_ / 0.3 - 1) < 4 * s2_se


def test_em_never_decreases_the_marginal_likelihood():
    rng = np.random.default_rng(4)
    X, y, t, _ = related_tasks(rng, 25, 8, rank=2)
    model = LearnedPriorRegressor(rank=2, tol=0, max_iter=40).fit(X, y, task_ids=t)
    history = model.log_marginal_likelihood_
    assert len(history) == model.n_iter_ == 40
    assert np.all(np.diff(history) >= -1e-8 * np.abs(history[1:]))
    assert history[-1] > history[0]


# --- adapt leaves the meta-learned state alone ----------------------------------

_META_STATE = (
    "meta_tasks_",
    "coef_",
    "intercept_",
    "prior_mean_",
    "prior_components_",
    "prior_variance_",
    "prior_covariance_",
    "noise_variance_",
    "prior_intercept_mean_",
    "prior_intercept_variance_",
    "common_coef_",
    "common_intercept_",
    "classes_",
)


@pytest.mark.parametrize(
    "model, classifier",
    [
        (LearnedPriorRegressor(rank=2), False),
        (LearnedPriorRegressor(intercept_prior="learned"), False),
        (CommonMeanRidge(alpha=2.0), False),
        (LearnedPriorClassifier(rank=1, max_iter=10), True),
        (CommonMeanRidgeClassifier(alpha=2.0), True),
    ],
)
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_adapt_leaves_meta_learned_state_unchanged(model, classifier):
    rng = np.random.default_rng(5)
    X, y, t, _ = related_tasks(rng, 15, 20)
    if classifier:
        y = np.where(y > np.median(y), "hi", "lo")
    model.fit(X, y, task_ids=t)
    state = {
        k: copy.deepcopy(getattr(model, k)) for k in _META_STATE if hasattr(model, k)
    }
    before = model.predict(X, task_ids=t)
    Xs, ys, ts, _ = related_tasks(rng, 3, 5, first_task=100)
    if classifier:
        ys = np.where(ys > 0.5, "hi", "lo")
        ys[:5] = "hi"  # one task whose support holds a single class
    assert model.adapt(Xs, ys, task_ids=ts) is model
    model.adapt(Xs[:5], ys[:5], task_ids=ts[:5])  # re-adapting replaces
    for key, value in state.items():
        after = getattr(model, key)
        assert np.asarray(after).dtype == np.asarray(value).dtype, key
        np.testing.assert_array_equal(after, value, err_msg=key, strict=True)
    np.testing.assert_array_equal(model.predict(X, task_ids=t), before)
    np.testing.assert_array_equal(model.adapted_tasks_, [100, 101, 102])
    np.testing.assert_array_equal(model.tasks_, np.r_[np.arange(15), 100, 101, 102])
    assert np.all(np.isfinite(model.adapted_coef_))
    assert model.predict(Xs, task_ids=ts).shape == (15,)


# --- few-shot: the meta-learner beats learning the new task alone ---------------


def test_learned_prior_beats_target_only_ridge_at_five_shots():
    rng = np.random.default_rng(6)
    d, k = 8, 5
    X, y, t, _ = related_tasks(rng, 150, 30, d=d, rank=2, s2=0.02, noise=0.5)
    models = {
        "prior": LearnedPriorRegressor(rank=2).fit(X, y, task_ids=t),
        "common": CommonMeanRidge(alpha=5.0).fit(X, y, task_ids=t),
    }
    n_new, n_query = 100, 40
    Xn, yn, tn, _ = related_tasks(
        rng, n_new, k + n_query, d=d, rank=2, s2=0.02, noise=0.5, first_task=1000
    )
    support = (np.arange(len(tn)) % (k + n_query)) < k
    errors = {name: [] for name in [*models, "ridge"]}
    for name, model in models.items():
        model.adapt(Xn[support], yn[support], task_ids=tn[support])
        residual = yn[~support] - model.predict(Xn[~support], task_ids=tn[~support])
        errors[name] = np.bincount(tn[~support] - 1000, residual**2) / n_query
    for task in range(1000, 1000 + n_new):
        s, q = support & (tn == task), ~support & (tn == task)
        ridge = RidgeCV(alphas=np.logspace(-3, 3, 13)).fit(Xn[s], yn[s])
        errors["ridge"].append(np.mean((yn[q] - ridge.predict(Xn[q])) ** 2))
    mse = {name: float(np.mean(e)) for name, e in errors.items()}
    # Five samples for eight coefficients: alone, a task cannot be learned;
    # with the prior the error approaches the noise floor 0.25.
    assert mse["prior"] < 0.5 * mse["ridge"], mse
    assert mse["common"] < 0.7 * mse["ridge"], mse
    assert mse["prior"] < mse["common"], mse


# --- classification: optimality conditions of the MAP ----------------------------


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_logistic_adaptation_is_the_map_under_the_learned_prior():
    rng = np.random.default_rng(7)
    X, y, t, _ = related_tasks(rng, 40, 25, rank=1)
    labels = (y > 0).astype(int)
    model = LearnedPriorClassifier(rank=1, max_iter=20).fit(X, labels, task_ids=t)
    Xs, ys, _, _ = related_tasks(rng, 1, 8, rank=1)
    ys = (ys > 0).astype(int)
    model.adapt(Xs, ys, task_ids=np.full(8, 77))
    theta = np.r_[model.adapted_coef_[0], model.adapted_intercept_[0]]
    mean = np.r_[model.prior_mean_[0], model.prior_intercept_mean_[0]]
    precision = np.zeros((6, 6))
    precision[:5, :5] = np.linalg.inv(model.prior_covariance_[0])
    precision[5, 5] = 1 / model.prior_intercept_variance_[0]
    Xa = np.c_[Xs, np.ones(8)]
    gradient = Xa.T @ (expit(Xa @ theta) - ys) + precision @ (theta - mean)
    # A non-trivial prior: the pull toward the mean is as large as the data's.
    assert np.linalg.norm(precision @ (theta - mean)) > 1e-2
    np.testing.assert_allclose(gradient, 0, atol=1e-5)


def test_common_mean_classifier_optimality_conditions():
    rng = np.random.default_rng(8)
    X, y, t, _ = related_tasks(rng, 6, 30)
    labels = (y > 0.5).astype(int)
    alpha, alpha_mean = 1.5, 4.0
    model = CommonMeanRidgeClassifier(alpha=alpha, alpha_mean=alpha_mean).fit(
        X, labels, task_ids=t
    )
    m = np.r_[model.common_coef_[0], model.common_intercept_[0]]
    thetas = np.c_[model.coef_, model.intercept_]
    # Stationarity in m: alpha sum_t (theta_t - m) = alpha_mean [m_w, 0].
    np.testing.assert_allclose(
        alpha * (thetas - m).sum(axis=0), alpha_mean * np.r_[m[:-1], 0.0], atol=1e-5
    )
    for task in range(6):
        Xa = np.c_[X[t == task], np.ones((t == task).sum())]
        g = Xa.T @ (expit(Xa @ thetas[task]) - labels[t == task])
        np.testing.assert_allclose(g + alpha * (thetas[task] - m), 0, atol=1e-5)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_multiclass_one_vs_rest_shapes_and_probabilities():
    rng = np.random.default_rng(9)
    X, y, t, _ = related_tasks(rng, 10, 30)
    labels = np.digitize(y, np.quantile(y, [1 / 3, 2 / 3]))
    model = LearnedPriorClassifier(max_iter=5).fit(X, labels, task_ids=t)
    assert model.coef_.shape == (10, 3, 5) and model.prior_mean_.shape == (3, 5)
    model.adapt(X[:4], labels[:4], task_ids=[99] * 4)
    proba = model.predict_proba(X[:4], task_ids=[99] * 4)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)


# --- model selection on new tasks -----------------------------------------------


def test_meta_task_split_holds_out_whole_tasks():
    t = np.repeat(np.arange(10), 3)
    X = np.c_[np.zeros(30), t]
    splits = list(
        MetaTaskSplit(4, test_size=0.3, random_state=0, task_column=1).split(X)
    )
    assert len(splits) == 4
    for train, test in splits:
        assert np.intersect1d(t[train], t[test]).size == 0
        assert len(np.unique(t[test])) == 3
        np.testing.assert_array_equal(np.sort(np.r_[train, test]), np.arange(30))
    with pytest.raises(ValueError, match="at least one task must be on each side"):
        next(MetaTaskSplit(test_size=10).split(X, task_ids=t))


def test_default_intercept_prior_is_the_learned_one():
    # The default changed from "flat" to "learned" (better few-shot on School).
    rng = np.random.default_rng(18)
    X, y, t, _ = related_tasks(rng, 20, 10)
    Xs, ys, _, _ = related_tasks(rng, 1, 3)
    new = np.full(3, 99)
    models = {
        prior: LearnedPriorRegressor(rank=0, intercept_prior=prior)
        .fit(X, y, task_ids=t)
        .adapt(Xs, ys, task_ids=new)
        for prior in ("learned", "flat")
    }
    default = LearnedPriorRegressor(rank=0).fit(X, y, task_ids=t)
    default.adapt(Xs, ys, task_ids=new)
    assert hasattr(default, "prior_intercept_mean_")
    np.testing.assert_array_equal(
        default.adapted_intercept_, models["learned"].adapted_intercept_
    )
    assert not np.allclose(
        default.adapted_intercept_, models["flat"].adapted_intercept_
    )


def test_adapt_scorer_matches_hand_computation():
    rng = np.random.default_rng(10)
    X, y, t, _ = related_tasks(rng, 20, 12)
    Xn, yn, tn, _ = related_tasks(rng, 3, 10, first_task=50)
    model = LearnedPriorRegressor(rank=1).fit(X, y, task_ids=t)
    score = make_adapt_scorer(4)(model, Xn, yn, task_ids=tn)
    assert not hasattr(model, "adapted_tasks_") or model.adapted_tasks_.size == 0
    expected = []
    for task in (50, 51, 52):
        rows = np.flatnonzero(tn == task)
        hand = clone(model).fit(X, y, task_ids=t)
        hand.adapt(Xn[rows[:4]], yn[rows[:4]], task_ids=tn[rows[:4]])
        pred = hand.predict(Xn[rows[4:]], task_ids=tn[rows[4:]])
        expected.append(r2_score(yn[rows[4:]], pred))
    assert score == pytest.approx(np.mean(expected), rel=1e-10)


def test_adapt_scorer_scores_probabilities_for_ranking_metrics():
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(17)
    X, y, t, _ = related_tasks(rng, 15, 20)
    Xn, yn, tn, _ = related_tasks(rng, 2, 30, first_task=40)
    labels, new_labels = (y > 0).astype(int), (yn > 0).astype(int)
    model = CommonMeanRidgeClassifier(alpha=0.5).fit(X, labels, task_ids=t)
    scorer = make_adapt_scorer(6, roc_auc_score, response_method="predict_proba")
    expected = []
    for task in (40, 41):
        rows = np.flatnonzero(tn == task)
        hand = clone(model).fit(X, labels, task_ids=t)
        hand.adapt(Xn[rows[:6]], new_labels[rows[:6]], task_ids=tn[rows[:6]])
        proba = hand.predict_proba(Xn[rows[6:]], task_ids=tn[rows[6:]])[:, 1]
        expected.append(roc_auc_score(new_labels[rows[6:]], proba))
    score = scorer(model, Xn, new_labels, task_ids=tn)
    assert score == pytest.approx(np.mean(expected), rel=1e-12)
    # AUC of the probabilities, not of the hard labels.
    assert score != pytest.approx(
        make_adapt_scorer(6, roc_auc_score)(model, Xn, new_labels, task_ids=tn)
    )
    with pytest.raises(ValueError, match="response_method='predict_proba' needs"):
        make_adapt_scorer(6, response_method="predict_proba")
    with pytest.raises(ValueError, match="response_method must be one of"):
        make_adapt_scorer(6, roc_auc_score, response_method="proba")


def test_grid_search_scored_on_new_tasks():
    # Task variation along two directions: an isotropic prior (rank 0) must
    # spread its variance over all coefficients and lose at 3 shots.
    rng = np.random.default_rng(11)
    X, y, t, _ = related_tasks(rng, 60, 15, d=6, rank=2, s2=0.001, noise=0.3)
    Xt = np.c_[X, t]
    search = GridSearchCV(
        LearnedPriorRegressor(task_column=-1),
        {"rank": [0, 2]},
        cv=MetaTaskSplit(3, test_size=0.3, random_state=0, task_column=-1),
        scoring=make_adapt_scorer(3),
    ).fit(Xt, y)
    assert search.best_params_ == {"rank": 2}
    scores = search.cv_results_["mean_test_score"]
    assert scores[1] > scores[0]
    assert np.all(np.isfinite(scores))


# --- the contract's errors, clone and pickle -------------------------------------


def test_adapt_errors_name_the_fault():
    rng = np.random.default_rng(12)
    X, y, t, _ = related_tasks(rng, 5, 10)
    model = LearnedPriorRegressor().fit(X, y, task_ids=t)
    with pytest.raises(ValueError, match="adapt needs the new tasks' labels"):
        model.adapt(X[:3], y[:3])
    with pytest.raises(ValueError, match=r"task\(s\) \[0\] that were meta-learned"):
        model.adapt(X[:3], y[:3], task_ids=[0, 0, 0])
    with pytest.raises(ValueError, match="labels of the same kind"):
        model.adapt(X[:3], y[:3], task_ids=["a", "a", "a"])
    with pytest.raises(ValueError, match="features"):
        model.adapt(X[:3, :2], y[:3], task_ids=[9, 9, 9])
    with pytest.raises(ValueError, match="not seen during fit"):
        model.predict(X[:3], task_ids=[9, 9, 9])
    labels = (y > 0).astype(int)
    clf = CommonMeanRidgeClassifier().fit(X, labels, task_ids=t)
    with pytest.raises(ValueError, match=r"class label\(s\) \[2\] not seen in fit"):
        clf.adapt(X[:3], [0, 1, 2], task_ids=[9, 9, 9])


def test_unfinished_em_warns_and_wide_format_fit_serves_adapted_tasks():
    rng = np.random.default_rng(16)
    X, y, t, _ = related_tasks(rng, 6, 10)
    with pytest.warns(ConvergenceWarning, match="max_iter=2"):
        LearnedPriorRegressor(max_iter=2).fit(X, y, task_ids=t)
    with pytest.warns(ConvergenceWarning, match="max_iter=1"):
        LearnedPriorClassifier(max_iter=1).fit(X, y > 0, task_ids=t)
    # Wide format: three tasks sharing X; an adapted task joins the columns.
    Y = np.c_[X @ [1, 2, 0, 0, 1], X @ [1, 1.5, 0, 0, 1], X @ [0.5, 2, 0, 0, 1]]
    model = LearnedPriorRegressor(rank=0).fit(X, Y)
    model.adapt(X[:6], X[:6] @ [1, 2, 0, 0, 1.5], task_ids=[7] * 6)
    np.testing.assert_array_equal(model.tasks_, [0, 1, 2, 7])
    assert model.predict(X[:4]).shape == (4, 4)


def test_clone_and_pickle_keep_adapted_tasks():
    rng = np.random.default_rng(13)
    X, y, t, _ = related_tasks(rng, 8, 10)
    model = LearnedPriorRegressor(rank=1).fit(X, y, task_ids=t)
    model.adapt(X[:4], y[:4], task_ids=[40] * 4)
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(
        restored.predict(X[:4], task_ids=[40] * 4),
        model.predict(X[:4], task_ids=[40] * 4),
    )
    assert not hasattr(clone(model), "tasks_")


# Short EM runs keep the checks fast; their ConvergenceWarning is expected.
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@parametrize_with_checks(
    [
        LearnedPriorRegressor(),
        LearnedPriorRegressor(rank=0, intercept_prior="learned"),
        CommonMeanRidge(),
        LearnedPriorClassifier(max_iter=10),
        CommonMeanRidgeClassifier(),
    ]
)
def test_sklearn_compatible(estimator, check):
    check(estimator)
