"""Manifold embedded distribution alignment (MEDA; Wang et al., ACM MM 2018).

Geodesic-flow-kernel features, then a kernel least-squares classifier whose
objective also aligns the source and target distributions (marginal and
class-conditional MMD, weighed by an adaptive factor) and is smooth on a
nearest-neighbour graph of all rows; target pseudo-labels refined over
iterations.
"""

import warnings
from numbers import Integral, Real

import numpy as np
import scipy.linalg
import scipy.sparse
from sklearn.base import BaseEstimator, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics.pairwise import linear_kernel, rbf_kernel
from sklearn.neighbors import KNeighborsClassifier, kneighbors_graph
from sklearn.preprocessing import normalize
from sklearn.svm import LinearSVC
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from .._base import MultiTaskClassifierMixin
from ._domains import split_source_target
from ._estimator_helpers import TargetClassifierScoreMixin
from ._gfk import GFK
from ._jda import discrepancy_vectors

__all__ = ["MEDAClassifier", "proxy_a_distance", "adaptive_factor"]

# K, the system matrix and its LU factors are dense n x n: 20,000 rows is
# 3.2 GB per matrix.
MAX_ROWS = 20_000


def proxy_a_distance(X_a, X_b, random_state=0):
    """``2 (1 - 2 err)``: ``err`` the training error of a linear SVM telling
    ``X_a`` from ``X_b`` (MEDA's code: ``LinearSVC``, its training rows)."""
    X = np.vstack([X_a, X_b])
    labels = np.r_[np.zeros(len(X_a)), np.ones(len(X_b))]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        svm = LinearSVC(random_state=random_state).fit(X, labels)
    error = np.mean(svm.predict(X) != labels)
    return 2.0 * (1.0 - 2.0 * error)


def adaptive_factor(Z_source, y_source, Z_target, y_target, random_state=0):
    """MEDA's ``mu = d_c / (d_c + d_m)`` from proxy A-distances.

    ``d_m`` is the proxy A-distance between all source and all target rows,
    ``d_c`` the mean over classes of the distance between the source rows of
    class ``c`` and the target rows (pseudo-)labelled ``c`` (classes with no
    row on either side are left out). As the authors' code: ``mu`` above 1
    is 1, below ``1e-3`` is 0; with ``d_c + d_m <= 0`` (no evidence either
    way) it is 0.5.
    """
    d_m = proxy_a_distance(Z_source, Z_target, random_state)
    per_class = [
        proxy_a_distance(Z_source[y_source == c], Z_target[y_target == c], random_state)
        for c in np.unique(y_source)
        if np.any(y_source == c) and np.any(y_target == c)
    ]
    d_c = float(np.mean(per_class)) if per_class else 0.0
    if d_c + d_m <= 0:
        return 0.5
    mu = d_c / (d_c + d_m)
    return 1.0 if mu > 1 else (0.0 if mu < 1e-3 else mu)


def mmd_factor(is_source, labels, n_classes, mu):
    """``U`` and ``s`` with ``M = U diag(s) U^T``, MEDA's MMD matrix.

    ``M = (1 - mu) C e_0 e_0^T + mu sum_c e_c e_c^T``, scaled to unit
    Frobenius norm, as the authors' code (``C`` the number of classes):
    ``e_0`` is ``1/n_s`` on source rows and ``-1/n_t`` on target rows,
    ``e_c`` is ``1/n_s^c`` on source rows of class ``c`` and ``-1/n_t^c`` on
    target rows (pseudo-)labelled ``c`` (0 on a side with no such row).
    """
    U = discrepancy_vectors(is_source, labels, n_classes, one_sided=True)
    s = np.r_[(1.0 - mu) * n_classes, np.full(n_classes, mu)]
    # ||U S U^T||_F^2 = tr((U^T U S)^2): no n x n matrix.
    product = (U.T @ U) * s[None, :]
    norm = np.sqrt(max(np.trace(product @ product), 0.0))
    return U, s / (norm if norm > 0 else 1.0)


def cosine_laplacian(Z, n_neighbors):
    """``I - D^{-1/2} W D^{-1/2}`` of MEDA's graph (sparse).

    ``W_ij`` is the cosine of rows ``i`` and ``j`` when ``j`` is among the
    ``n_neighbors`` nearest of ``i`` (or ``i`` of ``j``), the row itself
    included as the authors' graph does (``Z`` has unit rows, so nearest in
    Euclidean distance is nearest in cosine). Negative cosines are set to 0
    (they would make a degree non-positive).
    """
    n = len(Z)
    graph = kneighbors_graph(
        Z, min(n_neighbors + 1, n), mode="connectivity", include_self=True
    ).tocoo()
    weights = np.maximum(np.einsum("ij,ij->i", Z[graph.row], Z[graph.col]), 0.0)
    W = scipy.sparse.coo_matrix((weights, (graph.row, graph.col)), shape=(n, n))
    W = W.tocsr().maximum(W.T.tocsr())
    degree = np.asarray(W.sum(axis=1)).ravel()
    scale = scipy.sparse.diags(1.0 / np.sqrt(np.maximum(degree, 1e-12)))
    return scipy.sparse.identity(n, format="csr") - scale @ W @ scale


