"""Domain adaptation families against hand computations.

Reweighting (KLIEP, domain discriminator), mapping (linear Gaussian OT,
entropic OT), subspace (subspace alignment, TCA) and the label-free scorers
(importance-weighted validation, prediction entropy).
"""

import sys

import numpy as np
import pytest
import scipy.linalg
from scipy.spatial.distance import cdist
from scipy.stats import norm, spearmanr
from sklearn import config_context
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import GridSearchCV

from sklearn_mtl.metrics import (
    make_importance_weighted_scorer,
    make_prediction_entropy_scorer,
)
from sklearn_mtl.transfer import (
    TCA,
    EntropicOTMapping,
    LinearOTMapping,
    SubspaceAlignment,
    TransferClassifier,
    TransferRegressor,
    discriminator_weights,
    kliep_weights,
)
from sklearn_mtl.transfer._selection import _DEFAULT_CANDIDATES

NEW_METHODS = [
    "kliep",
    "discriminator",
    "linear_ot",
    "entropic_ot",
    "subspace_alignment",
    "tca",
]


def _stack(X_source, X_target):
    X = np.vstack([X_source, X_target])
    domains = np.repeat(["s", "t"], [len(X_source), len(X_target)])
    return X, domains


def _gaussian_domains(n_source=200, n_target=150, seed=0):
    rng = np.random.RandomState(seed)
    C_s = np.array([[2.0, 0.6, 0.0], [0.6, 1.0, -0.3], [0.0, -0.3, 0.5]])
    C_t = np.array([[0.7, -0.2, 0.1], [-0.2, 3.0, 0.4], [0.1, 0.4, 1.5]])
    X_source = rng.multivariate_normal([1.0, -2.0, 0.5], C_s, size=n_source)
    X_target = rng.multivariate_normal([-1.0, 0.5, 3.0], C_t, size=n_target)
    return X_source, X_target


# -- mapping -------------------------------------------------------------------
def test_linear_ot_maps_to_target_moments_exactly():
    X_source, X_target = _gaussian_domains()
    X, domains = _stack(X_source, X_target)
    mapping = LinearOTMapping(target="t", regularization=0.0).fit(X, task_ids=domains)
    mapped = mapping.transform(X_source, task_ids=domains[:200])
    np.testing.assert_allclose(mapped.mean(axis=0), X_target.mean(axis=0))
    np.testing.assert_allclose(np.cov(mapped.T), np.cov(X_target.T), atol=1e-10)
    # Target rows (and rows without task labels) pass unchanged.
    np.testing.assert_array_equal(mapping.transform(X_target), X_target)


def test_linear_ot_equals_closed_form_with_regularization():
    X_source, X_target = _gaussian_domains(seed=1)
    X, domains = _stack(X_source, X_target)
    reg = 0.3
    mapping = LinearOTMapping(target="t", regularization=reg).fit(X, task_ids=domains)
    C_s = np.cov(X_source.T) + reg * np.eye(3)
    C_t = np.cov(X_target.T) + reg * np.eye(3)
    root = scipy.linalg.sqrtm(C_s).real
    inverse_root = np.linalg.inv(root)
    A = inverse_root @ scipy.linalg.sqrtm(root @ C_t @ root).real @ inverse_root
    np.testing.assert_allclose(mapping.transform_, A, atol=1e-10)
    expected = (X_source - X_source.mean(axis=0)) @ A + X_target.mean(axis=0)
    np.testing.assert_allclose(
        mapping.transform(X_source, task_ids=domains[:200]), expected, atol=1e-10
    )
    # The Monge map pushes N(0, C_s) onto N(0, C_t): A C_s A = C_t.
    np.testing.assert_allclose(A @ C_s @ A, C_t, atol=1e-10)


def test_entropic_ot_converges_to_exact_map():
    ot = pytest.importorskip("ot")
    rng = np.random.RandomState(0)
    # Unequal sizes: the barycentric map divides by the *row* sums.
    X_source, X_target = rng.normal(size=(5, 2)), 2 + rng.normal(size=(8, 2))
    X, domains = _stack(X_source, X_target)
    cost = ot.dist(X_source, X_target)
    exact_plan = ot.emd(np.full(5, 1 / 5), np.full(8, 1 / 8), cost)
    exact_map = exact_plan @ X_target * 5
    errors = []
    for reg in [1.0, 0.1, 1e-3]:
        mapping = EntropicOTMapping(target="t", reg=reg, max_iter=20000)
        mapping.fit(X, task_ids=domains)
        assert mapping.reg_ == pytest.approx(reg * np.median(cost))
        mapped = mapping.transform(X_source, task_ids=domains[:5])
        assert np.all(np.isfinite(mapped))
        errors.append(np.abs(mapped - exact_map).max())
    assert errors[0] > errors[1] > errors[2]
    assert errors[2] < 1e-3
    # Rows of the fit move by their own displacement; a new source row near
    # a fitted one moves like it.
    nudged = X_source[:1] + 1e-6
    np.testing.assert_allclose(
        mapping.transform(nudged, task_ids=["s"]) - nudged,
        mapped[:1] - X_source[:1],
        atol=1e-12,
    )


