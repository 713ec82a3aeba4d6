"""Geodesic flow kernel (Gong, Shi, Sha & Grauman, CVPR 2012).

The source and target PCA subspaces are two points of a Grassmann manifold;
the kernel integrates the inner products of the projections onto every
subspace along the geodesic between them.
"""

from numbers import Integral

import numpy as np
import scipy.linalg
from sklearn.decomposition import PCA
from sklearn.utils._param_validation import Interval

from ._subspace import _n_components
from ._transformers import _DomainTransformer

__all__ = ["GFK", "geodesic_flow_kernel"]


def _gfk_factor(source_basis, target_basis):
    """``Z`` (``D x 2d``) and ``C`` (``2d x 2d``) with ``G = Z C Z^T``.

    With ``P_s^T P_t = U_1 diag(cos theta) V^T`` (an SVD: the principal
    angles ``theta``), ``A = P_s U_1`` and ``W = P_t V - A diag(cos theta)``
    (the part of the target's principal vectors orthogonal to the source
    subspace, column norms ``sin theta``), the geodesic is
    ``Phi(t) = A cos(t theta) + W sin(t theta) / sin(theta)`` and
    ``G = int_0^1 Phi Phi^T dt`` has the blocks below. Gong et al. write
    ``W / sin(theta)`` as ``-R_s U_2`` (``R_s`` the source complement,
    ``U_2`` from a generalized SVD); dividing by ``sin theta`` in closed form
    keeps the blocks finite when an angle is 0, and ``R_s`` (``D x (D - d)``)
    is never formed.
    """
    U1, cosines, Vt = scipy.linalg.svd(source_basis.T @ target_basis)
    cosines = np.clip(cosines, 0.0, 1.0)
    theta = np.arccos(cosines)
    A = source_basis @ U1
    W = target_basis @ Vt.T - A * cosines
    safe = np.maximum(theta, 1e-12)
    sines = np.sin(theta)
    # int cos^2 = (1 + sin 2t / 2t) / 2; int cos sin / sin t = sin t / 2t;
    # int sin^2 / sin^2 t = (1 - sin 2t / 2t) / (2 sin^2 t), -> 1/3 at t = 0.
    block_aa = 0.5 * (1.0 + np.sin(2 * safe) / (2 * safe))
    block_aw = np.where(theta > 1e-12, 0.5 * sines / safe, 0.5)
    small = theta < 1e-4
    block_ww = np.where(
        small,
        1.0 / 3.0,
        0.5 * (1.0 - np.sin(2 * safe) / (2 * safe)) / np.where(small, 1.0, sines) ** 2,
    )
    Z = np.hstack([A, W])
    C = np.block(
        [[np.diag(block_aa), np.diag(block_aw)], [np.diag(block_aw), np.diag(block_ww)]]
    )
    return Z, C, theta


def geodesic_flow_kernel(source_basis, target_basis):
    """The geodesic flow kernel ``G`` between two subspaces and its square root.

    Parameters
    ----------
    source_basis, target_basis : ndarray of shape (n_features, d)
        Orthonormal bases (columns) of the source and target subspaces.

    Returns
    -------
    G : ndarray of shape (n_features, n_features)
        ``int_0^1 Phi(t) Phi(t)^T dt``, ``Phi`` the geodesic from the source
        subspace (``t = 0``) to the target's (``t = 1``).
    embedding : ndarray of shape (n_features, r)
        ``r <= 2 d`` columns with ``embedding @ embedding.T = G``: ``x @
        embedding`` has the same inner products as ``x @ sqrt(G)``.
    angles : ndarray of shape (d,)
        The principal angles between the subspaces, increasing.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_mtl.transfer._gfk import geodesic_flow_kernel
    >>> basis = np.eye(4)[:, :2]
    >>> G, embedding, angles = geodesic_flow_kernel(basis, basis)
    >>> np.allclose(G, basis @ basis.T), np.allclose(angles, 0)
    (True, True)
    """
    Z, C, theta = _gfk_factor(source_basis, target_basis)
    # G = Q (R C R^T) Q^T with Z = Q R: a 2d x 2d eigenproblem, never D x D.
    Q, R = scipy.linalg.qr(Z, mode="economic")
    values, vectors = scipy.linalg.eigh(R @ C @ R.T)
    keep = values > values.max() * 1e-12
    embedding = Q @ (vectors[:, keep] * np.sqrt(values[keep]))
    return embedding @ embedding.T, embedding, np.sort(theta)


