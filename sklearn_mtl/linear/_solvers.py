"""Optimization algorithms, each told only what it needs (matvec, gradient, prox)."""

import contextlib
import functools

import numpy as np
import scipy.optimize
import scipy.sparse as sp
import scipy.sparse.linalg as spla

__all__ = [
    "SolverResult",
    "blas_threads_for",
    "pcg",
    "sparse_direct",
    "lbfgs",
    "apg",
    "gram_bcd",
    "check_solver_pair",
    "inverse_blocks",
    "min_norm_solve",
    "mean_coupled_solve",
]

# Up to this many tasks, every product a graph-model fit makes is small.
_SINGLE_THREAD_TASKS = 1000


@functools.cache
def _threadpool_controller():
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def blas_threads_for(n_tasks, dense_coupling=True):
    """Context running BLAS on one thread unless the fit has large products.

    An iterative solve makes thousands of small BLAS calls (a graph times
    (T, d) models, batched d x d blocks). A multi-threaded BLAS wakes and joins
    its threads on each, which on a busy machine costs milliseconds per call:
    a School fit ran 7x slower with two threads than with one. Only a dense
    (T, T) coupling (a learned graph or a dense matrix) of over 1,000 tasks
    makes products large enough to keep the threads for (scikit-learn's
    KMeans limits BLAS threads the same way).
    """
    if dense_coupling and n_tasks > _SINGLE_THREAD_TASKS:
        return contextlib.nullcontext()
    return _threadpool_controller().limit(limits=1, user_api="blas")


class SolverResult:
    """Solution ``x``, iterations used, and whether the tolerance was met."""

    __slots__ = ("x", "n_iter", "converged")

    def __init__(self, x, n_iter, converged):
        self.x, self.n_iter, self.converged = x, n_iter, converged


def _dot(a, b):
    """``<a, b>`` without BLAS: a threaded BLAS dot on a busy machine can take
    milliseconds for what one core does in microseconds."""
    return float(np.einsum("i,i->", a.ravel(), b.ravel()))


def pcg(matvec, precondition, rhs, x0, *, tol, max_iter):
    """Preconditioned conjugate gradient on ``H x = rhs``.

    ``H`` is symmetric positive (semi-)definite, applied by ``matvec``;
    ``precondition(r)`` applies a symmetric positive definite approximation
    of ``H^-1``. Stops when ``||rhs - H x|| <= tol ||rhs||``.
    """
    rhs_norm = np.sqrt(_dot(rhs, rhs))
    if rhs_norm == 0.0:
        return SolverResult(np.zeros_like(rhs), 0, True)
    x = x0.copy()
    residual = rhs - matvec(x) if np.any(x) else rhs.copy()
    stop = tol * rhs_norm
    z = precondition(residual)
    direction = z.copy()
    rz = _dot(residual, z)
    n_iter = 0
    while n_iter < max_iter and _dot(residual, residual) > stop**2:
        h_direction = matvec(direction)
        curvature = _dot(direction, h_direction)
        if curvature <= 0:
            # Only on a singular system whose residual lies outside H's range
            # up to rounding: no direction of descent is left.
            break
        step = rz / curvature
        x += step * direction
        residual -= step * h_direction
        z = precondition(residual)
        rz_new = _dot(residual, z)
        direction *= rz_new / rz
        direction += z
        rz = rz_new
        n_iter += 1
    return SolverResult(x, n_iter, _dot(residual, residual) <= stop**2)


