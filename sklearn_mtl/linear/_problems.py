"""Graph-regularized multi-task objectives: data fits and the task penalty.

Both problems minimize, over per-task models ``w_t`` (rows of ``W``) and
unpenalized intercepts ``b_t``::

    sum_t c_t * sum_{i in t} s_i * loss(y_i, x_i @ w_t + b_t)
        + (alpha_l2 / 2) ||W||_F^2 + alpha_graph * tr(W^T P W) + alpha_l1 ||W||_1

where ``P`` is the task graph's Laplacian (or a learned task precision),
``s_i`` the sample weights and ``c_t`` the per-task loss normalization.
"""

import numpy as np
import scipy.sparse as sp
from scipy.special import expit, logsumexp

from ._solvers import (
    block_jacobi_cg,
    fista,
    l1_optimality,
    lbfgs,
    soft_threshold,
    sparse_direct,
)

__all__ = ["TaskPenalty", "SquaredProblem", "LogisticProblem", "task_loss_scale"]


def task_loss_scale(data, normalization):
    """``c_t`` for every task: 1 ("sum") or 1 / (task's total weight) ("mean")."""
    if normalization == "sum":
        return np.ones(data.n_tasks)
    weights = np.ones(data.n_rows) if data.sample_weight is None else data.sample_weight
    return 1.0 / np.bincount(data.task_index, weights=weights, minlength=data.n_tasks)


class TaskPenalty:
    """``(alpha_l2/2)||W||^2 + alpha_graph tr(W^T P W)`` on W of shape (T, ...)."""

    def __init__(self, precision, alpha_graph, alpha_l2):
        if sp.issparse(precision) and precision.nnz > 0.25 * precision.shape[0] ** 2:
            # A mostly dense graph (e.g. "full") multiplies faster as a dense
            # array through BLAS than as CSR.
            precision = precision.toarray()
        self.precision = precision
        self.alpha_graph = alpha_graph
        self.alpha_l2 = alpha_l2

    def _coupled(self, W):
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

    def diagonal(self):
        """Diagonal of the penalty's Hessian per task, shape (T,)."""
        precision_diag = (
            self.precision.diagonal()
            if sp.issparse(self.precision)
            else np.diag(self.precision)
        )
        return self.alpha_l2 + 2.0 * self.alpha_graph * precision_diag

    def coupling(self):
        """The (T, T) matrix ``alpha_l2 I + 2 alpha_graph P``."""
        n_tasks = self.precision.shape[0]
        if sp.issparse(self.precision):
            return (
                self.alpha_l2 * sp.eye_array(n_tasks)
                + 2 * self.alpha_graph * self.precision
            )
        return self.alpha_l2 * np.eye(n_tasks) + 2 * self.alpha_graph * self.precision

    def lipschitz(self):
        """Upper bound on the largest Hessian eigenvalue (Gershgorin)."""
        row_sums = abs(self.precision).sum(axis=1)
        return self.alpha_l2 + 2.0 * self.alpha_graph * float(
            np.max(row_sums, initial=0)
        )


def _task_sums(task_index, values, n_tasks):
    """Sum of ``values`` rows per task, shape (n_tasks, n_columns)."""
    out = np.zeros((n_tasks, values.shape[1]))
    np.add.at(out, task_index, values)
    return out


def block_design(X, task_index, n_tasks):
    """Sparse (n, n_tasks * d) matrix with row i's features in its task's block."""
    n_rows, width = X.shape
    columns = task_index[:, None] * width + np.arange(width)
    return sp.csr_array(
        (X.ravel(), columns.ravel(), np.arange(0, n_rows * width + 1, width)),
        shape=(n_rows, n_tasks * width),
    )


