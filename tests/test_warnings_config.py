"""The test configuration turns deprecations reached through the package into errors."""

import warnings

import numpy as np
import pytest
from sklearn.linear_model import Ridge
from sklearn.utils.deprecation import deprecated

from sklearn_mtl import IndependentTasks


class _DeprecatedFitRidge(Ridge):
    """A scikit-learn estimator whose fit scikit-learn has deprecated."""

    @deprecated("planted: this fit is deprecated")
    def fit(self, X, y, sample_weight=None):
        return super().fit(X, y, sample_weight=sample_weight)


def test_sklearn_deprecation_reached_through_the_package_fails():
    X = np.arange(40.0).reshape(20, 2)
    y, task_ids = X[:, 0], np.repeat([0, 1], 10)
    with pytest.raises(FutureWarning, match="planted"):
        IndependentTasks(_DeprecatedFitRidge()).fit(X, y, task_ids=task_ids)


@pytest.mark.parametrize("category", [DeprecationWarning, FutureWarning])
def test_deprecation_raised_by_the_package_fails(category):
    # Code attributed to a sklearn_mtl module, as the package's own would be.
    planted = {"__name__": "sklearn_mtl._planted", "warnings": warnings}
    exec("def call(c):\n    warnings.warn('planted', c)\n", planted)
    with pytest.raises(category, match="planted"):
        planted["call"](category)


def test_other_warnings_stay_warnings():
    with pytest.warns(UserWarning):
        warnings.warn("not a deprecation", UserWarning, stacklevel=1)
