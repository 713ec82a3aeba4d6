"""Graph-regularized multi-task problems: the core's losses, penalties, solvers.

Both graph models minimize, over per-task models ``w_t`` (rows of ``W``) and
unpenalized intercepts ``b_t``::

    sum_t c_t * sum_{i in t} s_i * loss(y_i, x_i @ w_t + b_t)
        + (alpha_l2 / 2) ||W||_F^2 + alpha_graph * tr(W^T P W) + alpha_l1 ||W||_1

where ``P`` is the task graph's Laplacian (or a learned task precision),
``s_i`` the sample weights and ``c_t`` the per-task loss normalization.

Nothing here computes a loss or a penalty: the data terms are the core's
:class:`._losses.SquaredLoss` and :class:`._losses.LogisticLoss`, the graph
and ridge part the smooth :class:`._smooth_penalties.TaskPenalty`, the L1
part :class:`._penalties.L1Penalty`. This module picks and runs the solver:
the complete graph's exact solve, preconditioned conjugate gradient or sparse
LU for the squared loss without L1, L-BFGS for the logistic loss without L1,
accelerated proximal gradient (:func:`._solvers.apg`) with an L1 part.
:func:`solve_smooth` composes any loss with any smooth penalty (the clustered
model's).
"""

import numpy as np
import scipy.sparse as sp

from . import _losses
from ._losses import LogisticLoss, SquaredLoss, task_loss_scale
from ._penalties import L1Penalty
from ._smooth_penalties import TaskPenalty
from ._solvers import (
    SolverResult,
    apg,
    check_solver_pair,
    inverse_blocks,
    lbfgs,
    mean_coupled_solve,
    min_norm_solve,
    pcg,
    sparse_direct,
)

__all__ = [
    "TaskPenalty",
    "SquaredProblem",
    "LogisticProblem",
    "task_loss_scale",
    "solve_squared",
    "solve_logistic",
    "solve_smooth",
    "independent_coef",
]

# Read by SquaredProblem when it is built (so a test may lower it to reach the
# matrix-free path with few features); the value is the loss module's.
MATRIX_FREE_FEATURES = _losses.MATRIX_FREE_FEATURES


class SquaredProblem(SquaredLoss):
    """The squared loss as the graph models build it, with their solves attached.

    Per-task Gram blocks always (no shared-design shortcut: the graph solves
    index and restrict them per task), ``task_scale`` the per-task weights.
    """

    def __init__(self, data, task_scale, y=None):
        super().__init__(
            data,
            task_scale=task_scale,
            y=y,
            shared_design=False,
            max_gram_features=MATRIX_FREE_FEATURES,
        )

    def _data_grad(self, W):
        return self.gram_product(W) - self.rhs

    def objective(self, W, penalty, alpha_l1=0.0):
        """Full objective value at coefficients W (intercepts at their optimum)."""
        value = self.value_grad(W)[0] + penalty.value_grad(W)[0]
        return value + alpha_l1 * np.abs(W).sum()

    def solve(self, penalty, alpha_l1, W0, *, solver, tol, max_iter):
        """See :func:`solve_squared`."""
        return solve_squared(
            self, penalty, alpha_l1, W0, solver=solver, tol=tol, max_iter=max_iter
        )

    def independent_coef(self, alpha):
        """See :func:`independent_coef`."""
        return independent_coef(self, alpha)


class LogisticProblem:
    """The graph classifier's objective divided by the total sample weight.

    ``value_grad(theta, penalty)`` is ``(loss + penalty) / scale`` for
    parameters ``theta`` (T, d + 1, m), the units in which L-BFGS's gradient
    tolerance is set; the loss is ``self.loss``, a
    :class:`._losses.LogisticLoss`, whose attributes (``scale``, ``split``,
    ``binary``, ``allowed``...) this object also answers.
    """

    def __init__(self, data, task_scale, classes):
        self.loss = LogisticLoss(data, classes=classes, task_scale=task_scale)

    def __getattr__(self, name):
        # Only reached for names not set on self: those of the loss.
        if name == "loss":
            raise AttributeError(name)
        return getattr(self.loss, name)

    def value_grad(self, theta, penalty):
        return _normalized_logistic(self.loss, penalty)(theta)

    def objective(self, theta, penalty, alpha_l1=0.0):
        """Objective in the user's units (unscaled)."""
        value, _ = self.value_grad(theta, penalty)
        coef = theta[:, : self.loss.n_features, :]
        return self.loss.scale * value + alpha_l1 * np.abs(coef).sum()

    def solve(self, penalty, alpha_l1, theta0, *, solver, tol, max_iter):
        """See :func:`solve_logistic`."""
        return solve_logistic(
            self.loss,
            penalty,
            alpha_l1,
            theta0,
            solver=solver,
            tol=tol,
            max_iter=max_iter,
        )


