"""The ``Transfer*`` methods: which can run, and how ``method="auto"`` picks one.

The method tables, the per-``fit`` cache of what the cross-validation folds
share, and a mixin with the availability rule and the cross-validated choice
(it calls the estimator's ``_fit_method`` on each fold).
"""

import copy

import numpy as np
from sklearn.metrics import accuracy_score, mean_squared_error

from ..model_selection import TaskKFold

METHODS = (
    "target_only",
    "source_only",
    "pooled",
    "parameter",
    "finetune",
    "warm_start",
    "augment",
    "coral",
    "kmm",
    "tradaboost",
    "kliep",
    "discriminator",
    "linear_ot",
    "entropic_ot",
    "subspace_alignment",
    "tca",
)
# Domain adaptations that read the source rows and every target row's
# features: reweightings (kmm, kliep, discriminator), mappings (coral,
# linear_ot, entropic_ot) and subspaces (subspace_alignment, tca).
_ADAPTATIONS = {
    "coral",
    "kmm",
    "kliep",
    "discriminator",
    "linear_ot",
    "entropic_ot",
    "subspace_alignment",
    "tca",
}
_NEEDS_SOURCE_DATA = {"pooled", "augment", "tradaboost", *_ADAPTATIONS}
# Methods with a supervised loss on the target rows: they need at least 2
# labelled target rows (TrAdaBoost measures its errors on them).
_NEEDS_TARGET_LABELS = {
    "target_only",
    "parameter",
    "finetune",
    "warm_start",
    "tradaboost",
}
# method="auto" without target labels to cross-validate on: the first of these
# among the candidates. CORAL first: it reads every target row's features and
# costs one fit; KMM next (a QP); then the sources unchanged.
_LABEL_FREE_ORDER = ("coral", "kmm", "source_only", "pooled", "augment")
# The cheap methods: one fit of the estimator each (plus, for "parameter", a
# small L-BFGS on the target rows). "kmm" (a QP over all source pairs),
# "tradaboost" (n_estimators fits, two-stage CV for regression), "finetune" and
# "warm_start" run only when listed in ``candidates``, as do the other
# adaptations (kliep, discriminator, linear_ot, entropic_ot, subspace_alignment,
# tca: each a density-ratio fit, a transport problem or an eigenproblem).
_DEFAULT_CANDIDATES = (
    "target_only",
    "source_only",
    "pooled",
    "parameter",
    "augment",
    "coral",
)


class _SourceCache:
    """What every cross-validation fold of one ``fit`` shares, computed once.

    The folds differ only in which labelled target rows train. The model fitted
    on the sources, the KMM weights and the CORAL alignment depend on the
    source rows and on the target *features* only (all target rows, labels
    unused), so they are the same in every fold and in the final refit.
    """

    def __init__(self, split):
        # Every target row's features, unlabelled rows included.
        self.X_target = split.X_target_all
        self._values = {}

    def get(self, key, compute):
        if key not in self._values:
            self._values[key] = compute()
        return self._values[key]


class _MethodSelectionMixin:
    """Which methods the given source allows, and the choice of ``method="auto"``.

    Mixed into ``_TransferModel``: reads ``source_estimator``, ``candidates``,
    ``cv_folds`` and ``_classifier``, calls ``_fit_method``, and sets
    ``cv_results_`` and ``selection_``.
    """

    def _available(self, split):
        has_data, has_model = split.has_source, self.source_estimator is not None
        available = ["target_only"]
        if has_data or has_model:
            available += ["source_only", "parameter", "finetune", "warm_start"]
        if has_data:
            available += sorted(_NEEDS_SOURCE_DATA)
        if split.n_labelled_target < 2:
            available = [m for m in available if m not in _NEEDS_TARGET_LABELS]
        return available

    def _target_folds(self, split):
        """Folds of the labelled target rows: the package's :class:`TaskKFold`.

        One task (the target), shuffled with a fixed seed so that ``fit`` is
        deterministic; stratified by class for classifiers when every class
        has at least two labelled rows (the folds then number at most the
        smallest class count).
        """
        n_target = split.n_labelled_target
        n_splits = min(self.cv_folds, n_target)
        stratify = False
        if self._classifier:
            smallest = np.unique(split.y_target, return_counts=True)[1].min()
            if smallest >= 2:
                n_splits, stratify = min(n_splits, smallest), True
        splitter = TaskKFold(n_splits, stratify=stratify, shuffle=True, random_state=0)
        return list(
            splitter.split(
                split.X_target, split.y_target, task_ids=np.zeros(n_target, int)
            )
        )

    def _cv_score(self, method, split, cache, folds):
        scores = []
        for train, test in folds:
            fold = copy.copy(split)
            fold.X_target, fold.y_target = split.X_target[train], split.y_target[train]
            fold.w_target = split.w_target[train]
            try:
                model = self._fit_method(method, fold, cache)
                prediction = model.predict(split.X_target[test])
            except ValueError:  # e.g. a fold with one class left
                return np.nan, np.nan
            truth = split.y_target[test]
            scores.append(
                accuracy_score(truth, prediction)
                if self._classifier
                else -mean_squared_error(truth, prediction)
            )
        return float(np.mean(scores)), float(np.std(scores))

    def _choose(self, split, available, cache):
        if self.candidates is None:
            candidates = list(_DEFAULT_CANDIDATES)
        else:
            candidates = list(self.candidates)
            if not candidates:
                raise ValueError(
                    "candidates is empty; name the methods method='auto' should "
                    f"compare (any of {list(METHODS)}), or None for the default "
                    f"{list(_DEFAULT_CANDIDATES)}."
                )
        unknown = [c for c in candidates if c not in METHODS]
        if unknown:
            raise ValueError(
                f"candidates has unknown methods {unknown}; known: {METHODS}."
            )
        usable = [c for c in candidates if c in available]
        if not usable:
            raise ValueError(
                f"None of candidates {candidates} can run with the given source "
                f"and {split.n_labelled_target} labelled target row(s); available "
                f"here: {available}."
            )
        if split.n_labelled_target < 2:
            # Nothing to cross-validate on: a documented label-free rule.
            self.cv_results_ = {m: (np.nan, np.nan) for m in usable}
            chosen = next((m for m in _LABEL_FREE_ORDER if m in usable), usable[0])
            self.selection_ = (
                f"label-free default: {split.n_labelled_target} labelled target "
                f"row(s), too few to cross-validate; first of {_LABEL_FREE_ORDER} "
                "among the candidates"
            )
            return chosen
        folds = self._target_folds(split)
        self.cv_results_ = {m: self._cv_score(m, split, cache, folds) for m in usable}
        self.selection_ = (
            f"cross-validation: TaskKFold({len(folds)} folds) on "
            f"{split.n_labelled_target} labelled target rows"
        )
        finite = {m: s for m, s in self.cv_results_.items() if np.isfinite(s[0])}
        return max(finite, key=lambda m: finite[m][0]) if finite else "target_only"
