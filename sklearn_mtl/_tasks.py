"""The package's one task convention: which task each sample belongs to.

Every estimator in sklearn_mtl reads its inputs through :func:`check_fit_data`
and :func:`check_predict_data`, so the three ways of naming tasks behave the
same everywhere:

*Long format*
    ``X`` of shape (n, d), ``y`` of shape (n,) and a sample-aligned array of
    task labels (ints or strings) passed as ``task_ids=``.
*Routing-free long format*
    the estimator's ``task_column`` parameter names the column of ``X``
    (position, or DataFrame column name) holding the task label. The column is
    removed from the features. Use it where scikit-learn routes no metadata
    (``GridSearchCV.predict``, scorers).
*Wide format*
    no ``task_ids`` and a 2-D ``y`` of shape (n, T): T tasks sharing ``X``,
    NaN marking a missing label. Predictions come back as (n, T). A 1-D ``y``
    without ``task_ids`` is a single task, labelled ``0``.

Internally every format becomes *rows*: each row is one (sample, task) pair,
``X[sample_index[row]]`` its features and ``task_index[row]`` the position of
its task in the fitted ``tasks_``.
"""

from dataclasses import dataclass
from numbers import Integral

import numpy as np
import scipy.sparse as sp
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    _num_samples,
    check_array,
    check_is_fitted,
    validate_data,
)

__all__ = [
    "SharedDesignData",
    "TaskData",
    "check_fit_data",
    "check_predict_data",
    "proba_output",
    "resolve_task_labels",
    "task_rows",
]


@dataclass(frozen=True)
class TaskData:
    """Validated multi-task data, one row per (sample, task) pair.

    Attributes
    ----------
    X : ndarray of shape (n_samples, n_features)
        Validated features, without any task column.
    task_index : ndarray of shape (n_rows,)
        Position in ``tasks_`` of each row's task.
    sample_index : ndarray of shape (n_rows,) or None
        Sample of ``X`` each row reads; None means row i reads sample i.
    n_tasks : int
        Number of fitted tasks.
    wide : bool
        Whether outputs go back as (n_samples, n_tasks).
    y : ndarray of shape (n_rows,) or None
        Target of each row (labels as given, for classifiers).
    sample_weight : ndarray of shape (n_rows,) or None
        Weight of each row.
    labelled : ndarray of shape (n_rows,) of bool or None
        Which rows have a label; None means every row does. Only
        ``check_fit_data(..., unlabelled_tasks=...)`` keeps unlabelled rows
        (their ``y`` entry is the missing marker): they carry features for
        domain adaptation and must never enter a supervised loss.
    """

    X: np.ndarray
    task_index: np.ndarray
    sample_index: np.ndarray | None
    n_tasks: int
    wide: bool
    y: np.ndarray | None = None
    sample_weight: np.ndarray | None = None
    labelled: np.ndarray | None = None

    @property
    def n_rows(self):
        return self.task_index.shape[0]

    @property
    def X_rows(self):
        """Features of every row, shape (n_rows, n_features)."""
        return self.X if self.sample_index is None else self.X[self.sample_index]

    def features_of(self, rows):
        """Features of the given rows, without materializing every row."""
        return (
            self.X[rows]
            if self.sample_index is None
            else self.X[self.sample_index[rows]]
        )

    def rows_of_tasks(self):
        """Row indices of each task, a list of n_tasks arrays (maybe empty)."""
        return _rows_by_index(self.task_index, self.n_tasks)

    def to_output(self, values):
        """Arrange per-row ``values`` (n_rows, ...) in the caller's layout.

        Long format keeps one entry per sample; wide format gives
        (n_samples, n_tasks, ...).
        """
        values = np.asarray(values)
        if not self.wide:
            return values
        n_samples = self.X.shape[0]
        out = np.empty((n_samples, self.n_tasks) + values.shape[1:], values.dtype)
        out[self.sample_index, self.task_index] = values
        return out


