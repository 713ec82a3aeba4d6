"""Subspace methods: source and target rows projected to a shared subspace.

Transformers whose output has ``n_components_`` columns for every row, so a
model trained on transformed sources reads transformed targets (target rows:
``task_ids`` None in ``transform``). ``n_components`` is bounded by the data:
at most ``min(n_source - 1, n_target - 1, n_features)``, and by default
(None) ``min(50, min(n_source, n_target, n_features) - 1)``.
"""

import warnings
from numbers import Integral, Real

import numpy as np
import scipy.linalg
from sklearn.metrics.pairwise import euclidean_distances, linear_kernel, rbf_kernel
from sklearn.utils._param_validation import Interval, StrOptions

from ._transformers import _DomainTransformer

__all__ = ["SubspaceAlignment", "TCA"]


def _n_components(transformer, n_source, n_target, n_features, *, full_width=True):
    """``n_components`` bounded by ``min(n_source - 1, n_target - 1, n_features)``.

    A PCA of ``n`` centred rows has at most ``n - 1`` informative directions;
    asking for more gives arbitrary ones (what makes 800 components on
    157-row domains fail). ``d`` features give ``d`` directions when the rows
    outnumber them, so an explicit ``n_components=d`` is kept (it was cut to
    ``d - 1`` with a warning, leaving a user of 2 features no way to keep
    both). ``full_width=False`` (GFK, whose subspaces would otherwise be the
    whole space, ``G = I``) bounds by ``n_features - 1``. None: ``min(50,
    min(n_source, n_target, n_features) - 1)``, a reduction by default as
    before; more than the bound is reduced to it with a warning.
    """
    if transformer.n_components is None:
        return min(50, max(min(n_source, n_target, n_features) - 1, 1))
    feature_bound = n_features if full_width else n_features - 1
    bound = max(min(n_source - 1, n_target - 1, feature_bound), 1)
    requested = transformer.n_components
    if requested > bound:
        features = "n_features" if full_width else "n_features - 1"
        warnings.warn(
            f"{type(transformer).__name__}: n_components={requested} is more "
            f"than the data allow (min(n_source - 1={n_source - 1}, "
            f"n_target - 1={n_target - 1}, {features}={feature_bound}) = "
            f"{bound}); using {bound}.",
            UserWarning,
            stacklevel=3,
        )
        return bound
    return requested


def _principal_axes(X, k):
    """Top ``k`` principal axes (columns) of ``X``'s centred rows, sign-fixed.

    Signs fixed so that each axis's largest-magnitude entry is positive:
    deterministic output for the same data.
    """
    _, _, vt = np.linalg.svd(X - X.mean(axis=0), full_matrices=False)
    axes = vt[:k].T
    signs = np.sign(axes[np.abs(axes).argmax(axis=0), np.arange(k)])
    return axes * np.where(signs == 0, 1.0, signs)


class SubspaceAlignment(_DomainTransformer):
    """Subspace alignment (Fernando et al., 2013).

    ``P_s`` and ``P_t`` are the top ``n_components`` principal axes of the
    source and the target rows. Source rows map to
    ``(x - mu_s) P_s P_s^T P_t`` (their PCA coordinates aligned to the
    target's axes), target rows to ``(x - mu_t) P_t``.

    Parameters
    ----------
    target : object
        Task label of the target rows; must be one of the labels given to
        ``fit``.
    n_components : int, default=None
        Dimension of the subspaces. None: ``min(50, min(n_source,
        n_target, n_features) - 1)``; a value above ``bound = min(n_source -
        1, n_target - 1, n_features)`` is reduced to ``bound`` (with a
        warning).

    Attributes
    ----------
    n_components_ : int
        The dimension used, ``k`` below.
    source_components_, target_components_ : ndarray of shape \
            (n_features, k)
        ``P_s`` and ``P_t``.
    alignment_ : ndarray of shape (k, k)
        ``P_s^T P_t``.
    source_mean_, target_mean_ : ndarray of shape (n_features,)
    tasks_ : ndarray
        Task labels seen in ``fit`` (``transform`` accepts only these).
    target_ : object
        The target task label.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_mtl.transfer import SubspaceAlignment
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(40, 5))
    >>> domains = np.repeat(["source", "target"], 20)
    >>> sa = SubspaceAlignment(target="target", n_components=2)
    >>> sa.fit_transform(X, task_ids=domains).shape
    (40, 2)
    """

    _parameter_constraints = {
        "target": "no_validation",
        "n_components": [None, Interval(Integral, 1, None, closed="left")],
    }

    _one_to_one_features = False

    @property
    def _n_features_out(self):
        return self.n_components_

    def __init__(self, target=None, n_components=None):
        self.target = target
        self.n_components = n_components

    def _fit_domains(self, X, target, source_labels):
        # Principal axes of both domains and their alignment.
        X_source, X_target = X[~target], X[target]
        k = _n_components(self, len(X_source), len(X_target), X.shape[1])
        self.n_components_ = k
        self.source_mean_ = X_source.mean(axis=0)
        self.target_mean_ = X_target.mean(axis=0)
        self.source_components_ = _principal_axes(X_source, k)
        self.target_components_ = _principal_axes(X_target, k)
        self.alignment_ = self.source_components_.T @ self.target_components_

    def _transform_domains(self, X, target):
        # Source rows to the aligned source subspace, target rows to the target's.
        out = np.empty((X.shape[0], self.n_components_))
        out[target] = (X[target] - self.target_mean_) @ self.target_components_
        source = ~target
        out[source] = (
            (X[source] - self.source_mean_) @ self.source_components_ @ self.alignment_
        )
        return out


