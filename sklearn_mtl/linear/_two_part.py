"""Two-part structured models, ``W = W_1 + W_2`` with one penalty per part.

The dirty (:mod:`._dirty`) and robust (:mod:`._robust`) models minimize
``loss(W_1 + W_2) + alpha (R_1(W_1) + c R_2(W_2))``. Here the loss is
evaluated at the sum of the parts (:class:`SumOfPartsLoss`), the penalty is a
:class:`~._penalties.StackedPenalty`, and the structured models' solver
(accelerated proximal gradient) runs unchanged on the stacked variable
``[W_1, W_2]``.
"""

from numbers import Integral, Real
from types import SimpleNamespace

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions

from ._penalties import StackedPenalty
from ._structured import _StructuredModel

__all__ = ["SumOfPartsLoss"]


class SumOfPartsLoss:
    """A structured loss evaluated at the sum of stacked parts.

    ``z = [W_1, ..., W_K, rest]`` along axis 1 (``rest``: the wrapped loss's
    unpenalized intercept coordinates, if any) is evaluated as
    ``loss([W_1 + ... + W_K, rest])``. The gradient in every part is the
    wrapped loss's gradient in ``W``; the sum is a linear map of norm
    ``sqrt(K)``, so the Lipschitz bound is ``K`` times the wrapped one.
    ``coef_intercept`` also records the parts of the last solution it
    converted (``parts``), in the layout of ``coef_``.
    """

    gram = None

    def __init__(self, loss, n_parts=2):
        self.loss, self.n_parts = loss, n_parts
        self._d = loss.n_features
        self.n_features = n_parts * self._d
        self.parts = None

    def _split(self, z):
        d = self._d
        blocks = [z[:, k * d : (k + 1) * d] for k in range(self.n_parts)]
        return blocks, z[:, self.n_parts * d :]

    def _stack(self, coef, rest):
        return np.concatenate([coef] * self.n_parts + [rest], axis=1)

    def _sum(self, z):
        blocks, rest = self._split(z)
        return np.concatenate([sum(blocks), rest], axis=1)

    def initial(self):
        x0 = self.loss.initial()
        d = self._d
        return self._stack(x0[:, :d], x0[:, d:])

    def value_grad(self, z):
        value, grad = self.loss.value_grad(self._sum(z))
        d = self._d
        return value, self._stack(grad[:, :d], grad[:, d:])

    def lipschitz(self):
        return self.n_parts * self.loss.lipschitz()

    def zero_gradient(self):
        return np.concatenate([self.loss.zero_gradient()] * self.n_parts, axis=1)

    def coef_intercept(self, z):
        blocks, rest = self._split(z)
        self.parts = [
            self.loss.coef_intercept(np.concatenate([block, rest], axis=1))[0]
            for block in blocks
        ]
        return self.loss.coef_intercept(self._sum(z))


class _PartsPath:
    """A path problem of the structured models whose fitted copies get the parts.

    Forwards everything to the wrapped problem; ``fit(alpha)`` also sets the
    two parts on the fitted copy it returns (a path, a CV fold).
    """

    def __init__(self, problem):
        self._problem = problem

    def __getattr__(self, name):
        return getattr(self._problem, name)

    def fit(self, alpha):
        model = self._problem.fit(alpha)
        model._set_parts(self._problem.loss.parts)
        return model


