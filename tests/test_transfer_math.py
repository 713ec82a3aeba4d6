"""Transfer algorithms against hand computations, at non-trivial settings.

Each test re-derives the published algorithm step by step with plain numpy /
scipy and a deterministic base learner that records the sample weights it was
trained with, so a wrong sign, an ignored parameter or a wrong mask shows up
as a mismatch (see the planted mistakes named in each docstring).
"""

import numpy as np
import pytest
import scipy.linalg
import scipy.optimize
from sklearn.metrics.pairwise import rbf_kernel
from sklearn.model_selection import KFold
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

from sklearn_mtl import TransferClassifier, TransferRegressor
from sklearn_mtl.transfer import CORAL, kmm_weights
from sklearn_mtl.transfer._instance import (
    _shift_to_target,
    fit_tradaboost,
    fit_two_stage_tradaboost_r2,
)


class _RecordingStumpClassifier(DecisionTreeClassifier):
    """A deterministic stump that keeps the sample weights it was fitted with."""

    def fit(self, X, y, sample_weight=None):
        self.seen_weight_ = np.array(sample_weight, dtype=float)
        return super().fit(X, y, sample_weight=sample_weight)


class _RecordingStumpRegressor(DecisionTreeRegressor):
    def fit(self, X, y, sample_weight=None):
        self.seen_weight_ = np.array(sample_weight, dtype=float)
        return super().fit(X, y, sample_weight=sample_weight)


# -- CORAL --------------------------------------------------------------------


def test_coral_transform_by_hand_with_regularization():
    """Catches: CORAL ignoring ``regularization`` (C = cov without lambda I)."""
    rng = np.random.RandomState(0)
    source = rng.normal(size=(40, 3)) @ [[2, 0, 0], [1, 1, 0], [0, 0, 0.5]]
    target = rng.normal(size=(30, 3)) @ [[0.5, 0.2, 0], [0, 1, 0], [0.3, 0, 2]] + 4
    X = np.vstack([source, target])
    domains = np.repeat(["s", "t"], [40, 30])
    lam = 0.7
    coral = CORAL(target="t", regularization=lam).fit(X, task_ids=domains)
    C_s = np.cov(source.T) + lam * np.eye(3)
    C_t = np.cov(target.T) + lam * np.eye(3)
    A = np.linalg.inv(scipy.linalg.sqrtm(C_s)) @ scipy.linalg.sqrtm(C_t)
    np.testing.assert_allclose(coral.transform_, A.real, rtol=1e-8, atol=1e-10)
    expected = (source - source.mean(0)) @ A.real + target.mean(0)
    aligned = coral.transform(X, task_ids=domains)
    np.testing.assert_allclose(aligned[:40], expected, rtol=1e-8, atol=1e-8)
    np.testing.assert_array_equal(aligned[40:], target)
    # The aligned sources' covariance is C_s^{-1/2}... applied: by hand too.
    np.testing.assert_allclose(
        np.cov(aligned[:40].T), A.real.T @ np.cov(source.T) @ A.real, atol=1e-8
    )


# -- KMM ----------------------------------------------------------------------


def _kmm_by_hand(X_source, X_target, gamma, bound, epsilon):
    """The KMM quadratic programme (Huang et al., 2007) solved by SLSQP."""
    n_s, n_t = len(X_source), len(X_target)
    K = rbf_kernel(X_source, X_source, gamma=gamma)
    kappa = (n_s / n_t) * rbf_kernel(X_source, X_target, gamma=gamma).sum(axis=1)
    constraints = [  # n_s (1 - eps) <= sum(beta) <= n_s (1 + eps)
        {"type": "ineq", "fun": lambda b: b.sum() - n_s * (1 - epsilon)},
        {"type": "ineq", "fun": lambda b: n_s * (1 + epsilon) - b.sum()},
    ]
    result = scipy.optimize.minimize(
        lambda b: 0.5 * b @ K @ b - kappa @ b,
        np.ones(n_s),
        jac=lambda b: K @ b - kappa,
        method="SLSQP",
        bounds=[(0, bound)] * n_s,
        constraints=constraints,
        options={"ftol": 1e-14, "maxiter": 1000},
    )
    assert result.success
    return result.x, 0.5 * result.x @ K @ result.x - kappa @ result.x


