"""The shared-design fast path of :func:`~sklearn_mtl._tasks.check_fit_data`.

One job: for a complete wide regression target (every task labels every
sample, no sample weights), validate ``X`` with its column sums and hand the
solver ``X`` and the (n_samples, n_tasks) target as a
:class:`SharedDesignData`, without the ``n_samples * n_tasks`` per-row
arrays. :func:`~sklearn_mtl._tasks.check_fit_data` (``shared_design=True``),
the task convention's entry point, decides when this path applies.
"""

from dataclasses import dataclass

import numpy as np
from sklearn.utils.validation import check_array, validate_data

from ._task_data import TaskData
from ._task_targets import _wide_to_rows


@dataclass(frozen=True)
class SharedDesignData:
    """A complete wide target on one shared design, without per-row arrays.

    What :func:`~sklearn_mtl._tasks.check_fit_data` returns with
    ``shared_design=True`` when every task has every sample's label and
    there are no sample weights: every task then reads the same rows of
    ``X``, so a solver that needs only ``X`` and the (n_samples, n_tasks)
    target (a shared Gram matrix) never pays for the ``n_samples * n_tasks``
    per-row arrays.

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


def _validate_summed_features(estimator, X, array_params):
    """Validate X as ``_tasks._validate_features`` does, with its column sums.

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
