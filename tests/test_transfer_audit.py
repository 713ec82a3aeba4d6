"""Audit of sklearn_mtl.transfer: tests written for planted mistakes the rest
of the suite let through, and for bad inputs that gave a silent wrong answer
or a traceback from deep inside numpy/scipy/sklearn.

Each test compares against a reference computed independently (POT's own
solver, scipy, a hand computation at unequal sizes and weights); the
docstring names the planted mistake it catches.
"""

import warnings

import numpy as np
import pytest
import scipy.linalg
from sklearn.linear_model import LogisticRegression, Ridge

from sklearn_mtl.transfer import (
    CORAL,
    EntropicOTMapping,
    discriminator_weights,
    fit_jdot,
    kliep_weights,
    kmm_weights,
    nn_weights,
)

ot = pytest.importorskip("ot")


def _two_domains(n_source=30, n_target=20, n_features=3, seed=0):
    rng = np.random.RandomState(seed)
    X_source = rng.normal(size=(n_source, n_features))
    X_target = rng.normal(size=(n_target, n_features)) @ np.diag([2.0, 0.5, 1.0])
    X_target = X_target[:, :n_features] + 1.0
    X = np.vstack([X_source, X_target])
    domains = np.repeat(["s", "t"], [n_source, n_target])
    return X, domains, X_source, X_target


# -- mapping: entropic OT ------------------------------------------------------
def test_entropic_ot_plan_is_pots_with_uniform_marginals_of_unequal_sizes():
    """Plant: target marginal 1/n_source instead of 1/n_target (equal sizes
    hide it). The plan must be POT's sinkhorn_log plan for the uniform
    marginals, on squared costs, with reg scaled by the median cost."""
    X, domains, X_source, X_target = _two_domains(30, 20)
    mapping = EntropicOTMapping(target="t", reg=0.3).fit(X, task_ids=domains)
    cost = ot.dist(X_source, X_target)  # squared Euclidean
    reg = 0.3 * np.median(cost)
    assert mapping.reg_ == pytest.approx(reg)
    reference = ot.sinkhorn(
        np.full(30, 1 / 30),
        np.full(20, 1 / 20),
        cost,
        reg,
        method="sinkhorn_log",
        numItermax=1000,
        stopThr=1e-9,
    )
    np.testing.assert_allclose(mapping.coupling_, reference, atol=1e-12)
    np.testing.assert_allclose(mapping.coupling_.sum(axis=0), 1 / 20, rtol=1e-6)
    np.testing.assert_allclose(mapping.coupling_.sum(axis=1), 1 / 30, rtol=1e-6)


# -- reweighting: KLIEP --------------------------------------------------------
def _kliep_reference(X_source, X_target, gamma):
    """KLIEP as Sugiyama et al. state it, solved by SLSQP: centres at every
    target row, max mean_j log w(x_j^t) s.t. mean_i w(x_i^s) = 1, alpha >= 0."""
    from scipy.optimize import minimize
    from scipy.spatial.distance import cdist

    A = np.exp(-gamma * cdist(X_target, X_target, "sqeuclidean"))
    K_s = np.exp(-gamma * cdist(X_source, X_target, "sqeuclidean"))
    b = K_s.mean(axis=0)
    result = minimize(
        lambda a: -np.mean(np.log(A @ a + 1e-300)),
        np.full(len(X_target), 1.0 / b.sum()),
        jac=lambda a: -A.T @ (1.0 / (A @ a + 1e-300)) / len(X_target),
        constraints=[{"type": "eq", "fun": lambda a: b @ a - 1.0, "jac": lambda a: b}],
        bounds=[(0.0, None)] * len(X_target),
        method="SLSQP",
        options={"maxiter": 1000, "ftol": 1e-14},
    )
    return K_s @ result.x


