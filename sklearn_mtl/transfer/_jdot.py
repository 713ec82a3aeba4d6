"""Joint distribution optimal transport (JDOT; Courty et al., 2017).

A model of the target is fitted on the target rows with labels carried over
from the sources by an optimal-transport plan whose cost joins the features
and the model's own loss; plan and model alternate.
"""

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context, clone
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics.pairwise import euclidean_distances
from sklearn.utils._param_validation import HasMethods, Interval, validate_params
from sklearn.utils.validation import (
    check_array,
    check_is_fitted,
    has_fit_parameter,
    validate_data,
)

from .._base import MultiTaskClassifierMixin, MultiTaskRegressorMixin
from ._domains import encode_source_classes, split_source_target
from ._estimator_helpers import TargetClassifierScoreMixin, TargetRegressorScoreMixin
from ._mapping import _import_ot
from ._reweight import _check_domains

__all__ = ["JDOTClassifier", "JDOTRegressor", "fit_jdot"]


def _class_codes(y_source):
    """``y_source`` as integer class codes ``0..C-1`` (every code present), or
    an error naming it: the codes index the probability columns."""
    codes = np.unique(y_source)
    numeric = y_source.dtype.kind in "iufb"
    if not numeric or not np.array_equal(codes, np.arange(len(codes))):
        raise ValueError(
            "fit_jdot(classification=True) needs y_source encoded as class codes "
            f"0..C-1 with every code present, got classes {codes.tolist()[:8]}; "
            "encode them with np.unique(y_source, return_inverse=True)."
        )
    return y_source.astype(np.intp)


def _label_cost(model, X_target, y_source, classes):
    """``L(y_i, f(x_j))`` for every source label ``i`` and target row ``j``.

    Regression: ``(y_i - f(x_j))^2``. Classification (``classes`` given,
    ``y_source`` encoded ``0..C-1``): ``||onehot(y_i) - p(x_j)||^2`` with
    ``p`` the predicted probabilities (a one-hot prediction without
    ``predict_proba``), bounded by 2.
    """
    if classes is None:
        return (y_source[:, None] - model.predict(X_target)[None, :]) ** 2
    if hasattr(model, "predict_proba"):
        proba = np.zeros((len(X_target), len(classes)))
        proba[:, model.classes_] = model.predict_proba(X_target)
    else:
        proba = np.eye(len(classes))[np.asarray(model.predict(X_target))]
    # ||e_y - p||^2 = 1 - 2 p_y + ||p||^2
    return 1.0 - 2.0 * proba[:, y_source].T + np.sum(proba**2, axis=1)[None, :]


def _fit_on_plan(estimator, X_target, y_source, plan, classes):
    """Refit on target rows labelled through the plan.

    With ``sample_weight``: one row ``(x_j, y_i)`` per non-zero ``G_ij``,
    weighted ``n_t G_ij`` (an exact plan has at most ``n_s + n_t - 1``),
    i.e. ``sum_ij G_ij L(y_i, f(x_j))`` for any loss. Without: each target
    row takes the plan's mean label (regression; exact for the squared loss)
    or the class receiving most mass (classification).
    """
    n_target = plan.shape[1]
    if has_fit_parameter(estimator, "sample_weight"):
        i, j = np.nonzero(plan > plan.max() * 1e-10)
        return clone(estimator).fit(
            X_target[j], y_source[i], sample_weight=n_target * plan[i, j]
        )
    mass = plan.sum(axis=0)
    if classes is None:
        return clone(estimator).fit(X_target, plan.T @ y_source / mass)
    votes = plan.T @ np.eye(len(classes))[y_source]
    return clone(estimator).fit(X_target, votes.argmax(axis=1))


