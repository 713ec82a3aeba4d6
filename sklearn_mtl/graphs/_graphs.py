"""Task graphs: which tasks' models are pulled toward each other, and how hard.

A graph over T tasks is a symmetric, non-negative (T, T) adjacency ``A`` over
the *sorted* task labels. Models regularized by it pay
``(lambda/2) * sum_{s,t} A[s, t] * ||w_s - w_t||^2 = lambda * tr(W^T L W)``
with ``L = D - A`` its Laplacian (the sum runs over ordered pairs).
A directed (asymmetric) ``A`` gives the same penalty as ``(A + A^T) / 2``,
which is what is used.
"""

from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator
from sklearn.utils._param_validation import Interval

__all__ = [
    "TaskGraph",
    "FullGraph",
    "ChainGraph",
    "KNNGraph",
    "TreeGraph",
    "LearnedGraph",
    "laplacian",
    "resolve_graph",
]


class TaskGraph(BaseEstimator):
    """Base class of task graphs: ``adjacency(tasks, task_coef)``.

    Subclasses with ``needs_task_coef = True`` are built from independent
    per-task fits, passed as ``task_coef`` of shape (n_tasks, n_params).
    """

    needs_task_coef = False
    # A subclass lists its parameters' constraints, checked by the graph
    # models' fit; none by default (a user's graph without any still fits).
    _parameter_constraints: dict = {}

    def adjacency(self, tasks, task_coef=None):  # pragma: no cover - interface
        raise NotImplementedError


class FullGraph(TaskGraph):
    """Every pair of tasks linked with weight ``1/T``: mean-regularized MTL.

    The penalty is then ``lambda * sum_t ||w_t - mean(w)||^2`` (Evgeniou &
    Pontil, 2004): every task is pulled toward the average model.

    Examples
    --------
    >>> from sklearn_mtl.graphs import FullGraph
    >>> FullGraph().adjacency(["a", "b", "c"]).toarray().round(3)
    array([[0.   , 0.333, 0.333],
           [0.333, 0.   , 0.333],
           [0.333, 0.333, 0.   ]])
    """

    def adjacency(self, tasks, task_coef=None):
        n_tasks = len(tasks)
        # Built in CSR directly: row i holds every column but i.
        others = np.arange(max(n_tasks - 1, 0))
        columns = others[None, :] + (others[None, :] >= np.arange(n_tasks)[:, None])
        return sp.csr_array(
            (
                np.full(columns.size, 1.0 / n_tasks),
                columns.ravel(),
                np.arange(n_tasks + 1) * max(n_tasks - 1, 0),
            ),
            shape=(n_tasks, n_tasks),
        )


class ChainGraph(TaskGraph):
    """Consecutive tasks (in sorted label order) linked with weight 1.

    For ordered tasks such as years or time windows: each model is pulled
    toward its neighbours in time (MALSAR's temporal smoothness).

    Examples
    --------
    >>> from sklearn_mtl.graphs import ChainGraph
    >>> ChainGraph().adjacency([2019, 2020, 2021]).toarray()
    array([[0., 1., 0.],
           [1., 0., 1.],
           [0., 1., 0.]])
    """

    def adjacency(self, tasks, task_coef=None):
        n_tasks = len(tasks)
        ones = np.ones(max(n_tasks - 1, 0))
        return sp.diags_array(
            [ones, ones], offsets=[-1, 1], shape=(n_tasks,) * 2
        ).tocsr()


class KNNGraph(TaskGraph):
    """Each task linked to its ``n_neighbors`` most similar tasks.

    Similarity is the cosine between independent per-task ridge fits; the
    graph is symmetrized (an edge when either task picks the other), weight 1.

    Parameters
    ----------
    n_neighbors : int, default=5
        Neighbours per task (at most n_tasks - 1).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_mtl.graphs import KNNGraph
    >>> coef = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.1, 0.9]])
    >>> KNNGraph(n_neighbors=1).adjacency(range(4), coef).toarray()
    array([[0., 1., 0., 0.],
           [1., 0., 0., 0.],
           [0., 0., 0., 1.],
           [0., 0., 1., 0.]])
    """

    needs_task_coef = True
    _parameter_constraints = {
        "n_neighbors": [Interval(Integral, 1, None, closed="left")]
    }

    def __init__(self, n_neighbors=5):
        self.n_neighbors = n_neighbors

    def adjacency(self, tasks, task_coef=None):
        self._validate_params()
        n_tasks = len(tasks)
        k = min(self.n_neighbors, n_tasks - 1)
        if k <= 0:
            return sp.csr_array((n_tasks, n_tasks))
        coef = np.asarray(task_coef, dtype=np.float64).reshape(n_tasks, -1)
        norms = np.linalg.norm(coef, axis=1, keepdims=True)
        unit = coef / np.where(norms > 0, norms, 1.0)
        # Row blocks bound the memory of the (T, T) similarities.
        neighbours = np.concatenate(
            [
                _nearest(unit[start : start + 1024] @ unit.T, start, k)
                for start in range(0, n_tasks, 1024)
            ]
        )
        rows = np.repeat(np.arange(n_tasks), k)
        A = sp.csr_array(
            (np.ones(rows.size), (rows, neighbours.ravel())), shape=(n_tasks, n_tasks)
        )
        return ((A + A.T) > 0).astype(np.float64)


