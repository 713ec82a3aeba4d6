"""Transfer learning: use source tasks or a source model to learn a target task."""

from ._estimators import TransferClassifier, TransferRegressor
from ._instance import TrAdaBoostInterpolationWarning, kmm_weights
from ._parameter import fit_parameter_transfer
from ._transformers import CORAL, FeatureAugmentation, SharedRepresentation

__all__ = [
    "CORAL",
    "FeatureAugmentation",
    "SharedRepresentation",
    "TrAdaBoostInterpolationWarning",
    "TransferClassifier",
    "TransferRegressor",
    "fit_parameter_transfer",
    "kmm_weights",
]
