"""Joint distribution adaptation (Long et al., 2013): TCA plus class conditionals.

A subspace transformer like :class:`~sklearn_mtl.transfer.TCA` whose
discrepancy also matches each class's source and (pseudo-labelled) target
rows, the pseudo-labels refined over iterations by a classifier trained on
the embedded sources.
"""

from numbers import Integral, Real

import numpy as np
import scipy.linalg
import scipy.sparse.linalg
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.metrics.pairwise import euclidean_distances, rbf_kernel
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from threadpoolctl import threadpool_limits

from ._subspace import _n_components
from ._transformers import _DomainTransformer

__all__ = ["JDA"]


def discrepancy_vectors(is_source, labels, n_classes, *, one_sided=False):
    """Columns ``e`` with ``M = E E^T``: marginal, then one per class.

    ``e_0`` is ``1/n_s`` on source rows and ``-1/n_t`` on target rows
    (``||Z^T e_0||^2`` is the squared distance of the embedded means); ``e_c``
    is ``1/n_s^c`` on source rows of class ``c`` and ``-1/n_t^c`` on target
    rows (pseudo-)labelled ``c``. ``labels`` None: marginal only. A class
    with no source or no target row has no mean to match: no column (JDA);
    with ``one_sided`` (MEDA's authors' code) every class keeps its column,
    0 on a side without such a row.
    """
    n_source, n_target = is_source.sum(), (~is_source).sum()
    columns = [np.where(is_source, 1.0 / n_source, -1.0 / n_target)]
    if labels is not None:
        for c in range(n_classes):
            source_c = is_source & (labels == c)
            target_c = ~is_source & (labels == c)
            if one_sided or (source_c.any() and target_c.any()):
                e = np.zeros(len(labels))
                if source_c.any():
                    e[source_c] = 1.0 / source_c.sum()
                if target_c.any():
                    e[target_c] = -1.0 / target_c.sum()
                columns.append(e)
    return np.column_stack(columns)


# Below this size (or 5 k), a dense eigh of the whole matrix beats ARPACK's
# restarted Lanczos (measured on JDA's matrices with one BLAS thread, k = 50:
# at 800 dimensions 0.04 s against 0.10 s for the generalized eigh and 0.07 s
# for the standard one; at 256 they tie).
_LANCZOS_MIN_SIZE = 200


def _top_eigenpairs(matrix, k, *, maxiter=None):
    """The ``k`` largest eigenvalues (decreasing) and eigenvectors of a
    symmetric positive semi-definite ``matrix``.

    Only ``k`` of ``size`` pairs are needed: restarted Lanczos (ARPACK,
    ``eigsh``) to machine precision avoids the dense tridiagonal reduction
    that dominates ``eigh``. The dense ``eigh`` of the same matrix is the
    fallback if ARPACK fails or does not converge (``maxiter``; None: ARPACK's
    default), and when a zero eigenvalue is among the top ``k`` (rank below
    ``k``): any basis of that null space is a solution, and the one ARPACK
    returns would rest on its internal random restarts.
    """
    size = matrix.shape[0]
    if size >= max(5 * k, _LANCZOS_MIN_SIZE):
        # A fixed start vector: ARPACK's own changes from call to call, and
        # the fit would then differ in the last digits between two runs.
        start = np.random.RandomState(0).uniform(-1.0, 1.0, size)
        try:
            values, vectors = scipy.sparse.linalg.eigsh(
                matrix, k=k, which="LA", tol=0, v0=start, maxiter=maxiter
            )
        except scipy.sparse.linalg.ArpackError:  # no convergence included
            pass
        else:
            order = np.argsort(values)[::-1]
            if values[order[-1]] > 1e-10 * values[order[0]]:
                return values[order], vectors[:, order]
    values, vectors = scipy.linalg.eigh(matrix, subset_by_index=[size - k, size - 1])
    return values[::-1], vectors[:, ::-1]


