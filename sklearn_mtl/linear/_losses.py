"""Data-fitting terms of the multi-task linear models, as small objects.

The one place for the losses of every linear family (graph, structured,
clustered...). Each loss works on a parameter array ``x`` whose first
``n_features`` entries along axis 1 are the penalized coefficients of every
task (``x[:, :d]``); anything after them (the logistic intercepts) is
unpenalized. A loss gives:

- ``initial()``: the start point, intercepts at their optimum for ``W = 0``;
- ``value_grad(x)``: value and gradient, in the user's units;
- ``lipschitz()``: an upper bound on the gradient's Lipschitz constant;
- ``zero_gradient()``: the coefficient gradient at ``W = 0`` with optimal
  intercepts, from which a penalty's ``alpha_max`` follows;
- ``coef_intercept(x)``: the fitted ``(coef, intercept)``.

The squared loss also gives what linear-system solvers need: the per-task
centered Gram blocks ``gram`` (T, d, d) and ``rhs`` (T, d), the Hessian
product ``gram_product(W)`` and its diagonal ``gram_diagonal()``.
"""

import functools

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from scipy.special import expit, logit, logsumexp

__all__ = ["SquaredLoss", "LogisticLoss", "task_loss_scale", "block_design"]


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


def _largest_eigenvalue(matvec, size):
    """Largest eigenvalue of a symmetric positive semi-definite operator.

    Lanczos to a relative 1e-3, returned 1 % high so that a step size built
    on it stays safe.
    """
    operator = spla.LinearOperator((size, size), matvec=matvec, dtype=np.float64)
    top = spla.eigsh(operator, k=1, which="LA", tol=1e-3, return_eigenvectors=False)
    return 1.01 * float(top[0])


class SquaredLoss:
    """``sum_t c_t sum_{i in t} s_i (1/2)(y_i - x_i @ w_t - b_t)^2``.

    The intercepts are eliminated by per-task weighted centering: minimizing
    over the unpenalized ``b_t`` gives ``b_t = ybar_t - xbar_t @ w_t``
    (weighted task means), leaving a quadratic in ``W`` (T, d) with per-task
    centered Gram blocks ``G_t`` and ``r_t = c_t Xc_t^T S yc_t``: value and
    gradient cost O(T d^2) per call, independent of the number of samples.

    ``X`` may be a scipy sparse matrix; it is never densified. Above 2,000
    sparse features the blocks are not formed (``gram`` is None) and the
    products go through ``X_t`` and ``X_t^T``. A complete wide ``y`` (one
    shared design) gives one Gram matrix for all tasks (unless
    ``shared_design=False``). ``max_gram_features`` overrides the 2,000.
    ``task_scale`` overrides the per-task weights ``c_t`` that
    ``normalization`` gives; ``y`` replaces the targets (a 2-D
    ``y`` gives one column of ``rhs`` per target, for several ridge fits at
    once).
    """

    def __init__(
        self,
        data,
        normalization="sum",
        *,
        task_scale=None,
        y=None,
        shared_design=True,
        max_gram_features=None,
    ):
        if task_scale is None:
            task_scale = task_loss_scale(data, normalization)
        scale = task_scale
        if max_gram_features is None:
            max_gram_features = MATRIX_FREE_FEATURES
        self._shared = (
            _shared_design(data, scale) if shared_design and y is None else None
        )
        if self._shared is not None:
            gram, self.rhs, y_scatter, self._means = self._shared
            # One Gram matrix serves every task: a read-only (T, d, d) view.
            self.gram = np.broadcast_to(gram, (data.n_tasks,) + gram.shape)
            self.n_features = gram.shape[0]
            self.y_scatter = np.array([y_scatter])
            return
        self._per_task(data, scale, data.y if y is None else y, max_gram_features)
        self.n_features = self.rhs.shape[1]

    def _per_task(self, data, task_scale, y, max_gram_features):
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
        self._task_index = task
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
                n_features > max_gram_features
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

    def initial(self):
        return np.zeros_like(self.rhs)

    def gram_product(self, W):
        """``(G_t w_t)_t``: the Hessian of the loss applied to ``W``."""
        if self._shared is not None:
            # G symmetric: (G w_t)_t is W @ G, one matrix product.
            return W @ self._shared[0]
        if self.gram is not None:
            return np.matmul(self.gram, W[..., None])[..., 0]
        # Xc^T S Xc w = X^T S (X w - xbar . w) per task; the centred scores sum
        # to zero under S, so no xbar term remains on the left.
        scores = self.design @ W.ravel()
        scores -= np.einsum("td,td->t", self.x_mean, W)[self._task_index]
        return (self.design.T @ (self._row_scale * scores)).reshape(W.shape)

    def gram_diagonal(self):
        """Diagonals of the Gram blocks, (T, d), without forming them."""
        if self.gram is not None:
            return np.diagonal(self.gram, axis1=1, axis2=2)
        squares = self.design.copy()
        squares.data **= 2
        raw = (squares.T @ self._row_scale).reshape(self.n_tasks, -1)
        return raw - self._mass[:, None] * self.x_mean**2

    def value_grad(self, W):
        product = self.gram_product(W)
        value = 0.5 * np.vdot(W, product) - np.vdot(self.rhs, W)
        return float(value + 0.5 * self.y_scatter.sum()), product - self.rhs

    def lipschitz(self):
        return float(self._max_gram_eigenvalue)

    @functools.cached_property
    def _max_gram_eigenvalue(self):
        # Cached: the data term is the same in every solve of a learned
        # graph's alternation, only the penalty changes.
        if self._shared is not None:
            return float(np.linalg.eigvalsh(self._shared[0])[-1])
        if self.gram is not None:
            return np.linalg.eigvalsh(self.gram)[:, -1].max(initial=0.0)
        shape = self.rhs.shape
        return _largest_eigenvalue(
            lambda w: self.gram_product(w.reshape(shape)).ravel(), self.rhs.size
        )

    def zero_gradient(self):
        return -self.rhs

    def intercept(self, W):
        """Optimal intercepts ``b_t = ybar_t - xbar_t @ w_t``."""
        if self._shared is not None:
            x_mean, y_mean = self._means
            return y_mean - W @ x_mean
        if self._single_target:
            return self.y_mean - np.einsum("ti,ti->t", self.x_mean, W)
        return self.y_mean - np.einsum("ti,tik->tk", self.x_mean, W)

    def coef_intercept(self, W):
        return W, self.intercept(W)


