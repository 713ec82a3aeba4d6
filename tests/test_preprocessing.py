"""PerTask against hand per-task transformations, in every task format."""

import pickle

import numpy as np
import pandas as pd
import pytest
import sklearn
from sklearn.base import clone
from sklearn.decomposition import PCA
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_mtl import GraphMultiTaskRegressor
from sklearn_mtl.datasets import make_multitask_regression
from sklearn_mtl.model_selection import TaskKFold
from sklearn_mtl.preprocessing import PerTask


@pytest.fixture
def scaled_tasks():
    """Three tasks of unequal sizes on very different scales, interleaved."""
    rng = np.random.RandomState(0)
    tasks = np.repeat(["a", "b", "c"], [6, 15, 9])[rng.permutation(30)]
    scale = np.select([tasks == "a", tasks == "b"], [1.0, 50.0], 0.01)[:, None]
    shift = np.select([tasks == "a", tasks == "b"], [0.0, -20.0], 3.0)[:, None]
    X = rng.randn(30, 3) * scale + shift
    return X, tasks


def _hand_scale(X, tasks, X_new=None, tasks_new=None):
    X_new = X if X_new is None else X_new
    tasks_new = tasks if tasks_new is None else tasks_new
    out = np.empty_like(X_new)
    for task in np.unique(tasks):
        fit = X[tasks == task]
        rows = tasks_new == task
        out[rows] = (X_new[rows] - fit.mean(axis=0)) / fit.std(axis=0)
    return out


def test_per_task_scaling_equals_hand_scaling(scaled_tasks):
    X, tasks = scaled_tasks
    scaler = PerTask(StandardScaler())
    Xt = scaler.fit_transform(X, task_ids=tasks)
    np.testing.assert_allclose(Xt, _hand_scale(X, tasks), rtol=1e-12)
    default = PerTask().fit_transform(X, task_ids=tasks)  # None: StandardScaler
    np.testing.assert_array_equal(default, Xt)
    for task in "abc":
        np.testing.assert_allclose(Xt[tasks == task].mean(axis=0), 0, atol=1e-12)
        np.testing.assert_allclose(Xt[tasks == task].std(axis=0), 1, rtol=1e-12)
    np.testing.assert_allclose(scaler.transform(X, task_ids=tasks), Xt, rtol=1e-12)
    assert scaler.tasks_.tolist() == ["a", "b", "c"]
    assert [s.n_samples_seen_ for s in scaler.transformers_] == [6, 15, 9]


def test_new_samples_use_their_own_tasks_statistics(scaled_tasks):
    X, tasks = scaled_tasks
    scaler = PerTask(StandardScaler()).fit(X, task_ids=tasks)
    X_new = np.array([[1.0, 2.0, 3.0], [1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    tasks_new = np.array(["c", "a", "b"])
    np.testing.assert_allclose(
        scaler.transform(X_new, task_ids=tasks_new),
        _hand_scale(X, tasks, X_new, tasks_new),
        rtol=1e-12,
    )
    with pytest.raises(ValueError, match=r"tasks not seen during fit: \['zz'\]"):
        scaler.transform(X_new, task_ids=["a", "zz", "b"])
    with pytest.raises(ValueError, match="fitted on 3 tasks"):
        scaler.transform(X_new)


def test_per_task_pca_equals_hand_pca(scaled_tasks):
    X, tasks = scaled_tasks
    pca = PerTask(PCA(n_components=2)).fit(X, task_ids=tasks)
    Xt = pca.transform(X, task_ids=tasks)
    for task in "abc":
        hand = PCA(n_components=2).fit(X[tasks == task])
        np.testing.assert_allclose(
            Xt[tasks == task], hand.transform(X[tasks == task]), atol=1e-10
        )
    with pytest.raises(ValueError, match="task 'a' .*6 samples"):
        PerTask(PCA(n_components=8)).fit(X, task_ids=tasks)
    with pytest.raises(ValueError, match="Task 'z' has 1 sample"):
        PerTask().fit(X[:4], task_ids=["a", "a", "z", "a"])


def test_task_column_passes_through_in_place(scaled_tasks):
    X, tasks = scaled_tasks
    codes = np.searchsorted(["a", "b", "c"], tasks).astype(float)
    Xc = np.column_stack([X[:, :1], codes, X[:, 1:]])
    out = PerTask(StandardScaler(), task_column=1).fit_transform(Xc)
    np.testing.assert_array_equal(out[:, 1], codes)
    np.testing.assert_allclose(
        np.delete(out, 1, axis=1), _hand_scale(X, tasks), rtol=1e-12
    )
    frame = pd.DataFrame(X, columns=["u", "v", "w"]).assign(task=tasks)
    per_task = PerTask(StandardScaler(), task_column="task").fit(frame)
    out = per_task.transform(frame)
    assert list(out.columns) == ["u", "v", "w", "task"]
    assert out["task"].tolist() == tasks.tolist()
    np.testing.assert_allclose(out[["u", "v", "w"]], _hand_scale(X, tasks), rtol=1e-12)
    assert per_task.get_feature_names_out().tolist() == ["u", "v", "w", "task"]
    with pytest.raises(ValueError, match="not both"):
        per_task.fit(frame, task_ids=tasks)


def test_string_task_column_in_a_numpy_array(scaled_tasks):
    X, tasks = scaled_tasks
    Xc = np.column_stack([X, tasks]).astype(object)
    out = PerTask(StandardScaler(), task_column=-1).fit_transform(Xc)
    assert out[:, -1].tolist() == tasks.tolist()
    np.testing.assert_allclose(
        out[:, :-1].astype(float), _hand_scale(X, tasks), rtol=1e-12
    )


def test_without_labels_one_transformer_for_all_samples(scaled_tasks):
    X, _ = scaled_tasks
    Y = np.column_stack([X[:, 0], X[:, 1]])  # a wide y: tasks share every sample
    per_task = PerTask(StandardScaler()).fit(X, Y)
    np.testing.assert_allclose(
        per_task.transform(X), StandardScaler().fit_transform(X), rtol=1e-12
    )
    assert per_task.tasks_.tolist() == [0]
    # Labels at transform after a label-free fit: a forgotten task_ids in fit.
    with pytest.raises(ValueError, match="not seen during fit"):
        per_task.transform(X, task_ids=np.repeat(["a", "b"], 15))


def _regression_with_scales():
    X, y, tasks = make_multitask_regression(n_tasks=3, n_samples=30, random_state=0)
    X = X * np.array([1.0, 10.0, 100.0])[tasks][:, None]
    return X, y, np.array(["p", "q", "r"])[tasks]


def test_pipeline_with_routed_task_ids_equals_manual_steps():
    X, y, tasks = _regression_with_scales()
    with sklearn.config_context(enable_metadata_routing=True):
        pipe = make_pipeline(PerTask(StandardScaler()), GraphMultiTaskRegressor())
        pipe.fit(X, y, task_ids=tasks)
        predicted = pipe.predict(X[:10], task_ids=tasks[:10])
    Xs = _hand_scale(X, tasks)
    manual = GraphMultiTaskRegressor().fit(Xs, y, task_ids=tasks)
    np.testing.assert_allclose(
        predicted, manual.predict(Xs[:10], task_ids=tasks[:10]), rtol=1e-8
    )


def test_grid_search_with_task_column_predicts():
    X, y, tasks = _regression_with_scales()
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])]).assign(
        task=tasks
    )
    pipe = make_pipeline(
        PerTask(StandardScaler(), task_column="task"),
        GraphMultiTaskRegressor(task_column="task"),
    )
    search = GridSearchCV(
        pipe,
        {"graphmultitaskregressor__alpha_graph": [0.1, 10.0]},
        cv=TaskKFold(3, task_column="task"),
    ).fit(frame, y)
    best = search.best_params_["graphmultitaskregressor__alpha_graph"]
    manual = GraphMultiTaskRegressor(alpha_graph=best).fit(
        _hand_scale(X, tasks), y, task_ids=tasks
    )
    np.testing.assert_allclose(
        search.predict(frame),
        manual.predict(_hand_scale(X, tasks), task_ids=tasks),
        rtol=1e-8,
    )


