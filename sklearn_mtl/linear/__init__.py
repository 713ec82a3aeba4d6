"""Multi-task linear models solved with scipy."""

from ._graph_model import GraphMultiTaskClassifier, GraphMultiTaskRegressor

__all__ = ["GraphMultiTaskClassifier", "GraphMultiTaskRegressor"]