class TCA(_DomainTransformer):
    """Transfer component analysis (Pan et al., 2011).

    With ``K`` the kernel matrix of all fitted rows (sources then target),
    scaled to unit mean diagonal so that ``mu`` is relative to the data's
    scale, ``L = e e^T`` (``e_i = 1/n_s`` on source rows, ``-1/n_t`` on
    target rows: ``tr(W^T K L K W)`` is the embedded domains' squared mean
    discrepancy) and ``H = I - 11^T / n`` the centring matrix, the components
    ``W`` are the top ``n_components`` solutions of the generalized symmetric
    eigenproblem ``K H K w = lambda (K L K + mu I) w``: directions that keep
    the variance and shrink the discrepancy. Every row ``x`` maps to
    ``k(x, X_fit) W`` (the same map for source and target rows).

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
        Kernel ``k``.
    mu : float > 0, default=1.0
        Regularization of ``W`` (keeps ``K L K + mu I`` positive definite).
    gamma : float > 0, default=None
        RBF width ``exp(-gamma ||x - x'||^2)``; None: the median heuristic
        ``1 / (2 sigma^2)``, sigma the median distance between fitted rows.

    Attributes
    ----------
    n_components_ : int
        The dimension used, ``k`` below.
    components_ : ndarray of shape (n_fit_rows, k)
        ``W``, with ``W^T (K L K + mu I) W = I``.
    eigenvalues_ : ndarray of shape (k,)
        The ``lambda`` of each component, decreasing.
    X_fit_ : ndarray of shape (n_fit_rows, n_features)
        The fitted rows, sources then target.
    gamma_ : float or None
        The RBF width used (None for the linear kernel).
    kernel_scale_ : float
        The factor that gives ``K`` unit mean diagonal.
    tasks_ : ndarray
        Task labels seen in ``fit`` (``transform`` accepts only these).
    target_ : object
        The target task label.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_mtl.transfer import TCA
    >>> rng = np.random.RandomState(0)
    >>> X = np.vstack([rng.normal(size=(20, 4)), 2 + rng.normal(size=(20, 4))])
    >>> domains = np.repeat(["source", "target"], 20)
    >>> TCA(target="target", n_components=2).fit_transform(X, task_ids=domains).shape
    (40, 2)
    """

    _parameter_constraints = {
        "target": "no_validation",
        "n_components": [None, Interval(Integral, 1, None, closed="left")],
        "kernel": [StrOptions({"linear", "rbf"})],
        "mu": [Interval(Real, 0, None, closed="neither")],
        "gamma": [None, Interval(Real, 0, None, closed="neither")],
    }

    _one_to_one_features = False

    @property
    def _n_features_out(self):
        return self.n_components_

    def __init__(
        self, target=None, n_components=None, kernel="linear", mu=1.0, gamma=None
    ):
        self.target = target
        self.n_components = n_components
        self.kernel = kernel
        self.mu = mu
        self.gamma = gamma

    def _kernel(self, X, Y):
        if self.kernel == "linear":
            return linear_kernel(X, Y) * self.kernel_scale_
        return rbf_kernel(X, Y, gamma=self.gamma_) * self.kernel_scale_

    def _fit_domains(self, X, target, source_labels):
        # The eigenproblem on the source and target rows.
        X_fit = np.vstack([X[~target], X[target]])
        n_source, n_target = int((~target).sum()), int(target.sum())
        n = n_source + n_target
        k = _n_components(self, n_source, n_target, X.shape[1])
        self.n_components_ = k
        self.gamma_ = None
        if self.kernel == "rbf":
            if self.gamma is not None:
                self.gamma_ = float(self.gamma)
            else:
                distances = euclidean_distances(X_fit)[np.triu_indices(n, k=1)]
                distances = distances[distances > 0]
                sigma = np.median(distances) if distances.size else 1.0
                self.gamma_ = 1.0 / (2.0 * sigma**2)
        self.kernel_scale_ = 1.0
        K = self._kernel(X_fit, X_fit)
        diagonal = np.mean(np.diag(K))
        # All-zero rows (linear kernel): any scale; keep K as it is.
        self.kernel_scale_ = 1.0 / diagonal if diagonal > 0 else 1.0
        K = K * self.kernel_scale_
        e = np.r_[np.full(n_source, 1.0 / n_source), np.full(n_target, -1.0 / n_target)]
        Ke = K @ e
        KHK = K @ K - np.outer(K.sum(axis=1), K.sum(axis=0)) / n
        B = np.outer(Ke, Ke) + self.mu * np.eye(n)
        values, vectors = scipy.linalg.eigh(
            (KHK + KHK.T) / 2, B, subset_by_index=[n - k, n - 1]
        )
        order = np.argsort(values)[::-1]
        self.eigenvalues_ = values[order]
        self.components_ = vectors[:, order]
        self.X_fit_ = X_fit

    def _transform_domains(self, X, target):
        # Every row alike: k(x, X_fit) W.
        return self._kernel(X, self.X_fit_) @ self.components_
