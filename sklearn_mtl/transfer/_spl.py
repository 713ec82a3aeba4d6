"""Selective pseudo-labelling with structured prediction (SPL; Wang & Breckon,
AAAI 2020).

A supervised locality preserving projection learned from the labelled rows
and the target rows pseudo-labelled so far; target pseudo-labels from the
nearer of the source class means and of target k-means clusters seeded at
them; each round keeps a growing share of the most confident ones per class.
"""

from numbers import Integral, Real

import numpy as np
import scipy.linalg
from scipy.special import softmax
from sklearn.base import BaseEstimator, _fit_context
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from sklearn.metrics.pairwise import euclidean_distances
from sklearn.preprocessing import normalize
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted, validate_data

from .._base import MultiTaskClassifierMixin
from ._domains import split_source_target
from ._estimator_helpers import TargetClassifierScoreMixin

__all__ = [
    "SPLClassifier",
    "lpp_projection",
    "structured_probabilities",
    "select_confident",
]


def lpp_projection(Z, labels, n_classes, ridge, n_dims):
    """Supervised locality preserving projection (the authors' ``LPP.m``).

    The graph joins every two rows with the same label (``labels == -1``:
    no edge), self-loops included: ``W = Y Y^T`` for one-hot ``Y``,
    ``D = diag(W 1)``, ``L = D - W``. The ``n_dims`` columns ``P`` maximize
    ``tr(P^T Z^T D Z P)`` subject to ``P^T (Z^T L Z + ridge I) P = I``: the
    generalized eigenvectors of largest eigenvalue. ``W`` has rank
    ``n_classes``, so ``Z^T W Z = (Z^T Y)(Z^T Y)^T`` and no n x n matrix is
    formed.

    Returns
    -------
    P : ndarray of shape (n_features, n_dims)
    eigenvalues : ndarray of shape (n_dims,), increasing
    """
    Y = np.zeros((len(Z), n_classes))
    known = labels >= 0
    Y[np.flatnonzero(known), labels[known]] = 1.0
    degree = Y @ Y.sum(axis=0)  # rows sharing the label, the row itself included
    ZY = Z.T @ Y
    spread = (Z * degree[:, None]).T @ Z
    smooth = spread - ZY @ ZY.T + ridge * np.eye(Z.shape[1])
    m = Z.shape[1]
    values, P = scipy.linalg.eigh(
        (spread + spread.T) / 2,
        (smooth + smooth.T) / 2,
        subset_by_index=[m - n_dims, m - 1],
    )
    return P, values


def structured_probabilities(Z_target, class_means, cluster_centers):
    """``max(softmax(-d(z, class means)), softmax(-d(z, cluster centres)))``.

    ``d`` is the Euclidean distance (not squared), as the authors' code;
    cluster ``c`` is the one seeded at class ``c``'s mean. Without cluster
    centres (None), the class-mean term alone.
    """
    proba = softmax(-euclidean_distances(Z_target, class_means), axis=1)
    if cluster_centers is not None:
        clusters = softmax(-euclidean_distances(Z_target, cluster_centers), axis=1)
        proba = np.maximum(proba, clusters)
    return proba


def select_confident(predicted, confidence, share_left_out, n_classes):
    """The authors' per-class selection: among the rows predicted ``c``
    (``n_c`` of them), keep those whose confidence is strictly above the
    ``floor(n_c * share_left_out) + 1``-th smallest."""
    keep = np.zeros(len(predicted), dtype=bool)
    for c in range(n_classes):  # a loop over classes, never rows
        members = predicted == c
        if members.any():
            ranked = np.sort(confidence[members])
            threshold = ranked[int(np.floor(members.sum() * share_left_out))]
            keep |= members & (confidence > threshold)
    return keep


