"""L1 and elastic-net multi-task models: every task selects its own features."""

from ._penalties import L1Penalty
from ._structured import (
    _CLASSIFIER_FITTED,
    _CLASSIFIER_LOSS,
    _FITTED_DOC,
    _OBJECTIVE_DOC,
    _PARAMS_DOC,
    _REGRESSOR_FITTED,
    _StructuredClassifier,
    _StructuredRegressor,
)

__all__ = ["SparseMultiTaskRegressor", "SparseMultiTaskClassifier"]

_L1 = "||W||_1"
_L1_WHY = """
    The L1 norm sums the absolute values of all coefficients: each task
    selects its own features (the lasso; with ``alpha_l2 > 0``, the elastic
    net). The tasks share nothing through the penalty; fitting them together
    gives one estimator, one ``alpha`` and one cross-validation for all tasks,
    with ``loss_normalization="mean"`` weighing the tasks equally. scikit-learn's
    ``ElasticNet(alpha=a, l1_ratio=r)`` on one task is ``alpha = a * r``,
    ``alpha_l2 = a * (1 - r)`` with ``loss_normalization="mean"``.
"""


class SparseMultiTaskRegressor(_StructuredRegressor):
    __doc__ = f"""Multi-task least squares with L1 (lasso) or elastic-net penalty.
{_OBJECTIVE_DOC.format(penalty=_L1, loss="the squared loss ``(1/2)(y - f(x))^2``")}
{_L1_WHY}
    Parameters
    ----------{_PARAMS_DOC}

    Attributes
    ----------{_REGRESSOR_FITTED}{_FITTED_DOC}

    See Also
    --------
    SparseMultiTaskClassifier : The same penalty with the logistic loss.
    JointFeatureMultiTaskRegressor : Tasks that select the same features.
    sklearn.linear_model.ElasticNet : One task.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_mtl.linear import SparseMultiTaskRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(90, 6))
    >>> task_ids = np.repeat([0, 1, 2], 30)
    >>> W = np.zeros((3, 6))
    >>> W[[0, 1, 2], [0, 2, 4]] = 3.0  # a different feature per task
    >>> y = np.einsum("ij,ij->i", X, W[task_ids]) + 0.1 * rng.normal(size=90)
    >>> model = SparseMultiTaskRegressor(alpha=0.5, loss_normalization="mean")
    >>> np.argwhere(model.fit(X, y, task_ids=task_ids).coef_).tolist()
    [[0, 0], [1, 2], [2, 4]]
    """
    _penalty_class = L1Penalty


class SparseMultiTaskClassifier(_StructuredClassifier):
    __doc__ = f"""Multi-task logistic regression with L1 or elastic-net penalty.
{_OBJECTIVE_DOC.format(penalty=_L1, loss=_CLASSIFIER_LOSS)}
{_L1_WHY}
    Parameters
    ----------{_PARAMS_DOC}

    Attributes
    ----------{_CLASSIFIER_FITTED}{_FITTED_DOC}

    See Also
    --------
    SparseMultiTaskRegressor : The same penalty with the squared loss.
    JointFeatureMultiTaskClassifier : Tasks that select the same features.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_mtl.linear import SparseMultiTaskClassifier
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(120, 5))
    >>> task_ids = np.repeat(["a", "b"], 60)
    >>> y = np.where(task_ids == "a", X[:, 0], X[:, 3]) > 0
    >>> model = SparseMultiTaskClassifier(alpha=4.0).fit(X, y, task_ids=task_ids)
    >>> np.argwhere(model.coef_).tolist()
    [[0, 0], [1, 3]]
    """
    _penalty_class = L1Penalty
