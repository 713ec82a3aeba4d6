"""``method="auto"`` without enough target labels: label-free scores.

Each candidate method is fitted on the source rows and every target row's
features (target rows unlabelled), then scored by a label-free scorer of
:mod:`sklearn_mtl.metrics` on source rows and every target row. Circular
validation scores the *backward* model, which never sees a source label, so
it uses every source row for both; the scorers that read the fitted model's
loss on source rows (deep embedded, importance-weighted) fit on a stratified
two thirds and score on the held-out third. The scorers are the public
ones: what "auto" does is what ``GridSearchCV`` with
``scoring=make_circular_validation_scorer(...)`` does.
"""

import numpy as np
from sklearn.base import clone
from sklearn.model_selection import train_test_split

__all__ = ["LABEL_FREE_SCORINGS", "make_label_free_scorer", "scores"]

LABEL_FREE_SCORINGS = (
    "circular",
    "deep_embedded",
    "importance_weighted",
    "prediction_entropy",
)


def make_label_free_scorer(name, target):
    """The scorer of :mod:`sklearn_mtl.metrics` that ``name`` stands for."""
    from ..metrics import _domain_scorers, _domain_validation

    return {
        "circular": _domain_validation.make_circular_validation_scorer,
        "deep_embedded": _domain_validation.make_deep_embedded_validation_scorer,
        "importance_weighted": _domain_scorers.make_importance_weighted_scorer,
        "prediction_entropy": _domain_scorers.make_prediction_entropy_scorer,
    }[name](target=target)


def _coded(split, classifier):
    """Source and target labels as floats (classes coded 0..K-1), NaN-able."""
    if not classifier:
        return split.y_source.astype(float)
    classes = np.unique(np.concatenate([split.y_source, split.y_target]))
    return np.searchsorted(classes, split.y_source).astype(float)


def scores(model, split, candidates):
    """Label-free score of each candidate (NaN where it cannot be fitted or
    scored).

    ``model`` is the ``Transfer*`` estimator being fitted: each candidate is
    a clone of it with ``method`` set and the sources given as data.
    """
    y_source = _coded(split, model._classifier)
    n_source = len(y_source)
    stratify = None
    if model._classifier:
        counts = np.unique(y_source, return_counts=True)[1]
        if counts.min() >= 2 and len(counts) <= n_source // 3:
            stratify = y_source
    if model.unlabelled_scoring == "circular":
        train = held_out = np.arange(n_source)
    else:
        # A fixed seed: "auto" is deterministic, like its cross-validation.
        train, held_out = train_test_split(
            np.arange(n_source), test_size=1 / 3, random_state=0, stratify=stratify
        )
    X_target = split.X_target_all
    n_target = len(X_target)
    # Task codes: the source tasks keep their index, the target one past them.
    sources = split.source_task_index
    target = int(sources.max()) + 1

    def rows(index):
        X = np.vstack([split.X_source[index], X_target])
        y = np.r_[y_source[index], np.full(n_target, np.nan)]
        tasks = np.r_[sources[index], np.full(n_target, target)]
        return X, y, tasks

    X_fit, y_fit, tasks_fit = rows(train)
    w_fit = np.r_[split.w_source[train], np.ones(n_target)]
    X_val, y_val, tasks_val = rows(held_out)
    scorer = make_label_free_scorer(model.unlabelled_scoring, target)
    values = np.full(len(candidates), np.nan)
    for k, method in enumerate(candidates):
        candidate = clone(model).set_params(
            method=method,
            target=target,
            task_column=None,
            allow_unlabelled=True,
            use_target_labels=True,
        )
        try:
            candidate.fit(X_fit, y_fit, task_ids=tasks_fit, sample_weight=w_fit)
            values[k] = scorer(candidate, X_val, y_val, task_ids=tasks_val)
        except ValueError:  # e.g. a held-out part too small for the scorer
            continue
    return values
