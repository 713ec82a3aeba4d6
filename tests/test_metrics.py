"""Per-task metrics and task scorers against hand computations."""

import pickle

import numpy as np
import pandas as pd
import pytest
import sklearn
from sklearn.metrics import (
    explained_variance_score,
    mean_squared_error,
    r2_score,
    roc_auc_score,
)
from sklearn.model_selection import GridSearchCV, cross_validate

from sklearn_mtl import GraphMultiTaskClassifier, GraphMultiTaskRegressor
from sklearn_mtl.datasets import (
    make_multitask_classification,
    make_multitask_regression,
)
from sklearn_mtl.metrics import (
    delta_percent,
    make_task_scorer,
    normalized_mean_squared_error,
    per_task_nmse,
    per_task_roc_auc,
    per_task_score,
)
from sklearn_mtl.model_selection import TaskKFold


@pytest.fixture
def long_data():
    """Three tasks of unequal sizes (5, 12, 30) with different noise levels."""
    rng = np.random.RandomState(0)
    tasks = np.repeat(["x", "y", "z"], [5, 12, 30])[rng.permutation(47)]
    y_true = rng.randn(47) * np.where(tasks == "z", 3.0, 1.0)
    y_pred = y_true + rng.randn(47) * np.where(tasks == "x", 0.2, 1.0)
    return y_true, y_pred, tasks


def test_per_task_r2_equals_sklearn_on_each_slice(long_data):
    y_true, y_pred, tasks = long_data
    scores = per_task_score(y_true, y_pred, task_ids=tasks)
    expected = [r2_score(y_true[tasks == t], y_pred[tasks == t]) for t in "xyz"]
    np.testing.assert_allclose(scores, expected, rtol=1e-12)
    as_dict = per_task_score(y_true, y_pred, task_ids=tasks, output="dict")
    assert list(as_dict) == ["x", "y", "z"]
    np.testing.assert_allclose(list(as_dict.values()), expected, rtol=1e-12)


def test_weighted_average_is_the_hand_weighted_mean(long_data):
    y_true, y_pred, tasks = long_data
    per_task = [
        mean_squared_error(y_true[tasks == t], y_pred[tasks == t]) for t in "xyz"
    ]
    hand = (5 * per_task[0] + 12 * per_task[1] + 30 * per_task[2]) / 47
    weighted = per_task_score(
        y_true, y_pred, task_ids=tasks, metric=mean_squared_error, average="weighted"
    )
    uniform = per_task_score(
        y_true, y_pred, task_ids=tasks, metric=mean_squared_error, average="uniform"
    )
    assert weighted == pytest.approx(hand, rel=1e-12)
    assert uniform == pytest.approx(np.mean(per_task), rel=1e-12)
    assert abs(weighted - uniform) > 0.1


def test_sample_weight_reaches_each_task(long_data):
    y_true, y_pred, tasks = long_data
    w = np.linspace(0.5, 2.0, 47)
    scores = per_task_score(y_true, y_pred, task_ids=tasks, sample_weight=w)
    expected = [
        r2_score(y_true[tasks == t], y_pred[tasks == t], sample_weight=w[tasks == t])
        for t in "xyz"
    ]
    np.testing.assert_allclose(scores, expected, rtol=1e-12)


def test_wide_format_skips_missing_labels():
    rng = np.random.RandomState(1)
    Y = rng.randn(20, 3)
    P = Y + rng.randn(20, 3) * [0.1, 0.5, 1.0]
    Y[[0, 3, 7], 1] = np.nan
    Y[[2, 5], 2] = np.nan
    scores = per_task_score(Y, P)
    expected = [
        r2_score(Y[~np.isnan(Y[:, t]), t], P[~np.isnan(Y[:, t]), t]) for t in range(3)
    ]
    np.testing.assert_allclose(scores, expected, rtol=1e-12)
    Y[:, 0] = np.nan
    with pytest.raises(ValueError, match="Task 0 .* has no labelled sample"):
        per_task_score(Y, P)


def test_nmse_is_mse_over_population_variance(long_data):
    y_true, y_pred, tasks = long_data
    expected = []
    for t in "xyz":
        yt, yp = y_true[tasks == t], y_pred[tasks == t]
        expected.append(np.mean((yt - yp) ** 2) / np.mean((yt - yt.mean()) ** 2))
    np.testing.assert_allclose(
        per_task_nmse(y_true, y_pred, task_ids=tasks), expected, rtol=1e-12
    )
    w = np.array([1.0, 3.0, 1.0, 1.0])
    yt, yp = np.array([0.0, 1.0, 2.0, 4.0]), np.array([0.5, 1.0, 2.0, 3.0])
    mean = np.sum(w * yt) / w.sum()
    hand = np.sum(w * (yt - yp) ** 2) / np.sum(w * (yt - mean) ** 2)
    assert normalized_mean_squared_error(yt, yp, sample_weight=w) == pytest.approx(
        hand, rel=1e-12
    )
    with pytest.raises(ValueError, match="Task 'b' .*zero variance"):
        per_task_nmse([1.0, 2.0, 5.0, 5.0], [1.0, 2.0, 5.0, 4.0], task_ids=list("aabb"))


