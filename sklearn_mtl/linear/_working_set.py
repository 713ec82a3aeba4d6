"""Block coordinate descent for one shared design (a complete wide ``y``).

Every task then has the same rows: one (d, d) Gram matrix serves all tasks,
built here straight from ``X`` and the wide ``y`` (the general loss goes
through per-row arrays of n * T entries). With more features than samples
that Gram matrix costs far more than the problem needs (O(n d^2)), so block
coordinate descent runs on the Gram matrix of a small *working set* of
features only (as celer and skglm do): the full gradient ``X^T R`` (one
matrix product) picks the features that violate the optimality conditions
most, the working set doubles until no feature outside it does.
"""


import numpy as np

from ._solvers import SolverResult, blas_threads_for, gram_bcd

__all__ = ["WorkingSetPath", "use_working_set"]


def use_working_set(template, data):
    """Whether this solver applies: a dense complete shared design.

    It needs a feature-separable penalty (L2,1, L1) and no sample weights,
    and is used for ``solver="auto"`` or ``"bcd"``.
    """
    X = data.X
    n_samples, n_features = X.shape
    return (
        template.solver in ("auto", "bcd")
        and getattr(template._penalty_class, "feature_separable", False)
        and data.wide
        and data.sample_weight is None
        and data.n_rows == n_samples * data.n_tasks
        and isinstance(X, np.ndarray)
    )


class WorkingSetPath:
    """The path hook (``alpha_max``, ``solve``, ``fit``) on a shared design.

    Minimizes ``(c/2) ||Yc - Xc W^T||_F^2 + penalty(W)`` with ``Xc``, ``Yc``
    centered (the intercepts' optimum) and ``c = 1`` ("sum") or ``1 / n``
    ("mean"): the same objective as the Gram-block path.
    """

    def __init__(self, template, data):
        # The O(n d^2) products that build the Gram matrix keep every BLAS
        # thread; the solver's many small products run on one (``solve``).
        self._prepare(template, data, data.X)
        self._x, self.converged = None, True

    def _prepare(self, template, data, X):
        n_samples, n_features = X.shape
        # Complete wide rows are ordered task by task (see _tasks.py).
        Y = data.y.reshape(data.n_tasks, n_samples).T
        self.template = template
        self._x_mean, self._y_mean = X.mean(axis=0), Y.mean(axis=0)
        # Column order: the working set gathers columns of X.
        self._X = np.subtract(X, self._x_mean, out=np.empty(X.shape, order="F"))
        self._Y = Y - self._y_mean
        self._c = 1.0 / n_samples if template.loss_normalization == "mean" else 1.0
        zero_grad = -self._c * (self._X.T @ self._Y).T
        self._rhs = np.ascontiguousarray(-zero_grad)
        # The whole Gram matrix when it is no larger than the data.
        self._gram = None
        if n_features <= n_samples:
            self._gram = self._c * (self._X.T @ self._X)
        self.alpha_max = template._penalty_class(0.0).dual_norm(zero_grad)

    def _gradient(self, W, features):
        residual = self._Y - self._X[:, features] @ W[:, features].T
        return -self._c * (self._X.T @ residual).T

    def _solve(self, alpha, x0):
        template = self.template
        penalty = template._penalty_class(alpha, template.alpha_l2)
        tol, max_iter = template.tol, template.max_iter
        n_tasks, n_features = self._Y.shape[1], self._X.shape[1]
        W = np.zeros((n_tasks, n_features))
        if x0 is not None and x0.shape == W.shape:
            W = x0.copy()
        scale = self.alpha_max if self.alpha_max > 0 else 1.0

        def optimality(x, grad):
            return penalty.optimality(x, grad) / scale

        if self._gram is not None:
            result = gram_bcd(
                np.broadcast_to(self._gram, (n_tasks,) + self._gram.shape),
                self._rhs,
                penalty.block_minimize,
                optimality,
                W,
                tol=tol,
                max_iter=max_iter,
            )
            return self._finish(result)
        size, n_iter, converged = 10, 0, False
        for _ in range(max_iter):
            active = np.flatnonzero(np.any(W != 0, axis=0))
            grad = self._gradient(W, active)
            n_iter += 1
            if optimality(W, grad) <= tol:
                converged = True
                break
            # The features whose gradient is largest violate the zero
            # features' condition (||grad_j|| <= alpha) most.
            score = np.linalg.norm(grad + penalty.alpha_l2 * W, axis=0)
            score[active] = np.inf
            size = max(size, 2 * active.size)
            features = np.sort(np.argsort(-score)[: min(size, n_features)])
            Xw = self._X[:, features]
            gram = self._c * (Xw.T @ Xw)
            rhs = self._c * (Xw.T @ self._Y).T
            inner = gram_bcd(
                np.broadcast_to(gram, (n_tasks,) + gram.shape),
                np.ascontiguousarray(rhs),
                penalty.block_minimize,
                optimality,
                W[:, features],
                tol=0.3 * tol,
                max_iter=max_iter,
            )
            W = np.zeros_like(W)
            W[:, features] = inner.x
            size *= 2
        return self._finish(SolverResult(W, n_iter, converged))

    def _finish(self, result):
        self._x = result.x
        intercept = self._y_mean - result.x @ self._x_mean
        return result.x, intercept, result

    def solve(self, alpha, x0=None):
        """``(coef, intercept, SolverResult)`` at ``alpha``, from ``x0``."""
        if self._gram is None:
            return self._solve(alpha, x0)
        with blas_threads_for(self._Y.shape[1]):
            return self._solve(alpha, x0)

    def fit(self, alpha):
        """A copy of the template fitted at ``alpha``, warm-started."""
        model = type(self.template).__new__(type(self.template))
        model.__dict__.update(self.template.__dict__)
        model.alpha = alpha
        coef, intercept, result = self.solve(alpha, self._x)
        model.coef_, model.intercept_ = coef, intercept
        model.alpha_max_, model.n_iter_ = self.alpha_max, result.n_iter
        self.converged = result.converged
        return model