@dataclass(frozen=True)
class SharedDesignData:
    """A complete wide target on one shared design, without per-row arrays.

    What :func:`check_fit_data` returns with ``shared_design=True`` when
    every task has every sample's label and there are no sample weights:
    every task then reads the same rows of ``X``, so a solver that needs
    only ``X`` and the (n_samples, n_tasks) target (a shared Gram matrix)
    never pays for the ``n_samples * n_tasks`` per-row arrays.

    Attributes
    ----------
    X : ndarray or sparse matrix of shape (n_samples, n_features)
        Validated features, without any task column.
    Y : ndarray of shape (n_samples, n_tasks)
        Validated float64 targets, all finite.
    X_column_sums : ndarray of shape (n_features,) or None
        ``X.sum(axis=0)`` (computed while validating a dense ``X``).
    """

    X: np.ndarray
    Y: np.ndarray
    X_column_sums: np.ndarray | None = None
    wide = True
    sample_weight = None
    labelled = None

    @property
    def n_tasks(self):
        return self.Y.shape[1]

    def rows(self):
        """The :class:`TaskData` that ``check_fit_data`` returns by default."""
        y_rows, sample_index, task_index = _wide_to_rows(self.Y, classifier=False)
        return TaskData(
            X=self.X,
            task_index=task_index.astype(np.intp),
            sample_index=sample_index,
            n_tasks=self.n_tasks,
            wide=True,
            y=y_rows,
        )


def _rows_by_index(index, n_tasks):
    """Positions holding each value of ``index`` in ``0..n_tasks-1``, in order."""
    order = np.argsort(index, kind="stable")
    bounds = np.searchsorted(index[order], np.arange(n_tasks + 1))
    return [order[bounds[t] : bounds[t + 1]] for t in range(n_tasks)]


def proba_output(proba):
    """Probabilities in scikit-learn's multi-output layout.

    (n_samples, n_classes) stays as is. Wide (n_samples, n_tasks, n_classes)
    with two classes is a multilabel problem: it becomes the (n_samples,
    n_tasks) probabilities of ``classes_[1]``, as scikit-learn's multilabel
    classifiers (``MLPClassifier``) return them, column for column beside
    ``decision_function``. With more classes it becomes a list of n_tasks
    (n_samples, n_classes) arrays, like ``MultiOutputClassifier.predict_proba``.
    """
    if proba.ndim != 3:
        return proba
    if proba.shape[2] == 2:
        return proba[:, :, 1]
    return list(np.moveaxis(proba, 1, 0))


def _is_dataframe(X):
    return hasattr(X, "columns") and hasattr(X, "iloc")


def _split_task_column(X, task_column):
    """Return (features, task labels) from ``X`` with its task column removed."""
    if _is_dataframe(X):
        columns = list(X.columns)
        if isinstance(task_column, str):
            if task_column not in columns:
                raise ValueError(
                    f"task_column={task_column!r} is not a column of X; "
                    f"columns are {columns}."
                )
            position = columns.index(task_column)
        else:
            position = _column_position(task_column, len(columns))
        labels = np.asarray(X.iloc[:, position])
        return X.drop(columns=columns[position]), labels
    if isinstance(task_column, str):
        raise ValueError(
            f"task_column={task_column!r} names a column, but X is not a DataFrame; "
            "give the column's integer position instead."
        )
    if sp.issparse(X):
        X = X.tocsc()
        position = _column_position(task_column, X.shape[1])
        keep = np.delete(np.arange(X.shape[1]), position)
        return X[:, keep], X[:, [position]].toarray().ravel()
    X = np.asarray(X, dtype=object if _has_strings(X) else None)
    if X.ndim != 2:
        raise ValueError(
            f"Expected 2D array for X with a task column, got {X.ndim}D instead."
        )
    position = _column_position(task_column, X.shape[1])
    return np.delete(X, position, axis=1), X[:, position]


def _has_strings(X):
    try:
        return np.asarray(X).dtype.kind in "OUS"
    except (ValueError, TypeError):
        return True


def _column_position(task_column, n_columns):
    if not -n_columns <= task_column < n_columns:
        raise ValueError(
            f"task_column={task_column} is out of range for X with {n_columns} columns."
        )
    return task_column % n_columns


