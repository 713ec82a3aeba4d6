"""GFK and MEDA: the closed forms against independent constructions."""

import pickle

import numpy as np
import pytest
import scipy.linalg
from sklearn.base import clone
from sklearn.kernel_ridge import KernelRidge
from sklearn.linear_model import LogisticRegression
from sklearn.metrics.pairwise import euclidean_distances, rbf_kernel
from sklearn.preprocessing import normalize
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_mtl import TransferClassifier, TransferRegressor
from sklearn_mtl.transfer._gfk import GFK, geodesic_flow_kernel
from sklearn_mtl.transfer._meda import MEDAClassifier, adaptive_factor


def _basis(rng, D, d):
    return np.linalg.qr(rng.normal(size=(D, d)))[0]


def _geodesic_quadrature(Ps, Pt, n_nodes=40):
    """``int_0^1 Phi Phi^T dt`` along the Grassmann geodesic built another way:
    the log map of Absil, Mahony & Sepulchre (``R_s^T P_t (P_s^T P_t)^{-1} =
    U tan(Sigma) V^T``), the flow ``Q expm(t [[0, -B^T], [B, 0]])`` and
    Gauss-Legendre nodes; also returns ``Phi(1)``."""
    d = Ps.shape[1]
    Rs = scipy.linalg.null_space(Ps.T)
    U, s, Vt = np.linalg.svd(Rs.T @ Pt @ np.linalg.inv(Ps.T @ Pt), full_matrices=False)
    B = U @ np.diag(np.arctan(s)) @ Vt
    zeros_d = np.zeros((d, d))
    zeros_r = np.zeros((len(B), len(B)))
    tangent = np.block([[zeros_d, -B.T], [B, zeros_r]])
    Q = np.hstack([Ps, Rs])
    nodes, weights = np.polynomial.legendre.leggauss(n_nodes)
    G = 0.0
    for t, w in zip((nodes + 1) / 2, weights / 2):
        Phi = Q @ scipy.linalg.expm(t * tangent)[:, :d]
        G = G + w * Phi @ Phi.T
    return G, Q @ scipy.linalg.expm(tangent)[:, :d]


@pytest.mark.parametrize("D, d", [(7, 3), (9, 2), (6, 4)])
def test_gfk_closed_form_matches_quadrature_of_the_geodesic(D, d):
    rng = np.random.RandomState(D + d)
    Ps, Pt = _basis(rng, D, d), _basis(rng, D, d)
    G_quad, end = _geodesic_quadrature(Ps, Pt)
    # The constructed geodesic ends at the target subspace.
    np.testing.assert_allclose(end @ end.T, Pt @ Pt.T, atol=1e-10)
    G, embedding, angles = geodesic_flow_kernel(Ps, Pt)
    np.testing.assert_allclose(G, G_quad, atol=1e-10)
    np.testing.assert_allclose(embedding @ embedding.T, G, atol=1e-12)
    cosines = scipy.linalg.svdvals(Ps.T @ Pt)
    expected = np.sort(np.arccos(np.clip(cosines, 0, 1)))
    np.testing.assert_allclose(angles, expected, atol=1e-7)


def test_gfk_transformer_kernel_and_transform():
    rng = np.random.RandomState(0)
    X = np.vstack(
        [rng.normal(size=(40, 6)), rng.normal(size=(30, 6)) @ rng.normal(size=(6, 6))]
    )
    domains = np.repeat(["s", "t"], [40, 30])
    gfk = GFK(target="t", n_components=2).fit(X, task_ids=domains)
    G_quad, _ = _geodesic_quadrature(gfk.source_components_, gfk.target_components_)
    np.testing.assert_allclose(gfk.kernel_, G_quad, atol=1e-10)
    Z = gfk.transform(X)
    np.testing.assert_allclose(Z @ Z.T, X @ gfk.kernel_ @ X.T, atol=1e-10)
    np.testing.assert_allclose(gfk.sqrt_kernel_, gfk.sqrt_kernel_.T, atol=1e-12)
    # The source axes are the source rows' top principal axes.
    centred = X[:40] - X[:40].mean(axis=0)
    top = np.linalg.svd(centred)[2][:2].T
    np.testing.assert_allclose(
        gfk.source_components_ @ gfk.source_components_.T, top @ top.T, atol=1e-10
    )
    # Identical subspaces: G is the projection onto them.
    same = geodesic_flow_kernel(top, top)[0]
    np.testing.assert_allclose(same, top @ top.T, atol=1e-12)