class _JDAPencil:
    """Top ``k`` solutions of ``G^T G a = lambda (U U^T + mu I) a``, ``a^T B a = 1``.

    ``G`` (``m x p``, the centred rows: ``H X`` or ``H K``) is fixed during a
    fit; ``U`` (``p x r``, ``r`` = the matched means, at most classes + 1)
    changes with the pseudo-labels every round. With the thin SVD
    ``U = Q diag(s) V^T``, ``B = mu I + Q diag(s^2) Q^T`` has the closed forms
    ``B^-1/2 = mu^-1/2 (I + Q diag(1/sqrt(1 + s^2/mu) - 1) Q^T)`` and
    ``B^-1 = mu^-1 (I - Q diag(s^2/(mu + s^2)) Q^T)``, so each round is a
    standard symmetric problem built from a Gram matrix computed once plus a
    rank ``2 r`` correction (no Cholesky, no ``p x p`` inverse):

    - ``p <= m`` ("primal"): ``C = B^-1/2 G^T G B^-1/2``; ``C x = lambda x``
      gives ``a = B^-1/2 x``.
    - ``m < p`` (more features than rows, linear kernel): ``C`` and the
      ``m x m`` matrix ``D = G B^-1 G^T`` have the same nonzero eigenvalues;
      ``D u = lambda u`` (``||u|| = 1``) gives ``a = B^-1 G^T u / sqrt(lambda)``
      (then ``G^T G a = G^T D u = lambda G^T u = lambda B a`` and
      ``a^T B a = u^T D u / lambda = 1``). A zero ``lambda`` among the top ``k``
      (``G`` of rank below ``k``) has no such ``a``: the primal form then
      takes over.
    """

    def __init__(self, G, mu):
        self.G, self.mu = G, mu
        self.dual = G.shape[0] < G.shape[1]
        gram = G @ G.T if self.dual else G.T @ G
        self.gram = (gram + gram.T) / 2

    def solve(self, U, k, *, maxiter=None):
        """The ``k`` largest ``lambda`` (decreasing) and their ``a`` (columns)."""
        mu = self.mu
        Q, s, _ = scipy.linalg.svd(U, full_matrices=False)
        if self.dual:
            shrink = s**2 / (mu + s**2)
            GQ = self.G @ Q
            values, u = _top_eigenpairs(
                (self.gram - (GQ * shrink) @ GQ.T) / mu, k, maxiter=maxiter
            )
            if values[-1] > 1e-10 * values[0]:
                Gu = self.G.T @ u
                B_inv_Gu = (Gu - Q @ (shrink[:, None] * (Q.T @ Gu))) / mu
                return values, B_inv_Gu / np.sqrt(values)
            # Rank below k: the primal form, for this and later rounds.
            self.dual = False
            self.gram = self.G.T @ self.G
            self.gram = (self.gram + self.gram.T) / 2
        # B^-1/2 A B^-1/2 with A = G^T G and S = I + Q diag(delta) Q^T:
        # S A S = A + Y Q^T + Q Y^T, Y = A Q diag(delta)
        # + Q diag(delta) Q^T A Q diag(delta) / 2.
        delta = 1.0 / np.sqrt(1.0 + s**2 / mu) - 1.0
        AQ = self.gram @ Q
        Y = AQ * delta + Q @ (delta[:, None] * (Q.T @ AQ) * delta) / 2
        values, x = _top_eigenpairs(
            (self.gram + Y @ Q.T + Q @ Y.T) / mu, k, maxiter=maxiter
        )
        return values, (x + Q @ (delta[:, None] * (Q.T @ x))) / np.sqrt(mu)


