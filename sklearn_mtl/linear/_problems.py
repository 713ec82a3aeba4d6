"""Graph-regularized multi-task objectives: data fits and the task penalty.

Both problems minimize, over per-task models ``w_t`` (rows of ``W``) and
unpenalized intercepts ``b_t``::

    sum_t c_t * sum_{i in t} s_i * loss(y_i, x_i @ w_t + b_t)
        + (alpha_l2 / 2) ||W||_F^2 + alpha_graph * tr(W^T P W) + alpha_l1 ||W||_1

where ``P`` is the task graph's Laplacian (or a learned task precision),
``s_i`` the sample weights and ``c_t`` the per-task loss normalization.
"""

import functools

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from scipy.special import expit, logsumexp

from ._solvers import (
    SolverResult,
    apg,
    fista,
    l1_optimality,
    lbfgs,
    pcg,
    soft_threshold,
    sparse_direct,
)

__all__ = ["TaskPenalty", "SquaredProblem", "LogisticProblem", "task_loss_scale"]


# Above this many features (or this many Gram entries in all) a sparse X is
# not turned into per-task Gram blocks: the solver multiplies by X_t and X_t^T.
MATRIX_FREE_FEATURES = 2000
MATRIX_FREE_GRAM_ENTRIES = 25_000_000


def task_loss_scale(data, normalization):
    """``c_t`` for every task: 1 ("sum") or 1 / (task's total weight) ("mean")."""
    if normalization == "sum":
        return np.ones(data.n_tasks)
    weights = np.ones(data.n_rows) if data.sample_weight is None else data.sample_weight
    return 1.0 / np.bincount(data.task_index, weights=weights, minlength=data.n_tasks)


class TaskPenalty:
    """``(alpha_l2/2)||W||^2 + alpha_graph tr(W^T P W)`` on W of shape (T, ...).

    ``precision`` may be None for the complete graph, given by its weight:
    ``P = complete_weight (I - 11^T / T)`` then multiplies in O(T d) as
    ``c (W - mean(W))`` and is never formed.
    """

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


def _padded_groups(counts, n_columns, budget=4_000_000):
    """Split tasks, sorted by size, into groups padded to their largest task.

    Yields ``(first, stop, width)`` over positions in the size order: tasks
    within a group differ in size by at most a quarter (plus 4 rows), so
    zero padding adds little work, and each group's padded array holds at
    most ``budget`` numbers (or one task).
    """
    first, n_tasks = 0, len(counts)
    while first < n_tasks:
        limit = 1.25 * counts[first] + 4
        stop = first + 1
        while (
            stop < n_tasks
            and counts[stop] <= limit
            and (stop + 1 - first) * counts[stop] * n_columns <= budget
        ):
            stop += 1
        yield first, stop, int(counts[stop - 1])
        first = stop


def _task_products(Z, V, task_index, n_tasks):
    """``Z_t^T Z_t`` (T, d, d) and ``Z_t^T V_t`` (T, d, k) for every task t.

    Rows are grouped by task into zero-padded (tasks, rows, d + k) stacks and
    multiplied as batched matrix products: one BLAS call per group of
    similar-sized tasks, instead of one per task or a scatter per row.
    """
    n_features, n_targets = Z.shape[1], V.shape[1]
    counts = np.bincount(task_index, minlength=n_tasks)
    task_order = np.argsort(counts, kind="stable")
    rank = np.empty(n_tasks, dtype=np.intp)
    rank[task_order] = np.arange(n_tasks)
    row_order = np.argsort(rank[task_index], kind="stable")
    sorted_counts = counts[task_order]
    starts = np.concatenate([[0], np.cumsum(sorted_counts)])
    n_columns = n_features + n_targets
    gram = np.empty((n_tasks, n_features, n_features))
    cross = np.empty((n_tasks, n_features, n_targets))
    for first, stop, width in _padded_groups(sorted_counts, n_columns):
        rows = row_order[starts[first] : starts[stop]]
        slot = np.repeat(np.arange(stop - first), sorted_counts[first:stop])
        position = np.arange(starts[first], starts[stop]) - starts[first + slot]
        padded = np.zeros((stop - first, width, n_columns))
        padded[slot, position, :n_features] = Z[rows]
        padded[slot, position, n_features:] = V[rows]
        product = np.matmul(np.swapaxes(padded, 1, 2), padded[..., :n_features])
        tasks = task_order[first:stop]
        gram[tasks] = product[:, :n_features]
        cross[tasks] = np.swapaxes(product[:, n_features:], 1, 2)
    return gram, cross


