"""The three task conventions through Pipeline, cross_validate and GridSearchCV."""

import numpy as np
import pandas as pd
import pytest
import sklearn
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import Ridge
from sklearn.model_selection import GridSearchCV, KFold, StratifiedKFold, cross_validate
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_mtl import (
    GraphMultiTaskClassifier,
    GraphMultiTaskRegressor,
    IndependentTasks,
)
from sklearn_mtl.datasets import (
    make_multitask_classification,
    make_multitask_regression,
)


@pytest.fixture
def data():
    X, y, task_ids = make_multitask_regression(n_tasks=4, n_samples=40, random_state=0)
    return X, y, np.array(["a", "b", "c", "d"])[task_ids]


def _task_folds(task_ids):
    # Stratifying on the task keeps every task in every training fold.
    return list(
        StratifiedKFold(3, shuffle=True, random_state=0).split(task_ids, task_ids)
    )


def test_long_format_with_metadata_routing(data):
    X, y, task_ids = data
    with sklearn.config_context(enable_metadata_routing=True):
        pipe = make_pipeline(StandardScaler(), GraphMultiTaskRegressor(alpha_graph=2.0))
        pipe.fit(X, y, task_ids=task_ids)
        direct = GraphMultiTaskRegressor(alpha_graph=2.0).fit(
            StandardScaler().fit_transform(X), y, task_ids=task_ids
        )
        np.testing.assert_allclose(
            pipe.predict(X, task_ids=task_ids),
            direct.predict(StandardScaler().fit(X).transform(X), task_ids=task_ids),
        )

        scores = cross_validate(
            pipe, X, y, params={"task_ids": task_ids}, cv=_task_folds(task_ids)
        )
        assert np.all(scores["test_score"] > 0.8)

        search = GridSearchCV(
            pipe,
            {"graphmultitaskregressor__alpha_graph": [0.1, 10.0]},
            cv=_task_folds(task_ids),
        )
        search.fit(X, y, task_ids=task_ids)
        assert search.best_score_ > 0.8
        assert search.score(X, y, task_ids=task_ids) > 0.8


def test_long_format_without_routing_uses_step_params(data):
    X, y, task_ids = data
    pipe = make_pipeline(StandardScaler(), GraphMultiTaskRegressor())
    pipe.fit(X, y, graphmultitaskregressor__task_ids=task_ids)
    assert pipe.predict(X, task_ids=task_ids).shape == (160,)


def test_task_column_needs_no_routing(data):
    X, y, task_ids = data
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])]).assign(
        task=task_ids
    )
    features = [c for c in frame.columns if c != "task"]
    pipe = Pipeline(
        [
            (
                "scale",
                ColumnTransformer(
                    [("num", StandardScaler(), features)],
                    remainder="passthrough",
                    verbose_feature_names_out=False,
                ).set_output(transform="pandas"),
            ),
            ("model", GraphMultiTaskRegressor(task_column="task")),
        ]
    )
    search = GridSearchCV(
        pipe,
        {"model__alpha_graph": [0.1, 1.0, 10.0]},
        cv=_task_folds(task_ids),
        scoring="neg_mean_squared_error",
    )
    search.fit(frame, y)
    assert search.predict(frame).shape == (160,)
    scores = cross_validate(
        search.best_estimator_, frame, y, cv=_task_folds(task_ids), scoring="r2"
    )
    assert np.all(scores["test_score"] > 0.8)


def test_wide_format_in_grid_search():
    X, y, task_ids = make_multitask_regression(n_tasks=3, n_samples=50, random_state=1)
    Y = np.column_stack([y[task_ids == t] for t in range(3)])
    X_shared = X[task_ids == 0]
    search = GridSearchCV(
        GraphMultiTaskRegressor(), {"alpha_graph": [0.1, 10.0]}, cv=KFold(3)
    )
    search.fit(X_shared, Y)
    assert search.predict(X_shared).shape == (50, 3)


def test_classifier_with_task_column_and_proba_scorer():
    X, y, task_ids = make_multitask_classification(
        n_tasks=3, n_samples=60, random_state=0
    )
    Xt = np.column_stack([X, task_ids])
    search = GridSearchCV(
        GraphMultiTaskClassifier(task_column=-1),
        {"alpha_graph": [0.1, 10.0]},
        scoring="roc_auc",
        cv=_task_folds(task_ids),
    ).fit(Xt, y)
    assert search.best_score_ > 0.7
    assert search.predict_proba(Xt).shape == (180, 2)


def test_independent_tasks_in_parallel(data):
    X, y, task_ids = data
    serial = IndependentTasks(Ridge()).fit(X, y, task_ids=task_ids)
    parallel = IndependentTasks(Ridge(), n_jobs=2).fit(X, y, task_ids=task_ids)
    np.testing.assert_allclose(
        serial.predict(X, task_ids=task_ids), parallel.predict(X, task_ids=task_ids)
    )