class JDA(_DomainTransformer):
    """Joint distribution adaptation (Long, Wang, Ding, Sun & Yu, 2013).

    Like :class:`~sklearn_mtl.transfer.TCA`, finds directions that keep the
    variance of all fitted rows and shrink the discrepancy between domains;
    the discrepancy here is ``tr(Z^T M Z)`` with ``M = sum_c e_c e_c^T``: the
    squared distance between the embedded source and target means, plus, for
    each class ``c``, between the embedded source rows of class ``c`` and the
    target rows *pseudo-labelled* ``c``. Iteration 0 has no pseudo-labels
    (it is TCA); after each iteration ``estimator`` is trained on the embedded
    sources and labels the embedded target rows; ``n_iter`` iterations.

    - ``kernel="linear"``: ``Z = X A`` with ``A`` (``n_features x k``) the top
      ``k`` solutions of ``X^T H X a = lambda (X^T M X + mu I) a`` (``H`` the
      centring matrix): ``d x d`` matrices, cheap for many rows (with fewer
      rows than features, the same solutions from ``n x n`` matrices).
    - ``kernel="rbf"``: ``Z = K W`` with ``W`` the top solutions of
      ``K H K w = lambda (K M K + mu I) w``: ``n x n`` matrices, for a few
      thousand rows at most.

    ``X`` (linear) or ``K`` (rbf) is scaled so that the fitted rows have unit
    mean squared norm (``K`` unit mean diagonal): ``mu`` is relative to the
    data's scale. ``M`` is stored as its factor ``E`` (one column per
    matched mean), never as an ``n x n`` matrix. Each round changes only
    this low-rank ``M``: the problem becomes a standard symmetric one
    through closed forms of ``(F^T E E^T F + mu I)^-1/2``, whose top ``k``
    eigenpairs only are computed (Lanczos; dense ``eigh`` for small
    matrices or if Lanczos does not converge). Components are signed so
    that each one's largest-magnitude entry is positive.

    Parameters
    ----------
    target : object
        Task label of the target rows; must be one of the labels given to
        ``fit``.
    n_components : int, default=None
        Embedding dimension. None: ``min(50, min(n_source,
        n_target, n_features) - 1)``; a value above ``bound = min(n_source -
        1, n_target - 1, n_features)`` is reduced to ``bound`` (with a
        warning).
    kernel : {"linear", "rbf"}, default="linear"
        The embedding (see above).
    mu : float > 0, default=0.1
        Regularization of the projection (keeps ``X^T M X + mu I`` positive
        definite); the paper's ``lambda = 0.1``. Larger values weaken the
        matching: on Office-Caltech (linear) mu = 1, 0.3, 0.1, 0.03 and 0.01
        gave 44.0, 49.5, 50.7, 51.4 and 50.1 % on average.
    gamma : float > 0, default=None
        RBF width ``exp(-gamma ||x - x'||^2)``; None: the median heuristic
        ``1 / (2 sigma^2)``, sigma the median distance between fitted rows.
    n_iter : int, default=10
        Pseudo-labelling iterations at most (the paper's T = 10); 0 gives
        TCA's marginal-only embedding. They stop early once the pseudo-labels
        repeat: every later round would solve the same problem again, so the
        result is the one all ``n_iter`` rounds give (for a deterministic
        ``estimator``).
    estimator : classifier, default=None
        Gives the target pseudo-labels from the embedded sources. None:
        ``LogisticRegression(C=1.0, max_iter=1000)``.

    Attributes
    ----------
    n_components_ : int
        The dimension used, ``k`` below.
    components_ : ndarray of shape (n_features, k) or (n_fit_rows, k)
        ``A`` (linear) or ``W`` (rbf).
    eigenvalues_ : ndarray of shape (k,)
        The ``lambda`` of each component, decreasing.
    classes_ : ndarray
        The source classes.
    n_iter_ : int
        Pseudo-labelling iterations run (at most ``n_iter``).
    pseudo_labels_ : ndarray of shape (n_target,)
        The target rows' last pseudo-labels (values of ``classes_``).
    estimator_ : classifier
        The last pseudo-labelling classifier (on the embedded sources,
        classes encoded ``0..n_classes - 1``).
    X_fit_ : ndarray of shape (n_fit_rows, n_features) or None
        The fitted rows, sources then target (rbf only).
    scale_ : float
        The factor applied to ``X`` (linear) or ``K`` (rbf).
    gamma_ : float or None
        The RBF width used (None for the linear kernel).
    tasks_ : ndarray
        Task labels seen in ``fit`` (``transform`` accepts only these).
    target_ : object
        The target task label.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_mtl.transfer import JDA
    >>> rng = np.random.RandomState(0)
    >>> y = np.repeat([0, 1], 20)
    >>> X_source = rng.normal(size=(40, 3)) + 4 * y[:, None]
    >>> X = np.vstack([X_source, X_source + 1.0])
    >>> y_all = np.r_[y, np.full(40, np.nan)]  # target rows unlabelled
    >>> domains = np.repeat(["source", "target"], 40)
    >>> jda = JDA(target="target", n_components=2).fit(X, y_all, task_ids=domains)
    >>> jda.transform(X).shape
    (80, 2)
    >>> float(np.mean(jda.pseudo_labels_ == y))
    1.0
    """

    _parameter_constraints = {
        "target": "no_validation",
        "n_components": [None, Interval(Integral, 1, None, closed="left")],
        "kernel": [StrOptions({"linear", "rbf"})],
        "mu": [Interval(Real, 0, None, closed="neither")],
        "gamma": [None, Interval(Real, 0, None, closed="neither")],
        "n_iter": [Interval(Integral, 0, None, closed="left")],
        "estimator": [None, HasMethods(["fit", "predict"])],
    }
    _reads_source_classes = True

    _one_to_one_features = False

    @property
    def _n_features_out(self):
        return self.n_components_

    def __init__(
        self,
        target=None,
        n_components=None,
        kernel="linear",
        mu=0.1,
        gamma=None,
        n_iter=10,
        estimator=None,
    ):
        self.target = target
        self.n_components = n_components
        self.kernel = kernel
        self.mu = mu
        self.gamma = gamma
        self.n_iter = n_iter
        self.estimator = estimator

    def _features(self, X):
        """Rows in the space the components act on: ``s X`` or ``s k(X, X_fit)``."""
        if self.kernel == "linear":
            return X * self.scale_
        return rbf_kernel(X, self.X_fit_, gamma=self.gamma_) * self.scale_

    def _fit_domains(self, X, target, source_labels):
        # Alternate the embedding and the target pseudo-labels.
        X_fit = np.vstack([X[~target], X[target]])
        n_source, n_target = int((~target).sum()), int(target.sum())
        n = n_source + n_target
        is_source = np.arange(n) < n_source  # X_fit: sources, then target
        k = _n_components(self, n_source, n_target, X.shape[1])
        self.n_components_ = k
        self.gamma_ = None
        self.X_fit_ = None
        if self.kernel == "linear":
            mean_square = np.mean(np.sum(X_fit**2, axis=1))
            self.scale_ = 1.0 / np.sqrt(mean_square) if mean_square > 0 else 1.0
            F = X_fit * self.scale_
        else:
            if self.gamma is not None:
                self.gamma_ = float(self.gamma)
            else:
                distances = euclidean_distances(X_fit)[np.triu_indices(n, k=1)]
                distances = distances[distances > 0]
                sigma = np.median(distances) if distances.size else 1.0
                self.gamma_ = 1.0 / (2.0 * sigma**2)
            self.X_fit_ = X_fit
            self.scale_ = 1.0  # an RBF kernel has unit diagonal already
            F = rbf_kernel(X_fit, X_fit, gamma=self.gamma_)
        # The centred rows G = H F: the variance is G^T G (X^T H X, or K H K as
        # H is idempotent and K symmetric), H never formed. Only the right-hand
        # side changes between rounds, so the pencil keeps its Gram matrix.
        pencil = _JDAPencil(F - F.mean(axis=0), self.mu)
        k = min(k, F.shape[1])
        self.n_components_ = k
        estimator = (
            LogisticRegression(C=1.0, max_iter=1000)
            if self.estimator is None
            else self.estimator
        )
        n_classes = len(self.classes_)
        pseudo = None
        # One BLAS thread: eleven moderate eigenproblems gain little from
        # threads, and on a busy machine threads waiting for each other made
        # them 70x slower.
        with threadpool_limits(limits=1, user_api="blas"):
            self.n_iter_ = 0
            for iteration in range(self.n_iter + 1):
                previous = pseudo
                E = discrepancy_vectors(
                    is_source,
                    None if pseudo is None else np.r_[source_labels, pseudo],
                    n_classes,
                )
                # M = E E^T: the right-hand side is F^T E E^T F + mu I, with
                # F^T E = X^T E (linear) or K E (rbf, K symmetric).
                values, components = pencil.solve(F.T @ E, k)
                # Signs fixed (largest-magnitude entry positive): the same
                # output whichever eigensolver ran.
                signs = np.sign(
                    components[np.abs(components).argmax(axis=0), np.arange(k)]
                )
                components = components * np.where(signs == 0, 1.0, signs)
                Z = F @ components
                model = clone(estimator).fit(Z[:n_source], source_labels)
                pseudo = np.asarray(model.predict(Z[n_source:]))
                self.n_iter_ = iteration
                if previous is not None and np.array_equal(pseudo, previous):
                    # A fixed point: the next round would solve this same
                    # eigenproblem and refit this same classifier.
                    break
        self.eigenvalues_ = values
        self.components_ = components
        self.estimator_ = model
        self.pseudo_labels_ = self.classes_[pseudo]

    def _transform_domains(self, X, target):
        # Every row alike: s x A or s k(x, X_fit) W.
        return self._features(X) @ self.components_