def test_entropic_ot_import_error_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "ot", None)
    X, domains = _stack(np.zeros((3, 2)), np.ones((3, 2)))
    with pytest.raises(ImportError, match=r"sklearn_mtl\[ot\]"):
        EntropicOTMapping(target="t").fit(X, task_ids=domains)


# -- subspace ------------------------------------------------------------------
def _top_axes(X, k):
    _, _, vt = np.linalg.svd(X - X.mean(axis=0), full_matrices=False)
    return vt[:k].T


def test_subspace_alignment_equals_hand_formula():
    rng = np.random.RandomState(0)
    X_source = rng.normal(size=(30, 6)) @ rng.normal(size=(6, 6))
    X_target = rng.normal(size=(25, 6)) @ rng.normal(size=(6, 6)) + 3
    X, domains = _stack(X_source, X_target)
    sa = SubspaceAlignment(target="t", n_components=3).fit(X, task_ids=domains)
    P_s, P_t = _top_axes(X_source, 3), _top_axes(X_target, 3)
    # Principal axes are defined up to sign; take the transformer's signs.
    P_s *= np.sign(np.sum(P_s * sa.source_components_, axis=0))
    P_t *= np.sign(np.sum(P_t * sa.target_components_, axis=0))
    np.testing.assert_allclose(sa.source_components_, P_s, atol=1e-10)
    np.testing.assert_allclose(sa.target_components_, P_t, atol=1e-10)
    centred_s = X_source - X_source.mean(axis=0)
    centred_t = X_target - X_target.mean(axis=0)
    out = sa.transform(X, task_ids=domains)
    np.testing.assert_allclose(out[:30], centred_s @ P_s @ P_s.T @ P_t, atol=1e-10)
    np.testing.assert_allclose(out[30:], centred_t @ P_t, atol=1e-10)


@pytest.mark.parametrize("cls", [SubspaceAlignment, TCA])
def test_n_components_bounded_by_the_data(cls):
    rng = np.random.RandomState(0)
    X, domains = _stack(rng.normal(size=(12, 30)), rng.normal(size=(9, 30)))
    assert cls(target="t").fit(X, task_ids=domains).n_components_ == 8
    with pytest.warns(UserWarning, match="n_components=20 is more than"):
        model = cls(target="t", n_components=20).fit(X, task_ids=domains)
    assert model.transform(X).shape == (21, 8)


@pytest.mark.parametrize("kernel, gamma", [("linear", None), ("rbf", 0.3)])
def test_tca_solves_its_generalized_eigenproblem(kernel, gamma):
    rng = np.random.RandomState(0)
    X_source, X_target = rng.normal(size=(14, 4)), 1 + 2 * rng.normal(size=(10, 4))
    X, domains = _stack(X_source, X_target)
    mu = 0.7
    tca = TCA(target="t", n_components=3, kernel=kernel, mu=mu, gamma=gamma)
    tca.fit(X, task_ids=domains)
    if kernel == "linear":
        K = X @ X.T
    else:
        K = np.exp(-gamma * cdist(X, X, "sqeuclidean"))
    K = K / np.mean(np.diag(K))
    n = 24
    e = np.r_[np.full(14, 1 / 14), np.full(10, -1 / 10)]
    L = np.outer(e, e)
    H = np.eye(n) - np.ones((n, n)) / n
    A, B = K @ H @ K, K @ L @ K + mu * np.eye(n)
    W, values = tca.components_, tca.eigenvalues_
    np.testing.assert_allclose(A @ W, B @ W * values, atol=1e-8)
    np.testing.assert_allclose(W.T @ B @ W, np.eye(3), atol=1e-8)
    # The top three of the whole spectrum, in decreasing order.
    spectrum = scipy.linalg.eigh(A, B, eigvals_only=True)
    np.testing.assert_allclose(values, spectrum[::-1][:3], rtol=1e-8)
    np.testing.assert_allclose(tca.transform(X), K @ W, atol=1e-8)


