"""Robust multi-task model: low-rank task models plus whole outlier tasks."""

from numbers import Real

import numpy as np
from sklearn.utils._param_validation import Interval

from ._penalties import TaskGroupPenalty, TraceNormPenalty
from ._structured import _StructuredClassifier, _StructuredRegressor
from ._two_part import (
    CLASSIFIER_COEF_DOC,
    LOGISTIC_LOSS_DOC,
    REGRESSOR_COEF_DOC,
    SQUARED_LOSS_DOC,
    TWO_PART_FITTED_DOC,
    TWO_PART_PARAMS_DOC,
    _TwoPartMixin,
)

__all__ = ["RobustMultiTaskRegressor", "RobustMultiTaskClassifier"]


class _RobustModel(_TwoPartMixin):
    _parameter_constraints = {
        **_TwoPartMixin._parameter_constraints,
        "outlier_ratio": [Interval(Real, 0, None, closed="neither")],
    }
    _penalty_parts = (TraceNormPenalty, TaskGroupPenalty)
    _ratio_param = "outlier_ratio"
    _part_names = ("coef_low_rank_", "coef_outlier_")

    def __init__(
        self,
        *,
        alpha=1.0,
        outlier_ratio=0.5,
        alpha_l2=0.0,
        loss_normalization="sum",
        task_column=None,
        solver="auto",
        tol=1e-6,
        max_iter=1000,
        warm_start=False,
    ):
        self.alpha = alpha
        self.outlier_ratio = outlier_ratio
        self.alpha_l2 = alpha_l2
        self.loss_normalization = loss_normalization
        self.task_column = task_column
        self.solver = solver
        self.tol = tol
        self.max_iter = max_iter
        self.warm_start = warm_start

    def _set_parts(self, parts):
        super()._set_parts(parts)
        outlier = self.coef_outlier_.reshape(len(self.tasks_), -1)
        self.outlier_tasks_ = self.tasks_[np.any(outlier != 0, axis=1)]


_ROBUST_DOC = """
    One linear function per task, ``x @ w_t + b_t``, with the (n_tasks,
    n_features) matrix of task models split as ``W = L + S`` and fitted by
    minimizing::

        sum_t c_t sum_{{i in t}} s_i loss(y_i, x_i @ w_t + b_t)
            + alpha (||L||_* + outlier_ratio sum_t ||S[t]||_2)
            + (alpha_l2 / 2) (||L||_F^2 + ||S||_F^2)

    with {loss}, ``s_i`` the sample weights and ``c_t`` the per-task loss
    weight (``loss_normalization``). Intercepts are not penalized.

    ``L`` is low-rank (trace norm): the tasks that agree share a subspace.
    ``S`` is task-sparse (a Euclidean norm per task, summed): a task that does
    not fit the subspace gets its own row of ``S``, and is reported in
    ``outlier_tasks_`` (Chen, Zhou & Ye, "Integrating low-rank and
    group-sparse structures for robust multi-task learning", KDD 2011;
    MALSAR's ``Least_RMTL``, there with tasks as columns). From
    ``outlier_ratio = 1`` up, ``S = 0`` and the model is
    :class:`LowRankMultiTask{kind}` with the same ``alpha``; the useful range
    is ``(1 / sqrt(n_tasks), 1)``.
"""

_ROBUST_PARTS = """
    coef_low_rank_ : ndarray of the shape of ``coef_``
        ``L``, the low-rank part.
    coef_outlier_ : ndarray of the shape of ``coef_``
        ``S``, the outlier part: zero except for the outlier tasks.
    outlier_tasks_ : ndarray
        Labels of the tasks whose row of ``S`` is not zero."""


class RobustMultiTaskRegressor(_RobustModel, _StructuredRegressor):
    __doc__ = f"""Robust multi-task least squares: low-rank tasks plus outlier tasks.
{_ROBUST_DOC.format(loss=SQUARED_LOSS_DOC, kind="Regressor")}
    Parameters
    ----------{TWO_PART_PARAMS_DOC.format(ratio="outlier_ratio", ratio_default=0.5)}

    Attributes
    ----------{REGRESSOR_COEF_DOC}{_ROBUST_PARTS}{
        TWO_PART_FITTED_DOC.format(ratio="outlier_ratio")
    }

    See Also
    --------
    RobustMultiTaskClassifier : The same model with the logistic loss.
    LowRankMultiTaskRegressor : Only the low-rank part (``S = 0``).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_mtl.linear import RobustMultiTaskRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(400, 8))
    >>> task_ids = np.repeat(np.arange(10), 40)
    >>> W = np.outer(rng.normal(size=10), rng.normal(size=8))  # rank one
    >>> W[[3, 7]] = 3.0 * rng.normal(size=(2, 8))  # two outlier tasks
    >>> y = np.einsum("ij,ij->i", X, W[task_ids]) + 0.1 * rng.normal(size=400)
    >>> model = RobustMultiTaskRegressor(alpha=10.0, outlier_ratio=0.8)
    >>> model.fit(X, y, task_ids=task_ids).outlier_tasks_.tolist()
    [3, 7]
    """


class RobustMultiTaskClassifier(_RobustModel, _StructuredClassifier):
    __doc__ = f"""Robust multi-task logistic regression: low-rank plus outlier tasks.
{_ROBUST_DOC.format(loss=LOGISTIC_LOSS_DOC, kind="Classifier")}
    With several classes, a task's row of ``S`` holds all its class vectors,
    and ``L`` is the (n_tasks, n_features * n_classes) matrix of them.

    Parameters
    ----------{TWO_PART_PARAMS_DOC.format(ratio="outlier_ratio", ratio_default=0.5)}

    Attributes
    ----------{CLASSIFIER_COEF_DOC}{_ROBUST_PARTS}{
        TWO_PART_FITTED_DOC.format(ratio="outlier_ratio")
    }

    See Also
    --------
    RobustMultiTaskRegressor : The same model with the squared loss.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_mtl.linear import RobustMultiTaskClassifier
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(300, 5))
    >>> task_ids = np.repeat(np.arange(6), 50)
    >>> y = (X[:, 0] - X[:, 1] > 0).astype(int)
    >>> y[task_ids == 5] = X[task_ids == 5, 4] > 0  # one task unlike the others
    >>> model = RobustMultiTaskClassifier(alpha=2.0, outlier_ratio=0.5)
    >>> model.fit(X, y, task_ids=task_ids).coef_low_rank_.shape
    (6, 5)
    """
