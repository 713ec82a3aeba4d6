"""``...CV`` variants of the sparse, dirty and robust structured models.

Each is :class:`~._cv.MultiTaskPathCV` in front of the estimator: the path
hook of the estimator (for the two-part models, the one of
:class:`~._two_part._TwoPartMixin`, which also sets the parts on every fitted
copy) makes the warm-started path of every fold and the refit. The ratio of
the two parts' strengths (``specific_ratio``, ``outlier_ratio``) is a fixed
parameter; cross-validation chooses ``alpha``.
"""

from numbers import Integral, Real

import numpy as np
from sklearn.base import _fit_context
from sklearn.metrics import check_scoring, get_scorer_names
from sklearn.utils import indexable
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.parallel import Parallel, delayed

from ._clustered import ClusteredMultiTaskClassifier, ClusteredMultiTaskRegressor
from ._cv import (
    _CV_PARAMS_DOC,
    MultiTaskPathCV,
    _cv_results,
    _params_doc_without,
    _score,
    _subset,
    cv_docstring,
)
from ._dirty import _DIRTY_PARTS, DirtyMultiTaskClassifier, DirtyMultiTaskRegressor
from ._path import _check_alphas, alpha_grid, fit_path, path_problem
from ._robust import (
    _ROBUST_PARTS,
    RobustMultiTaskClassifier,
    RobustMultiTaskRegressor,
)
from ._sparse import SparseMultiTaskClassifier, SparseMultiTaskRegressor
from ._structured import (
    _CLASSIFIER_FITTED,
    _FITTED_DOC,
    _PARAMS_DOC,
    _REGRESSOR_FITTED,
)
from ._two_part import (
    CLASSIFIER_COEF_DOC,
    REGRESSOR_COEF_DOC,
    TWO_PART_FITTED_DOC,
    TWO_PART_PARAMS_DOC,
)

__all__ = [
    "SparseMultiTaskRegressorCV",
    "SparseMultiTaskClassifierCV",
    "DirtyMultiTaskRegressorCV",
    "DirtyMultiTaskClassifierCV",
    "RobustMultiTaskRegressorCV",
    "RobustMultiTaskClassifierCV",
    "ClusteredMultiTaskRegressorCV",
    "ClusteredMultiTaskClassifierCV",
]

# Examples: small data, short paths (the doctests run in the suite). The
# regressors' tasks share two features and task 0 has one of its own, so
# every family has something to find.
_REGRESSOR_DATA = """
    >>> import numpy as np
    >>> from sklearn_mtl.linear import {name}
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(160, 6))
    >>> task_ids = np.repeat([0, 1, 2, 3], 40)
    >>> W = np.zeros((4, 6))
    >>> W[:, :2] = rng.normal(size=(1, 2))  # shared by every task
    >>> W[0, 4] = 2.0  # task 0 only
    >>> y = np.einsum("ij,ij->i", X, W[task_ids]) + 0.3 * rng.normal(size=160)
    >>> model = {name}(alphas=10, cv=3{extra}).fit(X, y, task_ids=task_ids)
    >>> model.scores_path_.shape
    (10, 3)
    >>> bool(0 < model.alpha_ < model.alpha_max_)
    True"""
_CLASSIFIER_DATA = """
    >>> import numpy as np
    >>> from sklearn_mtl.linear import {name}
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(160, 5))
    >>> task_ids = np.repeat(["a", "b", "c", "d"], 40)
    >>> y = (X[:, 0] - X[:, 1] + 0.5 * rng.normal(size=160) > 0).astype(int)
    >>> model = {name}(alphas=5, cv=2{extra}).fit(X, y, task_ids=task_ids)
    >>> model.scores_path_.shape
    (5, 2)
    >>> model.predict(X[:3], task_ids=task_ids[:3]).shape
    (3,)"""

_DIRTY_EXTRA = """
    >>> model.coef_shared_.shape, model.coef_specific_.shape
    ((4, {d}), (4, {d}))"""
_ROBUST_EXTRA = """
    >>> model.coef_low_rank_.shape, model.coef_outlier_.shape
    ((4, {d}), (4, {d}))"""


def _example(name, classifier, parts_check="", extra=""):
    template = _CLASSIFIER_DATA if classifier else _REGRESSOR_DATA
    d = 5 if classifier else 6
    return template.format(name=name, extra=extra) + parts_check.format(d=d) + "\n"


