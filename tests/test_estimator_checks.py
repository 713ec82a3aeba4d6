"""Every estimator through scikit-learn's own checks; none is expected to fail."""

import importlib.util

from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_mtl import (
    GraphMultiTaskClassifier,
    GraphMultiTaskRegressor,
    IndependentTasks,
    MultiTaskClassifier,
    MultiTaskRegressor,
    PooledTasks,
    TransferClassifier,
    TransferRegressor,
)

_NEURAL = (
    [
        MultiTaskRegressor(max_epochs=30, random_state=0),
        MultiTaskClassifier(max_epochs=30, random_state=0),
        MultiTaskClassifier(
            architecture="mmoe", n_experts=2, max_epochs=30, random_state=0
        ),
    ]
    # The neural estimators need the "neural" extra (torch, skorch).
    if all(importlib.util.find_spec(m) for m in ("torch", "skorch"))
    else []
)


@parametrize_with_checks(
    [
        GraphMultiTaskRegressor(),
        GraphMultiTaskRegressor(graph="knn", solver="direct"),
        GraphMultiTaskRegressor(graph="learned", alpha_l1=0.1),
        GraphMultiTaskClassifier(),
        GraphMultiTaskClassifier(graph="chain", alpha_l1=0.01),
        IndependentTasks(Ridge()),
        IndependentTasks(LogisticRegression()),
        PooledTasks(Ridge()),
        PooledTasks(LogisticRegression()),
        # Without a source (the checks give one task) "auto" trains on the target.
        TransferRegressor(),
        TransferClassifier(),
        *_NEURAL,
    ],
)
def test_sklearn_compatible(estimator, check):
    check(estimator)
