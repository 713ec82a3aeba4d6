"""Scalable KMM, nearest-neighbour weights, class-regularized OT, JDA and JDOT.

Each against a reference (the exact problem, a hand computation, a method
it reduces to) and on a synthetic shift where source-only fails.
"""

import pickle

import numpy as np
import ot
import pytest
import scipy.linalg
from scipy.stats import norm, spearmanr
from sklearn.base import clone
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.metrics.pairwise import euclidean_distances, rbf_kernel
from sklearn.neighbors import KNeighborsRegressor
from sklearn.utils._param_validation import InvalidParameterError

from sklearn_mtl.transfer._instance import kmm_weights
from sklearn_mtl.transfer._jda import JDA
from sklearn_mtl.transfer._jdot import JDOTClassifier, JDOTRegressor, _label_cost
from sklearn_mtl.transfer._mapping import ClassRegularizedOTMapping, EntropicOTMapping
from sklearn_mtl.transfer._reweight import nn_weights
from sklearn_mtl.transfer._subspace import TCA


def _stack(X_source, X_target):
    X = np.vstack([X_source, X_target])
    domains = np.repeat(["s", "t"], [len(X_source), len(X_target)])
    return X, domains


def _hidden(y_source, n_target):
    """Source labels, then NaN for the (unlabelled) target rows."""
    return np.r_[np.asarray(y_source, float), np.full(n_target, np.nan)]


# -- reweighting -----------------------------------------------------------------
def _covariate_shift(n_source=400, n_target=300, seed=0):
    """Source N(0, 1), target N(0.8, 0.6^2): the true ratio is known."""
    rng = np.random.RandomState(seed)
    X_source = rng.normal(size=(n_source, 1))
    X_target = rng.normal(0.8, 0.6, size=(n_target, 1))
    ratio = norm.pdf(X_source[:, 0], 0.8, 0.6) / norm.pdf(X_source[:, 0])
    return X_source, X_target, ratio


def _kmm_objective(beta, X_source, X_target, gamma):
    """The exact KMM objective (the squared MMD up to a constant)."""
    K = rbf_kernel(X_source, X_source, gamma=gamma)
    kappa = len(X_source) / len(X_target) * rbf_kernel(X_source, X_target, gamma=gamma)
    return 0.5 * beta @ K @ beta - kappa.sum(axis=1) @ beta


def test_kmm_with_every_row_as_landmark_equals_exact():
    X_source, X_target, _ = _covariate_shift(80, 40)
    exact = kmm_weights(X_source, X_target, gamma=0.5, n_landmarks=None)
    nystroem = kmm_weights(X_source, X_target, gamma=0.5, n_landmarks=120)
    exact_value = _kmm_objective(exact, X_source, X_target, 0.5)
    landmark_value = _kmm_objective(nystroem, X_source, X_target, 0.5)
    assert landmark_value == pytest.approx(exact_value, rel=1e-4)
    assert np.corrcoef(exact, nystroem)[0, 1] > 0.99


def test_kmm_with_few_landmarks_close_to_exact():
    X_source, X_target, _ = _covariate_shift(600, 200, seed=1)
    X_source = np.hstack([X_source, np.random.RandomState(2).normal(size=(600, 2))])
    X_target = np.hstack([X_target, np.random.RandomState(3).normal(size=(200, 2))])
    exact = kmm_weights(X_source, X_target, n_landmarks=None)
    approximate = kmm_weights(X_source, X_target, n_landmarks=60)
    gamma = 1.0 / (3 * np.vstack([X_source, X_target]).var())
    uniform = _kmm_objective(np.ones(600), X_source, X_target, gamma)
    best = _kmm_objective(exact, X_source, X_target, gamma)
    reached = _kmm_objective(approximate, X_source, X_target, gamma)
    # The landmark solution closes at least 95 % of the gap to the optimum.
    # (The weights themselves need not agree: the problem is ill-conditioned
    # and many weight vectors reach nearly the same discrepancy.)
    assert (uniform - reached) / (uniform - best) > 0.95


