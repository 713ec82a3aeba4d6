"""Clustered multi-task learning: task models pulled toward k cluster centres.

A composition of a loss (:mod:`._losses`), the smooth clustered penalty
(:class:`._smooth_penalties.ClusteredPenalty`) and a smooth solver
(:func:`._problems.solve_smooth`).
"""

import copy
import warnings
from numbers import Integral, Real

import numpy as np
from scipy.special import expit
from sklearn.base import BaseEstimator, _fit_context
from sklearn.cluster import KMeans
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import Interval, StrOptions

from .._base import MultiTaskClassifierMixin, MultiTaskRegressorMixin
from .._tasks import check_fit_data
from ._losses import LogisticLoss, SquaredLoss, task_loss_scale
from ._prediction import (
    ARRAY_PARAMS,
    LinearTaskClassifierMixin,
    LinearTaskRegressorMixin,
)
from ._problems import solve_smooth
from ._smooth_penalties import ClusteredPenalty
from ._solvers import blas_threads_for

__all__ = [
    "ClusteredMultiTaskRegressor",
    "ClusteredMultiTaskClassifier",
    "ClusteredPath",
]


_OBJECTIVE_DOC = """
    One linear function per task, ``x @ w_t + b_t``, fitted jointly by
    minimizing the convex relaxation of clustered multi-task learning (Jacob,
    Bach & Vert 2008; Zhou, Chen & Ye 2011, MALSAR's ``{malsar}`` with
    ``rho1 = alpha``, ``rho2 = alpha_l2``)::

        sum_t c_t sum_{{i in t}} s_i loss(y_i, x_i @ w_t + b_t)
            + alpha * eta * (1 + eta) * min_M tr(W^T (eta I + M)^-1 W)

    over the (n_tasks, n_tasks) matrices ``M`` with ``0 <= M <= I`` and
    ``trace(M) = n_clusters``, ``eta = alpha_l2 / alpha``, with {loss},
    ``W`` the (n_tasks, n_features) matrix of the task models, ``s_i`` the
    sample weights and ``c_t = 1`` (``loss_normalization="sum"``) or
    ``1 / sum_{{i in t}} s_i`` (``"mean"``). Intercepts are not penalized.

    When ``M = F F^T`` for a normalized assignment ``F`` of the tasks to
    ``n_clusters`` clusters, the penalty is ``alpha * sum_t ||w_t -
    m_c(t)||^2 + alpha_l2 * ||W||_F^2`` (``m_c`` the mean model of cluster
    ``c``): ``alpha`` pulls each task toward its cluster's centre,
    ``alpha_l2`` is a ridge. Relaxing the assignments to the convex hull
    makes the problem convex; the best ``M`` for given ``W`` is closed form
    (eigenvalues from the singular values of ``W``), so the penalty is a
    smooth function of ``W`` alone. With ``n_clusters = n_tasks`` every task
    is its own cluster: independent ridge fits with penalty
    ``alpha_l2 ||w_t||^2``.
"""

_PARAMS_DOC = """
    n_clusters : int, default=2
        Number of task clusters ``k``, at most the number of tasks.
    alpha : float, default=1.0
        Strength of the pull toward the cluster centres (``rho1``).
    alpha_l2 : float, default=1.0
        Ridge penalty (``rho2``); must be positive.
    loss_normalization : {"sum", "mean"}, default="sum"
        Per-task loss weight ``c_t``, see above.
    task_column : int or str, default=None
        Column of ``X`` holding each sample's task label, removed from the
        features. None: tasks come from ``task_ids`` or a 2-D ``y``.
    solver : {"auto", "apg", "lbfgs"}, default="auto"
        "apg": accelerated gradient with backtracking and adaptive restart;
        "lbfgs": L-BFGS-B. "auto" is "lbfgs".
    tol : float, default=1e-6
        Largest gradient entry (intercepts included) at the solution,
        relative to the largest entry of the data term's gradient at
        ``W = 0``.
    max_iter : int, default=1000
        Maximum solver iterations.
    warm_start : bool, default=False
        Start from the previous fit's parameters.
    random_state : int, RandomState instance or None, default=None
        Seed of the k-means run that labels the tasks (``cluster_labels_``);
        the models do not depend on it."""

