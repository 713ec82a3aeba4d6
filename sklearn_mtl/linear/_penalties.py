"""Task-coupling penalties of the structured multi-task models, as small objects.

A penalty acts on the coefficients ``W`` of shape (T, d) (or (T, d, m), one
vector per class); feature ``j`` is ``W[:, j]``, across tasks (and classes).
Each gives:

- ``value(W)``;
- ``prox(V, step)``: the proximal map of ``step * penalty``;
- ``optimality(W, grad)``: the distance of ``-grad`` (the data term's
  gradient) to the penalty's subdifferential at ``W``, zero exactly at a
  minimizer of data term + penalty;
- ``dual_norm(G)``: the smallest ``alpha`` for which ``W = 0`` is optimal
  when ``G`` is the data term's gradient at ``W = 0`` (``alpha_max``);
- ``feature_separable``: whether the penalty is a sum over features, which
  block coordinate descent needs, and then ``block_minimize(a, b)``, the
  minimizer over one feature ``w`` of ``sum (a/2) w^2 - b w + penalty(w)``.

Every penalty takes ``alpha_l2``: ``+ (alpha_l2 / 2) ||W||_F^2`` (the
elastic-net combination), handled inside the proximal map.

:class:`StackedPenalty` sums penalties on the blocks of a stacked variable
``[W_1, W_2, ...]`` (concatenated along axis 1): the two-part models (dirty,
robust) fit ``W = W_1 + W_2`` with one penalty per part.
"""

import numpy as np

__all__ = [
    "L21Penalty",
    "L1Penalty",
    "TraceNormPenalty",
    "TaskGroupPenalty",
    "StackedPenalty",
]


def _feature_norms(W):
    """Euclidean norm of every feature's coefficients across tasks (and classes)."""
    axes = (0,) + tuple(range(2, W.ndim))
    return np.sqrt(np.sum(W**2, axis=axes))


def _per_feature(values, W):
    """Broadcast per-feature ``values`` (d,) against ``W`` (T, d[, m])."""
    return values.reshape((1, -1) + (1,) * (W.ndim - 2))


class _Penalty:
    feature_separable = False

    def __init__(self, alpha, alpha_l2=0.0):
        self.alpha = float(alpha)
        self.alpha_l2 = float(alpha_l2)

    def value(self, W):
        return self.alpha * self._norm(W) + 0.5 * self.alpha_l2 * float(np.vdot(W, W))


class L21Penalty(_Penalty):
    """``alpha sum_j ||W[:, j]||_2 + (alpha_l2/2) ||W||_F^2``: joint feature selection.

    The group of feature ``j`` holds its coefficients in every task, so a
    feature is kept or dropped by all tasks together. ``optimality`` is the
    largest distance over features (Euclidean within each feature).
    """

    feature_separable = True

    def _norm(self, W):
        return float(_feature_norms(W).sum())

    def prox(self, V, step):
        norms = _feature_norms(V)
        shrink = np.maximum(
            1.0 - step * self.alpha / np.where(norms > 0, norms, 1.0), 0.0
        )
        return V * (_per_feature(shrink, V) / (1.0 + step * self.alpha_l2))

    def optimality(self, W, grad):
        grad = grad + self.alpha_l2 * W
        norms = _feature_norms(W)
        nonzero = norms > 0
        unit = W / _per_feature(np.where(nonzero, norms, 1.0), W)
        # Nonzero feature: grad_j + alpha w_j / ||w_j|| = 0; zero feature:
        # ||grad_j|| <= alpha.
        on = _feature_norms(grad + self.alpha * unit)
        off = np.maximum(_feature_norms(grad) - self.alpha, 0.0)
        violation = np.where(nonzero, on, off)
        return float(violation.max(initial=0.0))

    def dual_norm(self, G):
        return float(_feature_norms(G).max(initial=0.0))

    def block_minimize(self, a, b):
        """Minimize ``sum_t (a_t/2) w_t^2 - b_t w_t + alpha ||w||`` over w (T,).

        With ``a`` the tasks' Gram diagonals (plus ``alpha_l2``). For
        ``||b|| > alpha`` the minimizer is ``w_t = b_t / (a_t + alpha / rho)``
        where ``rho = ||w|| > 0`` solves the secular equation
        ``f(rho) = sum_t b_t^2 / (a_t rho + alpha)^2 = 1`` (stationarity
        ``a_t w_t - b_t + alpha w_t / rho = 0``, then ``||w|| = rho``). Since
        ``a_t <= a_max``, ``f(rho) >= ||b||^2 / (a_max rho + alpha)^2``, which
        is 1 at ``rho_0 = (||b|| - alpha) / a_max``: f decreasing, rho_0 is
        below the root. Newton runs on ``f^(-1/2) = 1``: with ``c_t = b_t /
        a_t`` and ``d_t = alpha / a_t``, ``f^(-1/2) = 1 / ||c / (rho + d)||``
        is concave increasing (Moré & Sorensen's secular function of trust
        regions), so from rho_0 every step rises and stays below the root,
        and one step is exact when all ``a_t`` are equal. A task with
        ``a_t = 0`` (a feature constant in the task) has ``b_t = 0`` and drops
        out. Equal ``a_t`` (a shared design) use the closed form of the group
        soft-threshold.
        """
        alpha = self.alpha
        b_norm = float(np.sqrt(np.dot(b, b)))
        if b_norm <= alpha:
            return np.zeros_like(b)
        a = a + self.alpha_l2
        a_max = a.max()
        if a_max - a.min() <= 1e-12 * a_max:
            return b * ((1.0 - alpha / b_norm) / a_max)
        b2 = b * b
        # A lower bound on the root: a_t <= a_max gives f(rho) >= ||b||^2 /
        # (a_max rho + alpha)^2, which is 1 here, so f(rho) >= 1. Starting
        # at rho > 0 also keeps alpha / rho finite when Newton stops at once.
        rho = (b_norm - alpha) / a_max
        for _ in range(100):
            denominator = a * rho + alpha
            f = np.sum(b2 / denominator**2)
            slope = -2.0 * np.sum(b2 * a / denominator**3)
            # Newton on f^(-1/2) = 1, concave increasing in rho: exact in
            # one step for one task or equal a_t, and from the left of the
            # root every step stays left of it (the tangent lies above).
            step = 2.0 * f * (1.0 - np.sqrt(f)) / slope
            rho += step
            if abs(step) <= 1e-13 * rho:
                break
        return b / (a + alpha / rho)