def test_kmm_auto_uses_300_landmarks_above_1000_rows():
    rng = np.random.RandomState(0)
    X_source, X_target = rng.normal(size=(1001, 2)), rng.normal(1, 1, size=(50, 2))
    auto = kmm_weights(X_source, X_target)
    assert np.array_equal(auto, kmm_weights(X_source, X_target, n_landmarks=300))
    small = kmm_weights(X_source[:200], X_target)
    assert np.array_equal(
        small, kmm_weights(X_source[:200], X_target, n_landmarks=None)
    )


@pytest.mark.parametrize(
    "weights",
    [
        lambda Xs, Xt: kmm_weights(Xs, Xt, n_landmarks=None),
        lambda Xs, Xt: kmm_weights(Xs, Xt, n_landmarks=40),
        nn_weights,
    ],
    ids=["kmm-exact", "kmm-landmarks", "nn"],
)
def test_weights_follow_the_true_density_ratio(weights):
    # Many target rows: each source row's vote count is then a ratio
    # estimate rather than a 0-3 count.
    X_source, X_target, ratio = _covariate_shift(400, 4000)
    beta = weights(X_source, X_target)
    assert np.all(np.isfinite(beta)) and np.all(beta >= 0)
    assert spearmanr(beta, ratio)[0] > 0.75


def test_nn_weights_equal_hand_votes():
    X_source = np.array([[0.0, 0.0], [4.0, 0.0], [0.0, 4.0], [9.0, 9.0]])
    X_target = np.array([[0.5, 0.2], [3.0, 0.5], [4.4, 0.1], [0.2, 3.1], [0.1, -1]])
    # nearest sources: 0, 1, 1, 2, 0 -> votes [2, 2, 1, 0]
    votes = np.array([2.0, 2.0, 1.0, 0.0])
    for smoothing in [0.0, 0.5]:
        expected = (votes + smoothing) * 4 / (votes + smoothing).sum()
        assert np.allclose(
            nn_weights(X_source, X_target, smoothing=smoothing), expected
        )


def test_nn_weights_reject_mismatched_features():
    with pytest.raises(ValueError, match="X_target has 3"):
        nn_weights(np.zeros((3, 2)), np.zeros((3, 3)))


# -- class-regularized optimal transport ----------------------------------------
def _class_shift(n_per_class=40, seed=0):
    """Two overlapping classes; the target is the source moved by (2.5, 0.5).

    A source-only classifier puts every target row in class 1; entropic OT
    with a smooth plan sends a third of each target row's mass from the
    wrong class.
    """
    rng = np.random.RandomState(seed)
    y = np.repeat([0, 1], n_per_class)
    means = np.array([[0.0, 0.0], [2.0, 0.0]])
    X_source = means[y] + 0.6 * rng.normal(size=(2 * n_per_class, 2))
    X_target = means[y] + 0.6 * rng.normal(size=(2 * n_per_class, 2)) + [2.5, 0.5]
    return X_source, y, X_target, y.copy()


def test_class_regularized_ot_without_class_term_is_entropic_ot():
    X_source, y, X_target, _ = _class_shift()
    X, domains = _stack(X_source, X_target)
    plain = EntropicOTMapping(target="t", reg=0.5).fit(X, task_ids=domains)
    classy = ClassRegularizedOTMapping(target="t", reg=0.5, reg_class=0.0)
    classy.fit(X, _hidden(y, len(X_target)), task_ids=domains)
    assert np.allclose(classy.coupling_, plain.coupling_, atol=1e-7)


def _class_purity(coupling, y_source, y_target):
    """Share of the transported mass that stays within one class."""
    same = y_source[:, None] == y_target[None, :]
    return coupling[same].sum() / coupling.sum()


def _mixed_mass(coupling, y_source):
    """Per target row, the share of its mass from its minority source class."""
    per_class = np.stack([coupling[y_source == c].sum(axis=0) for c in (0, 1)])
    return np.mean(per_class.min(axis=0) / per_class.sum(axis=0))


