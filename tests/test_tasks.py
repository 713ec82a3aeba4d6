"""The one task convention: long, routing-free (task column) and wide formats."""

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression, Ridge

from sklearn_mtl import (
    GraphMultiTaskClassifier,
    GraphMultiTaskRegressor,
    IndependentTasks,
    PooledTasks,
)
from sklearn_mtl.datasets import (
    make_multitask_classification,
    make_multitask_regression,
)

REGRESSORS = [
    GraphMultiTaskRegressor(alpha_graph=5.0),
    IndependentTasks(Ridge()),
    PooledTasks(Ridge()),
]
CLASSIFIERS = [
    GraphMultiTaskClassifier(alpha_graph=5.0),
    IndependentTasks(LogisticRegression()),
    PooledTasks(LogisticRegression()),
]
ALL = REGRESSORS + CLASSIFIERS


def _data(estimator, n_tasks=3, random_state=0):
    make = (
        make_multitask_classification
        if estimator in CLASSIFIERS
        else make_multitask_regression
    )
    return make(n_tasks=n_tasks, n_samples=30, n_features=4, random_state=random_state)


@pytest.mark.parametrize("estimator", ALL, ids=repr)
def test_string_labels_and_task_column_agree_with_task_ids(estimator):
    X, y, task_ids = _data(estimator)
    names = np.array(["north", "south", "west"])[task_ids]
    long = clone(estimator).fit(X, y, task_ids=names)
    assert list(long.tasks_) == ["north", "south", "west"]

    frame = pd.DataFrame(X, columns=list("abcd")).assign(school=names)
    by_name = clone(estimator)
    by_name.set_params(task_column="school").fit(frame, y)
    assert by_name.n_features_in_ == 5
    np.testing.assert_allclose(by_name.predict(frame), long.predict(X, task_ids=names))

    positional = np.column_stack([names, X]).astype(object)
    by_position = clone(estimator)
    by_position.set_params(task_column=0).fit(positional, y)
    np.testing.assert_allclose(
        by_position.predict(positional), long.predict(X, task_ids=names)
    )


@pytest.mark.parametrize("estimator", REGRESSORS, ids=repr)
def test_wide_format_with_missing_labels_equals_long_format(estimator, rng):
    X = rng.standard_normal((40, 4))
    Y = np.column_stack(
        [X @ rng.standard_normal(4) + rng.standard_normal(40) for _ in range(3)]
    )
    missing = rng.random_sample(Y.shape) < 0.2
    Y_wide = np.where(missing, np.nan, Y)
    wide = clone(estimator).fit(X, Y_wide)
    assert wide.task_format_ == "wide"

    sample, task = np.nonzero(~missing)
    long = clone(estimator)
    long.fit(X[sample], Y[sample, task], task_ids=task)
    prediction = wide.predict(X)
    assert prediction.shape == (40, 3)
    for t in range(3):
        np.testing.assert_allclose(
            prediction[:, t], long.predict(X, task_ids=np.full(40, t)), rtol=1e-6
        )


@pytest.mark.parametrize("estimator", ALL, ids=repr)
def test_unknown_task_at_predict_is_named(estimator):
    X, y, task_ids = _data(estimator)
    model = clone(estimator).fit(X, y, task_ids=task_ids)
    if isinstance(model, PooledTasks):
        # A pooled model ignores tasks, so it serves tasks it never saw.
        assert model.predict(X[:2], task_ids=[7, 8]).shape == (2,)
        return
    with pytest.raises(ValueError, match=r"tasks not seen during fit: \[7\]"):
        model.predict(X[:2], task_ids=[0, 7])


@pytest.mark.parametrize("estimator", ALL, ids=repr)
def test_bad_task_input_gets_clear_errors(estimator):
    X, y, task_ids = _data(estimator)
    model = clone(estimator)
    with pytest.raises(ValueError, match="task_ids has 89 entries but X has 90"):
        model.fit(X, y, task_ids=task_ids[:-1])
    with pytest.raises(ValueError, match="task_ids contains NaN"):
        model.fit(X, y, task_ids=np.where(task_ids == 0, np.nan, task_ids))
    with pytest.raises(ValueError, match="mixes label types"):
        model.fit(X, y, task_ids=np.array([1, "a"] * 45, dtype=object))
    X_nan = X.copy()
    X_nan[3, 1] = np.nan
    with pytest.raises(ValueError, match="Input X contains NaN"):
        model.fit(X_nan, y, task_ids=task_ids)
    model.fit(X, y, task_ids=task_ids)
    if not isinstance(model, PooledTasks):
        with pytest.raises(ValueError, match="pass task_ids"):
            model.predict(X)
    with pytest.raises(ValueError, match="not both"):
        model.set_params(task_column=0).fit(X, y, task_ids=task_ids)


