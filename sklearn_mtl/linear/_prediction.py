"""Prediction from per-task linear models, shared by the graph and structured families.

Both fit ``coef_`` (T, d) or (T, n_classes, d) and ``intercept_`` per task; these
mixins turn them into predictions in the caller's task layout.
"""

import numpy as np
from scipy.special import expit, softmax
from sklearn.utils.validation import check_is_fitted

from .._tasks import check_predict_data, proba_output

__all__ = ["ARRAY_PARAMS", "LinearTaskClassifierMixin", "LinearTaskRegressorMixin"]

# scipy.sparse X is used as it is (never densified), in rows.
ARRAY_PARAMS = {"accept_sparse": ("csr", "csc")}


class _LinearTaskScores:
    def _linear_scores(self, data):
        """``x @ w_t + b_t`` for every row, shape (n_rows,) or (n_rows, n_classes)."""
        out = np.empty((data.n_rows,) + self.coef_.shape[1:-1])
        for t, rows in enumerate(data.rows_of_tasks()):
            if rows.size:
                out[rows] = (
                    data.features_of(rows) @ self.coef_[t].T + self.intercept_[t]
                )
        return out


class LinearTaskRegressorMixin(_LinearTaskScores):
    def _packed_params(self):
        return self.coef_

    def predict(self, X, task_ids=None):
        """Predict each sample with its task's linear model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.
        task_ids : array-like of shape (n_samples,), default=None
            Task of each sample; not needed after a wide or single-task fit.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_tasks)
            One prediction per sample (long format) or per sample and task
            (wide format).
        """
        check_is_fitted(self)
        data = check_predict_data(self, X, task_ids, array_params=ARRAY_PARAMS)
        return data.to_output(self._linear_scores(data))


class LinearTaskClassifierMixin(_LinearTaskScores):
    def _packed_params(self):
        if self.coef_.ndim == 2:
            return np.concatenate([self.coef_, self.intercept_[:, None]], axis=1)[
                ..., None
            ]
        coef = np.swapaxes(self.coef_, 1, 2)
        return np.concatenate([coef, self.intercept_[:, None, :]], axis=1)

    def _scores(self, X, task_ids):
        check_is_fitted(self)
        data = check_predict_data(self, X, task_ids, array_params=ARRAY_PARAMS)
        scores = self._linear_scores(data)
        if scores.ndim == 2:
            scores = np.where(self.task_class_mask_[data.task_index], scores, -np.inf)
        return data, scores

    def decision_function(self, X, task_ids=None):
        """Linear scores of each sample under its task's model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.
        task_ids : array-like of shape (n_samples,), default=None
            Task of each sample.

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            Score of ``classes_[1]`` (binary) or of each class, ``-inf`` for
            classes the task never saw; a task axis follows the sample axis
            after a wide-format fit.
        """
        data, scores = self._scores(X, task_ids)
        return data.to_output(scores)

    def predict_proba(self, X, task_ids=None):
        """Class probabilities, columns in the order of ``classes_``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.
        task_ids : array-like of shape (n_samples,), default=None
            Task of each sample.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            After a wide-format fit: (n_samples, n_tasks), the probability of
            ``classes_[1]`` in each task, when there are two classes; a list
            of n_tasks (n_samples, n_classes) arrays otherwise.
        """
        data, scores = self._scores(X, task_ids)
        if scores.ndim == 1:
            positive = expit(scores)
            proba = np.column_stack([1.0 - positive, positive])
        else:
            proba = softmax(scores, axis=1)
        proba = data.to_output(proba)
        return proba_output(proba)

    def predict_log_proba(self, X, task_ids=None):
        """Logarithm of :meth:`predict_proba`.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.
        task_ids : array-like of shape (n_samples,), default=None
            Task of each sample.

        Returns
        -------
        log_proba : ndarray or list of ndarrays, as :meth:`predict_proba`
        """
        proba = self.predict_proba(X, task_ids)
        with np.errstate(divide="ignore"):
            if isinstance(proba, list):
                return [np.log(p) for p in proba]
            return np.log(proba)

    def predict(self, X, task_ids=None):
        """Most probable class of each sample under its task's model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
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