_FITTED_DOC = """
    cluster_matrix_ : ndarray of shape (n_tasks, n_tasks)
        The optimal relaxed assignment ``M`` at the solution (eigenvalues in
        [0, 1], trace ``n_clusters``).
    cluster_labels_ : ndarray of shape (n_tasks,)
        Cluster of each task: k-means (scikit-learn's ``KMeans``, 10
        restarts) on the task models projected onto the top ``n_clusters``
        eigenvectors of ``cluster_matrix_`` (the leading left singular
        vectors of ``W``), i.e. on the rows of ``U_k diag(s_k)``.
    n_iter_ : int
        Solver iterations.
    tasks_ : ndarray of shape (n_tasks,)
        Sorted task labels (``0..T-1`` for a wide 2-D ``y``).
    task_format_ : {"long", "wide"}
        How tasks were given in fit.
    n_features_in_ : int
        Number of columns of ``X`` in fit, task column included.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Column names of ``X`` in fit, when it had string column names."""


class _ClusteredModel(BaseEstimator):
    _parameter_constraints = {
        "n_clusters": [Interval(Integral, 1, None, closed="left")],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "alpha_l2": [Interval(Real, 0, None, closed="neither")],
        "loss_normalization": [StrOptions({"sum", "mean"})],
        "task_column": [None, Integral, str],
        "solver": [StrOptions({"auto", "apg", "lbfgs"})],
        "tol": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "warm_start": ["boolean"],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        *,
        n_clusters=2,
        alpha=1.0,
        alpha_l2=1.0,
        loss_normalization="sum",
        task_column=None,
        solver="auto",
        tol=1e-6,
        max_iter=1000,
        warm_start=False,
        random_state=None,
    ):
        self.n_clusters = n_clusters
        self.alpha = alpha
        self.alpha_l2 = alpha_l2
        self.loss_normalization = loss_normalization
        self.task_column = task_column
        self.solver = solver
        self.tol = tol
        self.max_iter = max_iter
        self.warm_start = warm_start
        self.random_state = random_state

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.input_tags.sparse = True
        return tags

    def _solve(self, loss, n_tasks, x0=None):
        """Minimize at the current parameters from ``x0`` (or the loss's start)."""
        if self.n_clusters > n_tasks:
            raise ValueError(
                f"n_clusters={self.n_clusters} exceeds the number of tasks "
                f"({n_tasks}); use at most n_clusters={n_tasks}."
            )
        penalty = ClusteredPenalty(self.alpha, self.alpha_l2, self.n_clusters)
        start = loss.initial()
        if x0 is not None and x0.shape == start.shape:
            start = x0
        solver = "lbfgs" if self.solver == "auto" else self.solver
        with blas_threads_for(n_tasks):
            result = solve_smooth(
                loss,
                penalty,
                start,
                solver=solver,
                tol=self.tol,
                max_iter=self.max_iter,
            )
        return penalty, result

    def _set_solution(self, loss, penalty, result, labels=True):
        """Fitted attributes from a solve; the k-means labels when ``labels``."""
        coef = result.x[:, : loss.n_features]
        self.n_iter_ = result.n_iter
        self.cluster_matrix_ = penalty.cluster_matrix(coef)
        if labels:
            self.cluster_labels_ = self._cluster_labels(penalty, coef)
        self.coef_, self.intercept_ = loss.coef_intercept(result.x)

    def _fit_loss(self, loss, n_tasks):
        """Solve and set the fitted attributes (a cold start unless warm_start)."""
        x0 = None
        if self.warm_start and hasattr(self, "coef_"):
            x0 = self._packed_params()
        penalty, result = self._solve(loss, n_tasks, x0)
        if not result.converged:
            # At the user's line: past fit and its _fit_context wrapper.
            self._warn_not_converged(stacklevel=5)
        self._set_solution(loss, penalty, result)
        return self

    def _warn_not_converged(self, stacklevel):
        warnings.warn(
            f"{type(self).__name__} did not converge in max_iter={self.max_iter} "
            f"iterations to tol={self.tol}; increase max_iter or scale the data.",
            ConvergenceWarning,
            stacklevel=stacklevel,
        )

    def _path_problem(self, X, y, task_ids=None, sample_weight=None):
        """Validate the data and build the loss once, for fits at many ``alpha``.

        The path hook of :func:`~sklearn_mtl.linear._path.multitask_path`
        and of the clustered ``...CV`` estimators (a :class:`ClusteredPath`);
        sets the data-dependent fitted attributes on ``self``.
        """
        loss, data = self._build_loss(X, y, task_ids, sample_weight)
        return ClusteredPath(self, loss, data)

    def _cluster_labels(self, penalty, coef):
        if self.n_clusters == 1:
            return np.zeros(coef.shape[0], dtype=int)
        U, s, _, _ = penalty.structure(coef)
        k = self.n_clusters
        embedding = np.zeros((coef.shape[0], k))
        embedding[:, : min(k, s.size)] = (U * s)[:, :k]
        with warnings.catch_warnings():
            # Fewer distinct task models than clusters (W = 0 under a huge
            # alpha_l2): KMeans then says so; the labels are still valid.
            warnings.simplefilter("ignore", ConvergenceWarning)
            kmeans = KMeans(n_clusters=k, n_init=10, random_state=self.random_state)
            return kmeans.fit_predict(embedding)


