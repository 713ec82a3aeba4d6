"""Graph-regularized multi-task linear models (regression and classification)."""

import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import (
    Interval,
    InvalidParameterError,
    StrOptions,
)

from .._base import MultiTaskClassifierMixin, MultiTaskRegressorMixin
from .._tasks import check_fit_data
from ..graphs._graphs import (
    FullGraph,
    LearnedGraph,
    TaskGraph,
    TreeGraph,
    adjacency_from_input,
    laplacian,
    resolve_graph,
)
from ._losses import LogisticLoss, task_loss_scale
from ._prediction import (
    ARRAY_PARAMS,
    LinearTaskClassifierMixin,
    LinearTaskRegressorMixin,
)
from ._problems import SquaredProblem, solve_logistic, solve_squared
from ._smooth_penalties import TaskPenalty
from ._solvers import blas_threads_for

__all__ = ["GraphMultiTaskRegressor", "GraphMultiTaskClassifier"]


_OBJECTIVE_DOC = """
    The model has one linear function per task, ``x @ w_t + b_t``, fitted
    jointly by minimizing::

        sum_t c_t sum_{{i in t}} s_i loss(y_i, x_i @ w_t + b_t)
            + (alpha_graph / 2) sum_{{s,t}} A[s, t] ||w_s - w_t||^2
            + (alpha_l2 / 2) ||W||_F^2 + alpha_l1 ||W||_1

    with {loss}, ``A`` the task graph (sum over ordered pairs, so the graph
    term equals ``alpha_graph * tr(W^T L W)`` with ``L`` the Laplacian),
    ``s_i`` the sample weights and ``c_t = 1`` (``loss_normalization="sum"``:
    every sample counts once, as in scikit-learn's Ridge, so larger tasks
    hold their model more firmly against the graph) or ``1 / sum_{{i in t}} s_i``
    (``"mean"``: every task weighs the same). Intercepts are not penalized.
    With ``alpha_graph=0`` the tasks are independent {reference}; as
    ``alpha_graph`` grows with a connected graph, all tasks share one ``w``
    (each keeps its own intercept).
"""

_SHARED_PARAMS_DOC = """
    graph : {{"full", "chain", "knn", "learned"}}, TaskGraph, array-like, \
sparse matrix or dict, default="full"
        Which tasks are pulled together. "full": every pair, weight ``1/T``
        (each task pulled toward the mean model); "chain": consecutive tasks
        in sorted label order; "knn": each task's nearest tasks by the cosine
        of independent ridge fits (:class:`~sklearn_mtl.graphs.KNNGraph`);
        "learned": a task covariance learned with the models
        (:class:`~sklearn_mtl.graphs.LearnedGraph`). A
        :class:`~sklearn_mtl.graphs.TreeGraph` gives a hierarchy. A (T, T)
        matrix is a non-negative adjacency over the sorted task labels; a dict
        maps ``(task, task)`` pairs to undirected edge weights.
    alpha_graph : float, default=1.0
        Strength of the graph penalty.
    alpha_l2 : float, default=1.0
        Ridge penalty on every task's coefficients.
    alpha_l1 : float, default=0.0
        Lasso penalty (MALSAR's sparse graph-regularized model); solved by
        accelerated proximal gradient, which gives exact zeros.
    loss_normalization : {{"sum", "mean"}}, default="sum"
        Per-task loss weight ``c_t``, see above.
    task_column : int or str, default=None
        Column of ``X`` holding each sample's task label, removed from the
        features; lets ``GridSearchCV`` and scorers, which route no task
        labels to ``predict``, work. None: tasks come from ``task_ids`` or a
        2-D ``y``."""