def _three_class_data(rng, n_source=(12, 7, 4), n_target=18, shift=0.7):
    y_source = np.repeat([0, 1, 2], n_source)
    centres = np.array([[2.0, 0, 0, 0], [0, 2.0, 0, 0], [0, 0, 2.0, 0]])
    X_source = centres[y_source] + 0.6 * rng.normal(size=(len(y_source), 4))
    y_target = rng.randint(3, size=n_target)
    X_target = centres[y_target] + 0.6 * rng.normal(size=(n_target, 4)) + shift
    return X_source, y_source, X_target, y_target


def _hand_laplacian(Z, p):
    """Dense: cosine weights to the ``p`` nearest rows and the row itself,
    symmetrized by the larger weight, normalized as I - D^-1/2 W D^-1/2."""
    n = len(Z)
    cosine = Z @ Z.T
    W = np.zeros((n, n))
    for i in range(n):
        nearest = np.argsort(-cosine[i])[: p + 1]
        W[i, nearest] = cosine[i, nearest]
    W = np.maximum(W, W.T)
    scale = 1 / np.sqrt(W.sum(axis=1))
    return np.eye(n) - scale[:, None] * W * scale[None, :]


def _hand_mmd(n_source, labels, n_classes, mu):
    n = len(labels)
    is_source = np.arange(n) < n_source
    e = np.where(is_source, 1 / n_source, -1 / (n - n_source))
    M = (1 - mu) * n_classes * np.outer(e, e)
    for c in range(n_classes):
        e = np.zeros(n)
        source, target = is_source & (labels == c), ~is_source & (labels == c)
        e[source] = 1 / source.sum()
        if target.any():
            e[target] = -1 / target.sum()
        M += mu * np.outer(e, e)
    return M / np.linalg.norm(M, "fro")


@pytest.mark.parametrize("n_iter", [1, 2])
def test_meda_alpha_satisfies_first_order_condition(n_iter):
    """At lambda, rho, eta, mu off their defaults, unequal classes and weights,
    a semi-supervised target: the gradient of MEDA's objective vanishes at
    the fitted alpha (central differences of the objective built by hand).
    Round 1 uses the 1-NN pseudo-labels; round 2 the argmax of round 1's f."""
    rng = np.random.RandomState(2)
    X_source, y_source, X_target, y_target = _three_class_data(rng, shift=1.2)
    n_source = len(y_source)
    X = np.vstack([X_source, X_target])
    y = np.r_[y_source, np.full(len(y_target), np.nan)]
    y[n_source : n_source + 2] = y_target[:2]  # two labelled target rows
    weights = rng.uniform(0.5, 2.0, size=len(y))
    domains = np.repeat(["s", "t"], [n_source, len(y_target)])
    params = dict(
        target="t",
        n_components=3,
        mmd_weight=3.0,
        laplacian_weight=0.7,
        ridge=0.3,
        n_neighbors=4,
        mu=0.4,
        gamma=0.8,
    )
    model = MEDAClassifier(n_iter=n_iter, **params)
    model.fit(X, y, task_ids=domains, sample_weight=weights)
    Z = model.X_fit_
    np.testing.assert_allclose(Z, normalize(X @ model.gfk_.embedding_))
    K = rbf_kernel(Z, gamma=0.8)
    labelled = ~np.isnan(y)
    labels = np.where(labelled, np.nan_to_num(y), -1).astype(int)
    if n_iter == 1:
        # Initial pseudo-labels: the nearest labelled row.
        distances = euclidean_distances(Z[~labelled], Z[labelled])
        labels[~labelled] = labels[labelled][distances.argmin(axis=1)]
    else:
        first = MEDAClassifier(n_iter=1, **params)
        first.fit(X, y, task_ids=domains, sample_weight=weights)
        labels[~labelled] = np.argmax(K @ first.dual_coef_, axis=1)[~labelled]
    A = np.diag(weights * labelled)
    Y = np.eye(3)[np.maximum(labels, 0)] * labelled[:, None]
    M = _hand_mmd(n_source, labels, 3, 0.4)
    L = _hand_laplacian(Z, 4)

    def objective(flat):
        alpha = flat.reshape(-1, 3)
        residual = Y - K @ alpha
        KA = K @ alpha
        return (
            np.trace(residual.T @ A @ residual)
            + 0.3 * np.trace(alpha.T @ K @ alpha)
            + 3.0 * np.trace(KA.T @ M @ KA)
            + 0.7 * np.trace(KA.T @ L @ KA)
        )

    def gradient(flat, step=1e-5):
        out = np.empty_like(flat)
        for i in range(len(flat)):
            e = np.zeros_like(flat)
            e[i] = step
            out[i] = (objective(flat + e) - objective(flat - e)) / (2 * step)
        return out

    alpha = model.dual_coef_.ravel()
    scale = np.abs(gradient(np.zeros_like(alpha))).max()
    assert np.abs(gradient(alpha)).max() < 1e-6 * scale
    np.testing.assert_array_equal(model.mu_path_, np.full(n_iter, 0.4))