# -- reweighting ---------------------------------------------------------------
def test_discriminator_weights_equal_hand_odds_ratio():
    rng = np.random.RandomState(0)
    X_source, X_target = rng.normal(size=(60, 2)), 0.8 + rng.normal(size=(25, 2))
    w = discriminator_weights(X_source, X_target, C=0.5, clip=1e6)
    X, _ = _stack(X_source, X_target)
    domain = np.r_[np.zeros(60), np.ones(25)]
    # The classifier reads features standardized over both domains.
    mean, std = X.mean(axis=0), X.std(axis=0)
    classifier = LogisticRegression(C=0.5, max_iter=1000)
    classifier.fit((X - mean) / std, domain)
    p = classifier.predict_proba((X_source - mean) / std)
    np.testing.assert_allclose(w, p[:, 1] / p[:, 0] * 60 / 25, rtol=1e-6)
    clipped = discriminator_weights(X_source, X_target, C=0.5, clip=2.0)
    np.testing.assert_allclose(clipped, np.clip(w, 0.5, 2.0), rtol=1e-6)


def test_kliep_weights_mean_one_and_follow_the_true_ratio():
    rng = np.random.RandomState(0)
    X_source = rng.normal(size=(300, 1))
    X_target = rng.normal(loc=1.0, scale=0.8, size=(200, 1))
    w = kliep_weights(X_source, X_target, n_centers=50)
    assert w.mean() == pytest.approx(1.0)
    assert np.all(w >= 0)
    x = X_source[:, 0]
    true_ratio = norm.pdf(x, 1.0, 0.8) / norm.pdf(x, 0.0, 1.0)
    assert spearmanr(w, true_ratio).statistic > 0.9
    # Increases toward the target on the source's bulk.
    grid = np.linspace(-1.5, 1.0, 6)
    w_grid = [w[np.abs(x - g) < 0.2].mean() for g in grid]
    assert np.all(np.diff(w_grid) > 0)


def test_tiny_wide_domains_are_finite_and_bounded():
    """~20 rows, 800 features: no NaN, components bounded by the rows."""
    rng = np.random.RandomState(0)
    X_source, X_target = rng.normal(size=(20, 800)), 1 + 2 * rng.normal(size=(18, 800))
    X, domains = _stack(X_source, X_target)
    for weigh in (kliep_weights, discriminator_weights):
        w = weigh(X_source, X_target)
        assert w.shape == (20,) and np.all(np.isfinite(w)) and np.all(w >= 0)
    transformers = [LinearOTMapping, SubspaceAlignment, TCA]
    if "ot" in sys.modules or _has_ot():
        transformers.append(EntropicOTMapping)
    for cls in transformers:
        model = cls(target="t").fit(X, task_ids=domains)
        out = model.transform(X, task_ids=domains)
        assert np.all(np.isfinite(out)), cls.__name__
        if hasattr(model, "n_components_"):
            assert model.n_components_ == 17


def _has_ot():
    try:
        import ot  # noqa: F401
    except ImportError:
        return False
    return True


# -- through TransferClassifier / TransferRegressor ------------------------------
def _translated_problem(seed=0):
    """Two classes split along x0; the target shifted by +3 along x0."""
    rng = np.random.RandomState(seed)
    X_source = rng.normal(size=(120, 2)) * [1.0, 0.5]
    y_source = (X_source[:, 0] > 0).astype(float)
    X_target = rng.normal(size=(80, 2)) * [1.0, 0.5]
    y_target = (X_target[:, 0] > 0).astype(float)
    X_target[:, 0] += 3.0
    return X_source, y_source, X_target, y_target


@pytest.mark.parametrize("method", NEW_METHODS)
def test_methods_run_without_target_labels(method):
    if method == "entropic_ot":
        pytest.importorskip("ot")
    X_source, y_source, X_target, y_target = _translated_problem()
    X, domains = _stack(X_source, X_target)
    y = np.r_[y_source, np.full(80, np.nan)]
    model = TransferClassifier(method=method, target="t", allow_unlabelled=True)
    model.fit(X, y, task_ids=domains)
    proba = model.predict_proba(X_target)
    assert proba.shape == (80, 2) and np.all(np.isfinite(proba))
    accuracy = np.mean(model.predict(X_target) == y_target)
    source_only = TransferClassifier(
        method="source_only", target="t", allow_unlabelled=True
    ).fit(X, y, task_ids=domains)
    baseline = np.mean(source_only.predict(X_target) == y_target)
    assert baseline < 0.7  # the shift defeats the source model
    if method in {"linear_ot", "entropic_ot", "subspace_alignment"}:
        # Moving the sources onto the target (or both to centred subspaces)
        # undoes a translation.
        assert accuracy > 0.85
    regressor = TransferRegressor(method=method, target="t", allow_unlabelled=True)
    assert np.all(np.isfinite(regressor.fit(X, y, task_ids=domains).predict(X_target)))