def test_per_task_roc_auc_matches_sklearn_per_slice():
    rng = np.random.RandomState(0)
    tasks = np.repeat([3, 7], [20, 26])
    y = (rng.rand(46) < 0.4).astype(int)
    y[[0, 1, 20, 21]] = [0, 1, 0, 1]
    score = y + rng.randn(46)
    expected = [roc_auc_score(y[tasks == t], score[tasks == t]) for t in (3, 7)]
    np.testing.assert_allclose(
        per_task_roc_auc(y, score, task_ids=tasks), expected, rtol=1e-12
    )
    proba = np.column_stack([1 - score, score])
    np.testing.assert_allclose(
        per_task_roc_auc(y, proba, task_ids=tasks), expected, rtol=1e-12
    )
    y_one_class = y.copy()
    y_one_class[tasks == 7] = 1
    with pytest.raises(ValueError, match="Task 7 .* cannot be scored"):
        per_task_roc_auc(y_one_class, score, task_ids=tasks)


def test_delta_percent_hand_computation():
    mtl = np.array([0.9, 0.6, -0.1])
    stl = np.array([0.8, 0.5, -0.4])  # a negative baseline R²: divide by |b|
    hand = (0.1 / 0.8 + 0.1 / 0.5 + 0.3 / 0.4) / 3 * 100
    assert delta_percent(mtl, stl) == pytest.approx(hand, rel=1e-12)
    mse_mtl, mse_stl = [1.0, 4.0], [2.0, 3.0]
    hand = (-(1.0 - 2.0) / 2.0 - (4.0 - 3.0) / 3.0) / 2 * 100
    assert delta_percent(mse_mtl, mse_stl, higher_is_better=False) == pytest.approx(
        hand, rel=1e-12
    )
    mixed = delta_percent([0.9, 1.0], [0.8, 2.0], higher_is_better=[True, False])
    assert mixed == pytest.approx((0.1 / 0.8 + 1.0 / 2.0) / 2 * 100, rel=1e-12)
    by_label = delta_percent({"b": 1.0, "a": 3.0}, {"a": 2.0, "b": 2.0})
    assert by_label == pytest.approx((0.5 - 0.5) / 2 * 100, abs=1e-12)
    with pytest.raises(ValueError, match="task 'a' is 0"):
        delta_percent({"a": 1.0}, {"a": 0.0})
    with pytest.raises(ValueError, match="different tasks"):
        delta_percent({"a": 1.0}, {"b": 1.0})


def test_metric_failure_names_the_task():
    with pytest.raises(ValueError, match="Task 'b' .*R.2 score is not well-defined"):
        per_task_score([1.0, 2.0, 3.0], [1.0, 2.0, 2.0], task_ids=["a", "a", "b"])


@pytest.fixture
def fitted_regressor():
    X, y, tasks = make_multitask_regression(n_tasks=4, n_samples=25, random_state=0)
    tasks = np.array(["p", "q", "r", "s"])[tasks]
    keep = np.concatenate(
        [np.flatnonzero(tasks == "p")[:8], np.flatnonzero(tasks != "p")]
    )
    X, y, tasks = (
        X[keep],
        y[keep] + 0.5 * np.random.RandomState(0).randn(83),
        tasks[keep],
    )
    model = GraphMultiTaskRegressor(alpha_graph=1.0).fit(X, y, task_ids=tasks)
    return model, X, y, tasks


def test_scorer_equals_per_task_score_of_predictions(fitted_regressor):
    model, X, y, tasks = fitted_regressor
    y_pred = model.predict(X, task_ids=tasks)
    for average in ("uniform", "weighted"):
        scorer = make_task_scorer(r2_score, average=average)
        expected = per_task_score(y, y_pred, task_ids=tasks, average=average)
        assert scorer(model, X, y, task_ids=tasks) == pytest.approx(expected)
    loss = make_task_scorer(mean_squared_error, greater_is_better=False)
    expected = per_task_score(
        y, y_pred, task_ids=tasks, metric=mean_squared_error, average="uniform"
    )
    assert loss(model, X, y, task_ids=tasks) == pytest.approx(-expected)
    per_task = make_task_scorer(r2_score, average=None)(model, X, y, task_ids=tasks)
    assert list(per_task) == ["p", "q", "r", "s"]
    np.testing.assert_allclose(
        list(per_task.values()), per_task_score(y, y_pred, task_ids=tasks)
    )
    # A pooled R² over all rows differs from the uniform per-task mean here.
    assert r2_score(y, y_pred) != pytest.approx(
        make_task_scorer(r2_score)(model, X, y, task_ids=tasks)
    )
    assert repr(loss).startswith("make_task_scorer(mean_squared_error")
    assert pickle.loads(pickle.dumps(loss))(model, X, y, task_ids=tasks) == loss(
        model, X, y, task_ids=tasks
    )


