"""Unlabelled target rows (issue 12, item 1), auto's folds, TrAdaBoost's warning.

An unlabelled target row (NaN label, ``allow_unlabelled=True``) must feed the
adaptations (CORAL, KMM read every target row's features) and never a
supervised loss.
"""

import warnings

import numpy as np
import pytest
import sklearn
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import accuracy_score, r2_score
from sklearn.model_selection import GridSearchCV, KFold, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

from sklearn_mtl.model_selection import TaskKFold
from sklearn_mtl.transfer import (
    CORAL,
    TrAdaBoostInterpolationWarning,
    TransferClassifier,
    TransferRegressor,
    kmm_weights,
)

N_SOURCE, N_TARGET, N_LABELLED = 80, 40, 9


@pytest.fixture
def shifted():
    """Sources, then a rotated and shifted target of which 9 rows are labelled.

    The unlabelled target rows are poisoned: their features lie far from the
    labelled ones, and their true labels (returned apart) are huge, so any
    supervised use of them moves a fit a lot.
    """
    rng = np.random.RandomState(0)
    coef = np.array([1.0, -2.0, 0.5, 1.5])
    Xs = rng.normal(size=(N_SOURCE, 4)) * [1.0, 2.0, 0.5, 1.0]
    angle = 0.6
    rotation = np.eye(4)
    rotation[:2, :2] = [[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]]
    Xt = rng.normal(size=(N_TARGET, 4)) @ rotation + [1.0, 0.0, -0.5, 0.3]
    Xt[N_LABELLED:] = 3.0 * Xt[N_LABELLED:] + 2.0
    X = np.vstack([Xs, Xt])
    y = X @ coef + 0.1 * rng.normal(size=len(X))
    truth = y.copy()
    truth[N_SOURCE + N_LABELLED :] = 100.0  # what a leak would train on
    y[N_SOURCE + N_LABELLED :] = np.nan
    domain = np.repeat(["source", "target"], [N_SOURCE, N_TARGET])
    return X, y, truth, domain


def _parts(X, y, domain):
    source = domain == "source"
    labelled = ~np.isnan(y)
    return (
        X[source],
        y[source],
        X[~source],
        X[~source & labelled],
        y[~source & labelled],
    )


def _model(method, **kwargs):
    return TransferRegressor(
        method=method, target="target", allow_unlabelled=True, **kwargs
    )


def test_coral_aligns_to_every_target_row(shifted):
    X, y, _, domain = shifted
    Xs, ys, Xt_all, Xt, yt = _parts(X, y, domain)
    model = _model("coral").fit(X, y, task_ids=domain)
    # By hand: CORAL fitted on the sources and ALL target rows; the supervised
    # fit on the aligned sources and the labelled target rows only.
    coral = CORAL(target="target").fit(
        np.vstack([Xs, Xt_all]),
        task_ids=np.repeat(["source", "target"], [len(Xs), len(Xt_all)]),
    )
    aligned = coral.transform(Xs, task_ids=np.repeat("source", len(Xs)))
    hand = Ridge().fit(np.vstack([aligned, Xt]), np.r_[ys, yt])
    np.testing.assert_allclose(model.estimator_.coef_, hand.coef_, rtol=1e-10)
    np.testing.assert_allclose(model.estimator_.intercept_, hand.intercept_)
    # The unlabelled rows matter: CORAL on the labelled rows alone differs.
    alone = _model("coral").fit(
        X[~np.isnan(y)], y[~np.isnan(y)], task_ids=domain[~np.isnan(y)]
    )
    assert not np.allclose(alone.estimator_.coef_, hand.coef_, rtol=1e-3)


def test_kmm_weights_match_every_target_row(shifted):
    X, y, _, domain = shifted
    Xs, ys, Xt_all, Xt, yt = _parts(X, y, domain)
    model = _model("kmm", estimator=Ridge(alpha=0.3)).fit(X, y, task_ids=domain)
    beta = kmm_weights(Xs, Xt_all)
    hand = Ridge(alpha=0.3).fit(
        np.vstack([Xs, Xt]), np.r_[ys, yt], sample_weight=np.r_[beta, np.ones(len(yt))]
    )
    np.testing.assert_allclose(model.estimator_.coef_, hand.coef_, rtol=1e-8)


@pytest.mark.parametrize(
    "method", ["target_only", "pooled", "parameter", "augment", "tradaboost"]
)
def test_unlabelled_rows_never_enter_a_supervised_loss(shifted, method):
    """Methods without adaptation: the fit equals the fit on labelled rows."""
    X, y, truth, domain = shifted
    keep = ~np.isnan(y)
    kwargs = {"n_estimators": 3, "random_state": 0}
    model = _model(method, alpha=2.5, **kwargs).fit(X, y, task_ids=domain)
    hand = _model(method, alpha=2.5, **kwargs).fit(
        X[keep], y[keep], task_ids=domain[keep]
    )
    # Where a poisoned label had leaked in, this fit would differ.
    leaked = _model(method, alpha=2.5, **kwargs).fit(X, truth, task_ids=domain)
    X_test = X[N_SOURCE : N_SOURCE + 20]
    np.testing.assert_allclose(model.predict(X_test), hand.predict(X_test))
    assert not np.allclose(leaked.predict(X_test), hand.predict(X_test))


