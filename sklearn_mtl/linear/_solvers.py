"""Optimization algorithms, each told only what it needs (matvec, gradient, prox)."""

import numpy as np
import scipy.optimize
import scipy.sparse as sp
import scipy.sparse.linalg as spla

__all__ = ["SolverResult", "block_jacobi_cg", "sparse_direct", "fista", "lbfgs"]


class SolverResult:
    """Solution ``x``, iterations used, and whether the tolerance was met."""

    __slots__ = ("x", "n_iter", "converged")

    def __init__(self, x, n_iter, converged):
        self.x, self.n_iter, self.converged = x, n_iter, converged


def block_jacobi_cg(matvec, rhs, blocks, x0, *, tol, max_iter):
    """Preconditioned conjugate gradient on ``H x = rhs`` for ``x`` of shape (T, d).

    ``H`` is symmetric positive definite, applied by ``matvec``; ``blocks``
    (T, d, d) are its diagonal blocks, inverted once by Cholesky and used as
    a block-Jacobi preconditioner. Stops when ``||rhs - H x|| <= tol ||rhs||``.
    """
    rhs_norm = np.linalg.norm(rhs)
    x = x0.copy()
    if rhs_norm == 0.0:
        return SolverResult(np.zeros_like(rhs), 0, True)
    chol = np.linalg.cholesky(blocks)
    eye = np.broadcast_to(np.eye(blocks.shape[1]), blocks.shape)
    chol_inv = np.linalg.solve(chol, eye)
    inverse = np.matmul(np.swapaxes(chol_inv, 1, 2), chol_inv)

    def precondition(r):
        return np.matmul(inverse, r[..., None])[..., 0]

    residual = rhs - matvec(x)
    z = precondition(residual)
    direction = z.copy()
    rz = np.vdot(residual, z)
    for iteration in range(1, max_iter + 1):
        if np.linalg.norm(residual) <= tol * rhs_norm:
            return SolverResult(x, iteration - 1, True)
        h_direction = matvec(direction)
        step = rz / np.vdot(direction, h_direction)
        x += step * direction
        residual -= step * h_direction
        z = precondition(residual)
        rz_new = np.vdot(residual, z)
        direction = z + (rz_new / rz) * direction
        rz = rz_new
    converged = np.linalg.norm(residual) <= tol * rhs_norm
    return SolverResult(x, max_iter, converged)


def sparse_direct(diagonal_blocks, coupling, rhs):
    """Exact solve of ``(blockdiag(B_t) + coupling ⊗ I_d) x = rhs`` by sparse LU.

    ``diagonal_blocks`` (T, d, d), ``coupling`` (T, T) sparse or dense,
    ``rhs`` (T, d). The system matrix is assembled sparse (never dense
    (dT, dT)); fill-in stays small for sparse task graphs.
    """
    n_tasks, n_features = rhs.shape
    system = sp.block_diag(list(diagonal_blocks), format="csc") + sp.kron(
        sp.csc_array(coupling), sp.eye_array(n_features), format="csc"
    )
    solution = spla.splu(sp.csc_matrix(system)).solve(rhs.ravel())
    return SolverResult(solution.reshape(n_tasks, n_features), 1, True)


def fista(value_grad, prox, optimality, x0, *, step, tol, max_iter):
    """Accelerated proximal gradient with adaptive restart.

    Minimizes ``f(x) + g(x)``: ``value_grad(x)`` gives f and its gradient,
    ``prox(x, step)`` the proximal map of ``step * g``, and
    ``optimality(x, grad)`` the distance of ``-grad`` to the subdifferential of
    g at x (zero exactly at a minimizer). Stops when that is ``<= tol``.
    """
    x = x0.copy()
    momentum_point, t = x.copy(), 1.0
    for iteration in range(1, max_iter + 1):
        _, grad = value_grad(momentum_point)
        x_new = prox(momentum_point - step * grad, step)
        # Restart momentum when it points uphill (O'Donoghue & Candes, 2015).
        if np.vdot(momentum_point - x_new, x_new - x) > 0:
            t = 1.0
        t_new = (1.0 + np.sqrt(1.0 + 4.0 * t * t)) / 2.0
        momentum_point = x_new + ((t - 1.0) / t_new) * (x_new - x)
        x, t = x_new, t_new
        if iteration % 10 == 0 or iteration == max_iter:
            _, grad_x = value_grad(x)
            if optimality(x, grad_x) <= tol:
                return SolverResult(x, iteration, True)
    return SolverResult(x, max_iter, False)


def lbfgs(value_grad, x0, *, tol, max_iter):
    """L-BFGS-B with exact gradients; ``tol`` bounds the projected gradient."""
    result = scipy.optimize.minimize(
        value_grad,
        x0.ravel(),
        jac=True,
        method="L-BFGS-B",
        options={
            "maxiter": max_iter,
            "gtol": tol,
            "ftol": 64 * np.finfo(float).eps,
            "maxls": 50,
        },
    )
    return SolverResult(result.x.reshape(x0.shape), int(result.nit), result.status == 0)


def soft_threshold(x, threshold):
    """Proximal map of ``threshold * ||x||_1``."""
    return np.sign(x) * np.maximum(np.abs(x) - threshold, 0.0)


def l1_optimality(coef, grad, alpha_l1):
    """Largest violation of the L1 optimality conditions.

    ``grad + alpha_l1 * sign(w) = 0`` where ``w != 0``, ``|grad| <= alpha_l1``
    where ``w == 0``.
    """
    nonzero = coef != 0
    violation = np.where(
        nonzero,
        np.abs(grad + alpha_l1 * np.sign(coef)),
        np.maximum(np.abs(grad) - alpha_l1, 0.0),
    )
    return float(violation.max()) if violation.size else 0.0