def test_class_regularization_keeps_classes_apart():
    X_source, y, X_target, y_target = _class_shift()
    X, domains = _stack(X_source, X_target)
    y_all = _hidden(y, len(X_target))
    plain = ClassRegularizedOTMapping(target="t", reg=1.0, reg_class=0.0)
    classy = ClassRegularizedOTMapping(target="t", reg=1.0, reg_class=1.0)
    plain.fit(X, y_all, task_ids=domains)
    classy.fit(X, y_all, task_ids=domains)
    # Each target row receives mass from one class only (group sparsity).
    assert _mixed_mass(plain.coupling_, y) > 0.3
    assert _mixed_mass(classy.coupling_, y) < 0.05
    # ... and the mapped sources train a classifier that works on the target.
    source_only = LogisticRegression().fit(X_source, y).score(X_target, y_target)
    moved = classy.transform(X_source, task_ids=domains[: len(y)])
    adapted = LogisticRegression().fit(moved, y).score(X_target, y_target)
    assert source_only < 0.6 and adapted > 0.9


def test_class_regularized_ot_tiny_reg_stays_finite():
    X_source, y, X_target, _ = _class_shift()
    X, domains = _stack(100 * X_source, 100 * X_target)
    mapping = ClassRegularizedOTMapping(target="t", reg=1e-4)
    with pytest.warns(UserWarning, match="used reg="):
        mapping.fit(X, _hidden(y, len(X_target)), task_ids=domains)
    assert np.all(np.isfinite(mapping.coupling_)) and mapping.reg_ > 1e-4
    assert np.all(np.isfinite(mapping.transform(X, task_ids=domains)))


def test_missing_source_label_is_an_error_naming_the_task():
    X_source, y, X_target, _ = _class_shift()
    X, domains = _stack(X_source, X_target)
    y_all = _hidden(y, len(X_target))
    y_all[3] = np.nan
    for model in [ClassRegularizedOTMapping(target="t"), JDA(target="t")]:
        with pytest.raises(ValueError, match=r"Task 's' has 1 row\(s\) whose label"):
            model.fit(X, y_all, task_ids=domains)
        with pytest.raises(ValueError, match="pass y"):
            model.fit(X, task_ids=domains)
    # Object labels with None for the target rows are the other marker.
    y_object = np.r_[np.where(y == 0, "a", "b").astype(object), [None] * len(y)]
    jda = JDA(target="t", n_components=1).fit(X, y_object, task_ids=domains)
    assert set(jda.pseudo_labels_) <= {"a", "b"}


@pytest.mark.parametrize(
    "model",
    [
        ClassRegularizedOTMapping(target="t"),
        JDA(target="t", n_components=1),
        JDOTClassifier(target="t"),
        JDOTRegressor(target="t"),
    ],
    ids=["crot", "jda", "jdot-classifier", "jdot-regressor"],
)
def test_labels_follow_the_transfer_convention(model):
    """Labels parsed as TransferClassifier / DANN parse them (split_source_target)."""
    X_source, y, X_target, y_target = _class_shift(15)
    X, domains = _stack(X_source, X_target)
    y_all = _hidden(y, len(X_target))
    # Target labels, given or not, change nothing: they are never read.
    labelled = np.r_[y, 1 - y_target].astype(float)
    fitted = clone(model).fit(X, y_all, task_ids=domains)
    with_labels = clone(model).fit(X, labelled, task_ids=domains)
    apply = "predict" if hasattr(model, "predict") else "transform"
    np.testing.assert_allclose(
        getattr(fitted, apply)(X_target), getattr(with_labels, apply)(X_target)
    )
    assert fitted.target_ == "t" and list(fitted.tasks_) == ["s", "t"]
    with pytest.raises(ValueError, match=r"y has 59 samples but X has 60"):
        clone(model).fit(X, y_all[:-1], task_ids=domains)
    with pytest.raises(ValueError, match=r"Task 's' has 1 row\(s\) whose label"):
        bad = y_all.copy()
        bad[0] = np.nan
        clone(model).fit(X, bad, task_ids=domains)
    with pytest.raises(ValueError, match=r"set target to the task|needs target"):
        clone(model).set_params(target=None).fit(X, y_all, task_ids=domains)
    if not isinstance(model, JDOTRegressor):
        one_class = np.r_[np.zeros(len(y)), y_target].astype(float)
        with pytest.raises(ValueError, match="source rows have 1 class"):
            clone(model).fit(X, one_class, task_ids=domains)