def test_kliep_equals_constrained_reference_with_centres_on_target_rows():
    """Plant: kernel centres drawn from the source rows. With n_centers above
    n_target every target row is a centre; the weights must equal the
    constrained maximum-likelihood solution (SLSQP), unequal domain sizes."""
    rng = np.random.RandomState(3)
    X_source = rng.normal(size=(25, 2))
    X_target = rng.normal(loc=0.8, scale=0.7, size=(12, 2))
    weights = kliep_weights(X_source, X_target, n_centers=100, gamma=0.5)
    reference = _kliep_reference(X_source, X_target, 0.5)
    # The likelihood is flat near its maximum: L-BFGS-B stops within ~1 %.
    np.testing.assert_allclose(weights, reference / reference.mean(), rtol=3e-2)


def test_kliep_default_gamma_is_the_median_heuristic():
    """Plant: gamma = 1 / (2 sigma) instead of 1 / (2 sigma^2). Data spread
    so that sigma is far from 1."""
    from scipy.spatial.distance import pdist

    rng = np.random.RandomState(4)
    X_source = 3.0 * rng.normal(size=(30, 2))
    X_target = 3.0 * rng.normal(loc=0.5, size=(20, 2))
    sigma = np.median(pdist(np.vstack([X_source, X_target])))
    np.testing.assert_allclose(
        kliep_weights(X_source, X_target),
        kliep_weights(X_source, X_target, gamma=1.0 / (2.0 * sigma**2)),
        rtol=1e-10,
    )


# -- reweighting: KMM ----------------------------------------------------------
def test_kmm_default_gamma_is_one_over_features_times_variance():
    """Plant: gamma = 1 / var (the 1 / n_features dropped). Three features,
    variance far from 1."""
    rng = np.random.RandomState(5)
    X_source = 2.0 * rng.normal(size=(40, 3))
    X_target = 2.0 * rng.normal(loc=0.7, size=(25, 3))
    gamma = 1.0 / (3 * np.vstack([X_source, X_target]).var())
    np.testing.assert_allclose(
        kmm_weights(X_source, X_target),
        kmm_weights(X_source, X_target, gamma=gamma),
        rtol=1e-8,
        atol=1e-8,
    )


def test_nearest_neighbour_method_multiplies_the_user_weights():
    """Plants: the nearest-neighbour weights replacing the sources' sample
    weights instead of multiplying them, or the labelled target rows'
    weights replaced by 1. The fit must be Ridge with weights
    ``nn_weights(X_source, every target row) * w_source`` and ``w_target``."""
    from sklearn_mtl.transfer import TransferRegressor

    rng = np.random.RandomState(2)
    X = rng.normal(size=(30, 2))
    X[20:] += 0.7
    task_ids = np.repeat(["s", "t"], [20, 10])
    y = X @ [1.0, -1.0] + np.cos(np.arange(30.0))
    y[[22, 25, 27]] = np.nan
    weights = rng.uniform(0.2, 3.0, size=30)
    model = TransferRegressor(
        Ridge(alpha=0.3), target="t", method="nearest_neighbors"
    ).fit(X, y, task_ids=task_ids, sample_weight=weights)
    beta = nn_weights(X[:20], X[20:])
    labelled = np.flatnonzero(~np.isnan(y))
    reference = Ridge(alpha=0.3).fit(
        X[labelled],
        y[labelled],
        sample_weight=np.r_[beta * weights[:20], weights[labelled[20:]]],
    )
    np.testing.assert_allclose(model.predict(X), reference.predict(X), rtol=1e-10)


