"""Which rows are the target and which the sources, from the task convention."""

import warnings

import numpy as np
from sklearn.utils.validation import column_or_1d

from .._task_labels import _as_labels
from .._tasks import check_fit_data, target_position

__all__ = [
    "SourceTarget",
    "encode_source_classes",
    "source_class_labels",
    "split_source_target",
    "target_position",
]


class SourceTarget:
    """Source and target rows of validated multi-task data.

    ``X_target``, ``y_target`` and ``w_target`` hold the *labelled* target
    rows, the only target rows any supervised loss sees; ``X_target_all``
    holds the features of every target row, labelled or not, which is what
    the adaptations (CORAL, KMM) read. Source rows are always labelled.
    """

    def __init__(self, data, target_position):
        self.target_position = target_position
        X_rows = data.X_rows
        is_target = data.task_index == target_position
        labelled = (
            np.ones(data.n_rows, dtype=bool) if data.labelled is None else data.labelled
        )
        train = is_target & labelled
        weights = (
            np.ones(data.n_rows) if data.sample_weight is None else data.sample_weight
        )
        y = data.y
        if y.dtype.kind == "O" and data.labelled is not None:
            # None marked the unlabelled rows; the labels left get their dtype.
            present = np.asarray(y[labelled].tolist())
            y = np.zeros(data.n_rows, dtype=present.dtype)
            y[labelled] = present
        self.X_target_all = X_rows[is_target]
        self.X_source, self.X_target = X_rows[~is_target], X_rows[train]
        self.y_source, self.y_target = y[~is_target], y[train]
        self.w_source, self.w_target = weights[~is_target], weights[train]
        self.source_task_index = data.task_index[~is_target]
        # Positions, among every target row, of the labelled ones.
        self.target_labelled_index = np.flatnonzero(labelled[is_target])

    def withhold_target_labels(self):
        """Treat every target row as unlabelled (``use_target_labels=False``):
        no supervised loss sees a target label; adaptations still read every
        target row's features."""
        self.X_target = self.X_target[:0]
        self.y_target, self.w_target = self.y_target[:0], self.w_target[:0]
        self.target_labelled_index = self.target_labelled_index[:0]

    @property
    def n_labelled_target(self):
        return self.X_target.shape[0]

    @property
    def has_source(self):
        return self.X_source.shape[0] > 0

    def stacked(self):
        """(X, y, weights, is_source) of sources then target."""
        return (
            np.vstack([self.X_source, self.X_target]),
            np.concatenate([self.y_source, self.y_target]),
            np.concatenate([self.w_source, self.w_target]),
            np.r_[
                np.ones(len(self.y_source), bool), np.zeros(len(self.y_target), bool)
            ],
        )


def split_source_target(
    estimator, X, y, task_ids, sample_weight, *, classifier, allow_unlabelled=False
):
    """Validate through the task convention and split target rows from sources.

    With ``allow_unlabelled``, target rows with a missing label (see
    :func:`~sklearn_mtl._tasks.check_fit_data`, ``unlabelled_tasks``) are kept
    as unlabelled rows; a missing source label raises, naming its task.
    """
    shape = np.shape(np.asarray(y)) if y is not None else ()
    if len(shape) == 2:
        if shape[1] != 1:
            raise ValueError(
                f"y must be 1-D (one target task), got shape {shape}; give source "
                "tasks as rows with task_ids, not as columns."
            )
        y = column_or_1d(np.asarray(y), warn=True)
    unlabelled_tasks = None
    if allow_unlabelled:
        # target=None is the only task (target_position below says so if not).
        unlabelled_tasks = "all" if estimator.target is None else [estimator.target]
    try:
        data = check_fit_data(
            estimator,
            X,
            y,
            task_ids,
            sample_weight,
            classifier=classifier,
            min_samples_per_task=1,
            per_task_classes=False,
            unlabelled_tasks=unlabelled_tasks,
        )
    except ValueError as exc:
        if (
            allow_unlabelled
            and estimator.target is not None
            and task_ids is not None
            and "allowed only in task" in str(exc)
        ):
            # A target that is no task (a typo) made every target row's
            # missing label look like a missing source label: name the target.
            tasks = np.unique(_as_labels(task_ids, len(task_ids)))
            target_position(tasks, estimator.target, len(tasks))
        if allow_unlabelled or "contains NaN" not in str(exc):
            raise
        raise ValueError(
            f"{exc} To use target rows without a label (NaN) for adaptation "
            "only, set allow_unlabelled=True."
        ) from exc
    position = target_position(estimator.tasks_, estimator.target, data.n_tasks)
    is_target = data.task_index == position
    n_target = int(np.sum(is_target))
    if allow_unlabelled:
        if n_target < 2:
            raise ValueError(
                f"Target task {estimator.tasks_.tolist()[position]!r} has "
                f"{n_target} sample(s); at least 2 target rows (labelled or not) "
                "are required."
            )
    elif n_target < 2:
        raise ValueError(
            f"Target task {estimator.tasks_.tolist()[position]!r} has {n_target} "
            "sample(s); at least 2 labelled target samples are required."
        )
    split = SourceTarget(data, position)
    if classifier:
        _warn_minus_one_marker(split, estimator.tasks_.tolist()[position])
    return data, split


def _warn_minus_one_marker(split, target):
    """-1 among the target's labels but no source's: probably skada's
    "unlabelled" marker, which here is a class of its own (the package marks a
    row without a label by NaN or None), so say so."""
    y_target, y_source = split.y_target, split.y_source
    if y_target.dtype.kind not in "iuf" or y_source.dtype.kind not in "iuf":
        return
    if split.has_source and np.any(y_target == -1) and not np.any(y_source == -1):
        warnings.warn(
            f"Target task {target!r} has {int(np.sum(y_target == -1))} row(s) "
            "labelled -1, a class that no source has. -1 is a class label here, "
            "not a marker of an unlabelled row: mark target rows without a "
            "label by NaN (or None).",
            UserWarning,
            stacklevel=4,
        )


def source_class_labels(estimator, X, y, task_ids):
    """The source rows' class labels, encoded ``0..C-1``, and the classes.

    Parsed by the domain convention (:func:`split_source_target`, as
    ``TransferClassifier`` and ``DANNClassifier``): a missing label (NaN or
    None) is an unlabelled row in the target task and an error naming the
    task anywhere else; the target rows' labels are never read. The sources
    need two classes: their labels are what gets matched or transported.
    """
    name = type(estimator).__name__
    if y is None:
        raise ValueError(
            f"{name} uses the source labels: pass y to fit (the target rows' "
            "labels are ignored and may be NaN or None)."
        )
    _, split = split_source_target(
        estimator, X, y, task_ids, None, classifier=True, allow_unlabelled=True
    )
    return encode_source_classes(name, split.y_source)


def encode_source_classes(name, y_source):
    """``(classes, y_source encoded 0..C-1)``; at least 2 source classes."""
    if y_source.dtype.kind == "O":
        y_source = np.asarray(y_source.tolist())
    classes, encoded = np.unique(y_source, return_inverse=True)
    if len(classes) < 2:
        shown = f" ({classes.tolist()[0]!r})" if len(classes) else ""
        raise ValueError(
            f"{name}: the source rows have {len(classes)} class(es){shown}; at "
            "least 2 are needed (the target rows' labels are not used)."
        )
    return classes, encoded
