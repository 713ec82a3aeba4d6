"""Dirty multi-task model: shared row-sparse plus task-specific element-sparse."""

from numbers import Real

from sklearn.utils._param_validation import Interval

from ._penalties import L1Penalty, L21Penalty
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

__all__ = ["DirtyMultiTaskRegressor", "DirtyMultiTaskClassifier"]


class _DirtyModel(_TwoPartMixin):
    _parameter_constraints = {
        **_TwoPartMixin._parameter_constraints,
        "specific_ratio": [Interval(Real, 0, None, closed="neither")],
    }
    _penalty_parts = (L21Penalty, L1Penalty)
    _ratio_param = "specific_ratio"
    _part_names = ("coef_shared_", "coef_specific_")

    def __init__(
        self,
        *,
        alpha=1.0,
        specific_ratio=0.5,
        alpha_l2=0.0,
        loss_normalization="sum",
        task_column=None,
        solver="auto",
        tol=1e-6,
        max_iter=1000,
        warm_start=False,
    ):
        self.alpha = alpha
        self.specific_ratio = specific_ratio
        self.alpha_l2 = alpha_l2
        self.loss_normalization = loss_normalization
        self.task_column = task_column
        self.solver = solver
        self.tol = tol
        self.max_iter = max_iter
        self.warm_start = warm_start


_DIRTY_DOC = """
    One linear function per task, ``x @ w_t + b_t``, with the (n_tasks,
    n_features) matrix of task models split as ``W = P + Q`` and fitted by
    minimizing::

        sum_t c_t sum_{{i in t}} s_i loss(y_i, x_i @ w_t + b_t)
            + alpha (sum_j ||P[:, j]||_2 + specific_ratio ||Q||_1)
            + (alpha_l2 / 2) (||P||_F^2 + ||Q||_F^2)

    with {loss}, ``s_i`` the sample weights and ``c_t`` the per-task loss
    weight (``loss_normalization``). Intercepts are not penalized.

    ``P`` is row-sparse: features that all tasks share (the L2,1 norm of
    joint feature selection). ``Q`` is element-sparse: a few task-specific
    features or exceptions (the L1 norm). Where tasks share only part of
    their support, the sum fits better than either (Jalali, Ravikumar,
    Sanghavi & Ruan, "A dirty model for multi-task learning", NeurIPS 2010;
    MALSAR's ``Least_Dirty``). The interesting range of ``specific_ratio`` is
    ``(1 / sqrt(n_tasks), 1)``: from 1 up, ``Q = 0`` and the model is
    :class:`JointFeatureMultiTask{kind}` with the same ``alpha``; from
    ``1 / sqrt(n_tasks)`` down, ``P = 0`` and it is
    :class:`SparseMultiTask{kind}` with ``alpha * specific_ratio``.
"""

_DIRTY_PARTS = """
    coef_shared_ : ndarray of the shape of ``coef_``
        ``P``, the row-sparse part: features used by all tasks.
    coef_specific_ : ndarray of the shape of ``coef_``
        ``Q``, the element-sparse part: task-specific features."""


class DirtyMultiTaskRegressor(_DirtyModel, _StructuredRegressor):
    __doc__ = f"""Dirty multi-task least squares: shared plus task-specific sparsity.
{_DIRTY_DOC.format(loss=SQUARED_LOSS_DOC, kind="Regressor")}
    Parameters
    ----------{TWO_PART_PARAMS_DOC.format(ratio="specific_ratio", ratio_default=0.5)}

    Attributes
    ----------{REGRESSOR_COEF_DOC}{_DIRTY_PARTS}{
        TWO_PART_FITTED_DOC.format(ratio="specific_ratio")
    }

    See Also
    --------
    DirtyMultiTaskClassifier : The same model with the logistic loss.
    JointFeatureMultiTaskRegressor : Only shared features (``Q = 0``).
    SparseMultiTaskRegressor : Only task-specific features (``P = 0``).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_mtl.linear import DirtyMultiTaskRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(240, 10))
    >>> task_ids = np.repeat(np.arange(6), 40)
    >>> W = np.zeros((6, 10))
    >>> W[:, :2] = 2.0  # shared by every task
    >>> W[0, 7] = 3.0  # task 0 only
    >>> y = np.einsum("ij,ij->i", X, W[task_ids]) + 0.1 * rng.normal(size=240)
    >>> model = DirtyMultiTaskRegressor(alpha=30.0, specific_ratio=0.6)
    >>> model = model.fit(X, y, task_ids=task_ids)
    >>> np.flatnonzero(np.linalg.norm(model.coef_shared_, axis=0)).tolist()
    [0, 1]
    >>> np.argwhere(model.coef_specific_ != 0).tolist()
    [[0, 7]]
    """


class DirtyMultiTaskClassifier(_DirtyModel, _StructuredClassifier):
    __doc__ = f"""Dirty multi-task logistic regression: shared plus task-specific.
{_DIRTY_DOC.format(loss=LOGISTIC_LOSS_DOC, kind="Classifier")}
    With several classes, a feature's row of ``P`` holds its coefficients in
    every task and class.

    Parameters
    ----------{TWO_PART_PARAMS_DOC.format(ratio="specific_ratio", ratio_default=0.5)}

    Attributes
    ----------{CLASSIFIER_COEF_DOC}{_DIRTY_PARTS}{
        TWO_PART_FITTED_DOC.format(ratio="specific_ratio")
    }

    See Also
    --------
    DirtyMultiTaskRegressor : The same model with the squared loss.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_mtl.linear import DirtyMultiTaskClassifier
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 6))
    >>> task_ids = np.repeat([0, 1, 2, 3], 50)
    >>> y = (X[:, 0] + (task_ids == 0) * X[:, 3] > 0).astype(int)
    >>> model = DirtyMultiTaskClassifier(alpha=5.0, specific_ratio=0.6)
    >>> model.fit(X, y, task_ids=task_ids).coef_shared_.shape
    (4, 6)
    >>> model.predict(X[:3], task_ids=task_ids[:3]).shape
    (3,)
    """