def _sparse_doc(estimator_class, classifier):
    fitted = (_CLASSIFIER_FITTED if classifier else _REGRESSOR_FITTED) + _FITTED_DOC
    name = estimator_class.__name__ + "CV"
    return cv_docstring(
        estimator_class, _PARAMS_DOC, fitted, _example(name, classifier)
    )


def _two_part_doc(estimator_class, classifier, ratio, parts_doc, parts_check):
    params = TWO_PART_PARAMS_DOC.format(ratio=ratio, ratio_default=0.5)
    fitted = (
        (CLASSIFIER_COEF_DOC if classifier else REGRESSOR_COEF_DOC)
        + parts_doc
        + TWO_PART_FITTED_DOC.format(ratio=ratio)
    )
    name = estimator_class.__name__ + "CV"
    # The classifiers' examples bound the solver: a proximal-gradient path of
    # a logistic two-part model is the slowest in the family.
    extra = ", tol=1e-4, max_iter=300" if classifier else ""
    example = _example(name, classifier, parts_check, extra)
    return cv_docstring(estimator_class, params, fitted, example)


class SparseMultiTaskRegressorCV(MultiTaskPathCV, SparseMultiTaskRegressor):
    __doc__ = _sparse_doc(SparseMultiTaskRegressor, classifier=False)


class SparseMultiTaskClassifierCV(MultiTaskPathCV, SparseMultiTaskClassifier):
    __doc__ = _sparse_doc(SparseMultiTaskClassifier, classifier=True)


class DirtyMultiTaskRegressorCV(MultiTaskPathCV, DirtyMultiTaskRegressor):
    __doc__ = _two_part_doc(
        DirtyMultiTaskRegressor, False, "specific_ratio", _DIRTY_PARTS, _DIRTY_EXTRA
    )


class DirtyMultiTaskClassifierCV(MultiTaskPathCV, DirtyMultiTaskClassifier):
    __doc__ = _two_part_doc(
        DirtyMultiTaskClassifier, True, "specific_ratio", _DIRTY_PARTS, _DIRTY_EXTRA
    )


class RobustMultiTaskRegressorCV(MultiTaskPathCV, RobustMultiTaskRegressor):
    __doc__ = _two_part_doc(
        RobustMultiTaskRegressor, False, "outlier_ratio", _ROBUST_PARTS, _ROBUST_EXTRA
    )


class RobustMultiTaskClassifierCV(MultiTaskPathCV, RobustMultiTaskClassifier):
    __doc__ = _two_part_doc(
        RobustMultiTaskClassifier, True, "outlier_ratio", _ROBUST_PARTS, _ROBUST_EXTRA
    )


def _clustered_fold_scores(
    base, X, y, task_ids, sample_weight, train, test, points, alphas, scorer
):
    """Scores (n_points, n_alphas) on ``test`` of the paths fitted on ``train``.

    The loss is built once per fold; each (n_clusters, l2_ratio) point is a
    warm-started path over ``alphas`` started cold at its top.
    """
    problem = path_problem(
        base,
        _subset(X, train),
        _subset(y, train),
        _subset(task_ids, train),
        _subset(sample_weight, train),
    )
    X_test, y_test = _subset(X, test), _subset(y, test)
    tasks_test, weight_test = _subset(task_ids, test), _subset(sample_weight, test)
    scores = np.empty((len(points), len(alphas)))
    for i, (n_clusters, l2_ratio) in enumerate(points):
        problem.configure(n_clusters, l2_ratio)
        models, _ = fit_path(problem, alphas, eps=None, warn=False)
        scores[i] = [
            _score(m, X_test, y_test, tasks_test, weight_test, scorer) for m in models
        ]
    return scores


def _grid(values, name, kind):
    """A 1-D sorted grid of distinct ``kind`` values from an int/float or list."""
    grid = np.atleast_1d(np.asarray(values, dtype=float))
    if grid.ndim != 1 or grid.size == 0 or not np.all(np.isfinite(grid)):
        raise ValueError(f"{name} must be a number or a non-empty 1-D list of them.")
    if kind is int and (np.any(grid < 1) or np.any(grid != np.round(grid))):
        raise ValueError(f"{name} must hold integers >= 1, got {values!r}.")
    if kind is float and np.any(grid <= 0):
        raise ValueError(f"{name} must hold positive values, got {values!r}.")
    return np.unique(grid.astype(int) if kind is int else grid)


