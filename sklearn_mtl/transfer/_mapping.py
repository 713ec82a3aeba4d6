"""Mapping: source rows moved onto the target distribution (optimal transport).

Transformers shaped like :class:`CORAL`: ``fit`` on source and target rows
(``task_ids``, ``target``), ``transform`` moves source rows and leaves target
rows unchanged.
"""

import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.metrics.pairwise import euclidean_distances
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import validate_data

from ._transformers import _DomainTransformer, _matrix_power

__all__ = ["LinearOTMapping", "EntropicOTMapping", "ClassRegularizedOTMapping"]


def _two_domains(transformer, X, task_ids):
    """Validated ``X`` and its target rows, at least 2 rows in each domain.

    For transformers that override ``fit`` (the base class's ``fit`` does
    this itself).
    """
    X = validate_data(transformer, X)
    target = transformer._fit_target_mask(X, task_ids)
    name = type(transformer).__name__
    for kind, rows in [("target", target), ("source", ~target)]:
        if rows.sum() < 2:
            raise ValueError(f"{name} needs at least 2 {kind} rows, got {rows.sum()}.")
    return X, target


class LinearOTMapping(_DomainTransformer):
    """The optimal-transport map between two Gaussians (linear, closed form).

    Source rows ``x -> mu_t + (x - mu_s) A`` with
    ``A = C_s^{-1/2} (C_s^{1/2} C_t C_s^{1/2})^{1/2} C_s^{-1/2}``, the
    Monge map for the squared distance between ``N(mu_s, C_s)`` and
    ``N(mu_t, C_t)`` (Knott & Smith, 1984), where
    ``C = cov + regularization * I``. ``A`` is symmetric positive
    semi-definite, so unlike :class:`CORAL` it moves each row as little as
    the target covariance allows. Target rows pass unchanged. With
    ``regularization=0`` the mapped sources have exactly the target mean and
    covariance.

    Parameters
    ----------
    target : object
        Task label of the target rows; must be one of the labels given to
        ``fit``.
    regularization : float, default=1.0
        Added to both covariances' diagonals (keeps the square roots defined
        with fewer rows than features; 1 suits standardized features).

    Attributes
    ----------
    transform_ : ndarray of shape (n_features, n_features)
        The symmetric matrix ``A``.
    source_mean_, target_mean_ : ndarray of shape (n_features,)
    tasks_ : ndarray
        Task labels seen in ``fit`` (``transform`` accepts only these).
    target_ : object
        The target task label.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_mtl.transfer import LinearOTMapping
    >>> rng = np.random.RandomState(0)
    >>> X = np.vstack([rng.normal(size=(50, 2)), 1 + 3 * rng.normal(size=(50, 2))])
    >>> domains = np.repeat(["source", "target"], 50)
    >>> ot = LinearOTMapping(target="target", regularization=0.0)
    >>> mapped = ot.fit(X, task_ids=domains).transform(X[:50], task_ids=domains[:50])
    >>> np.allclose(np.cov(mapped.T), np.cov(X[50:].T))
    True
    >>> np.allclose(mapped.mean(axis=0), X[50:].mean(axis=0))
    True
    """

    _parameter_constraints = {
        "target": "no_validation",
        "regularization": [Interval(Real, 0, None, closed="left")],
    }

    def __init__(self, target=None, regularization=1.0):
        self.target = target
        self.regularization = regularization

    def _fit_domains(self, X, is_target, source_labels):
        d = X.shape[1]
        self.source_mean_ = X[~is_target].mean(axis=0)
        self.target_mean_ = X[is_target].mean(axis=0)
        eye = self.regularization * np.eye(d)
        source_cov = np.cov(X[~is_target].T, ddof=1).reshape(d, -1) + eye
        target_cov = np.cov(X[is_target].T, ddof=1).reshape(d, -1) + eye
        root = _matrix_power(source_cov, 0.5)
        inverse_root = _matrix_power(source_cov, -0.5)
        middle = _matrix_power(root @ target_cov @ root, 0.5)
        A = inverse_root @ middle @ inverse_root
        self.transform_ = (A + A.T) / 2  # symmetric up to rounding

    def _transform_domains(self, X, is_target):
        # Source rows mapped; target rows unchanged.
        source = ~is_target
        out = X.copy()
        out[source] = (X[source] - self.source_mean_) @ self.transform_
        out[source] += self.target_mean_
        return out


class _BarycentricOT(_DomainTransformer):
    """Source rows moved by a fitted coupling's barycentric map.

    Subclasses set ``coupling_``, ``source_`` and ``displacement_`` in fit.
    """

    def _transform_domains(self, X, is_target):
        # Source rows moved by the barycentric map; target rows unchanged.
        source = ~is_target
        out = X.copy()
        if source.any():
            nearest = euclidean_distances(X[source], self.source_).argmin(axis=1)
            out[source] += self.displacement_[nearest]
        return out