@validate_params(
    {
        "estimator": [HasMethods(["fit", "predict"])],
        "X_source": ["array-like"],
        "y_source": ["array-like"],
        "X_target": ["array-like"],
        "classification": ["boolean"],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "n_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
    },
    prefer_skip_nested_validation=False,
)
def fit_jdot(
    estimator,
    X_source,
    y_source,
    X_target,
    *,
    classification,
    alpha=1.0,
    n_iter=10,
    tol=1e-6,
):
    """JDOT's alternating minimization; returns the model and the last plan.

    Minimizes ``sum_ij G_ij (d(x_i, x_j) / m + alpha L(y_i, f(x_j)) / v)``
    over couplings ``G`` of the uniform source and target distributions
    (POT's exact ``ot.emd``) and over the model ``f``, alternately, starting
    from ``f`` fitted on the sources. ``d`` is the squared Euclidean distance,
    ``m`` its median (so ``alpha`` is free of the features' scale) and ``v``
    the variance of ``y_source`` for regression (1 for classification, whose
    loss is the squared distance between one-hot label and probabilities).
    Stops after ``n_iter`` plan updates or when the objective changes by less
    than ``tol`` (relative).

    ``classification=True`` expects ``y_source`` encoded ``0..C-1``.

    Parameters
    ----------
    estimator : estimator object
        The model ``f``, cloned and refitted on transported labels; it must
        take ``sample_weight`` in ``fit`` (and have ``predict_proba`` when
        ``classification=True``).
    X_source : ndarray of shape (n_source, n_features)
        Source rows.
    y_source : ndarray of shape (n_source,)
        Source labels (class codes ``0..C-1`` when ``classification=True``).
    X_target : ndarray of shape (n_target, n_features)
        Target rows (no labels).
    classification : bool
        Whether the loss is the classification one (squared distance between
        one-hot labels and probabilities) or the squared error.
    alpha : float, default=1.0
        Weight of the label loss against the feature distance in the cost.
    n_iter : int, default=10
        Largest number of plan updates.
    tol : float, default=1e-6
        Relative change of the objective below which the alternation stops.

    Returns
    -------
    model : fitted estimator
    plan : ndarray of shape (n_source, n_target)
    n_iter : int
        Plan updates made.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import Ridge
    >>> from sklearn_mtl.transfer import fit_jdot
    >>> rng = np.random.default_rng(0)
    >>> X_source = rng.normal(size=(40, 2))
    >>> y_source = X_source @ [1.0, -1.0]
    >>> X_target = X_source[:30] + 1.0  # the target domain, shifted
    >>> model, plan, n_iter = fit_jdot(
    ...     Ridge(), X_source, y_source, X_target, classification=False
    ... )
    >>> plan.shape, bool(np.isclose(plan.sum(), 1.0))
    ((40, 30), True)
    """
    ot = _import_ot()
    X_source, X_target = _check_domains(X_source, X_target, "JDOT")
    y_source = check_array(
        y_source,
        ensure_2d=False,
        dtype="numeric" if not classification else None,
        input_name="y_source",
    )
    if y_source.ndim != 1 or len(y_source) != len(X_source):
        raise ValueError(
            f"y_source must hold one label per row of X_source ({len(X_source)}), "
            f"got shape {y_source.shape}."
        )
    if classification:
        y_source = _class_codes(y_source)
    n_source, n_target = len(X_source), len(X_target)
    classes = np.unique(y_source) if classification else None
    feature_cost = euclidean_distances(X_source, X_target, squared=True)
    median = np.median(feature_cost)
    feature_cost = feature_cost / (median if median > 0 else 1.0)
    scale = 1.0 if classification else float(np.var(y_source))
    scale = scale if scale > 0 else 1.0
    a = np.full(n_source, 1.0 / n_source)
    b = np.full(n_target, 1.0 / n_target)
    model = clone(estimator).fit(X_source, y_source)
    previous = np.inf
    plan = None
    done = 0
    while done < n_iter:
        done += 1
        cost = (
            feature_cost
            + alpha * _label_cost(model, X_target, y_source, classes) / scale
        )
        plan = ot.emd(a, b, cost)
        objective = float(np.sum(plan * cost))
        model = _fit_on_plan(estimator, X_target, y_source, plan, classes)
        if abs(previous - objective) <= tol * max(abs(objective), 1e-12):
            break
        previous = objective
    return model, plan, done


