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
from sklearn_mtl.transfer import (
    CORAL,
    TCA,
    EntropicOTMapping,
    FeatureAugmentation,
    LinearOTMapping,
    SubspaceAlignment,
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


# The domain-adaptation transformers fit from two domains, told apart by the
# task_ids of fit (rows of ``target`` against the rest); scikit-learn's checks
# pass no task_ids, so every check that fits one fails on that missing input.
# The checks that do not fit (cloning, parameters, tags, pickling of the
# unfitted object, parameter validation) run and must pass.
_NEEDS_TWO_DOMAINS = (
    "check_dict_unchanged",
    "check_dont_overwrite_parameters",
    "check_dtype_object",
    "check_estimators_dtypes",
    "check_estimators_fit_returns_self",
    "check_estimators_nan_inf",
    "check_estimators_overwrite_params",
    "check_estimators_pickle",
    "check_f_contiguous_array_estimator",
    "check_fit2d_1feature",
    "check_fit2d_1sample",
    "check_fit2d_predict1d",
    "check_fit_check_is_fitted",
    "check_fit_idempotent",
    "check_fit_score_takes_y",
    "check_methods_sample_order_invariance",
    "check_methods_subset_invariance",
    "check_n_features_in",
    "check_n_features_in_after_fitting",
    "check_pipeline_consistency",
    "check_positive_only_tag_during_fit",
    "check_readonly_memmap_input",
    "check_transformer_data_not_an_array",
    "check_transformer_general",
    "check_transformer_n_iter",
    "check_transformer_preserve_dtypes",
)


def _two_domain_failures(estimator):
    reason = (
        "fits from source and target rows told apart by task_ids, which "
        "scikit-learn's checks do not pass"
    )
    failing = dict.fromkeys(_NEEDS_TWO_DOMAINS, reason)
    if not isinstance(estimator, EntropicOTMapping):
        # Only the OT mapping reports iterations (Sinkhorn's), so only its
        # n_iter check fits the transformer.
        del failing["check_transformer_n_iter"]
    return failing


@parametrize_with_checks(
    [
        CORAL(target=0),
        FeatureAugmentation(target=0),
        LinearOTMapping(target=0),
        SubspaceAlignment(target=0),
        TCA(target=0),
        *(
            [EntropicOTMapping(target=0)]
            if importlib.util.find_spec("ot") is not None
            else []
        ),
    ],
    expected_failed_checks=_two_domain_failures,
)
def test_domain_transformers_sklearn_compatible(estimator, check):
    check(estimator)
