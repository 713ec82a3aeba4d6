"""``PerTask``: one clone of a transformer fitted on each task's samples."""

from numbers import Integral

import numpy as np
import scipy.sparse as sp
from joblib import Parallel, delayed
from sklearn.base import (
    BaseEstimator,
    MetaEstimatorMixin,
    TransformerMixin,
    _fit_context,
    clone,
)
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import HasMethods
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from .._tasks import (
    _as_labels,
    _column_position,
    _is_dataframe,
    _labels_to_index,
    _task_column_of,
    _validate_features,
    check_predict_data,
    task_rows,
)

__all__ = ["PerTask"]


def _fit_one(transformer, task, X, y, transform):
    """Fit one task's clone; return it and, if asked, its transformed X."""
    try:
        if transform and hasattr(transformer, "fit_transform"):
            Xt = (
                transformer.fit_transform(X)
                if y is None
                else transformer.fit_transform(X, y)
            )
            return transformer, Xt
        transformer.fit(X) if y is None else transformer.fit(X, y)
    except ValueError as exc:
        raise ValueError(
            f"Fitting {type(transformer).__name__} on task {task!r} "
            f"({X.shape[0]} samples) failed: {exc}"
        ) from exc
    return transformer, transformer.transform(X) if transform else None


def _check_task_sizes(tasks, rows):
    # One sample fixes no per-task statistic (a scale, a direction): with task
    # labels it is a data error, as in every estimator's fit.
    counts = np.array([r.shape[0] for r in rows])
    small = np.flatnonzero(counts < 2)
    if small.size:
        raise ValueError(
            f"Task {tasks.tolist()[small[0]]!r} has 1 sample; at least 2 are "
            f"required per task to fit a per-task transformer ({small.size} "
            "task(s) too small)."
        )


def _transformer_has(method):
    def check(self):
        if hasattr(self, "transformers_"):
            return hasattr(self.transformers_[0], method)
        return hasattr(self._transformer(), method)

    return check


