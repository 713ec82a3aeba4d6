"""Shared pieces of the linear meta-learners (learned prior, common mean).

The regressor and logistic bases (prediction, one-vs-rest packing, the
fit / adapt loop of the logistic models) and the docstring fragments every
linear meta-learner repeats.
"""

import warnings

import numpy as np
from scipy.special import expit
from sklearn.base import BaseEstimator, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.validation import check_is_fitted

from .._base import MultiTaskClassifierMixin, MultiTaskRegressorMixin
from .._tasks import check_fit_data, check_predict_data, proba_output
from ._base import MetaLearnerMixin
from ._gaussian import LogisticRows, logistic_map

_ADAPT_DOC = """
    After ``fit``, :meth:`adapt` learns new tasks from a few labelled samples
    each (task labels through ``task_ids`` or ``task_column``) without
    changing anything meta-learned; ``predict`` / ``score`` then serve the
    fitted and the adapted tasks alike."""

_TASK_COLUMN_DOC = """
    task_column : int or str, default=None
        Column of ``X`` holding each sample's task label, removed from the
        features (for ``GridSearchCV`` and scorers, which route no task labels).
        None: tasks come from ``task_ids`` or a 2-D ``y``."""

_META_ATTRS_DOC = """
    tasks_ : ndarray of shape (n_tasks,)
        Sorted labels of every served task: the fitted ones, then (after
        :meth:`adapt`) the adapted ones too.
    meta_tasks_ : ndarray of shape (n_meta_tasks,)
        The tasks seen in ``fit``.
    adapted_tasks_ : ndarray of shape (n_adapted,)
        Tasks learned by :meth:`adapt`, sorted.
    adapted_coef_, adapted_intercept_ : ndarray
        Their models, shaped as ``coef_`` / ``intercept_`` with
        ``n_adapted`` rows.
    task_format_ : {"long", "wide"}
        How tasks were given in fit.
    n_features_in_ : int
        Number of columns of ``X`` in fit, task column included.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Column names of ``X`` in fit, when it had string column names."""


def _warn_if_em_unfinished(estimator, n_iter):
    if n_iter >= estimator.max_iter and estimator.tol > 0:
        warnings.warn(
            f"{type(estimator).__name__}: EM stopped at max_iter="
            f"{estimator.max_iter} before reaching tol={estimator.tol}; increase "
            "max_iter (the prior may still be moving).",
            ConvergenceWarning,
            stacklevel=3,
        )


class _LinearRegressorMeta(MetaLearnerMixin, MultiTaskRegressorMixin, BaseEstimator):
    _is_classifier_meta = False

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    def predict(self, X, task_ids=None):
        """Predict each sample with its task's model (fitted or adapted).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.
        task_ids : array-like of shape (n_samples,), default=None
            Task of each sample; not needed after a wide or single-task fit.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_tasks)
            One prediction per sample (long) or per sample and task (wide).
        """
        check_is_fitted(self)
        data = check_predict_data(self, X, task_ids)
        return data.to_output(self._linear_scores(data))


class _LogisticMeta(MetaLearnerMixin, MultiTaskClassifierMixin, BaseEstimator):
    """Binary tasks, or one-vs-rest binary problems for more classes."""

    _is_classifier_meta = True

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    def _binary_targets(self, y):
        """0/1 targets of each one-vs-rest problem, shape (n_outputs, n_rows)."""
        if len(self.classes_) == 2:
            return (y == self.classes_[1])[None].astype(np.float64)
        return (y[None] == self.classes_[:, None]).astype(np.float64)

    def _pack(self, thetas):
        """(n_outputs, T, d+1) parameters -> ``coef``, ``intercept`` arrays."""
        coef, intercept = thetas[..., :-1], thetas[..., -1]
        if coef.shape[0] == 1:
            return coef[0], intercept[0]
        return np.swapaxes(coef, 0, 1), intercept.T

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, task_ids=None):
        """Meta-learn from the training tasks.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,) or (n_samples, n_tasks)
            Class labels; a 2-D ``y`` without ``task_ids`` is one task per column.
        task_ids : array-like of shape (n_samples,), default=None
            Task label of each sample.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        data = check_fit_data(
            self, X, y, task_ids, classifier=True, per_task_classes=False
        )
        self.classes_ = np.unique(data.y)
        thetas = []
        priors = []
        for target in self._binary_targets(data.y):
            rows = LogisticRows(data, target)
            prior = self._fit_prior(rows)
            theta, _ = logistic_map(
                rows,
                prior[0],
                prior[1],
                np.zeros((data.n_tasks, rows.Xa.shape[1])),
                tol=1e-8,
            )
            priors.append(prior)
            thetas.append(theta)
        self._priors = priors
        self._store_prior(priors)
        self._start_meta_state(*self._pack(np.stack(thetas)))
        return self

    def _adapt_tasks(self, data):
        # data.y holds positions in classes_ (see _encode_support_labels).
        y = self.classes_[data.y.astype(np.intp)]
        thetas = []
        for target, (mean, precision) in zip(self._binary_targets(y), self._priors):
            rows = LogisticRows(data, target)
            init = np.tile(mean, (data.n_tasks, 1))
            thetas.append(logistic_map(rows, mean, precision, init, tol=1e-8)[0])
        return self._pack(np.stack(thetas))

    def _scores(self, X, task_ids):
        check_is_fitted(self)
        data = check_predict_data(self, X, task_ids)
        return data, self._linear_scores(data)

    def decision_function(self, X, task_ids=None):
        """Linear scores under each sample's task model.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.
        task_ids : array-like of shape (n_samples,), default=None
            Task of each sample.

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            Score of ``classes_[1]`` (binary) or one-vs-rest score of each
            class; a task axis follows the sample axis after a wide fit.
        """
        data, scores = self._scores(X, task_ids)
        return data.to_output(scores)

    def predict_proba(self, X, task_ids=None):
        """Class probabilities, columns in the order of ``classes_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.
        task_ids : array-like of shape (n_samples,), default=None
            Task of each sample.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            The sigmoid (binary) or normalized one-vs-rest sigmoids; after a
            wide fit, as :func:`sklearn_mtl._tasks.proba_output` arranges it.
        """
        data, scores = self._scores(X, task_ids)
        positive = expit(scores)
        if scores.ndim == 1:
            proba = np.column_stack([1.0 - positive, positive])
        else:
            proba = positive / positive.sum(axis=1, keepdims=True)
        return proba_output(data.to_output(proba))

    def predict(self, X, task_ids=None):
        """Most probable class of each sample under its task's model.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.
        task_ids : array-like of shape (n_samples,), default=None
            Task of each sample.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_tasks)
        """
        data, scores = self._scores(X, task_ids)
        labels = (
            self.classes_[(scores > 0).astype(int)]
            if scores.ndim == 1
            else self.classes_[np.argmax(scores, axis=1)]
        )
        return data.to_output(labels)