def test_adaptive_factor_by_hand():
    """Class 0: source and target rows far apart (proxy A-distance 2); class 1:
    the same rows in both domains (error 1/2 whatever the SVM: distance 0);
    marginal: only class 1's duplicated rows are confused, 10 of 80 rows
    (distance 2 (1 - 2/8) = 1.5). mu = mean(2, 0) / (1 + 1.5) = 0.4."""
    rng = np.random.RandomState(0)
    class_0_source = np.c_[rng.normal(size=30), -5 + 0.3 * rng.normal(size=30)]
    class_0_target = np.c_[rng.normal(size=30), 5 + 0.3 * rng.normal(size=30)]
    class_1 = np.c_[rng.normal(size=10), 0.3 * rng.normal(size=10)]
    Z_source = np.vstack([class_0_source, class_1])
    Z_target = np.vstack([class_0_target, class_1])
    labels = np.repeat([0, 1], [30, 10])
    assert adaptive_factor(Z_source, labels, Z_target, labels) == pytest.approx(0.4)
    # A target class with no row: left out of the class mean (d_c = 2).
    mu = adaptive_factor(Z_source, labels, Z_target, np.zeros(40, int))
    assert 0 < mu <= 1


def test_no_alignment_no_graph_is_kernel_ridge():
    """mmd_weight = laplacian_weight = 0: kernel ridge regression of the one-hot
    labels on the labelled rows (weights as KernelRidge's sample_weight)."""
    rng = np.random.RandomState(2)
    X_source, y_source, X_target, y_target = _three_class_data(rng)
    n_source = len(y_source)
    X = np.vstack([X_source, X_target])
    y = np.r_[y_source, np.full(len(y_target), np.nan)]
    y[-3:] = y_target[-3:]
    weights = rng.uniform(0.5, 2.0, size=len(y))
    domains = np.repeat(["s", "t"], [n_source, len(y_target)])
    model = MEDAClassifier(
        target="t", n_components=3, mmd_weight=0, laplacian_weight=0, ridge=0.2
    ).fit(X, y, task_ids=domains, sample_weight=weights)
    labelled = ~np.isnan(y)
    Z = model.X_fit_
    ridge = KernelRidge(alpha=0.2, kernel="rbf", gamma=0.5).fit(
        Z[labelled],
        np.eye(3)[y[labelled].astype(int)],
        sample_weight=weights[labelled],
    )
    X_new = rng.normal(size=(15, 4))
    Z_new = normalize(X_new @ model.gfk_.embedding_)
    np.testing.assert_allclose(
        model.decision_function(X_new), ridge.predict(Z_new), atol=1e-8
    )
    np.testing.assert_allclose(model.dual_coef_[~labelled], 0, atol=1e-10)