class PerTask(TransformerMixin, MetaEstimatorMixin, BaseEstimator):
    """Fit one clone of a transformer on each task's samples.

    Per-task scaling (``PerTask(StandardScaler())``), per-task PCA, or any
    transformer: the samples of task t are transformed by the clone fitted on
    task t, so tasks measured on different scales become comparable before a
    multi-task model shares information between them.

    Tasks follow the package's convention:

    * long format: ``task_ids`` given to ``fit``/``transform`` (requested by
      default, so a ``Pipeline`` with metadata routing enabled sends the
      labels here and to the final estimator alike);
    * ``task_column``: the column of ``X`` holding the labels. It is left out
      of the features the clones see and passed through unchanged in the
      output, at the same position (counted from the end when negative; kept
      within the output's width when the transformer changes it), so a
      downstream estimator with the same ``task_column`` still reads it. This
      route needs no metadata routing and serves ``GridSearchCV.predict``;
    * no labels (one task, or a wide 2-D ``y`` whose tasks all share the
      samples of ``X``): nothing can be split by task, so one clone is fitted
      on every sample and ``tasks_`` is ``[0]``, the single task of the
      convention. Labels given later to ``transform`` must then be ``0``,
      which catches a pipeline that forgot to route ``task_ids`` to ``fit``.

    Parameters
    ----------
    transformer : transformer object, default=None
        Cloned and fitted once per task; None means
        :class:`~sklearn.preprocessing.StandardScaler`, per-task
        standardization.
    task_column : int or str, default=None
        Column of ``X`` holding each sample's task label; passed through.
    n_jobs : int, default=None
        Tasks fitted in parallel with joblib; None means 1, -1 all cores.

    Attributes
    ----------
    transformers_ : list of transformers
        Fitted clone of each task, in the order of ``tasks_``.
    tasks_ : ndarray of shape (n_tasks,)
        Sorted task labels seen in fit; ``[0]`` without labels.
    task_format_ : str
        ``"long"``: transform follows the single-task rule of the convention
        when no labels are given.
    n_features_in_ : int
        Number of columns of ``X`` in fit, task column included.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Column names of ``X`` in fit, when they are all strings.

    See Also
    --------
    sklearn_mtl.model_selection.TaskKFold : Cross-validation inside each task.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sklearn_mtl.preprocessing import PerTask
    >>> X = np.array([[1.0], [3.0], [100.0], [300.0]])
    >>> task_ids = np.array(["a", "a", "b", "b"])
    >>> PerTask(StandardScaler()).fit_transform(X, task_ids=task_ids).ravel()
    array([-1.,  1., -1.,  1.])

    Through a pipeline, with the task column:

    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn_mtl import GraphMultiTaskRegressor
    >>> from sklearn_mtl.datasets import make_multitask_regression
    >>> X, y, task_ids = make_multitask_regression(n_tasks=3, random_state=0)
    >>> Xt = np.column_stack([X, task_ids])
    >>> pipe = make_pipeline(PerTask(StandardScaler(), task_column=-1),
    ...                      GraphMultiTaskRegressor(task_column=-1)).fit(Xt, y)
    >>> pipe.predict(Xt[:2]).shape
    (2,)
    """

    __metadata_request__fit = {"task_ids": True}
    __metadata_request__transform = {"task_ids": True}
    __metadata_request__inverse_transform = {"task_ids": True}

    _parameter_constraints = {
        "transformer": [HasMethods(["fit", "transform"]), None],
        "task_column": [None, Integral, str],
        "n_jobs": [None, Integral],
    }

    def __init__(self, transformer=None, *, task_column=None, n_jobs=None):
        self.transformer = transformer
        self.task_column = task_column
        self.n_jobs = n_jobs

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        inner = self._transformer().__sklearn_tags__()
        tags.input_tags.sparse = inner.input_tags.sparse
        tags.input_tags.allow_nan = inner.input_tags.allow_nan
        tags.input_tags.string = inner.input_tags.string
        tags.input_tags.categorical = inner.input_tags.categorical
        if tags.transformer_tags is not None and inner.transformer_tags is not None:
            tags.transformer_tags.preserves_dtype = (
                inner.transformer_tags.preserves_dtype
            )
        return tags

    def _transformer(self):
        return StandardScaler() if self.transformer is None else self.transformer

    def _array_params(self):
        # The clones validate X themselves; here X is only split into rows, so
        # its dtype is kept and NaN passes when the transformer accepts it.
        allow_nan = self._transformer().__sklearn_tags__().input_tags.allow_nan
        return {
            "dtype": None,
            "accept_sparse": ["csr", "csc"],
            "ensure_all_finite": "allow-nan" if allow_nan else True,
        }

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y=None, task_ids=None):
        """Fit one clone of ``transformer`` per task.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training samples (with the task column when ``task_column`` is
            set).
        y : array-like of shape (n_samples,) or (n_samples, n_tasks), default=None
            Targets, passed to each clone's ``fit`` for its task's samples
            (whole, when there are no task labels).
        task_ids : array-like of shape (n_samples,), default=None
            Task label of each sample.

        Returns
        -------
        self : object
            Fitted transformer.
        """
        self._fit(X, y, task_ids, transform=False)
        return self

    @_fit_context(prefer_skip_nested_validation=False)
    def fit_transform(self, X, y=None, task_ids=None):
        """Fit one clone per task and transform each task's samples.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training samples.
        y : array-like of shape (n_samples,) or (n_samples, n_tasks), default=None
            Targets, passed to each clone's ``fit_transform``.
        task_ids : array-like of shape (n_samples,), default=None
            Task label of each sample.

        Returns
        -------
        X_new : ndarray, sparse matrix or DataFrame of shape (n_samples, n_out)
            Transformed samples, task column passed through when set.
        """
        return self._fit(X, y, task_ids, transform=True)

    def _fit(self, X, y, task_ids, transform):
        _task_column_of(self, task_ids)
        features, labels = _validate_features(
            self,
            X,
            reset=True,
            task_column=self.task_column,
            array_params=self._array_params(),
        )
        n_samples = features.shape[0]
        if task_ids is not None:
            labels = _as_labels(task_ids, n_samples)
        if y is not None:
            y = y.to_numpy() if hasattr(y, "to_numpy") else np.asarray(y)
            if y.shape[0] != n_samples:
                raise ValueError(
                    f"y has {y.shape[0]} samples but X has {n_samples}; they must "
                    "match."
                )
        if labels is None:
            self.tasks_, rows = np.array([0]), [np.arange(n_samples)]
            parts = [(features, y)]
        else:
            self.tasks_, rows = task_rows(labels)
            _check_task_sizes(self.tasks_, rows)
            parts = [(features[r], None if y is None else y[r]) for r in rows]
        self.task_format_ = "long"
        results = Parallel(n_jobs=self.n_jobs)(
            delayed(_fit_one)(clone(self._transformer()), task, X_t, y_t, transform)
            for task, (X_t, y_t) in zip(self.tasks_.tolist(), parts)
        )
        self.transformers_ = [fitted for fitted, _ in results]
        if not transform:
            return None
        out = self._assemble([Xt for _, Xt in results], rows, n_samples)
        return self._with_task_column(X, out, labels)

    def transform(self, X, task_ids=None):
        """Transform each sample with the clone fitted on its task.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples (with the task column when ``task_column`` is set).
        task_ids : array-like of shape (n_samples,), default=None
            Task label of each sample; not needed after a fit without labels.

        Returns
        -------
        X_new : ndarray, sparse matrix or DataFrame of shape (n_samples, n_out)
            Transformed samples, task column passed through when set.

        Raises
        ------
        ValueError
            If a sample's task was not seen in fit (the message names it), or
            labels are missing after a fit on several tasks.
        """
        data = check_predict_data(self, X, task_ids, array_params=self._array_params())
        present, rows = task_rows(data.task_index)
        pieces = [
            self.transformers_[t].transform(data.X[r]) for t, r in zip(present, rows)
        ]
        out = self._assemble(pieces, rows, data.X.shape[0], present)
        labels = None
        if self.task_column is not None:
            labels = self.tasks_[data.task_index]
        return self._with_task_column(X, out, labels)

    def _assemble(self, pieces, rows, n_samples, task_positions=None):
        """Put each task's transformed rows back in the order of X."""
        widths = {piece.shape[1] for piece in pieces}
        if len(widths) > 1:
            positions = range(len(pieces)) if task_positions is None else task_positions
            by_task = {
                self.tasks_.tolist()[t]: piece.shape[1]
                for t, piece in zip(positions, pieces)
            }
            raise ValueError(
                f"The per-task {type(self._transformer()).__name__} clones give "
                f"different numbers of output features by task: {by_task}. Fix the "
                "output size (e.g. PCA(n_components=k) with k at most every "
                "task's sample count)."
            )
        order = np.concatenate(rows)
        inverse = np.empty(n_samples, dtype=np.intp)
        inverse[order] = np.arange(n_samples)
        if any(sp.issparse(piece) for piece in pieces):
            return sp.vstack(pieces, format="csr")[inverse]
        return np.concatenate([np.asarray(piece) for piece in pieces])[inverse]

    def _output_position(self, width):
        n_columns = self.n_features_in_
        if isinstance(self.task_column, str):
            position = list(self.feature_names_in_).index(self.task_column)
            return min(position, width)
        position = _column_position(self.task_column, n_columns)
        if self.task_column < 0:
            return max(width + 1 + self.task_column, 0)
        return min(position, width)

    def _with_task_column(self, X, out, labels):
        """Put the task column back in place, as the downstream step expects."""
        if self.task_column is None:
            return out
        position = self._output_position(out.shape[1])
        if _is_dataframe(X):
            import pandas as pd

            names = list(self._feature_names_out_without_column(out.shape[1]))
            frame = pd.DataFrame(
                out.toarray() if sp.issparse(out) else out, columns=names, index=X.index
            )
            column_name = self._column_name()
            frame.insert(position, column_name, labels)
            return frame
        if sp.issparse(out):
            if labels.dtype.kind not in "iufb":
                raise ValueError(
                    "A sparse X can carry only numeric task labels in its task "
                    f"column, got dtype {labels.dtype}."
                )
            out = out.tocsc()
            column = sp.csc_matrix(labels.astype(np.float64)[:, None])
            return sp.hstack(
                [out[:, :position], column, out[:, position:]], format="csr"
            )
        dtype = object if labels.dtype.kind in "USO" else np.result_type(out, labels)
        return np.concatenate(
            [
                out[:, :position].astype(dtype),
                labels[:, None].astype(dtype),
                out[:, position:].astype(dtype),
            ],
            axis=1,
        )

    def _column_name(self):
        if isinstance(self.task_column, str):
            return self.task_column
        if hasattr(self, "feature_names_in_"):
            return self.feature_names_in_[
                _column_position(self.task_column, self.n_features_in_)
            ]
        return "task"

    def _input_names_without_column(self):
        if hasattr(self, "feature_names_in_"):
            names = np.asarray(self.feature_names_in_, dtype=object)
        else:
            names = np.array(
                [f"x{i}" for i in range(self.n_features_in_)], dtype=object
            )
        if self.task_column is None:
            return names
        if isinstance(self.task_column, str):
            position = list(names).index(self.task_column)
        else:
            position = _column_position(self.task_column, self.n_features_in_)
        return np.delete(names, position)

    def _feature_names_out_without_column(self, width):
        inner = self.transformers_[0]
        if hasattr(inner, "get_feature_names_out"):
            return np.asarray(
                inner.get_feature_names_out(self._input_names_without_column()),
                dtype=object,
            )
        return np.array([f"x{i}" for i in range(width)], dtype=object)

    @available_if(_transformer_has("get_feature_names_out"))
    def get_feature_names_out(self, input_features=None):
        """Output feature names: the transformer's, task column in place.

        Parameters
        ----------
        input_features : array-like of str, default=None
            Input names, task column included; checked against
            ``feature_names_in_`` when set.

        Returns
        -------
        feature_names_out : ndarray of str objects
        """
        check_is_fitted(self, "transformers_")
        if input_features is not None:
            input_features = np.asarray(input_features, dtype=object)
            if input_features.shape[0] != self.n_features_in_:
                raise ValueError(
                    f"input_features has {input_features.shape[0]} names but X had "
                    f"{self.n_features_in_} columns in fit."
                )
            if hasattr(self, "feature_names_in_") and not np.array_equal(
                input_features, self.feature_names_in_
            ):
                raise ValueError("input_features is not equal to feature_names_in_.")
        names = self._feature_names_out_without_column(None)
        if self.task_column is None:
            return names
        position = self._output_position(names.shape[0])
        return np.insert(names, position, self._column_name()).astype(object)

    @available_if(_transformer_has("inverse_transform"))
    def inverse_transform(self, X, task_ids=None):
        """Undo each task's transformation (without a task column).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_out)
            Transformed samples, without a task column.
        task_ids : array-like of shape (n_samples,), default=None
            Task label of each sample; not needed after a fit without labels.

        Returns
        -------
        X_original : ndarray of shape (n_samples, n_features)
        """
        check_is_fitted(self, "transformers_")
        X = np.asarray(X)
        if task_ids is None:
            if len(self.tasks_) > 1:
                raise ValueError(
                    f"PerTask was fitted on {len(self.tasks_)} tasks; pass task_ids "
                    "to say which task each sample belongs to."
                )
            return self.transformers_[0].inverse_transform(X)
        index = _labels_to_index(_as_labels(task_ids, X.shape[0]), self.tasks_)
        present, rows = task_rows(index)
        pieces = [
            self.transformers_[t].inverse_transform(X[r]) for t, r in zip(present, rows)
        ]
        return self._assemble(pieces, rows, X.shape[0], present)
