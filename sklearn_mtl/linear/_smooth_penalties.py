"""Smooth task-coupling penalties: value, gradient and a Lipschitz bound.

A smooth penalty needs no proximal map: a solver adds its gradient to the
loss's (:func:`._problems.solve_smooth`, or the graph model's linear solves,
which also use ``hessian_product``). Each acts on the coefficients ``W`` of
shape (T, ...), one row per task, and gives:

- ``value_grad(W)``: the value and the gradient with respect to ``W``;
- ``lipschitz()``: an upper bound on the gradient's Lipschitz constant.

The non-smooth penalties (L2,1, L1, trace norm) live in :mod:`._penalties`.
"""

import functools

import numpy as np
import scipy.sparse as sp

__all__ = ["TaskPenalty", "ClusteredPenalty", "cluster_eigenvalues"]


def cluster_eigenvalues(singular_values, n_clusters, eta):
    """Eigenvalues ``gamma`` of the optimal ``M`` given the singular values of W.

    Minimizes ``sum_i s_i^2 / (eta + gamma_i)`` over ``0 <= gamma_i <= 1``,
    ``sum_i gamma_i <= n_clusters`` (the rest of the trace goes to directions
    where W is zero, which costs nothing). The Lagrange conditions give
    ``gamma_i = clip(s_i * r - eta, 0, 1)`` with ``r`` set so that the
    gammas sum to ``n_clusters``: a nondecreasing piecewise-linear function of
    ``r`` with breakpoints where a gamma leaves 0 (``r = eta / s_i``) or
    reaches 1 (``r = (eta + 1) / s_i``). It is evaluated at every breakpoint
    at once (``m`` singular values: a (2m, m) array, no iterative root
    search) and solved exactly on the piece that crosses ``n_clusters``, so
    that the gammas sum to ``n_clusters`` to rounding. ``singular_values``
    must be positive.
    """
    s = np.asarray(singular_values, dtype=float)
    if s.size <= n_clusters:
        return np.ones_like(s)
    breaks = np.unique(np.concatenate([eta / s, (eta + 1.0) / s]))
    sums = np.clip(np.outer(breaks, s) - eta, 0.0, 1.0).sum(axis=1)
    # sums[0] = 0 < n_clusters < s.size = sums[-1]: the first breakpoint whose
    # sum reaches n_clusters ends the crossing piece (unique breakpoints: a
    # positive length).
    end = min(max(int(np.searchsorted(sums, n_clusters)), 1), len(breaks) - 1)
    inside = 0.5 * (breaks[end - 1] + breaks[end])
    gamma = s * inside - eta
    ones = gamma >= 1.0
    middle = (gamma > 0.0) & ~ones
    if not middle.any():
        # A flat piece: rounding put the crossing past a breakpoint where the
        # sum is already n_clusters (that many gammas at 1, the rest at 0).
        return np.clip(gamma, 0.0, 1.0)
    # On the piece the sum is n_ones + sum_middle (s r - eta): solve it.
    r = (n_clusters - ones.sum() + eta * middle.sum()) / s[middle].sum()
    return np.clip(s * r - eta, 0.0, 1.0)


