"""Per-task scores, their averages, and the relative improvement Δ%."""

import warnings

import numpy as np
from sklearn.metrics import r2_score, roc_auc_score
from sklearn.utils._param_validation import StrOptions, validate_params

from .._tasks import _as_labels, _check_weights, missing_labels, task_rows

__all__ = [
    "delta_percent",
    "normalized_mean_squared_error",
    "per_task_nmse",
    "per_task_roc_auc",
    "per_task_score",
]


def _as_array(values):
    return values.to_numpy() if hasattr(values, "to_numpy") else np.asarray(values)


def _rows_by_task(y_true, y_pred, task_ids):
    """Task labels and, per task, (y_true, y_pred, sample positions).

    Long format: ``task_ids`` (or one task labelled 0 without them) and 1-D
    ``y_true``. Wide format: 2-D ``y_true`` without ``task_ids``, one task per
    column, missing labels (NaN / None) left out.
    """
    y_true, y_pred = _as_array(y_true), _as_array(y_pred)
    if y_true.ndim == 2 and y_true.shape[1] == 1 and task_ids is not None:
        y_true = y_true[:, 0]
    n_samples = y_true.shape[0]
    if y_pred.shape[0] != n_samples:
        raise ValueError(
            f"y_true has {n_samples} samples but y_pred has {y_pred.shape[0]}; they "
            "must match."
        )
    if y_true.ndim == 2:
        if task_ids is not None:
            raise ValueError(
                f"y_true has shape {y_true.shape} but task_ids was given; give a "
                "1-D y_true with task_ids (long format) or a 2-D y_true without "
                "(one column per task)."
            )
        if y_pred.ndim != 2 or y_pred.shape[1] != y_true.shape[1]:
            raise ValueError(
                f"y_true has {y_true.shape[1]} task columns but y_pred has shape "
                f"{y_pred.shape}; give one prediction column per task."
            )
        labelled = ~missing_labels(y_true)
        tasks = np.arange(y_true.shape[1])
        pieces = []
        for t in tasks:
            rows = np.flatnonzero(labelled[:, t])
            if rows.size == 0:
                raise ValueError(
                    f"Task {int(t)!r} (column {int(t)} of y_true) has no labelled "
                    "sample; it cannot be scored."
                )
            y_t = y_true[rows, t]
            if y_t.dtype.kind == "O":
                y_t = np.asarray(y_t.tolist())
            pieces.append((y_t, y_pred[rows, t], rows))
        return tasks, pieces
    if y_true.ndim != 1:
        raise ValueError(f"y_true must be 1-D or 2-D, got shape {y_true.shape}.")
    labels = (
        np.zeros(n_samples, dtype=np.int64)
        if task_ids is None
        else _as_labels(task_ids, n_samples)
    )
    tasks, rows = task_rows(labels)
    return tasks, [(y_true[r], y_pred[r], r) for r in rows]


