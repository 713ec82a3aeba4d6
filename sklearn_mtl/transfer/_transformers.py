"""Feature-based transfer as transformers usable in a Pipeline."""

from numbers import Real

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval, InvalidParameterError
from sklearn.utils.validation import (
    _check_feature_names_in,
    _generate_get_feature_names_out,
    check_is_fitted,
    validate_data,
)

from .._tasks import _as_labels, _labels_to_index
from ._domains import source_class_labels, target_position

__all__ = ["FeatureAugmentation", "CORAL", "SharedRepresentation"]


class _DomainTransformer(TransformerMixin, BaseEstimator):
    """Rows whose task is ``target`` are target rows; every other row is a source.

    ``task_ids`` are required in ``fit``, where ``target`` must be one of
    them; in ``transform`` they are optional and, when absent, every row is a
    target row (the prediction case). Labels in ``transform`` must be tasks
    seen in ``fit``, so a label of another type cannot turn target rows into
    sources unnoticed.

    ``fit`` and ``transform`` live here, once: they validate, split the
    domains and hand the method its part — ``_fit_domains(X, is_target,
    source_labels)`` and ``_transform_domains(X, is_target)``.
    """

    __metadata_request__fit = {"task_ids": True}
    __metadata_request__transform = {"task_ids": True}

    # Rows each domain needs in fit (a mean and a spread need 2).
    _min_domain_rows = 2
    # Output columns: the input features (a map of each row within feature
    # space: CORAL, the OT maps) or, for a projection (SA, TCA, JDA, GFK),
    # ``_n_features_out`` new ones named after the class.
    _one_to_one_features = True
    # Whether fit reads the source rows' class labels (y is then required).
    _reads_source_classes = False

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = self._reads_source_classes
        return tags

    def get_feature_names_out(self, input_features=None):
        """Names of the output columns (so ``set_output`` works in pipelines).

        Parameters
        ----------
        input_features : array-like of str, default=None
            Input feature names; by default ``feature_names_in_`` or
            ``x0, x1, ...``.

        Returns
        -------
        feature_names_out : ndarray of str
        """
        check_is_fitted(self)
        if self._one_to_one_features:
            return _check_feature_names_in(self, input_features)
        return _generate_get_feature_names_out(
            self, self._n_features_out, input_features=input_features
        )

    # Not skipping nested validation: JDA fits a user's estimator inside.
    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y=None, task_ids=None):
        """Fit on the source rows and every target row.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Source and target rows.
        y : array-like of shape (n_samples,), default=None
            Class labels, read only by the methods that use the source
            rows' classes (``JDA``, ``ClassRegularizedOTMapping``: required
            there); the target rows' labels are never read and may be NaN or
            None. Ignored by the other methods.
        task_ids : array-like of shape (n_samples,)
            Task of each row; rows of ``target`` are the target domain.

        Returns
        -------
        self : object
            The fitted transformer.
        """
        X_given = X
        X = validate_data(self, X)
        target = self._fit_target_mask(X, task_ids)
        name = type(self).__name__
        for kind, rows in [("target", target), ("source", ~target)]:
            if rows.sum() < self._min_domain_rows:
                raise ValueError(
                    f"{name} needs at least {self._min_domain_rows} {kind} rows, "
                    f"got {rows.sum()}."
                )
        source_labels = None
        if self._reads_source_classes:
            self.classes_, source_labels = source_class_labels(
                self, X_given, y, task_ids
            )
        self._fit_domains(X, target, source_labels)
        return self

    def transform(self, X, task_ids=None):
        """Transform rows, each as its domain says (see the class description).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to transform.
        task_ids : array-like of shape (n_samples,), default=None
            Task of each row, among the tasks seen in ``fit``; None means
            every row is a target row.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_output_features)
            The transformed rows, in the order given.
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False)
        return self._transform_domains(X, self._target_mask(X, task_ids))

    def fit_transform(self, X, y=None, task_ids=None):
        """Fit, then transform with the same task labels.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Source and target rows.
        y : array-like of shape (n_samples,), default=None
            As in ``fit``.
        task_ids : array-like of shape (n_samples,)
            Task of each row; rows of ``target`` are the target domain.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_output_features)
            The transformed rows.
        """
        return self.fit(X, y, task_ids=task_ids).transform(X, task_ids=task_ids)

    def _fit_target_mask(self, X, task_ids):
        """Record ``tasks_`` and ``target_``; the target rows of ``X``."""
        name = type(self).__name__
        if task_ids is None:
            raise ValueError(
                f"{name} needs task_ids in fit to tell target rows "
                "(task == target) from source rows."
            )
        if self.target is None:
            raise ValueError(
                f"{name} needs target: the task label of the target rows "
                f"(target=None would make every row a source row)."
            )
        labels = _as_labels(task_ids, X.shape[0])
        self.tasks_ = np.unique(labels)
        position = target_position(self.tasks_, self.target, len(self.tasks_))
        self.target_ = self.tasks_[position]
        return labels == self.target_

    def _target_mask(self, X, task_ids):
        if task_ids is None:
            return np.ones(X.shape[0], dtype=bool)
        labels = _as_labels(task_ids, X.shape[0])
        position = int(np.flatnonzero(self.tasks_ == self.target_)[0])
        return _labels_to_index(labels, self.tasks_) == position


class FeatureAugmentation(_DomainTransformer):
    """Frustratingly easy domain adaptation (Daumé III, 2007).

    Source rows become ``[x, x, 0]`` and target rows ``[x, 0, x]``: a model on
    the augmented features learns a shared part and a target-specific part.

    Parameters
    ----------
    target : object
        Task label of the target rows; must be one of the labels given to
        ``fit``.

    Attributes
    ----------
    tasks_ : ndarray
        Task labels seen in ``fit`` (``transform`` accepts only these).
    target_ : object
        The target task label.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_mtl.transfer import FeatureAugmentation
    >>> X = np.array([[1.0, 2.0], [3.0, 4.0]])
    >>> FeatureAugmentation(target="t").fit_transform(X, task_ids=["s", "t"])
    array([[1., 2., 1., 2., 0., 0.],
           [3., 4., 0., 0., 3., 4.]])
    """

    _parameter_constraints = {"target": "no_validation"}
    # Fitting only records the tasks: no statistic of either domain.
    _min_domain_rows = 0

    def __init__(self, target=None):
        self.target = target

    def _fit_domains(self, X, is_target, source_labels):
        pass

    def get_feature_names_out(self, input_features=None):
        """Names of the three blocks: ``shared__f``, ``source__f``,
        ``target__f`` for each input feature ``f``.

        Parameters
        ----------
        input_features : array-like of str, default=None
            Input feature names; by default ``feature_names_in_`` or
            ``x0, x1, ...``.

        Returns
        -------
        feature_names_out : ndarray of str
        """
        check_is_fitted(self)
        names = _check_feature_names_in(self, input_features)
        return np.array(
            [
                f"{block}__{name}"
                for block in ("shared", "source", "target")
                for name in names
            ],
            dtype=object,
        )

    def _transform_domains(self, X, is_target):
        # [x, x, 0] for source rows, [x, 0, x] for target rows.
        target = is_target[:, None]
        return np.hstack([X, np.where(target, 0.0, X), np.where(target, X, 0.0)])


class CORAL(_DomainTransformer):
    """CORrelation ALignment (Sun, Feng & Saenko, 2016).

    Source rows are whitened with the source covariance and re-coloured with
    the target's: ``x -> (x - mu_s) C_s^{-1/2} C_t^{1/2} + mu_t``, where
    ``C = cov + regularization * I``. Target rows pass unchanged. With
    ``regularization=0`` the transformed sources have exactly the target
    covariance.

    Parameters
    ----------
    target : object
        Task label of the target rows; must be one of the labels given to
        ``fit``.
    regularization : float, default=1.0
        Added to both covariances' diagonals (the paper's choice for
        standardized features).

    Attributes
    ----------
    transform_ : ndarray of shape (n_features, n_features)
        ``C_s^{-1/2} C_t^{1/2}``.
    source_mean_, target_mean_ : ndarray of shape (n_features,)
    tasks_ : ndarray
        Task labels seen in ``fit`` (``transform`` accepts only these).
    target_ : object
        The target task label.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_mtl.transfer import CORAL
    >>> rng = np.random.RandomState(0)
    >>> X = np.vstack([rng.normal(size=(50, 2)), 3 * rng.normal(size=(50, 2))])
    >>> domains = np.repeat(["source", "target"], 50)
    >>> coral = CORAL(target="target", regularization=0.0).fit(X, task_ids=domains)
    >>> aligned = coral.transform(X[:50], task_ids=domains[:50])
    >>> np.allclose(np.cov(aligned.T), np.cov(X[50:].T))
    True
    """

    _parameter_constraints = {
        "target": "no_validation",
        "regularization": [Interval(Real, 0, None, closed="left")],
    }

    def __init__(self, target=None, regularization=1.0):
        self.target = target
        self.regularization = regularization

    def _fit_domains(self, X, is_target, source_labels):
        self.source_mean_ = X[~is_target].mean(axis=0)
        self.target_mean_ = X[is_target].mean(axis=0)
        eye = self.regularization * np.eye(X.shape[1])
        source_cov = np.cov(X[~is_target].T, ddof=1).reshape(X.shape[1], -1) + eye
        target_cov = np.cov(X[is_target].T, ddof=1).reshape(X.shape[1], -1) + eye
        self.transform_ = _matrix_power(source_cov, -0.5) @ _matrix_power(
            target_cov, 0.5
        )

    def _transform_domains(self, X, is_target):
        # Source rows re-coloured; target rows unchanged.
        out = X.copy()
        source = ~is_target
        out[source] = (
            X[source] - self.source_mean_
        ) @ self.transform_ + self.target_mean_
        return out


def _matrix_power(matrix, power):
    values, vectors = np.linalg.eigh(matrix)
    floor = max(values.max(), 0.0) * 1e-12
    values = np.clip(values, floor if floor > 0 else 1e-300, None)
    return (vectors * values**power) @ vectors.T


class SharedRepresentation(TransformerMixin, BaseEstimator):
    """A fitted multi-task network's shared representation as a feature extractor.

    ``transform`` returns the representation the network's task heads read:
    for hard sharing the trunk output (the same for every task); for MMoE the
    mixture of experts under the row's own task's gate; for cross-stitch the
    row's task's tower. ``fit`` fits a clone of the network unless ``prefit``.

    Which task a row's representation is taken for: its label in
    ``task_ids`` when given (or the network's ``task_column``), else ``task``,
    else — only where the representation does not depend on the task (hard
    sharing, or a single task) — any task. A task-dependent network without
    any of these raises rather than guessing.

    Parameters
    ----------
    network : MultiTaskRegressor or MultiTaskClassifier
        The multi-task network.
    prefit : bool, default=False
        Use ``network`` as already fitted (no fitting in ``fit``).
    task : object, default=None
        Task whose representation serves rows given without task labels
        (e.g. the target task of a transfer pipeline).

    Attributes
    ----------
    network_ : estimator
        The fitted network.

    Examples
    --------
    >>> from sklearn.linear_model import Ridge
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn_mtl import MultiTaskRegressor
    >>> from sklearn_mtl.datasets import make_multitask_regression
    >>> from sklearn_mtl.transfer import SharedRepresentation
    >>> X, y, task_ids = make_multitask_regression(n_tasks=3, random_state=0)
    >>> network = MultiTaskRegressor(max_epochs=20, random_state=0)
    >>> network = network.fit(X, y, task_ids=task_ids)
    >>> features = SharedRepresentation(network, prefit=True).fit(X).transform(X)
    >>> features.shape
    (120, 64)
    """

    _parameter_constraints = {
        "network": "no_validation",  # checked in fit, with a message naming it
        "prefit": ["boolean"],
        "task": "no_validation",
    }
    __metadata_request__transform = {"task_ids": True}

    def __init__(self, network, prefit=False, task=None):
        self.network = network
        self.prefit = prefit
        self.task = task

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y=None, **fit_params):
        """Fit the network (unless prefit).

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Training rows of the network.
        y : array-like, default=None
            Targets for fitting the network.
        **fit_params : dict
            Passed to the network's fit (e.g. ``task_ids``).

        Returns
        -------
        self : object
        """
        from sklearn.base import clone

        from ..neural import MultiTaskClassifier, MultiTaskRegressor

        if not isinstance(self.network, (MultiTaskRegressor, MultiTaskClassifier)):
            raise InvalidParameterError(
                "SharedRepresentation needs network to be a multi-task network "
                "(MultiTaskRegressor or MultiTaskClassifier) whose shared "
                f"representation it returns; got {type(self.network).__name__} "
                f"({self.network!r})."
            )
        if self.prefit:
            check_is_fitted(self.network, "net_")
            self.network_ = self.network
        else:
            self.network_ = clone(self.network).fit(X, y, **fit_params)
        if self.task is not None:
            tasks = self.network_.tasks_
            target_position(tasks, self.task, len(tasks), name="task")
        return self

    def fit_transform(self, X, y=None, **fit_params):
        """Fit, then transform with the same task labels.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Training rows of the network.
        y : array-like, default=None
            Targets for fitting the network.
        **fit_params : dict
            Passed to the network's fit; ``task_ids`` also to ``transform``.

        Returns
        -------
        features : ndarray of shape (n_samples, n_features_out)
        """
        task_ids = fit_params.get("task_ids")
        return self.fit(X, y, **fit_params).transform(X, task_ids=task_ids)

    def transform(self, X, task_ids=None):
        """The shared representation of ``X``, each row under its own task.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Rows to transform.
        task_ids : array-like of shape (n_samples,), default=None
            Task of each row (its MMoE gate or cross-stitch tower). None: the
            network's ``task_column``, else ``task``, else — for a
            representation shared by all tasks — any task.

        Returns
        -------
        features : ndarray of shape (n_samples, n_features_out)
        """
        check_is_fitted(self, "network_")
        network = self.network_
        if task_ids is None and getattr(network, "task_column", None) is None:
            tasks = network.tasks_
            if self.task is not None:
                position = target_position(tasks, self.task, len(tasks), name="task")
            elif len(tasks) == 1 or getattr(network, "architecture", "hard") == "hard":
                position = 0  # hard sharing: every task reads the same trunk output
            else:
                raise ValueError(
                    f"The network (architecture={network.architecture!r}) has one "
                    f"representation per task and {len(tasks)} tasks; pass task_ids "
                    "to transform (each row then uses its own task's "
                    "representation) or set task= to the task to represent."
                )
            task_ids = np.repeat(tasks[position : position + 1], np.shape(X)[0])
        return network.transform(X, task_ids=task_ids)