class _TwoPartMixin:
    """Two-part models on the structured models' fit.

    A subclass sets ``_penalty_parts`` (the two penalty classes),
    ``_ratio_param`` (the name of the weight ``c`` of the second part) and
    ``_part_names`` (the fitted attributes of the two parts), and may extend
    ``_set_parts``.
    """

    _parameter_constraints = {
        **_StructuredModel._parameter_constraints,
        # Block coordinate descent needs Gram blocks of the stacked variable,
        # whose two parts are perfectly collinear: proximal gradient only.
        "solver": [StrOptions({"auto", "apg"})],
        "tol": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
    }
    _penalty_parts = ()
    _ratio_param = None
    _part_names = ()

    # Called by the structured models' fit as ``_penalty_class(alpha,
    # alpha_l2)``: a method here, since the stacked penalty needs the ratio.
    def _penalty_class(self, alpha, alpha_l2=0.0):
        first, second = self._penalty_parts
        ratio = getattr(self, self._ratio_param)
        return StackedPenalty(
            alpha,
            [(first, 1.0), (second, ratio)],
            alpha_l2,
        )

    def _wrap(self, loss):
        return SumOfPartsLoss(loss, n_parts=2)

    # The structured models' fit builds the loss (``_path_problem``), then
    # solves (``_fit_problem``); the loss is wrapped between the two.
    def _path_problem(self, X, y, task_ids=None, sample_weight=None):
        problem = super()._path_problem(X, y, task_ids, sample_weight)
        return _PartsPath(
            type(problem)(self, self._wrap(problem.loss), problem.n_tasks)
        )

    def _fit_problem(self, problem):
        super()._fit_problem(problem)
        self._set_parts(problem.loss.parts)
        return self

    def _set_parts(self, parts):
        for name, part in zip(self._part_names, parts):
            setattr(self, name, part)

    def _packed_params(self):
        # The previous solution in the solver's stacked layout, for warm start:
        # each part packed as the base packs ``coef_`` (with the intercepts).
        pack = super()._packed_params.__func__
        packed = [
            pack(SimpleNamespace(coef_=getattr(self, name), intercept_=self.intercept_))
            for name in self._part_names
        ]
        d = self.coef_.shape[-1]
        return np.concatenate(
            [block[:, :d] for block in packed] + [packed[0][:, d:]], axis=1
        )


TWO_PART_PARAMS_DOC = """
    alpha : float, default=1.0
        Strength of the penalty on the first part. ``alpha_max_`` (set by
        fit) is the smallest value that gives ``W = 0``.
    {ratio} : float, default={ratio_default}
        Strength of the penalty on the second part relative to ``alpha``
        (the second part is penalized by ``alpha * {ratio}``).
    alpha_l2 : float, default=0.0
        Ridge penalty ``(alpha_l2 / 2)`` times the squared Frobenius norm of
        each part.
    loss_normalization : {{"sum", "mean"}}, default="sum"
        Per-task loss weight ``c_t``: 1, or ``1 / sum_{{i in t}} s_i`` (every
        task weighs the same; with one task, scikit-learn's ``1 / (2
        n_samples)`` scaling of the lasso).
    task_column : int or str, default=None
        Column of ``X`` holding each sample's task label, removed from the
        features. None: tasks come from ``task_ids`` or a 2-D ``y``.
    solver : {{"auto", "apg"}}, default="auto"
        Accelerated proximal gradient with backtracking and adaptive restart
        on the stacked parts ("auto" is "apg").
    tol : float, default=1e-6
        Largest violation of the optimality conditions of either part,
        relative to ``alpha_max_``.
    max_iter : int, default=1000
        Maximum solver iterations.
    warm_start : bool, default=False
        Start from the previous fit's parts."""

TWO_PART_FITTED_DOC = """
    alpha_max_ : float
        Smallest ``alpha`` for which both parts are zero: the larger of the
        two parts' dual norms of the gradient at ``W = 0`` (with optimal
        intercepts), the second divided by ``{ratio}``.
    n_iter_ : int
        Solver iterations.
    tasks_ : ndarray of shape (n_tasks,)
        Sorted task labels (``0..T-1`` for a wide 2-D ``y``).
    task_format_ : {{"long", "wide"}}
        How tasks were given in fit.
    n_features_in_ : int
        Number of columns of ``X`` in fit, task column included.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Column names of ``X`` in fit, when it had string column names."""

REGRESSOR_COEF_DOC = """
    coef_ : ndarray of shape (n_tasks, n_features)
        Coefficients of each task, the sum of the two parts.
    intercept_ : ndarray of shape (n_tasks,)
        Intercept of each task."""

CLASSIFIER_COEF_DOC = """
    classes_ : ndarray of shape (n_classes,)
        Union of the class labels of all tasks.
    coef_ : ndarray of shape (n_tasks, n_features) or (n_tasks, n_classes, \
n_features)
        Coefficients per task (binary) or per task and class (multiclass),
        the sum of the two parts.
    intercept_ : ndarray of shape (n_tasks,) or (n_tasks, n_classes)
        Intercepts.
    task_class_mask_ : ndarray of shape (n_tasks, n_classes)
        Which classes each task saw in fit."""

SQUARED_LOSS_DOC = "the squared loss ``(1/2)(y - f(x))^2``"
LOGISTIC_LOSS_DOC = (
    "the logistic loss (sigmoid for two classes; for more, a softmax over the "
    "classes seen in the sample's task, one coefficient vector per class)"
)