def _nearest(similarity, first_row, k):
    """Columns of each row's k largest similarities, excluding the row's own task.

    Ties go to the lower task index, as with a stable sort. For few
    neighbours, k passes of argmax (which returns the first maximum) find them
    in O(k T) per row; otherwise a partition does, and only rows with a tie at
    the k-th value are sorted.
    """
    similarity = np.array(similarity, dtype=np.float64)
    n_rows = similarity.shape[0]
    rows = np.arange(n_rows)
    similarity[rows, first_row + rows] = -np.inf
    if k <= 16:
        top = np.empty((n_rows, k), dtype=np.intp)
        for j in range(k):
            top[:, j] = np.argmax(similarity, axis=1)
            similarity[rows, top[:, j]] = -np.inf
        return top
    top = np.argpartition(-similarity, k - 1, axis=1)[:, :k]
    kth = np.take_along_axis(similarity, top, axis=1).min(axis=1)
    tied = np.flatnonzero(np.sum(similarity >= kth[:, None], axis=1) > k)
    if tied.size:
        top[tied] = np.argsort(-similarity[tied], axis=1, kind="stable")[:, :k]
    return top


class TreeGraph(TaskGraph):
    """Tasks in a hierarchy given as a parent map ``{child: parent}``.

    Every child-parent link has weight 1. Parents that are not tasks are
    latent models (e.g. a region above its schools); they are optimized out
    exactly (Kron reduction of the Laplacian), which leaves a graph over the
    tasks alone in which tasks under the same parent are pulled together, and
    more weakly the further apart they sit in the tree. Tasks absent from the
    map are unlinked.

    Parameters
    ----------
    parents : dict
        Maps a task label (or an inner node) to its parent node.

    Examples
    --------
    >>> from sklearn_mtl.graphs import TreeGraph
    >>> tree = TreeGraph({"a": "left", "b": "left", "c": "right",
    ...                   "left": "root", "right": "root"})
    >>> tree.adjacency(["a", "b", "c"]).round(3)
    array([[0.   , 0.429, 0.143],
           [0.429, 0.   , 0.143],
           [0.143, 0.143, 0.   ]])
    """

    _parameter_constraints = {"parents": [dict]}

    def __init__(self, parents):
        self.parents = parents

    def adjacency(self, tasks, task_coef=None):
        self._validate_params()
        tasks = list(np.asarray(tasks).tolist())
        task_set = set(tasks)
        self._check_acyclic()
        latent = sorted(
            {n for edge in self.parents.items() for n in edge if n not in task_set},
            key=repr,
        )
        nodes = tasks + latent
        position = {node: i for i, node in enumerate(nodes)}
        n_nodes, n_tasks = len(nodes), len(tasks)
        A = np.zeros((n_nodes, n_nodes))
        for child, parent in self.parents.items():
            i, j = position[child], position[parent]
            A[i, j] = A[j, i] = 1.0
        L = np.diag(A.sum(axis=1)) - A
        L_tt, L_tz, L_zz = (
            L[:n_tasks, :n_tasks],
            L[:n_tasks, n_tasks:],
            L[n_tasks:, n_tasks:],
        )
        if latent:
            # Minimizing over latent models leaves the Schur complement, itself a
            # Laplacian; pinv handles latent subtrees that hold no task.
            L_tt = L_tt - L_tz @ np.linalg.pinv(L_zz) @ L_tz.T
        reduced = -L_tt
        np.fill_diagonal(reduced, 0.0)
        return np.clip(reduced, 0.0, None)

    def _check_acyclic(self):
        for start in self.parents:
            seen, node = {start}, start
            while node in self.parents:
                node = self.parents[node]
                if node in seen:
                    raise ValueError(
                        f"TreeGraph parents contain a cycle through {node!r}."
                    )
                seen.add(node)


