"""Scale-out on Dask: searches run through joblib's ``dask`` backend unchanged.

A two-worker ``distributed.LocalCluster`` (worker processes, so every
estimator, splitter and scorer crosses a process boundary pickled, as on a real
cluster) runs the same searches as a serial run; the results must be equal to
the last bit. Each test also checks that the cluster really ran tasks, so a
backend that silently fell back to local execution cannot pass.
"""

import logging
import pickle

import numpy as np
import pytest
import sklearn
from numpy.testing import assert_array_equal
from sklearn.linear_model import Ridge
from sklearn.metrics import r2_score
from sklearn.model_selection import GridSearchCV, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_mtl import GraphMultiTaskRegressor, IndependentTasks, PooledTasks
from sklearn_mtl.datasets import make_multitask_regression
from sklearn_mtl.metrics import make_task_scorer
from sklearn_mtl.model_selection import LeaveOneTaskOut, TaskKFold
from sklearn_mtl.preprocessing import PerTask

distributed = pytest.importorskip("distributed")
joblib = pytest.importorskip("joblib")

GRID = {
    "graphmultitaskregressor__alpha_graph": [0.01, 0.3, 10.0],
    "graphmultitaskregressor__alpha_l2": [0.1, 3.0],
}


@pytest.fixture(scope="module")
def client():
    """Two single-threaded worker processes; no dashboard (no port to clash)."""
    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        silence_logs=logging.ERROR,
    )
    client = distributed.Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


@pytest.fixture(scope="module")
def data():
    # Unequal task sizes and noise, so the grid's candidates really differ.
    X, y, task_ids = make_multitask_regression(
        n_tasks=5, n_samples=[30, 45, 60, 35, 50], noise=1.5, random_state=0
    )
    return X, y, task_ids


def _serial(run):
    """``run()`` with every joblib call in this process, one job at a time."""
    with joblib.parallel_config(backend="sequential"):
        return run()


def _on_cluster(client, run):
    """``run()`` inside the dask backend; also the number of tasks it sent."""
    with distributed.get_task_stream(client) as stream:
        with joblib.parallel_config(backend="dask"):
            result = run()
    return result, len(stream.data)


def _assert_same_search(serial, dask):
    assert_array_equal(
        dask.cv_results_["mean_test_score"], serial.cv_results_["mean_test_score"]
    )
    assert_array_equal(
        dask.cv_results_["split0_test_score"], serial.cv_results_["split0_test_score"]
    )
    assert dask.best_params_ == serial.best_params_
    assert dask.best_index_ == serial.best_index_


def test_everything_sent_to_workers_pickles(data):
    """What a search ships to workers survives pickle and scores the same."""
    X, y, task_ids = data
    scorer = make_task_scorer(r2_score, average="weighted")
    model = make_pipeline(StandardScaler(), GraphMultiTaskRegressor(alpha_graph=0.3))
    with sklearn.config_context(enable_metadata_routing=True):
        splitter = TaskKFold(3, shuffle=True, random_state=0)
        model.fit(X, y, task_ids=task_ids)
        clone_model, clone_splitter, clone_scorer = pickle.loads(
            pickle.dumps((model, splitter, scorer))
        )
        folds = [
            (train.tolist(), test.tolist())
            for train, test in splitter.split(X, y, task_ids=task_ids)
        ]
        assert folds == [
            (train.tolist(), test.tolist())
            for train, test in clone_splitter.split(X, y, task_ids=task_ids)
        ]
        # The routing request (task_ids to split and score) travels with them.
        requests = clone_splitter.get_metadata_routing().split.requests
        assert requests == splitter.get_metadata_routing().split.requests
        assert requests["task_ids"] is True
        expected = scorer(model, X, y, task_ids=task_ids)
        assert clone_scorer(clone_model, X, y, task_ids=task_ids) == expected
    per_task = IndependentTasks(Ridge()).fit(X, y, task_ids=task_ids)
    assert_array_equal(
        pickle.loads(pickle.dumps(per_task)).predict(X, task_ids=task_ids),
        per_task.predict(X, task_ids=task_ids),
    )