@validate_params(
    {
        "y_true": ["array-like"],
        "y_pred": ["array-like"],
        "task_ids": ["array-like", None],
        "metric": [callable],
        "average": [StrOptions({"uniform", "weighted"}), None],
        "output": [StrOptions({"array", "dict"})],
        "sample_weight": ["array-like", None],
        "metric_params": [dict, None],
    },
    prefer_skip_nested_validation=True,
)
def per_task_score(
    y_true,
    y_pred,
    *,
    task_ids=None,
    metric=r2_score,
    average=None,
    output="array",
    sample_weight=None,
    metric_params=None,
):
    """Score each task separately with a single-task metric.

    Tasks follow the package's convention: ``task_ids`` with a 1-D ``y_true``
    (long format), or a 2-D ``y_true`` of shape (n_samples, n_tasks) whose NaN
    entries are missing labels (wide format; ``y_pred`` then has the same
    shape). A 1-D ``y_true`` without ``task_ids`` is one task labelled 0.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or (n_samples, n_tasks)
        True targets.
    y_pred : array-like of shape (n_samples,), (n_samples, n_outputs) or \
            (n_samples, n_tasks)
        Predictions (or scores, for metrics such as ROC AUC).
    task_ids : array-like of shape (n_samples,), default=None
        Task label of each sample (long format).
    metric : callable, default=r2_score
        ``metric(y_true_t, y_pred_t, **metric_params)`` on one task's samples;
        called with ``sample_weight=`` when ``sample_weight`` is given.
    average : {"uniform", "weighted"} or None, default=None
        None: one score per task. ``"uniform"``: their mean. ``"weighted"``:
        their mean weighted by each task's number of (labelled) samples.
    output : {"array", "dict"}, default="array"
        With ``average=None``: an array ordered as the sorted task labels (the
        order of every estimator's ``tasks_``), or a dict by task label.
    sample_weight : array-like of shape (n_samples,), default=None
        Weights of the samples, passed to ``metric`` task by task.
    metric_params : dict, default=None
        Extra keyword arguments of ``metric``.

    Returns
    -------
    scores : ndarray of shape (n_tasks,), dict or float
        Per-task scores, or their average.

    Raises
    ------
    ValueError
        If ``metric`` fails or returns NaN on a task (the message names it), or
        a wide ``y_true`` has a task without any label.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.metrics import mean_absolute_error
    >>> from sklearn_mtl.metrics import per_task_score
    >>> y_true = np.array([1.0, 2.0, 3.0, 10.0, 20.0])
    >>> y_pred = np.array([1.0, 2.0, 4.0, 12.0, 20.0])
    >>> task_ids = np.array(["a", "a", "a", "b", "b"])
    >>> scores = per_task_score(y_true, y_pred, task_ids=task_ids,
    ...                         metric=mean_absolute_error, output="dict")
    >>> {task: round(score, 3) for task, score in scores.items()}
    {'a': 0.333, 'b': 1.0}
    >>> float(per_task_score(y_true, y_pred, task_ids=task_ids,
    ...                      metric=mean_absolute_error, average="weighted"))
    0.6
    """
    tasks, pieces = _rows_by_task(y_true, y_pred, task_ids)
    weights = None
    if sample_weight is not None:
        weights = _check_weights(sample_weight, _as_array(y_true).shape[0])
    params = dict(metric_params or {})
    scores = np.empty(len(tasks))
    for t, (task, (y_t, p_t, rows)) in enumerate(zip(tasks.tolist(), pieces)):
        kwargs = (
            params if weights is None else {**params, "sample_weight": weights[rows]}
        )
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                value = float(np.asarray(metric(y_t, p_t, **kwargs)))
            except ValueError as exc:
                raise ValueError(
                    f"Task {task!r} ({rows.size} samples) cannot be scored: {exc}"
                ) from exc
        if np.isnan(value):
            # scikit-learn warns and returns NaN (e.g. one class for ROC AUC, one
            # sample for R²); a NaN in an average would hide the task at fault.
            reason = "; ".join(str(w.message) for w in caught) or (
                "too few samples or a constant target"
            )
            raise ValueError(
                f"Task {task!r} ({rows.size} samples) cannot be scored: "
                f"{getattr(metric, '__name__', metric)} is undefined ({reason})."
            )
        for warning in caught:
            warnings.warn(
                f"Task {task!r}: {warning.message}", warning.category, stacklevel=2
            )
        scores[t] = value
    if average is None:
        if output == "dict":
            return dict(zip(tasks.tolist(), scores.tolist()))
        return scores
    if average == "uniform":
        return float(np.mean(scores))
    sizes = np.array([rows.size for _, _, rows in pieces], dtype=np.float64)
    return float(np.average(scores, weights=sizes))


