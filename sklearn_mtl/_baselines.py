"""Classical baselines: one model per task, and one model for all tasks."""

from numbers import Integral

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator, MetaEstimatorMixin, _fit_context, clone
from sklearn.metrics import accuracy_score, r2_score
from sklearn.utils._param_validation import HasMethods
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted, has_fit_parameter

from ._base import MultiTaskMixin, _score_by_layout
from ._tasks import check_fit_data, check_predict_data, proba_output

__all__ = ["IndependentTasks", "PooledTasks"]


def _is_classifier(estimator):
    from sklearn.utils import get_tags

    return get_tags(estimator).estimator_type == "classifier"


def _inner_has(method):
    def check(self):
        fitted = getattr(self, "estimators_", None) or [
            getattr(self, "estimator_", None)
        ]
        if fitted[0] is not None:
            return all(hasattr(est, method) for est in fitted)
        return hasattr(self.estimator, method)

    return check


# scipy.sparse X goes to the wrapped estimator as it is (CSR or CSC; any other
# format becomes CSR, which the per-task row selection reads fast).
_ARRAY_PARAMS = {"accept_sparse": ["csr", "csc"]}


def _fit_one(estimator, X, y, sample_weight):
    if sample_weight is None:
        return estimator.fit(X, y)
    return estimator.fit(X, y, sample_weight=sample_weight)


class _TaskMetaEstimator(MultiTaskMixin, MetaEstimatorMixin, BaseEstimator):
    """Shared plumbing: the wrapped estimator's type decides tags and score."""

    _parameter_constraints = {
        "estimator": [HasMethods(["fit", "predict"])],
        "task_column": [None, Integral, str],
    }

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        inner = self.estimator.__sklearn_tags__()
        tags.estimator_type = inner.estimator_type
        tags.classifier_tags = inner.classifier_tags
        tags.regressor_tags = inner.regressor_tags
        # X reaches the wrapped estimator as given, so it decides about sparse X.
        tags.input_tags.sparse = inner.input_tags.sparse
        tags.input_tags.allow_nan = False
        tags.target_tags.multi_output = True
        return tags

    def _check_weights_supported(self, sample_weight):
        if sample_weight is not None and not has_fit_parameter(
            self.estimator, "sample_weight"
        ):
            raise ValueError(
                f"sample_weight was given but the estimator "
                f"{type(self.estimator).__name__} does not accept sample_weight in fit."
            )

    def score(self, X, y, task_ids=None, sample_weight=None):
        """Accuracy (classifiers) or R² (regressors); see the mixins' ``score``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Test samples.
        y : array-like of shape (n_samples,) or (n_samples, n_tasks)
            True targets.
        task_ids : array-like of shape (n_samples,), default=None
            Task of each sample (long format).
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.

        Returns
        -------
        score : float
        """
        metric = accuracy_score if _is_classifier(self.estimator) else r2_score
        y_pred = self.predict(X, task_ids=task_ids)
        return _score_by_layout(metric, y, y_pred, sample_weight)