class ClusteredPenalty:
    """Convex clustered multi-task penalty (Jacob, Bach & Vert 2008; Zhou et al. 2011).

    ``alpha * eta * (1 + eta) * min_M tr(W^T (eta I + M)^{-1} W)`` over
    ``{M : 0 <= M <= I, tr M = k}`` (T x T, ``<=`` in the semidefinite order),
    ``eta = alpha_l2 / alpha``, ``W`` (T, d) with one row per task (MALSAR's
    ``Least_CMTL`` with ``rho1 = alpha``, ``rho2 = alpha_l2``). For ``M =
    F F^T`` with ``F`` a normalized cluster indicator it is ``alpha * sum_t
    ||w_t - mean of t's cluster||^2 + alpha_l2 ||W||_F^2``: within-cluster
    spread plus ridge; the set of ``M`` is that set's convex hull.

    The minimization over ``M`` is closed form (the M-step): ``M`` shares the
    left singular vectors of ``W`` and its eigenvalues follow from the
    singular values (:func:`cluster_eigenvalues`). The penalty is then a
    convex spectral function of ``W``, differentiable with gradient
    ``2 c (eta I + M*)^{-1} W`` (Danskin's theorem; ``c = alpha eta (1 +
    eta)``), whose Lipschitz constant is at most ``2 c / eta = 2 (alpha +
    alpha_l2)``. Each evaluation costs one thin SVD of ``W``, never a (dT) x
    (dT) matrix. ``alpha = 0`` is the ridge ``alpha_l2 ||W||_F^2``.
    """

    smooth = True

    def __init__(self, alpha, alpha_l2, n_clusters):
        if not alpha_l2 > 0:
            raise ValueError(
                "The clustered penalty needs alpha_l2 > 0 (without it the "
                f"problem is not convex); got alpha_l2={alpha_l2!r}."
            )
        self.alpha = float(alpha)
        self.alpha_l2 = float(alpha_l2)
        self.n_clusters = int(n_clusters)

    @property
    def eta(self):
        return self.alpha_l2 / self.alpha if self.alpha > 0 else np.inf

    @property
    def weight(self):
        """``c = alpha eta (1 + eta) = alpha_l2 (1 + eta)``."""
        return self.alpha_l2 * (1.0 + self.eta)

    def structure(self, W):
        """The M-step: ``(U, s, gamma, Vt)`` with ``W = U diag(s) Vt`` (s > 0)
        and ``M* = U diag(gamma) U^T`` plus the unused trace spread over the
        directions where ``W`` is zero."""
        flat = W.reshape(W.shape[0], -1)
        U, s, Vt = np.linalg.svd(flat, full_matrices=False)
        keep = s > s[:1].sum() * max(flat.shape) * np.finfo(float).eps
        U, s, Vt = U[:, keep], s[keep], Vt[keep]
        return U, s, cluster_eigenvalues(s, self.n_clusters, self.eta), Vt

    def value_grad(self, W):
        if self.alpha == 0:
            return self.alpha_l2 * float(np.vdot(W, W)), 2.0 * self.alpha_l2 * W
        U, s, gamma, Vt = self.structure(W)
        # c s_i / (eta + gamma_i) written as alpha_l2 (1 + eta) / (eta + gamma)
        # = alpha_l2 (1 + 1/eta) / (1 + gamma/eta): finite for a huge eta.
        factor = (self.alpha_l2 + self.alpha) / (1.0 + gamma / self.eta)
        value = float(np.sum(factor * s**2))
        grad = ((U * (2.0 * factor * s)) @ Vt).reshape(W.shape)
        return value, grad

    def lipschitz(self):
        return 2.0 * (self.alpha + self.alpha_l2)

    def value_at(self, W, M):
        """``c tr(W^T (eta I + M)^{-1} W)`` for a given ``M`` (T, T)."""
        flat = W.reshape(W.shape[0], -1)
        if self.alpha == 0:
            return self.alpha_l2 * float(np.vdot(flat, flat))
        system = self.eta * np.eye(len(M)) + M
        return self.weight * float(np.vdot(flat, np.linalg.solve(system, flat)))

    def cluster_matrix(self, W):
        """An optimal ``M`` (T, T) for ``W``: ``0 <= M <= I``, ``tr M = k``."""
        n_tasks = W.shape[0]
        U, _, gamma, _ = self.structure(W)
        M = (U * gamma) @ U.T
        free = n_tasks - U.shape[1]
        if free > 0:
            # The unused trace goes, evenly, to the directions W leaves at
            # zero: any split is optimal, this one keeps M's eigenvalues <= 1.
            rest = (self.n_clusters - gamma.sum()) / free
            M += rest * (np.eye(n_tasks) - U @ U.T)
        return M