def _as_labels(task_ids, n_samples, name="task_ids"):
    """Validate a sample-aligned array of task labels."""
    if isinstance(task_ids, (list, tuple)):
        # np.asarray would turn [1, "1"] into two equal strings, merging tasks.
        kinds = set(map(type, task_ids))
        families = {
            str if issubclass(k, str) else bytes if issubclass(k, bytes) else None
            for k in kinds
        }
        if len(families) > 1:
            raise _mixed_label_types(kinds, name)
    labels = np.asarray(task_ids)
    if labels.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got an array of shape {labels.shape}.")
    if labels.shape[0] != n_samples:
        raise ValueError(
            f"{name} has {labels.shape[0]} entries but X has {n_samples} samples; "
            "give one task label per sample."
        )
    if labels.dtype.kind == "O":
        kinds = {type(label) for label in labels}
        if any(label is None for label in labels):
            raise ValueError(f"{name} contains None; every sample needs a task.")
        if all(issubclass(kind, str) for kind in kinds):
            labels = labels.astype(str)
        elif all(issubclass(kind, (Integral, np.integer)) for kind in kinds):
            labels = labels.astype(np.int64)
        elif all(issubclass(kind, (int, float, np.number)) for kind in kinds):
            labels = labels.astype(np.float64)
        else:
            raise _mixed_label_types(kinds, name)
    if labels.dtype.kind == "f" and not np.all(np.isfinite(labels)):
        raise ValueError(f"{name} contains NaN or infinity; every sample needs a task.")
    if labels.dtype.kind not in "iufUSb":
        raise ValueError(f"{name} has unsupported dtype {labels.dtype}.")
    return labels


def _mixed_label_types(kinds, name):
    """The error for task labels that mix strings, bytes and numbers."""
    return ValueError(
        f"{name} mixes label types {sorted(k.__name__ for k in kinds)}; "
        "use all strings or all numbers."
    )


def _labels_to_index(labels, tasks, name="task_ids"):
    """Positions of ``labels`` in the sorted fitted ``tasks``; unknown labels raise."""
    try:
        index = np.searchsorted(tasks, labels)
    except TypeError as exc:  # e.g. string labels against integer tasks
        raise ValueError(
            f"{name} has labels of another type than the tasks seen in fit "
            f"({tasks.dtype}); known tasks: {_preview(tasks)}."
        ) from exc
    index = np.clip(index, 0, len(tasks) - 1)
    unknown = tasks[index] != labels
    if np.any(unknown):
        raise ValueError(
            f"{name} contains tasks not seen during fit: "
            f"{_preview(np.unique(labels[unknown]))}. Known tasks: {_preview(tasks)}."
        )
    return index


def _labels_to_index_or_unknown(labels, tasks):
    try:
        index = np.clip(np.searchsorted(tasks, labels), 0, len(tasks) - 1)
    except TypeError:
        return np.full(labels.shape[0], -1, dtype=np.intp)
    return np.where(tasks[index] == labels, index, -1).astype(np.intp)


def _preview(values, limit=8):
    values = list(np.asarray(values).tolist())
    shown = ", ".join(repr(v) for v in values[:limit])
    return f"[{shown}{', ...' if len(values) > limit else ''}]"


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


def _task_column_of(estimator, task_ids):
    """The estimator's ``task_column``; labels given through both ways raise."""
    task_column = getattr(estimator, "task_column", None)
    if task_column is not None and task_ids is not None:
        raise ValueError(
            "Give task labels either through task_ids or through the task_column "
            f"parameter (task_column={task_column!r}), not both."
        )
    return task_column


def _validate_features(estimator, X, reset, task_column, array_params):
    """Validate X, record its features, and pull out the task column if any."""
    array_params = {"dtype": np.float64, **(array_params or {})}
    if task_column is None:
        X = validate_data(estimator, X, reset=reset, **array_params)
        return X, None
    # n_features_in_ and feature_names_in_ describe X as given, task column included.
    validate_data(estimator, X, reset=reset, skip_check_array=True)
    features, labels = _split_task_column(X, task_column)
    features = check_array(features, **array_params)
    return features, _as_labels(labels, features.shape[0], name="the task column")