@pytest.mark.parametrize(
    "estimator", [e for e in ALL if not isinstance(e, PooledTasks)], ids=repr
)
def test_task_with_one_sample_is_named(estimator):
    X, y, task_ids = _data(estimator)
    keep = np.flatnonzero(task_ids != 2)
    keep = np.append(keep, np.flatnonzero(task_ids == 2)[0])
    with pytest.raises(ValueError, match="Task 2 has 1 sample"):
        clone(estimator).fit(X[keep], y[keep], task_ids=task_ids[keep])


@pytest.mark.parametrize(
    "estimator", [e for e in CLASSIFIERS if not isinstance(e, PooledTasks)], ids=repr
)
def test_task_with_one_class_is_named(estimator):
    X, y, task_ids = _data(estimator)
    y = y.copy()
    y[task_ids == 1] = 0
    with pytest.raises(ValueError, match="Task 1 has only 1 class"):
        clone(estimator).fit(X, y, task_ids=task_ids)


def test_task_column_errors_name_the_parameter(rng):
    X = rng.standard_normal((10, 3))
    y = rng.standard_normal(10)
    with pytest.raises(ValueError, match="task_column=5 is out of range"):
        GraphMultiTaskRegressor(task_column=5).fit(X, y)
    with pytest.raises(ValueError, match="not a DataFrame"):
        GraphMultiTaskRegressor(task_column="school").fit(X, y)
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    with pytest.raises(ValueError, match="'school' is not a column of X"):
        GraphMultiTaskRegressor(task_column="school").fit(frame, y)


def test_classifier_label_sets_differ_between_tasks(rng):
    """Tasks with different label sets: classes_ is the union, unseen classes get 0."""
    X = rng.standard_normal((120, 3))
    task_ids = np.repeat(["a", "b"], 60)
    y = np.where(
        task_ids == "a",
        rng.choice(["cat", "dog"], 120),
        rng.choice(["dog", "eel", "fox"], 120),
    )
    for model in [GraphMultiTaskClassifier(), IndependentTasks(LogisticRegression())]:
        model.fit(X, y, task_ids=task_ids)
        assert list(model.classes_) == ["cat", "dog", "eel", "fox"]
        proba = model.predict_proba(X, task_ids=task_ids)
        np.testing.assert_allclose(proba.sum(axis=1), 1.0)
        assert np.all(proba[task_ids == "a"][:, 2:] == 0)
        assert np.all(proba[task_ids == "b"][:, 0] == 0)
        assert set(model.predict(X[:60], task_ids=task_ids[:60])) <= {"cat", "dog"}


def test_missing_labels_in_object_targets_are_skipped(rng):
    """None and NaN in an object-typed wide y mark missing labels, like NaN."""
    X = rng.standard_normal((60, 3))
    Y = np.where(X[:, :2] > 0, "yes", "no").astype(object)
    Y[:5, 0], Y[5:10, 1] = None, np.nan
    model = IndependentTasks(LogisticRegression()).fit(X, Y)
    assert model.task_format_ == "wide"
    assert [len(e.coef_) for e in model.estimators_] == [1, 1]
    expected = IndependentTasks(LogisticRegression()).fit(
        X[5:], Y[5:, 0].astype(str), task_ids=np.zeros(55, int)
    )
    np.testing.assert_allclose(
        model.estimators_[0].coef_, expected.estimators_[0].coef_
    )
    assert model.score(X, Y) > 0.9