@pytest.mark.parametrize(
    "seed, loc, scale, gamma, side",
    [(0, 1.5, 0.5, 0.5, "lower"), (1, 0.0, 0.1, 1.0, "upper")],
)
def test_kmm_weights_solve_the_constrained_qp(seed, loc, scale, gamma, side):
    """Catches: the sum constraint with the wrong sign (band pushed the wrong way).

    The band binds here (the unconstrained optimum's sum is far outside), so
    the weights must equal the hand-solved QP's, not merely lie in the band
    (the final rescaling puts any answer in the band).
    """
    rng = np.random.RandomState(seed)
    X_source = rng.normal(size=(12, 2))
    X_target = rng.normal(loc=loc, scale=scale, size=(6, 2))
    bound, epsilon = 5.0, 0.05
    beta = kmm_weights(X_source, X_target, gamma=gamma, bound=bound, epsilon=epsilon)
    n_s = len(X_source)
    assert abs(beta.sum() / n_s - 1) <= epsilon + 1e-9
    assert np.all((beta >= 0) & (beta <= bound))
    expected, optimum = _kmm_by_hand(X_source, X_target, gamma, bound, epsilon)
    free, _ = _kmm_by_hand(X_source, X_target, gamma, bound, 10.0)
    # The band binds on the intended side (the hinge's two signs are tested).
    assert (free.sum() / n_s - 1) * (1 if side == "upper" else -1) > 2 * epsilon
    np.testing.assert_allclose(beta, expected, atol=2e-3 * bound)
    K = rbf_kernel(X_source, X_source, gamma=gamma)
    kappa = (n_s / 6) * rbf_kernel(X_source, X_target, gamma=gamma).sum(axis=1)
    assert 0.5 * beta @ K @ beta - kappa @ beta <= optimum + 1e-4 * abs(optimum)


# -- TrAdaBoost (Dai et al., 2007) ---------------------------------------------


@pytest.fixture
def tiny_classification():
    """Sources labelled by a shifted threshold, a small target with a flipped label.

    Chosen so that the rounds' stumps differ (thresholds 0.80, 0.11, -1.54)
    and every round's target error lies strictly inside (0, 1/2).
    """
    rng = np.random.RandomState(10)
    X_source = rng.uniform(-2, 2, size=(14, 1))
    y_source = (X_source[:, 0] > 0.8).astype(int)
    X_target = rng.uniform(-2, 2, size=(9, 1))
    y_target = (X_target[:, 0] > 0).astype(int)
    y_target[np.argmin(X_target[:, 0])] = 1  # no stump fits the target exactly
    X = np.vstack([X_source, X_target])
    y = np.r_[y_source, y_target]
    is_source = np.r_[np.ones(14, bool), np.zeros(9, bool)]
    return X, y, is_source


def _tradaboost_by_hand(X, y, is_source, n_rounds):
    """Algorithm 1 of Dai et al. (2007), with equal initial weights."""
    n = is_source.sum()
    beta_source = 1 / (1 + np.sqrt(2 * np.log(n) / n_rounds))
    w = np.full(len(y), 1.0 / len(y))
    seen, betas, learners = [], [], []
    for _ in range(n_rounds):
        p = w / w.sum()
        learner = DecisionTreeClassifier(max_depth=1, random_state=0)
        learner.fit(X, y, sample_weight=p * len(y))
        miss = (learner.predict(X) != y).astype(float)
        # The error is measured on the target rows only.
        t = ~is_source
        eps = np.sum(w[t] * miss[t]) / np.sum(w[t])
        assert 0 < eps < 0.5, eps  # the test data keeps the formula unclipped
        beta_t = eps / (1 - eps)
        w = np.where(is_source, w * beta_source**miss, w * beta_t ** (-miss))
        seen.append(p * len(y))
        betas.append(beta_t)
        learners.append(learner)
    return seen, np.array(betas), learners, w


@pytest.mark.parametrize("n_rounds", [3, 4])
def test_tradaboost_by_hand(tiny_classification, n_rounds):
    """Catches: the error measured on all rows; voting with the wrong half.

    TrAdaBoost votes with its last ceil(N/2) learners, each weighted
    log(1/beta_t); with N=3 that is rounds 2 and 3, with N=4 rounds 3 and 4.
    """
    X, y, is_source = tiny_classification
    base = _RecordingStumpClassifier(max_depth=1, random_state=0)
    model, weights = fit_tradaboost(
        base, X, y, np.ones(len(y)), is_source, np.array([0, 1]), n_rounds
    )
    seen, betas, learners, hand_weights = _tradaboost_by_hand(X, y, is_source, n_rounds)
    voters = n_rounds - n_rounds // 2  # ceil(N/2)
    assert len(model.learners) == voters
    for learner, expected in zip(model.learners, seen[-voters:]):
        np.testing.assert_allclose(learner.seen_weight_, expected, rtol=1e-10)
    np.testing.assert_allclose(model.learner_weights, np.log(1 / betas[-voters:]))
    np.testing.assert_allclose(weights, hand_weights, rtol=1e-10)
    # The vote, by hand, on a grid; the rounds' stumps differ so the half matters.
    grid = np.linspace(-2, 2, 81)[:, None]
    votes = np.array([m.predict_proba(grid)[:, 1] for m in learners])
    assert np.ptp(votes, axis=0).max() > 0.5
    vote_weights = np.log(1 / betas[-voters:])
    expected = vote_weights @ votes[-voters:] / vote_weights.sum()
    np.testing.assert_allclose(model.predict_proba(grid)[:, 1], expected)
    wrong_half = np.log(1 / betas[:voters]) @ votes[:voters]
    assert not np.allclose(expected, wrong_half / np.log(1 / betas[:voters]).sum())