_SHARED_FITTED_DOC = """
    tasks_ : ndarray of shape (n_tasks,)
        Sorted task labels (``0..T-1`` for a wide 2-D ``y``).
    task_format_ : {{"long", "wide"}}
        How tasks were given in fit.
    adjacency_ : sparse array or ndarray of shape (n_tasks, n_tasks)
        The task graph used (for a learned graph, minus the off-diagonal of
        the learned precision; it may hold negative entries).
    laplacian_ : sparse array or ndarray of shape (n_tasks, n_tasks)
        The matrix ``P`` of the penalty ``alpha_graph * tr(W^T P W)``: the
        graph Laplacian, or the learned task precision.
    task_covariance_ : ndarray of shape (n_tasks, n_tasks)
        Learned task covariance (only with a learned graph).
    n_iter_ : int
        Solver iterations (summed over alternations for a learned graph).
    n_features_in_ : int
        Number of columns of ``X`` in fit, task column included.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Column names of ``X`` in fit, when it had string column names."""


class _CompleteGraph:
    """The complete graph's ``adjacency_`` / ``laplacian_``, built when first read.

    The solver never needs these (T, T) matrices, whose size would dominate a
    fit of thousands of tasks.
    """

    def __init__(self, tasks):
        self.tasks = tasks

    def adjacency(self):
        return FullGraph().adjacency(self.tasks)

    def laplacian(self):
        return laplacian(self.adjacency())


def _fitted_graph_matrix(name, doc):
    key = f"_{name}"

    def getter(self):
        try:
            value = self.__dict__[key]
        except KeyError:
            raise AttributeError(
                f"{type(self).__name__!r} object has no attribute {name!r}"
            ) from None
        if isinstance(value, _CompleteGraph):
            value = getattr(value, name.rstrip("_"))()
            self.__dict__[key] = value
        return value

    def setter(self, value):
        self.__dict__[key] = value

    return property(getter, setter, doc=doc)