def normalized_mean_squared_error(y_true, y_pred, *, sample_weight=None):
    """Mean squared error divided by the variance of ``y_true`` (one task).

    ``nMSE = mean((y_true - y_pred)**2) / var(y_true)``, with the population
    variance (ddof=0) and both means weighted by ``sample_weight``. 1.0 is the
    error of predicting the mean; lower is better.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True targets.
    y_pred : array-like of shape (n_samples,)
        Predictions.
    sample_weight : array-like of shape (n_samples,), default=None
        Sample weights.

    Returns
    -------
    nmse : float

    Raises
    ------
    ValueError
        If ``y_true`` is constant (zero variance).

    Examples
    --------
    >>> from sklearn_mtl.metrics import normalized_mean_squared_error
    >>> normalized_mean_squared_error([1.0, 2.0, 3.0], [1.0, 2.0, 2.0])
    0.5
    """
    y_true = np.asarray(y_true, dtype=np.float64)
    y_pred = np.asarray(y_pred, dtype=np.float64)
    mse = np.average((y_true - y_pred) ** 2, weights=sample_weight)
    mean = np.average(y_true, weights=sample_weight)
    variance = np.average((y_true - mean) ** 2, weights=sample_weight)
    if variance <= 0:
        raise ValueError(
            "y_true is constant (zero variance); the normalized MSE is undefined."
        )
    return float(mse / variance)


def per_task_nmse(
    y_true, y_pred, *, task_ids=None, average=None, output="array", sample_weight=None
):
    """Normalized mean squared error of each task: MSE_t / var(y_t).

    :func:`normalized_mean_squared_error` task by task through
    :func:`per_task_score`; see there for the task convention, ``average``
    and ``output``. Lower is better.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or (n_samples, n_tasks)
        True targets; NaN marks a missing label in the wide format.
    y_pred : array-like of shape (n_samples,) or (n_samples, n_tasks)
        Predictions.
    task_ids : array-like of shape (n_samples,), default=None
        Task label of each sample (long format).
    average : {"uniform", "weighted"} or None, default=None
        Per-task values (None) or their mean, uniform or by task size.
    output : {"array", "dict"}, default="array"
        Form of the per-task values.
    sample_weight : array-like of shape (n_samples,), default=None
        Sample weights.

    Returns
    -------
    nmse : ndarray of shape (n_tasks,), dict or float

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_mtl.metrics import per_task_nmse
    >>> y_true = np.array([1.0, 2.0, 3.0, 0.0, 4.0])
    >>> y_pred = np.array([1.0, 2.0, 2.0, 1.0, 3.0])
    >>> per_task_nmse(y_true, y_pred, task_ids=[0, 0, 0, 1, 1])
    array([0.5 , 0.25])
    """
    return per_task_score(
        y_true,
        y_pred,
        task_ids=task_ids,
        metric=normalized_mean_squared_error,
        average=average,
        output=output,
        sample_weight=sample_weight,
    )


def _positive_scores(y_score):
    """Scores of the positive class: (n,) as is, (n, 2) probabilities' column 1.

    A list of (n, 2) arrays (wide-format ``predict_proba``) becomes (n, T).
    """
    if isinstance(y_score, list):
        return np.column_stack([_positive_scores(s) for s in y_score])
    y_score = _as_array(y_score)
    if y_score.ndim == 2 and y_score.shape[1] == 2:
        return y_score[:, 1]
    return y_score


def per_task_roc_auc(
    y_true, y_score, *, task_ids=None, average=None, output="array", sample_weight=None
):
    """Area under the ROC curve of each binary task.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or (n_samples, n_tasks)
        Binary class labels; NaN marks a missing label in the wide format.
        The greater label of a task is its positive class.
    y_score : array-like of shape (n_samples,) or (n_samples, 2), or list
        Scores of the positive class (``decision_function``), or two-column
        probabilities (``predict_proba``, column 1 is used); a wide-format
        ``decision_function`` (n_samples, n_tasks) or ``predict_proba`` list.
    task_ids : array-like of shape (n_samples,), default=None
        Task label of each sample (long format).
    average : {"uniform", "weighted"} or None, default=None
        Per-task AUCs (None) or their mean, uniform or by task size.
    output : {"array", "dict"}, default="array"
        Form of the per-task values.
    sample_weight : array-like of shape (n_samples,), default=None
        Sample weights.

    Returns
    -------
    auc : ndarray of shape (n_tasks,), dict or float

    Raises
    ------
    ValueError
        If a task's samples are all of one class (the message names it).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_mtl.metrics import per_task_roc_auc
    >>> y_true = np.array([0, 1, 0, 1, 0, 1])
    >>> y_score = np.array([0.1, 0.9, 0.8, 0.2, 0.3, 0.7])
    >>> per_task_roc_auc(y_true, y_score, task_ids=[0, 0, 1, 1, 2, 2])
    array([1., 0., 1.])
    """
    return per_task_score(
        y_true,
        _positive_scores(y_score),
        task_ids=task_ids,
        metric=roc_auc_score,
        average=average,
        output=output,
        sample_weight=sample_weight,
    )