def _validate_summed_features(estimator, X, array_params):
    """Validate X as :func:`_validate_features` does, with its column sums.

    A shared-design solver needs the column sums (for the means), and they
    are finite exactly when X is (NaN and infinity propagate through a
    sum): computed here, they replace scikit-learn's own finiteness pass
    over X. Where a sum is not finite (or X is sparse, or not 2-D float),
    the usual validation runs again and raises its usual error.

    Returns
    -------
    X : validated features
    column_sums : ndarray of shape (n_features,) or None
        None where they were not computed.
    """
    array_params = {"dtype": np.float64, **(array_params or {})}
    if "ensure_all_finite" not in array_params:
        features = validate_data(
            estimator, X, reset=True, ensure_all_finite=False, **array_params
        )
        if (
            isinstance(features, np.ndarray)
            and features.ndim == 2
            and features.dtype.kind == "f"
        ):
            sums = np.ones(features.shape[0], dtype=features.dtype) @ features
            if np.isfinite(sums).all():
                return features, sums
    return validate_data(estimator, X, reset=True, **array_params), None


def check_fit_data(
    estimator,
    X,
    y,
    task_ids=None,
    sample_weight=None,
    *,
    classifier=False,
    min_samples_per_task=2,
    array_params=None,
    multi_target=False,
    per_task_classes=True,
    unlabelled_tasks=None,
    shared_design=False,
):
    """Validate multi-task training data and record the tasks on ``estimator``.

    Sets ``n_features_in_`` (and ``feature_names_in_``), ``tasks_`` (sorted
    task labels; ``0..T-1`` in wide format) and ``task_format_`` ("long" or
    "wide") on the estimator.

    Parameters
    ----------
    estimator : estimator instance
        Its ``task_column`` parameter, if any, is honoured.
    X, y, task_ids, sample_weight : array-like
        As given to ``fit``.
    classifier : bool
        Validate ``y`` as class labels.
    min_samples_per_task : int
        Each task needs at least this many labelled samples.
    array_params : dict, default=None
        Extra ``check_array`` arguments for ``X`` (``dtype`` defaults to
        float64), e.g. ``allow_nd`` for images.
    multi_target : bool
        In long format, accept a 2-D ``y`` (several targets per task).
    per_task_classes : bool
        With ``classifier``, require samples of two classes in every task
        (else only overall).
    unlabelled_tasks : "all", list of task labels or None, default=None
        Long format only: the tasks whose rows may lack a label, kept as
        *unlabelled rows* (``data.labelled`` False) instead of raising. The
        missing-label marker is NaN in a float ``y`` (regression or
        classification) and None or NaN in an object ``y``; an integer or
        string ``y`` cannot mark a row unlabelled (-1 is a real class). A
        missing label in any other task raises, naming the task. Class and
        size checks count labelled rows for the classes and all rows of these
        tasks for the sizes. None (the default): every label must be present.
    shared_design : bool, default=False
        Return a :class:`SharedDesignData` (``X`` and the (n_samples,
        n_tasks) target, no per-row arrays) when ``y`` is a complete wide
        regression target (no missing label, no sample weights); its
        ``rows()`` is the :class:`TaskData` returned otherwise.

    Returns
    -------
    data : TaskData or SharedDesignData
    """
    task_column = _task_column_of(estimator, task_ids)
    if y is None:
        raise ValueError(
            f"{type(estimator).__name__} requires y to be passed, but the target y "
            "is None."
        )
    column_sums = None
    if shared_design and task_column is None and task_ids is None:
        X, column_sums = _validate_summed_features(estimator, X, array_params)
        column_labels = None
    else:
        X, column_labels = _validate_features(
            estimator,
            X,
            reset=True,
            task_column=task_column,
            array_params=array_params,
        )
    n_samples = X.shape[0]
    labels = column_labels
    if task_ids is not None:
        labels = _as_labels(task_ids, n_samples)
    weights = (
        None if sample_weight is None else _check_weights(sample_weight, n_samples)
    )

    y_array = np.asarray(y) if not hasattr(y, "to_numpy") else y.to_numpy()
    if y_array.shape[0] != n_samples:
        raise ValueError(
            f"y has {y_array.shape[0]} samples but X has {n_samples}; they must match."
        )
    wide = labels is None and y_array.ndim == 2
    if wide and y_array.shape[1] == 0:
        raise ValueError("y has 0 columns (tasks); at least one is required.")
    if not wide and y_array.ndim == 2 and y_array.shape[1] == 1 and not multi_target:
        y_array = y_array[:, 0]
    if not wide and y_array.ndim != 1 and not multi_target:
        raise ValueError(
            f"y must be 1-D when tasks are given by task_ids or task_column, got shape "
            f"{y_array.shape}."
        )

    labelled = None
    if (
        wide
        and shared_design
        and not classifier
        and weights is None
        and n_samples >= min_samples_per_task
    ):
        Y = _complete_wide_target(y_array)
        if Y is not None:
            estimator.tasks_ = np.arange(Y.shape[1])
            estimator.task_format_ = "wide"
            return SharedDesignData(X=X, Y=Y, X_column_sums=column_sums)
    if wide:
        y_rows, sample_index, task_index = _wide_to_rows(y_array, classifier)
        tasks = np.arange(y_array.shape[1])
        if weights is not None:
            weights = weights[sample_index]
    else:
        if labels is None:
            tasks, task_index = np.array([0]), np.zeros(n_samples, dtype=np.intp)
        else:
            tasks, task_index = np.unique(labels, return_inverse=True)
        sample_index = None
        if unlabelled_tasks is None or y_array.ndim != 1:
            y_rows = _check_target(y_array, classifier, allow_nan=False)
        else:
            y_rows, labelled = _long_target_with_unlabelled(
                y_array, classifier, tasks, task_index, unlabelled_tasks
            )

    estimator.tasks_ = tasks
    estimator.task_format_ = "wide" if wide else "long"
    data = TaskData(
        X=X,
        task_index=task_index.astype(np.intp),
        sample_index=sample_index,
        n_tasks=len(tasks),
        wide=wide,
        y=y_rows,
        sample_weight=weights,
        labelled=labelled,
    )
    _check_task_sizes(data, tasks, min_samples_per_task)
    if classifier:
        _check_classes(data, tasks, per_task_classes)
    return data


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


