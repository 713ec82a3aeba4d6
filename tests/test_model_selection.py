"""Task-aware splitters against hand-computed fold sizes and class counts."""

from math import ceil, comb

import numpy as np
import pandas as pd
import pytest
import sklearn
from sklearn.model_selection import GridSearchCV, KFold, cross_validate

from sklearn_mtl import GraphMultiTaskRegressor
from sklearn_mtl.model_selection import (
    LeaveOneTaskOut,
    LeavePTasksOut,
    TaskKFold,
    TaskShuffleSplit,
    train_test_split,
)

SIZES = {"a": 7, "b": 10, "c": 13, "d": 9}


@pytest.fixture
def tasks():
    """Unequal, interleaved tasks with string labels."""
    rng = np.random.RandomState(0)
    labels = np.repeat(list(SIZES), list(SIZES.values()))
    return labels[rng.permutation(labels.shape[0])]


def _expected_fold_sizes(n, k):
    # KFold's documented sizes: the first n % k folds get one more sample.
    return [n // k + (1 if fold < n % k else 0) for fold in range(k)]


def test_task_kfold_every_task_in_every_fold_with_exact_sizes(tasks):
    X = np.zeros((tasks.shape[0], 2))
    folds = list(TaskKFold(n_splits=3).split(X, task_ids=tasks))
    assert len(folds) == 3
    seen = np.concatenate([test for _, test in folds])
    np.testing.assert_array_equal(np.sort(seen), np.arange(tasks.shape[0]))
    for k, (train, test) in enumerate(folds):
        np.testing.assert_array_equal(
            np.sort(np.concatenate([train, test])), np.arange(tasks.shape[0])
        )
        for task, n in SIZES.items():
            assert np.sum(tasks[test] == task) == _expected_fold_sizes(n, 3)[k]
            assert np.sum(tasks[train] == task) == n - _expected_fold_sizes(n, 3)[k]


def test_task_kfold_stratifies_inside_each_task():
    # Task "a" is 20 % positive, task "b" 60 %; rows sorted by class so that an
    # unstratified or globally stratified split puts the classes unevenly.
    y_a = np.array([1] * 4 + [0] * 16)
    y_b = np.array([0] * 6 + [1] * 9)
    y = np.concatenate([y_a, y_b])
    tasks = np.array(["a"] * 20 + ["b"] * 15)
    X = np.zeros((35, 1))
    for _, test in TaskKFold(n_splits=3).split(X, y, task_ids=tasks):
        for task in ("a", "b"):
            in_task = tasks == task
            for cls in (0, 1):
                total = np.sum(in_task & (y == cls))
                in_test = np.sum(in_task[test] & (y[test] == cls))
                assert in_test in (total // 3, ceil(total / 3)), (task, cls)


def test_task_kfold_auto_does_not_stratify_float_targets(tasks):
    X = np.zeros((tasks.shape[0], 1))
    y = np.arange(tasks.shape[0], dtype=float) % 2
    auto = [t.tolist() for _, t in TaskKFold(3).split(X, y, task_ids=tasks)]
    plain = [t.tolist() for _, t in TaskKFold(3, stratify=False).split(X, y, tasks)]
    assert auto == plain
    with pytest.warns(UserWarning, match="least populated class") as record:
        forced = [t.tolist() for _, t in TaskKFold(3, stratify=True).split(X, y, tasks)]
    assert forced != plain
    assert {str(w.message)[:8] for w in record} == {"Task 'a'", "Task 'd'"}


def test_task_kfold_error_names_the_small_task(tasks):
    X = np.zeros((tasks.shape[0], 1))
    with pytest.raises(ValueError, match=r"Task 'a' has 7 samples, fewer than"):
        list(TaskKFold(n_splits=8).split(X, task_ids=tasks))


def test_task_kfold_stratified_error_names_the_task():
    y = np.array([0, 0, 0, 1, 0, 1, 0, 1, 0, 1])
    tasks = np.array([0, 0, 0, 0, 1, 1, 1, 1, 1, 1])
    with pytest.raises(ValueError, match="Task 0 cannot be split"):
        list(TaskKFold(n_splits=4).split(np.zeros((10, 1)), y, task_ids=tasks))


def test_task_kfold_without_labels_raises_unless_wide():
    X = np.zeros((10, 1))
    with pytest.raises(ValueError, match="found no task labels"):
        list(TaskKFold(2).split(X, np.zeros(10)))
    Y = np.zeros((10, 3))
    wide = [t.tolist() for _, t in TaskKFold(5).split(X, Y)]
    assert wide == [t.tolist() for _, t in KFold(5).split(X)]


def test_task_kfold_groups_and_task_column_give_the_same_folds(tasks):
    X = np.random.RandomState(0).randn(tasks.shape[0], 2)
    by_ids = [t.tolist() for _, t in TaskKFold(3).split(X, task_ids=tasks)]
    by_groups = [t.tolist() for _, t in TaskKFold(3).split(X, groups=tasks)]
    frame = pd.DataFrame(X, columns=["u", "v"]).assign(task=tasks)
    by_column = [t.tolist() for _, t in TaskKFold(3, task_column="task").split(frame)]
    assert by_ids == by_groups == by_column
    with pytest.raises(ValueError, match="exactly one"):
        list(TaskKFold(3).split(X, groups=tasks, task_ids=tasks))


def test_task_kfold_shuffle_is_reproducible_and_per_task(tasks):
    X = np.zeros((tasks.shape[0], 1))
    first = [
        t.tolist()
        for _, t in TaskKFold(3, shuffle=True, random_state=1).split(X, task_ids=tasks)
    ]
    again = [
        t.tolist()
        for _, t in TaskKFold(3, shuffle=True, random_state=1).split(X, task_ids=tasks)
    ]
    other = [
        t.tolist()
        for _, t in TaskKFold(3, shuffle=True, random_state=2).split(X, task_ids=tasks)
    ]
    assert first == again != other
    for k, test in enumerate(first):
        for task, n in SIZES.items():
            assert np.sum(tasks[test] == task) == _expected_fold_sizes(n, 3)[k]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"n_splits": 1}, "n_splits=1 must be at least 2"),
        ({"n_splits": 2.0}, "n_splits must be an integer"),
        ({"stratify": "yes"}, "stratify must be"),
        ({"random_state": 0}, "shuffle is False"),
    ],
)
def test_task_kfold_parameter_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        TaskKFold(**kwargs)


