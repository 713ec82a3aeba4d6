"""Block coordinate descent for one shared design (a complete wide ``y``).

Every task then has the same rows: one (d, d) Gram matrix serves all tasks,
built here straight from ``X`` and the (n, T) target that
``check_fit_data(..., shared_design=True)`` returns (the general loss goes
through per-row arrays of n * T entries). The centered Gram matrix and
``Xc^T Yc`` come from the raw products ``X^T X`` and ``X^T Y`` minus a
rank-one correction, without a centered copy of ``X``, unless a column's
mean is so large against its spread that the subtraction would cancel
digits (then the centered copy, as before). With more features than samples
that Gram matrix costs far more than the problem needs (O(n d^2)), so block
coordinate descent runs on the Gram matrix of a small *working set* of
features only (as celer and skglm do): the full gradient ``X^T R`` (one
matrix product) picks the features that violate the optimality conditions
most, the working set doubles until no feature outside it does.
"""

import numpy as np

from .._tasks import SharedDesignData
from ._solvers import SolverResult, blas_threads_for, gram_bcd

__all__ = ["WorkingSetPath", "use_working_set"]

# Largest |column mean| / column standard deviation for which the centered
# products are taken as raw product minus rank-one correction: the
# subtraction then loses at most log10(1 + 10^2) ~ 2 of the 16 digits.
# Beyond it (a feature like a year, an offset target) X or Y is centered
# first.
MAX_OFFSET = 10.0
# With fewer features the whole Gram matrix is cheap (School's 28 features:
# under a millisecond) and is built at once; with more, the solver asks for
# the columns of its working set only.
LAZY_MIN_FEATURES = 64


def small_offsets(mean_squares, means):
    """Whether ``|mean| <= MAX_OFFSET * std`` for every column.

    ``mean_squares`` is the mean of the squared entries (``mean^2 + var``),
    a sum of squares that no cancellation spoils, so the test itself is
    exact where it matters: ``(1 + k^2) mean^2 <= k^2 mean_square``.
    """
    k2 = MAX_OFFSET**2
    return bool(np.all((1.0 + k2) * np.square(means) <= k2 * mean_squares))