class MEDAClassifier(
    TargetClassifierScoreMixin, MultiTaskClassifierMixin, BaseEstimator
):
    """Manifold embedded distribution alignment (Wang et al., ACM MM 2018).

    1. Every row is mapped by the geodesic flow kernel (:class:`GFK`, source
       and target PCA subspaces of dimension ``n_components``) and scaled to
       unit norm.
    2. ``f(x) = sum_i alpha_i k(x, x_i)`` over all fitted rows (sources, then
       every target row) minimizes, on one-hot labels ``Y``,
       ``||A^{1/2} (Y - K alpha)||^2 + ridge tr(alpha^T K alpha)
       + mmd_weight tr(alpha^T K M K alpha)
       + laplacian_weight tr(alpha^T K L K alpha)``, in closed form
       ``alpha = ((A + mmd_weight M + laplacian_weight L) K + ridge I)^{-1} A Y``.
       ``A`` is diagonal: the sample weight of each labelled row (sources and
       labelled target rows), 0 on unlabelled target rows, whose labels never
       reach the loss. ``M`` is the MMD matrix (:func:`mmd_factor`): marginal
       and class-conditional discrepancies mixed by ``mu``; ``L`` the
       normalized Laplacian of a cosine ``n_neighbors``-NN graph
       (:func:`cosine_laplacian`).
    3. The class-conditional part needs target labels: the unlabelled target
       rows start with a 1-nearest-neighbour prediction from the labelled
       rows (the authors' code), then take ``argmax f`` after each of the
       ``n_iter`` solves; ``mu`` is re-estimated before each
       (:func:`adaptive_factor`, proxy A-distances) unless fixed.

    The defaults are the authors' (their Office-Caltech demo and the paper):
    ``d = 20``, ``T = 10``, ``lambda = 10``, ``rho = 1``, ``eta = 0.1``,
    ``p = 10``, RBF kernel of width 1 on the unit rows.

    **Memory and time are O(n^2) and O(n^3)** in the number of fitted rows
    ``n`` (the kernel matrix and one LU factorization, reused by every
    iteration through the Woodbury identity: ``M`` has rank
    ``n_classes + 1``). More than 20,000 rows raise a ValueError; subsample
    the sources.

    Parameters
    ----------
    target : object
        Task label of the target rows; every other task is a source.
    n_components : int, default=20
        GFK subspace dimension ``d`` (see :class:`GFK`).
    mmd_weight : float >= 0, default=10.0
        ``lambda``: weight of the distribution alignment.
    laplacian_weight : float >= 0, default=1.0
        ``rho``: weight of the manifold (graph Laplacian) term.
    ridge : float > 0, default=0.1
        ``eta``: weight of the RKHS norm.
    n_neighbors : int, default=10
        ``p``: neighbours per row in the graph.
    n_iter : int, default=10
        ``T``: pseudo-label rounds (solves).
    mu : "auto" or float in [0, 1], default="auto"
        Weight of the class-conditional MMD against the marginal one;
        "auto": re-estimated each round from proxy A-distances.
    kernel : {"rbf", "linear"}, default="rbf"
        Kernel on the unit-norm GFK features.
    gamma : float > 0, default=None
        RBF width ``exp(-gamma ||z - z'||^2)``. None: 0.5, the authors'
        ``sigma = 1`` (``gamma = 1 / (2 sigma^2)``) for unit rows.
    random_state : int, RandomState instance or None, default=None
        Seeds the linear SVMs of the proxy A-distances (liblinear's
        coordinate order).

    Attributes
    ----------
    classes_ : ndarray
        Class labels (of the source and labelled target rows).
    gfk_ : GFK
        The fitted geodesic flow kernel.
    X_fit_ : ndarray of shape (n_fit_rows, r)
        Fitted rows in the unit-norm GFK embedding (sources, then target).
    dual_coef_ : ndarray of shape (n_fit_rows, n_classes)
        ``alpha``.
    gamma_ : float or None
        The RBF width used (None for the linear kernel).
    mu_ : float
        ``mu`` of the last round.
    mu_path_ : ndarray of shape (n_iter,)
        ``mu`` of each round.
    pseudo_labels_ : ndarray of shape (n_target,)
        Final predictions for every target row (values of ``classes_``).
    tasks_ : ndarray
        Task labels seen in ``fit``.
    target_ : object
        The target task label.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_mtl.transfer._meda import MEDAClassifier
    >>> rng = np.random.RandomState(0)
    >>> y_source = np.repeat([0, 1], 30)
    >>> X_source = rng.normal(size=(60, 3)) + np.outer(4 * y_source - 2, [1, 0, 0])
    >>> X = np.vstack([X_source, X_source + [0.0, 1.5, 0.0]])  # target shifted
    >>> y = np.r_[y_source, np.full(60, np.nan)]  # target rows unlabelled
    >>> domains = np.repeat(["source", "target"], 60)
    >>> model = MEDAClassifier(target="target", n_components=2, random_state=0)
    >>> float(model.fit(X, y, task_ids=domains).score(X[60:], y_source))
    0.983...
    """

    __metadata_request__fit = {"task_ids": True}
    _parameter_constraints = {
        "target": "no_validation",
        "n_components": [None, Interval(Integral, 1, None, closed="left")],
        "mmd_weight": [Interval(Real, 0, None, closed="left")],
        "laplacian_weight": [Interval(Real, 0, None, closed="left")],
        "ridge": [Interval(Real, 0, None, closed="neither")],
        "n_neighbors": [Interval(Integral, 1, None, closed="left")],
        "n_iter": [Interval(Integral, 1, None, closed="left")],
        "mu": [StrOptions({"auto"}), Interval(Real, 0, 1, closed="both")],
        "kernel": [StrOptions({"rbf", "linear"})],
        "gamma": [None, Interval(Real, 0, None, closed="neither")],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        target=None,
        n_components=20,
        mmd_weight=10.0,
        laplacian_weight=1.0,
        ridge=0.1,
        n_neighbors=10,
        n_iter=10,
        mu="auto",
        kernel="rbf",
        gamma=None,
        random_state=None,
    ):
        self.target = target
        self.n_components = n_components
        self.mmd_weight = mmd_weight
        self.laplacian_weight = laplacian_weight
        self.ridge = ridge
        self.n_neighbors = n_neighbors
        self.n_iter = n_iter
        self.mu = mu
        self.kernel = kernel
        self.gamma = gamma
        self.random_state = random_state

    def _kernel(self, Z, Z_fit):
        if self.kernel == "linear":
            return linear_kernel(Z, Z_fit)
        return rbf_kernel(Z, Z_fit, gamma=self.gamma_)

    def _embed(self, X):
        """Unit rows of the GFK embedding (same inner products as ``x sqrt(G)``)."""
        return X @ self.gfk_.embedding_

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, task_ids=None, sample_weight=None):
        """Fit the GFK map, then alternate the closed-form solve and the pseudo-labels.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Source and target rows.
        y : array-like of shape (n_samples,)
            Class labels; a target row's label may be missing (NaN, or None
            in an object array): that row is unlabelled and its label never
            reaches the loss. Labelled target rows join the labelled set.
        task_ids : array-like of shape (n_samples,)
            Task of each row; rows of ``target`` are the target domain.
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each labelled row in the squared loss (``A``).

        Returns
        -------
        self : object
        """
        _, split = split_source_target(
            self,
            X,
            y,
            task_ids,
            sample_weight,
            classifier=True,
            allow_unlabelled=True,
        )
        name = type(self).__name__
        n_source, n_target = len(split.X_source), len(split.X_target_all)
        if n_source < 2:
            raise ValueError(
                f"{name} needs at least 2 source rows, got {n_source}: pass the "
                "sources with task_ids and target=<the target task>."
            )
        n = n_source + n_target
        if n > MAX_ROWS:
            raise ValueError(
                f"{name} holds n x n matrices (kernel, LU factors) for the "
                f"n = {n} fitted rows: more than {MAX_ROWS} rows would need "
                f"{3 * 8 * n * n / 1e9:.0f} GB. Subsample the sources."
            )
        self.target_ = self.tasks_[split.target_position]
        y_labelled = np.concatenate([split.y_source, split.y_target])
        if y_labelled.dtype.kind == "O":
            y_labelled = np.asarray(y_labelled.tolist())
        self.classes_, codes = np.unique(y_labelled, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError(
                f"{name}: the labelled rows have {len(self.classes_)} class(es); "
                "at least 2 are needed."
            )
        n_classes = len(self.classes_)
        y_source = codes[:n_source]
        labelled_target = split.target_labelled_index
        is_source = np.r_[np.ones(n_source, bool), np.zeros(n_target, bool)]
        is_labelled = is_source.copy()
        is_labelled[n_source + labelled_target] = True
        labels = np.full(n, -1)
        labels[:n_source] = y_source
        labels[n_source + labelled_target] = codes[n_source:]
        weights = np.zeros(n)
        weights[:n_source] = split.w_source
        weights[n_source + labelled_target] = split.w_target

        X_fit = np.vstack([split.X_source, split.X_target_all])
        domains = np.where(is_source, "source", "target")
        self.gfk_ = GFK(target="target", n_components=self.n_components).fit(
            X_fit, task_ids=domains
        )
        embedded = self._embed(X_fit)
        Z = normalize(embedded)
        self.X_fit_ = Z
        self.gamma_ = None
        if self.kernel == "rbf":
            self.gamma_ = 0.5 if self.gamma is None else float(self.gamma)
        K = self._kernel(Z, Z)

        # Unlabelled target rows: 1-NN from the labelled rows, as the authors.
        unlabelled = ~is_labelled
        if unlabelled.any():
            nearest = KNeighborsClassifier(n_neighbors=1).fit(
                Z[is_labelled], labels[is_labelled]
            )
            labels[unlabelled] = nearest.predict(Z[unlabelled])

        # (A + rho L) K + eta I does not change over rounds: factor it once;
        # each round adds lambda U S U^T K (rank C + 1, Woodbury).
        system = K * weights[:, None] + self.ridge * np.eye(n)
        if self.laplacian_weight > 0:
            laplacian = cosine_laplacian(Z, self.n_neighbors)
            system += self.laplacian_weight * (laplacian @ K)
        factor = scipy.linalg.lu_factor(system, check_finite=False)
        rhs = (
            np.eye(n_classes)[np.maximum(labels, 0)] * (weights * is_labelled)[:, None]
        )
        base = scipy.linalg.lu_solve(factor, rhs, check_finite=False)
        seed = check_random_state(self.random_state).randint(np.iinfo(np.int32).max)
        mu_path = []
        for _ in range(self.n_iter):
            if self.mu == "auto":
                mu = adaptive_factor(
                    embedded[is_source],
                    labels[is_source],
                    embedded[~is_source],
                    labels[~is_source],
                    random_state=seed,
                )
            else:
                mu = float(self.mu)
            mu_path.append(mu)
            alpha = base
            if self.mmd_weight > 0:
                U, s = mmd_factor(is_source, labels, n_classes, mu)
                left = U * (self.mmd_weight * s)  # the update is left @ (U^T K)
                right = U.T @ K
                solved = scipy.linalg.lu_solve(factor, left, check_finite=False)
                capacitance = np.eye(len(s)) + right @ solved
                alpha = base - solved @ np.linalg.solve(capacitance, right @ base)
            scores = K @ alpha
            labels[unlabelled] = np.argmax(scores[unlabelled], axis=1)
        self.dual_coef_ = alpha
        self.mu_ = mu_path[-1]
        self.mu_path_ = np.asarray(mu_path)
        self.pseudo_labels_ = self.classes_[np.argmax(scores[n_source:], axis=1)]
        return self

    def decision_function(self, X, task_ids=None):
        """``f(x) = k(x, X_fit) alpha``: one column per class.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows (of the target domain; every row is mapped alike).
        task_ids : ignored
            Accepted for the package's convention; predictions serve the
            target.

        Returns
        -------
        scores : ndarray of shape (n_samples, n_classes)
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False)
        return self._kernel(normalize(self._embed(X)), self.X_fit_) @ self.dual_coef_

    def predict(self, X, task_ids=None):
        """The class of largest ``f(x)``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows (of the target domain).
        task_ids : ignored
            Accepted for the package's convention.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        scores = self.decision_function(X)
        return self.classes_[np.argmax(scores, axis=1)]

    def predict_proba(self, X, task_ids=None):
        """``f(x)`` clipped at 0 and normalized per row (not calibrated).

        ``f`` fits one-hot labels by least squares, so its clipped scores are
        class-membership estimates; a row whose scores are all ``<= 0`` gets
        the uniform distribution. The argmax is ``predict``'s.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows (of the target domain).
        task_ids : ignored
            Accepted for the package's convention.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        scores = np.maximum(self.decision_function(X), 0.0)
        total = scores.sum(axis=1, keepdims=True)
        uniform = np.full_like(scores, 1.0 / scores.shape[1])
        return np.where(total > 0, scores / np.where(total > 0, total, 1.0), uniform)