class L1Penalty(_Penalty):
    """``alpha ||W||_1 + (alpha_l2/2) ||W||_F^2``: every task selects its own features.

    ``optimality`` is the largest violation over entries.
    """

    feature_separable = True

    def _norm(self, W):
        return float(np.abs(W).sum())

    def prox(self, V, step):
        shrunk = np.sign(V) * np.maximum(np.abs(V) - step * self.alpha, 0.0)
        return shrunk / (1.0 + step * self.alpha_l2)

    def optimality(self, W, grad):
        grad = grad + self.alpha_l2 * W
        violation = np.where(
            W != 0,
            np.abs(grad + self.alpha * np.sign(W)),
            np.maximum(np.abs(grad) - self.alpha, 0.0),
        )
        return float(violation.max(initial=0.0))

    def dual_norm(self, G):
        return float(np.abs(G).max(initial=0.0))

    def block_minimize(self, a, b):
        """Minimize ``sum_t (a_t/2) w_t^2 - b_t w_t + alpha |w_t|``: per entry."""
        a = a + self.alpha_l2
        shrunk = np.sign(b) * np.maximum(np.abs(b) - self.alpha, 0.0)
        return np.divide(shrunk, a, out=np.zeros_like(b), where=a > 0)


def _rank(singular_values):
    """Number of singular values above rounding (the numerical rank)."""
    if singular_values.size == 0:
        return 0
    cutoff = (
        singular_values[0] * max(len(singular_values), 1) * 1e3 * np.finfo(float).eps
    )
    return int(np.count_nonzero(singular_values > cutoff))


class TraceNormPenalty(_Penalty):
    """``alpha ||W||_* + (alpha_l2/2) ||W||_F^2``: task models share a subspace.

    ``||W||_*`` is the sum of the singular values of ``W`` as a (T, d) matrix
    (with classes, (T, d m)). The proximal map soft-thresholds the singular
    values. ``optimality`` is the Frobenius distance of ``-grad`` to
    ``alpha * {U V^T + M : U^T M = 0, M V = 0, ||M||_2 <= 1}`` (``W = U S V^T``,
    thin SVD over the nonzero singular values).
    """

    def _norm(self, W):
        return float(np.linalg.svd(W.reshape(W.shape[0], -1), compute_uv=False).sum())

    def prox(self, V, step):
        U, s, Vt = np.linalg.svd(V.reshape(V.shape[0], -1), full_matrices=False)
        s = np.maximum(s - step * self.alpha, 0.0) / (1.0 + step * self.alpha_l2)
        keep = s > 0
        return ((U[:, keep] * s[keep]) @ Vt[keep]).reshape(V.shape)

    def optimality(self, W, grad):
        M = -(grad + self.alpha_l2 * W).reshape(W.shape[0], -1)
        U, s, Vt = np.linalg.svd(W.reshape(W.shape[0], -1), full_matrices=False)
        r = _rank(s)
        U, V = U[:, :r], Vt[:r].T
        # The subdifferential constrains four orthogonal parts of M separately
        # (range/complement of U times range/complement of V), so the squared
        # distance is the sum of the four parts' squared distances.
        core = U.T @ M @ V
        left = U.T @ M - core @ V.T
        right = M @ V - U @ core
        rest = M - U @ (U.T @ M) - (M @ V) @ V.T + U @ core @ V.T
        rest_sv = np.linalg.svd(rest, compute_uv=False)
        squared = (
            np.sum((core - self.alpha * np.eye(r)) ** 2)
            + np.sum(left**2)
            + np.sum(right**2)
            + np.sum(np.maximum(rest_sv - self.alpha, 0.0) ** 2)
        )
        return float(np.sqrt(squared))

    def dual_norm(self, G):
        G = G.reshape(G.shape[0], -1)
        return float(np.linalg.norm(G, 2)) if G.size else 0.0