class IndependentTasks(_TaskMetaEstimator):
    """Single-task learning: one clone of ``estimator`` fitted per task.

    The yardstick every multi-task model must beat when tasks differ. Follows
    the package's task convention (``task_ids``, ``task_column`` or a wide
    2-D ``y``).

    ``X`` may be a scipy.sparse matrix when ``estimator`` accepts one.

    Parameters
    ----------
    estimator : estimator object
        Regressor or classifier cloned for every task.
    task_column : int or str, default=None
        Column of ``X`` holding each sample's task label (removed from the
        features). None: tasks come from ``task_ids`` or a 2-D ``y``.
    n_jobs : int, default=None
        Tasks fitted in parallel with joblib; None means 1, -1 all cores.

    Attributes
    ----------
    estimators_ : list of estimators
        Fitted clone for each task, in the order of ``tasks_``.
    tasks_ : ndarray of shape (n_tasks,)
        Sorted task labels seen in fit (``0..T-1`` for a wide ``y``).
    task_format_ : {"long", "wide"}
        How tasks were given in fit.
    classes_ : ndarray of shape (n_classes,)
        Union of the tasks' class labels (classifiers only).
    n_features_in_ : int
        Number of columns of ``X`` in fit, task column included.

    Examples
    --------
    >>> from sklearn.linear_model import Ridge
    >>> from sklearn_mtl import IndependentTasks
    >>> from sklearn_mtl.datasets import make_multitask_regression
    >>> X, y, task_ids = make_multitask_regression(n_tasks=3, random_state=0)
    >>> model = IndependentTasks(Ridge()).fit(X, y, task_ids=task_ids)
    >>> model.predict(X[:2], task_ids=task_ids[:2]).shape
    (2,)
    """

    _parameter_constraints = {
        **_TaskMetaEstimator._parameter_constraints,
        "n_jobs": [None, Integral],
    }

    def __init__(self, estimator, *, task_column=None, n_jobs=None):
        self.estimator = estimator
        self.task_column = task_column
        self.n_jobs = n_jobs

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, task_ids=None, sample_weight=None):
        """Fit one clone of ``estimator`` per task.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,) or (n_samples, n_tasks)
            Targets; a 2-D ``y`` without ``task_ids`` is one task per column
            (NaN = missing label).
        task_ids : array-like of shape (n_samples,), default=None
            Task label of each sample.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights, passed to each task's fit.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        self._check_weights_supported(sample_weight)
        classifier = _is_classifier(self.estimator)
        data = check_fit_data(
            self,
            X,
            y,
            task_ids,
            sample_weight,
            classifier=classifier,
            array_params=_ARRAY_PARAMS,
        )
        jobs = (
            delayed(_fit_one)(
                clone(self.estimator),
                data.features_of(rows),
                data.y[rows],
                None if data.sample_weight is None else data.sample_weight[rows],
            )
            for rows in data.rows_of_tasks()
        )
        self.estimators_ = Parallel(n_jobs=self.n_jobs)(jobs)
        if classifier:
            self.classes_ = np.unique(data.y)
        return self

    def _per_task(self, X, task_ids, method, n_outputs=None):
        data = check_predict_data(self, X, task_ids, array_params=_ARRAY_PARAMS)
        out = None
        for t, rows in enumerate(data.rows_of_tasks()):
            if rows.size == 0:
                continue
            values = getattr(self.estimators_[t], method)(data.features_of(rows))
            if method == "predict_proba":
                values = self._to_union_classes(values, self.estimators_[t].classes_)
            if out is None:
                out = np.zeros((data.n_rows,) + values.shape[1:], dtype=values.dtype)
            out[rows] = values
        return data.to_output(out)

    def _to_union_classes(self, proba, task_classes):
        full = np.zeros((proba.shape[0], len(self.classes_)))
        full[:, np.searchsorted(self.classes_, task_classes)] = proba
        return full

    def predict(self, X, task_ids=None):
        """Predict each sample with its task's model.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.
        task_ids : array-like of shape (n_samples,), default=None
            Task of each sample; not needed after a wide or single-task fit.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_tasks)
        """
        return self._per_task(X, task_ids, "predict")

    @available_if(_inner_has("predict_proba"))
    def predict_proba(self, X, task_ids=None):
        """Class probabilities, columns in the order of ``classes_``.

        A class never seen in a task's training data gets probability 0 there.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
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
        proba = self._per_task(X, task_ids, "predict_proba")
        return proba_output(proba)

    @available_if(_inner_has("decision_function"))
    def decision_function(self, X, task_ids=None):
        """Decision function of each sample's task model.

        Requires every task to have seen all of ``classes_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.
        task_ids : array-like of shape (n_samples,), default=None
            Task of each sample.

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes), with
            a task axis after a wide-format fit
        """
        check_is_fitted(self)
        for task, est in zip(self.tasks_, self.estimators_):
            if len(est.classes_) != len(self.classes_):
                raise ValueError(
                    f"Task {task!r} was fitted on classes {est.classes_.tolist()}, not "
                    f"all of {self.classes_.tolist()}; decision values are not "
                    "comparable across tasks. Use predict_proba instead."
                )
        return self._per_task(X, task_ids, "decision_function")