class GFK(_DomainTransformer):
    """Geodesic flow kernel (Gong, Shi, Sha & Grauman, 2012).

    ``P_s`` and ``P_t`` are the top ``n_components`` principal axes of the
    source rows (every task but ``target``) and of the target rows. Along the
    geodesic ``Phi(t)`` from ``span(P_s)`` (``t = 0``) to ``span(P_t)``
    (``t = 1``) on the Grassmann manifold, the kernel
    ``G = int_0^1 Phi(t) Phi(t)^T dt`` (``n_features x n_features``, in closed
    form from the principal angles; :func:`geodesic_flow_kernel`) gives the
    inner product ``x G x'^T``: projections onto every intermediate subspace,
    averaged. Every row (source or target) maps to ``x sqrt(G)``, as in the
    authors' code (no centring). ``embedding_`` has the same inner products
    with ``r <= 2 n_components`` columns (``X @ embedding_``), cheaper for
    kernels and nearest neighbours.

    Parameters
    ----------
    target : object
        Task label of the target rows; must be one of the labels given to
        ``fit``.
    n_components : int, default=20
        Dimension ``d`` of both subspaces (MEDA's ``d = 20``); reduced, with
        a warning, to ``min(n_source - 1, n_target - 1, n_features - 1)``.
        None: ``min(50, min(n_source, n_target, n_features) - 1)`` as the
        other subspace methods.

    Attributes
    ----------
    n_components_ : int
        The dimension used.
    source_components_, target_components_ : ndarray of shape \
            (n_features, `n_components_`)
        ``P_s`` and ``P_t`` (orthonormal columns).
    kernel_ : ndarray of shape (n_features, n_features)
        ``G``.
    sqrt_kernel_ : ndarray of shape (n_features, n_features)
        The symmetric square root of ``G``: ``transform`` is ``X @
        sqrt_kernel_``.
    embedding_ : ndarray of shape (n_features, r)
        ``embedding_ @ embedding_.T = G`` with ``r <= 2 n_components_``.
    principal_angles_ : ndarray of shape (`n_components_`,)
        Angles between the two subspaces, increasing.
    tasks_ : ndarray
        Task labels seen in ``fit`` (``transform`` accepts only these).
    target_ : object
        The target task label.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_mtl.transfer._gfk import GFK
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(60, 6))
    >>> domains = np.repeat(["source", "target"], 30)
    >>> gfk = GFK(target="target", n_components=2).fit(X, task_ids=domains)
    >>> gfk.transform(X).shape, gfk.embedding_.shape[1] <= 4
    ((60, 6), True)
    >>> np.allclose(gfk.sqrt_kernel_ @ gfk.sqrt_kernel_, gfk.kernel_)
    True
    """

    _parameter_constraints = {
        "target": "no_validation",
        "n_components": [None, Interval(Integral, 1, None, closed="left")],
    }

    _one_to_one_features = False

    @property
    def _n_features_out(self):
        return self.sqrt_kernel_.shape[1]

    def __init__(self, target=None, n_components=20):
        self.target = target
        self.n_components = n_components

    def _fit_domains(self, X, target, source_labels):
        # Principal axes of both domains and the kernel between them.
        X_source, X_target = X[~target], X[target]
        # Full width would make both subspaces the whole space and G = I.
        k = _n_components(
            self, len(X_source), len(X_target), X.shape[1], full_width=False
        )
        self.n_components_ = k
        self.source_components_ = _pca_basis(X_source, k)
        self.target_components_ = _pca_basis(X_target, k)
        self.kernel_, self.embedding_, self.principal_angles_ = geodesic_flow_kernel(
            self.source_components_, self.target_components_
        )
        # sqrt(G) = E (E^T E)^{-1/2} E^T for G = E E^T (E has full column rank).
        gram = self.embedding_.T @ self.embedding_
        values, vectors = scipy.linalg.eigh(gram)
        self.sqrt_kernel_ = (
            self.embedding_ @ (vectors * values**-0.5) @ vectors.T @ self.embedding_.T
        )

    def _transform_domains(self, X, target):
        # Every row alike (sources and target): x sqrt(G).
        return X @ self.sqrt_kernel_


def _pca_basis(X, k):
    """Orthonormal basis (columns) of the top ``k`` principal axes of ``X``."""
    return PCA(n_components=k, svd_solver="full").fit(X).components_.T