def test_tradaboost_through_the_classifier(tiny_classification):
    """The public estimator runs the same algorithm (sources = non-target tasks)."""
    X, y, is_source = tiny_classification
    domain = np.where(is_source, "s", "t")
    model = TransferClassifier(
        _RecordingStumpClassifier(max_depth=1, random_state=0),
        method="tradaboost",
        target="t",
        n_estimators=3,
        boosting_errors="training",
    ).fit(X, y, task_ids=domain)
    # The estimator puts sources first, as the hand run does.
    _, betas, learners, _ = _tradaboost_by_hand(X, y, is_source, 3)
    grid = np.linspace(-2, 2, 81)[:, None]
    votes = np.array([m.predict_proba(grid)[:, 1] for m in learners[1:]])
    expected = np.log(1 / betas[1:]) @ votes / np.log(1 / betas[1:]).sum()
    np.testing.assert_allclose(model.predict_proba(grid)[:, 1], expected)


# -- two-stage TrAdaBoost.R2 (Pardoe & Stone, 2010) -----------------------------


@pytest.fixture
def tiny_regression():
    """Sources with a step the target lacks; cross-validation prefers step 1."""
    rng = np.random.RandomState(21)
    X_source = rng.uniform(-2, 2, size=(16, 1))
    y_source = np.sin(X_source[:, 0]) + 1.5 * (X_source[:, 0] > 0.5)
    X_target = rng.uniform(-2, 2, size=(8, 1))
    y_target = np.sin(X_target[:, 0]) + 0.1 * rng.normal(size=8)
    X = np.vstack([X_source, X_target])
    is_source = np.r_[np.ones(16, bool), np.zeros(8, bool)]
    return X, np.r_[y_source, y_target], is_source


def _adaboost_r2_by_hand(X, y, w, is_source, n_rounds):
    """AdaBoost.R2 (Drucker, 1997), linear loss, source weights frozen."""
    w = w.copy()
    learners, learner_weights, seen = [], [], []
    for _ in range(n_rounds):
        learner = DecisionTreeRegressor(max_depth=1, random_state=0)
        learner.fit(X, y, sample_weight=w / w.mean())
        seen.append(w / w.mean())
        e = np.abs(learner.predict(X) - y)
        e = e / e.max()
        loss = np.sum(w / w.sum() * e)
        assert loss < 0.5
        beta = loss / (1 - loss)
        learners.append(learner)
        learner_weights.append(np.log(1 / beta))
        w = np.where(is_source, w, w * beta ** (1 - e))  # only the target moves
    return learners, np.array(learner_weights), seen


def _weighted_median_by_hand(learners, learner_weights, X):
    out = []
    for row in np.column_stack([m.predict(X) for m in learners]):
        order = np.argsort(row)
        cumulative = np.cumsum(learner_weights[order])
        out.append(row[order][np.argmax(cumulative >= cumulative[-1] / 2)])
    return np.array(out)


def _shift_by_hand(w, e, is_source, share):
    """Stage 1: source weights w_i beta^e_i, target weights kept, target share."""
    target_total = w[~is_source].sum()
    wanted = target_total * (1 - share) / share

    def excess(log_beta):
        return np.sum(w[is_source] * np.exp(log_beta * e[is_source])) - wanted

    if excess(-50.0) > 0:  # error-free sources keep weight: beta = e^-50
        log_beta = -50.0
    else:
        log_beta = scipy.optimize.brentq(excess, -50, 0, xtol=1e-12)
    out = w.copy()
    out[is_source] *= np.exp(log_beta * e[is_source])
    return out / out.sum()


