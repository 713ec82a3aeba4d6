"""Transfer learning: use source tasks or a source model to learn a target task."""

from ._deep import (
    DANNClassifier,
    DANNRegressor,
    DeepCORALClassifier,
    DeepCORALRegressor,
)
from ._estimators import TransferClassifier, TransferRegressor
from ._instance import TrAdaBoostInterpolationWarning, kmm_weights
from ._mapping import EntropicOTMapping, LinearOTMapping
from ._parameter import fit_parameter_transfer
from ._reweight import discriminator_weights, kliep_weights
from ._subspace import TCA, SubspaceAlignment
from ._transformers import CORAL, FeatureAugmentation, SharedRepresentation

__all__ = [
    "CORAL",
    "DANNClassifier",
    "DANNRegressor",
    "DeepCORALClassifier",
    "DeepCORALRegressor",
    "EntropicOTMapping",
    "FeatureAugmentation",
    "LinearOTMapping",
    "SharedRepresentation",
    "SubspaceAlignment",
    "TCA",
    "TrAdaBoostInterpolationWarning",
    "TransferClassifier",
    "TransferRegressor",
    "discriminator_weights",
    "fit_parameter_transfer",
    "kliep_weights",
    "kmm_weights",
]
