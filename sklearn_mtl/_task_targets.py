"""Targets and sample weights of multi-task training data.

One job: check ``y`` and ``sample_weight`` against the tasks, turn a wide
(n_samples, n_tasks) target into rows, find missing labels (and the rows
they mark unlabelled), and check that every task has enough labelled rows
and, for classifiers, classes. Part of the task convention; callers go
through its entry point, :mod:`sklearn_mtl._tasks`, which re-exports the
names other modules use.
"""

import numpy as np
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_array

from ._task_labels import _preview


def missing_labels(Y):
    """Where a wide target has no label: NaN, or None in object arrays."""
    if Y.dtype.kind in "fc":
        return np.isnan(Y)
    if Y.dtype.kind == "O":
        # Elementwise in C: None compares equal to None, NaN unequal to itself.
        return np.equal(Y, None) | np.not_equal(Y, Y)
    return np.zeros(Y.shape, dtype=bool)


def _check_weights(sample_weight, n_samples):
    weights = check_array(
        sample_weight, ensure_2d=False, dtype=np.float64, input_name="sample_weight"
    )
    if weights.ndim != 1 or weights.shape[0] != n_samples:
        raise ValueError(
            f"sample_weight must have shape ({n_samples},), got {weights.shape}."
        )
    if np.any(weights < 0):
        raise ValueError("sample_weight must be non-negative.")
    return weights


def _check_target(y, classifier, allow_nan):
    if classifier:
        if y.dtype.kind == "f" and not np.isfinite(y).all():
            # Said here: scikit-learn's check casts NaN to int first (a
            # RuntimeWarning) before calling the labels continuous.
            raise ValueError(
                "Input y contains NaN or infinity: class labels must be finite."
            )
        check_classification_targets(y)
        return y
    y = check_array(
        y,
        ensure_2d=False,
        dtype=np.float64,
        ensure_all_finite="allow-nan" if allow_nan else True,
        input_name="y",
    )
    return y


def _long_target_with_unlabelled(y, classifier, tasks, task_index, unlabelled_tasks):
    """A 1-D target whose missing labels mark unlabelled rows of some tasks.

    Returns ``(y, labelled)``; ``labelled`` is None when every row has a label,
    so data without unlabelled rows is exactly what the default path returns.
    """
    missing = missing_labels(y)
    if isinstance(unlabelled_tasks, str) and unlabelled_tasks == "all":
        may_miss = np.ones(len(tasks), dtype=bool)
    else:
        allowed = np.asarray(list(unlabelled_tasks))
        may_miss = np.array(
            [any(_same_label(task, a) for a in allowed.tolist()) for task in tasks]
        )
    bad = missing & ~may_miss[task_index]
    if np.any(bad):
        task = tasks.tolist()[task_index[np.flatnonzero(bad)[0]]]
        raise ValueError(
            f"Task {task!r} has {int(bad.sum())} row(s) whose label is missing "
            f"(y contains NaN or None); rows without a label are allowed only in "
            f"task(s) {_preview(allowed)}. Drop those rows or give their labels."
        )
    if not np.any(missing):
        return _check_target(y, classifier, allow_nan=False), None
    labelled = ~missing
    if classifier:
        present = y[labelled]
        if present.dtype.kind == "O":
            present = np.asarray(present.tolist())
        check_classification_targets(present)
        if y.dtype.kind == "O":
            # Labelled rows keep their label; unlabelled ones hold None.
            y = y.copy()
            y[missing] = None
        return y, labelled
    y = _check_target(y, classifier=False, allow_nan=True)
    if np.any(np.isinf(y)):
        raise ValueError("Input y contains infinity.")
    return y, labelled


def _same_label(task, label):
    try:
        return bool(task == label)
    except (TypeError, ValueError):  # e.g. an array given as a task label
        return False


def _wide_to_rows(Y, classifier):
    """Rows of a wide (n, T) target; NaN entries are missing labels."""
    missing = missing_labels(Y)
    if not classifier:
        Y = _check_target(Y, classifier=False, allow_nan=True)
        if np.any(np.isinf(Y)):
            raise ValueError("Input y contains infinity.")
    # Rows are ordered task by task, so each task's rows are contiguous.
    task_index, sample_index = np.nonzero(~missing.T)
    y_rows = Y[sample_index, task_index]
    if classifier:
        if y_rows.dtype.kind == "O":
            y_rows = np.asarray(y_rows.tolist())
        check_classification_targets(y_rows)
    return y_rows, sample_index, task_index


def _check_task_sizes(data, tasks, min_samples):
    counts = np.bincount(data.task_index, minlength=data.n_tasks)
    if data.sample_weight is not None:
        weight_sums = np.bincount(
            data.task_index, weights=data.sample_weight, minlength=data.n_tasks
        )
        if np.any(weight_sums <= 0):
            task = tasks.tolist()[np.flatnonzero(weight_sums <= 0)[0]]
            raise ValueError(
                f"Task {task!r} has zero total sample_weight; it cannot be fitted."
            )
    too_small = np.flatnonzero(counts < min_samples)
    if too_small.size:
        task, count = tasks.tolist()[too_small[0]], counts[too_small[0]]
        noun = "sample" if count == 1 else "samples"
        raise ValueError(
            f"Task {task!r} has {count} {noun} with a label; at least {min_samples} "
            f"are required per task ({too_small.size} task(s) too small)."
        )


def _check_classes(data, tasks, per_task):
    rows_of_tasks = data.rows_of_tasks() if per_task else None
    y = data.y
    if data.labelled is not None:
        # Only labelled rows have classes; a task without any is unlabelled.
        y = y[data.labelled]
        if per_task:
            positions = np.cumsum(data.labelled) - 1
            rows_of_tasks = [positions[r[data.labelled[r]]] for r in rows_of_tasks]
    if not per_task:
        present = np.unique(y)
        if present.shape[0] == 0:
            raise ValueError("y has no label at all; at least 2 classes are needed.")
        if present.shape[0] < 2:
            raise ValueError(
                f"y has only 1 class ({present.tolist()[0]!r}); at least 2 classes "
                "are needed."
            )
        return
    for t, rows in enumerate(rows_of_tasks):
        if rows.size == 0:
            continue
        present = np.unique(y[rows])
        if present.shape[0] < 2:
            raise ValueError(
                f"Task {tasks.tolist()[t]!r} has only 1 class "
                f"({present.tolist()[0]!r}); each task needs samples of at least 2 "
                "classes."
            )
