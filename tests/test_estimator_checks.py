"""Every estimator through scikit-learn's own estimator checks."""

from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_mtl import (
    GraphMultiTaskClassifier,
    GraphMultiTaskRegressor,
    IndependentTasks,
    PooledTasks,
)

# check_classifier_multioutput asks for predict_proba as a list of per-output
# arrays (what we return for a wide y, like MultiOutputClassifier) and then,
# for estimators that also have decision_function, indexes that same output
# as one (n_samples, n_outputs) array: no output can satisfy both halves.
_MULTIOUTPUT_PROBA = {
    "check_classifier_multioutput": (
        "the check requires predict_proba to be both a list of per-task arrays "
        "and one 2-D array when decision_function exists"
    )
}


def _expected_failures(estimator):
    is_classifier = getattr(estimator, "estimator", estimator).__class__.__name__ in {
        "GraphMultiTaskClassifier",
        "LogisticRegression",
    }
    return _MULTIOUTPUT_PROBA if is_classifier else {}


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
    ],
    expected_failed_checks=_expected_failures,
)
def test_sklearn_compatible(estimator, check):
    check(estimator)