class _GraphMultiTaskModel(BaseEstimator):
    _parameter_constraints = {
        "graph": [
            StrOptions({"full", "chain", "knn", "learned"}),
            TaskGraph,
            "array-like",
            "sparse matrix",
            dict,
        ],
        "alpha_graph": [Interval(Real, 0, None, closed="left")],
        "alpha_l2": [Interval(Real, 0, None, closed="left")],
        "alpha_l1": [Interval(Real, 0, None, closed="left")],
        "loss_normalization": [StrOptions({"sum", "mean"})],
        "task_column": [None, Integral, str],
        "tol": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "warm_start": ["boolean"],
    }
    _smooth_solvers = ()

    def __init__(
        self,
        *,
        graph="full",
        alpha_graph=1.0,
        alpha_l2=1.0,
        alpha_l1=0.0,
        loss_normalization="sum",
        task_column=None,
        solver="auto",
        tol=1e-6,
        max_iter=1000,
        warm_start=False,
    ):
        self.graph = graph
        self.alpha_graph = alpha_graph
        self.alpha_l2 = alpha_l2
        self.alpha_l1 = alpha_l1
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

    def _resolved_solver(self):
        if self.solver == "auto":
            return "fista" if self.alpha_l1 > 0 else self._smooth_solvers[0]
        if self.alpha_l1 > 0 and self.solver != "fista":
            raise ValueError(
                f"solver={self.solver!r} cannot handle alpha_l1 > 0; use "
                "solver='fista' or 'auto'."
            )
        return self.solver

    adjacency_ = _fitted_graph_matrix("adjacency_", "The task graph used.")
    laplacian_ = _fitted_graph_matrix("laplacian_", "The penalty's matrix P.")

    def _dense_coupling(self):
        """Whether the task penalty is a dense (T, T) matrix in the solver."""
        graph = resolve_graph(self.graph)
        if graph is not None:
            return isinstance(graph, (LearnedGraph, TreeGraph))
        return not (isinstance(self.graph, dict) or sp.issparse(self.graph))

    def _fit_graph(self, data, loss, solve, init, coef_of, ridge_coef):
        """Minimize ``loss`` + the graph penalty by ``solve(loss, penalty, alpha_l1,
        init, ...)`` (:mod:`._problems`); sets the fitted graph attributes.

        ``coef_of(params)`` extracts the penalized coefficients (T, ...) and
        ``ridge_coef()`` gives independent per-task fits for data-built graphs.
        """
        solver = self._resolved_solver()
        graph = resolve_graph(self.graph)
        if graph is not None and graph._parameter_constraints:
            # A graph object is a nested parameter: its own constraints
            # (KNNGraph(n_neighbors=0), LearnedGraph(eps=0), a TreeGraph of a
            # list) are checked here, naming the graph's parameter. A user's
            # TaskGraph subclass declaring none is not asked for get_params.
            try:
                graph._validate_params()
            except InvalidParameterError as exc:
                raise InvalidParameterError(f"graph={graph!r}: {exc}") from exc
        fit_options = dict(solver=solver, tol=self.tol, max_iter=self.max_iter)
        if isinstance(graph, LearnedGraph):
            return self._fit_learned_graph(
                graph, data, loss, solve, init, coef_of, fit_options
            )
        if isinstance(graph, FullGraph) and data.n_tasks > 1:
            # The complete graph's Laplacian is I - 11^T / T: the solver uses
            # it in closed form, and the (T, T) matrices wait until read.
            self.adjacency_ = self.laplacian_ = _CompleteGraph(self.tasks_)
            penalty = TaskPenalty(
                None,
                self.alpha_graph,
                self.alpha_l2,
                complete_weight=1.0,
                n_tasks=data.n_tasks,
            )
        else:
            if graph is None:
                adjacency = adjacency_from_input(self.graph, self.tasks_)
            else:
                task_coef = ridge_coef() if graph.needs_task_coef else None
                adjacency = graph.adjacency(self.tasks_, task_coef)
            self.adjacency_ = adjacency
            self.laplacian_ = laplacian(adjacency)
            penalty = TaskPenalty(self.laplacian_, self.alpha_graph, self.alpha_l2)
        result = solve(loss, penalty, self.alpha_l1, init, **fit_options)
        self.n_iter_ = result.n_iter
        self._warn_if_not_converged(result.converged)
        return result.x

    def _fit_learned_graph(
        self, graph, data, loss, solve, params, coef_of, fit_options
    ):
        covariance = np.eye(data.n_tasks)
        total_iter, converged, shift = 0, True, 1.0
        for _ in range(graph.n_iter):
            penalty = TaskPenalty(
                np.linalg.inv(covariance), self.alpha_graph, self.alpha_l2
            )
            # Inexact alternation: each solve starts from the previous models,
            # and while the covariance still moves by `shift` its models need
            # less accuracy (scaled by tol, so a tight tol keeps the path of
            # exact solves); the last solve below is at full tol.
            loose = min(1e-3, 1e3 * self.tol * shift)
            inner = dict(fit_options, tol=max(self.tol, loose))
            result = solve(loss, penalty, self.alpha_l1, params, **inner)
            params, total_iter = result.x, total_iter + result.n_iter
            converged &= result.converged
            coef = coef_of(params).reshape(data.n_tasks, -1)
            new_covariance = graph.covariance(coef)
            shift = np.linalg.norm(new_covariance - covariance) / np.linalg.norm(
                covariance
            )
            covariance = new_covariance
            if shift <= graph.tol:
                break
        precision = np.linalg.inv(covariance)
        result = solve(
            loss,
            TaskPenalty(precision, self.alpha_graph, self.alpha_l2),
            self.alpha_l1,
            params,
            **fit_options,
        )
        self.task_covariance_ = covariance
        self.laplacian_ = precision
        adjacency = -precision.copy()
        np.fill_diagonal(adjacency, 0.0)
        self.adjacency_ = adjacency
        self.n_iter_ = total_iter + result.n_iter
        self._warn_if_not_converged(converged and result.converged)
        return result.x

    def _warn_if_not_converged(self, converged):
        if not converged:
            warnings.warn(
                f"{type(self).__name__} did not converge in max_iter={self.max_iter} "
                f"iterations to tol={self.tol}; increase max_iter or scale the data.",
                ConvergenceWarning,
                stacklevel=3,
            )

    def _warm_params(self, shape):
        if not self.warm_start or not hasattr(self, "coef_"):
            return None
        params = self._packed_params()
        return params if params.shape == shape else None