# -- parameter transfer --------------------------------------------------------
@pytest.mark.parametrize("n_classes", [None, 2, 3])
def test_parameter_transfer_weights_equal_repeated_rows(n_classes):
    """Plant: the sample weights dropped (ridge on the residual, or the
    logistic loss). Integer weights must give the fit on rows repeated that
    many times; regression is also checked against the closed form of
    ``sum_i w_i (y_i - x_i c - b)^2 + alpha ||c - c_src||^2``."""
    from sklearn_mtl.transfer._parameter import fit_parameter_transfer

    rng = np.random.RandomState(6)
    X = rng.normal(size=(24, 3))
    weights = rng.randint(1, 4, size=24).astype(float)
    alpha = 2.5
    if n_classes is None:
        y, classes = X @ [1.0, -2.0, 0.5] + rng.normal(size=24), None
        source_coef = np.array([[0.5, -1.0, 0.0]])
    else:
        y = np.arange(24) % n_classes
        X[:, 0] += y  # some signal
        classes = np.arange(n_classes)
        source_coef = rng.normal(size=(1 if n_classes == 2 else n_classes, 3))
    repeat = weights.astype(int)
    weighted = fit_parameter_transfer(X, y, weights, source_coef, alpha, classes)
    repeated = fit_parameter_transfer(
        np.repeat(X, repeat, axis=0),
        np.repeat(y, repeat),
        np.ones(repeat.sum()),
        source_coef,
        alpha,
        classes,
    )
    np.testing.assert_allclose(weighted.coef_, repeated.coef_, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(
        weighted.intercept_, repeated.intercept_, rtol=1e-5, atol=1e-6
    )
    if n_classes is None:
        # Normal equations with an unpenalized intercept column.
        Z = np.c_[X, np.ones(24)]
        penalty = np.diag([alpha] * 3 + [0.0])
        target = np.r_[alpha * source_coef[0], 0.0]
        theta = np.linalg.solve(
            Z.T @ (weights[:, None] * Z) + penalty, Z.T @ (weights * y) + target
        )
        np.testing.assert_allclose(weighted.coef_[0], theta[:3], rtol=1e-8)
        np.testing.assert_allclose(weighted.intercept_[0], theta[3], rtol=1e-8)


def test_held_out_tradaboost_source_factor_is_dai_et_al(monkeypatch):
    """Plant: beta = 1 / (1 + 2 ln n / N) (square root dropped) in the
    cross-fitted TrAdaBoost. Every round must use Dai et al.'s
    beta = 1 / (1 + sqrt(2 ln n_source / N))."""
    from sklearn.tree import DecisionTreeClassifier

    from sklearn_mtl.transfer import _boosting

    factors = []
    original = _boosting.tradaboost_update

    def recording(weights, wrong, is_source, beta_source, beta_target):
        factors.append(beta_source)
        return original(weights, wrong, is_source, beta_source, beta_target)

    monkeypatch.setattr(_boosting, "tradaboost_update", recording)
    rng = np.random.RandomState(0)
    X = rng.normal(size=(40, 2))
    y = (X[:, 0] + 0.5 * rng.normal(size=40) > 0).astype(int)
    is_source = np.arange(40) < 28
    _boosting.fit_tradaboost_held_out(
        DecisionTreeClassifier(max_depth=1),
        X,
        y,
        np.ones(40),
        is_source,
        np.array([0, 1]),
        4,
        random_state=0,
    )
    expected = 1.0 / (1.0 + np.sqrt(2.0 * np.log(28) / 4))
    assert factors == pytest.approx([expected] * 4, rel=1e-12)


# -- JDOT ----------------------------------------------------------------------
def test_jdot_makes_exactly_n_iter_plan_updates_as_by_hand():
    """Plant: one plan update fewer than n_iter. Two alternations by hand
    (POT's emd on median-scaled squared distances plus alpha times the
    squared error over var(y); Ridge refitted with weights n_t G_ij) must
    give fit_jdot's plan and model with n_iter=2, tol=0."""
    rng = np.random.RandomState(7)
    X_source = rng.normal(size=(15, 2))
    y_source = X_source @ [1.5, -1.0] + 0.3 * rng.normal(size=15)
    X_target = rng.normal(size=(12, 2)) @ [[1.2, 0.3], [0.0, 0.8]] + 0.7
    alpha = 3.0
    distances = ot.dist(X_source, X_target)
    distances = distances / np.median(distances)
    model = Ridge().fit(X_source, y_source)
    plans = []
    for _ in range(2):
        cost = distances + alpha * (
            (y_source[:, None] - model.predict(X_target)[None, :]) ** 2
        ) / np.var(y_source)
        plan = ot.emd(np.full(15, 1 / 15), np.full(12, 1 / 12), cost)
        i, j = np.nonzero(plan > plan.max() * 1e-10)
        model = Ridge().fit(X_target[j], y_source[i], sample_weight=12 * plan[i, j])
        plans.append(plan)
    assert np.abs(plans[0] - plans[1]).max() > 1e-3  # the second update matters
    fitted, fitted_plan, n_done = fit_jdot(
        Ridge(),
        X_source,
        y_source,
        X_target,
        classification=False,
        alpha=alpha,
        n_iter=2,
        tol=0.0,
    )
    assert n_done == 2
    np.testing.assert_allclose(fitted_plan, plans[1], atol=1e-12)
    np.testing.assert_allclose(fitted.coef_, model.coef_, rtol=1e-10)


# -- domains, weights and labels through the estimators ------------------------
def _mixed_target(seed=8):
    """6 source rows of 2 tasks, then 5 target rows whose labelled ones are
    not the first (rows 7 and 10 unlabelled), unequal weights."""
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(11, 2))
    task_ids = np.array(["a", "t", "b", "a", "b", "a", "t", "t", "t", "b", "t"])
    y = np.array([0, np.nan, 1, 0, 1, 0, 1, 0, np.nan, 0, 1])
    weights = np.arange(1.0, 12.0)
    return X, y, task_ids, weights