def _task_indicator(task_index, n_tasks, values):
    """Sparse (T, n) matrix with ``values[i]`` at (task of row i, i): task sums."""
    n_rows = task_index.shape[0]
    return sp.csr_array(
        (values, (task_index, np.arange(n_rows))), shape=(n_tasks, n_rows)
    )


def block_design(X, task_index, n_tasks):
    """Sparse (n, n_tasks * d) matrix with row i's features in its task's block."""
    n_rows, width = X.shape
    if sp.issparse(X):
        X = sp.csr_array(X)
        columns = np.repeat(task_index * width, np.diff(X.indptr)) + X.indices
        return sp.csr_array(
            (X.data, columns, X.indptr), shape=(n_rows, n_tasks * width)
        )
    columns = task_index[:, None] * width + np.arange(width)
    return sp.csr_array(
        (X.ravel(), columns.ravel(), np.arange(0, n_rows * width + 1, width)),
        shape=(n_rows, n_tasks * width),
    )


def _inverse_blocks(blocks):
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


def _largest_eigenvalue(matvec, size):
    """Largest eigenvalue of a symmetric positive semi-definite operator.

    Lanczos to a relative 1e-3, returned 1 % high so that a step size built
    on it stays safe.
    """
    operator = spla.LinearOperator((size, size), matvec=matvec, dtype=np.float64)
    top = spla.eigsh(operator, k=1, which="LA", tol=1e-3, return_eigenvectors=False)
    return 1.01 * float(top[0])


def _min_norm_solve(gram, rhs):
    """Minimum-norm solutions of the singular systems ``G_t w_t = r_t``.

    Eigenvalues below ``d * 1000 * eps`` of the largest are treated as zero:
    the Gram matrix of n_t < d centred samples has rank n_t - 1 at most.
    """
    values, vectors = np.linalg.eigh(gram)
    cutoff = values[:, -1:] * gram.shape[1] * 1000 * np.finfo(float).eps
    inverse = np.where(values > cutoff, 1.0 / np.where(values > 0, values, 1), 0.0)
    projected = np.einsum("tji,tj->ti", vectors, rhs)
    return np.einsum("tij,tj->ti", vectors, inverse * projected)