def test_stage_two_reweights_only_the_target(tiny_regression):
    """Catches: AdaBoost.R2 of stage 2 reweighting the sources too."""
    from sklearn_mtl.transfer._instance import _adaboost_r2_frozen_source

    X, y, is_source = tiny_regression
    w = np.where(is_source, 0.5, 2.0)  # unequal starting weights
    model = _adaboost_r2_frozen_source(
        _RecordingStumpRegressor(max_depth=1, random_state=0), X, y, w, is_source, 3
    )
    learners, learner_weights, seen = _adaboost_r2_by_hand(X, y, w, is_source, 3)
    for learner, expected in zip(model.learners, seen):
        np.testing.assert_allclose(learner.seen_weight_, expected, rtol=1e-10)
    np.testing.assert_allclose(model.learner_weights, learner_weights)
    grid = np.linspace(-2, 2, 41)[:, None]
    np.testing.assert_allclose(
        model.predict(grid), _weighted_median_by_hand(learners, learner_weights, grid)
    )


def test_stage_one_moves_weight_from_the_sources(tiny_regression):
    """Catches: stage 1 scaling target weights, or sources by beta^(-e)."""
    X, y, is_source = tiny_regression
    rng = np.random.RandomState(0)
    w = rng.uniform(0.5, 1.5, size=len(y))
    w /= w.sum()
    e = rng.uniform(0, 1, size=len(y))
    shifted = _shift_to_target(w, e, is_source, 0.6)
    np.testing.assert_allclose(shifted, _shift_by_hand(w, e, is_source, 0.6))
    assert shifted[~is_source].sum() == pytest.approx(0.6)
    # Sources with larger errors lose more weight (beta < 1).
    ratio = shifted[is_source] / w[is_source]
    assert np.all(np.diff(ratio[np.argsort(e[is_source])]) < 0)


def test_two_stage_tradaboost_r2_by_hand(tiny_regression):
    """The whole two-stage run with 3 steps and 3 rounds, cross-validation too.

    Catches any of the above inside the full algorithm, and stage 1 using the
    wrong step's target share.
    """
    X, y, is_source = tiny_regression
    n_steps, n_rounds, folds = 3, 3, 2
    model = fit_two_stage_tradaboost_r2(
        _RecordingStumpRegressor(max_depth=1, random_state=0),
        X,
        y,
        np.ones(len(y)),
        is_source,
        n_steps=n_steps,
        n_estimators=n_rounds,
        cv=folds,
        random_state=0,
    )
    n, m = is_source.sum(), (~is_source).sum()
    target_rows = np.flatnonzero(~is_source)
    splits = list(KFold(folds, shuffle=True, random_state=0).split(target_rows))
    w = np.full(len(y), 1 / len(y))
    best, best_w, cv_errors = np.inf, None, []
    for step in range(n_steps):
        errors = []
        for _, test in splits:
            keep = np.ones(len(y), bool)
            keep[target_rows[test]] = False
            learners, lw, _ = _adaboost_r2_by_hand(
                X[keep], y[keep], w[keep], is_source[keep], n_rounds
            )
            rows = target_rows[test]
            prediction = _weighted_median_by_hand(learners, lw, X[rows])
            errors.append(np.mean((prediction - y[rows]) ** 2))
        cv_errors.append(np.mean(errors))
        if np.mean(errors) < best:
            best, best_w = np.mean(errors), w.copy()
        stump = DecisionTreeRegressor(max_depth=1, random_state=0)
        stump.fit(X, y, sample_weight=w / w.mean())
        e = np.abs(stump.predict(X) - y)
        e /= e.max()
        # The paper's last step leaves the target all the weight (share 1).
        share = m / (n + m) + (step + 1) / (n_steps - 1) * (1 - m / (n + m))
        w = _shift_by_hand(w, e, is_source, min(share, 1 - 1e-9))
    assert np.argmin(cv_errors) > 0  # the test exercises a reweighted step
    learners, lw, seen = _adaboost_r2_by_hand(X, y, best_w, is_source, n_rounds)
    for learner, expected in zip(model.learners, seen):
        np.testing.assert_allclose(learner.seen_weight_, expected, rtol=1e-8)
    grid = np.linspace(-2, 2, 41)[:, None]
    np.testing.assert_allclose(
        model.predict(grid), _weighted_median_by_hand(learners, lw, grid)
    )
    regressor = TransferRegressor(
        _RecordingStumpRegressor(max_depth=1, random_state=0),
        method="tradaboost",
        target="t",
        n_estimators=3,
        cv_folds=2,
        random_state=0,
    ).fit(X, y, task_ids=np.where(is_source, "s", "t"))
    np.testing.assert_allclose(
        regressor.predict(grid), _weighted_median_by_hand(learners, lw, grid)
    )
