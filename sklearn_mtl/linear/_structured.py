"""Structured multi-task linear models: joint feature selection and low rank.

Each estimator is a composition of a loss (:mod:`._losses`), a penalty
(:mod:`._penalties`) and a solver (:mod:`._solvers`).
"""

import copy
import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import Interval, StrOptions

from .._base import MultiTaskClassifierMixin, MultiTaskRegressorMixin
from .._tasks import SharedDesignData, check_fit_data
from ._losses import LogisticLoss, SquaredLoss
from ._penalties import L21Penalty, TraceNormPenalty
from ._prediction import (
    ARRAY_PARAMS,
    LinearTaskClassifierMixin,
    LinearTaskRegressorMixin,
)
from ._solvers import apg, blas_threads_for, check_solver_pair, gram_bcd
from ._working_set import WorkingSetPath, use_working_set

__all__ = [
    "JointFeatureMultiTaskRegressor",
    "JointFeatureMultiTaskClassifier",
    "LowRankMultiTaskRegressor",
    "LowRankMultiTaskClassifier",
]


def solve(loss, penalty, x0, *, solver, tol, max_iter):
    """Minimize ``loss + penalty`` from ``x0``; returns (SolverResult, alpha_max).

    ``tol`` is relative: the optimality measure (the penalty's, and the
    largest intercept gradient for a loss with intercept coordinates) is
    divided by ``alpha_max``, the smallest ``alpha`` giving ``W = 0``.
    """
    if solver == "auto":
        solver = "bcd" if penalty.feature_separable and loss.gram is not None else "apg"
    check_solver_pair(solver, loss, penalty)
    alpha_max = penalty.dual_norm(loss.zero_gradient())
    scale = alpha_max if alpha_max > 0 else 1.0
    d = loss.n_features

    def optimality(x, grad):
        measure = penalty.optimality(x[:, :d], grad[:, :d])
        if x.shape[1] > d:
            measure = max(measure, float(np.abs(grad[:, d:]).max()))
        return measure / scale

    if solver == "bcd":
        result = gram_bcd(
            loss.gram,
            loss.rhs,
            penalty.block_minimize,
            optimality,
            x0,
            tol=tol,
            max_iter=max_iter,
        )
        return result, alpha_max

    def prox(x, step):
        out = x.copy()
        out[:, :d] = penalty.prox(x[:, :d], step)
        return out

    def value_grad(x):
        return loss.value_grad(x)

    result = apg(
        value_grad,
        prox,
        optimality,
        x0,
        lipschitz=loss.lipschitz(),
        tol=tol,
        max_iter=max_iter,
    )
    return result, alpha_max


_OBJECTIVE_DOC = """
    One linear function per task, ``x @ w_t + b_t``, fitted jointly by
    minimizing::

        sum_t c_t sum_{{i in t}} s_i loss(y_i, x_i @ w_t + b_t)
            + alpha * {penalty} + (alpha_l2 / 2) ||W||_F^2

    with {loss}, ``W`` the (n_tasks, n_features) matrix of the task models,
    ``s_i`` the sample weights and ``c_t = 1`` (``loss_normalization="sum"``)
    or ``1 / sum_{{i in t}} s_i`` (``"mean"``: every task weighs the same; with
    one shared design this is scikit-learn's ``1 / (2 n_samples)`` scaling of
    ``Lasso`` / ``MultiTaskLasso``). Intercepts are not penalized.
"""

_PARAMS_DOC = """
    alpha : float, default=1.0
        Strength of the structured penalty. ``alpha_max_`` (set by fit) is
        the smallest value that gives ``W = 0``.
    alpha_l2 : float, default=0.0
        Ridge penalty added to the structured one (elastic-net combination).
    loss_normalization : {"sum", "mean"}, default="sum"
        Per-task loss weight ``c_t``, see above.
    task_column : int or str, default=None
        Column of ``X`` holding each sample's task label, removed from the
        features. None: tasks come from ``task_ids`` or a 2-D ``y``.
    solver : {"auto", "apg", "bcd"}, default="auto"
        "apg": accelerated proximal gradient with backtracking and adaptive
        restart. "bcd": block coordinate descent over features on the
        per-task Gram blocks; it needs the squared loss and a penalty that is
        a sum over features, and refuses other pairs with a ValueError.
        "auto": "bcd" where it applies, else "apg".
    tol : float, default=1e-6
        Largest violation of the optimality conditions (distance of minus the
        gradient to the penalty's subdifferential), relative to
        ``alpha_max_``.
    max_iter : int, default=1000
        Maximum solver iterations (passes over the features for "bcd").
    warm_start : bool, default=False
        Start from the previous fit's parameters."""

