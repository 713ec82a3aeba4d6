"""Structured multi-task models whose strength is chosen by cross-validation.

:class:`MultiTaskPathCV` is a mixin that turns a structured estimator with a
path hook (see :mod:`._path`) into its ``...CV`` variant, as
``MultiTaskLassoCV`` is to ``MultiTaskLasso``. A new variant is::

    class DirtyMultiTaskRegressorCV(MultiTaskPathCV, DirtyMultiTaskRegressor):
        __doc__ = cv_docstring(DirtyMultiTaskRegressor, params_doc, example)

The mixin derives ``__init__`` (the estimator's parameters without its
strength and ``warm_start``, plus ``alphas``, ``eps``, ``cv``, ``scoring``
and ``n_jobs``) and ``_parameter_constraints`` from the estimator's.
"""

import inspect
import re
from numbers import Integral, Real

import numpy as np
from sklearn.base import _fit_context, is_classifier
from sklearn.metrics import check_scoring, get_scorer_names
from sklearn.model_selection import check_cv
from sklearn.utils import _safe_indexing, indexable
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.parallel import Parallel, delayed
from sklearn.utils.validation import _num_samples

from ._path import _check_alphas, alpha_grid, fit_path, path_param, path_problem
from ._structured import (
    _CLASSIFIER_FITTED,
    _FITTED_DOC,
    _PARAMS_DOC,
    _REGRESSOR_FITTED,
    JointFeatureMultiTaskClassifier,
    JointFeatureMultiTaskRegressor,
    LowRankMultiTaskClassifier,
    LowRankMultiTaskRegressor,
)

__all__ = [
    "MultiTaskPathCV",
    "JointFeatureMultiTaskRegressorCV",
    "JointFeatureMultiTaskClassifierCV",
    "LowRankMultiTaskRegressorCV",
    "LowRankMultiTaskClassifierCV",
]

# Parameters of the estimator that a CV variant does not have: the strength
# it chooses, and warm_start (every path is warm-started already).
_NOT_IN_CV = ("warm_start",)
_CV_DEFAULTS = {"cv": None, "scoring": None, "n_jobs": None}
_CV_CONSTRAINTS = {
    "alphas": [Interval(Integral, 1, None, closed="left"), "array-like"],
    "eps": [Interval(Real, 0, None, closed="neither")],
    "cv": ["cv_object"],
    "scoring": [StrOptions(set(get_scorer_names())), callable, None],
    "n_jobs": [Integral, None],
}


def _dropped(estimator_class):
    return (path_param(estimator_class),) + _NOT_IN_CV


def _cv_init(estimator_class):
    """An ``__init__`` storing the estimator's parameters and the CV ones.

    scikit-learn reads the parameter names from ``__init__``'s signature;
    the generated function carries an explicit ``__signature__`` (keyword
    only), so ``get_params``, ``clone`` and ``repr`` see ordinary parameters.
    """
    keyword = inspect.Parameter.KEYWORD_ONLY
    dropped = _dropped(estimator_class)
    base = inspect.signature(estimator_class.__init__).parameters
    params = [
        inspect.Parameter("alphas", keyword, default=100),
        inspect.Parameter("eps", keyword, default=1e-3),
    ]
    params += [
        p.replace(kind=keyword)
        for name, p in base.items()
        if name != "self" and name not in dropped
    ]
    params += [
        inspect.Parameter(n, keyword, default=v) for n, v in _CV_DEFAULTS.items()
    ]
    self_param = inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)
    signature = inspect.Signature([self_param] + params)

    def __init__(self, **kwargs):
        bound = signature.bind(self, **kwargs)
        bound.apply_defaults()
        for name, value in list(bound.arguments.items())[1:]:
            setattr(self, name, value)

    __init__.__signature__ = signature
    return __init__


def _subset(values, rows):
    return None if values is None else _safe_indexing(values, rows)