def _task_norms(W):
    """Euclidean norm of every task's coefficients (all features and classes)."""
    return np.sqrt(np.sum(W.reshape(W.shape[0], -1) ** 2, axis=1))


def _per_task(values, W):
    """Broadcast per-task ``values`` (T,) against ``W`` (T, d[, m])."""
    return values.reshape((-1,) + (1,) * (W.ndim - 1))


class TaskGroupPenalty(_Penalty):
    """``alpha sum_t ||W[t]||_2 + (alpha_l2/2) ||W||_F^2``: whole tasks kept or zeroed.

    The group of task ``t`` is its whole coefficient vector (all features,
    and classes): the L1,2 norm of the robust multi-task model's outlier part
    (Chen, Zhou & Ye 2011, there ``||S||_{1,2}`` over the columns of a
    (d, T) matrix). ``optimality`` is the largest distance over tasks.
    """

    def _norm(self, W):
        return float(_task_norms(W).sum())

    def prox(self, V, step):
        norms = _task_norms(V)
        shrink = np.maximum(
            1.0 - step * self.alpha / np.where(norms > 0, norms, 1.0), 0.0
        )
        return V * (_per_task(shrink, V) / (1.0 + step * self.alpha_l2))

    def optimality(self, W, grad):
        grad = grad + self.alpha_l2 * W
        norms = _task_norms(W)
        nonzero = norms > 0
        unit = W / _per_task(np.where(nonzero, norms, 1.0), W)
        # Nonzero task: grad_t + alpha w_t / ||w_t|| = 0; zero task:
        # ||grad_t|| <= alpha.
        on = _task_norms(grad + self.alpha * unit)
        off = np.maximum(_task_norms(grad) - self.alpha, 0.0)
        return float(np.where(nonzero, on, off).max(initial=0.0))

    def dual_norm(self, G):
        return float(_task_norms(G).max(initial=0.0))


class StackedPenalty:
    """``alpha sum_k c_k R_k(W_k) + (alpha_l2/2) sum_k ||W_k||^2``: a penalty per part.

    The variable stacks the parts ``W_k`` (each (T, d[, m])) along axis 1;
    ``parts`` lists ``(penalty_class, c_k)`` with weights ``c_k > 0``. The
    penalty is a sum over the parts, so its proximal map applies each part's
    map to its block, and the optimality measure is the largest over the
    parts. ``dual_norm`` is the smallest ``alpha`` for which all parts are
    zero: the parts are zero at once exactly when each is,
    ``max_k R_k^*(G_k) / c_k``.
    """

    feature_separable = False

    def __init__(self, alpha, parts, alpha_l2=0.0):
        self.alpha = float(alpha)
        self.alpha_l2 = float(alpha_l2)
        self.weights = [float(weight) for _, weight in parts]
        self.parts = [
            penalty_class(self.alpha * weight, self.alpha_l2)
            for penalty_class, weight in parts
        ]

    def blocks(self, W):
        """The parts ``[W_1, W_2, ...]`` of a stacked ``W`` (equal widths; views)."""
        d = W.shape[1] // len(self.parts)
        return [W[:, k * d : (k + 1) * d] for k in range(len(self.parts))]

    def value(self, W):
        return sum(p.value(B) for p, B in zip(self.parts, self.blocks(W)))

    def prox(self, V, step):
        return np.concatenate(
            [p.prox(B, step) for p, B in zip(self.parts, self.blocks(V))], axis=1
        )

    def optimality(self, W, grad):
        return max(
            p.optimality(B, G)
            for p, B, G in zip(self.parts, self.blocks(W), self.blocks(grad))
        )

    def dual_norm(self, G):
        return max(
            p.dual_norm(B) / weight
            for p, B, weight in zip(self.parts, self.blocks(G), self.weights)
        )