# The path's top, in units of the reference strength (see ClusteredPath):
# two decades above it, the pulled directions are shrunk ~200-fold.
GRID_TOP = 100.0


class ClusteredPath:
    """A clustered problem with its loss built once, solved at any ``alpha``.

    The penalty is smooth, so no strength makes every coefficient zero: there
    is no ``alpha_max`` to start a path from. The path starts instead from a
    data-dependent reference, ``alpha_ref = L / 2`` with ``L`` the largest
    curvature of the data term (largest eigenvalue of its Hessian at the
    path's start, intercepts profiled out: the centered, weighted Gram blocks
    of the squared loss; for the logistic loss the same blocks times the
    class variance ``p_t (1 - p_t)``). At ``alpha_ref`` the pull's curvature
    ``2 alpha`` (in the directions it acts on, those outside the ``k``
    leading ones) equals the data term's stiffest direction, so every such
    direction of every task is shrunk to at most half its unpenalized
    size: below ``alpha_ref`` the data dominate, above it the penalty does.
    ``alpha_ref`` scales as the objective requires: by ``c^2`` when ``X`` is
    multiplied by ``c`` (then ``W / c`` at ``alpha c^2`` fits the same
    model), not at all when ``y`` is (``W`` scales with ``y``).

    ``alpha_max`` (the hook's name for the path's top) is ``GRID_TOP *
    alpha_ref``. ``fit(alpha)`` returns a copy of the template at ``alpha``,
    warm-started from the previous ``fit``, with ``alpha_l2 = l2_ratio *
    alpha`` when ``l2_ratio`` is set (:meth:`configure`), else the
    template's ``alpha_l2``. Its models carry ``coef_``, ``intercept_``,
    ``n_iter_`` and ``cluster_matrix_``; ``refit`` adds the k-means
    ``cluster_labels_`` (one k-means per path point would cost more than the
    solve).
    """

    def __init__(self, template, loss, data):
        self.template, self.loss, self.n_tasks = template, loss, data.n_tasks
        self.alpha_ref = 0.5 * float(template._curvature(loss, data))
        self.alpha_max = GRID_TOP * self.alpha_ref
        self.n_clusters, self.l2_ratio = template.n_clusters, None
        self._x, self.converged = None, True

    def configure(self, n_clusters, l2_ratio=None):
        """Set the number of clusters and ``alpha_l2 / alpha``; restart cold."""
        self.n_clusters, self.l2_ratio = int(n_clusters), l2_ratio
        self._x = None
        return self

    def _model(self, alpha):
        model = copy.copy(self.template)
        model.alpha, model.n_clusters = float(alpha), self.n_clusters
        if self.l2_ratio is not None:
            model.alpha_l2 = self.l2_ratio * float(alpha)
        return model

    def fit(self, alpha):
        """A copy of the template fitted at ``alpha``, warm-started."""
        model = self._model(alpha)
        penalty, result = model._solve(self.loss, self.n_tasks, self._x)
        self._x, self.converged = result.x, result.converged
        model._set_solution(self.loss, penalty, result, labels=False)
        return model

    def refit(self, alpha, owner=None):
        """A copy fitted at ``alpha`` from a cold start, as ``fit`` fits it.

        A failure to converge warns in the name of ``owner`` (the CV
        estimator refitting), at its caller's caller's line.
        """
        model = self._model(alpha)
        penalty, result = model._solve(self.loss, self.n_tasks)
        if not result.converged:
            (model if owner is None else owner)._warn_not_converged(stacklevel=5)
        model._set_solution(self.loss, penalty, result)
        return model