def missing_labels(Y):
    """Where a wide target has no label: NaN, or None in object arrays."""
    if Y.dtype.kind in "fc":
        return np.isnan(Y)
    if Y.dtype.kind == "O":
        # Elementwise in C: None compares equal to None, NaN unequal to itself.
        return np.equal(Y, None) | np.not_equal(Y, Y)
    return np.zeros(Y.shape, dtype=bool)


def _complete_wide_target(Y):
    """``Y`` as float64 when it has no missing or infinite entry, else None.

    One sum finds both (NaN and infinity propagate; a sum that overflows
    also gives None). On None, and on any target it cannot read, the caller
    takes the general path, which raises or marks missing labels exactly as
    it always does.
    """
    try:
        Y = check_array(Y, dtype=np.float64, ensure_all_finite=False, input_name="y")
    except (TypeError, ValueError):
        return None
    return Y if np.isfinite(Y.sum()) else None


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


def check_predict_data(
    estimator,
    X,
    task_ids=None,
    *,
    array_params=None,
    allow_unknown_tasks=False,
    default_task=None,
):
    """Validate data for prediction against the tasks seen in ``fit``.

    Without task labels, a wide-format fit predicts every task (output
    (n_samples, n_tasks)) and a single-task fit predicts its task; a
    long-format fit with several tasks requires labels. Labels of tasks not
    seen in fit raise, unless ``allow_unknown_tasks`` (their rows then get
    task index -1). ``default_task`` (a position in ``tasks_``) is the task of
    unlabelled rows of a long-format fit, for estimators that serve one task.

    Returns
    -------
    data : TaskData
    """
    check_is_fitted(estimator, "tasks_")
    task_column = _task_column_of(estimator, task_ids)
    X, labels = _validate_features(
        estimator, X, reset=False, task_column=task_column, array_params=array_params
    )
    n_samples, tasks = X.shape[0], estimator.tasks_
    if task_ids is not None:
        labels = _as_labels(task_ids, n_samples)
    if labels is not None:
        if allow_unknown_tasks:
            task_index = _labels_to_index_or_unknown(labels, tasks)
        else:
            task_index = _labels_to_index(labels, tasks)
        return TaskData(X, task_index, None, len(tasks), wide=False)
    if estimator.task_format_ == "wide":
        task_index = np.repeat(np.arange(len(tasks)), n_samples)
        sample_index = np.tile(np.arange(n_samples), len(tasks))
        return TaskData(X, task_index, sample_index, len(tasks), wide=True)
    if len(tasks) == 1 or default_task is not None:
        task_index = np.full(n_samples, default_task or 0, dtype=np.intp)
        return TaskData(X, task_index, None, len(tasks), wide=False)
    raise ValueError(
        f"{type(estimator).__name__} was fitted on {len(tasks)} tasks in long format; "
        "pass task_ids (or set task_column) to say which task each sample belongs to."
    )