def test_jdot_serves_its_target_and_scores_labelled_rows():
    X_source, y, X_target, y_target = _class_shift(15)
    X, domains = _stack(X_source, X_target)
    model = JDOTClassifier(target="t").fit(X, _hidden(y, len(X_target)), domains)
    # task_ids at predict are ignored (the target is served), as TransferClassifier.
    unseen = np.full(len(X_target), "other")
    assert np.array_equal(
        model.predict(X_target, task_ids=unseen), model.predict(X_target)
    )
    y_test = y_target.astype(float)
    y_test[:5] = np.nan  # unlabelled test rows are skipped
    expected = np.mean(model.predict(X_target[5:]) == y_target[5:])
    assert model.score(X_target, y_test) == pytest.approx(expected)
    wide = np.c_[_hidden(y, 30), _hidden(y, 30)]
    with pytest.raises(ValueError, match="y must be 1-D"):
        JDOTRegressor(target="t").fit(X, wide, task_ids=domains)


# -- JDA -------------------------------------------------------------------------
def _class_conditional_shift(n_per_class=60, seed=0):
    """Three classes; the target moves each class by a different vector.

    The marginal means barely move, so TCA (marginal only) has little to
    correct; the class-conditional discrepancy is large.
    """
    rng = np.random.RandomState(seed)
    y = np.repeat([0, 1, 2], n_per_class)
    means = np.array([[0.0, 0.0, 0, 0], [4.0, 0.0, 0, 0], [0.0, 4.0, 0, 0]])
    shifts = np.array([[1.5, 1.5, 0, 0], [-1.5, 0.0, 0, 0], [0.0, -1.5, 0, 0]])
    X_source = means[y] + 0.6 * rng.normal(size=(len(y), 4))
    X_target = means[y] + shifts[y] + 0.6 * rng.normal(size=(len(y), 4))
    return X_source, y, X_target, y.copy()


def _conditional_mmd(Z_source, y_source, Z_target, y_target):
    """Sum over classes of the squared distance between the embedded class
    means, relative to the embedding's total variance."""
    gaps = sum(
        np.sum((Z_source[y_source == c].mean(0) - Z_target[y_target == c].mean(0)) ** 2)
        for c in np.unique(y_source)
    )
    return gaps / np.trace(np.cov(np.vstack([Z_source, Z_target]).T))


@pytest.mark.parametrize("kernel", ["linear", "rbf"])
def test_jda_shrinks_the_class_conditional_discrepancy_below_tca(kernel):
    X_source, y, X_target, y_target = _class_conditional_shift()
    X, domains = _stack(X_source, X_target)
    y_all = _hidden(y, len(X_target))
    kwargs = dict(target="t", n_components=3, kernel=kernel, mu=0.1)
    tca = TCA(**kwargs).fit(X, task_ids=domains)
    jda = JDA(**kwargs).fit(X, y_all, task_ids=domains)
    source_rows = domains == "s"
    mmd = {}
    for name, model in [("tca", tca), ("jda", jda)]:
        Z = model.transform(X, task_ids=domains)
        mmd[name] = _conditional_mmd(Z[source_rows], y, Z[~source_rows], y_target)
    assert mmd["jda"] < 0.7 * mmd["tca"]
    source_only = LogisticRegression().fit(X_source, y).score(X_target, y_target)
    Z = jda.transform(X, task_ids=domains)
    adapted = (
        LogisticRegression().fit(Z[source_rows], y).score(Z[~source_rows], y_target)
    )
    assert adapted > source_only + 0.05


