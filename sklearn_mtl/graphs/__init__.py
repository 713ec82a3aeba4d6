"""Task graphs for graph-regularized multi-task models."""

from ._graphs import (
    ChainGraph,
    FullGraph,
    KNNGraph,
    LearnedGraph,
    TaskGraph,
    TreeGraph,
    laplacian,
)

__all__ = [
    "ChainGraph",
    "FullGraph",
    "KNNGraph",
    "LearnedGraph",
    "TaskGraph",
    "TreeGraph",
    "laplacian",
]