class PooledTasks(_TaskMetaEstimator):
    """One model for all tasks, ignoring which task a sample comes from.

    The yardstick every multi-task model must beat when tasks are alike. Takes
    the same task convention as every estimator here; task labels only shape
    the output (and tasks unseen in fit are welcome at predict).

    ``X`` may be a scipy.sparse matrix when ``estimator`` accepts one.

    Parameters
    ----------
    estimator : estimator object
        Regressor or classifier fitted once on all tasks' samples.
    task_column : int or str, default=None
        Column of ``X`` holding the task label; dropped before fitting.

    Attributes
    ----------
    estimator_ : estimator
        The fitted clone.
    tasks_ : ndarray of shape (n_tasks,)
        Sorted task labels seen in fit.
    task_format_ : {"long", "wide"}
        How tasks were given in fit.
    classes_ : ndarray of shape (n_classes,)
        Class labels (classifiers only).
    n_features_in_ : int
        Number of columns of ``X`` in fit, task column included.

    Examples
    --------
    >>> from sklearn.linear_model import Ridge
    >>> from sklearn_mtl import PooledTasks
    >>> from sklearn_mtl.datasets import make_multitask_regression
    >>> X, y, task_ids = make_multitask_regression(n_tasks=3, random_state=0)
    >>> model = PooledTasks(Ridge()).fit(X, y, task_ids=task_ids)
    >>> model.predict(X[:2], task_ids=["a new task", "another"]).shape
    (2,)
    """

    def __init__(self, estimator, *, task_column=None):
        self.estimator = estimator
        self.task_column = task_column

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, task_ids=None, sample_weight=None):
        """Fit ``estimator`` once on every task's samples.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,) or (n_samples, n_tasks)
            Targets; a 2-D ``y`` without ``task_ids`` is one task per column.
        task_ids : array-like of shape (n_samples,), default=None
            Task label of each sample.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        self._check_weights_supported(sample_weight)
        classifier = _is_classifier(self.estimator)
        data = check_fit_data(
            self,
            X,
            y,
            task_ids,
            sample_weight,
            classifier=classifier,
            min_samples_per_task=1,
            per_task_classes=False,
            array_params=_ARRAY_PARAMS,
        )
        self.estimator_ = _fit_one(
            clone(self.estimator), data.X_rows, data.y, data.sample_weight
        )
        if classifier:
            self.classes_ = self.estimator_.classes_
        return self

    def _pooled(self, X, task_ids, method):
        data = check_predict_data(
            self, X, task_ids, array_params=_ARRAY_PARAMS, allow_unknown_tasks=True
        )
        if data.wide:
            # Every task shares X and the model: predict once, repeat per task.
            values = getattr(self.estimator_, method)(data.X)
            return data.to_output(np.concatenate([values] * data.n_tasks))
        return getattr(self.estimator_, method)(data.X)

    def predict(self, X, task_ids=None):
        """Predict with the pooled model.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.
        task_ids : array-like of shape (n_samples,), default=None
            Task of each sample; any label is accepted.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_tasks)
        """
        return self._pooled(X, task_ids, "predict")

    @available_if(_inner_has("predict_proba"))
    def predict_proba(self, X, task_ids=None):
        """Class probabilities of the pooled model.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
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
        proba = self._pooled(X, task_ids, "predict_proba")
        return proba_output(proba)

    @available_if(_inner_has("decision_function"))
    def decision_function(self, X, task_ids=None):
        """Decision function of the pooled model.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.
        task_ids : array-like of shape (n_samples,), default=None
            Task of each sample.

        Returns
        -------
        scores : ndarray
        """
        return self._pooled(X, task_ids, "decision_function")