# Per-sample task labels for the objects that are not estimators (splitters,
# scorers) or that must keep the task column in their output (PerTask).


def _target_ndim(y):
    if y is None:
        return None
    return np.ndim(y) if not hasattr(y, "ndim") else y.ndim


def resolve_task_labels(
    X, y=None, task_ids=None, *, task_column=None, groups=None, owner="this object"
):
    """Task label of every sample of ``X``, read through the task convention.

    Parameters
    ----------
    X : array-like or DataFrame of shape (n_samples, n_features)
        Samples; holds the task labels when ``task_column`` is set.
    y : array-like of shape (n_samples,) or (n_samples, n_tasks), default=None
        Targets; a 2-D ``y`` without labels is the wide format.
    task_ids : array-like of shape (n_samples,), default=None
        Task label of each sample.
    task_column : int or str, default=None
        Column of ``X`` holding the task labels.
    groups : array-like of shape (n_samples,), default=None
        Alias of ``task_ids`` for callers that route no metadata (scikit-learn
        passes ``groups`` to every splitter).
    owner : str
        Name used in error messages.

    Returns
    -------
    labels : ndarray of shape (n_samples,) or None
        None for the wide format (2-D ``y`` and no labels).

    Raises
    ------
    ValueError
        If labels are given twice, or not at all for a 1-D ``y``.
    """
    given = [
        name
        for name, value in (
            ("task_ids", task_ids),
            ("groups", groups),
            ("task_column", task_column),
        )
        if value is not None
    ]
    if len(given) > 1:
        raise ValueError(
            f"{owner} got task labels through {' and '.join(given)}; give them "
            "through exactly one of task_ids, groups or task_column."
        )
    n_samples = _num_samples(X)
    if task_ids is not None:
        return _as_labels(task_ids, n_samples)
    if groups is not None:
        return _as_labels(groups, n_samples, name="groups")
    if task_column is not None:
        _, labels = _split_task_column(X, task_column)
        return _as_labels(labels, n_samples, name="the task column")
    if _target_ndim(y) == 2:
        return None
    raise ValueError(
        f"{owner} found no task labels. Pass task_ids= (with "
        "sklearn.set_config(enable_metadata_routing=True), cross_validate and "
        "GridSearchCV route params={'task_ids': ...} to it), groups= (without "
        "routing), set task_column, or give a 2-D y (one column per task)."
    )


def task_rows(labels):
    """Sorted task labels and, for each, the positions of its samples.

    Parameters
    ----------
    labels : ndarray of shape (n_samples,)
        Validated task labels.

    Returns
    -------
    tasks : ndarray of shape (n_tasks,)
        Sorted unique labels (the order of ``tasks_`` in every estimator).
    rows : list of ndarray
        ``rows[t]`` holds the sample positions of ``tasks[t]``, in increasing
        order.
    """
    tasks, index = np.unique(labels, return_inverse=True)
    return tasks, _rows_by_index(index, len(tasks))