class GraphMultiTaskRegressor(
    MultiTaskRegressorMixin, LinearTaskRegressorMixin, _GraphMultiTaskModel
):
    __doc__ = f"""Multi-task linear regression regularized along a task graph.
{
        _OBJECTIVE_DOC.format(
            loss="the squared loss ``(1/2)(y - f(x))^2``",
            reference="ridge regressions (``Ridge(alpha=alpha_l2)`` per task)",
        )
    }
    The minimizer solves a block-sparse linear system (per-task ``d x d``
    Gram blocks coupled by ``Laplacian ⊗ I``), which is never formed densely.
    ``X`` may be a scipy.sparse matrix (e.g. word counts); it is never
    densified, and above 2,000 features the Gram blocks are not formed
    either: the solver multiplies by each task's rows instead.

    Parameters
    ----------{_SHARED_PARAMS_DOC}
    solver : {{"auto", "cg", "direct", "fista"}}, default="auto"
        "cg": conjugate gradient preconditioned by the inverted per-task
        blocks (a diagonal preconditioner when a sparse ``X`` has too many
        features for Gram blocks); "direct": sparse LU of the block system
        (exact; pays only for banded graphs such as "chain" or a tree, its
        fill-in grows fast on kNN graphs of many tasks; "cg" is used when a
        sparse ``X`` has too many features for Gram blocks); "fista": accelerated
        proximal gradient with backtracking and adaptive restart (the
        package's ``apg``; the only one for ``alpha_l1 > 0``). "auto": "cg",
        or "fista" when ``alpha_l1 > 0``. The complete graph ("full", or the
        same matrix given) is always solved exactly in rank-d form without
        ``alpha_l1``. Tasks left without any penalty (``alpha_l2=0`` and no
        graph edge) get their minimum-norm least-squares coefficients.
    tol : float, default=1e-6
        "cg": relative residual norm; "fista": largest violation of the
        optimality conditions relative to the largest initial gradient.
    max_iter : int, default=1000
        Maximum solver iterations.
    warm_start : bool, default=False
        Start from the previous fit's coefficients.

    Attributes
    ----------
    coef_ : ndarray of shape (n_tasks, n_features)
        Coefficients of each task (task column excluded).
    intercept_ : ndarray of shape (n_tasks,)
        Intercept of each task.{_SHARED_FITTED_DOC}

    See Also
    --------
    GraphMultiTaskClassifier : The same model with the logistic loss.
    sklearn_mtl.IndependentTasks : One model per task.
    sklearn_mtl.PooledTasks : One model for all tasks.

    Examples
    --------
    >>> from sklearn_mtl import GraphMultiTaskRegressor
    >>> from sklearn_mtl.datasets import make_multitask_regression
    >>> X, y, task_ids = make_multitask_regression(n_tasks=4, random_state=0)
    >>> model = GraphMultiTaskRegressor(graph="full", alpha_graph=10.0)
    >>> model.fit(X, y, task_ids=task_ids).coef_.shape
    (4, 10)
    >>> round(model.score(X, y, task_ids=task_ids), 2)
    0.93
    """

    _parameter_constraints = {
        **_GraphMultiTaskModel._parameter_constraints,
        "solver": [StrOptions({"auto", "cg", "direct", "fista"})],
    }
    _smooth_solvers = ("cg", "direct")

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
        data = check_fit_data(
            self, X, y, task_ids, sample_weight, array_params=ARRAY_PARAMS
        )
        with blas_threads_for(data.n_tasks, self._dense_coupling()):
            problem = SquaredProblem(
                data, task_loss_scale(data, self.loss_normalization)
            )
            init = self._warm_params(problem.rhs.shape)
            if init is None:
                init = np.zeros_like(problem.rhs)
            self.coef_ = self._fit_graph(
                data,
                problem,
                solve_squared,
                init,
                coef_of=lambda W: W,
                ridge_coef=lambda: problem.independent_coef(self.alpha_l2),
            )
            self.intercept_ = problem.intercept(self.coef_)
        return self