def test_zero_target_labels_is_unsupervised(shifted):
    X, y, _, domain = shifted
    y = y.copy()
    y[domain == "target"] = np.nan
    model = TransferRegressor(target="target", allow_unlabelled=True)
    model.fit(X, y, task_ids=domain)
    # The label-free rule: the cheap label-free candidates, each scored by
    # circular validation (test_domain_selection.py checks the scores).
    assert "label-free" in model.selection_
    results = model.cv_results_
    assert list(results["method"]) == [
        "source_only",
        "coral",
        "linear_ot",
        "subspace_alignment",
    ]
    assert np.all(np.isfinite(results["mean_score"]))
    # The chosen candidate (a tie may send it to a simpler, lower-scored one).
    assert model.method_ == results["method"][results["chosen"]][0]
    hand = _model(model.method_).fit(X, y, task_ids=domain)
    np.testing.assert_allclose(model.predict(X), hand.predict(X))
    with pytest.raises(ValueError, match="method='target_only' trains on target"):
        _model("target_only").fit(X, y, task_ids=domain)


def test_classifier_object_labels_with_none_and_zero_labels():
    rng = np.random.RandomState(1)
    X = rng.normal(size=(90, 3))
    domain = np.repeat(["s", "t"], [60, 30])
    X[domain == "t"] = X[domain == "t"] * 1.5 + 0.5
    y = np.where(X[:, 0] + 0.3 * X[:, 1] > 0.4, "yes", "no").astype(object)
    y[60 + 6 :] = None
    model = TransferClassifier(method="coral", target="t", allow_unlabelled=True).fit(
        X, y, task_ids=domain
    )
    assert model.classes_.tolist() == ["no", "yes"]
    # Same fit with float-coded classes and NaN as the marker.
    y_float = np.where(y == "yes", 1.0, np.where(y == "no", 0.0, np.nan))
    coded = TransferClassifier(method="coral", target="t", allow_unlabelled=True).fit(
        X, y_float, task_ids=domain
    )
    np.testing.assert_allclose(
        model.predict_proba(X), coded.predict_proba(X), rtol=1e-10
    )
    y[60:] = None
    unsupervised = TransferClassifier(target="t").fit(X, y, task_ids=domain)
    assert "label-free" in unsupervised.selection_
    assert set(unsupervised.predict(X)) <= {"no", "yes"}


def test_missing_source_label_raises_naming_the_task(shifted):
    X, y, _, domain = shifted
    y = y.copy()
    y[3] = np.nan
    with pytest.raises(ValueError, match=r"Task 'source' has 1 row\(s\) whose label"):
        _model("coral").fit(X, y, task_ids=domain)
    # Unlabelled target rows are the default; refusing them is an option,
    # and its error says how to accept them.
    X, y, _, domain = shifted
    TransferRegressor(method="coral", target="target").fit(X, y, task_ids=domain)
    with pytest.raises(ValueError, match="y contains NaN.*allow_unlabelled=True"):
        TransferRegressor(target="target", allow_unlabelled=False).fit(
            X, y, task_ids=domain
        )


def test_score_skips_unlabelled_rows(shifted):
    X, y, _, domain = shifted
    model = _model("coral").fit(X, y, task_ids=domain)
    target = domain == "target"
    keep = target & ~np.isnan(y)
    expected = r2_score(y[keep], model.predict(X[keep]))
    assert model.score(X[target], y[target]) == pytest.approx(expected)


def test_auto_cross_validates_on_taskkfold_folds_of_labelled_rows():
    rng = np.random.RandomState(3)
    X = rng.normal(size=(130, 2))
    domain = np.repeat(["s", "t"], [100, 30])
    y = (X[:, 0] + 0.4 * X[:, 1] + 0.5 * rng.normal(size=130) > 0).astype(float)
    y[100 + 15 :] = np.nan  # 15 labelled target rows, 15 unlabelled
    model = TransferClassifier(
        target="t",
        candidates=["target_only", "pooled"],
        cv_folds=4,
        n_repeats=1,
    ).fit(X, y, task_ids=domain)
    Xs, ys = X[:100], y[:100]
    Xt, yt = X[100:115], y[100:115]
    folds = TaskKFold(4, stratify=True, shuffle=True, random_state=0).split(
        Xt, yt, task_ids=np.zeros(15)
    )
    hand = {"target_only": [], "pooled": []}
    for train, test in folds:
        alone = LogisticRegression().fit(Xt[train], yt[train])
        pooled = LogisticRegression().fit(
            np.vstack([Xs, Xt[train]]), np.r_[ys, yt[train]]
        )
        hand["target_only"].append(accuracy_score(yt[test], alone.predict(Xt[test])))
        hand["pooled"].append(accuracy_score(yt[test], pooled.predict(Xt[test])))
    results = model.cv_results_
    for row, (method, scores) in enumerate(hand.items()):
        assert results["method"][row] == method
        assert results["mean_score"][row] == pytest.approx(np.mean(scores))
        assert results["std_score"][row] == pytest.approx(np.std(scores))
    assert "1 x TaskKFold(4 folds) on 15 labelled target rows" in model.selection_


