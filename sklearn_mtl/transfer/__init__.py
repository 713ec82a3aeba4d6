"""Transfer learning: use source tasks or a source model to learn a target task."""

from ._deep import (
    DANNClassifier,
    DANNRegressor,
    DeepCORALClassifier,
    DeepCORALRegressor,
)
from ._estimators import TransferClassifier, TransferRegressor
from ._gfk import GFK
from ._instance import TrAdaBoostInterpolationWarning, kmm_weights
from ._jda import JDA
from ._jdot import JDOTClassifier, JDOTRegressor, fit_jdot
from ._mapping import ClassRegularizedOTMapping, EntropicOTMapping, LinearOTMapping
from ._meda import MEDAClassifier
from ._parameter import fit_parameter_transfer
from ._reweight import discriminator_weights, kliep_weights, nn_weights
from ._spl import SPLClassifier
from ._subspace import TCA, SubspaceAlignment
from ._transformers import CORAL, FeatureAugmentation, SharedRepresentation

__all__ = [
    "CORAL",
    "ClassRegularizedOTMapping",
    "DANNClassifier",
    "DANNRegressor",
    "DeepCORALClassifier",
    "DeepCORALRegressor",
    "EntropicOTMapping",
    "FeatureAugmentation",
    "GFK",
    "JDA",
    "JDOTClassifier",
    "JDOTRegressor",
    "LinearOTMapping",
    "MEDAClassifier",
    "SPLClassifier",
    "SharedRepresentation",
    "SubspaceAlignment",
    "TCA",
    "TrAdaBoostInterpolationWarning",
    "TransferClassifier",
    "TransferRegressor",
    "discriminator_weights",
    "fit_jdot",
    "fit_parameter_transfer",
    "kliep_weights",
    "kmm_weights",
    "nn_weights",
]