def test_split_places_each_target_label_and_weight_on_its_own_row():
    """Plants: the labelled target rows' positions taken among all rows, and
    their sample weights replaced by 1 (in the rows every extra method
    reads: sources, then every target row with NaN where unlabelled)."""
    from sklearn_mtl.transfer import TransferClassifier
    from sklearn_mtl.transfer._domains import split_source_target
    from sklearn_mtl.transfer._extra_methods import all_target_rows

    X, y, task_ids, weights = _mixed_target()
    model = TransferClassifier(LogisticRegression(), target="t")
    _, split = split_source_target(
        model, X, y, task_ids, weights, classifier=True, allow_unlabelled=True
    )
    X_all, y_all, w_all, domains = all_target_rows(split, classifier=True)
    target = task_ids == "t"
    np.testing.assert_array_equal(X_all, np.vstack([X[~target], X[target]]))
    np.testing.assert_array_equal(y_all[6:], y[target])  # NaN where unlabelled
    np.testing.assert_array_equal(w_all[:6], weights[~target])
    labelled = ~np.isnan(y[target])
    np.testing.assert_array_equal(w_all[6:][labelled], weights[target][labelled])
    np.testing.assert_array_equal(domains, np.repeat(["source", "target"], [6, 5]))


@pytest.mark.parametrize("method", ["pooled", "source_only"])
def test_source_sample_weights_reach_the_estimator(method):
    """Plant: the sources' sample weights replaced by 1. Pooled and
    source-only must be the weighted Ridge fits of their rows."""
    from sklearn_mtl.transfer import TransferRegressor

    X, _, task_ids, weights = _mixed_target()
    y = X @ [1.0, -2.0] + np.sin(np.arange(11.0))
    model = TransferRegressor(Ridge(alpha=0.5), target="t", method=method)
    model.fit(X, y, task_ids=task_ids, sample_weight=weights)
    rows = task_ids != "t" if method == "source_only" else np.ones(11, bool)
    reference = Ridge(alpha=0.5).fit(X[rows], y[rows], sample_weight=weights[rows])
    np.testing.assert_allclose(model.predict(X), reference.predict(X), rtol=1e-10)