class SPLClassifier(
    TargetClassifierScoreMixin, MultiTaskClassifierMixin, BaseEstimator
):
    """Selective pseudo-labelling with structured prediction (Wang & Breckon,
    AAAI 2020).

    1. Every row is scaled to unit norm, projected on the top
       ``n_components`` principal axes of all rows (sources and target;
       applied to the uncentred rows, as the authors' code) and scaled to
       unit norm again: ``z``.
    2. Each round ``t = 1 .. n_iter``:

       - a supervised locality preserving projection ``P``
         (:func:`lpp_projection`): rows with the same label, or pseudo-label,
         are neighbours; ``P`` maximizes ``tr(P^T Z^T D Z P)`` subject to
         ``P^T (Z^T L Z + ridge I) P = I`` (``L = D - W`` the graph
         Laplacian), a generalized eigenproblem;
       - the projected rows are centred (mean of all rows) and scaled to unit
         norm; ``m_c`` is the unit-norm mean of class ``c``'s labelled rows
         and ``k_c`` the unit-norm centre of the target cluster found by
         k-means seeded at ``m_c``;
       - every target row gets ``p(c | x) = max(softmax_c(-||z - m_c||),
         softmax_c(-||z - k_c||))`` (:func:`structured_probabilities`) and
         the class of largest ``p``;
       - per class, the unlabelled target rows whose ``p`` is above the
         ``floor(n_c s) + 1``-th smallest among the ``n_c`` rows predicted
         ``c`` are pseudo-labelled for the next round, with ``s = max(1 -
         t / (n_iter - 1), 0)`` (:func:`select_confident`): 10 % of them in
         round 1, all but the least confident from round ``n_iter - 1``.

    Labelled target rows (semi-supervised) keep their labels in every round,
    join the class means and are never pseudo-labelled; an unlabelled row's
    label is never read. Predictions use the last round's ``P``, means and
    centres.

    The defaults are the authors' Office-Caltech10 settings
    (``unsupervised_DA_SP_office10.m``): principal axes and projection
    dimension 128, ``T = 11``, ``alpha = 1`` (``LPP.m``). Memory is
    O(n * n_components), time one eigenproblem of size ``n_components`` and
    one k-means per round (no n x n matrix).

    Parameters
    ----------
    target : object
        Task label of the target rows; every other task is a source.
    n_components : int, default=128
        Principal axes kept; at most the number of rows and of features.
    projection_dim : int, default=None
        Columns of the projection ``P``; None: ``n_components_`` (the
        authors' ``d = 128``), at most ``n_components_``.
    ridge : float > 0, default=1.0
        ``alpha`` added to the Laplacian scatter (keeps the eigenproblem
        definite).
    n_iter : int, default=11
        ``T``: rounds.

    Attributes
    ----------
    classes_ : ndarray
        Class labels (of the source and labelled target rows).
    n_components_ : int
        Principal axes used.
    components_ : ndarray of shape (`n_components_`, n_features)
        The principal axes.
    projection_ : ndarray of shape (`n_components_`, projection dim)
        ``P`` of the last round.
    projection_mean_ : ndarray of shape (projection dim,)
        Mean projected row (sources and target) of the last round.
    class_means_ : ndarray of shape (n_classes, projection dim)
        Unit-norm class means of the last round.
    cluster_centers_ : ndarray of shape (n_classes, projection dim) or None
        Unit-norm target cluster centres of the last round (None with fewer
        target rows than classes: the class means alone then).
    pseudo_labels_ : ndarray of shape (n_target,)
        Last round's predictions for every target row.
    selected_ : ndarray of shape (n_target,), dtype=bool
        Unlabelled target rows pseudo-labelled for the last round's
        projection.
    n_iter_ : int
        Rounds run (fewer than ``n_iter`` once every row is selected).
    tasks_ : ndarray
        Task labels seen in ``fit``.
    target_ : object
        The target task label.

    References
    ----------
    Q. Wang and T. P. Breckon. Unsupervised domain adaptation via structured
    prediction based selective pseudo-labeling. AAAI 2020.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_mtl.transfer._spl import SPLClassifier
    >>> rng = np.random.RandomState(0)
    >>> y_source = np.repeat([0, 1, 2], 30)
    >>> centres = 3 * np.eye(3)
    >>> X_source = centres[y_source] + rng.normal(size=(90, 3))
    >>> X_target = centres[y_source] + rng.normal(size=(90, 3)) + [1.5, 1.5, 0]
    >>> X = np.vstack([X_source, X_target])
    >>> y = np.r_[y_source, np.full(90, np.nan)]  # target rows unlabelled
    >>> domains = np.repeat(["source", "target"], 90)
    >>> model = SPLClassifier(target="target").fit(X, y, task_ids=domains)
    >>> float(model.score(X_target, y_source))
    0.911...
    """

    __metadata_request__fit = {"task_ids": True}
    _parameter_constraints = {
        "target": "no_validation",
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "projection_dim": [None, Interval(Integral, 1, None, closed="left")],
        "ridge": [Interval(Real, 0, None, closed="neither")],
        "n_iter": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(
        self, target=None, n_components=128, projection_dim=None, ridge=1.0, n_iter=11
    ):
        self.target = target
        self.n_components = n_components
        self.projection_dim = projection_dim
        self.ridge = ridge
        self.n_iter = n_iter

    def _embed(self, X):
        """Unit rows on the principal axes (uncentred, as the authors)."""
        return normalize(normalize(X) @ self.components_.T)

    def _project(self, Z, P, mean):
        return normalize(Z @ P - mean)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, task_ids=None):
        """Fit the principal axes, then alternate projection and pseudo-labels.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Source and target rows.
        y : array-like of shape (n_samples,)
            Class labels; a target row's label may be missing (NaN, or None
            in an object array): that row is unlabelled and its label is
            never read. Labelled target rows join the labelled rows.
        task_ids : array-like of shape (n_samples,)
            Task of each row; rows of ``target`` are the target domain.

        Returns
        -------
        self : object
        """
        _, split = split_source_target(
            self, X, y, task_ids, None, classifier=True, allow_unlabelled=True
        )
        name = type(self).__name__
        n_source, n_target = len(split.X_source), len(split.X_target_all)
        if n_source < 2:
            raise ValueError(
                f"{name} needs at least 2 source rows, got {n_source}: pass the "
                "sources with task_ids and target=<the target task>."
            )
        self.target_ = self.tasks_[split.target_position]
        y_labelled = np.concatenate([split.y_source, split.y_target])
        if y_labelled.dtype.kind == "O":
            y_labelled = np.asarray(y_labelled.tolist())
        self.classes_, codes = np.unique(y_labelled, return_inverse=True)
        n_classes = len(self.classes_)
        if n_classes < 2:
            raise ValueError(
                f"{name}: the labelled rows have {n_classes} class(es); at "
                "least 2 are needed."
            )
        n = n_source + n_target
        fixed = np.full(n, -1)  # labels that never change: -1 unlabelled
        fixed[:n_source] = codes[:n_source]
        fixed[n_source + split.target_labelled_index] = codes[n_source:]
        unlabelled = np.flatnonzero(fixed[n_source:] < 0)  # among target rows

        X_all = np.vstack([split.X_source, split.X_target_all])
        self.n_components_ = min(self.n_components, *X_all.shape)
        pca = PCA(n_components=self.n_components_, svd_solver="full")
        self.components_ = pca.fit(normalize(X_all)).components_
        Z = self._embed(X_all)
        n_dims = min(self.projection_dim or self.n_components_, self.n_components_)
        labelled = fixed >= 0
        labels = fixed.copy()
        selected = np.zeros(n_target, dtype=bool)
        for round_ in range(1, self.n_iter + 1):
            P, _ = lpp_projection(Z, labels, n_classes, self.ridge, n_dims)
            mean = (Z @ P).mean(axis=0)
            projected = self._project(Z, P, mean)
            means = normalize(
                np.eye(n_classes)[fixed[labelled]].T @ projected[labelled]
            )
            centres = None
            if n_target >= n_classes:
                # Target clusters seeded at the class means: cluster c is c's.
                kmeans = KMeans(n_classes, init=means, n_init=1, max_iter=100, tol=0)
                centres = normalize(kmeans.fit(projected[n_source:]).cluster_centers_)
            proba = structured_probabilities(projected[n_source:], means, centres)
            predicted = np.argmax(proba, axis=1)
            if round_ == self.n_iter:
                break
            share_left_out = max(1.0 - round_ / (self.n_iter - 1), 0.0)
            selected = np.zeros(n_target, dtype=bool)
            selected[unlabelled] = select_confident(
                predicted[unlabelled],
                proba[unlabelled].max(axis=1),
                share_left_out,
                n_classes,
            )
            labels = fixed.copy()
            labels[n_source:][selected] = predicted[selected]
            if selected[unlabelled].all():
                break  # every row pseudo-labelled: the authors stop here
        self.projection_, self.projection_mean_ = P, mean
        self.class_means_, self.cluster_centers_ = means, centres
        self.pseudo_labels_ = self.classes_[predicted]
        self.selected_ = selected
        self.n_iter_ = round_
        return self

    def predict_proba(self, X, task_ids=None):
        """``p(c | x)`` of the last round, normalized per row.

        The maximum of the two softmaxes (class means, cluster centres) is
        scaled to sum to 1; its argmax is ``predict``'s. Not calibrated.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows (of the target domain; every row is mapped alike).
        task_ids : ignored
            Accepted for the package's convention; predictions serve the
            target.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False)
        projected = self._project(
            self._embed(X), self.projection_, self.projection_mean_
        )
        proba = structured_probabilities(
            projected, self.class_means_, self.cluster_centers_
        )
        return proba / proba.sum(axis=1, keepdims=True)

    def predict(self, X, task_ids=None):
        """The class of largest ``p(c | x)``.

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
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]