def sparse_direct(diagonal_blocks, coupling, rhs):
    """Exact solve of ``(blockdiag(B_t) + coupling ⊗ I_d) x = rhs`` by sparse LU.

    ``diagonal_blocks`` (T, d, d), ``coupling`` (T, T) sparse or dense,
    ``rhs`` (T, d). The system matrix is assembled sparse in one product
    (never dense (dT, dT)); fill-in stays small for sparse task graphs.
    Raises ``numpy.linalg.LinAlgError`` when the system is singular.
    """
    n_tasks, n_features = rhs.shape
    index = np.arange(n_tasks * n_features).reshape(n_tasks, n_features)
    rows = np.broadcast_to(index[:, :, None], diagonal_blocks.shape)
    cols = np.broadcast_to(index[:, None, :], diagonal_blocks.shape)
    size = n_tasks * n_features
    blocks = sp.csc_array(
        (diagonal_blocks.ravel(), (rows.ravel(), cols.ravel())), shape=(size, size)
    )
    system = blocks + sp.kron(
        sp.csc_array(coupling), sp.eye_array(n_features), format="csc"
    )
    try:
        # The system is symmetric: a minimum-degree ordering of A + A^T with
        # diagonal pivots keeps the fill of banded (chain, tree) graphs low.
        factor = spla.splu(
            sp.csc_matrix(system),
            permc_spec="MMD_AT_PLUS_A",
            options={"SymmetricMode": True},
        )
    except RuntimeError as exc:  # "Factor is exactly singular"
        raise np.linalg.LinAlgError(str(exc)) from exc
    solution = factor.solve(rhs.ravel())
    return SolverResult(solution.reshape(n_tasks, n_features), 1, True)


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


def apg(
    value_grad,
    prox,
    optimality,
    x0,
    *,
    lipschitz,
    tol,
    max_iter,
    quadratic=False,
    check_every=1,
):
    """Accelerated proximal gradient with backtracking and adaptive restart.

    Minimizes ``f(x) + g(x)`` (FISTA, Beck & Teboulle 2009): ``value_grad(x)``
    gives f and its gradient, ``prox(x, step)`` the proximal map of
    ``step * g``, ``optimality(x, grad)`` the distance of ``-grad`` to the
    subdifferential of g at x. ``lipschitz`` is an upper bound on f's
    gradient's Lipschitz constant: the step starts at ``1 / lipschitz`` and
    each iteration first tries a 10 % longer step, halving it back while the
    quadratic upper bound fails (a loose bound, as the logistic loss's, then
    costs nothing). The momentum restarts when it points uphill (O'Donoghue &
    Candes, 2015). Stops when ``optimality <= tol`` at the iterate, checked
    every iteration with the gradient that the line search already computed.

    ``quadratic=True`` declares f quadratic (the squared loss plus quadratic
    penalties): its gradient is then affine, so the gradient at the momentum
    point ``x_k + beta (x_k - x_{k-1})`` follows exactly from those at the two
    iterates, each iteration evaluates f once instead of twice, and the line
    search reads the curvature from the gradients alone: f's values are never
    used (``value_grad`` may return None for them).
    ``check_every`` > 1 measures optimality only every that many iterations
    (and at ``max_iter``), for problems whose iterations cost little more
    than the measure.
    """
    x = x0.copy()
    value_x, grad_x = value_grad(x)
    if optimality(x, grad_x) <= tol:
        return SolverResult(x, 0, True)
    point, value_point, grad_point = x, value_x, grad_x
    t, estimate = 1.0, lipschitz
    for iteration in range(1, max_iter + 1):
        estimate = estimate / 1.1
        while True:
            x_new = prox(point - grad_point / estimate, 1.0 / estimate)
            step = x_new - point
            value_new, grad_new = value_grad(x_new)
            # f(x_new) - [f(y) + <grad f(y), x_new - y>] must stay under the
            # quadratic term. Near the solution that difference drowns in the
            # rounding of f's values; it is then taken from the gradients,
            # (1/2) <grad f(x_new) - grad f(y), x_new - y>, exact for a
            # quadratic and accurate to second order otherwise (as TFOCS does).
            if quadratic:
                gap = 0.5 * _dot(grad_new - grad_point, step)
            else:
                gap = value_new - value_point - _dot(grad_point, step)
                noise = 1e3 * np.finfo(float).eps * (abs(value_point) + abs(value_new))
                if abs(gap) <= noise:
                    gap = 0.5 * _dot(grad_new - grad_point, step)
            if gap <= 0.5 * estimate * _dot(step, step) or estimate >= lipschitz:
                break
            estimate = min(2.0 * estimate, lipschitz)
        if (iteration % check_every == 0 or iteration == max_iter) and optimality(
            x_new, grad_new
        ) <= tol:
            return SolverResult(x_new, iteration, True)
        if _dot(point - x_new, x_new - x) > 0:
            t = 1.0
        t_new = (1.0 + np.sqrt(1.0 + 4.0 * t * t)) / 2.0
        beta = (t - 1.0) / t_new
        if beta > 0:
            direction = x_new - x
            point = x_new + beta * direction
            if quadratic:
                grad_point = grad_new + beta * (grad_new - grad_x)
            else:
                value_point, grad_point = value_grad(point)
        else:
            point, value_point, grad_point = x_new, value_new, grad_new
        x, grad_x, t = x_new, grad_new, t_new
    return SolverResult(x, max_iter, False)