def _score(model, X, y, task_ids, sample_weight, scorer):
    kwargs = {}
    if sample_weight is not None:
        kwargs["sample_weight"] = sample_weight
    if task_ids is not None and (scorer is None or _scorer_takes_task_ids(scorer)):
        kwargs["task_ids"] = task_ids
    if scorer is None:
        return model.score(X, y, **kwargs)
    return scorer(model, X, y, **kwargs)


def _scorer_takes_task_ids(scorer):
    """Whether to give ``task_ids`` to ``scorer``.

    scikit-learn's own scorers pass extra keywords to the metric, which
    rejects ``task_ids``; the package's task scorers request it (and a plain
    callable ``scorer(estimator, X, y, task_ids=...)`` is assumed to take it).
    """
    routing = getattr(scorer, "get_metadata_routing", None)
    if routing is None:
        return True
    return bool(routing().score.requests.get("task_ids"))


def _fold_scores(base, X, y, task_ids, sample_weight, train, test, alphas, scorer):
    """Scores on ``test`` of the path fitted on ``train``, and iterations."""
    problem = path_problem(
        base,
        _subset(X, train),
        _subset(y, train),
        _subset(task_ids, train),
        _subset(sample_weight, train),
    )
    X_test, y_test = _subset(X, test), _subset(y, test)
    tasks_test, weight_test = _subset(task_ids, test), _subset(sample_weight, test)
    models, _ = fit_path(problem, alphas, eps=None, warn=False)
    scores = [
        _score(m, X_test, y_test, tasks_test, weight_test, scorer) for m in models
    ]
    return np.array(scores), np.array([m.n_iter_ for m in models])