@pytest.mark.parametrize("estimator", ALL, ids=repr)
@pytest.mark.parametrize(
    "labels",
    [[1, "1", 2], (0, "a", "b"), [b"a", "a", "b"]],
    ids=["int-str", "tuple", "bytes-str"],
)
def test_list_labels_mixing_types_raise(estimator, labels):
    """[1, "1"] as a list would become two equal strings: one task, silently."""
    X, y, _ = _data(estimator)
    task_ids = list(labels) * 30
    with pytest.raises(ValueError, match=r"task_ids mixes label types"):
        clone(estimator).fit(X, y, task_ids=task_ids)
    if isinstance(estimator, PooledTasks):
        return
    model = clone(estimator).fit(X, y, task_ids=np.arange(90) % 3)
    with pytest.raises(ValueError, match=r"task_ids mixes label types"):
        model.predict(X[:3], task_ids=[1, "1", 2])


def test_uniform_list_labels_still_work():
    X, y, _ = _data(REGRESSORS[1])
    model = IndependentTasks(Ridge())
    model.fit(X, y, task_ids=[1, np.int64(2), 3] * 30)
    assert model.tasks_.tolist() == [1, 2, 3]
    model.fit(X, y, task_ids=["a", np.str_("b"), "c"] * 30)
    assert model.tasks_.tolist() == ["a", "b", "c"]


@pytest.mark.parametrize(
    "estimator", [IndependentTasks(Ridge()), PooledTasks(Ridge())], ids=repr
)
def test_score_skips_tasks_without_labels(estimator, rng):
    """Wide score: a task whose column is all missing is left out of the mean."""
    X = rng.standard_normal((40, 3))
    Y = X @ rng.standard_normal((3, 3)) + 0.5 * rng.standard_normal((40, 3))
    model = clone(estimator).fit(X, Y)
    Y_test = Y.copy()
    Y_test[:, 1] = np.nan
    Y_test[::3, 2] = np.nan
    pred = model.predict(X)
    keep = ~np.isnan(Y_test[:, 2])
    from sklearn.metrics import r2_score

    expected = np.mean(
        [r2_score(Y[:, 0], pred[:, 0]), r2_score(Y[keep, 2], pred[keep, 2])]
    )
    assert model.score(X, Y_test) == pytest.approx(expected)
    with pytest.raises(ValueError, match="no label for any task"):
        model.score(X, np.full_like(Y, np.nan))
    with pytest.raises(ValueError, match=r"fitted on 3 tasks in wide format"):
        model.score(X, Y[:, :2])
    with pytest.raises(ValueError, match=r"sample_weight must have shape \(40,\)"):
        model.score(X, Y, sample_weight=np.ones(39))


def test_score_of_long_model_with_wide_y_is_named(rng):
    X, y, task_ids = _data(REGRESSORS[1])
    model = IndependentTasks(Ridge()).fit(X, y, task_ids=task_ids)
    with pytest.raises(ValueError, match=r"fitted in long format\); give a 1-D y"):
        model.score(X, np.column_stack([y, y]), task_ids=task_ids)


@pytest.mark.parametrize("meta", [IndependentTasks, PooledTasks])
@pytest.mark.parametrize(
    "base, sparse_format",
    [
        (Ridge(alpha=0.7, solver="sparse_cg", tol=1e-12), "csr"),
        (LogisticRegression(C=0.3, tol=1e-10), "csc"),
        (LogisticRegression(C=0.3, tol=1e-10), "coo"),
    ],
    ids=repr,
)
def test_sparse_X_reaches_the_base_estimator(meta, base, sparse_format, rng):
    """Sparse X is passed on (not densified, not refused) and fits like dense X."""
    import scipy.sparse as sp

    X = rng.standard_normal((90, 6)) * (rng.random_sample((90, 6)) < 0.3)
    task_ids = np.repeat(["a", "b", "c"], 30)
    y = X @ rng.standard_normal(6) + 0.3 * rng.standard_normal(90)
    if isinstance(base, LogisticRegression):
        y = (y > np.median(y)).astype(int)
    as_sparse = {"csr": sp.csr_matrix, "csc": sp.csc_array, "coo": sp.coo_matrix}
    X_sparse = as_sparse[sparse_format](X)
    weights = rng.uniform(0.5, 2.0, 90)
    dense = meta(clone(base)).fit(X, y, task_ids=task_ids, sample_weight=weights)
    sparse = meta(clone(base)).fit(
        X_sparse, y, task_ids=task_ids, sample_weight=weights
    )
    fitted = sparse.estimators_ if meta is IndependentTasks else [sparse.estimator_]
    for estimator, reference in zip(
        fitted, dense.estimators_ if meta is IndependentTasks else [dense.estimator_]
    ):
        np.testing.assert_allclose(estimator.coef_, reference.coef_, rtol=1e-5)
    method = "predict" if isinstance(base, Ridge) else "predict_proba"
    np.testing.assert_allclose(
        getattr(sparse, method)(X_sparse, task_ids=task_ids),
        getattr(dense, method)(X, task_ids=task_ids),
        rtol=1e-5,
    )
    # The task column of a sparse X is read and dropped like a dense one's.
    codes = np.searchsorted(["a", "b", "c"], task_ids)
    by_column = meta(clone(base), task_column=-1).fit(
        sp.csr_array(np.column_stack([X, codes])), y, sample_weight=weights
    )
    np.testing.assert_allclose(
        getattr(by_column, method)(sp.csr_array(np.column_stack([X, codes]))),
        getattr(dense, method)(X, task_ids=task_ids),
        rtol=1e-5,
    )


