"""Feature-based transfer as transformers usable in a Pipeline."""

from numbers import Real

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted, validate_data

from .._tasks import _as_labels

__all__ = ["FeatureAugmentation", "CORAL", "SharedRepresentation"]


class _DomainTransformer(TransformerMixin, BaseEstimator):
    """Rows whose task is ``target`` are target rows; every other row is a source.

    ``task_ids`` are required in ``fit``; in ``transform`` they are optional
    and, when absent, every row is a target row (the prediction case).
    """

    __metadata_request__fit = {"task_ids": True}
    __metadata_request__transform = {"task_ids": True}

    def fit_transform(self, X, y=None, task_ids=None):
        """Fit, then transform with the same task labels."""
        return self.fit(X, y, task_ids=task_ids).transform(X, task_ids=task_ids)

    def _target_mask(self, X, task_ids, required):
        if task_ids is None:
            if required:
                raise ValueError(
                    f"{type(self).__name__} needs task_ids in fit to tell target rows "
                    "(task == target) from source rows."
                )
            return np.ones(X.shape[0], dtype=bool)
        labels = _as_labels(task_ids, X.shape[0])
        return labels == self.target


class FeatureAugmentation(_DomainTransformer):
    """Frustratingly easy domain adaptation (Daumé III, 2007).

    Source rows become ``[x, x, 0]`` and target rows ``[x, 0, x]``: a model on
    the augmented features learns a shared part and a target-specific part.

    Parameters
    ----------
    target : object
        Task label of the target rows.

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

    def __init__(self, target=None):
        self.target = target

    def fit(self, X, y=None, task_ids=None):
        """Record the number of features (and check the target rows exist).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : ignored
        task_ids : array-like of shape (n_samples,)
            Task of each row.

        Returns
        -------
        self : object
        """
        X = validate_data(self, X)
        self._target_mask(X, task_ids, required=True)
        return self

    def transform(self, X, task_ids=None):
        """Augment: ``[x, x, 0]`` for source rows, ``[x, 0, x]`` for target rows.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        task_ids : array-like of shape (n_samples,), default=None
            Task of each row; None means every row is a target row.

        Returns
        -------
        X_augmented : ndarray of shape (n_samples, 3 * n_features)
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False)
        target = self._target_mask(X, task_ids, required=False)[:, None]
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
        Task label of the target rows.
    regularization : float, default=1.0
        Added to both covariances' diagonals (the paper's choice for
        standardized features).

    Attributes
    ----------
    transform_ : ndarray of shape (n_features, n_features)
        ``C_s^{-1/2} C_t^{1/2}``.
    source_mean_, target_mean_ : ndarray of shape (n_features,)

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

    def fit(self, X, y=None, task_ids=None):
        """Estimate both domains' means and covariances.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : ignored
        task_ids : array-like of shape (n_samples,)
            Task of each row; rows of ``target`` are the target domain.

        Returns
        -------
        self : object
        """
        X = validate_data(self, X)
        target = self._target_mask(X, task_ids, required=True)
        for name, rows in [("target", target), ("source", ~target)]:
            if rows.sum() < 2:
                raise ValueError(
                    f"CORAL needs at least 2 {name} rows, got {rows.sum()}."
                )
        self.source_mean_ = X[~target].mean(axis=0)
        self.target_mean_ = X[target].mean(axis=0)
        eye = self.regularization * np.eye(X.shape[1])
        source_cov = np.cov(X[~target].T, ddof=1).reshape(X.shape[1], -1) + eye
        target_cov = np.cov(X[target].T, ddof=1).reshape(X.shape[1], -1) + eye
        self.transform_ = _matrix_power(source_cov, -0.5) @ _matrix_power(
            target_cov, 0.5
        )
        return self

    def transform(self, X, task_ids=None):
        """Re-colour source rows; target rows unchanged.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        task_ids : array-like of shape (n_samples,), default=None
            Task of each row; None means every row is a target row.

        Returns
        -------
        X_aligned : ndarray of shape (n_samples, n_features)
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False)
        target = self._target_mask(X, task_ids, required=False)
        out = X.copy()
        source = ~target
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
    """A fitted multi-task network's shared trunk as a feature extractor.

    ``transform`` returns the network's shared representation (for hard
    sharing, the trunk output); ``fit`` fits a clone of the network unless
    ``prefit``.

    Parameters
    ----------
    network : MultiTaskRegressor or MultiTaskClassifier
        The multi-task network.
    prefit : bool, default=False
        Use ``network`` as already fitted (no fitting in ``fit``).

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

    _parameter_constraints = {"network": "no_validation", "prefit": ["boolean"]}

    def __init__(self, network, prefit=False):
        self.network = network
        self.prefit = prefit

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y=None, **fit_params):
        """Fit the network (unless prefit).

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
        y : array-like, default=None
            Targets for fitting the network.
        **fit_params : dict
            Passed to the network's fit (e.g. ``task_ids``).

        Returns
        -------
        self : object
        """
        from sklearn.base import clone

        if self.prefit:
            check_is_fitted(self.network, "net_")
            self.network_ = self.network
        else:
            self.network_ = clone(self.network).fit(X, y, **fit_params)
        return self

    def transform(self, X):
        """The shared representation of ``X`` (task-independent for hard sharing).

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)

        Returns
        -------
        features : ndarray of shape (n_samples, n_features_out)
        """
        check_is_fitted(self, "network_")
        task_ids = np.repeat(self.network_.tasks_[:1], np.shape(X)[0])
        features = self.network_.transform(X, task_ids=task_ids)
        return features