def inverse_blocks(blocks):
    """Inverses of symmetric positive definite (T, d, d) blocks.

    A block that is singular in floating point (an unpenalized task with
    fewer samples than features) gets its pseudo-inverse instead.
    """
    try:
        inverse = np.linalg.inv(blocks)
    except np.linalg.LinAlgError:
        inverse = None
    if inverse is None or not np.all(np.isfinite(inverse)):
        return np.linalg.pinv(blocks, hermitian=True)
    return inverse


def min_norm_solve(gram, rhs):
    """Minimum-norm solutions of the singular systems ``G_t w_t = r_t``.

    Eigenvalues below ``d * 1000 * eps`` of the largest are treated as zero:
    the Gram matrix of n_t < d centred samples has rank n_t - 1 at most.
    """
    values, vectors = np.linalg.eigh(gram)
    cutoff = values[:, -1:] * gram.shape[1] * 1000 * np.finfo(float).eps
    inverse = np.where(values > cutoff, 1.0 / np.where(values > 0, values, 1), 0.0)
    projected = np.einsum("tji,tj->ti", vectors, rhs)
    return np.einsum("tij,tj->ti", vectors, inverse * projected)


def mean_coupled_solve(gram, rhs, shift, coupling):
    """Exact solve of ``(G_t + shift I) w_t - coupling sum_s w_s = r_t`` for all t.

    The complete task graph's system (``P = c (I - 11^T / T)``): given the
    task sum ``m``, each ``w_t = B_t^-1 (r_t + coupling m)`` with ``B_t =
    G_t + shift I``, and summing over tasks leaves the d x d system
    ``(I - coupling sum_t B_t^-1) m = sum_t B_t^-1 r_t`` (Woodbury).
    """
    n_features = rhs.shape[1]
    inverse = inverse_blocks(gram + shift * np.eye(n_features))
    solved = np.matmul(inverse, rhs[..., None])[..., 0]
    system = np.eye(n_features) - coupling * inverse.sum(axis=0)
    # Singular only without a ridge when the pooled data leave a direction
    # undetermined; least squares then picks the minimum-norm task sum.
    total = np.linalg.lstsq(system, solved.sum(axis=0), rcond=None)[0]
    return SolverResult(solved + coupling * (inverse @ total), 1, True)