def test_grid_search_task_column(client, data):
    """Task column in X: no routing, splitter and scorer read the column."""
    X, y, task_ids = data
    X_col = np.column_stack([X, task_ids])

    def run():
        search = GridSearchCV(
            make_pipeline(
                PerTask(StandardScaler(), task_column=-1),
                GraphMultiTaskRegressor(task_column=-1),
            ),
            GRID,
            cv=TaskKFold(3, task_column=-1),
            scoring=make_task_scorer(r2_score),
            n_jobs=-1,
        )
        return search.fit(X_col, y)

    serial = _serial(run)
    dask, n_tasks = _on_cluster(client, run)
    assert n_tasks > 0
    _assert_same_search(serial, dask)
    assert_array_equal(dask.predict(X_col), serial.predict(X_col))


def test_grid_search_routed_task_ids(client, data):
    """task_ids through metadata routing to the model, the splitter and scorer."""
    X, y, task_ids = data

    def run():
        with sklearn.config_context(enable_metadata_routing=True):
            search = GridSearchCV(
                make_pipeline(StandardScaler(), GraphMultiTaskRegressor()),
                GRID,
                cv=TaskKFold(3, shuffle=True, random_state=1),
                scoring=make_task_scorer(r2_score, average="weighted"),
                n_jobs=-1,
            )
            return search.fit(X, y, task_ids=task_ids)

    serial = _serial(run)
    dask, n_tasks = _on_cluster(client, run)
    assert n_tasks > 0
    _assert_same_search(serial, dask)
    assert_array_equal(dask.best_estimator_[-1].coef_, serial.best_estimator_[-1].coef_)


def test_independent_tasks_fits_tasks_on_workers(client, data):
    """IndependentTasks' own Parallel follows the outer backend."""
    X, y, task_ids = data

    def run():
        return IndependentTasks(Ridge(alpha=2.0), n_jobs=-1).fit(
            X, y, task_ids=task_ids
        )

    serial = _serial(run)
    dask, n_tasks = _on_cluster(client, run)
    # One fit per task went to the cluster (joblib may batch several in one).
    assert n_tasks > 0
    assert len(dask.estimators_) == 5
    for fitted, reference in zip(dask.estimators_, serial.estimators_):
        assert_array_equal(fitted.coef_, reference.coef_)
        assert fitted.intercept_ == reference.intercept_


def test_nested_parallel_inside_search(client, data):
    """IndependentTasks(n_jobs=-1) inside a parallel search: no deadlock."""
    X, y, task_ids = data

    def run():
        with sklearn.config_context(enable_metadata_routing=True):
            search = GridSearchCV(
                IndependentTasks(Ridge(), n_jobs=-1),
                {"estimator__alpha": [0.1, 1.0, 30.0]},
                cv=TaskKFold(3),
                scoring=make_task_scorer(r2_score),
                n_jobs=-1,
            )
            return search.fit(X, y, task_ids=task_ids)

    serial = _serial(run)
    dask, n_tasks = _on_cluster(client, run)
    assert n_tasks > 0
    _assert_same_search(serial, dask)


def test_cross_validate_per_task_scores(client, data):
    """cross_validate with a per-task dict scorer, and leave-one-task-out."""
    X, y, task_ids = data

    def run():
        with sklearn.config_context(enable_metadata_routing=True):
            per_task = cross_validate(
                GraphMultiTaskRegressor(alpha_graph=0.3),
                X,
                y,
                cv=TaskKFold(3),
                scoring=make_task_scorer(r2_score, average=None),
                params={"task_ids": task_ids},
                n_jobs=-1,
            )
            unseen = cross_validate(
                PooledTasks(Ridge()),
                X,
                y,
                cv=LeaveOneTaskOut(),
                params={"task_ids": task_ids},
                n_jobs=-1,
            )
        return per_task, unseen

    serial = _serial(run)
    dask, n_tasks = _on_cluster(client, run)
    assert n_tasks > 0
    for got, expected in zip(dask, serial):
        scores = sorted(k for k in expected if k.startswith("test_"))
        assert scores == sorted(k for k in got if k.startswith("test_"))
        for key in scores:
            assert_array_equal(got[key], expected[key])
    # One score column per task label, and one LOTO fold per task.
    assert len([k for k in serial[0] if k.startswith("test_")]) == 5
    assert serial[1]["test_score"].shape == (5,)