def test_new_methods_only_when_listed_in_candidates():
    assert not set(NEW_METHODS) & set(_DEFAULT_CANDIDATES)
    X_source, y_source, X_target, y_target = _translated_problem()
    X, domains = _stack(X_source, X_target)
    model = TransferClassifier(
        target="t", candidates=["source_only", "linear_ot", "subspace_alignment"]
    ).fit(X, np.r_[y_source, y_target], task_ids=domains)
    assert set(model.cv_results_["method"]) == {
        "source_only",
        "linear_ot",
        "subspace_alignment",
    }
    assert model.method_ in {"linear_ot", "subspace_alignment"}


# -- label-free scorers --------------------------------------------------------
def test_prediction_entropy_scorer_equals_hand_entropy():
    X_source, y_source, X_target, _ = _translated_problem()
    X, domains = _stack(X_source, X_target)
    y = np.r_[y_source, np.full(80, np.nan)]
    model = LogisticRegression(C=0.3).fit(X_source, y_source)
    p = model.predict_proba(X_target)
    hand = np.mean(-np.sum(p * np.log(p), axis=1))
    scorer = make_prediction_entropy_scorer(target="t")
    assert scorer(model, X, y, task_ids=domains) == pytest.approx(-hand)


def test_importance_weighted_scorer_equals_hand_weighted_mean():
    X_source, y_source, X_target, _ = _translated_problem()
    X_target[:, 0] -= 2.0  # overlapping domains: weights vary
    X, domains = _stack(X_source, X_target)
    y = np.r_[y_source, np.full(80, np.nan)]
    model = LogisticRegression(C=0.3).fit(X_source[::2], y_source[::2])
    w = discriminator_weights(X_source, X_target)
    assert w.std() > 0.1
    correct = model.predict(X_source) == y_source
    hand = np.sum(w * correct) / np.sum(w)
    scorer = make_importance_weighted_scorer(target="t")
    assert scorer(model, X, y, task_ids=domains) == pytest.approx(hand)
    # Regression: minus the weighted mean squared error.
    rng = np.random.RandomState(1)
    y_reg = np.r_[X_source @ [1.0, -2.0] + rng.normal(size=120), np.full(80, np.nan)]
    ridge = Ridge(alpha=5.0).fit(X_source[::3], y_reg[:120:3])
    squared = (ridge.predict(X_source) - y_reg[:120]) ** 2
    hand = -np.sum(w * squared) / np.sum(w)
    assert scorer(ridge, X, y_reg, task_ids=domains) == pytest.approx(hand)


def test_domain_scorers_need_task_ids_and_a_present_target():
    X_source, y_source, X_target, _ = _translated_problem()
    X, domains = _stack(X_source, X_target)
    y = np.r_[y_source, np.full(80, np.nan)]
    model = LogisticRegression().fit(X_source, y_source)
    for scorer in (
        make_importance_weighted_scorer(target="t"),
        make_prediction_entropy_scorer(target="t"),
    ):
        with pytest.raises(ValueError, match="needs task_ids"):
            scorer(model, X, y)
    with pytest.raises(ValueError, match=r"target='x' is not among"):
        make_prediction_entropy_scorer(target="x")(model, X, y, task_ids=domains)


def test_entropy_scorer_in_grid_search_with_unlabelled_target():
    X_source, y_source, X_target, y_target = _translated_problem()
    X, domains = _stack(X_source, X_target)
    y = np.r_[y_source, np.full(80, np.nan)]
    with config_context(enable_metadata_routing=True):
        search = GridSearchCV(
            TransferClassifier(target="t", allow_unlabelled=True),
            {"method": ["source_only", "linear_ot"]},
            scoring=make_prediction_entropy_scorer(target="t"),
            cv=[(np.r_[0:100, 120:180], np.r_[100:120, 180:200])],
        ).fit(X, y, task_ids=domains)
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))


@pytest.mark.parametrize("method", ["linear_ot", "subspace_alignment"])
def test_importance_weighted_scorer_predicts_sources_through_the_source_map(method):
    X_source, y_source, X_target, _ = _translated_problem()
    X, domains = _stack(X_source, X_target)
    y = np.r_[y_source, np.full(80, np.nan)]
    model = TransferClassifier(method=method, target="t", allow_unlabelled=True)
    model.fit(X, y, task_ids=domains)
    transformer, classifier = model.estimator_.transformer, model.estimator_.model
    mapped = transformer.transform(X_source, task_ids=np.repeat("source", 120))
    correct = classifier.predict(mapped) == y_source
    w = discriminator_weights(X_source, X_target)
    hand = np.sum(w * correct) / np.sum(w)
    scorer = make_importance_weighted_scorer(target="t")
    assert scorer(model, X, y, task_ids=domains) == pytest.approx(hand)
    # The mapped model scores its own (mapped) sources well; predicting the raw
    # source rows as target rows would not.
    assert hand > 0.9