def _shared_design(data, scale):
    """Gram matrix, rhs, y scatter and means when all tasks share one design.

    A complete wide ``y`` (no missing label) gives every task the same rows,
    weights and loss scale: the T centered Gram blocks are then one, built
    with a single (n, d) product instead of T. None otherwise (or for a
    sparse X, which the per-task path handles without densifying).
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
    each task (``allowed``: one coefficient vector per class), so a task's
    label set may be a subset of the union. Parameters have shape
    (T, d + 1, m): coefficients, then the unpenalized intercept, with
    ``m = 1`` for two classes and ``m = n_classes`` otherwise.
    ``data_value_grad`` works on the loss divided by ``scale`` (the total
    weight), which makes gradient tolerances independent of the number of
    samples; ``value_grad`` is in the user's units.
    """

    gram = None

    def __init__(self, data, normalization="sum", classes=None, *, task_scale=None):
        if task_scale is None:
            task_scale = task_loss_scale(data, normalization)
        if classes is None:
            classes = np.unique(data.y)
        X_rows = data.X_rows
        n_rows, n_features = X_rows.shape
        self.n_tasks, self.n_features = data.n_tasks, n_features
        y_index = np.searchsorted(classes, data.y)
        self.binary = len(classes) == 2
        self.n_outputs = 1 if self.binary else len(classes)
        weights = np.ones(n_rows) if data.sample_weight is None else data.sample_weight
        row_weight = weights * task_scale[data.task_index]
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

    @property
    def problem(self):
        """The loss itself (the attributes ``binary``, ``allowed``...), kept for
        callers written when they lived on a separate problem object."""
        return self

    def initial(self):
        """Zero coefficients, each intercept at the optimum of its task's
        intercept-only model (the weighted log-odds of the class frequencies),
        so that the gradient at ``initial()`` gives ``alpha_max``."""
        n_tasks, m = self.n_tasks, self.n_outputs
        theta = np.zeros((n_tasks, self.n_features + 1, m))
        weight = self.row_weight
        total = np.bincount(self.task_index, weights=weight, minlength=n_tasks)
        if self.binary:
            positive = np.bincount(
                self.task_index, weights=weight * (self.sign > 0), minlength=n_tasks
            )
            # Each task has both classes (check_fit_data); the clip only
            # guards against zero sample weights.
            share = np.clip(positive / total, 1e-12, 1 - 1e-12)
            theta[:, -1, 0] = logit(share)
        else:
            counts = np.zeros((n_tasks, m))
            np.add.at(counts, self.task_index, weight[:, None] * self.onehot)
            share = counts / total[:, None]
            theta[:, -1, :] = np.where(
                self.allowed, np.log(np.maximum(share, 1e-300)), 0.0
            )
        return theta

    @functools.cached_property
    def _max_task_curvature(self):
        """Largest eigenvalue of any task's weighted Gram (intercept column
        included). Cached: the data term is the same in every solve of a
        learned graph's alternation."""
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
        """Value and gradient of the loss divided by ``scale``."""
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

    def value_grad(self, theta):
        value, grad = self.data_value_grad(theta)
        return self.scale * float(value), self.scale * grad

    def lipschitz(self):
        curvature = 0.25 if self.binary else 0.5
        return float(curvature * self._max_task_curvature * self.scale)

    def zero_gradient(self):
        return self.value_grad(self.initial())[1][:, : self.n_features]

    def coef_intercept(self, theta):
        coef, intercept = self.split(theta)
        if self.binary:
            return coef[..., 0], intercept[..., 0]
        return np.swapaxes(coef, 1, 2), intercept