def _rotated_clusters(seed, n=80, D=20, n_classes=4, angle=2.0):
    """Four Gaussian classes in 20 dimensions; the target rotated by a random
    rotation ``expm(angle S)`` (``S`` skew, unit norm), both domains z-scored
    (the authors' preprocessing)."""
    rng = np.random.RandomState(seed)
    centres = rng.normal(size=(n_classes, D))
    y_source, y_target = rng.randint(n_classes, size=n), rng.randint(n_classes, size=n)
    skew = rng.normal(size=(D, D))
    skew = (skew - skew.T) / np.linalg.norm(skew - skew.T, 2)
    rotation = scipy.linalg.expm(angle * skew)
    X_source = centres[y_source] + rng.normal(size=(n, D))
    X_target = (centres[y_target] + rng.normal(size=(n, D))) @ rotation
    scaled = [(X - X.mean(axis=0)) / X.std(axis=0) for X in (X_source, X_target)]
    return scaled[0], y_source, scaled[1], y_target


def test_meda_beats_source_only_on_rotated_clusters():
    """Source-only logistic regression 51-71 %; MEDA (authors' defaults but
    d = 5) >= 10 points better on each seed, and better than its own kernel
    least squares without the alignment and graph terms."""
    for seed in range(3):
        X_source, y_source, X_target, y_target = _rotated_clusters(seed)
        X = np.vstack([X_source, X_target])
        y = np.r_[y_source, np.full(len(y_target), np.nan)]
        domains = np.repeat(["s", "t"], [len(y_source), len(y_target)])
        scores = {}
        for name, params in [
            ("meda", {}),
            ("plain", {"mmd_weight": 0.0, "laplacian_weight": 0.0}),
        ]:
            model = MEDAClassifier(target="t", n_components=5, random_state=0)
            model.set_params(**params).fit(X, y, task_ids=domains)
            scores[name] = model.score(X_target, y_target)
        source_only = LogisticRegression().fit(X_source, y_source)
        scores["source_only"] = source_only.score(X_target, y_target)
        assert scores["meda"] > scores["source_only"] + 0.1, scores
        assert scores["meda"] > scores["plain"] + 0.05, scores


def test_unlabelled_target_labels_never_reach_the_loss():
    """TransferClassifier(use_target_labels=False) with wrong target labels
    fits the same MEDA as MEDAClassifier with NaN target labels; and
    labelled target rows do change the fit (the check is not vacuous)."""
    rng = np.random.RandomState(3)
    X_source, y_source, X_target, y_target = _three_class_data(rng)
    X = np.vstack([X_source, X_target])
    domains = np.repeat(["s", "t"], [len(y_source), len(y_target)])
    hidden = np.r_[y_source, np.full(len(y_target), np.nan)]
    wrong = np.r_[y_source, (y_target + 1) % 3].astype(float)
    reference = MEDAClassifier(target="t", n_components=3, random_state=0)
    reference.fit(X, hidden, task_ids=domains)
    settings = MEDAClassifier(n_components=3, random_state=0)
    transfer = TransferClassifier(
        settings, method="meda", target="t", use_target_labels=False
    ).fit(X, wrong, task_ids=domains)
    assert transfer.method_ == "meda"
    np.testing.assert_array_equal(transfer.estimator_.dual_coef_, reference.dual_coef_)
    np.testing.assert_allclose(
        transfer.predict_proba(X_target), reference.predict_proba(X_target)
    )
    used = TransferClassifier(settings, method="meda", target="t")
    used.fit(X, wrong, task_ids=domains)
    assert not np.allclose(used.estimator_.dual_coef_, reference.dual_coef_)


