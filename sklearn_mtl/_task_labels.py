"""Reading task labels: which task each sample belongs to.

One job: turn what the caller gives (a ``task_ids`` array, ``groups``, or the
estimator's ``task_column`` of ``X``) into a validated 1-D array of labels,
and map labels to positions in the fitted ``tasks_``. Part of the task
convention; callers go through its entry point, :mod:`sklearn_mtl._tasks`,
which re-exports the names other modules use.
"""

from numbers import Integral

import numpy as np
import scipy.sparse as sp


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


def _task_column_of(estimator, task_ids):
    """The estimator's ``task_column``; labels given through both ways raise."""
    task_column = getattr(estimator, "task_column", None)
    if task_column is not None and task_ids is not None:
        raise ValueError(
            "Give task labels either through task_ids or through the task_column "
            f"parameter (task_column={task_column!r}), not both."
        )
    return task_column


def target_position(tasks, target, n_tasks, name="target"):
    """Position of the ``target`` label in the fitted tasks, with clear errors.

    ``target=None`` is the only task of single-task data; otherwise it must be
    one of ``tasks``. A label that matches a task only as text (``1`` against
    ``"1"``) is named as a type mismatch, never silently treated as absent.
    """
    shown = f"{tasks.tolist()[:8]}{' ...' if len(tasks) > 8 else ''}"
    if target is None:
        if n_tasks == 1:
            return 0
        raise ValueError(
            f"The data has {n_tasks} tasks; set {name} to the task to serve "
            f"(one of {shown}); the other tasks are the sources."
        )
    if np.ndim(target) != 0:
        raise ValueError(f"{name} must be a single task label, got {target!r}.")
    matches = np.flatnonzero(tasks == target) if len(tasks) else []
    if len(matches) == 0:
        same_text = [t for t in tasks.tolist() if str(t) == str(target)]
        hint = (
            f" It matches {same_text[0]!r} only as text: {name} is a "
            f"{type(target).__name__}, the task labels are "
            f"{'strings' if tasks.dtype.kind in 'US' else 'numbers'}."
            if same_text
            else ""
        )
        raise ValueError(
            f"{name}={target!r} is not among the tasks of the data: {shown}.{hint}"
        )
    return int(matches[0])


def target_mask(labels, target, owner):
    """Boolean mask of the rows of task ``target`` among validated, sample-aligned
    ``labels`` (the domain-adaptation target), with :func:`target_position`'s
    errors (absent label, label matching only as text) prefixed by ``owner``."""
    tasks = np.unique(labels)
    try:
        position = target_position(tasks, target, len(tasks))
    except ValueError as error:
        raise ValueError(f"{owner}: {error}") from None
    return np.asarray(labels == tasks[position], dtype=bool)
