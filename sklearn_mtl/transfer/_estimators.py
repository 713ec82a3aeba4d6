"""TransferRegressor and TransferClassifier: use sources to learn a target task."""

import copy
import inspect
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, _fit_context, clone
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, has_fit_parameter

from .._base import MultiTaskClassifierMixin, MultiTaskRegressorMixin
from .._tasks import check_predict_data
from ._boosting import fit_tradaboost_held_out
from ._domains import split_source_target
from ._estimator_doc import _DOC
from ._estimator_helpers import (
    TargetClassifierScoreMixin,
    TargetRegressorScoreMixin,
    _coral_sources,
    _domain_transform,
    _fit,
    _parameterized_layers,
    _require_weights,
    _WithTransform,
)
from ._extra_methods import EXTRA_METHODS, fit_extra_method
from ._instance import fit_tradaboost, fit_two_stage_tradaboost_r2, kmm_weights
from ._label_free import LABEL_FREE_SCORINGS
from ._mapping import EntropicOTMapping, LinearOTMapping
from ._parameter import (
    _check_same_classes,
    _source_coefficients,
    _unwrap,
    fit_parameter_transfer,
)
from ._reweight import discriminator_weights, kliep_weights
from ._selection import (
    _NEEDS_SOURCE_DATA,
    _NEEDS_TARGET_LABELS,
    METHODS,
    _MethodSelectionMixin,
    _SourceCache,
)
from ._subspace import TCA, SubspaceAlignment
from ._transformers import FeatureAugmentation

_WEIGHTINGS = ("kmm", "kliep", "discriminator")
# Methods wired here rather than through _extra_methods' EXTRA_METHODS (so
# not yet ``auto`` candidates): "spl" (SPLClassifier, classification only).
_OWN_METHODS = ("spl",)


def _source_weights(method, X_source, X_target):
    """The reweighting ``method``'s source weights (functions looked up at call
    time, so that tests can count the calls)."""
    if method == "kmm":
        return kmm_weights(X_source, X_target)
    if method == "kliep":
        return kliep_weights(X_source, X_target)
    return discriminator_weights(X_source, X_target)


# method -> domain transformer (fitted on source and all target rows).
_TRANSFORMERS = {
    "linear_ot": LinearOTMapping,
    "entropic_ot": EntropicOTMapping,
    "subspace_alignment": SubspaceAlignment,
    "tca": TCA,
}

__all__ = ["TransferRegressor", "TransferClassifier"]


def _fit_spl(model, split):
    """method="spl": :class:`SPLClassifier` on the sources and every target
    row (labelled target rows keep their labels). Its own classifier: the
    base ``estimator`` is unused unless it is an ``SPLClassifier``, whose
    settings are then taken."""
    from ._extra_methods import all_target_rows
    from ._spl import SPLClassifier

    if not model._classifier:
        raise ValueError(
            "method='spl' assigns class pseudo-labels (source class means); it "
            "is a TransferClassifier method."
        )
    X, y, weights, domains = all_target_rows(split, classifier=True)
    if not np.allclose(weights, weights[0]):
        raise ValueError(
            "method='spl' takes no sample_weight (its projection, class means "
            "and clusters are unweighted); fit without sample_weight."
        )
    estimator = model.estimator
    if isinstance(estimator, SPLClassifier):
        return clone(estimator).set_params(target="target").fit(X, y, task_ids=domains)
    return SPLClassifier(target="target").fit(X, y, task_ids=domains)