class SquaredProblem:
    """Squared loss ``(1/2)(y - x w_t - b_t)^2``, intercepts eliminated by centering.

    Minimizing over the unpenalized ``b_t`` gives ``b_t = ybar_t - xbar_t @ w_t``
    (weighted task means), leaving a quadratic in ``W`` with per-task
    centered Gram matrices ``G_t`` and ``r_t = c_t Xc_t^T S yc_t``.
    """

    def __init__(self, data, task_scale, y=None):
        y = data.y if y is None else y
        n_rows, n_tasks = data.n_rows, data.n_tasks
        weights = np.ones(n_rows) if data.sample_weight is None else data.sample_weight
        X_rows = data.X_rows
        n_features = X_rows.shape[1]
        y_2d = y.reshape(n_rows, -1)
        task = data.task_index
        weight_sums = np.bincount(task, weights=weights, minlength=n_tasks)
        self.x_mean = (
            _task_sums(task, weights[:, None] * X_rows, n_tasks) / weight_sums[:, None]
        )
        self.y_mean = (
            _task_sums(task, weights[:, None] * y_2d, n_tasks) / weight_sums[:, None]
        )
        Xc = X_rows - self.x_mean[task]
        yc = y_2d - self.y_mean[task]
        # One sparse product gives every task's Gram matrix: the block design
        # puts row i's features in the columns of its task.
        block = block_design(Xc, task, n_tasks)
        row_scale = (weights * task_scale[task])[:, None]
        self.gram = (block.T @ (row_scale * Xc)).reshape(
            n_tasks, n_features, n_features
        )
        self.rhs = (block.T @ (row_scale * yc)).reshape(n_tasks, n_features, -1)
        self.y_scatter = np.bincount(
            task, weights=row_scale[:, 0] * np.sum(yc**2, axis=1), minlength=n_tasks
        )
        self._single_target = y.ndim == 1
        if self._single_target:
            self.y_mean, self.rhs = self.y_mean[:, 0], self.rhs[..., 0]

    def _gram_product(self, W):
        return np.matmul(self.gram, W[..., None])[..., 0]

    def _data_grad(self, W):
        return self._gram_product(W) - self.rhs

    def objective(self, W, penalty, alpha_l1=0.0):
        """Full objective value at coefficients W (intercepts at their optimum)."""
        data_term = 0.5 * np.einsum("ti,tij,tj->", W, self.gram, W) - np.vdot(
            self.rhs, W
        )
        data_term += 0.5 * self.y_scatter.sum()
        return data_term + penalty.value_grad(W)[0] + alpha_l1 * np.abs(W).sum()

    def solve(self, penalty, alpha_l1, W0, *, solver, tol, max_iter):
        """Coefficients W of shape (T, d) minimizing the objective."""
        if alpha_l1 > 0:
            return self._solve_l1(penalty, alpha_l1, W0, tol=tol, max_iter=max_iter)
        if solver == "direct":
            return sparse_direct(self.gram, penalty.coupling(), self.rhs)
        blocks = self.gram + penalty.diagonal()[:, None, None] * np.eye(
            self.gram.shape[1]
        )

        def matvec(W):
            return self._gram_product(W) + penalty.value_grad(W)[1]

        return block_jacobi_cg(matvec, self.rhs, blocks, W0, tol=tol, max_iter=max_iter)

    def _solve_l1(self, penalty, alpha_l1, W0, *, tol, max_iter):
        gram_norm = np.linalg.eigvalsh(self.gram)[:, -1].max(initial=0.0)
        step = 1.0 / (gram_norm + penalty.lipschitz())
        scale = max(np.abs(self.rhs).max(initial=0.0), np.finfo(float).tiny)

        def value_grad(W):
            return None, self._data_grad(W) + penalty.value_grad(W)[1]

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
        trace = np.trace(self.gram, axis1=1, axis2=2).mean() / self.gram.shape[1]
        ridge = max(alpha, 1e-6 * trace, np.finfo(float).tiny)
        systems = self.gram + ridge * np.eye(self.gram.shape[1])
        rhs = self.rhs if not self._single_target else self.rhs[..., None]
        coef = np.linalg.solve(systems, rhs)
        return coef[..., 0] if self._single_target else coef


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
        width = n_features + 1
        augmented = np.hstack([X_rows, np.ones((n_rows, 1))])
        columns = data.task_index[:, None] * width + np.arange(width)
        self.design = sp.csr_array(
            (
                augmented.ravel(),
                columns.ravel(),
                np.arange(0, n_rows * width + 1, width),
            ),
            shape=(n_rows, self.n_tasks * width),
        )
        self.task_index = data.task_index
        if self.binary:
            self.sign = np.where(y_index == 1, 1.0, -1.0)
        else:
            self.onehot = np.eye(len(classes))[y_index]
            self.allowed = np.zeros((self.n_tasks, len(classes)), dtype=bool)
            self.allowed[data.task_index, y_index] = True
        self._augmented, self._task_rows = augmented, data.rows_of_tasks()

    def _max_task_curvature(self):
        """Largest eigenvalue of any task's weighted Gram: FISTA's step size."""
        norms = [
            np.linalg.eigvalsh(
                (self._augmented[rows].T * self.row_weight[rows])
                @ self._augmented[rows]
            )[-1]
            for rows in self._task_rows
        ]
        return max(norms, default=0.0)

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
            curvature * self._max_task_curvature() + penalty.lipschitz() / self.scale
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