def test_jda_without_iterations_is_tca():
    X_source, y, X_target, _ = _class_conditional_shift(20)
    X, domains = _stack(X_source, X_target)
    kwargs = dict(target="t", n_components=3, kernel="rbf", mu=0.5, gamma=0.2)
    tca = TCA(**kwargs).fit(X, task_ids=domains)
    jda = JDA(n_iter=0, **kwargs).fit(X, _hidden(y, len(X_target)), task_ids=domains)
    assert np.allclose(jda.eigenvalues_, tca.eigenvalues_, rtol=1e-8)


@pytest.mark.parametrize("kernel", ["linear", "rbf"])
def test_jda_stops_at_a_fixed_point_with_the_result_of_every_round(kernel, monkeypatch):
    # Once the pseudo-labels repeat, every later round solves the same problem:
    # stopping there gives what running all n_iter rounds gives.
    X_source, y, X_target, _ = _class_conditional_shift(20, seed=1)
    X, domains = _stack(X_source, X_target)
    y_all = _hidden(y, len(X_target))
    kwargs = dict(target="t", n_components=3, kernel=kernel, mu=0.1, n_iter=30)
    early = JDA(**kwargs).fit(X, y_all, task_ids=domains)
    assert 1 <= early.n_iter_ < 30
    import sklearn_mtl.transfer._jda as jda_module

    with monkeypatch.context() as patch:
        patch.setattr(jda_module.np, "array_equal", lambda a, b: False)
        full = JDA(**kwargs).fit(X, y_all, task_ids=domains)
    assert full.n_iter_ == 30
    np.testing.assert_array_equal(early.pseudo_labels_, full.pseudo_labels_)
    np.testing.assert_allclose(early.components_, full.components_, atol=1e-10)
    np.testing.assert_allclose(early.eigenvalues_, full.eigenvalues_, rtol=1e-10)


def test_jda_linear_solves_its_eigenproblem_with_dense_m():
    # Well-separated classes: the pseudo-labels are the true labels at the
    # end, so M can be built densely from them and the components checked.
    X_source, y, X_target, y_target = _class_conditional_shift(15, seed=3)
    X_target = X_source + np.array([0.3, -0.2, 0.1, 0.0])
    X, domains = _stack(X_source, X_target)
    jda = JDA(target="t", n_components=2, mu=0.3, n_iter=3)
    jda.fit(X, _hidden(y, len(X_target)), task_ids=domains)
    assert np.array_equal(jda.pseudo_labels_, y_target)
    F = np.vstack([X_source, X_target])
    F = F / np.sqrt(np.mean(np.sum(F**2, axis=1)))
    n_s = n_t = len(y)
    n = n_s + n_t
    e = np.r_[np.full(n_s, 1 / n_s), np.full(n_t, -1 / n_t)]
    M = np.outer(e, e)
    labels = np.r_[y, y_target]
    for c in range(3):
        e_c = np.zeros(n)
        e_c[:n_s][labels[:n_s] == c] = 1 / np.sum(y == c)
        e_c[n_s:][labels[n_s:] == c] = -1 / np.sum(y_target == c)
        M += np.outer(e_c, e_c)
    H = np.eye(n) - np.ones((n, n)) / n
    A, B = F.T @ H @ F, F.T @ M @ F + 0.3 * np.eye(4)
    values = scipy.linalg.eigh(A, B, eigvals_only=True)[::-1][:2]
    assert np.allclose(jda.eigenvalues_, values, rtol=1e-8)
    W = jda.components_
    assert np.allclose(A @ W, B @ W * jda.eigenvalues_, atol=1e-8)


def test_jda_components_bounded_by_the_data():
    rng = np.random.RandomState(0)
    X, domains = _stack(rng.normal(size=(6, 30)), rng.normal(size=(5, 30)))
    y = _hidden([0, 1] * 3, 5)
    with pytest.warns(UserWarning, match="using 4"):
        jda = JDA(target="t", n_components=20).fit(X, y, task_ids=domains)
    assert jda.transform(X).shape == (11, 4)
    assert np.all(np.isfinite(jda.transform(X)))


