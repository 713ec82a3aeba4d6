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

This module is the convention's entry point: estimators, splitters, scorers
and transformers import from here. It reads ``X`` and the task labels and
records the tasks on the estimator; the work is in private modules with one
job each, whose names it re-exports:

- :mod:`sklearn_mtl._task_labels`: task labels (``task_ids``, ``groups``,
  ``task_column``), their positions in ``tasks_`` and the rows of a
  domain-adaptation target (``target_position``, ``target_mask``);
- :mod:`sklearn_mtl._task_data`: :class:`TaskData` (the rows) and the
  caller's output layout;
- :mod:`sklearn_mtl._task_targets`: targets, sample weights, wide targets
  to rows, missing labels, per-task size and class checks;
- :mod:`sklearn_mtl._shared_design`: :class:`SharedDesignData`, the fast
  path for a complete wide target on one shared design.
"""

import numpy as np
from sklearn.utils.validation import (
    _num_samples,
    check_array,
    check_is_fitted,
    validate_data,
)

from ._shared_design import (
    SharedDesignData,
    _complete_wide_target,
    _validate_summed_features,
)
from ._task_data import TaskData, _rows_by_index, proba_output
from ._task_labels import (
    _as_labels,
    _column_position,  # noqa: F401 (imported from here by other modules)
    _is_dataframe,  # noqa: F401 (imported from here by other modules)
    _labels_to_index,
    _labels_to_index_or_unknown,
    _split_task_column,
    _task_column_of,
    target_mask,
    target_position,
)
from ._task_targets import (
    _check_classes,
    _check_target,
    _check_task_sizes,
    _check_weights,
    _long_target_with_unlabelled,
    _wide_to_rows,
    missing_labels,  # noqa: F401 (imported from here by other modules)
)

__all__ = [
    "SharedDesignData",
    "TaskData",
    "check_fit_data",
    "check_predict_data",
    "proba_output",
    "resolve_task_labels",
    "target_mask",
    "target_position",
    "task_rows",
]


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