def _penalized(loss, penalty):
    """``value_grad`` of ``loss + penalty`` (the penalty on the coefficients)."""
    n_features = loss.n_features

    def value_grad(x):
        value, grad = loss.value_grad(x)
        penalty_value, penalty_grad = penalty.value_grad(x[:, :n_features])
        grad[:, :n_features] += penalty_grad
        return value + penalty_value, grad

    return value_grad


def solve_squared(loss, penalty, alpha_l1, W0, *, solver, tol, max_iter):
    """Coefficients W of shape (T, d) minimizing squared loss + graph penalty + L1.

    ``loss`` a :class:`SquaredProblem`, ``penalty`` a :class:`TaskPenalty`.
    ``solver``: "cg" (block-Jacobi preconditioned conjugate gradient),
    "direct" (sparse LU) or "fista" (the core's accelerated proximal
    gradient); the complete graph is always solved exactly, and
    ``alpha_l1 > 0`` always by accelerated proximal gradient. Tasks without
    any penalty (``alpha_l2 = 0`` and no graph edge) are independent
    least-squares problems, solved for their minimum-norm coefficients when
    they have fewer samples than features.
    """
    if alpha_l1 > 0:
        return _solve_l1_squared(
            loss, penalty, alpha_l1, W0, tol=tol, max_iter=max_iter
        )
    check_solver_pair("cg", loss, penalty)
    free = penalty.diagonal() <= 0
    if not free.any() or loss.gram is None:
        return _solve_coupled(
            loss, loss.gram, loss.rhs, penalty, W0, solver, tol, max_iter
        )
    W = np.empty_like(loss.rhs)
    W[free] = min_norm_solve(loss.gram[free], loss.rhs[free])
    n_iter, converged = 0, True
    if not free.all():
        keep = ~free
        result = _solve_coupled(
            loss,
            loss.gram[keep],
            loss.rhs[keep],
            penalty.restrict(keep),
            W0[keep],
            solver,
            tol,
            max_iter,
        )
        W[keep], n_iter, converged = result.x, result.n_iter, result.converged
    return SolverResult(W, n_iter, converged)


def _solve_coupled(loss, gram, rhs, penalty, W0, solver, tol, max_iter):
    if penalty.complete_weight is not None and gram is not None:
        # P = c (I - 11^T / T): 2 alpha_graph P w_t = 2 alpha_graph c (w_t - mean).
        graph = 2.0 * penalty.alpha_graph * penalty.complete_weight
        return mean_coupled_solve(
            gram, rhs, penalty.alpha_l2 + graph, graph / rhs.shape[0]
        )
    if solver == "direct" and gram is not None:
        try:
            return sparse_direct(gram, penalty.coupling(), rhs)
        except np.linalg.LinAlgError as exc:
            raise ValueError(
                "solver='direct' met a singular system: with alpha_l2=0 "
                "some coefficients are not determined by the data. Set "
                "alpha_l2 > 0 or use solver='cg'."
            ) from exc
    diagonal = penalty.diagonal()
    if gram is not None:
        blocks = gram + diagonal[:, None, None] * np.eye(gram.shape[1])
        inverse = inverse_blocks(blocks)

        def precondition(R):
            return np.matmul(inverse, R[..., None])[..., 0]

        def matvec(W):
            return np.matmul(gram, W[..., None])[..., 0] + penalty.hessian_product(W)

    else:
        # Matrix-free: a diagonal (Jacobi) preconditioner. An unpenalized
        # task (its own singular system when n_t < d) gets a scalar one
        # and starts from zero instead: CG then stays in the range of its
        # Gram matrix and ends at the minimum-norm solution.
        scale = loss.gram_diagonal() + diagonal[:, None]
        free = diagonal <= 0
        scale[free] = np.max(scale[free], axis=1, keepdims=True, initial=0.0)
        inverse_diagonal = 1.0 / np.where(scale > 0, scale, 1.0)
        if free.any():
            W0 = np.where(free[:, None], 0.0, W0)

        def precondition(R):
            return inverse_diagonal * R

        def matvec(W):
            return loss.gram_product(W) + penalty.hessian_product(W)

    return pcg(matvec, precondition, rhs, W0, tol=tol, max_iter=max_iter)


def _solve_l1_squared(loss, penalty, alpha_l1, W0, *, tol, max_iter):
    l1 = L1Penalty(alpha_l1)
    # Relative to the largest data gradient at W = 0, as the linear solves'
    # residuals are relative to ||rhs||.
    scale = max(np.abs(loss.rhs).max(initial=0.0), np.finfo(float).tiny)

    def gradient(W):
        # apg(quadratic=True) reads no values: the gradient alone.
        return None, loss.gram_product(W) - loss.rhs + penalty.hessian_product(W)

    return apg(
        gradient,
        l1.prox,
        lambda W, grad: l1.optimality(W, grad) / scale,
        W0,
        lipschitz=loss.lipschitz() + penalty.lipschitz(),
        tol=tol,
        max_iter=max_iter,
        quadratic=True,
        # An iteration costs about as much as the L1 optimality measure.
        check_every=10,
    )