def columns_have_small_offsets(A, means):
    """:func:`small_offsets` for the columns of ``A``, mostly from its first rows.

    Every squared entry is nonnegative, so the sum of squares over the first
    eighth of the rows, divided by all ``n``, is a lower bound of the mean
    square: when the test passes with it, it passes exactly. Only otherwise
    (offsets that may be large) are all rows read.
    """
    n_samples = A.shape[0]
    head = A[: max(1, n_samples // 8)]
    if small_offsets(np.einsum("ij,ij->j", head, head) / n_samples, means):
        return True
    return small_offsets(np.einsum("ij,ij->j", A, A) / n_samples, means)


def use_working_set(template, data):
    """Whether this solver applies: a dense complete shared design.

    It needs a feature-separable penalty (L2,1, L1), a complete wide target
    without sample weights (``check_fit_data`` returned a
    :class:`~sklearn_mtl._tasks.SharedDesignData`) and a dense ``X``, and is
    used for ``solver="auto"`` or ``"bcd"``.
    """
    return (
        template.solver in ("auto", "bcd")
        and getattr(template._penalty_class, "feature_separable", False)
        and isinstance(data, SharedDesignData)
        and isinstance(data.X, np.ndarray)
    )


class _GramColumns:
    """Columns of the centered, scaled Gram matrix ``c Xc^T Xc``, on demand.

    Columns ``F`` cost one product ``X^T X[:, F]`` (O(n d |F|)) and no
    centered copy of ``X``: ``Xc^T Xc[:, F] = X^T X[:, F] - n m m_F^T`` with
    ``m`` the column means (``shift``; zero when ``X`` is already centered).
    A solution with few nonzero features needs few columns, and a path or a
    cross-validation fold keeps the ones it has.
    """

    def __init__(self, X, shift, c):
        n_features = X.shape[1]
        self._X, self._shift, self._c = X, shift, c
        self.matrix = np.zeros((n_features, n_features))
        self.known = np.zeros(n_features, dtype=bool)

    def fill(self, features):
        """Compute the columns (and rows) ``features`` not known yet."""
        new = features[~self.known[features]]
        if new.size == 0:
            return
        X, shift = self._X, self._shift
        n_samples = X.shape[0]
        if 2 * (new.size + np.count_nonzero(self.known)) > X.shape[1]:
            # Most of it: X^T X at once (numpy's matmul takes the symmetric
            # product, half the work of a general one, for X.T @ X).
            gram = X.T @ X
            # n (m m^T), not m (n m)^T: exactly symmetric, as the solver
            # reads row j of the Gram matrix for its column j.
            gram -= n_samples * np.outer(shift, shift)
            self.matrix = self._c * gram
            self.known[:] = True
            return
        block = X.T @ X[:, new]
        block -= n_samples * np.outer(shift, shift[new])
        block *= self._c
        square = block[new]
        block[new] = 0.5 * (square + square.T)
        self.matrix[:, new] = block
        self.matrix[new, :] = block.T
        self.known[new] = True


class WorkingSetPath:
    """The path hook (``alpha_max``, ``solve``, ``fit``) on a shared design.

    Minimizes ``(c/2) ||Yc - Xc W^T||_F^2 + penalty(W)`` with ``Xc``, ``Yc``
    centered (the intercepts' optimum) and ``c = 1`` ("sum") or ``1 / n``
    ("mean"): the same objective as the Gram-block path.
    """

    def __init__(self, template, data):
        # The O(n d^2) products that build the Gram matrix keep every BLAS
        # thread; the solver's many small products run on one.
        self.template = template
        n_samples, n_features = data.X.shape
        self._c = 1.0 / n_samples if template.loss_normalization == "mean" else 1.0
        if n_features <= n_samples:
            x_sum = data.X_column_sums
            if x_sum is None:
                x_sum = np.ones(n_samples) @ data.X
            self._prepare_gram(data.X, data.Y, x_sum)
        else:
            self._prepare_working_set(data.X, data.Y)
        self.alpha_max = template._penalty_class(0.0).dual_norm(-self._rhs)
        self._x, self.converged = None, True

    def _prepare_gram(self, X, Y, x_sum):
        """``c Xc^T Yc`` now, the Gram matrix's columns when the solver asks."""
        n_samples, n_features = X.shape
        ones = np.ones(n_samples)
        self._x_mean = x_sum / n_samples
        y_sum = ones @ Y
        self._y_mean = y_sum / n_samples
        if columns_have_small_offsets(X, self._x_mean):
            # Xc^T Yc = X^T Yc - m (1^T Yc): no centered copy of X (the
            # largest array here); Y is centered only if its offsets are large.
            if not columns_have_small_offsets(Y, self._y_mean):
                Y = Y - self._y_mean
                y_sum = ones @ Y
            xty = X.T @ Y - np.outer(self._x_mean, y_sum)
            self._gram = _GramColumns(X, self._x_mean, self._c)
        else:
            Xc = np.subtract(X, self._x_mean, out=np.empty(X.shape, order="F"))
            xty = Xc.T @ (Y - self._y_mean)
            self._gram = _GramColumns(Xc, np.zeros(n_features), self._c)
        self._rhs = np.ascontiguousarray(self._c * xty.T)
        if n_features < LAZY_MIN_FEATURES:
            self._gram.fill(np.arange(n_features))

    def _prepare_working_set(self, X, Y):
        """Centered copies, whose columns the working set gathers."""
        self._x_mean, self._y_mean = X.mean(axis=0), Y.mean(axis=0)
        self._X = np.subtract(X, self._x_mean, out=np.empty(X.shape, order="F"))
        self._Y = Y - self._y_mean
        self._gram = None
        self._rhs = np.ascontiguousarray(self._c * (self._X.T @ self._Y).T)

    def _gradient(self, W, features):
        residual = self._Y - self._X[:, features] @ W[:, features].T
        return -self._c * (self._X.T @ residual).T

    def _solve(self, alpha, x0):
        template = self.template
        penalty = template._penalty_class(alpha, template.alpha_l2)
        tol, max_iter = template.tol, template.max_iter
        n_tasks, n_features = self._rhs.shape
        W = np.zeros((n_tasks, n_features))
        if x0 is not None and x0.shape == W.shape:
            W = x0.copy()
        scale = self.alpha_max if self.alpha_max > 0 else 1.0

        def optimality(x, grad):
            return penalty.optimality(x, grad) / scale

        if self._gram is not None:
            return self._finish(
                self._solve_gram(penalty, optimality, W, tol=tol, max_iter=max_iter)
            )
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

    def _solve_gram(self, penalty, optimality, W, *, tol, max_iter):
        """Block coordinate descent on the Gram columns of a working set.

        The working set starts as the features that violate the zero
        feature's condition (``||grad_j|| > alpha``) at the start and grows
        (at least by half) until none outside it does; the gradient of every
        feature needs only the columns of the nonzero ones. A working set of
        more than half the features takes the whole Gram matrix: then this
        is plain block coordinate descent over every feature.
        """
        gram, rhs = self._gram, self._rhs
        n_tasks, n_features = rhs.shape
        every = np.arange(n_features)
        features = np.zeros(0, dtype=np.intp)
        n_iter = 0
        while True:
            active = np.flatnonzero(np.any(W != 0, axis=0))
            if not gram.known.all():
                gram.fill(active)
                # (A small product: OpenBLAS runs it on one thread anyway.)
                grad = (gram.matrix[:, active] @ W[:, active].T).T - rhs
                if optimality(W, grad) <= tol:
                    return SolverResult(W, n_iter, True)
                score = np.linalg.norm(grad + penalty.alpha_l2 * W, axis=0)
                score[active] = np.inf
                score[features] = -np.inf
                # Every violator outside the set, and at least half the set's
                # size more: few rounds, each one product with X.
                outside = n_features - features.size
                grow = max(
                    np.count_nonzero(score > penalty.alpha), -(-features.size // 2)
                )
                new = np.argsort(-score, kind="stable")[: min(grow, outside)]
                features = np.union1d(features, new)
                gram.fill(features)
            if gram.known.all():
                features = every
            blocks = (
                gram.matrix
                if features.size == n_features
                else gram.matrix[np.ix_(features, features)]
            )
            with blas_threads_for(n_tasks):
                inner = gram_bcd(
                    np.broadcast_to(blocks, (n_tasks,) + blocks.shape),
                    np.ascontiguousarray(rhs[:, features]),
                    penalty.block_minimize,
                    optimality,
                    W[:, features],
                    tol=tol,
                    max_iter=max_iter - n_iter,
                )
            n_iter += inner.n_iter
            W = np.zeros_like(W)
            W[:, features] = inner.x
            if features.size == n_features or not inner.converged:
                return SolverResult(W, n_iter, inner.converged)

    def _finish(self, result):
        self._x = result.x
        intercept = self._y_mean - result.x @ self._x_mean
        return result.x, intercept, result

    def solve(self, alpha, x0=None):
        """``(coef, intercept, SolverResult)`` at ``alpha``, from ``x0``."""
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
