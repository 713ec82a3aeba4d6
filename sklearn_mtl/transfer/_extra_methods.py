"""The ``Transfer*`` methods built on the later domain-adaptation pieces.

"nearest_neighbors" (:func:`~sklearn_mtl.transfer._reweight.nn_weights`),
"class_regularized_ot" (:class:`ClassRegularizedOTMapping`), "jda"
(:class:`JDA`), "jdot" (:class:`JDOTClassifier` / :class:`JDOTRegressor`),
"dann" and "deep_coral" (:mod:`sklearn_mtl.transfer._deep`, the ``neural``
extra), "meda" (:class:`~sklearn_mtl.transfer._meda.MEDAClassifier`). Each
reads the source rows and every target row's features; "dann", "deep_coral"
and "meda" also train on the labelled target rows, the others never read a
target label.

"meda" is its own kernel classifier: the base ``estimator`` is not used,
unless it is a ``MEDAClassifier``, whose settings are then taken (its
``target`` aside). Initial target pseudo-labels come from a 1-nearest-
neighbour rule, as in the authors' code.
"""

import warnings

import numpy as np
from sklearn.base import clone

__all__ = ["EXTRA_METHODS", "CLASSIFICATION_ONLY", "fit_extra_method"]

EXTRA_METHODS = (
    "nearest_neighbors",
    "class_regularized_ot",
    "jda",
    "jdot",
    "dann",
    "deep_coral",
    "meda",
)
# Methods that need class labels (a class penalty, class-wise means, one-hot
# targets).
CLASSIFICATION_ONLY = {"class_regularized_ot", "jda", "meda"}


def all_target_rows(split, classifier):
    """(X, y, weights, domains): sources then every target row; a target row
    without a label in this ``split`` (a fold's held-out rows included) gets
    the missing marker (NaN, or None for non-numeric labels)."""
    X_all = split.X_target_all
    n_target = len(X_all)
    labelled = split.target_labelled_index
    numeric = split.y_source.dtype.kind in "fiub"
    y_target = np.full(
        n_target, np.nan if numeric else None, dtype=float if numeric else object
    )
    y_target[labelled] = split.y_target
    y = np.concatenate([split.y_source.astype(y_target.dtype), y_target])
    weights = np.ones(n_target)
    weights[labelled] = split.w_target
    X = np.vstack([split.X_source, X_all])
    domains = np.repeat(["source", "target"], [len(split.X_source), n_target])
    return X, y, np.concatenate([split.w_source, weights]), domains


def _deep_network(model, method):
    from ._deep import (
        DANNClassifier,
        DANNRegressor,
        DeepCORALClassifier,
        DeepCORALRegressor,
        _DeepDomainAdaptation,
    )

    kind = {
        ("dann", True): DANNClassifier,
        ("dann", False): DANNRegressor,
        ("deep_coral", True): DeepCORALClassifier,
        ("deep_coral", False): DeepCORALRegressor,
    }[method, model._classifier]
    estimator = model.estimator
    if isinstance(estimator, _DeepDomainAdaptation):
        # Its network settings, this method's adaptation.
        # (Parameters only the other kind has, e.g. DANN's domain head, drop.)
        accepted = kind().get_params(deep=False)
        params = {
            k: v
            for k, v in estimator.get_params(deep=False).items()
            if k in accepted or k.startswith("trunk__")
        }
        params.update(target="target", task_column=None)
        return kind(**params)
    return kind(target="target", random_state=model.random_state)


def _meda(model):
    from ._meda import MEDAClassifier

    estimator = model.estimator
    if isinstance(estimator, MEDAClassifier):
        return clone(estimator).set_params(target="target")
    return MEDAClassifier(target="target", random_state=model.random_state)


def fit_extra_method(model, method, split, cache, helpers):
    """Fit ``method`` for ``model`` (a ``Transfer*`` estimator) on ``split``.

    ``helpers`` holds ``_estimators``' ``fit``, ``require_weights`` and
    ``WithTransform`` (passed in to avoid an import cycle).
    """
    fit, require_weights, with_transform = helpers
    estimator = model._base_estimator()
    classifier = model._classifier
    if method in CLASSIFICATION_ONLY and not classifier:
        raise ValueError(
            f"method={method!r} aligns class-wise (source class labels); it is "
            "a TransferClassifier method."
        )
    X, y, w, is_source = split.stacked()
    if method == "nearest_neighbors":
        from ._reweight import nn_weights

        require_weights(estimator, method)
        beta = cache.get(method, lambda: nn_weights(split.X_source, cache.X_target))
        return fit(
            clone(estimator),
            X,
            y,
            np.concatenate([beta * split.w_source, split.w_target]),
        )
    if method in ("class_regularized_ot", "jda"):
        transformer, source = cache.get(method, lambda: _class_aware(method, split))
        Xt = split.X_target
        target = transformer.transform(Xt) if len(Xt) else source[:0]
        model_ = fit(clone(estimator), np.vstack([source, target]), y, w)
        return with_transform(transformer, model_)
    X_all, y_all, w_all, domains = all_target_rows(split, classifier)
    if method == "meda":
        meda = _meda(model)
        with warnings.catch_warnings():
            if not isinstance(model.estimator, type(meda)):
                # MEDA's 20 GFK components are its published default, not the
                # caller's choice: capping them on low-dimensional data is
                # expected, and "auto" would repeat the warning at every fold.
                warnings.filterwarnings(
                    "ignore", message="GFK: n_components=", category=UserWarning
                )
            return meda.fit(X_all, y_all, task_ids=domains, sample_weight=w_all)
    if method == "jdot":
        from ._jdot import JDOTClassifier, JDOTRegressor

        kind = JDOTClassifier if classifier else JDOTRegressor
        # JDOT never reads a target label: one fit serves every fold.
        return cache.get(
            "jdot",
            lambda: kind(clone(estimator), target="target").fit(
                X_all, y_all, task_ids=domains
            ),
        )
    network = _deep_network(model, method)
    return network.fit(X_all, y_all, task_ids=domains, sample_weight=w_all)


def _class_aware(method, split):
    """A class-aware domain transformer fitted on the sources (with their
    labels) and every target row (unlabelled), and the mapped source rows."""
    from ._jda import JDA
    from ._mapping import ClassRegularizedOTMapping

    X_source, X_target = split.X_source, split.X_target_all
    X = np.vstack([X_source, X_target])
    domains = np.repeat(["source", "target"], [len(X_source), len(X_target)])
    numeric = split.y_source.dtype.kind in "fiub"
    y = np.concatenate(
        [
            split.y_source.astype(float if numeric else object),
            np.full(len(X_target), np.nan if numeric else None),
        ]
    )
    kind = JDA if method == "jda" else ClassRegularizedOTMapping
    transformer = kind(target="target").fit(X, y, task_ids=domains)
    source_domains = domains[: len(X_source)]
    return transformer, transformer.transform(X_source, task_ids=source_domains)