class MultiTaskPathCV:
    """Mixin: choose a structured estimator's strength by cross-validation.

    Put it first in the bases, before the estimator class it wraps.
    """

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        estimator_class = next(
            base for base in cls.__bases__ if not issubclass(base, MultiTaskPathCV)
        )
        cls._estimator_class = estimator_class
        if "__init__" not in cls.__dict__:
            cls.__init__ = _cv_init(estimator_class)
        if "_parameter_constraints" not in cls.__dict__:
            dropped = _dropped(estimator_class)
            cls._parameter_constraints = {
                **{
                    name: rule
                    for name, rule in estimator_class._parameter_constraints.items()
                    if name not in dropped
                },
                **_CV_CONSTRAINTS,
            }

    def _make_estimator(self):
        estimator_class = self._estimator_class
        names = estimator_class._get_param_names()
        dropped = _dropped(estimator_class)
        return estimator_class(
            **{name: getattr(self, name) for name in names if name not in dropped}
        )

    def _path_problem(self, X, y, task_ids=None, sample_weight=None):
        raise TypeError(
            f"{type(self).__name__} chooses its own strength; compute a path "
            f"with {self._estimator_class.__name__} instead."
        )

    def _splits(self, X, y, task_ids):
        """(train, test) index pairs: TaskKFold by default, else ``cv``'s."""
        if self.cv is None or isinstance(self.cv, Integral):
            # Imported here: model_selection sits above linear/ in the
            # package's layers, and the default splitter is its TaskKFold.
            from ..model_selection import TaskKFold

            n_splits = 5 if self.cv is None else self.cv
            long_format = np.asarray(y).ndim == 1
            # A classifier's folds are stratified by class within each task,
            # float-coded labels included ("auto" would take them for targets).
            stratify = True if is_classifier(self) and long_format else "auto"
            splitter = TaskKFold(
                n_splits, stratify=stratify, task_column=self.task_column
            )
            if task_ids is None and self.task_column is None and long_format:
                # A 1-D y without task labels is one task, as in fit.
                task_ids = np.zeros(_num_samples(X), dtype=int)
        else:
            splitter = check_cv(self.cv)
        return list(splitter.split(X, y, groups=task_ids))

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, task_ids=None, sample_weight=None):
        """Choose the strength by cross-validation, then fit on all data.

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
        base = self._make_estimator()
        full = path_problem(base, X, y, task_ids, sample_weight)
        # Arrays the folds can index (lists and array-likes become arrays);
        # fit above has validated them.
        X, y, task_ids, sample_weight = indexable(X, y, task_ids, sample_weight)
        if isinstance(self.alphas, Integral):
            alphas = alpha_grid(full.alpha_max, n_alphas=int(self.alphas), eps=self.eps)
        else:
            alphas = _check_alphas(self.alphas)
        scorer = None if self.scoring is None else check_scoring(base, self.scoring)
        splits = self._splits(X, y, task_ids)
        folds = Parallel(n_jobs=self.n_jobs)(
            delayed(_fold_scores)(
                base, X, y, task_ids, sample_weight, train, test, alphas, scorer
            )
            for train, test in splits
        )
        scores = np.column_stack([fold[0] for fold in folds])
        mean = scores.mean(axis=1)
        if not np.any(np.isfinite(mean)):
            raise ValueError(
                f"{type(self).__name__}: every strength scored NaN or infinite "
                "on some fold; check the scoring and the folds."
            )
        # First best = the largest such strength (the simplest model).
        best = int(np.nanargmax(np.where(np.isfinite(mean), mean, np.nan)))
        self.alphas_ = alphas
        self.alpha_ = float(alphas[best])
        self.scores_path_ = scores
        self.best_score_ = float(mean[best])
        self.cv_results_ = _cv_results(alphas, scores)
        models, _ = fit_path(full, [self.alpha_], eps=None)
        for name, value in vars(models[0]).items():
            if name.endswith("_") and not name.startswith("_"):
                setattr(self, name, value)
        return self


def _cv_results(alphas, scores):
    mean, std = scores.mean(axis=1), scores.std(axis=1)
    order = np.argsort(-np.where(np.isfinite(mean), mean, -np.inf), kind="stable")
    rank = np.empty(len(alphas), dtype=np.int32)
    rank[order] = np.arange(1, len(alphas) + 1)
    results = {"param_alpha": alphas.copy()}
    for k in range(scores.shape[1]):
        results[f"split{k}_test_score"] = scores[:, k].copy()
    results.update(mean_test_score=mean, std_test_score=std, rank_test_score=rank)
    return results


def _params_doc_without(doc, names):
    """``doc`` (a numpydoc Parameters body) without the entries ``names``."""
    entries = re.split(r"\n(?=    \w+ : )", doc.strip("\n"))
    return "\n" + "\n".join(
        e for e in entries if e.split(" : ")[0].strip() not in names
    )


_CV_PARAMS_DOC = """
    alphas : int or array-like, default=100
        An int: that many strengths from ``alpha_max`` (all coefficients
        zero on all data) down to ``eps * alpha_max``, on a log scale. An
        array: these strengths.
    eps : float, default=1e-3
        Ratio of the smallest to the largest strength when ``alphas`` is an
        int.{base}
    cv : int, cross-validation generator or iterable, default=None
        None or an int: :class:`~sklearn_mtl.model_selection.TaskKFold` with
        that many folds (5 for None), every task in every fold (stratified
        by class within each task for a classifier). A splitter gets
        ``task_ids`` as ``groups``; an iterable yields (train, test) indices.
    scoring : str or callable, default=None
        None: the estimator's ``score``. A string names a scikit-learn scorer
        (given no ``task_ids``: for wide data or a ``task_column``); a
        callable ``scorer(estimator, X, y, task_ids=..., sample_weight=...)``
        such as :func:`~sklearn_mtl.metrics.make_task_scorer`'s gets the
        test fold's task labels.
    n_jobs : int, default=None
        Folds computed in parallel (joblib); None means 1 unless in a
        ``joblib.parallel_backend`` context, -1 all processors."""

_CV_FITTED_DOC = """
    alpha_ : float
        The chosen strength: the largest of those with the best mean test
        score.
    alphas_ : ndarray of shape (n_alphas,)
        The strengths tried, decreasing.
    scores_path_ : ndarray of shape (n_alphas, n_folds)
        Test score (greater is better) of each strength on each fold.
    best_score_ : float
        Mean test score at ``alpha_``.
    cv_results_ : dict of ndarrays
        ``param_alpha``, ``split{k}_test_score``, ``mean_test_score``,
        ``std_test_score`` and ``rank_test_score``, one entry per strength,
        as ``GridSearchCV``'s."""


