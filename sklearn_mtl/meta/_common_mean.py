"""Learned-common-mean ridge (bias regularization), regression and logistic.

The simple special case of the learned prior: every task is pulled toward a
learned common model by an isotropic penalty of fixed strength ``alpha``.
"""

from numbers import Integral, Real

import numpy as np
from sklearn.base import _fit_context
from sklearn.utils._param_validation import Interval

from .._tasks import check_fit_data
from ._gaussian import common_mean, logistic_map, posterior_mean_intercept, task_stats
from ._linear_meta import (
    _ADAPT_DOC,
    _META_ATTRS_DOC,
    _TASK_COLUMN_DOC,
    _LinearRegressorMeta,
    _LogisticMeta,
)

__all__ = ["CommonMeanRidge", "CommonMeanRidgeClassifier"]


class CommonMeanRidge(_LinearRegressorMeta):
    __doc__ = f"""Ridge toward a learned common model (bias regularization).

    Each task's model is ``w_t = mu + v_t``; ``fit`` minimizes::

        sum_t ||y_t - X_t (mu + v_t) - b_t||^2 + alpha sum_t ||v_t||^2
            + alpha_mean ||mu||^2

    over ``mu``, the ``v_t`` and the unpenalized intercepts ``b_t``, in closed
    form (``mu`` solves a ``d x d`` system built from per-task ridge
    solves). This is :class:`LearnedPriorRegressor` with an isotropic prior of
    fixed ratio ``alpha = sigma2 / s2`` and ``mu`` learned. A new task (adapt)
    is ridge toward ``mu``: ``Ridge(alpha)`` on ``y - X mu``, plus ``mu``.
{_ADAPT_DOC}

    Parameters
    ----------
    alpha : float, default=1.0
        Pull of every task toward the common model.
    alpha_mean : float, default=0.0
        Ridge penalty on the common model itself.{_TASK_COLUMN_DOC}

    Attributes
    ----------
    coef_ : ndarray of shape (n_meta_tasks, n_features)
        ``mu + v_t`` for the tasks seen in fit.
    intercept_ : ndarray of shape (n_meta_tasks,)
        Their intercepts.
    common_coef_ : ndarray of shape (n_features,)
        ``mu``.{_META_ATTRS_DOC}

    See Also
    --------
    LearnedPriorRegressor : Learns the prior's covariance and strength too.
    """

    _parameter_constraints = {
        "alpha": [Interval(Real, 0, None, closed="neither")],
        "alpha_mean": [Interval(Real, 0, None, closed="left")],
        "task_column": [None, Integral, str],
    }

    def __init__(self, *, alpha=1.0, alpha_mean=0.0, task_column=None):
        self.alpha = alpha
        self.alpha_mean = alpha_mean
        self.task_column = task_column

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, task_ids=None):
        """Learn the common model and every training task's model.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,) or (n_samples, n_tasks)
            Targets; a 2-D ``y`` without ``task_ids`` is one task per column.
        task_ids : array-like of shape (n_samples,), default=None
            Task label of each sample.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        data = check_fit_data(self, X, y, task_ids)
        stats = task_stats(data)
        self.common_coef_ = common_mean(stats, self.alpha, self.alpha_mean)
        self._start_meta_state(*self._adapt_stats(stats))
        return self

    def _adapt_stats(self, stats):
        d = self.common_coef_.shape[0]
        # Posterior mean with noise 1 and precision alpha I: ridge toward mu.
        return posterior_mean_intercept(
            stats, self.common_coef_, self.alpha * np.eye(d), 1.0
        )

    def _adapt_tasks(self, data):
        return self._adapt_stats(task_stats(data))


class CommonMeanRidgeClassifier(_LogisticMeta):
    __doc__ = f"""Logistic tasks pulled toward a learned common model.

    ``theta_t = [w_t, b_t]``; ``fit`` minimizes by L-BFGS::

        sum_i logloss(y_i, x_i @ w_t(i) + b_t(i))
            + (alpha / 2) sum_t ||theta_t - m||^2 + (alpha_mean / 2) ||m_w||^2

    over the task models and the common model ``m = [mu, b0]`` (its
    intercept ``b0`` unpenalized). Unlike :class:`CommonMeanRidge`, the
    intercepts are pulled toward ``b0`` too, so a new task whose support holds
    one class keeps a finite model. A new task (adapt) is the same objective
    with ``m`` fixed. With more than two classes, one-vs-rest.
{_ADAPT_DOC}

    Parameters
    ----------
    alpha : float, default=1.0
        Pull of every task toward the common model.
    alpha_mean : float, default=0.0
        Ridge penalty on the common coefficients.{_TASK_COLUMN_DOC}

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels seen in fit.
    coef_ : ndarray of shape (n_meta_tasks, n_features) or \
(n_meta_tasks, n_classes, n_features)
        Coefficients of the tasks seen in fit.
    intercept_ : ndarray of shape (n_meta_tasks,) or (n_meta_tasks, n_classes)
        Their intercepts.
    common_coef_ : ndarray of shape (n_outputs, n_features)
        ``mu`` of each binary problem.
    common_intercept_ : ndarray of shape (n_outputs,)
        ``b0``.{_META_ATTRS_DOC}
    """

    _parameter_constraints = {
        "alpha": [Interval(Real, 0, None, closed="neither")],
        "alpha_mean": [Interval(Real, 0, None, closed="left")],
        "task_column": [None, Integral, str],
    }

    def __init__(self, *, alpha=1.0, alpha_mean=0.0, task_column=None):
        self.alpha = alpha
        self.alpha_mean = alpha_mean
        self.task_column = task_column

    def _fit_prior(self, rows):
        p = rows.Xa.shape[1]
        precision = self.alpha * np.eye(p)
        _, mean = logistic_map(
            rows,
            np.zeros(p),
            precision,
            np.zeros((rows.n_tasks, p)),
            tol=1e-8,
            alpha_mean=self.alpha_mean,
        )
        return mean, precision

    def _store_prior(self, priors):
        means = np.stack([p[0] for p in priors])
        self.common_coef_, self.common_intercept_ = means[:, :-1], means[:, -1]