def test_score_over_labelled_rows_keeps_their_weights():
    """Plant: sample_weight dropped when unlabelled rows are left out of
    score. The score must be the weighted accuracy of the labelled rows."""
    from sklearn.metrics import accuracy_score

    from sklearn_mtl.transfer import TransferClassifier

    X, y, task_ids, weights = _mixed_target()
    model = TransferClassifier(LogisticRegression(), target="t", method="pooled")
    model.fit(X, y, task_ids=task_ids)
    y_test = np.array([0, 1, np.nan, 1, 1, 0, np.nan, 0, 1, 0, 1])
    keep = ~np.isnan(y_test)
    expected = accuracy_score(
        y_test[keep], model.predict(X[keep]), sample_weight=weights[keep]
    )
    assert expected != accuracy_score(y_test[keep], model.predict(X[keep]))
    assert model.score(X, y_test, sample_weight=weights) == pytest.approx(expected)


# -- deep ----------------------------------------------------------------------
@pytest.mark.parametrize("classification", [False, True])
def test_deep_label_loss_is_the_weighted_mean(classification):
    """Plant: the label loss as the plain mean (sample weights ignored)."""
    torch = pytest.importorskip("torch")
    pytest.importorskip("skorch")
    from types import SimpleNamespace

    from sklearn_mtl.transfer._deep_net import DomainAdaptationNet

    generator = torch.Generator().manual_seed(0)
    output = torch.randn(6, 3 if classification else 1, generator=generator)
    weight = torch.tensor([1.0, 3.0, 0.5, 2.0, 1.0, 4.0])
    if classification:
        y = torch.tensor([0, 2, 1, 1, 0, 2])
        rows = -torch.log_softmax(output, dim=1)[torch.arange(6), y]
    else:
        y = torch.randn(6, generator=generator)
        rows = (output[:, 0] - y) ** 2
    net = SimpleNamespace(classification=classification)
    loss = DomainAdaptationNet.label_loss(net, output, y, weight)
    expected = float((weight * rows).sum() / weight.sum())
    assert float(loss) == pytest.approx(expected, rel=1e-6)
    assert abs(expected - float(rows.mean())) > 1e-3


def test_deep_domain_loss_sees_sources_and_every_target_row(monkeypatch):
    """Plant: the labelled target rows passed to the domain loss as source
    features. In one batch holding every row, the domain loss must get the
    source rows' features only and every target row's (labelled or not)."""
    pytest.importorskip("skorch")
    from sklearn_mtl.transfer import DeepCORALRegressor
    from sklearn_mtl.transfer._deep_net import DomainAdaptationNet

    seen = []
    original = DomainAdaptationNet.domain_loss

    def recording(self, source_features, target_features):
        seen.append((len(source_features), len(target_features)))
        return original(self, source_features, target_features)

    monkeypatch.setattr(DomainAdaptationNet, "domain_loss", recording)
    rng = np.random.RandomState(0)
    X = rng.normal(size=(20, 3))
    task_ids = np.repeat(["s", "t"], [12, 8])
    y = X[:, 0].copy()
    y[[14, 17]] = np.nan  # 6 labelled and 2 unlabelled target rows
    DeepCORALRegressor(
        target="t", max_epochs=1, batch_size=64, hidden_layer_sizes=(4,)
    ).fit(X, y, task_ids=task_ids)
    assert seen == [(12, 8)]


def test_deep_regressor_standardizes_with_the_weighted_moments():
    """Plant: the target mean unweighted. With unequal sample weights the
    stored mean and scale must be the weighted moments of the labelled rows
    (sources and labelled target rows; unlabelled rows carry no label)."""
    pytest.importorskip("skorch")
    from sklearn_mtl.transfer import DANNRegressor

    rng = np.random.RandomState(0)
    X = rng.normal(size=(20, 3))
    task_ids = np.repeat(["s", "t"], [12, 8])
    y = 3.0 + 2.0 * X[:, 0]
    y[[15, 18]] = np.nan
    weights = np.linspace(0.5, 5.0, 20)
    model = DANNRegressor(
        target="t", max_epochs=1, hidden_layer_sizes=(4,), random_state=0
    ).fit(X, y, task_ids=task_ids, sample_weight=weights)
    labelled = ~np.isnan(y)
    mean = np.average(y[labelled], weights=weights[labelled])
    scale = np.sqrt(np.average((y[labelled] - mean) ** 2, weights=weights[labelled]))
    assert model.target_mean_ == pytest.approx(mean, rel=1e-12)
    assert model.target_scale_ == pytest.approx(scale, rel=1e-12)
    assert abs(mean - y[labelled].mean()) > 0.1  # the weights matter here


