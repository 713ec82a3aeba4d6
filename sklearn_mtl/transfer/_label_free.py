"""``method="auto"`` without enough target labels: label-free fold scores.

The source rows are cut into ``cv_folds`` stratified folds, ``n_repeats``
times (seeds 0, 1, ...). For each fold, each candidate method is fitted on
the other source folds and every target row's features (target rows
unlabelled), then scored by a label-free scorer of
:mod:`sklearn_mtl.metrics` on the held-out source fold and every target row.
No scorer ever reads the label of a source row the candidate was fitted on.

``unlabelled_scoring="auto"`` is interpolation consistency (MixVal's
inter-cluster probes) for a classifier and circular validation for a
regressor. Interpolation consistency reads only the target rows: the folds
then measure how stable each candidate's score is when a third of the
source is left out, which the tie rule needs. Circular validation is
reverse validation (Zhong et al., 2010): the backward model (pseudo-labelled
target -> source) adapts to *every* source row's features, as the forward
model adapted to every target row, and is scored on the held-out fold's
labels only: neither model read them. (Scored on the forward model's own
training rows, the round trip mostly measures how well the backward fit
recovers the forward one, which a model that does not adapt always wins.)
Reverse validation learns the pseudo-labels back, so it forgives scattered
target errors and punishes errors shared by a whole target cluster; this
is why it ranks MEDA, whose manifold term makes its errors cluster-wide,
below source-only on Office-Caltech although MEDA is better on every pair.
The deep embedded and importance-weighted scorers weigh the held-out fold's
losses. The scorers are the public ones: one fold score is what
``GridSearchCV`` with ``scoring=make_..._scorer(...)`` computes on that
split.
"""

import numpy as np
from sklearn.base import clone
from sklearn.model_selection import KFold, StratifiedKFold

__all__ = [
    "LABEL_FREE_SCORINGS",
    "make_label_free_scorer",
    "resolve_scoring",
    "source_folds",
    "scores",
]

LABEL_FREE_SCORINGS = (
    "auto",
    "circular",
    "deep_embedded",
    "importance_weighted",
    "interpolation_consistency",
    "prediction_entropy",
    "soft_neighborhood_density",
)


def resolve_scoring(name, classifier):
    """The scorer ``unlabelled_scoring=name`` stands for: "auto" is
    interpolation consistency for a classifier, circular validation for a
    regressor (interpolation consistency compares predicted classes)."""
    if name == "auto":
        return "interpolation_consistency" if classifier else "circular"
    if name == "interpolation_consistency" and not classifier:
        # Raised here: inside the fold loop, the scorer's ValueError would be
        # read as "this candidate cannot run" and fit would fall back silently.
        raise ValueError(
            "unlabelled_scoring='interpolation_consistency' compares predicted "
            "classes; a TransferRegressor needs 'circular', 'deep_embedded' or "
            "'importance_weighted' ('auto': circular)."
        )
    return name


def make_label_free_scorer(name, target):
    """The scorer of :mod:`sklearn_mtl.metrics` that ``name`` stands for."""
    from ..metrics import _domain_scorers, _domain_validation

    return {
        "circular": _domain_validation.make_circular_validation_scorer,
        "deep_embedded": _domain_validation.make_deep_embedded_validation_scorer,
        "importance_weighted": _domain_scorers.make_importance_weighted_scorer,
        "interpolation_consistency": (
            _domain_scorers.make_interpolation_consistency_scorer
        ),
        "prediction_entropy": _domain_scorers.make_prediction_entropy_scorer,
        "soft_neighborhood_density": (
            _domain_scorers.make_soft_neighborhood_density_scorer
        ),
    }[name](target=target)


def _coded(split, classifier):
    """Source labels as floats (classes coded 0..K-1), so NaN can mark the
    unlabelled target rows."""
    if not classifier:
        return split.y_source.astype(float)
    classes = np.unique(np.concatenate([split.y_source, split.y_target]))
    return np.searchsorted(classes, split.y_source).astype(float)


def source_folds(y_source, n_splits, n_repeats, classifier):
    """``n_repeats`` x ``n_splits`` (train, held-out) folds of the source rows.

    Shuffled with seed ``repeat`` (``fit`` is deterministic); stratified by
    class for a classifier whose every class has ``n_splits`` rows, else plain
    k-fold. Empty when there are fewer than 2 source rows per fold.
    """
    n_source = len(y_source)
    n_splits = min(n_splits, n_source // 2)
    if n_splits < 2:
        return []
    stratify = (
        classifier and np.unique(y_source, return_counts=True)[1].min() >= n_splits
    )
    kind = StratifiedKFold if stratify else KFold
    return [
        fold
        for repeat in range(n_repeats)
        for fold in kind(n_splits, shuffle=True, random_state=repeat).split(
            np.zeros((n_source, 1)), y_source
        )
    ]


def scores(model, split, candidates, folds):
    """Label-free score of each candidate on each source fold, shape
    ``(len(candidates), len(folds))``; a candidate that cannot be fitted or
    scored on some fold gets NaN on every fold.

    ``model`` is the ``Transfer*`` estimator being fitted: each candidate is
    a clone of it with ``method`` set and the sources given as data.
    """
    y_source = _coded(split, model._classifier)
    X_target = split.X_target_all
    n_target = len(X_target)
    # Task codes: the source tasks keep their index, the target one past them.
    sources = split.source_task_index
    target = int(sources.max()) + 1

    def rows(index, labelled=None):
        """Source rows ``index`` (labels only on ``labelled``, default all)
        and every target row, unlabelled."""
        y_index = y_source[index]
        if labelled is not None:
            y_index = np.where(np.isin(index, labelled), y_index, np.nan)
        X = np.vstack([split.X_source[index], X_target])
        y = np.r_[y_index, np.full(n_target, np.nan)]
        tasks = np.r_[sources[index], np.full(n_target, target)]
        return X, y, tasks

    every_source_row = np.arange(len(y_source))

    scoring = resolve_scoring(model.unlabelled_scoring, model._classifier)
    scorer = make_label_free_scorer(scoring, target)
    circular = scoring == "circular"
    values = np.full((len(candidates), len(folds)), np.nan)
    for k, method in enumerate(candidates):
        candidate = clone(model).set_params(
            method=method,
            target=target,
            task_column=None,
            allow_unlabelled=True,
            use_target_labels=True,
        )
        try:
            for f, (train, held_out) in enumerate(folds):
                X_fit, y_fit, tasks_fit = rows(train)
                w_fit = np.r_[split.w_source[train], np.ones(n_target)]
                candidate.fit(X_fit, y_fit, task_ids=tasks_fit, sample_weight=w_fit)
                if circular:
                    # The backward model adapts to every source row's
                    # features; only the held-out rows' labels are scored.
                    X_val, y_val, tasks_val = rows(every_source_row, held_out)
                else:
                    X_val, y_val, tasks_val = rows(held_out)
                values[k, f] = scorer(candidate, X_val, y_val, task_ids=tasks_val)
        except ValueError:  # e.g. a fold too small for the method or scorer
            values[k] = np.nan
    return values