class _SparseOnlyRidge(Ridge):
    """A Ridge that proves it was handed a sparse matrix."""

    def fit(self, X, y, sample_weight=None):
        import scipy.sparse as sp

        assert sp.issparse(X), "X was densified before reaching the base estimator"
        return super().fit(X, y, sample_weight=sample_weight)

    def predict(self, X):
        import scipy.sparse as sp

        assert sp.issparse(X), "X was densified before reaching the base estimator"
        return super().predict(X)


@pytest.mark.parametrize("meta", [IndependentTasks, PooledTasks])
def test_sparse_X_is_not_densified(meta, rng):
    import scipy.sparse as sp

    X = sp.random_array((40, 5), density=0.3, format="csr", random_state=0)
    y, task_ids = rng.standard_normal(40), np.arange(40) % 2
    model = meta(_SparseOnlyRidge(solver="sparse_cg")).fit(X, y, task_ids=task_ids)
    assert model.predict(X, task_ids=task_ids).shape == (40,)
    wide = meta(_SparseOnlyRidge(solver="sparse_cg")).fit(X, np.column_stack([y, y]))
    assert wide.predict(X).shape == (40, 2)


@pytest.mark.parametrize(
    "estimator",
    # alpha_graph=0: uncoupled tasks, so each column equals a one-task fit.
    [GraphMultiTaskClassifier(alpha_graph=0.0), IndependentTasks(LogisticRegression())],
    ids=lambda e: type(e).__name__,
)
def test_wide_probabilities_follow_the_multilabel_layout(estimator, rng):
    # Two classes: (n_samples, n_tasks) of P(classes_[1]), like MLPClassifier,
    # each column that task's own probability. More classes: one array a task.
    X = rng.normal(size=(60, 3))
    Y = (X[:, :2] + 0.3 * rng.normal(size=(60, 2)) > 0).astype(int)
    model = clone(estimator).fit(X, Y)
    proba = model.predict_proba(X)
    assert proba.shape == (60, 2)
    for t in range(2):
        alone = clone(estimator).fit(X, Y[:, t])
        np.testing.assert_allclose(proba[:, t], alone.predict_proba(X)[:, 1], rtol=1e-5)
    np.testing.assert_array_equal((proba > 0.5).astype(int), model.predict(X))
    Y3 = np.column_stack([Y[:, 0] + Y[:, 1], Y[:, 0]])
    proba3 = clone(estimator).fit(X, Y3).predict_proba(X)
    assert isinstance(proba3, list) and [p.shape for p in proba3] == [(60, 3)] * 2


def test_task_convention_modules_import_upwards_only():
    # _tasks.py is the convention's entry point and imports the modules that do
    # the work; none of them may import the entry point back (a cycle) or a
    # model. Catches: a helper module reaching back into _tasks.
    import ast
    from pathlib import Path

    import sklearn_mtl

    package = Path(sklearn_mtl.__file__).parent
    allowed = {
        "_task_labels": set(),
        "_task_data": set(),
        "_task_targets": {"_task_labels"},
        "_shared_design": {"_task_data", "_task_targets"},
        "_tasks": {"_task_labels", "_task_data", "_task_targets", "_shared_design"},
    }
    for module, may_import in allowed.items():
        tree = ast.parse((package / f"{module}.py").read_text())
        imported = {
            node.module or ""
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.level > 0
        }
        assert imported == may_import, module