def delta_percent(score_mtl, score_stl, *, higher_is_better=True):
    """Mean relative improvement over a single-task baseline, in percent.

    As reported in the multi-task literature (e.g. Maninis et al., 2019;
    Vandenhende et al., 2021)::

        Δ% = 100 / T * Σ_t s_t * (m_t - b_t) / |b_t|

    with ``m_t`` the multi-task score of task t, ``b_t`` the baseline's and
    ``s_t = +1`` when higher is better, ``-1`` when lower is better (errors),
    so a positive Δ% always means the multi-task model helps.

    Parameters
    ----------
    score_mtl : array-like of shape (n_tasks,) or dict
        Per-task scores of the multi-task model (as from
        :func:`per_task_score`); a dict is matched to ``score_stl`` by label.
    score_stl : array-like of shape (n_tasks,) or dict
        Per-task scores of the single-task baseline, same tasks.
    higher_is_better : bool or array-like of bool of shape (n_tasks,), default=True
        Direction of each task's metric.

    Returns
    -------
    delta : float
        Mean relative improvement in percent.

    Raises
    ------
    ValueError
        If the tasks differ, or a baseline score is 0 (the message names it).

    Examples
    --------
    >>> from sklearn_mtl.metrics import delta_percent
    >>> round(delta_percent([0.9, 0.5], [0.8, 0.5]), 6)
    6.25
    >>> mse_mtl, mse_stl = {"a": 1.0, "b": 3.0}, {"a": 2.0, "b": 3.0}
    >>> delta_percent(mse_mtl, mse_stl, higher_is_better=False)
    25.0
    """
    if isinstance(score_mtl, dict) or isinstance(score_stl, dict):
        if not (isinstance(score_mtl, dict) and isinstance(score_stl, dict)):
            raise ValueError(
                "score_mtl and score_stl must both be dicts by task label or both "
                "arrays over tasks."
            )
        if set(score_mtl) != set(score_stl):
            missing = set(score_mtl) ^ set(score_stl)
            raise ValueError(
                "score_mtl and score_stl cover different tasks: "
                f"{sorted(map(repr, missing))} appear in only one."
            )
        tasks = list(score_mtl)
        m = np.array([score_mtl[k] for k in tasks], dtype=np.float64)
        b = np.array([score_stl[k] for k in tasks], dtype=np.float64)
    else:
        m = np.asarray(score_mtl, dtype=np.float64).ravel()
        b = np.asarray(score_stl, dtype=np.float64).ravel()
        tasks = list(range(m.shape[0]))
        if m.shape != b.shape:
            raise ValueError(
                f"score_mtl has {m.shape[0]} tasks but score_stl has {b.shape[0]}."
            )
    if m.shape[0] == 0:
        raise ValueError("No task to compare: the scores are empty.")
    if not (np.all(np.isfinite(m)) and np.all(np.isfinite(b))):
        raise ValueError("score_mtl and score_stl must be finite.")
    zero = np.flatnonzero(b == 0)
    if zero.size:
        raise ValueError(
            f"The baseline score of task {tasks[zero[0]]!r} is 0; the relative "
            "improvement is undefined."
        )
    direction = np.asarray(higher_is_better)
    if (
        direction.dtype.kind != "b"
        or direction.ndim > 1
        or (direction.ndim == 1 and direction.shape[0] != m.shape[0])
    ):
        raise ValueError(
            "higher_is_better must be a bool or one bool per task, got "
            f"{higher_is_better!r}."
        )
    sign = np.where(direction, 1.0, -1.0)
    return float(np.mean(sign * (m - b) / np.abs(b)) * 100)
