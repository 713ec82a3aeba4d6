"""``...CV`` variants of the sparse, dirty and robust structured models.

Each is :class:`~._cv.MultiTaskPathCV` in front of the estimator: the path
hook of the estimator (for the two-part models, the one of
:class:`~._two_part._TwoPartMixin`, which also sets the parts on every fitted
copy) makes the warm-started path of every fold and the refit. The ratio of
the two parts' strengths (``specific_ratio``, ``outlier_ratio``) is a fixed
parameter; cross-validation chooses ``alpha``.
"""

from ._cv import MultiTaskPathCV, cv_docstring
from ._dirty import _DIRTY_PARTS, DirtyMultiTaskClassifier, DirtyMultiTaskRegressor
from ._robust import (
    _ROBUST_PARTS,
    RobustMultiTaskClassifier,
    RobustMultiTaskRegressor,
)
from ._sparse import SparseMultiTaskClassifier, SparseMultiTaskRegressor
from ._structured import (
    _CLASSIFIER_FITTED,
    _FITTED_DOC,
    _PARAMS_DOC,
    _REGRESSOR_FITTED,
)
from ._two_part import (
    CLASSIFIER_COEF_DOC,
    REGRESSOR_COEF_DOC,
    TWO_PART_FITTED_DOC,
    TWO_PART_PARAMS_DOC,
)

__all__ = [
    "SparseMultiTaskRegressorCV",
    "SparseMultiTaskClassifierCV",
    "DirtyMultiTaskRegressorCV",
    "DirtyMultiTaskClassifierCV",
    "RobustMultiTaskRegressorCV",
    "RobustMultiTaskClassifierCV",
]

# Examples: small data, short paths (the doctests run in the suite). The
# regressors' tasks share two features and task 0 has one of its own, so
# every family has something to find.
_REGRESSOR_DATA = """
    >>> import numpy as np
    >>> from sklearn_mtl.linear import {name}
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(160, 6))
    >>> task_ids = np.repeat([0, 1, 2, 3], 40)
    >>> W = np.zeros((4, 6))
    >>> W[:, :2] = rng.normal(size=(1, 2))  # shared by every task
    >>> W[0, 4] = 2.0  # task 0 only
    >>> y = np.einsum("ij,ij->i", X, W[task_ids]) + 0.3 * rng.normal(size=160)
    >>> model = {name}(alphas=10, cv=3{extra}).fit(X, y, task_ids=task_ids)
    >>> model.scores_path_.shape
    (10, 3)
    >>> bool(0 < model.alpha_ < model.alpha_max_)
    True"""
_CLASSIFIER_DATA = """
    >>> import numpy as np
    >>> from sklearn_mtl.linear import {name}
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(160, 5))
    >>> task_ids = np.repeat(["a", "b", "c", "d"], 40)
    >>> y = (X[:, 0] - X[:, 1] + 0.5 * rng.normal(size=160) > 0).astype(int)
    >>> model = {name}(alphas=5, cv=2{extra}).fit(X, y, task_ids=task_ids)
    >>> model.scores_path_.shape
    (5, 2)
    >>> model.predict(X[:3], task_ids=task_ids[:3]).shape
    (3,)"""

_DIRTY_EXTRA = """
    >>> model.coef_shared_.shape, model.coef_specific_.shape
    ((4, {d}), (4, {d}))"""
_ROBUST_EXTRA = """
    >>> model.coef_low_rank_.shape, model.coef_outlier_.shape
    ((4, {d}), (4, {d}))"""


def _example(name, classifier, parts_check="", extra=""):
    template = _CLASSIFIER_DATA if classifier else _REGRESSOR_DATA
    d = 5 if classifier else 6
    return template.format(name=name, extra=extra) + parts_check.format(d=d) + "\n"


def _sparse_doc(estimator_class, classifier):
    fitted = (_CLASSIFIER_FITTED if classifier else _REGRESSOR_FITTED) + _FITTED_DOC
    name = estimator_class.__name__ + "CV"
    return cv_docstring(
        estimator_class, _PARAMS_DOC, fitted, _example(name, classifier)
    )


def _two_part_doc(estimator_class, classifier, ratio, parts_doc, parts_check):
    params = TWO_PART_PARAMS_DOC.format(ratio=ratio, ratio_default=0.5)
    fitted = (
        (CLASSIFIER_COEF_DOC if classifier else REGRESSOR_COEF_DOC)
        + parts_doc
        + TWO_PART_FITTED_DOC.format(ratio=ratio)
    )
    name = estimator_class.__name__ + "CV"
    # The classifiers' examples bound the solver: a proximal-gradient path of
    # a logistic two-part model is the slowest in the family.
    extra = ", tol=1e-4, max_iter=300" if classifier else ""
    example = _example(name, classifier, parts_check, extra)
    return cv_docstring(estimator_class, params, fitted, example)


class SparseMultiTaskRegressorCV(MultiTaskPathCV, SparseMultiTaskRegressor):
    __doc__ = _sparse_doc(SparseMultiTaskRegressor, classifier=False)


class SparseMultiTaskClassifierCV(MultiTaskPathCV, SparseMultiTaskClassifier):
    __doc__ = _sparse_doc(SparseMultiTaskClassifier, classifier=True)


class DirtyMultiTaskRegressorCV(MultiTaskPathCV, DirtyMultiTaskRegressor):
    __doc__ = _two_part_doc(
        DirtyMultiTaskRegressor, False, "specific_ratio", _DIRTY_PARTS, _DIRTY_EXTRA
    )


class DirtyMultiTaskClassifierCV(MultiTaskPathCV, DirtyMultiTaskClassifier):
    __doc__ = _two_part_doc(
        DirtyMultiTaskClassifier, True, "specific_ratio", _DIRTY_PARTS, _DIRTY_EXTRA
    )


class RobustMultiTaskRegressorCV(MultiTaskPathCV, RobustMultiTaskRegressor):
    __doc__ = _two_part_doc(
        RobustMultiTaskRegressor, False, "outlier_ratio", _ROBUST_PARTS, _ROBUST_EXTRA
    )


class RobustMultiTaskClassifierCV(MultiTaskPathCV, RobustMultiTaskClassifier):
    __doc__ = _two_part_doc(
        RobustMultiTaskClassifier, True, "outlier_ratio", _ROBUST_PARTS, _ROBUST_EXTRA
    )