def independent_coef(loss, alpha):
    """Per-task ridge fits (no coupling) on a :class:`SquaredProblem`, (T, d[, k])."""
    diagonal = loss.gram_diagonal()
    trace = diagonal.sum(axis=1).mean() / diagonal.shape[1]
    ridge = max(alpha, 1e-6 * trace, np.finfo(float).tiny)
    rhs = loss.rhs if not loss._single_target else loss.rhs[..., None]
    if loss.gram is not None:
        systems = loss.gram + ridge * np.eye(loss.gram.shape[1])
        coef = np.linalg.solve(systems, rhs)
    else:
        # Loose fits are enough to rank task similarity.
        penalty = TaskPenalty(sp.csr_array((loss.n_tasks,) * 2), 0.0, ridge)
        coef = np.stack(
            [
                _solve_coupled(
                    loss,
                    None,
                    rhs[..., k],
                    penalty,
                    np.zeros_like(rhs[..., k]),
                    "cg",
                    1e-4,
                    1000,
                ).x
                for k in range(rhs.shape[-1])
            ],
            axis=-1,
        )
    return coef[..., 0] if loss._single_target else coef


def _normalized_logistic(loss, penalty):
    """``value_grad`` of ``(loss + penalty) / loss.scale``."""
    n_features = loss.n_features

    def value_grad(theta):
        value, grad = loss.data_value_grad(theta)
        penalty_value, penalty_grad = penalty.value_grad(theta[:, :n_features, :])
        grad[:, :n_features, :] += penalty_grad / loss.scale
        return value + penalty_value / loss.scale, grad

    return value_grad


def solve_logistic(loss, penalty, alpha_l1, theta0, *, solver, tol, max_iter):
    """Parameters theta (T, d + 1, m) minimizing logistic loss + graph penalty + L1.

    Without L1, L-BFGS on the objective divided by the total weight (``tol``
    bounds its gradient); with L1, accelerated proximal gradient on the same,
    ``tol`` bounding the L1 optimality violation and the intercept gradient.
    """
    value_grad = _normalized_logistic(loss, penalty)
    if alpha_l1 <= 0:
        check_solver_pair("lbfgs", loss, penalty)
        shape = theta0.shape

        def flat_value_grad(flat):
            value, grad = value_grad(flat.reshape(shape))
            return value, grad.ravel()

        return lbfgs(flat_value_grad, theta0, tol=tol, max_iter=max_iter)
    l1 = L1Penalty(alpha_l1 / loss.scale)
    n_features = loss.n_features

    def prox(theta, step):
        out = theta.copy()
        out[:, :n_features] = l1.prox(theta[:, :n_features], step)
        return out

    def optimality(theta, grad):
        coef_part = l1.optimality(theta[:, :n_features], grad[:, :n_features])
        intercept_part = np.abs(grad[:, n_features]).max(initial=0.0)
        return max(coef_part, intercept_part)

    return apg(
        value_grad,
        prox,
        optimality,
        theta0,
        lipschitz=(loss.lipschitz() + penalty.lipschitz()) / loss.scale,
        tol=tol,
        max_iter=max_iter,
    )


def solve_smooth(loss, penalty, x0, *, solver, tol, max_iter):
    """Minimize ``loss + penalty`` for a smooth ``penalty`` on the coefficients.

    ``loss`` is a :mod:`._losses` object, ``penalty`` has ``value_grad`` and
    ``lipschitz`` (:mod:`._smooth_penalties`) and acts on ``x[:, :d]``.
    ``solver``: "apg" (accelerated gradient with backtracking: no proximal
    map) or "lbfgs". Both stop when the largest gradient entry, intercepts
    included, is at most ``tol`` times the largest entry of the data term's
    gradient at ``W = 0``.
    """
    value_grad = _penalized(loss, penalty)
    scale = max(float(np.abs(loss.zero_gradient()).max(initial=0.0)), 1e-300)

    def optimality(x, grad):
        return float(np.abs(grad).max(initial=0.0)) / scale

    n_iter = 0
    if solver == "lbfgs":
        shape = x0.shape

        def flat_value_grad(flat):
            value, grad = value_grad(flat.reshape(shape))
            return value, grad.ravel()

        if optimality(x0, value_grad(x0)[1]) <= tol:
            return SolverResult(x0.copy(), 0, True)
        result = lbfgs(flat_value_grad, x0, tol=tol * scale, max_iter=max_iter)
        # L-BFGS-B may also stop on a stalled objective value; the gradient
        # test decides, and accelerated gradient finishes the few last digits.
        x0, n_iter = result.x, result.n_iter
        if n_iter >= max_iter or optimality(x0, value_grad(x0)[1]) <= tol:
            return SolverResult(x0, n_iter, n_iter < max_iter)
    result = apg(
        value_grad,
        lambda x, step: x,
        optimality,
        x0,
        lipschitz=loss.lipschitz() + penalty.lipschitz(),
        tol=tol,
        max_iter=max_iter - n_iter,
    )
    return SolverResult(result.x, n_iter + result.n_iter, result.converged)