class GraphMultiTaskClassifier(
    MultiTaskClassifierMixin, LinearTaskClassifierMixin, _GraphMultiTaskModel
):
    __doc__ = f"""Multi-task logistic regression regularized along a task graph.
{
        _OBJECTIVE_DOC.format(
            loss=(
                "the logistic loss (sigmoid for two classes; for more, a softmax "
                "over the classes seen in the sample's task, one coefficient "
                "vector per class, penalized per class)"
            ),
            reference=(
                "logistic regressions (``LogisticRegression(C=1/alpha_l2)`` per task)"
            ),
        )
    }
    ``classes_`` is the union of all tasks' labels; a class never seen in a
    task's training data gets probability 0 in that task. ``X`` may be a
    scipy.sparse matrix; it is never densified.

    Parameters
    ----------{_SHARED_PARAMS_DOC}
    solver : {{"auto", "lbfgs", "fista"}}, default="auto"
        "lbfgs": L-BFGS-B with exact gradients; "fista": accelerated proximal
        gradient with backtracking and adaptive restart (required for
        ``alpha_l1 > 0``). "auto" picks accordingly.
    tol : float, default=1e-6
        Gradient tolerance on the objective divided by the total sample
        weight ("lbfgs"), or on the optimality conditions ("fista").
    max_iter : int, default=1000
        Maximum solver iterations.
    warm_start : bool, default=False
        Start from the previous fit's parameters.

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
        Which classes each task saw in fit.{_SHARED_FITTED_DOC}

    See Also
    --------
    GraphMultiTaskRegressor : The same model with the squared loss.

    Examples
    --------
    >>> from sklearn_mtl import GraphMultiTaskClassifier
    >>> from sklearn_mtl.datasets import make_multitask_classification
    >>> X, y, task_ids = make_multitask_classification(n_tasks=4, random_state=0)
    >>> model = GraphMultiTaskClassifier(alpha_graph=10.0).fit(X, y, task_ids=task_ids)
    >>> model.predict_proba(X[:3], task_ids=task_ids[:3]).shape
    (3, 2)
    """

    _parameter_constraints = {
        **_GraphMultiTaskModel._parameter_constraints,
        "solver": [StrOptions({"auto", "lbfgs", "fista"})],
    }
    _smooth_solvers = ("lbfgs",)

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
        problem = LogisticLoss(
            data,
            classes=self.classes_,
            task_scale=task_loss_scale(data, self.loss_normalization),
        )
        shape = (data.n_tasks, problem.n_features + 1, problem.n_outputs)
        init = self._warm_params(shape)
        if init is None:
            init = np.zeros(shape)

        def ridge_coef():
            # Independent ridge fits on +-1 / one-hot targets: a cheap proxy of
            # each task's decision direction, enough to rank task similarity.
            targets = (
                np.where(data.y == self.classes_[1], 1.0, -1.0)
                if problem.binary
                else np.eye(len(self.classes_))[np.searchsorted(self.classes_, data.y)]
            )
            scale = task_loss_scale(data, self.loss_normalization)
            return SquaredProblem(data, scale, y=targets).independent_coef(
                self.alpha_l2
            )

        with blas_threads_for(data.n_tasks, self._dense_coupling()):
            theta = self._fit_graph(
                data,
                problem,
                solve_logistic,
                init,
                coef_of=lambda p: problem.split(p)[0],
                ridge_coef=ridge_coef,
            )
        coef, intercept = problem.split(theta)
        if problem.binary:
            self.coef_, self.intercept_ = coef[..., 0], intercept[..., 0]
        else:
            self.coef_ = np.swapaxes(coef, 1, 2)
            self.intercept_ = intercept
        if problem.binary:
            self.task_class_mask_ = np.ones((data.n_tasks, 2), dtype=bool)
        else:
            self.task_class_mask_ = problem.allowed
        return self