_FITTED_DOC = """
    alpha_max_ : float
        Smallest ``alpha`` for which all coefficients are zero (computed from
        the gradient at ``W = 0`` with optimal intercepts, as for the lasso).
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


class _StructuredModel(BaseEstimator):
    _parameter_constraints = {
        "alpha": [Interval(Real, 0, None, closed="left")],
        "alpha_l2": [Interval(Real, 0, None, closed="left")],
        "loss_normalization": [StrOptions({"sum", "mean"})],
        "task_column": [None, Integral, str],
        "solver": [StrOptions({"auto", "apg", "bcd"})],
        "tol": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "warm_start": ["boolean"],
    }
    _penalty_class = None

    def __init__(
        self,
        *,
        alpha=1.0,
        alpha_l2=0.0,
        loss_normalization="sum",
        task_column=None,
        solver="auto",
        tol=1e-6,
        max_iter=1000,
        warm_start=False,
    ):
        self.alpha = alpha
        self.alpha_l2 = alpha_l2
        self.loss_normalization = loss_normalization
        self.task_column = task_column
        self.solver = solver
        self.tol = tol
        self.max_iter = max_iter
        self.warm_start = warm_start

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.input_tags.sparse = True
        return tags

    def _path_problem(self, X, y, task_ids=None, sample_weight=None):
        """Validate the data and build the loss once, for fits at many ``alpha``.

        The hook of :func:`~sklearn_mtl.linear._path.multitask_path` and the
        ``...CV`` estimators: returns a :class:`_LossPath` whose ``fit(alpha)``
        solves warm-started from its previous solution. Sets the
        data-dependent fitted attributes (``tasks_``, ``classes_``...) on
        ``self``.
        """
        raise NotImplementedError

    def _fit_problem(self, problem):
        x0 = None
        if self.warm_start and hasattr(self, "coef_"):
            x0 = self._packed_params()
        coef, intercept, result = problem.solve(self.alpha, x0)
        self.coef_, self.intercept_ = coef, intercept
        self.alpha_max_, self.n_iter_ = problem.alpha_max, result.n_iter
        if not result.converged:
            warnings.warn(
                f"{type(self).__name__} did not converge in max_iter={self.max_iter} "
                f"iterations to tol={self.tol}; increase max_iter or scale the data.",
                ConvergenceWarning,
                stacklevel=3,
            )
        return self


class _LossPath:
    """A structured problem with its loss built once, solved at any ``alpha``.

    Building the loss (the per-task Gram blocks, O(n d^2)) is most of a
    fit's cost on tall data; a path or a CV fold pays it once.
    ``fit(alpha)`` returns a fitted copy of the template estimator, started
    from the previous ``fit``'s solution (a warm start).
    """

    def __init__(self, template, loss, n_tasks):
        self.template, self.loss, self.n_tasks = template, loss, n_tasks
        self.alpha_max = template._penalty_class(0.0).dual_norm(loss.zero_gradient())
        self._x, self.converged = None, True

    def solve(self, alpha, x0=None):
        """``(coef, intercept, SolverResult)`` at ``alpha``, from ``x0``."""
        template = self.template
        penalty = template._penalty_class(alpha, template.alpha_l2)
        start = self.loss.initial()
        if x0 is not None and x0.shape == start.shape:
            start = x0
        with blas_threads_for(self.n_tasks):
            result, _ = solve(
                self.loss,
                penalty,
                start,
                solver=template.solver,
                tol=template.tol,
                max_iter=template.max_iter,
            )
        self._x = result.x
        coef, intercept = self.loss.coef_intercept(result.x)
        return coef, intercept, result

    def fit(self, alpha):
        """A copy of the template fitted at ``alpha``, warm-started."""
        model = copy.copy(self.template)
        model.alpha = alpha
        coef, intercept, result = self.solve(alpha, self._x)
        model.coef_, model.intercept_ = coef, intercept
        model.alpha_max_, model.n_iter_ = self.alpha_max, result.n_iter
        self.converged = result.converged
        return model


class _StructuredRegressor(
    MultiTaskRegressorMixin, LinearTaskRegressorMixin, _StructuredModel
):
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
        return self._fit_problem(self._path_problem(X, y, task_ids, sample_weight))

    def _path_problem(self, X, y, task_ids=None, sample_weight=None):
        # A complete wide y comes back without per-row arrays (n * T
        # entries): the shared-design solver needs only X and y.
        data = check_fit_data(
            self,
            X,
            y,
            task_ids,
            sample_weight,
            array_params=ARRAY_PARAMS,
            shared_design=True,
        )
        if use_working_set(self, data):
            # One shared design: one Gram matrix (or a working set's).
            return WorkingSetPath(self, data)
        if isinstance(data, SharedDesignData):
            data = data.rows()
        with blas_threads_for(data.n_tasks):
            loss = SquaredLoss(data, self.loss_normalization)
        return _LossPath(self, loss, data.n_tasks)


class _StructuredClassifier(
    MultiTaskClassifierMixin, LinearTaskClassifierMixin, _StructuredModel
):
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
        return self._fit_problem(self._path_problem(X, y, task_ids, sample_weight))

    def _path_problem(self, X, y, task_ids=None, sample_weight=None):
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
        if loss.problem.binary:
            self.task_class_mask_ = np.ones((data.n_tasks, 2), dtype=bool)
        else:
            self.task_class_mask_ = loss.problem.allowed
        return _LossPath(self, loss, data.n_tasks)


_CLASSIFIER_LOSS = (
    "the logistic loss (sigmoid for two classes; for more, a softmax over the "
    "classes seen in the sample's task, one coefficient vector per class)"
)
_CLASSIFIER_FITTED = """
    classes_ : ndarray of shape (n_classes,)
        Union of the class labels of all tasks.
    coef_ : ndarray of shape (n_tasks, n_features) or (n_tasks, n_classes, \
n_features)
        Coefficients per task (binary) or per task and class (multiclass).
    intercept_ : ndarray of shape (n_tasks,) or (n_tasks, n_classes)
        Intercepts.
    task_class_mask_ : ndarray of shape (n_tasks, n_classes)
        Which classes each task saw in fit."""
_REGRESSOR_FITTED = """
    coef_ : ndarray of shape (n_tasks, n_features)
        Coefficients of each task (task column excluded).
    intercept_ : ndarray of shape (n_tasks,)
        Intercept of each task."""
_L21 = "sum_j ||W[:, j]||_2"
_L21_WHY = """
    The L2,1 norm sums, over features, the Euclidean norm of the feature's
    coefficients across all tasks (and classes): a feature is selected by
    every task or by none (joint feature selection; Obozinski et al. 2010,
    MALSAR's ``Least_L21`` / ``Logistic_L21``). With one task it is the
    lasso's L1 norm.
"""
_TRACE = "||W||_*"
_TRACE_WHY = """
    The trace (nuclear) norm ``||W||_*`` sums the singular values of ``W``:
    it pulls the task models into a low-dimensional shared subspace (MALSAR's
    ``Least_Trace`` / ``Logistic_Trace``). Solved by accelerated proximal
    gradient (singular value soft-thresholding).
"""


class JointFeatureMultiTaskRegressor(_StructuredRegressor):
    __doc__ = f"""Multi-task least squares with joint feature selection (L2,1 norm).
{_OBJECTIVE_DOC.format(penalty=_L21, loss="the squared loss ``(1/2)(y - f(x))^2``")}
{_L21_WHY}
    With one shared design, a 2-D ``y`` and ``loss_normalization="mean"``,
    this is scikit-learn's ``MultiTaskLasso``, plus per-task intercepts,
    sample weights, missing labels (NaN) and a design per task.

    Parameters
    ----------{_PARAMS_DOC}

    Attributes
    ----------{_REGRESSOR_FITTED}{_FITTED_DOC}

    See Also
    --------
    JointFeatureMultiTaskClassifier : The same penalty with the logistic loss.
    LowRankMultiTaskRegressor : Task models in a shared low-rank subspace.
    sklearn.linear_model.MultiTaskLasso : One shared design, no task labels.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_mtl.linear import JointFeatureMultiTaskRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(60, 8))
    >>> task_ids = np.repeat([0, 1, 2], 20)
    >>> W = np.zeros((3, 8))
    >>> W[:, :2] = rng.normal(size=(3, 2))
    >>> y = np.einsum("ij,ij->i", X, W[task_ids]) + 0.1 * rng.normal(size=60)
    >>> model = JointFeatureMultiTaskRegressor(alpha=5.0)
    >>> model.fit(X, y, task_ids=task_ids).coef_.shape
    (3, 8)
    >>> np.flatnonzero(np.linalg.norm(model.coef_, axis=0)).tolist()
    [0, 1]
    """
    _penalty_class = L21Penalty


class JointFeatureMultiTaskClassifier(_StructuredClassifier):
    __doc__ = f"""Multi-task logistic regression with joint feature selection (L2,1).
{_OBJECTIVE_DOC.format(penalty=_L21, loss=_CLASSIFIER_LOSS)}
{_L21_WHY}
    ``classes_`` is the union of all tasks' labels; a class never seen in a
    task's training data gets probability 0 in that task.

    Parameters
    ----------{_PARAMS_DOC}

    Attributes
    ----------{_CLASSIFIER_FITTED}{_FITTED_DOC}

    See Also
    --------
    JointFeatureMultiTaskRegressor : The same penalty with the squared loss.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_mtl.linear import JointFeatureMultiTaskClassifier
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(90, 6))
    >>> task_ids = np.repeat(["a", "b", "c"], 30)
    >>> y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(int)
    >>> model = JointFeatureMultiTaskClassifier(alpha=2.0)
    >>> model.fit(X, y, task_ids=task_ids).predict(X[:3], task_ids=task_ids[:3])
    array([1, 1, 0])
    """
    _penalty_class = L21Penalty


class LowRankMultiTaskRegressor(_StructuredRegressor):
    __doc__ = f"""Multi-task least squares with low-rank task models (trace norm).
{_OBJECTIVE_DOC.format(penalty=_TRACE, loss="the squared loss ``(1/2)(y - f(x))^2``")}
{_TRACE_WHY}
    Parameters
    ----------{_PARAMS_DOC}

    Attributes
    ----------{_REGRESSOR_FITTED}{_FITTED_DOC}

    See Also
    --------
    LowRankMultiTaskClassifier : The same penalty with the logistic loss.
    JointFeatureMultiTaskRegressor : Tasks that select the same features.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_mtl.linear import LowRankMultiTaskRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(400, 10))
    >>> task_ids = np.repeat(np.arange(8), 50)
    >>> W = rng.normal(size=(8, 1)) @ rng.normal(size=(1, 10))  # rank one
    >>> y = np.einsum("ij,ij->i", X, W[task_ids]) + 0.1 * rng.normal(size=400)
    >>> model = LowRankMultiTaskRegressor(alpha=20.0).fit(X, y, task_ids=task_ids)
    >>> int(np.linalg.matrix_rank(model.coef_, tol=1e-6))
    1
    """
    _penalty_class = TraceNormPenalty


class LowRankMultiTaskClassifier(_StructuredClassifier):
    __doc__ = f"""Multi-task logistic regression with low-rank task models (trace norm).
{_OBJECTIVE_DOC.format(penalty=_TRACE, loss=_CLASSIFIER_LOSS)}
{_TRACE_WHY}
    With several classes, ``W`` is the (n_tasks, n_features * n_classes)
    matrix of all tasks' class vectors.

    Parameters
    ----------{_PARAMS_DOC}

    Attributes
    ----------{_CLASSIFIER_FITTED}{_FITTED_DOC}

    See Also
    --------
    LowRankMultiTaskRegressor : The same penalty with the squared loss.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_mtl.linear import LowRankMultiTaskClassifier
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(120, 5))
    >>> task_ids = np.repeat([0, 1, 2, 3], 30)
    >>> y = (X[:, 0] - X[:, 2] > 0).astype(int)
    >>> model = LowRankMultiTaskClassifier(alpha=1.0).fit(X, y, task_ids=task_ids)
    >>> model.predict_proba(X[:2], task_ids=task_ids[:2]).shape
    (2, 2)
    """
    _penalty_class = TraceNormPenalty
