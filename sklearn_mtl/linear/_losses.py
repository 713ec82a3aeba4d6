"""Data-fitting terms of the structured multi-task models, as small objects.

Each loss works on a parameter array ``x`` whose first ``n_features`` entries
along axis 1 are the penalized coefficients of every task (``x[:, :d]``);
anything after them (the logistic intercepts) is unpenalized. A loss gives:

- ``initial()``: the start point, intercepts at their optimum for ``W = 0``;
- ``value_grad(x)``: value and gradient, in the user's units;
- ``lipschitz()``: an upper bound on the gradient's Lipschitz constant;
- ``zero_gradient()``: the coefficient gradient at ``W = 0`` with optimal
  intercepts, from which a penalty's ``alpha_max`` follows;
- ``coef_intercept(x)``: the fitted ``(coef, intercept)``.

Both reuse the graph model's problems (:mod:`._problems`) for the heavy
parts: the per-task centered Gram blocks and the block design.
"""

import numpy as np
import scipy.sparse as sp
from scipy.special import logit

from ._problems import LogisticProblem, SquaredProblem, task_loss_scale

__all__ = ["SquaredLoss", "LogisticLoss"]


class SquaredLoss:
    """``sum_t c_t sum_{i in t} s_i (1/2)(y_i - x_i @ w_t - b_t)^2``.

    The intercepts are eliminated by per-task weighted centering, so the loss
    is a quadratic in ``W`` (T, d) with centered Gram blocks ``G_t``: value
    and gradient cost O(T d^2) per call, independent of the number of
    samples (above 2,000 sparse features the blocks are not formed and the
    products go through ``X_t``; ``gram`` is then None).
    """

    def __init__(self, data, normalization):
        scale = task_loss_scale(data, normalization)
        self._shared = _shared_design(data, scale)
        if self._shared is not None:
            gram, self.rhs, self._y_scatter, self._means = self._shared
            # One Gram matrix serves every task: a read-only (T, d, d) view.
            self.gram = np.broadcast_to(gram, (data.n_tasks,) + gram.shape)
            self.n_features = gram.shape[0]
            return
        self.problem = SquaredProblem(data, scale)
        self.n_features = self.problem.rhs.shape[1]
        self.gram = self.problem.gram
        self.rhs = self.problem.rhs
        self._y_scatter = self.problem.y_scatter.sum()

    def initial(self):
        return np.zeros_like(self.rhs)

    def _product(self, W):
        if self._shared is not None:
            # G symmetric: (G w_t)_t is W @ G, one matrix product.
            return W @ self._shared[0]
        # Private products of the shared problem, same package: they pick the
        # Gram blocks or the matrix-free path.
        return self.problem._gram_product(W)

    def value_grad(self, W):
        product = self._product(W)
        value = 0.5 * np.vdot(W, product) - np.vdot(self.rhs, W) + 0.5 * self._y_scatter
        return float(value), product - self.rhs

    def lipschitz(self):
        if self._shared is not None:
            return float(np.linalg.eigvalsh(self._shared[0])[-1])
        return float(self.problem._max_gram_eigenvalue)

    def zero_gradient(self):
        return -self.rhs

    def coef_intercept(self, W):
        if self._shared is not None:
            x_mean, y_mean = self._means
            return W, y_mean - W @ x_mean
        return W, self.problem.intercept(W)


def _shared_design(data, scale):
    """Gram matrix, rhs, y scatter and means when all tasks share one design.

    A complete wide ``y`` (no missing label) gives every task the same rows,
    weights and loss scale: the T centered Gram blocks are then one, built
    with a single (n, d) product instead of T. None otherwise (or for a
    sparse X, which SquaredProblem handles without densifying).
    """
    n_samples, n_tasks = data.X.shape[0], data.n_tasks
    if not data.wide or data.n_rows != n_samples * n_tasks or sp.issparse(data.X):
        return None
    if np.ptp(scale) > 1e-12 * scale.max():
        return None
    Y = np.empty((n_samples, n_tasks))
    Y[data.sample_index, data.task_index] = data.y
    weights = np.ones(n_samples)
    if data.sample_weight is not None:
        weights[data.sample_index] = data.sample_weight
    total = weights.sum()
    x_mean = weights @ data.X / total
    y_mean = weights @ Y / total
    Xc = data.X - x_mean
    Yc = Y - y_mean
    weighted = Xc * (scale[0] * weights)[:, None]
    gram = weighted.T @ Xc
    rhs = (weighted.T @ Yc).T
    y_scatter = scale[0] * float(weights @ np.sum(Yc**2, axis=1))
    return gram, np.ascontiguousarray(rhs), y_scatter, (x_mean, y_mean)


class LogisticLoss:
    """``sum_t c_t sum_{i in t} s_i log(1 + exp(-y_i (x_i @ w_t + b_t)))``.

    Sigmoid for two classes; with more, a softmax over the classes seen in
    each task (one coefficient vector per class). Parameters have shape
    (T, d + 1, m): coefficients, then the unpenalized intercept, with
    ``m = 1`` for two classes and ``m = n_classes`` otherwise.
    """

    def __init__(self, data, normalization, classes):
        self.problem = LogisticProblem(
            data, task_loss_scale(data, normalization), classes
        )
        self.n_features = self.problem.n_features
        self.gram = None

    def initial(self):
        """Zero coefficients, each intercept at the optimum of its task's
        intercept-only model (the weighted log-odds of the class frequencies),
        so that the gradient at ``initial()`` gives ``alpha_max``."""
        problem = self.problem
        n_tasks, m = problem.n_tasks, problem.n_outputs
        theta = np.zeros((n_tasks, problem.n_features + 1, m))
        weight = problem.row_weight
        total = np.bincount(problem.task_index, weights=weight, minlength=n_tasks)
        if problem.binary:
            positive = np.bincount(
                problem.task_index,
                weights=weight * (problem.sign > 0),
                minlength=n_tasks,
            )
            # Each task has both classes (check_fit_data); the clip only
            # guards against zero sample weights.
            share = np.clip(positive / total, 1e-12, 1 - 1e-12)
            theta[:, -1, 0] = logit(share)
        else:
            counts = np.zeros((n_tasks, m))
            np.add.at(counts, problem.task_index, weight[:, None] * problem.onehot)
            share = counts / total[:, None]
            theta[:, -1, :] = np.where(
                problem.allowed, np.log(np.maximum(share, 1e-300)), 0.0
            )
        return theta

    def value_grad(self, theta):
        # LogisticProblem works on the objective divided by the total weight.
        value, grad = self.problem.data_value_grad(theta)
        return self.problem.scale * float(value), self.problem.scale * grad

    def lipschitz(self):
        curvature = 0.25 if self.problem.binary else 0.5
        return float(curvature * self.problem._max_task_curvature * self.problem.scale)

    def zero_gradient(self):
        return self.value_grad(self.initial())[1][:, : self.n_features]

    def coef_intercept(self, theta):
        coef, intercept = self.problem.split(theta)
        if self.problem.binary:
            return coef[..., 0], intercept[..., 0]
        return np.swapaxes(coef, 1, 2), intercept
