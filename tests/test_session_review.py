"""Regression tests from reviewer R2's correctness review of session 4."""

import numpy as np
import pytest

from sklearn_mtl.transfer._estimators import TransferRegressor


def test_regressor_interpolation_consistency_raises_instead_of_falling_back():
    # Interpolation consistency compares predicted classes; for a regressor
    # every candidate's fold score used to fail with a ValueError that the
    # label-free selection swallowed, so fit silently "fell back to
    # source_only" instead of naming the misconfigured parameter.
    rng = np.random.RandomState(0)
    X = np.vstack([rng.normal(size=(30, 3)), rng.normal(size=(20, 3)) + 0.5])
    y = np.r_[X[:30, 0], np.full(20, np.nan)]
    domains = np.repeat(["source", "target"], [30, 20])
    model = TransferRegressor(
        target="target", unlabelled_scoring="interpolation_consistency"
    )
    with pytest.raises(ValueError, match="unlabelled_scoring='interpolation_consi"):
        model.fit(X, y, task_ids=domains)