class LearnedGraph(TaskGraph):
    """Task relationships learned from data (multi-task relationship learning).

    Alternates between the models ``W`` for a task covariance ``Omega`` and
    ``Omega = (W W^T + eps I)^{1/2}``, rescaled to trace ``n_tasks`` (Zhang &
    Yeung, 2010). The penalty is ``lambda * tr(W^T Omega^{-1} W)``, so tasks
    with correlated models are pulled together, anti-correlated ones apart.

    Parameters
    ----------
    n_iter : int, default=10
        Alternations between models and covariance.
    tol : float, default=1e-4
        Stop early when the covariance moves less than this (relative
        Frobenius norm).
    eps : float, default=1e-3
        Added to ``W W^T`` (relative to its trace / n_tasks) so the covariance
        stays invertible.

    Examples
    --------
    >>> from sklearn_mtl.graphs import LearnedGraph
    >>> LearnedGraph(n_iter=5)
    LearnedGraph(n_iter=5)
    """

    _parameter_constraints = {
        "n_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "eps": [Interval(Real, 0, None, closed="neither")],
    }

    def __init__(self, n_iter=10, tol=1e-4, eps=1e-3):
        self.n_iter = n_iter
        self.tol = tol
        self.eps = eps

    def covariance(self, W):
        """Task covariance for models ``W`` of shape (n_tasks, n_params).

        Parameters
        ----------
        W : ndarray of shape (n_tasks, n_params)
            Current task models, one row per task.

        Returns
        -------
        covariance : ndarray of shape (n_tasks, n_tasks)
            ``(W W^T + eps I)^(1/2)`` scaled to trace ``n_tasks`` (the MTRL
            closed-form update).
        """
        n_tasks = W.shape[0]
        gram = W @ W.T
        scale = np.trace(gram) / n_tasks if np.trace(gram) > 0 else 1.0
        gram += self.eps * scale * np.eye(n_tasks)
        values, vectors = np.linalg.eigh(gram)
        root = (vectors * np.sqrt(np.clip(values, 0, None))) @ vectors.T
        return root * (n_tasks / np.trace(root))

    def adjacency(self, tasks, task_coef=None):
        raise TypeError(
            "LearnedGraph has no fixed adjacency; it is learned jointly with the "
            "models by the estimator."
        )


_NAMED_GRAPHS = {
    "full": FullGraph,
    "chain": ChainGraph,
    "knn": KNNGraph,
    "learned": LearnedGraph,
}


def resolve_graph(graph):
    """Graph object for the ``graph`` parameter, or None for a given matrix/edges."""
    if isinstance(graph, str):
        return _NAMED_GRAPHS[graph]()
    if isinstance(graph, TaskGraph):
        return graph
    return None


def adjacency_from_input(graph, tasks):
    """Validated (T, T) sparse adjacency from a matrix or an edge dict."""
    n_tasks = len(tasks)
    if isinstance(graph, dict):
        return _adjacency_from_edges(graph, tasks)
    A = sp.csr_array(graph, dtype=np.float64) if sp.issparse(graph) else None
    if A is None:
        dense = np.asarray(graph, dtype=np.float64)
        if dense.ndim != 2:
            raise ValueError(
                f"graph must be a 2-D (n_tasks, n_tasks) matrix, got {dense.ndim}-D."
            )
        A = sp.csr_array(dense)
    if A.shape != (n_tasks, n_tasks):
        raise ValueError(
            f"graph has shape {A.shape} but the data has {n_tasks} tasks; give a "
            f"({n_tasks}, {n_tasks}) adjacency over the sorted task labels."
        )
    if not np.all(np.isfinite(A.data)):
        raise ValueError("graph contains NaN or infinite weights.")
    if np.any(A.data < 0):
        raise ValueError("graph weights must be non-negative.")
    A = (A - sp.diags_array(A.diagonal())).tocsr()
    A.eliminate_zeros()
    return (A + A.T) / 2


def _adjacency_from_edges(edges, tasks):
    tasks = np.asarray(tasks)
    position = {label: i for i, label in enumerate(tasks.tolist())}
    rows, cols, weights, seen = [], [], [], set()
    for key, weight in edges.items():
        if not (isinstance(key, tuple) and len(key) == 2):
            raise ValueError(
                f"graph edges must be keyed by (task, task) pairs, got key {key!r}. "
                "For a hierarchy use TreeGraph(parents)."
            )
        for label in key:
            if label not in position:
                raise ValueError(
                    f"graph names task {label!r}, which is not among the fitted tasks."
                )
        weight = float(weight)
        if not np.isfinite(weight) or weight < 0:
            raise ValueError(f"graph edge {key!r} has invalid weight {weight}.")
        pair = frozenset(key)
        if pair in seen:
            raise ValueError(
                f"graph names the edge {key!r} twice; give each edge once."
            )
        seen.add(pair)
        # An edge is undirected: (s, t) sets both A[s, t] and A[t, s].
        rows += [position[key[0]], position[key[1]]]
        cols += [position[key[1]], position[key[0]]]
        weights += [weight, weight]
    n_tasks = len(tasks)
    A = sp.csr_array((weights, (rows, cols)), shape=(n_tasks, n_tasks))
    return adjacency_from_input(A, tasks)


def laplacian(adjacency):
    """Graph Laplacian ``D - A`` (sparse in, sparse out; dense in, dense out).

    Parameters
    ----------
    adjacency : array-like or sparse matrix of shape (n_tasks, n_tasks)
        Symmetric, non-negative adjacency ``A`` of the task graph.

    Returns
    -------
    laplacian : ndarray or sparse array of shape (n_tasks, n_tasks)
        ``diag(A.sum(axis=1)) - A``, sparse (CSR) when ``adjacency`` is.
    """
    if sp.issparse(adjacency):
        degree = np.asarray(adjacency.sum(axis=1)).ravel()
        return (sp.diags_array(degree) - adjacency).tocsr()
    adjacency = np.asarray(adjacency)
    return np.diag(adjacency.sum(axis=1)) - adjacency