class _JDOT(BaseEstimator):
    __metadata_request__fit = {"task_ids": True}
    _parameter_constraints = {
        "estimator": [None, HasMethods(["fit", "predict"])],
        "target": "no_validation",
        "alpha": [Interval(Real, 0, None, closed="left")],
        "n_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
    }

    def __init__(self, estimator=None, target=None, alpha=1.0, n_iter=10, tol=1e-6):
        self.estimator = estimator
        self.target = target
        self.alpha = alpha
        self.n_iter = n_iter
        self.tol = tol

    def _split(self, X, y, task_ids):
        """Source rows and every target row, by the domain convention.

        :func:`split_source_target`, as ``Transfer*`` and ``DANN*``: a
        missing target label (NaN, or None in an object ``y``) marks an
        unlabelled target row, a missing source label raises naming its task.
        JDOT reads no target label, labelled or not.
        """
        _, split = split_source_target(
            self,
            X,
            y,
            task_ids,
            None,
            classifier=isinstance(self, ClassifierMixin),
            allow_unlabelled=True,
        )
        n_source = len(split.X_source)
        if n_source < 2:
            raise ValueError(
                f"{type(self).__name__} transports the source labels and needs "
                f"at least 2 source rows, got {n_source}: pass the sources with "
                "task_ids and target=<the target task>."
            )
        self.target_ = self.tasks_[split.target_position]
        return split

    def predict(self, X, task_ids=None):
        """Predict target rows with the model fitted on transported labels.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows (of the target domain).
        task_ids : ignored
            Accepted for the package's convention; predictions serve the
            target.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False)
        prediction = np.asarray(self.estimator_.predict(X))
        return self.classes_[prediction] if hasattr(self, "classes_") else prediction


_JDOT_DOC = """Joint distribution optimal transport (Courty et al., 2017), {kind}.

    Fits ``estimator`` on the *target* rows, with labels carried over from
    the source rows by an exact optimal-transport plan (POT's ``ot.emd``)
    whose cost joins the features and the model's own loss:
    ``G_ij`` minimizes ``sum_ij G_ij (||x_i - x_j||^2 / m + alpha
    L(y_i, f(x_j)) / v)`` and ``f`` minimizes ``sum_ij G_ij L(y_i, f(x_j))``,
    alternately (:func:`fit_jdot`), starting from ``f`` fitted on the
    sources. ``m`` is the median squared distance (``alpha`` free of the
    features' scale); {loss} The target rows' labels are never read (NaN or
    None allowed): the unsupervised case. Needs POT. With ``sample_weight``,
    ``f`` is refitted on one row per non-zero ``G_ij``; without, on the plan's
    {fallback} of each target row.

    Parameters
    ----------
    estimator : estimator, default=None
        The model ``f``. None: ``{default}``.
    target : object
        Task label of the target rows; must be one of the labels given to
        ``fit``.
    alpha : float >= 0, default=1.0
        Weight of the label loss in the plan's cost (0: the plan matches
        features only).
    n_iter : int, default=10
        Plan updates at most.
    tol : float >= 0, default=1e-6
        Stop when the transport objective changes by less than this
        (relative).

    Attributes
    ----------
    estimator_ : estimator
        ``f``, fitted on the target rows and transported labels.
    coupling_ : ndarray of shape (n_source, n_target)
        The last plan ``G``.
    n_iter_ : int
        Plan updates made.
{extra_attributes}    tasks_ : ndarray
        Task labels seen in ``fit``.
    target_ : object
        The target task label.

    Examples
    --------
{example}
    """


class JDOTRegressor(TargetRegressorScoreMixin, MultiTaskRegressorMixin, _JDOT):
    __doc__ = _JDOT_DOC.format(
        kind="regression",
        loss="``L`` is the squared error and ``v`` the variance of the source targets.",
        fallback="mean label",
        default="Ridge(alpha=1.0)",
        extra_attributes="",
        example="""    >>> import numpy as np
    >>> from sklearn_mtl.transfer import JDOTRegressor
    >>> rng = np.random.RandomState(0)
    >>> X_source = rng.uniform(-1, 1, size=(60, 1))
    >>> X_target = X_source + 0.5  # shifted inputs, same function
    >>> X = np.vstack([X_source, X_target])
    >>> y = np.r_[np.sin(3 * X_source[:, 0]), np.full(60, np.nan)]
    >>> domains = np.repeat(["source", "target"], 60)
    >>> from sklearn.kernel_ridge import KernelRidge
    >>> model = JDOTRegressor(KernelRidge(kernel="rbf", alpha=0.01), target="target")
    >>> model.fit(X, y, task_ids=domains).predict(X_target).shape
    (60,)""",
    )

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, task_ids=None):
        """Alternate the transport plan and the model.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Source and target rows.
        y : array-like of shape (n_samples,)
            Targets of the source rows; the target rows' are ignored (NaN).
        task_ids : array-like of shape (n_samples,)
            Task of each row; rows of ``target`` are the target domain.

        Returns
        -------
        self : object
        """
        split = self._split(X, y, task_ids)
        estimator = Ridge(alpha=1.0) if self.estimator is None else self.estimator
        self.estimator_, self.coupling_, self.n_iter_ = fit_jdot(
            estimator,
            split.X_source,
            split.y_source,
            split.X_target_all,
            classification=False,
            alpha=self.alpha,
            n_iter=self.n_iter,
            tol=self.tol,
        )
        return self


class JDOTClassifier(TargetClassifierScoreMixin, MultiTaskClassifierMixin, _JDOT):
    __doc__ = _JDOT_DOC.format(
        kind="classification",
        loss="``L`` is the squared distance between the one-hot label and the "
        "predicted probabilities (``v = 1``).",
        fallback="class of most mass",
        default="LogisticRegression(C=1.0, max_iter=1000)",
        extra_attributes="    classes_ : ndarray\n        The source classes.\n",
        example="""    >>> import numpy as np
    >>> from sklearn_mtl.transfer import JDOTClassifier
    >>> rng = np.random.RandomState(0)
    >>> y_source = np.repeat([0, 1], 30)
    >>> X_source = rng.normal(size=(60, 2)) + 3 * y_source[:, None]
    >>> X = np.vstack([X_source, X_source + [0.0, 2.0]])
    >>> y = np.r_[y_source, np.full(60, np.nan)]  # target unlabelled
    >>> domains = np.repeat(["source", "target"], 60)
    >>> model = JDOTClassifier(target="target").fit(X, y, task_ids=domains)
    >>> float(model.score(X[60:], y_source))
    1.0""",
    )

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, task_ids=None):
        """Alternate the transport plan and the model.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Source and target rows.
        y : array-like of shape (n_samples,)
            Class labels of the source rows; the target rows' are ignored
            (NaN or None).
        task_ids : array-like of shape (n_samples,)
            Task of each row; rows of ``target`` are the target domain.

        Returns
        -------
        self : object
        """
        split = self._split(X, y, task_ids)
        self.classes_, y_source = encode_source_classes(
            type(self).__name__, split.y_source
        )
        estimator = (
            LogisticRegression(C=1.0, max_iter=1000)
            if self.estimator is None
            else self.estimator
        )
        self.estimator_, self.coupling_, self.n_iter_ = fit_jdot(
            estimator,
            split.X_source,
            y_source,
            split.X_target_all,
            classification=True,
            alpha=self.alpha,
            n_iter=self.n_iter,
            tol=self.tol,
        )
        return self

    def predict_proba(self, X, task_ids=None):
        """Class probabilities of target rows, columns as ``classes_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows (of the target domain).
        task_ids : None
            Ignored: JDOT serves its target task only.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False)
        proba = np.zeros((len(X), len(self.classes_)))
        proba[:, self.estimator_.classes_] = self.estimator_.predict_proba(X)
        return proba