# -- splitters -----------------------------------------------------------------
def test_leave_one_domain_out_holds_out_the_rounded_up_share_of_each_source():
    """Plant: floor instead of ceil of source_test_size * n. Domains of 10,
    7 and 3 rows at 0.25 hold out 3, 2 and 1 rows whenever they are sources;
    the target copies of the left-out domain are in train and test."""
    from sklearn_mtl.model_selection import (
        LeaveOneDomainOut,
        pack_leave_one_domain_out,
    )

    sizes = {"a": 10, "b": 7, "c": 3}
    domains = np.repeat(list(sizes), list(sizes.values()))
    X = np.arange(20.0)[:, None]
    X_packed, _, tasks = pack_leave_one_domain_out(X, np.zeros(20), domains)
    cv = LeaveOneDomainOut(source_test_size=0.25, random_state=0)
    held = {"a": 3, "b": 2, "c": 1}
    for left_out, (train, test) in zip(
        sorted(sizes), cv.split(X_packed, task_ids=tasks)
    ):
        copies = np.flatnonzero(tasks == "target")[domains == left_out]
        assert set(copies) <= set(train) and set(copies) <= set(test)
        for other in set(sizes) - {left_out}:
            assert np.sum(tasks[test] == other) == held[other]
            assert np.sum(tasks[train] == other) == sizes[other] - held[other]
        assert not np.any(tasks[np.r_[train, test]] == left_out)


def test_tca_rbf_default_gamma_is_the_median_heuristic():
    """Plant: gamma = 1 / sigma^2 instead of 1 / (2 sigma^2), sigma the
    median distance between the fitted rows."""
    from scipy.spatial.distance import pdist

    from sklearn_mtl.transfer import TCA

    X, domains, _, _ = _two_domains(15, 12)
    tca = TCA(target="t", kernel="rbf", n_components=2).fit(X, task_ids=domains)
    sigma = np.median(pdist(X))
    assert tca.gamma_ == pytest.approx(1.0 / (2.0 * sigma**2), rel=1e-12)
    given = TCA(target="t", kernel="rbf", n_components=2, gamma=tca.gamma_)
    np.testing.assert_allclose(
        tca.transform(X), given.fit(X, task_ids=domains).transform(X), atol=1e-10
    )


# -- CORAL ---------------------------------------------------------------------
def test_coral_without_regularization_on_wide_sources_uses_the_pseudo_inverse():
    """regularization=0 with fewer source rows than features (a singular
    source covariance): the map must be the pseudo-inverse root's (scipy),
    finite and of the target's size. Catches a swapped product order of the
    two roots. (A planted eigenvalue floor |lambda| + 1e-300 moved the output
    by 1e-7 only: the null-space components of centred rows are ~1e-16.)"""
    rng = np.random.RandomState(1)
    X_source = rng.normal(size=(4, 6))
    X_target = rng.normal(size=(30, 6)) * 2.0 + 1.0
    X = np.vstack([X_source, X_target])
    domains = np.repeat(["s", "t"], [4, 30])
    coral = CORAL(target="t", regularization=0.0).fit(X, task_ids=domains)
    mapped = coral.transform(X_source, task_ids=domains[:4])
    C_s = np.cov(X_source.T)
    C_t = np.cov(X_target.T)
    inverse_root = np.real(scipy.linalg.sqrtm(np.linalg.pinv(C_s, rcond=1e-10)))
    root_t = np.real(scipy.linalg.sqrtm(C_t))
    expected = (X_source - X_source.mean(0)) @ inverse_root @ root_t
    expected += X_target.mean(0)
    np.testing.assert_allclose(mapped, expected, atol=1e-6)