class ClusteredMultiTaskRegressor(
    MultiTaskRegressorMixin, LinearTaskRegressorMixin, _ClusteredModel
):
    __doc__ = f"""Multi-task least squares with clustered task models (convex CMTL).
{
        _OBJECTIVE_DOC.format(
            malsar="Least_CMTL", loss="the squared loss ``(y - f(x))^2 / 2``"
        )
    }
    Parameters
    ----------{_PARAMS_DOC}

    Attributes
    ----------
    coef_ : ndarray of shape (n_tasks, n_features)
        Coefficients of each task (task column excluded).
    intercept_ : ndarray of shape (n_tasks,)
        Intercept of each task.{_FITTED_DOC}

    See Also
    --------
    ClusteredMultiTaskClassifier : The same penalty with the logistic loss.
    sklearn_mtl.GraphMultiTaskRegressor : Tasks pulled together along a given graph.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_mtl.linear import ClusteredMultiTaskRegressor
    >>> rng = np.random.default_rng(0)
    >>> centres = rng.normal(size=(2, 5))
    >>> W = np.repeat(centres, 4, axis=0)  # tasks 0-3 and 4-7 share a model
    >>> X = rng.normal(size=(240, 5))
    >>> task_ids = np.repeat(np.arange(8), 30)
    >>> y = np.einsum("ij,ij->i", X, W[task_ids]) + 0.1 * rng.normal(size=240)
    >>> model = ClusteredMultiTaskRegressor(n_clusters=2, alpha=1.0, alpha_l2=0.1)
    >>> model.set_params(random_state=0).fit(X, y, task_ids=task_ids).coef_.shape
    (8, 5)
    >>> labels = model.cluster_labels_
    >>> bool(len(set(labels[:4])) == 1 and len(set(labels[4:])) == 1)
    True
    """

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, task_ids=None, sample_weight=None):
        """Fit all tasks' models jointly.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,) or (n_samples, n_tasks)
            Targets; a 2-D ``y`` without ``task_ids`` is one task per column,
            NaN marking a missing label.
        task_ids : array-like of shape (n_samples,), default=None
            Task label (int or str) of each sample.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        loss, data = self._build_loss(X, y, task_ids, sample_weight)
        return self._fit_loss(loss, data.n_tasks)

    def _build_loss(self, X, y, task_ids, sample_weight):
        data = check_fit_data(
            self, X, y, task_ids, sample_weight, array_params=ARRAY_PARAMS
        )
        with blas_threads_for(data.n_tasks):
            loss = SquaredLoss(data, self.loss_normalization)
        return loss, data

    def _curvature(self, loss, data):
        """Largest eigenvalue of the data term's Hessian (intercepts profiled
        out): of the centered, weighted per-task Gram blocks."""
        return loss.lipschitz()


class ClusteredMultiTaskClassifier(
    MultiTaskClassifierMixin, LinearTaskClassifierMixin, _ClusteredModel
):
    __doc__ = f"""Multi-task logistic regression with clustered task models (CMTL).
{
        _OBJECTIVE_DOC.format(
            malsar="Logistic_CMTL",
            loss=(
                "the logistic loss (sigmoid for two classes; for more, a softmax "
                "over the classes seen in the sample's task, one coefficient "
                "vector per class; ``W`` is then (n_tasks, n_features * n_classes))"
            ),
        )
    }
    ``classes_`` is the union of all tasks' labels; a class never seen in a
    task's training data gets probability 0 in that task.

    Parameters
    ----------{_PARAMS_DOC}

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Union of the class labels of all tasks.
    coef_ : ndarray of shape (n_tasks, n_features) or (n_tasks, n_classes, \
n_features)
        Coefficients per task (binary) or per task and class (multiclass).
    intercept_ : ndarray of shape (n_tasks,) or (n_tasks, n_classes)
        Intercepts.
    task_class_mask_ : ndarray of shape (n_tasks, n_classes)
        Which classes each task saw in fit.{_FITTED_DOC}

    See Also
    --------
    ClusteredMultiTaskRegressor : The same penalty with the squared loss.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_mtl.linear import ClusteredMultiTaskClassifier
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(160, 4))
    >>> task_ids = np.repeat([0, 1, 2, 3], 40)
    >>> sign = np.where(task_ids < 2, 1.0, -1.0)  # two clusters of two tasks
    >>> y = (sign * X[:, 0] > 0).astype(int)
    >>> model = ClusteredMultiTaskClassifier(n_clusters=2, random_state=0)
    >>> model.fit(X, y, task_ids=task_ids).cluster_labels_.shape
    (4,)
    >>> bool(model.cluster_labels_[0] == model.cluster_labels_[1])
    True
    """

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, task_ids=None, sample_weight=None):
        """Fit all tasks' classifiers jointly.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,) or (n_samples, n_tasks)
            Class labels; a 2-D ``y`` without ``task_ids`` is one task per
            column, NaN marking a missing label.
        task_ids : array-like of shape (n_samples,), default=None
            Task label (int or str) of each sample.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        loss, data = self._build_loss(X, y, task_ids, sample_weight)
        return self._fit_loss(loss, data.n_tasks)

    def _build_loss(self, X, y, task_ids, sample_weight):
        data = check_fit_data(
            self,
            X,
            y,
            task_ids,
            sample_weight,
            classifier=True,
            array_params=ARRAY_PARAMS,
        )
        self.classes_ = np.unique(data.y)
        loss = LogisticLoss(data, self.loss_normalization, self.classes_)
        if loss.binary:
            self.task_class_mask_ = np.ones((data.n_tasks, 2), dtype=bool)
        else:
            self.task_class_mask_ = loss.allowed
        return loss, data

    def _curvature(self, loss, data):
        """Largest eigenvalue of the data term's Hessian at the path's start
        (``W = 0``, intercepts at the class log-odds), intercepts profiled
        out: per task ``v_t * c_t Xc_t^T S Xc_t`` with ``v_t`` the largest
        eigenvalue of ``diag(p_t) - p_t p_t^T`` (``p_t (1 - p_t)`` for two
        classes), ``p_t`` the task's weighted class shares."""
        _, intercept = loss.split(loss.initial())
        if loss.binary:
            share = expit(intercept[:, 0])
            spread = share * (1.0 - share)
        else:
            share = np.where(loss.allowed, np.exp(intercept), 0.0)
            share /= share.sum(axis=1, keepdims=True)
            covariance = (
                share[:, :, None] * np.eye(share.shape[1])
                - share[:, :, None] * share[:, None, :]
            )
            spread = np.linalg.eigvalsh(covariance)[:, -1]
        scale = task_loss_scale(data, self.loss_normalization) * spread
        # Only the Gram blocks are used: zero targets, no refit of y.
        with blas_threads_for(data.n_tasks):
            gram = SquaredLoss(data, task_scale=scale, y=np.zeros(data.n_rows))
        return gram.lipschitz()