def test_splitters_request_task_ids_for_split():
    for cv in (TaskKFold(), TaskShuffleSplit(), LeaveOneTaskOut(), LeavePTasksOut(2)):
        requests = cv.get_metadata_routing().split.requests
        assert requests["task_ids"] is True and requests["groups"] is True


def test_task_kfold_routed_through_cross_validate_and_grid_search(tasks):
    rng = np.random.RandomState(0)
    X = rng.randn(tasks.shape[0], 3)
    y = X @ np.array([1.0, -2.0, 0.5]) + 0.1 * rng.randn(tasks.shape[0])
    expected = [t.tolist() for _, t in TaskKFold(3).split(X, task_ids=tasks)]
    with sklearn.config_context(enable_metadata_routing=True):
        result = cross_validate(
            GraphMultiTaskRegressor(),
            X,
            y,
            cv=TaskKFold(3),
            params={"task_ids": tasks},
            return_indices=True,
        )
        search = GridSearchCV(
            GraphMultiTaskRegressor(), {"alpha_graph": [0.1, 1.0]}, cv=TaskKFold(3)
        ).fit(X, y, task_ids=tasks)
    assert [t.tolist() for t in result["indices"]["test"]] == expected
    assert np.all(result["test_score"] > 0.9)
    assert search.n_splits_ == 3
    # Without routing, groups= carries the labels to the splitter.
    plain = cross_validate(
        GraphMultiTaskRegressor(),
        X,
        y,
        cv=TaskKFold(3),
        groups=tasks,
        params={"task_ids": tasks},
        scoring=lambda est, X, y: 0.0,
        return_indices=True,
    )
    assert [t.tolist() for t in plain["indices"]["test"]] == expected


def test_task_shuffle_split_takes_the_fraction_of_every_task(tasks):
    X = np.zeros((tasks.shape[0], 1))
    cv = TaskShuffleSplit(n_splits=4, test_size=0.3, random_state=0)
    splits = list(cv.split(X, task_ids=tasks))
    assert len(splits) == cv.get_n_splits() == 4
    for train, test in splits:
        assert np.intersect1d(train, test).size == 0
        for task, n in SIZES.items():
            assert np.sum(tasks[test] == task) == ceil(0.3 * n)
            assert np.sum(tasks[train] == task) == n - ceil(0.3 * n)
    assert splits[0][1].tolist() != splits[1][1].tolist()
    again = list(cv.split(X, task_ids=tasks))
    assert all(a[1].tolist() == b[1].tolist() for a, b in zip(splits, again))


def test_task_shuffle_split_train_size_and_counts(tasks):
    X = np.zeros((tasks.shape[0], 1))
    cv = TaskShuffleSplit(n_splits=2, test_size=2, train_size=0.5, random_state=0)
    for train, test in cv.split(X, task_ids=tasks):
        for task, n in SIZES.items():
            assert np.sum(tasks[test] == task) == 2
            assert np.sum(tasks[train] == task) == n // 2
    with pytest.raises(ValueError, match="Task 'a' has 7 samples"):
        list(TaskShuffleSplit(test_size=7).split(X, task_ids=tasks))