class TaskPenalty:
    """``(alpha_l2/2)||W||^2 + alpha_graph tr(W^T P W)`` on W of shape (T, ...).

    The graph models' penalty, ``P`` the task graph's Laplacian (or a learned
    task precision). Quadratic, so it also gives what linear solvers need:
    ``hessian_product``, the per-task ``diagonal`` (a preconditioner) and the
    (T, T) ``coupling``.

    ``precision`` may be None for the complete graph, given by its weight:
    ``P = complete_weight (I - 11^T / T)`` then multiplies in O(T d) as
    ``c (W - mean(W))`` and is never formed.
    """

    smooth = True

    def __init__(
        self, precision, alpha_graph, alpha_l2, complete_weight=None, n_tasks=None
    ):
        self._given = precision
        self.n_tasks = precision.shape[0] if n_tasks is None else n_tasks
        self.alpha_graph = alpha_graph
        self.alpha_l2 = alpha_l2
        # c when P = c (I - 11^T / T) (the complete graph), given or detected.
        if complete_weight is None and precision is not None:
            complete_weight = _complete_weight(precision)
        self._complete = complete_weight
        self.complete_weight = complete_weight if alpha_graph else None

    @functools.cached_property
    def precision(self):
        """``P``, dense when mostly dense: it then multiplies faster through
        BLAS than as CSR. Formed on first use only, since the complete graph
        is solved and multiplied without it."""
        precision = self._given
        if precision is None:
            n_tasks = self.n_tasks
            precision = np.full((n_tasks, n_tasks), -self._complete / n_tasks)
            precision.flat[:: n_tasks + 1] += self._complete
        elif sp.issparse(precision) and precision.nnz > 0.25 * self.n_tasks**2:
            precision = precision.toarray()
        return precision

    def _coupled(self, W):
        if self._complete is not None:
            return self._complete * (W - W.mean(axis=0))
        flat = W.reshape(W.shape[0], -1)
        return np.asarray(self.precision @ flat).reshape(W.shape)

    def value_grad(self, W):
        value = 0.5 * self.alpha_l2 * np.vdot(W, W)
        grad = self.alpha_l2 * W
        if self.alpha_graph:
            coupled = self._coupled(W)
            value += self.alpha_graph * np.vdot(W, coupled)
            grad = grad + 2.0 * self.alpha_graph * coupled
        return value, grad

    def hessian_product(self, W):
        """``alpha_l2 W + 2 alpha_graph P W``: the gradient, without the value."""
        out = self.alpha_l2 * W
        if self.alpha_graph:
            out += (2.0 * self.alpha_graph) * self._coupled(W)
        return out

    def diagonal(self):
        """Diagonal of the penalty's Hessian per task, shape (T,)."""
        if self._complete is not None:
            precision_diag = np.full(
                self.n_tasks, self._complete * (1.0 - 1.0 / self.n_tasks)
            )
        elif sp.issparse(self.precision):
            precision_diag = self.precision.diagonal()
        else:
            precision_diag = np.diag(self.precision)
        return self.alpha_l2 + 2.0 * self.alpha_graph * precision_diag

    def restrict(self, keep):
        """The penalty on the tasks ``keep`` (a boolean mask) alone."""
        precision = self.precision[keep][:, keep]
        return TaskPenalty(precision, self.alpha_graph, self.alpha_l2)

    def coupling(self):
        """The (T, T) matrix ``alpha_l2 I + 2 alpha_graph P``."""
        n_tasks = self.n_tasks
        if sp.issparse(self.precision):
            return (
                self.alpha_l2 * sp.eye_array(n_tasks)
                + 2 * self.alpha_graph * self.precision
            )
        return self.alpha_l2 * np.eye(n_tasks) + 2 * self.alpha_graph * self.precision

    def lipschitz(self):
        """Upper bound on the largest Hessian eigenvalue (Gershgorin)."""
        if self._complete is not None:
            # Its eigenvalues are 0 and c exactly.
            return self.alpha_l2 + 2.0 * self.alpha_graph * self._complete
        row_sums = abs(self.precision).sum(axis=1)
        return self.alpha_l2 + 2.0 * self.alpha_graph * float(
            np.max(row_sums, initial=0)
        )


def _complete_weight(precision):
    """``c`` if ``precision == c (I - 11^T / T)`` (the complete graph), else None.

    That penalty couples the tasks through their mean only, so the system is
    block diagonal plus a rank-d term and has an exact d x d solve.
    """
    n_tasks = precision.shape[0]
    if n_tasks < 2:
        return None
    diagonal = precision.diagonal()
    weight = diagonal[0] * n_tasks / (n_tasks - 1)
    if not weight > 0:
        return None
    tolerance = 1e-12 * weight
    if np.max(np.abs(diagonal - diagonal[0])) > tolerance:
        return None
    if sp.issparse(precision):
        # Every entry stored, the diagonal and all off-diagonal ones equal.
        if precision.nnz != n_tasks * n_tasks:
            return None
        values = precision.data
    else:
        values = precision.ravel()
    off = np.abs(values + weight / n_tasks) <= tolerance
    on = np.abs(values - diagonal[0]) <= tolerance
    if not np.all(off | on) or np.count_nonzero(on & ~off) > n_tasks:
        return None
    return weight