def _import_ot():
    try:
        import ot
    except ImportError as error:  # pragma: no cover - depends on the install
        raise ImportError(
            "The optimal-transport methods need POT (Python Optimal Transport): "
            "pip install 'sklearn_mtl[ot]' (or pip install pot)."
        ) from error
    return ot


class EntropicOTMapping(_BarycentricOT):
    """Entropic optimal transport, source rows moved by the barycentric map.

    Solves ``min_G <G, M> - reg * H(G)`` over couplings of the uniform
    distributions on the source and target rows, ``M`` the squared Euclidean
    costs, with POT's log-domain Sinkhorn (``method="sinkhorn_log"``: no
    underflow, hence no NaN, however small ``reg``). Each fitted source row
    moves to the barycentre of the target rows it sends mass to,
    ``x_i -> sum_j G_ij x_j / sum_j G_ij``. Other source rows given to
    ``transform`` move by the displacement of their nearest fitted source row.
    Target rows pass unchanged. Needs POT (``pip install 'sklearn_mtl[ot]'``).

    Parameters
    ----------
    target : object
        Task label of the target rows; must be one of the labels given to
        ``fit``.
    reg : float, default=0.1
        Entropic regularization *relative to the median cost*: the solver's
        regularization is ``reg * median(M)``, so the default suits features
        at any scale. Smaller values approach the exact transport plan.
    max_iter : int, default=1000
        Sinkhorn iterations at most.
    tol : float, default=1e-9
        Sinkhorn stopping threshold on the marginals.

    Attributes
    ----------
    reg_ : float
        The regularization given to the solver (``reg * median(M)``).
    coupling_ : ndarray of shape (n_source, n_target)
        The transport plan ``G``.
    source_ : ndarray of shape (n_source, n_features)
        The fitted source rows.
    displacement_ : ndarray of shape (n_source, n_features)
        Barycentric image minus the row, for each fitted source row.
    tasks_ : ndarray
        Task labels seen in ``fit`` (``transform`` accepts only these).
    target_ : object
        The target task label.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_mtl.transfer import EntropicOTMapping
    >>> rng = np.random.RandomState(0)
    >>> X = np.vstack([rng.normal(size=(30, 2)), 5 + rng.normal(size=(30, 2))])
    >>> domains = np.repeat(["source", "target"], 30)
    >>> mapping = EntropicOTMapping(target="target").fit(X, task_ids=domains)
    >>> mapped = mapping.transform(X[:30], task_ids=domains[:30])
    >>> bool(np.abs(mapped.mean(axis=0) - X[30:].mean(axis=0)).max() < 0.1)
    True
    """

    _parameter_constraints = {
        "target": "no_validation",
        "reg": [Interval(Real, 0, None, closed="neither")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
    }

    def __init__(self, target=None, reg=0.1, max_iter=1000, tol=1e-9):
        self.target = target
        self.reg = reg
        self.max_iter = max_iter
        self.tol = tol

    def _fit_domains(self, X, is_target, source_labels):
        ot = _import_ot()
        X_source, X_target = X[~is_target], X[is_target]
        cost = euclidean_distances(X_source, X_target, squared=True)
        median = np.median(cost)
        # Identical domains (all costs 0): any positive scale gives the same plan.
        self.reg_ = float(self.reg * (median if median > 0 else 1.0))
        a = np.full(len(X_source), 1.0 / len(X_source))
        b = np.full(len(X_target), 1.0 / len(X_target))
        coupling = ot.sinkhorn(
            a,
            b,
            cost,
            self.reg_,
            method="sinkhorn_log",
            numItermax=self.max_iter,
            stopThr=self.tol,
        )
        mass = coupling.sum(axis=1, keepdims=True)
        if not np.all(np.isfinite(coupling)) or np.any(mass <= 0):
            raise ValueError(
                "EntropicOTMapping: the Sinkhorn solver returned an unusable plan "
                f"(reg_={self.reg_:.3g}); increase reg."
            )
        self.coupling_ = coupling
        self.source_ = X_source
        self.displacement_ = coupling @ X_target / mass - X_source


class ClassRegularizedOTMapping(_BarycentricOT):
    """Class-regularized entropic optimal transport (Courty et al., 2017).

    Entropic transport of the source rows onto the target rows, plus a group
    penalty over the source classes that makes each target row receive mass
    from source rows of one class only: ``min_G <G, M> - reg * H(G) +
    reg_class * Omega(G)``, with ``Omega`` the ``l_p``-``l_1`` penalty
    (``p = 1/2``), solved by majoration-minimization in POT's
    :class:`ot.da.SinkhornLpl1Transport`. (POT's group-lasso variant,
    ``SinkhornL1l2Transport``, left the plan's class mixing unchanged on the
    tests' two-class shift, so it is not offered.) The costs ``M`` (squared
    Euclidean) are divided by their median, so ``reg`` suits features at any
    scale. Each fitted source row moves to the
    barycentre of the target rows it sends mass to; other source rows given
    to ``transform`` move by the displacement of their nearest fitted source
    row; target rows pass unchanged. Needs the source labels ``y`` in ``fit``
    (the target rows' labels are ignored: NaN or None allowed) and POT.

    Parameters
    ----------
    target : object
        Task label of the target rows; must be one of the labels given to
        ``fit``.
    reg : float > 0, default=1.0
        Entropic regularization, relative to the median cost.
    reg_class : float >= 0, default=1.0
        Weight of the class penalty (0: plain entropic transport).
    max_iter : int, default=10
        Majoration-minimization iterations.
    max_inner_iter : int, default=200
        Sinkhorn iterations in each outer iteration.

    Attributes
    ----------
    reg_ : float
        The entropic regularization that gave a finite plan, relative to the
        median cost (``reg``, doubled until the plan is finite; a warning
        says when it had to be).
    coupling_ : ndarray of shape (n_source, n_target)
        The transport plan ``G``.
    classes_ : ndarray
        The source classes.
    source_ : ndarray of shape (n_source, n_features)
        The fitted source rows.
    displacement_ : ndarray of shape (n_source, n_features)
        Barycentric image minus the row, for each fitted source row.
    tasks_ : ndarray
        Task labels seen in ``fit`` (``transform`` accepts only these).
    target_ : object
        The target task label.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_mtl.transfer import ClassRegularizedOTMapping
    >>> rng = np.random.RandomState(0)
    >>> y_source = np.repeat([0, 1], 20)
    >>> X_source = rng.normal(size=(40, 2)) + [[4, 0]] * y_source[:, None]
    >>> X = np.vstack([X_source, X_source + [0.0, 3.0]])
    >>> y = np.r_[y_source, np.full(40, np.nan)]  # target rows unlabelled
    >>> domains = np.repeat(["source", "target"], 40)
    >>> mapping = ClassRegularizedOTMapping(target="target")
    >>> mapping = mapping.fit(X, y, task_ids=domains)
    >>> moved = mapping.transform(X[:40], task_ids=domains[:40])
    >>> bool(abs(moved[:, 1].mean() - 3.0) < 0.5)
    True
    """

    _parameter_constraints = {
        "target": "no_validation",
        "reg": [Interval(Real, 0, None, closed="neither")],
        "reg_class": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "max_inner_iter": [Interval(Integral, 1, None, closed="left")],
    }
    _reads_source_classes = True

    def __init__(
        self,
        target=None,
        reg=1.0,
        reg_class=1.0,
        max_iter=10,
        max_inner_iter=200,
    ):
        self.target = target
        self.reg = reg
        self.reg_class = reg_class
        self.max_iter = max_iter
        self.max_inner_iter = max_inner_iter

    def _fit_domains(self, X, is_target, labels):
        ot = _import_ot()
        X_source, X_target = X[~is_target], X[is_target]
        solver = ot.da.SinkhornLpl1Transport
        reg = float(self.reg)
        for _ in range(20):
            with warnings.catch_warnings():
                # POT warns on numerical errors; the plan is checked below.
                warnings.simplefilter("ignore")
                transport = solver(
                    reg_e=reg,
                    reg_cl=self.reg_class,
                    max_iter=self.max_iter,
                    max_inner_iter=self.max_inner_iter,
                    norm="median",
                ).fit(Xs=X_source, ys=labels, Xt=X_target)
            coupling = transport.coupling_
            mass = coupling.sum(axis=1, keepdims=True)
            if np.all(np.isfinite(coupling)) and np.all(mass > 0):
                break
            reg *= 2.0  # the Sinkhorn kernel underflowed: a smoother plan
        else:  # pragma: no cover - 2^20 x the median cost always converges
            raise ValueError(
                f"{type(self).__name__}: no finite transport plan; increase reg."
            )
        if reg != self.reg:
            warnings.warn(
                f"{type(self).__name__}: reg={self.reg} gave a non-finite "
                f"transport plan; used reg={reg:g}.",
                UserWarning,
                stacklevel=4,  # the caller of fit
            )
        self.reg_ = reg
        self.coupling_ = coupling
        self.source_ = X_source
        self.displacement_ = coupling @ X_target / mass - X_source
