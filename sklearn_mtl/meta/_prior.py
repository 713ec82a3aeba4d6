"""Linear meta-learners: a learned Gaussian prior over task models.

``LearnedPriorRegressor`` / ``LearnedPriorClassifier`` fit the prior by
empirical Bayes over the training tasks and adapt to a new task with the
exact posterior mean (regression) or the MAP (logistic). ``CommonMeanRidge``
/ ``CommonMeanRidgeClassifier`` are the simple special case: an isotropic
prior of fixed strength around a learned common model (bias regularization).
"""

import warnings
from numbers import Integral, Real

import numpy as np
from scipy.special import expit
from sklearn.base import BaseEstimator, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from .._base import MultiTaskClassifierMixin, MultiTaskRegressorMixin
from .._tasks import check_fit_data, check_predict_data, proba_output
from ._base import MetaLearnerMixin
from ._gaussian import (
    LogisticRows,
    _block_precision,
    common_mean,
    fit_gaussian_prior,
    fit_logistic_prior,
    logistic_map,
    posterior_mean_intercept,
    prior_precision,
    task_stats,
)

__all__ = [
    "CommonMeanRidge",
    "CommonMeanRidgeClassifier",
    "LearnedPriorClassifier",
    "LearnedPriorRegressor",
]

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


class LearnedPriorRegressor(_LinearRegressorMeta):
    __doc__ = f"""Linear regression tasks under a learned Gaussian prior.

    Each task is ``y = x @ w_t + b_t + noise``, ``noise ~ N(0, sigma2)``, with
    ``w_t ~ N(mu, U U^T + s2 I)`` (``U`` has ``rank`` columns) and, by
    default, a flat prior on ``b_t`` (handled by centering each task; with
    ``intercept_prior="learned"``, ``b_t ~ N(b0, tau2)`` learned too).
    ``fit`` learns ``mu``, ``U``, ``s2`` and ``sigma2`` by empirical Bayes,
    maximizing the marginal likelihood of the training tasks with EM: the
    E-step is each task's exact Gaussian posterior (a ``d x d`` Cholesky per
    task), the M-step the mean of the posterior means, the probabilistic-PCA
    update of the covariance from the posterior second moments, and the
    expected residual variance. Every
    task model (fitted or adapted) is its exact posterior mean::

        (X_t^T X_t / sigma2 + Sigma^{{-1}})^{{-1}}
            (X_t^T y_t / sigma2 + Sigma^{{-1}} mu)

    on centered data (with a learned intercept prior: on rows ``[x, 1]``,
    the prior extended by ``N(b0, tau2)``). With ``rank=0`` and the flat
    intercept this is ridge toward ``mu`` with ``alpha = sigma2 / s2``.
{_ADAPT_DOC}

    Parameters
    ----------
    rank : int, default=1
        Number of principal directions of task variation ``U``; 0 gives an
        isotropic covariance ``s2 I``. Clipped to ``n_features - 1``.
    max_iter : int, default=1000
        Maximum EM iterations (each costs one batched ``d x d`` Cholesky per
        task). EM slows down when a variance heads to zero, e.g. a ``rank``
        above the tasks' true one.
    tol : float, default=1e-6
        EM stops when the log marginal likelihood changes by less than
        ``tol`` times its magnitude.
    intercept_prior : {{"flat", "learned"}}, default="flat"
        "flat": each task's intercept is free (every task is centered), so a
        new task's intercept is its support mean minus the fitted slope
        term, noisy with few samples. "learned": ``b_t ~ N(b0, tau2)``,
        independent of ``w_t``, learned by the same EM; a new task's intercept
        is then shrunk toward ``b0`` (better few-shot when task offsets are
        small next to the noise).{_TASK_COLUMN_DOC}

    Attributes
    ----------
    coef_ : ndarray of shape (n_meta_tasks, n_features)
        Posterior mean coefficients of the tasks seen in fit.
    intercept_ : ndarray of shape (n_meta_tasks,)
        Their intercepts.
    prior_mean_ : ndarray of shape (n_features,)
        ``mu``.
    prior_components_ : ndarray of shape (n_features, rank)
        ``U``.
    prior_variance_ : float
        ``s2``.
    prior_covariance_ : ndarray of shape (n_features, n_features)
        ``U U^T + s2 I``.
    prior_intercept_mean_, prior_intercept_variance_ : float
        ``b0`` and ``tau2`` (only with ``intercept_prior="learned"``).
    noise_variance_ : float
        ``sigma2``.
    log_marginal_likelihood_ : ndarray of shape (`n_iter_`,)
        Log marginal likelihood of the training tasks at each EM iteration
        (non-decreasing).
    n_iter_ : int
        EM iterations run.{_META_ATTRS_DOC}

    See Also
    --------
    CommonMeanRidge : Ridge toward a learned common model.
    LearnedPriorClassifier : The same prior for logistic tasks.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_mtl.meta import LearnedPriorRegressor
    >>> rng = np.random.default_rng(0)
    >>> W = 1.0 + 0.3 * rng.standard_normal((40, 3))
    >>> X = rng.standard_normal((40 * 30, 3))
    >>> tasks = np.repeat(np.arange(40), 30)
    >>> y = np.einsum("ij,ij->i", X, W[tasks])
    >>> model = LearnedPriorRegressor(rank=0).fit(X, y, task_ids=tasks)
    >>> bool(np.abs(model.prior_mean_ - 1.0).max() < 0.2)  # the tasks' mean
    True
    >>> model = model.adapt(X[:5], y[:5] + 1, task_ids=[99] * 5)
    >>> model.predict(X[:2], task_ids=[99, 99]).shape
    (2,)
    """

    _parameter_constraints = {
        "rank": [Interval(Integral, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "intercept_prior": [StrOptions({"flat", "learned"})],
        "task_column": [None, Integral, str],
    }

    def __init__(
        self,
        *,
        rank=1,
        max_iter=1000,
        tol=1e-6,
        intercept_prior="flat",
        task_column=None,
    ):
        self.rank = rank
        self.max_iter = max_iter
        self.tol = tol
        self.intercept_prior = intercept_prior
        self.task_column = task_column

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, task_ids=None):
        """Meta-learn the prior from the training tasks.

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
        stats = task_stats(data, center=self._centered())
        mean, U, s2, tau2, noise, history, n_iter = fit_gaussian_prior(
            stats, self.rank, self.max_iter, self.tol
        )
        _warn_if_em_unfinished(self, n_iter)
        d = U.shape[0]
        self.prior_mean_, self.prior_components_ = mean[:d], U
        self.prior_variance_, self.noise_variance_ = s2, noise
        self.prior_covariance_ = U @ U.T + s2 * np.eye(d)
        self.log_marginal_likelihood_, self.n_iter_ = history, n_iter
        if tau2 is None:
            self._prior_precision = prior_precision(U, s2)[0]
        else:
            self.prior_intercept_mean_ = float(mean[d])
            self.prior_intercept_variance_ = tau2
            self._prior_precision = _block_precision(U, s2, tau2)
        self._prior_full_mean = mean
        coef, intercept = self._adapt_stats(stats)
        self._start_meta_state(coef, intercept)
        return self

    def _centered(self):
        return self.intercept_prior == "flat"

    def _adapt_stats(self, stats):
        return posterior_mean_intercept(
            stats, self._prior_full_mean, self._prior_precision, self.noise_variance_
        )

    def _adapt_tasks(self, data):
        return self._adapt_stats(task_stats(data, center=self._centered()))


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


class LearnedPriorClassifier(_LogisticMeta):
    __doc__ = f"""Logistic tasks under a learned Gaussian prior (meta-learning).

    Each binary task is ``P(y = classes_[1] | x) = sigmoid(x @ w_t + b_t)``
    with ``w_t ~ N(mu, U U^T + s2 I)`` and ``b_t ~ N(b0, tau2)``. ``fit``
    learns the prior by Laplace-approximate EM over the training tasks (the
    E-step takes every task's MAP, found by one L-BFGS over all tasks, and
    the inverse Hessian there; the M-step is as in
    :class:`LearnedPriorRegressor`). Every task model, fitted or adapted, is
    the MAP ``argmin sum_i logloss + 1/2 (theta - m)^T P (theta - m)``.
    With more than two classes, one such prior per class, one-vs-rest.
{_ADAPT_DOC} A support set may hold a single class: the prior keeps the
    model finite.

    Parameters
    ----------
    rank : int, default=1
        Principal directions of task variation (0: isotropic). Clipped to
        ``n_features - 1``.
    max_iter : int, default=50
        Maximum EM iterations.
    tol : float, default=1e-4
        EM stops when the prior's parameters move by less than ``tol``
        (relative norm).{_TASK_COLUMN_DOC}

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels seen in fit.
    coef_ : ndarray of shape (n_meta_tasks, n_features) or \
(n_meta_tasks, n_classes, n_features)
        MAP coefficients of the tasks seen in fit.
    intercept_ : ndarray of shape (n_meta_tasks,) or (n_meta_tasks, n_classes)
        Their intercepts.
    prior_mean_ : ndarray of shape (n_outputs, n_features)
        ``mu`` of each binary problem (``n_outputs`` is 1 for two classes,
        else ``n_classes``).
    prior_components_ : ndarray of shape (n_outputs, n_features, rank)
        ``U``.
    prior_variance_ : ndarray of shape (n_outputs,)
        ``s2``.
    prior_covariance_ : ndarray of shape (n_outputs, n_features, n_features)
        ``U U^T + s2 I``.
    prior_intercept_mean_, prior_intercept_variance_ : ndarray of shape \
(n_outputs,)
        ``b0`` and ``tau2``.
    n_iter_ : ndarray of shape (n_outputs,)
        EM iterations run.{_META_ATTRS_DOC}
    """

    _parameter_constraints = {
        "rank": [Interval(Integral, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "task_column": [None, Integral, str],
    }

    def __init__(self, *, rank=1, max_iter=50, tol=1e-4, task_column=None):
        self.rank = rank
        self.max_iter = max_iter
        self.tol = tol
        self.task_column = task_column

    def _fit_prior(self, rows):
        mean, U, s2, tau2, n_iter = fit_logistic_prior(
            rows, self.rank, self.max_iter, self.tol
        )
        _warn_if_em_unfinished(self, n_iter)
        return mean, _block_precision(U, s2, tau2), (U, s2, tau2, n_iter)

    def _store_prior(self, priors):
        means = np.stack([p[0] for p in priors])
        self.prior_mean_ = means[:, :-1]
        self.prior_intercept_mean_ = means[:, -1]
        self.prior_components_ = np.stack([p[2][0] for p in priors])
        self.prior_variance_ = np.array([p[2][1] for p in priors])
        self.prior_intercept_variance_ = np.array([p[2][2] for p in priors])
        self.n_iter_ = np.array([p[2][3] for p in priors])
        d = self.prior_mean_.shape[1]
        self.prior_covariance_ = self.prior_components_ @ np.swapaxes(
            self.prior_components_, 1, 2
        ) + self.prior_variance_[:, None, None] * np.eye(d)
        self._priors = [(p[0], p[1]) for p in priors]


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