def test_tradaboost_warns_when_the_learner_interpolates(shifted):
    X, y, _, domain = shifted
    keep = ~np.isnan(y)
    X, y, domain = X[keep], y[keep], domain[keep]
    labels = (y > np.median(y)).astype(int)
    with pytest.warns(TrAdaBoostInterpolationWarning, match="DecisionTreeClassifier"):
        TransferClassifier(
            DecisionTreeClassifier(random_state=0),
            method="tradaboost",
            target="target",
            n_estimators=4,
            boosting_errors="training",
        ).fit(X, labels, task_ids=domain)
    # Errors on held-out rows (the default): the interpolating tree errs
    # there, so weights move and nothing warns.
    with warnings.catch_warnings():
        warnings.simplefilter("error", TrAdaBoostInterpolationWarning)
        TransferClassifier(
            DecisionTreeClassifier(random_state=0),
            method="tradaboost",
            target="target",
            n_estimators=4,
            random_state=0,
        ).fit(X, labels, task_ids=domain)
    with pytest.warns(TrAdaBoostInterpolationWarning, match="DecisionTreeRegressor"):
        TransferRegressor(
            DecisionTreeRegressor(random_state=0),
            method="tradaboost",
            target="target",
            n_estimators=2,
            random_state=0,
        ).fit(X, y, task_ids=domain)
    # A learner that errs on some rows reweights them: no warning.
    with warnings.catch_warnings():
        warnings.simplefilter("error", TrAdaBoostInterpolationWarning)
        TransferClassifier(
            DecisionTreeClassifier(max_depth=1, random_state=0),
            method="tradaboost",
            target="target",
            n_estimators=4,
        ).fit(X, labels, task_ids=domain)


def test_search_cross_validate_and_pipeline(shifted):
    X, y, _, domain = shifted
    task = (domain == "target").astype(float)
    X_column = np.column_stack([task, X])
    model = TransferRegressor(target=1.0, task_column=0, allow_unlabelled=True)
    cv = KFold(3, shuffle=True, random_state=0)
    search = GridSearchCV(model, {"method": ["coral", "pooled"]}, cv=cv)
    search.fit(X_column, y)
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
    scores = cross_validate(model.set_params(method="coral"), X_column, y, cv=cv)
    assert np.all(np.isfinite(scores["test_score"]))
    with sklearn.config_context(enable_metadata_routing=True):
        pipe = make_pipeline(StandardScaler(), _model("coral"))
        pipe.fit(X, y, task_ids=domain)
        scaled = StandardScaler().fit_transform(X)
        hand = _model("coral").fit(scaled, y, task_ids=domain)
        np.testing.assert_allclose(pipe.predict(X), hand.predict(scaled))


def test_check_fit_data_keeps_unlabelled_rows_only_when_asked():
    from sklearn_mtl._tasks import check_fit_data

    X = np.arange(12.0).reshape(6, 2)
    tasks = np.array([0, 0, 0, 1, 1, 1])
    y = np.array([0.5, 1.0, 2.0, np.nan, 3.0, np.nan])
    with pytest.raises(ValueError, match="Input y contains NaN"):
        check_fit_data(Ridge(), X, y, tasks)  # the default is unchanged
    data = check_fit_data(Ridge(), X, y, tasks, unlabelled_tasks=[1])
    np.testing.assert_array_equal(data.labelled, ~np.isnan(y))
    with pytest.raises(ValueError, match=r"Task 1 has 2 row\(s\) whose label"):
        check_fit_data(Ridge(), X, y, tasks, unlabelled_tasks=[0])
    # Fully labelled data gives exactly the default path's TaskData.
    full = np.nan_to_num(y)
    kept = check_fit_data(Ridge(), X, full, tasks, unlabelled_tasks="all")
    plain = check_fit_data(Ridge(), X, full, tasks)
    assert kept.labelled is None
    np.testing.assert_array_equal(kept.y, plain.y)
    # Classes are counted on labelled rows; a task without labels is skipped.
    labels = np.array(["a", "b", "a", None, None, None], dtype=object)
    data = check_fit_data(
        LogisticRegression(), X, labels, tasks, classifier=True, unlabelled_tasks=[1]
    )
    assert data.labelled.tolist() == [True, True, True, False, False, False]