class _ClusteredCV:
    """Choose ``alpha``, ``n_clusters`` and ``l2_ratio`` by cross-validation."""

    _parameter_constraints = {
        "alphas": [Interval(Integral, 1, None, closed="left"), "array-like"],
        "eps": [Interval(Real, 0, None, closed="neither")],
        "n_clusters": [Interval(Integral, 1, None, closed="left"), "array-like"],
        "l2_ratio": [Interval(Real, 0, None, closed="neither"), "array-like"],
        "loss_normalization": [StrOptions({"sum", "mean"})],
        "task_column": [None, Integral, str],
        "solver": [StrOptions({"auto", "apg", "lbfgs"})],
        "tol": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
        "cv": ["cv_object"],
        "scoring": [StrOptions(set(get_scorer_names())), callable, None],
        "n_jobs": [Integral, None],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        *,
        alphas=20,
        eps=1e-4,
        n_clusters=(1, 2, 3),
        l2_ratio=0.1,
        loss_normalization="sum",
        task_column=None,
        solver="auto",
        tol=1e-6,
        max_iter=1000,
        random_state=None,
        cv=None,
        scoring=None,
        n_jobs=None,
        verbose=0,
    ):
        self.alphas = alphas
        self.eps = eps
        self.n_clusters = n_clusters
        self.l2_ratio = l2_ratio
        self.loss_normalization = loss_normalization
        self.task_column = task_column
        self.solver = solver
        self.tol = tol
        self.max_iter = max_iter
        self.random_state = random_state
        self.cv = cv
        self.scoring = scoring
        self.n_jobs = n_jobs
        self.verbose = verbose

    # TaskKFold by default, as every ...CV estimator of the package.
    _splits = MultiTaskPathCV._splits

    def _path_problem(self, X, y, task_ids=None, sample_weight=None):
        raise TypeError(
            f"{type(self).__name__} chooses its own strength; compute a path "
            f"with {self._estimator_class.__name__} instead."
        )

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, task_ids=None, sample_weight=None):
        """Choose the strengths and clusters by cross-validation, then refit.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,) or (n_samples, n_tasks)
            Targets; a 2-D ``y`` without ``task_ids`` is one task per column,
            NaN marking a missing label.
        task_ids : array-like of shape (n_samples,), default=None
            Task label (int or str) of each sample; also given to the
            splitter (as ``groups``) and to the scorer.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights, used in every fit and in every test score.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        base = self._estimator_class(
            n_clusters=1,
            loss_normalization=self.loss_normalization,
            task_column=self.task_column,
            solver=self.solver,
            tol=self.tol,
            max_iter=self.max_iter,
            random_state=self.random_state,
        )
        full = path_problem(base, X, y, task_ids, sample_weight)
        X, y, task_ids, sample_weight = indexable(X, y, task_ids, sample_weight)
        if isinstance(self.alphas, Integral):
            alphas = alpha_grid(full.alpha_max, n_alphas=int(self.alphas), eps=self.eps)
        else:
            alphas = _check_alphas(self.alphas)
        # More clusters than tasks is every task its own cluster: k = T.
        clusters = np.unique(
            np.minimum(_grid(self.n_clusters, "n_clusters", int), full.n_tasks)
        )
        ratios = _grid(self.l2_ratio, "l2_ratio", float)
        points = [(int(k), float(r)) for k in clusters for r in ratios]
        scorer = None if self.scoring is None else check_scoring(base, self.scoring)
        splits = self._splits(X, y, task_ids)
        folds = Parallel(n_jobs=self.n_jobs, verbose=self.verbose)(
            delayed(_clustered_fold_scores)(
                base, X, y, task_ids, sample_weight, train, test, points, alphas, scorer
            )
            for train, test in splits
        )
        scores = np.stack(folds, axis=-1)  # (n_points, n_alphas, n_folds)
        mean = scores.mean(axis=-1)
        if not np.any(np.isfinite(mean)):
            raise ValueError(
                f"{type(self).__name__}: every grid point scored NaN or infinite "
                "on some fold; check the scoring and the folds."
            )
        # First best in (fewer clusters, smaller l2_ratio, larger alpha) order.
        best = int(np.nanargmax(np.where(np.isfinite(mean), mean, np.nan)))
        point, alpha_index = divmod(best, len(alphas))
        self.n_clusters_, self.l2_ratio_ = points[point]
        self.alpha_ = float(alphas[alpha_index])
        self.alpha_l2_ = self.l2_ratio_ * self.alpha_
        self.alpha_ref_, self.alphas_ = full.alpha_ref, alphas
        self.scores_path_ = scores.reshape(
            len(clusters), len(ratios), *scores.shape[1:]
        )
        self.best_score_ = float(mean.flat[best])
        self.cv_results_ = {
            "param_n_clusters": np.repeat([p[0] for p in points], len(alphas)),
            "param_l2_ratio": np.repeat([p[1] for p in points], len(alphas)),
            **_cv_results(
                np.tile(alphas, len(points)), scores.reshape(-1, len(splits))
            ),
        }
        model = full.configure(self.n_clusters_, self.l2_ratio_).refit(
            self.alpha_, owner=self
        )
        for name, value in vars(model).items():
            if name.endswith("_") and not name.startswith("_"):
                setattr(self, name, value)
        return self


_CLUSTERED_CV_DOC = """{summary}, strengths and clusters chosen by cross-validation.

    The model of :class:`{name}` with ``alpha_l2 = l2_ratio * alpha``: the
    penalty is ``alpha`` times a fixed convex function of ``W`` for each
    (``n_clusters``, ``l2_ratio``), so ``alpha`` sets the overall strength
    and ``l2_ratio`` (MALSAR's ``eta = rho2 / rho1``) how much weaker the
    ridge on the ``n_clusters`` leading directions of ``W`` is than the pull
    on the others. For every (``n_clusters``, ``l2_ratio``) of the grid and
    on each fold's training part, a warm-started path over ``alphas`` is
    fitted (the loss built once per fold), every point is scored on the
    fold's test part, and the best mean score picks ``alpha_``,
    ``n_clusters_`` and ``l2_ratio_``; the model is then refitted on all
    data there (cold start: the refit equals a plain fit of :class:`{name}`).

    The penalty is smooth, so no strength zeroes every coefficient and
    there is no ``alpha_max``: the grid is placed around a data-dependent
    reference strength ``alpha_ref_ = L / 2``, ``L`` the largest curvature
    of the data term (the largest eigenvalue of its Hessian at ``W = 0``,
    intercepts profiled out: of the centered, weighted per-task Gram
    matrices{curvature}). At ``alpha_ref_`` the pull's curvature ``2 alpha``
    equals the data term's in its stiffest direction: below it the data
    dominate, above it the penalty. ``alpha_ref_`` scales with ``X`` as the
    objective requires (``X`` times ``c``: ``alpha_ref_`` times ``c**2``,
    the same models with coefficients divided by ``c``) and does not depend
    on ``y``{y_scaling}.

    Parameters
    ----------
    alphas : int or array-like, default=20
        An int: that many strengths on a log scale from ``100 * alpha_ref_``
        down to ``eps * 100 * alpha_ref_`` (two decades on each side of
        ``alpha_ref_`` with the default ``eps``). An array: these strengths.
    eps : float, default=1e-4
        Ratio of the smallest to the largest strength when ``alphas`` is an
        int.
    n_clusters : int or array-like of int, default=(1, 2, 3)
        Numbers of task clusters tried; values above the number of tasks are
        replaced by it (every task its own cluster: a per-task ridge).
    l2_ratio : float or array-like of float, default=0.1
        Values of ``alpha_l2 / alpha`` tried, each positive. A list such as
        ``(0.01, 0.1, 1)`` searches it too, at one path per value; small
        values make the relaxation close to a rank-``n_clusters``
        constraint, and a classifier on nearly separable tasks slow to fit
        at the small strengths.{base}{cv}
    verbose : int, default=0
        Verbosity of the joblib loop over the folds.

    Attributes
    ----------
    alpha_ : float
        The chosen strength ``alpha``.
    n_clusters_ : int
        The chosen number of clusters.
    l2_ratio_ : float
        The chosen ``alpha_l2 / alpha``.
    alpha_l2_ : float
        ``l2_ratio_ * alpha_``, the refitted model's ``alpha_l2``.
    alpha_ref_ : float
        The reference strength on all data (see above).
    alphas_ : ndarray of shape (n_alphas,)
        The strengths tried, decreasing.
    scores_path_ : ndarray of shape (n_n_clusters, n_l2_ratios, n_alphas, \
n_folds)
        Test score (greater is better) of each grid point on each fold,
        ``n_clusters`` and ``l2_ratio`` in increasing order.
    best_score_ : float
        Mean test score at the chosen point.
    cv_results_ : dict of ndarrays
        ``param_n_clusters``, ``param_l2_ratio``, ``param_alpha``,
        ``split{{k}}_test_score``, ``mean_test_score``, ``std_test_score`` and
        ``rank_test_score``, one entry per grid point (``scores_path_``
        flattened), as ``GridSearchCV``'s. Ties go to the first entry: fewer
        clusters, a smaller ``l2_ratio``, a larger ``alpha``.{fitted}

    See Also
    --------
    {name} : The estimator at given strengths.

    Examples
    --------{example}
    """

_CLUSTERED_CV_EXAMPLE = """
    >>> import numpy as np
    >>> from sklearn_mtl.linear import {name}
    >>> rng = np.random.default_rng(0)
    >>> centres = rng.normal(size=(2, 5))
    >>> W = np.repeat(centres, 3, axis=0)  # tasks 0-2 and 3-5 share a model
    >>> X = rng.normal(size=(240, 5))
    >>> task_ids = np.repeat(np.arange(6), 40)
    >>> score = np.einsum("ij,ij->i", X, W[task_ids]){target}
    >>> model = {name}(alphas=8, n_clusters=[1, 2], l2_ratio=0.1, cv=3)
    >>> model = model.set_params(random_state=0).fit(X, y, task_ids=task_ids)
    >>> model.scores_path_.shape
    (2, 1, 8, 3)
    >>> int(model.n_clusters_), model.coef_.shape
    (2, (6, 5))
"""


def _clustered_cv_doc(estimator_class, classifier):
    from ._clustered import _FITTED_DOC, _PARAMS_DOC

    name = estimator_class.__name__
    summary = estimator_class.__doc__.strip().split("\n")[0].rstrip(".")
    summary = summary.split(" (")[0]
    base = _params_doc_without(
        _PARAMS_DOC, ("n_clusters", "alpha", "alpha_l2", "warm_start")
    )
    cv = _CV_PARAMS_DOC[_CV_PARAMS_DOC.index("\n    cv : ") :]
    if classifier:
        fitted = CLASSIFIER_FITTED_DOC
        curvature = (
            " times each task's class variance ``p_t (1 - p_t)`` at its class "
            "frequencies"
        )
        y_scaling, target = "", "\n    >>> y = (score > 0).astype(int)"
    else:
        fitted = REGRESSOR_FITTED_DOC
        curvature = ""
        y_scaling = " (``y`` times ``c``: the coefficients times ``c``)"
        target = "\n    >>> y = score + 0.3 * rng.normal(size=240)"
    return _CLUSTERED_CV_DOC.format(
        summary=summary,
        name=name,
        curvature=curvature,
        y_scaling=y_scaling,
        base=base.replace("see above", f"see :class:`{name}`"),
        cv=cv,
        fitted=fitted + _FITTED_DOC,
        example=_CLUSTERED_CV_EXAMPLE.format(name=name + "CV", target=target),
    )


REGRESSOR_FITTED_DOC = """
    coef_ : ndarray of shape (n_tasks, n_features)
        Coefficients of each task at the chosen point (task column excluded).
    intercept_ : ndarray of shape (n_tasks,)
        Intercept of each task."""
CLASSIFIER_FITTED_DOC = """
    classes_ : ndarray of shape (n_classes,)
        Union of the class labels of all tasks.
    coef_ : ndarray of shape (n_tasks, n_features) or (n_tasks, n_classes, \
n_features)
        Coefficients per task (binary) or per task and class (multiclass).
    intercept_ : ndarray of shape (n_tasks,) or (n_tasks, n_classes)
        Intercepts.
    task_class_mask_ : ndarray of shape (n_tasks, n_classes)
        Which classes each task saw in fit."""


class ClusteredMultiTaskRegressorCV(_ClusteredCV, ClusteredMultiTaskRegressor):
    _estimator_class = ClusteredMultiTaskRegressor
    __doc__ = _clustered_cv_doc(ClusteredMultiTaskRegressor, classifier=False)


class ClusteredMultiTaskClassifierCV(_ClusteredCV, ClusteredMultiTaskClassifier):
    _estimator_class = ClusteredMultiTaskClassifier
    __doc__ = _clustered_cv_doc(ClusteredMultiTaskClassifier, classifier=True)