# -- bad inputs ----------------------------------------------------------------
@pytest.mark.parametrize(
    "weights", [kmm_weights, kliep_weights, discriminator_weights, nn_weights]
)
def test_weight_functions_name_the_empty_domain(weights):
    X, _, X_source, X_target = _two_domains()
    with pytest.raises(ValueError, match="X_target has no rows"):
        weights(X_source, X_target[:0])
    with pytest.raises(ValueError, match="X_source has no rows"):
        weights(X_source[:0], X_target)


def test_discriminator_weights_do_not_depend_on_the_feature_scale():
    """Bad input: features of size 1e8 made the classifier's L2 penalty
    vanish (weights correlated 0.87 with those at scale 1)."""
    _, _, X_source, X_target = _two_domains()
    np.testing.assert_allclose(
        discriminator_weights(1e8 * X_source, 1e8 * X_target),
        discriminator_weights(X_source, X_target),
        rtol=1e-6,
    )


def test_fit_jdot_names_its_inputs():
    """Bad inputs of fit_jdot: string class labels (an IndexError from numpy
    before), codes with a gap, X_target of other features (sklearn's pairwise
    message), y_source of another length, n_iter=0."""
    _, _, X_source, X_target = _two_domains()
    y = np.repeat([0, 1], 15)
    with pytest.raises(ValueError, match="y_source encoded as class codes"):
        fit_jdot(
            LogisticRegression(),
            X_source,
            np.where(y == 1, "a", "b"),
            X_target,
            classification=True,
        )
    with pytest.raises(ValueError, match=r"got classes \[0, 2\]"):
        fit_jdot(LogisticRegression(), X_source, 2 * y, X_target, classification=True)
    with pytest.raises(ValueError, match="X_target has 2"):
        fit_jdot(Ridge(), X_source, y, X_target[:, :2], classification=False)
    with pytest.raises(ValueError, match="y_source must hold one label per row"):
        fit_jdot(Ridge(), X_source, y[:-1], X_target, classification=False)
    with pytest.raises(ValueError, match="n_iter"):
        fit_jdot(Ridge(), X_source, y, X_target, classification=False, n_iter=0)
    # Float codes 0.0/1.0 are class codes too.
    model, plan, _ = fit_jdot(
        LogisticRegression(), X_source, y.astype(float), X_target, classification=True
    )
    assert plan.shape == (30, 20)


def test_minus_one_only_in_the_target_is_named_a_class_not_a_marker():
    """Bad input: skada marks unlabelled rows by -1; here -1 is a class, so a
    -1 that only the target has silently made a third class. It now warns
    (and -1 shared with the sources, as in {-1, +1} labels, does not)."""
    from sklearn_mtl.transfer import TransferClassifier

    rng = np.random.RandomState(0)
    X = rng.normal(size=(40, 3))
    domains = np.repeat(["s", "t"], 20)
    y = np.tile([0, 1], 20)
    y[30:] = -1
    model = TransferClassifier(LogisticRegression(), target="t", method="coral")
    with pytest.warns(UserWarning, match="-1 is a class label here"):
        model.fit(X, y, task_ids=domains)
    y_signed = np.where(np.tile([0, 1], 20) == 1, 1, -1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.fit(X, y_signed, task_ids=domains)


def test_deep_methods_warn_on_unscaled_features():
    """Bad input: features of size 1e8 trained without diverging and gave
    predictions of size 1e16 without a word."""
    pytest.importorskip("skorch")
    from sklearn_mtl.transfer import DANNRegressor

    rng = np.random.RandomState(0)
    X = rng.normal(size=(30, 3))
    domains = np.repeat(["s", "t"], 15)
    y = X[:, 0].copy()
    y[15:] = np.nan
    model = DANNRegressor(
        target="t", max_epochs=1, hidden_layer_sizes=(4,), random_state=0
    )
    with pytest.warns(UserWarning, match="features are not scaled") as record:
        model.fit(1e8 * X, y, task_ids=domains)
    # Pointing at the caller's line, not at the package's internals.
    assert record[0].filename == __file__