def test_parallel_clone_and_pickle_give_the_same_output(scaled_tasks):
    X, tasks = scaled_tasks
    serial = PerTask(StandardScaler()).fit_transform(X, task_ids=tasks)
    parallel = PerTask(StandardScaler(), n_jobs=2).fit_transform(X, task_ids=tasks)
    np.testing.assert_array_equal(serial, parallel)
    fitted = PerTask(PCA(n_components=2)).fit(X, task_ids=tasks)
    restored = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(
        restored.transform(X, task_ids=tasks), fitted.transform(X, task_ids=tasks)
    )
    assert clone(fitted).get_params()["transformer__n_components"] == 2
    assert not hasattr(clone(fitted), "transformers_")


def test_inverse_transform_undoes_each_task(scaled_tasks):
    X, tasks = scaled_tasks
    scaler = PerTask(StandardScaler()).fit(X, task_ids=tasks)
    back = scaler.inverse_transform(scaler.transform(X, task_ids=tasks), task_ids=tasks)
    np.testing.assert_allclose(back, X, rtol=1e-10)


def test_parameter_validation():
    with pytest.raises(ValueError, match="'transformer' parameter"):
        PerTask("scaler").fit(np.zeros((3, 1)))
    with pytest.raises(ValueError, match="'n_jobs' parameter"):
        PerTask(StandardScaler(), n_jobs="all").fit(np.zeros((3, 1)))


@parametrize_with_checks([PerTask(StandardScaler()), PerTask(PCA(n_components=1))])
def test_sklearn_compatible(estimator, check):
    check(estimator)


def test_wide_pipeline_through_grid_search():
    X, y, tasks = make_multitask_regression(n_tasks=3, n_samples=30, random_state=5)
    Y = np.column_stack([y[tasks == t] for t in range(3)])
    X = X[tasks == 0] * 10.0 + 3.0
    pipe = make_pipeline(PerTask(StandardScaler()), GraphMultiTaskRegressor())
    search = GridSearchCV(
        pipe, {"graphmultitaskregressor__alpha_graph": [0.1, 10.0]}, cv=TaskKFold(3)
    ).fit(X, Y)
    best = search.best_params_["graphmultitaskregressor__alpha_graph"]
    manual = GraphMultiTaskRegressor(alpha_graph=best).fit(
        StandardScaler().fit_transform(X), Y
    )
    np.testing.assert_allclose(
        search.predict(X),
        manual.predict(StandardScaler().fit(X).transform(X)),
        rtol=1e-8,
    )