def gram_bcd(gram, rhs, block_minimize, optimality, W0, *, tol, max_iter):
    """Cyclic block coordinate descent over features on per-task Gram blocks.

    Minimizes ``sum_t (1/2) w_t^T G_t w_t - r_t^T w_t + sum_j h(W[:, j])``
    for ``W`` (T, d), ``gram`` (T, d, d), ``rhs`` (T, d): each pass minimizes
    exactly over one feature's coefficients in all tasks at a time,
    ``block_minimize(a, b)`` returning the minimizer over w (T,) of
    ``sum_t (a_t/2) w_t^2 - b_t w_t + h(w)``. The products ``G_t W`` are
    kept up to date (O(T d) per feature), so a pass costs O(T d^2) however
    many samples there are. Stops when ``optimality(W, grad) <= tol`` after
    a pass over every feature (``optimality`` must also accept a subset of
    the feature columns); between such passes, only the nonzero features
    are visited. ``n_iter`` counts passes, full or not.
    """
    W = W0.copy()
    product = np.matmul(gram, W[..., None])[..., 0]
    diagonal = np.diagonal(gram, axis1=1, axis2=2)
    every = np.arange(W.shape[1])
    features = every
    for iteration in range(1, max_iter + 1):
        for j in features:
            old = W[:, j]
            a = diagonal[:, j]
            b = a * old - (product[:, j] - rhs[:, j])
            new = block_minimize(a, b)
            delta = new - old
            if delta.any():
                W[:, j] = new
                # G_t symmetric: its row j is its column j, and rows are
                # contiguous in memory.
                product += gram[:, j, :] * delta[:, None]
        grad = product - rhs
        # Active set: after a pass over every feature, passes cycle over the
        # nonzero ones only until they are optimal among themselves (a
        # sparse solution has few), then a full pass checks the rest. Only a
        # full pass can end the solve.
        if features is every:
            if optimality(W, grad) <= tol:
                return SolverResult(W, iteration, True)
            active = np.flatnonzero(np.any(W != 0, axis=0))
            if 0 < active.size < every.size:
                features = active
        elif optimality(W[:, features], grad[:, features]) <= tol:
            features = every
    return SolverResult(W, max_iter, False)


def check_solver_pair(solver, loss, penalty):
    """Raise a readable ValueError when ``solver`` cannot minimize loss + penalty.

    "apg" needs only a proximal map, which every penalty has (a smooth
    penalty is added to the loss instead). "bcd" needs a penalty that is a
    sum over features (``penalty.feature_separable``) and a loss given by
    per-task Gram blocks (``loss.gram`` not None: the squared loss, while the
    blocks fit in memory). The linear-system solvers "cg" and "direct" need
    the squared loss (``loss.gram_product``) and a quadratic penalty
    (``penalty.hessian_product``); "lbfgs" a smooth penalty
    (``penalty.smooth``).
    """
    if solver in ("cg", "direct"):
        if not hasattr(loss, "gram_product"):
            raise ValueError(
                f"solver={solver!r} solves a linear system: it needs the squared "
                f"loss, not {type(loss).__name__}. Use solver='lbfgs' or 'apg'."
            )
        if not hasattr(penalty, "hessian_product"):
            raise ValueError(
                f"solver={solver!r} solves a linear system: it needs a quadratic "
                f"penalty; {type(penalty).__name__} is not one (an L1 part has "
                "no Hessian). Use solver='apg' (named 'fista' by the graph "
                "models) or 'auto'."
            )
        return
    if solver == "lbfgs":
        if not getattr(penalty, "smooth", False):
            raise ValueError(
                f"solver='lbfgs' needs a smooth penalty; {type(penalty).__name__} "
                "is not differentiable everywhere. Use solver='apg' or 'auto'."
            )
        return
    if solver != "bcd":
        return
    if not getattr(penalty, "feature_separable", False):
        raise ValueError(
            f"solver='bcd' needs a penalty that is a sum over features; "
            f"{type(penalty).__name__} couples all features (through the "
            "singular values for the trace norm). Use solver='apg' or 'auto'."
        )
    if getattr(loss, "gram", None) is None:
        raise ValueError(
            f"solver='bcd' needs the squared loss's per-task Gram blocks; "
            f"{type(loss).__name__} has none (a logistic loss, or a sparse X "
            "with too many features for Gram blocks). Use solver='apg' or 'auto'."
        )