def test_task_shuffle_split_stratified_per_task():
    y = np.array([1] * 4 + [0] * 16 + [0] * 6 + [1] * 14)
    tasks = np.array([0] * 20 + [1] * 20)
    cv = TaskShuffleSplit(n_splits=5, test_size=0.5, stratify=True, random_state=0)
    for _, test in cv.split(np.zeros((40, 1)), y, task_ids=tasks):
        assert np.sum((tasks[test] == 0) & (y[test] == 1)) == 2
        assert np.sum((tasks[test] == 1) & (y[test] == 0)) == 3


def test_leave_one_task_out_tests_exactly_one_task(tasks):
    X = np.zeros((tasks.shape[0], 1))
    cv = LeaveOneTaskOut()
    splits = list(cv.split(X, task_ids=tasks))
    assert cv.get_n_splits(task_ids=tasks) == len(splits) == 4
    for (train, test), task in zip(splits, sorted(SIZES)):
        np.testing.assert_array_equal(test, np.flatnonzero(tasks == task))
        np.testing.assert_array_equal(train, np.flatnonzero(tasks != task))


def test_leave_one_task_out_needs_long_format_and_two_tasks():
    with pytest.raises(ValueError, match="wide 2-D y"):
        list(LeaveOneTaskOut().split(np.zeros((4, 1)), np.zeros((4, 2))))
    with pytest.raises(ValueError, match="more than 1 task"):
        list(LeaveOneTaskOut().split(np.zeros((4, 1)), task_ids=[0, 0, 0, 0]))


def test_leave_p_tasks_out_tests_every_pair(tasks):
    X = np.zeros((tasks.shape[0], 1))
    cv = LeavePTasksOut(n_tasks=2)
    splits = list(cv.split(X, task_ids=tasks))
    assert cv.get_n_splits(task_ids=tasks) == len(splits) == comb(4, 2)
    pairs = set()
    for train, test in splits:
        left_out = tuple(np.unique(tasks[test]).tolist())
        assert len(left_out) == 2
        np.testing.assert_array_equal(test, np.flatnonzero(np.isin(tasks, left_out)))
        np.testing.assert_array_equal(train, np.flatnonzero(~np.isin(tasks, left_out)))
        pairs.add(left_out)
    assert len(pairs) == 6


def test_train_test_split_per_task(tasks):
    rng = np.random.RandomState(0)
    X = rng.randn(tasks.shape[0], 2)
    y = rng.randn(tasks.shape[0])
    X_tr, X_te, y_tr, y_te, t_tr, t_te = train_test_split(
        X, y, tasks, task_ids=tasks, test_size=0.25, random_state=0
    )
    for task, n in SIZES.items():
        assert np.sum(t_te == task) == ceil(0.25 * n)
        assert np.sum(t_tr == task) == n - ceil(0.25 * n)
    # Rows stay aligned across the arrays.
    rows = {tuple(row): i for i, row in enumerate(X)}
    for X_part, y_part, t_part in ((X_tr, y_tr, t_tr), (X_te, y_te, t_te)):
        index = np.array([rows[tuple(row)] for row in X_part])
        np.testing.assert_array_equal(y_part, y[index])
        np.testing.assert_array_equal(t_part, tasks[index])


def test_train_test_split_stratify_and_no_shuffle():
    y = np.array([1] * 4 + [0] * 16 + [0] * 6 + [1] * 14)
    tasks = np.array([0] * 20 + [1] * 20)
    X = np.arange(40)[:, None]
    _, _, _, y_te, _, t_te = train_test_split(
        X, y, tasks, task_ids=tasks, test_size=0.5, stratify=y, random_state=0
    )
    assert np.sum((t_te == 0) & (y_te == 1)) == 2
    assert np.sum((t_te == 1) & (y_te == 0)) == 3
    X_tr, X_te = train_test_split(X, task_ids=tasks, test_size=5, shuffle=False)
    assert X_te.ravel().tolist() == [15, 16, 17, 18, 19, 35, 36, 37, 38, 39]
    assert X_tr.shape == (30, 1)


def test_train_test_split_dataframe_task_column_and_wide():
    frame = pd.DataFrame({"x": np.arange(12.0), "task": ["a"] * 4 + ["b"] * 8})
    train, test = train_test_split(
        frame, task_column="task", test_size=0.5, random_state=0
    )
    assert test["task"].value_counts().to_dict() == {"a": 2, "b": 4}
    X, Y = np.zeros((10, 2)), np.zeros((10, 3))
    X_tr, X_te, Y_tr, Y_te = train_test_split(X, Y, test_size=0.3, random_state=0)
    assert Y_te.shape == (3, 3)
    with pytest.raises(ValueError, match="found no task labels"):
        train_test_split(X, np.zeros(10))