class _TransferModel(_MethodSelectionMixin, BaseEstimator):
    _parameter_constraints = {
        "estimator": [None, HasMethods(["fit", "predict"])],
        "method": [StrOptions({"auto", *METHODS, *_OWN_METHODS})],
        "target": "no_validation",
        "source_estimator": [None, HasMethods(["predict"])],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "n_estimators": [Interval(Integral, 1, None, closed="left")],
        "freeze_trunk": ["boolean", Interval(Integral, 0, None, closed="left")],
        "trunk_learning_rate": [None, Interval(Real, 0, None, closed="left")],
        "candidates": [None, list, tuple],
        "cv_folds": [Interval(Integral, 2, None, closed="left")],
        "n_repeats": [Interval(Integral, 1, None, closed="left")],
        "unlabelled_scoring": [StrOptions(set(LABEL_FREE_SCORINGS))],
        "boosting_errors": [StrOptions({"held_out", "training"})],
        "task_column": [None, Integral, str],
        "allow_unlabelled": ["boolean"],
        "use_target_labels": ["boolean"],
        "random_state": ["random_state"],
    }
    _classifier = False

    def __init__(
        self,
        estimator=None,
        *,
        method="auto",
        target=None,
        source_estimator=None,
        alpha=1.0,
        n_estimators=10,
        freeze_trunk=False,
        trunk_learning_rate=None,
        candidates=None,
        cv_folds=3,
        n_repeats=3,
        unlabelled_scoring="auto",
        boosting_errors="held_out",
        task_column=None,
        allow_unlabelled=True,
        use_target_labels=True,
        random_state=None,
    ):
        self.estimator = estimator
        self.method = method
        self.target = target
        self.source_estimator = source_estimator
        self.alpha = alpha
        self.n_estimators = n_estimators
        self.freeze_trunk = freeze_trunk
        self.trunk_learning_rate = trunk_learning_rate
        self.candidates = candidates
        self.cv_folds = cv_folds
        self.n_repeats = n_repeats
        self.unlabelled_scoring = unlabelled_scoring
        self.boosting_errors = boosting_errors
        self.task_column = task_column
        self.allow_unlabelled = allow_unlabelled
        self.use_target_labels = use_target_labels
        self.random_state = random_state

    def _available(self, split):
        available = super()._available(split)
        if split.has_source:
            available += list(_OWN_METHODS)
        return available

    def _base_estimator(self):
        if self.estimator is not None:
            return self.estimator
        return LogisticRegression() if self._classifier else Ridge()

    # -- the source ------------------------------------------------------------
    def _check_source_estimator(self, n_features):
        model = self.source_estimator
        if model is None:
            return None
        check_is_fitted(model)
        expected = getattr(model, "n_features_in_", n_features)
        if expected != n_features:
            raise ValueError(
                f"source_estimator was fitted on {expected} features but the target "
                f"data has {n_features}; source and target need the same features."
            )
        return model

    def _source_model(self, split, cache):
        if self.source_estimator is not None:
            return self.source_estimator
        return cache.get(
            "source_model",
            lambda: _fit(
                clone(self._base_estimator()),
                split.X_source,
                split.y_source,
                split.w_source,
            ),
        )

    # -- the methods -----------------------------------------------------------
    def _fit_method(self, method, split, cache):
        estimator = self._base_estimator()
        Xt, yt, wt = split.X_target, split.y_target, split.w_target
        if method == "target_only":
            if self._classifier and len(np.unique(yt)) < 2:
                # Else the base estimator's own error, naming neither.
                raise ValueError(
                    f"method='target_only' trains on the labelled target rows "
                    f"alone, but they hold one class ({np.unique(yt).tolist()}); "
                    "it needs at least 2. Use a method that also learns from "
                    "the sources."
                )
            return _fit(clone(estimator), Xt, yt, wt)
        if method == "source_only":
            return self._source_model(split, cache)
        if method == "parameter":
            return self._fit_parameter(split, cache)
        if method == "finetune":
            return self._fit_finetune(split, cache)
        if method == "warm_start":
            return self._fit_warm_start(split, cache)
        if method == "spl":
            return _fit_spl(self, split)
        if method in EXTRA_METHODS:
            return fit_extra_method(
                self, method, split, cache, (_fit, _require_weights, _WithTransform)
            )
        X, y, w, is_source = split.stacked()
        if method == "pooled":
            return _fit(clone(estimator), X, y, w)
        domains = np.where(is_source, "source", "target")
        if method == "augment":
            if split.n_labelled_target == 0:
                raise ValueError(
                    "method='augment' learns target-specific feature copies from "
                    "labelled target rows; the target has none. Use 'pooled' (the "
                    "same model without target labels) or a domain adaptation."
                )
            augment = FeatureAugmentation(target="target").fit(X, task_ids=domains)
            model = _fit(clone(estimator), augment.transform(X, task_ids=domains), y, w)
            return _WithTransform(augment, model)
        if method == "coral":
            aligned = cache.get("coral", lambda: _coral_sources(split, cache.X_target))
            return _fit(clone(estimator), np.vstack([aligned, Xt]), y, w)
        if method in _WEIGHTINGS:
            _require_weights(estimator, method)
            beta = cache.get(
                method,
                lambda: _source_weights(method, split.X_source, cache.X_target),
            )
            return _fit(
                clone(estimator), X, y, np.concatenate([beta * split.w_source, wt])
            )
        if method in _TRANSFORMERS:
            transformer, source = cache.get(
                method,
                lambda: _domain_transform(
                    _TRANSFORMERS[method], split.X_source, cache.X_target
                ),
            )
            # Target rows: task_ids None (as at predict time); none when the
            # target has no labels.
            target = transformer.transform(Xt) if len(Xt) else source[:0]
            X_new = np.vstack([source, target])
            return _WithTransform(transformer, _fit(clone(estimator), X_new, y, w))
        _require_weights(estimator, method)  # tradaboost
        if self._classifier:
            if self.boosting_errors == "held_out":
                return fit_tradaboost_held_out(
                    estimator,
                    X,
                    y,
                    w,
                    is_source,
                    np.unique(y),
                    self.n_estimators,
                    random_state=self.random_state,
                )
            model, _ = fit_tradaboost(
                estimator, X, y, w, is_source, np.unique(y), self.n_estimators
            )
            return model
        return fit_two_stage_tradaboost_r2(
            estimator,
            X,
            y,
            w,
            is_source,
            n_steps=self.n_estimators,
            n_estimators=self.n_estimators,
            cv=self.cv_folds,
            random_state=self.random_state,
        )

    def _fit_parameter(self, split, cache):
        n_features = split.X_target.shape[1]
        classes = np.unique(split.y_target) if self._classifier else None
        source = self._source_model(split, cache)
        coef = _source_coefficients(source, n_features, self._classifier, classes)
        return fit_parameter_transfer(
            split.X_target, split.y_target, split.w_target, coef, self.alpha, classes
        )

    def _fit_finetune(self, split, cache):
        from ..neural import MultiTaskClassifier, MultiTaskRegressor

        estimator = self._base_estimator()
        if not isinstance(estimator, (MultiTaskClassifier, MultiTaskRegressor)):
            raise ValueError(
                "method='finetune' needs estimator to be a MultiTaskRegressor or "
                f"MultiTaskClassifier, got {type(estimator).__name__}."
            )
        if self.source_estimator is not None:
            source = self.source_estimator
        else:
            source = cache.get(
                "source_network",
                lambda: clone(estimator).fit(
                    split.X_source,
                    split.y_source,
                    task_ids=split.source_task_index,
                    sample_weight=split.w_source,
                ),
            )
        network = source.net_.module_.network
        if not hasattr(network, "trunk"):
            raise ValueError("method='finetune' transfers a hard-sharing trunk.")
        trunk = copy.deepcopy(network.trunk).cpu()
        for index, layer in enumerate(_parameterized_layers(trunk)):
            frozen = self.freeze_trunk is True or (
                self.freeze_trunk is not False and index < self.freeze_trunk
            )
            for parameter in layer.parameters(recurse=False):
                parameter.requires_grad_(not frozen)
        params = {
            k: v
            for k, v in estimator.get_params().items()
            if not k.startswith("trunk__")
        }
        params.update(trunk=trunk, trunk_learning_rate=self.trunk_learning_rate)
        target = type(estimator)(**params)
        return target.fit(split.X_target, split.y_target, sample_weight=split.w_target)

    def _fit_warm_start(self, split, cache):
        """The estimator refitted on the target from the source model's state.

        The source model is ``source_estimator`` when given, else the
        estimator fitted on the source data. Estimators whose ``fit`` takes
        ``coef_init`` start from its coefficients; those with a
        ``warm_start`` parameter continue from a copy of the source model (same
        class) or from its ``coef_`` / ``intercept_``.
        """
        estimator = clone(self._base_estimator())
        takes_coef_init = "coef_init" in inspect.signature(estimator.fit).parameters
        has_warm_start = "warm_start" in estimator.get_params()
        if not (takes_coef_init or has_warm_start):
            raise ValueError(
                f"method='warm_start' needs an estimator with a warm_start parameter "
                f"or a coef_init fit argument; {type(estimator).__name__} has "
                "neither."
            )
        source = _unwrap(self._source_model(split, cache))
        Xt, yt, wt = split.X_target, split.y_target, split.w_target
        classes = np.unique(yt) if self._classifier else None
        if type(source) is type(estimator) and has_warm_start:
            if self._classifier:
                _check_same_classes(source, classes, "warm_start")
            # Continue from the source's whole fitted state, with the
            # estimator's own hyper-parameters.
            model = copy.deepcopy(source).set_params(**estimator.get_params(deep=False))
            model.set_params(warm_start=True)
            return _fit(model, Xt, yt, wt)
        # Checks that the source is linear, on these features, with these classes.
        _source_coefficients(
            source, Xt.shape[1], self._classifier, classes, "warm_start"
        )
        coef = np.array(source.coef_, dtype=float)
        intercept = np.array(getattr(source, "intercept_", 0.0), dtype=float)
        if takes_coef_init:
            kwargs = {"coef_init": coef, "intercept_init": intercept}
            if has_fit_parameter(estimator, "sample_weight"):
                kwargs["sample_weight"] = wt
            return estimator.fit(Xt, yt, **kwargs)
        estimator.set_params(warm_start=True)
        estimator.coef_, estimator.intercept_ = coef.copy(), intercept.copy()
        return _fit(estimator, Xt, yt, wt)

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, task_ids=None, sample_weight=None):
        """Fit the target model using the sources.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Target rows, and source rows when ``task_ids`` name several tasks.
        y : array-like of shape (n_samples,)
            Targets.
        task_ids : array-like of shape (n_samples,), default=None
            Task of each row; ``target`` names the target, every other task is
            a source. None: all rows are the target (sources then come from
            ``source_estimator``).
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.

        Returns
        -------
        self : object
        """
        data, split = split_source_target(
            self,
            X,
            y,
            task_ids,
            sample_weight,
            classifier=self._classifier,
            allow_unlabelled=self.allow_unlabelled,
        )
        if not self.use_target_labels:
            split.withhold_target_labels()
        self._check_source_estimator(split.X_target.shape[1])
        available = self._available(split)
        cache = _SourceCache(split)
        if self.method == "auto":
            if not available:
                raise ValueError(
                    f"The target has {split.n_labelled_target} labelled row(s) "
                    "and there is no source: nothing to learn from. Give source "
                    "data (task_ids and target), a source_estimator, or at least "
                    "2 target labels."
                )
            method = (
                "target_only"
                if available == ["target_only"]
                else self._choose(split, available, cache)
            )
        else:
            method = self.method
            if method in _NEEDS_TARGET_LABELS and split.n_labelled_target < 2:
                raise ValueError(
                    f"method={method!r} trains on target labels, but the target "
                    f"has {split.n_labelled_target} labelled row(s); it needs at "
                    "least 2. Without target labels use a domain adaptation "
                    "('coral', 'kmm', 'kliep', 'discriminator', 'linear_ot', "
                    "'entropic_ot', 'subspace_alignment', 'tca', "
                    "'nearest_neighbors', 'class_regularized_ot', 'jda', 'jdot', "
                    "'meda', 'spl', 'dann', 'deep_coral'), 'source_only', 'pooled' "
                    "or 'auto'."
                )
            if method not in available:
                raise ValueError(
                    f"method={method!r} needs source data: pass the sources with "
                    "task_ids and target=<the target task>."
                    if method in _NEEDS_SOURCE_DATA or self.source_estimator is not None
                    else f"method={method!r} needs a source: source data (task_ids "
                    "and target) or a fitted source_estimator."
                )
        self.method_ = method
        self.target_ = self.tasks_[split.target_position]
        self.estimator_ = self._fit_method(method, split, cache)
        if self._classifier:
            self.classes_ = _labels_dtype(
                np.asarray(self.estimator_.classes_),
                np.concatenate([split.y_source, split.y_target]),
            )
        return self

    def _predict_source_rows(self, X):
        """Predict held-out *source* rows as the fitted model sees sources.

        For the methods that transform source and target rows differently
        (augment, linear_ot, entropic_ot, subspace_alignment, tca) the rows
        go through the source side of the transformer; otherwise this is
        ``predict``. The importance-weighted scorer of
        :mod:`sklearn_mtl.metrics` uses it to score source validation rows.
        """
        X = self._target_X(X)
        if hasattr(self.estimator_, "predict_source"):
            return np.asarray(self.estimator_.predict_source(X))
        return np.asarray(self.estimator_.predict(X))

    def _predict_proba_source_rows(self, X):
        """``predict_proba`` of held-out *source* rows, as ``_predict_source_rows``."""
        X = self._target_X(X)
        model = self.estimator_
        if isinstance(model, _WithTransform):
            return np.asarray(model.model.predict_proba(model.source_features(X)))
        return np.asarray(model.predict_proba(X))

    def _embedded_features(self, X_source, X_target):
        """Features the final model reads for source and target rows: the
        mapped space of a transforming method, else the input features (the
        deep embedded validation scorer weighs rows there)."""
        X_source, X_target = self._target_X(X_source), self._target_X(X_target)
        model = self.estimator_
        if isinstance(model, _WithTransform):
            return model.source_features(X_source), model.transformer.transform(
                X_target
            )
        return X_source, X_target

    def _target_X(self, X):
        check_is_fitted(self, "estimator_")
        target = int(np.flatnonzero(self.tasks_ == self.target_)[0])
        return check_predict_data(self, X, default_task=target).X

    def predict(self, X, task_ids=None):
        """Predict the target task.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples (of the target task).
        task_ids : ignored
            Accepted for the package's convention (and metadata routing);
            predictions always serve the target.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        X = self._target_X(X)
        y_pred = np.asarray(self.estimator_.predict(X))
        if self._classifier and y_pred.dtype != self.classes_.dtype:
            # The methods fitted on every target row (meda, jdot, dann, ...)
            # see a float y (NaN marks the unlabelled rows): their classes
            # are mapped back to the labels' own type.
            fitted = np.asarray(self.estimator_.classes_)
            return self.classes_[np.searchsorted(fitted, y_pred)]
        return y_pred


def _labels_dtype(classes, labels):
    """``classes`` in the dtype of the integer ``labels`` given to ``fit``
    when a method returned them as floats (0.0, 1.0 for 0, 1); else as is."""
    if (
        classes.dtype.kind == "f"
        and labels.dtype.kind in "iu"
        and np.all(classes == np.round(classes))
    ):
        return classes.astype(labels.dtype)
    return classes


class TransferRegressor(
    TargetRegressorScoreMixin, MultiTaskRegressorMixin, _TransferModel
):
    __doc__ = f"""Regression on a target task using source tasks or a source model.
{
        _DOC.format(
            kind="Regressor",
            boosting="two-stage TrAdaBoost.R2 (Pardoe & Stone, 2010)",
            metric="mean squared error",
            default="Ridge()",
            steps=" stages and rounds",
        )
    }

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_mtl.transfer import TransferRegressor
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(110, 3))
    >>> domain = np.r_[np.zeros(100), np.ones(10)]
    >>> y = X @ [1.0, 2.0, -1.0] + 0.3 * domain * X[:, 0] + 0.1 * rng.normal(size=110)
    >>> model = TransferRegressor(method="parameter", target=1.0)
    >>> model.fit(X, y, task_ids=domain).predict(X[:2]).shape
    (2,)
    """


class TransferClassifier(
    TargetClassifierScoreMixin, MultiTaskClassifierMixin, _TransferModel
):
    __doc__ = f"""Classification of a target task using source tasks or a source model.
{
        _DOC.format(
            kind="Classifier",
            boosting="TrAdaBoost (Dai et al., 2007)",
            metric="accuracy",
            default="LogisticRegression()",
            steps="",
        )
    }
    classes_ : ndarray
        Class labels of the fitted target model.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_mtl.transfer import TransferClassifier
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(120, 2))
    >>> domain = np.repeat(["source", "target"], [100, 20])
    >>> y = (X[:, 0] + 0.2 * X[:, 1] > 0).astype(int)
    >>> model = TransferClassifier(target="target").fit(X, y, task_ids=domain)
    >>> model.method_ in model.cv_results_["method"]
    True
    """

    _classifier = True

    def predict_proba(self, X, task_ids=None):
        """Class probabilities for the target task, columns as ``classes_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Target rows (with the task column when ``task_column`` is set).
        task_ids : array-like of shape (n_samples,), default=None
            Ignored: every row is served as the target task.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Class probabilities of every row.
        """
        X = self._target_X(X)
        return np.asarray(self.estimator_.predict_proba(X))