class SquaredProblem:
    """Squared loss ``(1/2)(y - x w_t - b_t)^2``, intercepts eliminated by centering.

    Minimizing over the unpenalized ``b_t`` gives ``b_t = ybar_t - xbar_t @ w_t``
    (weighted task means), leaving a quadratic in ``W`` with per-task
    centered Gram matrices ``G_t`` and ``r_t = c_t Xc_t^T S yc_t``.

    ``X`` may be a scipy sparse matrix; it is never densified. With many
    features the Gram blocks are not formed (``gram`` is None) and products
    ``G_t w_t`` go through ``X_t`` and ``X_t^T``.
    """

    def __init__(self, data, task_scale, y=None):
        y = data.y if y is None else y
        n_rows, n_tasks = data.n_rows, data.n_tasks
        weights = np.ones(n_rows) if data.sample_weight is None else data.sample_weight
        X_rows = data.X_rows
        sparse = sp.issparse(X_rows)
        n_features = X_rows.shape[1]
        y_2d = y.reshape(n_rows, -1)
        task = data.task_index
        weight_sums = np.bincount(task, weights=weights, minlength=n_tasks)
        indicator = _task_indicator(task, n_tasks, weights / weight_sums[task])
        x_mean = indicator @ X_rows
        self.x_mean = x_mean.toarray() if sp.issparse(x_mean) else np.asarray(x_mean)
        self.y_mean = indicator @ y_2d
        yc = y_2d - self.y_mean[task]
        row_scale = weights * task_scale[task]
        self.y_scatter = np.bincount(
            task, weights=row_scale * np.sum(yc**2, axis=1), minlength=n_tasks
        )
        self._task_index, self._n_features = task, n_features
        self.design = None
        if not sparse:
            # Subtracting into the gathered means: numpy takes ~10x longer
            # for `X - means[task]` than for the same work in place.
            Z = np.take(self.x_mean, task, axis=0)
            np.subtract(X_rows, Z, out=Z)
            V = yc
            if np.any(row_scale != 1.0):
                root = np.sqrt(row_scale)[:, None]
                Z *= root
                V = root * yc
            self.gram, rhs = _task_products(Z, V, task, n_tasks)
        else:
            # Centering stays implicit, so X keeps its sparsity: since the
            # weighted residuals yc sum to zero per task, X^T S yc = Xc^T S yc,
            # and Xc^T S Xc = X^T S X - (sum_i s_i) xbar xbar^T.
            design = block_design(X_rows, task, n_tasks)
            rhs = np.asarray(design.T @ (row_scale[:, None] * yc)).reshape(
                n_tasks, n_features, -1
            )
            self._mass = task_scale * weight_sums
            if (
                n_features > MATRIX_FREE_FEATURES
                or n_tasks * n_features**2 > MATRIX_FREE_GRAM_ENTRIES
            ):
                self.gram, self.design, self._row_scale = None, design, row_scale
            else:
                scaled = sp.diags_array(row_scale) @ sp.csr_array(X_rows)
                raw = (design.T @ scaled).toarray().reshape(n_tasks, n_features, -1)
                self.gram = raw - self._mass[:, None, None] * (
                    self.x_mean[:, :, None] * self.x_mean[:, None, :]
                )
        self.rhs = rhs
        self._single_target = y.ndim == 1
        if self._single_target:
            self.y_mean, self.rhs = self.y_mean[:, 0], self.rhs[..., 0]

    @property
    def n_tasks(self):
        return self.rhs.shape[0]

    def _gram_product(self, W):
        if self.gram is not None:
            return np.matmul(self.gram, W[..., None])[..., 0]
        # Xc^T S Xc w = X^T S (X w - xbar . w) per task; the centred scores sum
        # to zero under S, so no xbar term remains on the left.
        scores = self.design @ W.ravel()
        scores -= np.einsum("td,td->t", self.x_mean, W)[self._task_index]
        return (self.design.T @ (self._row_scale * scores)).reshape(W.shape)

    def _gram_diagonal(self):
        if self.gram is not None:
            return np.diagonal(self.gram, axis1=1, axis2=2)
        squares = self.design.copy()
        squares.data **= 2
        raw = (squares.T @ self._row_scale).reshape(self.n_tasks, -1)
        return raw - self._mass[:, None] * self.x_mean**2

    def _data_grad(self, W):
        return self._gram_product(W) - self.rhs

    def objective(self, W, penalty, alpha_l1=0.0):
        """Full objective value at coefficients W (intercepts at their optimum)."""
        data_term = 0.5 * np.vdot(W, self._gram_product(W)) - np.vdot(self.rhs, W)
        data_term += 0.5 * self.y_scatter.sum()
        return data_term + penalty.value_grad(W)[0] + alpha_l1 * np.abs(W).sum()

    def solve(self, penalty, alpha_l1, W0, *, solver, tol, max_iter):
        """Coefficients W of shape (T, d) minimizing the objective.

        ``solver``: "cg" (block-Jacobi preconditioned conjugate gradient),
        "direct" (sparse LU) or "exact" (the complete graph's rank-d solve);
        the complete graph is always solved exactly, and ``alpha_l1 > 0``
        always by FISTA. Tasks without any penalty (``alpha_l2 = 0`` and no
        graph edge) are independent least-squares problems, solved for their
        minimum-norm coefficients when they have fewer samples than features.
        """
        if alpha_l1 > 0:
            return self._solve_l1(penalty, alpha_l1, W0, tol=tol, max_iter=max_iter)
        free = penalty.diagonal() <= 0
        if not free.any() or self.gram is None:
            return self._solve_coupled(
                self.gram, self.rhs, penalty, W0, solver, tol, max_iter
            )
        W = np.empty_like(self.rhs)
        W[free] = _min_norm_solve(self.gram[free], self.rhs[free])
        n_iter, converged = 0, True
        if not free.all():
            keep = ~free
            result = self._solve_coupled(
                self.gram[keep],
                self.rhs[keep],
                penalty.restrict(keep),
                W0[keep],
                solver,
                tol,
                max_iter,
            )
            W[keep], n_iter, converged = result.x, result.n_iter, result.converged
        return SolverResult(W, n_iter, converged)

    def _solve_coupled(self, gram, rhs, penalty, W0, solver, tol, max_iter):
        if penalty.complete_weight is not None and gram is not None:
            return _solve_complete(gram, rhs, penalty)
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
            inverse = _inverse_blocks(blocks)

            def precondition(R):
                return np.matmul(inverse, R[..., None])[..., 0]

            def matvec(W):
                return np.matmul(gram, W[..., None])[..., 0] + penalty.hessian_product(
                    W
                )

        else:
            # Matrix-free: a diagonal (Jacobi) preconditioner. An unpenalized
            # task (its own singular system when n_t < d) gets a scalar one
            # and starts from zero instead: CG then stays in the range of its
            # Gram matrix and ends at the minimum-norm solution.
            scale = self._gram_diagonal() + diagonal[:, None]
            free = diagonal <= 0
            scale[free] = np.max(scale[free], axis=1, keepdims=True, initial=0.0)
            inverse_diagonal = 1.0 / np.where(scale > 0, scale, 1.0)
            if free.any():
                W0 = np.where(free[:, None], 0.0, W0)

            def precondition(R):
                return inverse_diagonal * R

            def matvec(W):
                return self._gram_product(W) + penalty.hessian_product(W)

        return pcg(matvec, precondition, rhs, W0, tol=tol, max_iter=max_iter)

    @functools.cached_property
    def _max_gram_eigenvalue(self):
        # Cached: the data term is the same in every solve of a learned
        # graph's alternation, only the penalty changes.
        if self.gram is not None:
            return np.linalg.eigvalsh(self.gram)[:, -1].max(initial=0.0)
        shape = self.rhs.shape
        return _largest_eigenvalue(
            lambda w: self._gram_product(w.reshape(shape)).ravel(), self.rhs.size
        )

    def _solve_l1(self, penalty, alpha_l1, W0, *, tol, max_iter):
        step = 1.0 / (self._max_gram_eigenvalue + penalty.lipschitz())
        scale = max(np.abs(self.rhs).max(initial=0.0), np.finfo(float).tiny)

        def value_grad(W):
            return None, self._data_grad(W) + penalty.hessian_product(W)

        return fista(
            value_grad,
            lambda W, t: soft_threshold(W, t * alpha_l1),
            lambda W, grad: l1_optimality(W, grad, alpha_l1) / scale,
            W0,
            step=step,
            tol=tol,
            max_iter=max_iter,
        )

    def intercept(self, W):
        """Optimal intercepts ``b_t = ybar_t - xbar_t @ w_t``."""
        if self._single_target:
            return self.y_mean - np.einsum("ti,ti->t", self.x_mean, W)
        return self.y_mean - np.einsum("ti,tik->tk", self.x_mean, W)

    def independent_coef(self, alpha):
        """Per-task ridge fits (no coupling), shape (T, d[, k])."""
        diagonal = self._gram_diagonal()
        trace = diagonal.sum(axis=1).mean() / diagonal.shape[1]
        ridge = max(alpha, 1e-6 * trace, np.finfo(float).tiny)
        rhs = self.rhs if not self._single_target else self.rhs[..., None]
        if self.gram is not None:
            systems = self.gram + ridge * np.eye(self.gram.shape[1])
            coef = np.linalg.solve(systems, rhs)
        else:
            # Loose fits are enough to rank task similarity.
            penalty = TaskPenalty(sp.csr_array((self.n_tasks,) * 2), 0.0, ridge)
            coef = np.stack(
                [
                    self._solve_coupled(
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
        return coef[..., 0] if self._single_target else coef


def _solve_complete(gram, rhs, penalty):
    """Exact solve when ``P = c (I - 11^T / T)`` (the complete graph).

    The system is ``(G_t + a I) w_t - (2 alpha_graph c / T) sum_s w_s = r_t``
    with ``a = alpha_l2 + 2 alpha_graph c``: given the task sum ``m``, each
    ``w_t = B_t^-1 (r_t + k m)``, and summing over tasks leaves the d x d
    system ``(I - k sum_t B_t^-1) m = sum_t B_t^-1 r_t`` (Woodbury).
    """
    n_tasks, n_features = rhs.shape
    coupling = 2.0 * penalty.alpha_graph * penalty.complete_weight / n_tasks
    shift = penalty.alpha_l2 + 2.0 * penalty.alpha_graph * penalty.complete_weight
    inverse = _inverse_blocks(gram + shift * np.eye(n_features))
    solved = np.matmul(inverse, rhs[..., None])[..., 0]
    system = np.eye(n_features) - coupling * inverse.sum(axis=0)
    # Singular only without alpha_l2 when the pooled data leave a direction
    # undetermined; least squares then picks the minimum-norm task sum.
    total = np.linalg.lstsq(system, solved.sum(axis=0), rcond=None)[0]
    return SolverResult(solved + coupling * (inverse @ total), 1, True)


class LogisticProblem:
    """Logistic loss: sigmoid for two classes, masked softmax for more.

    Parameters ``theta`` have shape (T, d + 1, m): coefficients then the
    intercept, ``m = 1`` for binary problems and ``m = n_classes`` otherwise.
    With more than two classes, each task's softmax runs over the classes
    seen in that task only (``allowed``), so a task's label set may be a
    subset of the union.
    """

    def __init__(self, data, task_scale, classes):
        X_rows = data.X_rows
        n_rows, n_features = X_rows.shape
        self.n_tasks, self.n_features = data.n_tasks, n_features
        y_index = np.searchsorted(classes, data.y)
        self.binary = len(classes) == 2
        self.n_outputs = 1 if self.binary else len(classes)
        weights = np.ones(n_rows) if data.sample_weight is None else data.sample_weight
        row_weight = weights * task_scale[data.task_index]
        # Scaling the objective by a constant keeps the minimizer and makes the
        # gradient tolerance independent of the number of samples.
        self.scale = row_weight.sum()
        self.row_weight = row_weight / self.scale
        if sp.issparse(X_rows):
            augmented = sp.hstack(
                [sp.csr_array(X_rows), np.ones((n_rows, 1))], format="csr"
            )
        else:
            augmented = np.hstack([X_rows, np.ones((n_rows, 1))])
        self.design = block_design(augmented, data.task_index, self.n_tasks)
        self.task_index = data.task_index
        if self.binary:
            self.sign = np.where(y_index == 1, 1.0, -1.0)
        else:
            self.onehot = np.eye(len(classes))[y_index]
            self.allowed = np.zeros((self.n_tasks, len(classes)), dtype=bool)
            self.allowed[data.task_index, y_index] = True
        self._augmented = augmented

    @functools.cached_property
    def _max_task_curvature(self):
        """Largest eigenvalue of any task's weighted Gram: FISTA's step size.

        Cached: the data term is the same in every solve of a learned graph's
        alternation.
        """
        if sp.issparse(self._augmented):
            # All tasks' Grams at once, as the block-diagonal operator
            # design^T diag(weights) design, without forming any of them.
            return _largest_eigenvalue(
                lambda v: self.design.T @ (self.row_weight * (self.design @ v)),
                self.design.shape[1],
            )
        scaled = np.sqrt(self.row_weight)[:, None] * self._augmented
        gram, _ = _task_products(
            scaled, np.empty((scaled.shape[0], 0)), self.task_index, self.n_tasks
        )
        return np.linalg.eigvalsh(gram)[:, -1].max(initial=0.0)

    def split(self, theta):
        """(coef, intercept) views of theta."""
        return theta[:, : self.n_features, :], theta[:, self.n_features, :]

    def data_value_grad(self, theta):
        scores = self.design @ theta.reshape(-1, self.n_outputs)
        if self.binary:
            margin = self.sign * scores[:, 0]
            value = np.dot(self.row_weight, np.logaddexp(0.0, -margin))
            d_scores = (-self.sign * expit(-margin) * self.row_weight)[:, None]
        else:
            masked = np.where(self.allowed[self.task_index], scores, -np.inf)
            log_norm = logsumexp(masked, axis=1)
            value = np.dot(
                self.row_weight, log_norm - np.sum(self.onehot * scores, axis=1)
            )
            proba = np.exp(masked - log_norm[:, None])
            d_scores = (proba - self.onehot) * self.row_weight[:, None]
        grad = (self.design.T @ d_scores).reshape(theta.shape)
        return value, grad

    def value_grad(self, theta, penalty):
        value, grad = self.data_value_grad(theta)
        coef = theta[:, : self.n_features, :]
        penalty_value, penalty_grad = penalty.value_grad(coef)
        grad[:, : self.n_features, :] += penalty_grad / self.scale
        return value + penalty_value / self.scale, grad

    def objective(self, theta, penalty, alpha_l1=0.0):
        """Objective in the user's units (unscaled)."""
        value, _ = self.value_grad(theta, penalty)
        coef = theta[:, : self.n_features, :]
        return self.scale * value + alpha_l1 * np.abs(coef).sum()

    def solve(self, penalty, alpha_l1, theta0, *, solver, tol, max_iter):
        """Parameters theta of shape (T, d + 1, m) minimizing the objective."""
        if alpha_l1 <= 0:
            shape = theta0.shape

            def flat_value_grad(flat):
                value, grad = self.value_grad(flat.reshape(shape), penalty)
                return value, grad.ravel()

            return lbfgs(flat_value_grad, theta0, tol=tol, max_iter=max_iter)
        curvature = 0.25 if self.binary else 0.5
        step = 1.0 / (
            curvature * self._max_task_curvature + penalty.lipschitz() / self.scale
        )
        threshold = alpha_l1 / self.scale
        n_features = self.n_features

        def prox(theta, step_size):
            out = theta.copy()
            out[:, :n_features] = soft_threshold(
                theta[:, :n_features], step_size * threshold
            )
            return out

        def optimality(theta, grad):
            coef_part = l1_optimality(
                theta[:, :n_features], grad[:, :n_features], threshold
            )
            intercept_part = np.abs(grad[:, n_features]).max(initial=0.0)
            return max(coef_part, intercept_part)

        return fista(
            lambda theta: self.value_grad(theta, penalty),
            prox,
            optimality,
            theta0,
            step=step,
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
    n_features = loss.n_features

    def value_grad(x):
        value, grad = loss.value_grad(x)
        penalty_value, penalty_grad = penalty.value_grad(x[:, :n_features])
        grad[:, :n_features] += penalty_grad
        return value + penalty_value, grad

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