def cv_docstring(estimator_class, params_doc, fitted_doc, example):
    """The docstring of ``estimator_class``'s CV variant.

    ``params_doc``: the estimator's Parameters body (its strength and
    ``warm_start`` entries are left out); ``fitted_doc``: its Attributes
    body; ``example``: the Examples body.
    """
    name = estimator_class.__name__
    summary = estimator_class.__doc__.strip().split("\n")[0].rstrip(".")
    base = _params_doc_without(params_doc, _dropped(estimator_class)).replace(
        "see above", f"see :class:`{name}`"
    )
    return f"""{summary}, strength chosen by cross-validation.

    Fits a warm-started path of :class:`{name}` over ``alphas`` on each
    fold's training part, scores every strength on the fold's test part,
    picks ``alpha_`` with the best mean score and refits on all data at it
    (as ``MultiTaskLassoCV`` does for ``MultiTaskLasso``). The objective and
    the remaining parameters are those of :class:`{name}`.

    Parameters
    ----------{_CV_PARAMS_DOC.format(base=base)}

    Attributes
    ----------{_CV_FITTED_DOC}{fitted_doc}

    See Also
    --------
    {name} : The estimator at a given strength.

    Examples
    --------{example}
    """


_REGRESSOR_EXAMPLE = """
    >>> import numpy as np
    >>> from sklearn_mtl.linear import {name}
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(150, 6))
    >>> task_ids = np.repeat([0, 1, 2], 50)
    >>> W = np.zeros((3, 6))
    >>> W[:, :2] = rng.normal(size=(3, 2))
    >>> y = np.einsum("ij,ij->i", X, W[task_ids]) + 0.3 * rng.normal(size=150)
    >>> model = {name}(alphas=20, cv=3).fit(X, y, task_ids=task_ids)
    >>> model.scores_path_.shape
    (20, 3)
    >>> bool(0 < model.alpha_ < model.alpha_max_)
    True
"""
_CLASSIFIER_EXAMPLE = """
    >>> import numpy as np
    >>> from sklearn_mtl.linear import {name}
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(150, 5))
    >>> task_ids = np.repeat(["a", "b", "c"], 50)
    >>> y = (X[:, 0] - X[:, 1] + 0.5 * rng.normal(size=150) > 0).astype(int)
    >>> model = {name}(alphas=10, cv=3).fit(X, y, task_ids=task_ids)
    >>> model.scores_path_.shape
    (10, 3)
    >>> model.predict(X[:3], task_ids=task_ids[:3]).shape
    (3,)
"""


def _doc(estimator_class, classifier):
    fitted = (_CLASSIFIER_FITTED if classifier else _REGRESSOR_FITTED) + _FITTED_DOC
    example = _CLASSIFIER_EXAMPLE if classifier else _REGRESSOR_EXAMPLE
    name = estimator_class.__name__ + "CV"
    return cv_docstring(estimator_class, _PARAMS_DOC, fitted, example.format(name=name))


class JointFeatureMultiTaskRegressorCV(MultiTaskPathCV, JointFeatureMultiTaskRegressor):
    __doc__ = _doc(JointFeatureMultiTaskRegressor, classifier=False)


class JointFeatureMultiTaskClassifierCV(
    MultiTaskPathCV, JointFeatureMultiTaskClassifier
):
    __doc__ = _doc(JointFeatureMultiTaskClassifier, classifier=True)


class LowRankMultiTaskRegressorCV(MultiTaskPathCV, LowRankMultiTaskRegressor):
    __doc__ = _doc(LowRankMultiTaskRegressor, classifier=False)


class LowRankMultiTaskClassifierCV(MultiTaskPathCV, LowRankMultiTaskClassifier):
    __doc__ = _doc(LowRankMultiTaskClassifier, classifier=True)