def test_meda_method_wiring_and_errors():
    rng = np.random.RandomState(4)
    X_source, y_source, X_target, _ = _three_class_data(rng)
    X = np.vstack([X_source, X_target])
    domains = np.repeat(["s", "t"], [len(y_source), len(X_target)])
    y = np.r_[y_source, np.full(len(X_target), np.nan)]
    # A MEDAClassifier as the estimator gives its settings.
    settings = MEDAClassifier(n_components=2, mmd_weight=1.0, n_iter=2)
    model = TransferClassifier(settings, method="meda", target="t").fit(
        X, y, task_ids=domains
    )
    assert model.estimator_.n_components == 2 and model.estimator_.n_iter == 2
    assert model.estimator_.mu_path_.shape == (2,)
    proba = model.predict_proba(X_target)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(
        model.classes_[proba.argmax(axis=1)], model.predict(X_target)
    )
    fitted = model.estimator_
    restored = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(restored.predict(X_target), fitted.predict(X_target))
    assert clone(fitted).get_params() == fitted.get_params()
    with pytest.raises(ValueError, match="TransferClassifier method"):
        TransferRegressor(method="meda", target="t").fit(X, y, task_ids=domains)
    one_source = slice(len(y_source) - 1, None)
    with pytest.raises(ValueError, match="at least 2 source rows"):
        MEDAClassifier(target="t").fit(
            X[one_source],
            np.r_[0.0, 1.0, y[len(y_source) + 1 :]],
            task_ids=domains[one_source],
        )


def test_meda_refuses_too_many_rows(monkeypatch):
    from sklearn_mtl.transfer import _meda

    monkeypatch.setattr(_meda, "MAX_ROWS", 30)
    rng = np.random.RandomState(5)
    X_source, y_source, X_target, _ = _three_class_data(rng)
    X = np.vstack([X_source, X_target])
    domains = np.repeat(["s", "t"], [len(y_source), len(X_target)])
    y = np.r_[y_source, np.full(len(X_target), np.nan)]
    with pytest.raises(ValueError, match="Subsample the sources"):
        MEDAClassifier(target="t").fit(X, y, task_ids=domains)


# Both fit from source and target rows told apart by task_ids (and MEDA from
# the source labels); scikit-learn's checks pass no task_ids, so every check
# that fits fails on that missing input (a ValueError naming task_ids). The
# checks that do not fit (clone, parameters, tags, unfitted errors, parameter
# validation) run and must pass; fitted pickling is tested above.
_FIT_CHECKS = [
    "check_dict_unchanged",
    "check_dont_overwrite_parameters",
    "check_dtype_object",
    "check_estimators_dtypes",
    "check_estimators_fit_returns_self",
    "check_estimators_nan_inf",
    "check_estimators_overwrite_params",
    "check_estimators_pickle",
    "check_f_contiguous_array_estimator",
    "check_fit2d_1feature",
    "check_fit2d_predict1d",
    "check_fit_check_is_fitted",
    "check_fit_idempotent",
    "check_fit_score_takes_y",
    "check_methods_sample_order_invariance",
    "check_methods_subset_invariance",
    "check_n_features_in",
    "check_n_features_in_after_fitting",
    "check_pipeline_consistency",
    "check_positive_only_tag_during_fit",
    "check_readonly_memmap_input",
]
_GFK_FIT_CHECKS = [
    "check_fit2d_1sample",
    "check_transformer_data_not_an_array",
    "check_transformer_general",
    "check_transformer_preserve_dtypes",
]
_MEDA_FIT_CHECKS = [
    "check_classifier_data_not_an_array",
    "check_classifiers_classes",
    "check_classifiers_one_label_sample_weights",
    "check_classifiers_train",
    "check_decision_proba_consistency",
    "check_sample_weight_equivalence_on_dense_data",
    "check_sample_weights_list",
    "check_sample_weights_not_an_array",
    "check_sample_weights_not_overwritten",
    "check_sample_weights_pandas_series",
    "check_sample_weights_shape",
    "check_supervised_y_2d",
]


def _expected_failures(estimator):
    extra = _GFK_FIT_CHECKS if isinstance(estimator, GFK) else _MEDA_FIT_CHECKS
    reason = (
        "fits from source and target rows told apart by task_ids, which "
        "scikit-learn's checks do not pass"
    )
    return dict.fromkeys(_FIT_CHECKS + extra, reason)


@parametrize_with_checks(
    [GFK(target=0), MEDAClassifier(target=0)],
    expected_failed_checks=_expected_failures,
)
def test_sklearn_compatible(estimator, check):
    check(estimator)