# -- JDOT -------------------------------------------------------------------------
def _regression_shift(n=80, seed=0):
    """Target inputs shifted by 2 and targets by -2: the same joint law moved."""
    rng = np.random.RandomState(seed)
    X_source = rng.uniform(-1, 1, size=(n, 1))
    y_source = X_source[:, 0] + 0.05 * rng.normal(size=n)
    X_target = rng.uniform(-1, 1, size=(n, 1)) + 2.0
    y_target = X_target[:, 0] - 2.0
    return X_source, y_source, X_target, y_target


def test_jdot_regressor_follows_the_transported_law():
    X_source, y_source, X_target, y_target = _regression_shift()
    X, domains = _stack(X_source, X_target)
    model = JDOTRegressor(LinearRegression(), target="t", alpha=1.0)
    model.fit(X, _hidden(y_source, len(X_target)), task_ids=domains)
    source_only = LinearRegression().fit(X_source, y_source).predict(X_target)
    assert np.mean((source_only - y_target) ** 2) > 3.0
    assert np.mean((model.predict(X_target) - y_target) ** 2) < 0.1


def test_jdot_alpha_zero_is_a_weighted_fit_on_the_feature_plan():
    # Unequal sizes: the exact plan splits rows, so its weights matter.
    X_source, y_source, X_target, _ = _regression_shift(30, seed=1)
    X_target = X_target[:20]
    X, domains = _stack(X_source, X_target)
    y_all = _hidden(y_source, len(X_target))
    model = JDOTRegressor(LinearRegression(), target="t", alpha=0.0, n_iter=1)
    model.fit(X, y_all, task_ids=domains)
    cost = euclidean_distances(X_source, X_target, squared=True)
    plan = ot.emd(np.full(30, 1 / 30), np.full(20, 1 / 20), cost / np.median(cost))
    i, j = np.nonzero(plan > 1e-12)
    reference = LinearRegression().fit(
        X_target[j], y_source[i], sample_weight=plan[i, j]
    )
    assert np.allclose(model.estimator_.coef_, reference.coef_)
    assert np.allclose(model.estimator_.intercept_, reference.intercept_)
    # Without sample_weight: each target row takes the plan's mean label.
    knn = JDOTRegressor(KNeighborsRegressor(1), target="t", alpha=0.0, n_iter=1)
    knn.fit(X, y_all, task_ids=domains)
    mean_label = plan.T @ y_source / plan.sum(axis=0)
    assert np.allclose(knn.predict(X_target), mean_label)


def test_jdot_one_iteration_equals_hand_cost():
    # alpha = 2.5: the plan's cost is distance / median + 2.5 * squared error
    # of the source model / var(y_source); one plan, one weighted refit.
    # Generic 2-D data, so that the two terms disagree and their scales matter.
    rng = np.random.RandomState(2)
    X_source, X_target = rng.normal(size=(25, 2)), rng.normal(1.0, 2.0, size=(15, 2))
    y_source = 3.0 * X_source[:, 1] + rng.normal(size=25)
    X, domains = _stack(X_source, X_target)
    model = JDOTRegressor(LinearRegression(), target="t", alpha=2.5, n_iter=1)
    model.fit(X, _hidden(y_source, 15), task_ids=domains)
    source_model = LinearRegression().fit(X_source, y_source)
    distance = euclidean_distances(X_source, X_target, squared=True)
    error = (y_source[:, None] - source_model.predict(X_target)[None, :]) ** 2
    cost = distance / np.median(distance) + 2.5 * error / np.var(y_source)
    plan = ot.emd(np.full(25, 1 / 25), np.full(15, 1 / 15), cost)
    assert np.allclose(model.coupling_, plan)
    i, j = np.nonzero(plan > 1e-12)
    reference = LinearRegression().fit(
        X_target[j], y_source[i], sample_weight=plan[i, j]
    )
    assert np.allclose(model.estimator_.coef_, reference.coef_)