def test_scorer_reads_the_task_column(fitted_regressor):
    _, X, y, tasks = fitted_regressor
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])]).assign(
        task=tasks
    )
    model = GraphMultiTaskRegressor(alpha_graph=1.0, task_column="task").fit(frame, y)
    scorer = make_task_scorer(r2_score, average="weighted")
    expected = per_task_score(
        y, model.predict(frame), task_ids=tasks, average="weighted"
    )
    assert scorer(model, frame, y) == pytest.approx(expected)
    explicit = make_task_scorer(r2_score, average="weighted", task_column="task")
    assert explicit(model, frame, y) == pytest.approx(expected)


def test_scorer_wide_format():
    X, y, tasks = make_multitask_regression(n_tasks=3, n_samples=30, random_state=2)
    Y = np.column_stack([y[tasks == t] for t in range(3)])
    X = X[tasks == 0]
    Y[[1, 4], 2] = np.nan
    model = GraphMultiTaskRegressor().fit(X, Y)
    expected = per_task_score(Y, model.predict(X))
    assert make_task_scorer(r2_score)(model, X, Y) == pytest.approx(expected.mean())


def test_scorer_requests_task_ids_by_default():
    scorer = make_task_scorer(r2_score)
    assert scorer.get_metadata_routing().score.requests["task_ids"] is True
    with sklearn.config_context(enable_metadata_routing=True):
        scorer.set_score_request(sample_weight=True)
        requests = scorer.get_metadata_routing().score.requests
        assert requests["task_ids"] is True and requests["sample_weight"] is True
        scorer.set_score_request(task_ids=False)
        assert scorer.get_metadata_routing().score.requests["task_ids"] is False


def test_cross_validate_end_to_end_with_routing():
    X, y, tasks = make_multitask_regression(n_tasks=5, n_samples=30, random_state=3)
    y = y + np.random.RandomState(3).randn(y.shape[0])
    tasks = np.array(list("vwxyz"))[tasks]
    with sklearn.config_context(enable_metadata_routing=True):
        result = cross_validate(
            GraphMultiTaskRegressor(alpha_graph=1.0),
            X,
            y,
            cv=TaskKFold(5, shuffle=True, random_state=0),
            scoring={
                "weighted": make_task_scorer(r2_score, average="weighted"),
                "ev": make_task_scorer(explained_variance_score),
            },
            params={"task_ids": tasks},
            return_estimator=True,
            return_indices=True,
        )
        per_task = cross_validate(
            GraphMultiTaskRegressor(alpha_graph=1.0),
            X,
            y,
            cv=TaskKFold(5, shuffle=True, random_state=0),
            scoring=make_task_scorer(explained_variance_score, average=None),
            params={"task_ids": tasks},
        )
    for k, (estimator, test) in enumerate(
        zip(result["estimator"], result["indices"]["test"])
    ):
        assert set(tasks[test]) == set("vwxyz")
        y_pred = estimator.predict(X[test], task_ids=tasks[test])
        hand = per_task_score(y[test], y_pred, task_ids=tasks[test], average="weighted")
        assert result["test_weighted"][k] == pytest.approx(hand, rel=1e-10)
        for task in "vwxyz":
            rows = tasks[test] == task
            assert per_task[f"test_{task}"][k] == pytest.approx(
                explained_variance_score(y[test][rows], y_pred[rows]), rel=1e-10
            )
        assert result["test_ev"][k] == pytest.approx(
            np.mean([per_task[f"test_{t}"][k] for t in "vwxyz"]), rel=1e-10
        )


def test_grid_search_with_task_scorer_and_task_column():
    X, y, tasks = make_multitask_regression(n_tasks=3, n_samples=30, random_state=4)
    Xc = np.column_stack([X, tasks])
    scorer = make_task_scorer(r2_score)
    search = GridSearchCV(
        GraphMultiTaskRegressor(task_column=-1),
        {"alpha_graph": [0.1, 10.0]},
        cv=TaskKFold(3, task_column=-1),
        scoring=scorer,
    ).fit(Xc, y)
    expected = per_task_score(y, search.predict(Xc), task_ids=tasks, average="uniform")
    assert scorer(search, Xc, y) == pytest.approx(expected)


def test_scorer_with_probabilities_gives_per_task_auc():
    X, y, tasks = make_multitask_classification(n_tasks=3, n_samples=40, random_state=0)
    model = GraphMultiTaskClassifier().fit(X, y, task_ids=tasks)
    scorer = make_task_scorer(roc_auc_score, response_method="predict_proba")
    proba = model.predict_proba(X, task_ids=tasks)
    expected = per_task_roc_auc(y, proba, task_ids=tasks, average="uniform")
    assert scorer(model, X, y, task_ids=tasks) == pytest.approx(expected)
    by_hand = np.mean(
        [roc_auc_score(y[tasks == t], proba[tasks == t, 1]) for t in range(3)]
    )
    assert expected == pytest.approx(by_hand, rel=1e-12)