def test_jdot_label_cost_equals_hand_squared_distance():
    class Fixed:
        classes_ = np.array([0, 2])  # class 1 never predicted

        def predict_proba(self, X):
            return np.array([[0.7, 0.3], [0.2, 0.8]])

    cost = _label_cost(Fixed(), np.zeros((2, 1)), np.array([0, 1, 2]), np.arange(3))
    proba = np.array([[0.7, 0.0, 0.3], [0.2, 0.0, 0.8]])
    expected = np.array(
        [[np.sum((np.eye(3)[c] - p) ** 2) for p in proba] for c in [0, 1, 2]]
    )
    assert np.allclose(cost, expected)


def test_jdot_classifier_adapts_where_source_only_fails():
    X_source, y, X_target, y_target = _class_shift(seed=1)
    X, domains = _stack(X_source, X_target)
    labels = np.where(y == 0, "cat", "dog")
    y_all = np.r_[labels.astype(object), [None] * len(y)]
    model = JDOTClassifier(target="t").fit(X, y_all, task_ids=domains)
    expected = np.where(y_target == 0, "cat", "dog")
    source_only = LogisticRegression().fit(X_source, labels).score(X_target, expected)
    assert source_only < 0.6 and model.score(X_target, expected) > 0.9
    proba = model.predict_proba(X_target)
    assert proba.shape == (len(X_target), 2) and np.allclose(proba.sum(axis=1), 1)


# -- scikit-learn conventions -------------------------------------------------------
def _fitted(model):
    X_source, y, X_target, _ = _class_shift(15)
    X, domains = _stack(X_source, X_target)
    return model.fit(X, _hidden(y, len(X_target)), task_ids=domains), X, domains


@pytest.mark.parametrize(
    "model, bad",
    [
        (ClassRegularizedOTMapping(target="t"), {"reg": 0.0}),
        (JDA(target="t", n_components=1), {"n_iter": -1}),
        (JDA(target="t", n_components=1, kernel="rbf"), {"kernel": "poly"}),
        (JDOTClassifier(target="t"), {"alpha": -1.0}),
        (JDOTRegressor(target="t"), {"n_iter": 0}),
    ],
    ids=["crot", "jda-linear", "jda-rbf", "jdot-classifier", "jdot-regressor"],
)
def test_clone_pickle_and_parameter_validation(model, bad):
    fitted, X, domains = _fitted(clone(model))
    restored = pickle.loads(pickle.dumps(fitted))
    if hasattr(fitted, "predict"):
        assert np.array_equal(fitted.predict(X[30:]), restored.predict(X[30:]))
    else:
        out = fitted.transform(X, task_ids=domains)
        assert np.array_equal(out, restored.transform(X, task_ids=domains))
        assert np.all(np.isfinite(out))
    with pytest.raises(InvalidParameterError, match=list(bad)[0]):
        _fitted(clone(model).set_params(**bad))


def test_discrepancy_vectors_by_hand():
    # Rows: 3 sources (classes 0, 0, 1), 2 targets (classes 0, 2). Class 0 is
    # on both sides, class 1 on the sources only, class 2 on the target only.
    from sklearn_mtl.transfer._jda import discrepancy_vectors

    is_source = np.array([True, True, True, False, False])
    labels = np.array([0, 0, 1, 0, 2])
    marginal = [1 / 3, 1 / 3, 1 / 3, -1 / 2, -1 / 2]
    class_0 = [1 / 2, 1 / 2, 0, -1, 0]
    # JDA: a class on one side only has no mean to match, no column.
    np.testing.assert_allclose(
        discrepancy_vectors(is_source, labels, 3), np.column_stack([marginal, class_0])
    )
    # MEDA (one_sided): every class keeps its column, 0 on the missing side.
    np.testing.assert_allclose(
        discrepancy_vectors(is_source, labels, 3, one_sided=True),
        np.column_stack([marginal, class_0, [0, 0, 1, 0, 0], [0, 0, 0, 0, -1]]),
    )
    np.testing.assert_allclose(discrepancy_vectors(is_source, None, 3), np.c_[marginal])
