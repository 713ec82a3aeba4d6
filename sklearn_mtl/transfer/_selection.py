"""The ``Transfer*`` methods: which can run, and how ``method="auto"`` picks one.

The method tables, the per-``fit`` cache of what the cross-validation folds
share, and a mixin with the availability rule and the choice: cross-validated
on the labelled target rows (it calls the estimator's ``_fit_method`` on each
fold) or, without enough of them, label-free scores cross-fitted over source
folds (``_label_free``); one tie rule decides both.
"""

import copy

import numpy as np
from sklearn.metrics import accuracy_score, mean_squared_error

from ..model_selection import TaskKFold
from ._extra_methods import EXTRA_METHODS

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
    *EXTRA_METHODS,
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
    *EXTRA_METHODS,
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
# Without enough target labels to cross-validate: the methods that need no
# target label and cost about one fit of the estimator plus a d x d
# eigenproblem or matrix square root (never a problem over all row pairs).
_LABEL_FREE_CANDIDATES = ("source_only", "coral", "linear_ot", "subspace_alignment")
# Classifiers: JDA (linear, a d x d eigenproblem per pseudo-label round) and
# MEDA (GFK features and a kernel least squares, O(n^2) memory) use the
# source classes. On Office-Caltech10 without target labels the
# interpolation-consistency scorer ("auto" for classifiers) gives 51.7 % with
# these three (MEDA alone 52.6 %, JDA 50.7 %, source-only 46.9 %); circular
# validation, which learns the pseudo-labels back and so punishes MEDA's
# cluster-wide errors, ranked MEDA below source-only on 7 of 12 pairs
# (docs/domain_model_selection.rst).
_LABEL_FREE_CLASSIFIER_CANDIDATES = ("source_only", "jda", "meda")
# MEDA's fit grows as n^2 in memory and about n^2 in time (0.7 s CPU at 2,000
# rows, 2.7 s at 4,000, one BLAS thread); "auto" fits it n_repeats x cv_folds
# + 1 times, so by default it is a candidate only up to this many source and
# target rows (list it in ``candidates`` to compare it on more).
_MEDA_DEFAULT_MAX_ROWS = 4000
# Cross-validation needs at least this many labelled target rows (and twice
# ``cv_folds``, and for classifiers 2 rows of each class); fewer: label-free.
_MIN_CV_LABELS = 10
# A tie goes to the earliest of these: the simplest method that uses the
# source first (fewest fitted pieces), "target_only" (ignores the source) last.
_SIMPLICITY = (
    "source_only",
    "pooled",
    "parameter",
    "warm_start",
    "augment",
    "coral",
    "linear_ot",
    "subspace_alignment",
    "kmm",
    "kliep",
    "discriminator",
    "nearest_neighbors",
    "tca",
    "entropic_ot",
    "class_regularized_ot",
    "jda",
    "meda",
    "jdot",
    "tradaboost",
    "deep_coral",
    "dann",
    "finetune",
    "target_only",
)


def _simplicity(method):
    """Position in the tie order; methods it does not list go just before
    "target_only"."""
    if method in _SIMPLICITY:
        return _SIMPLICITY.index(method)
    return len(_SIMPLICITY) - 1.5


def _rank(means):
    """GridSearchCV-style ranks (1 = best, ties share the smaller rank), NaN last."""
    key = np.where(np.isfinite(means), -means, np.inf)
    order = np.sort(key)
    return np.searchsorted(order, key, side="left").astype(np.int32) + 1


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

    def _enough_labels(self, split):
        """Whether the labelled target rows suffice for cross-validation."""
        n_labelled = split.n_labelled_target
        if n_labelled < max(_MIN_CV_LABELS, 2 * self.cv_folds):
            return False
        if self._classifier:
            counts = np.unique(split.y_target, return_counts=True)[1]
            return len(counts) >= 2 and counts.min() >= 2
        return True

    def _target_folds(self, split):
        """``n_repeats`` x folds of the labelled target rows.

        Each repeat is the package's :class:`TaskKFold` on the one target
        task, shuffled with seed ``repeat`` (``fit`` is deterministic) and,
        for classifiers, stratified by class (folds then at most the smallest
        class count): a repeated stratified k-fold through the task
        convention.
        """
        n_target = split.n_labelled_target
        n_splits = min(self.cv_folds, n_target)
        stratify = False
        if self._classifier:
            n_splits, stratify = (
                min(n_splits, np.unique(split.y_target, return_counts=True)[1].min()),
                True,
            )
        task_ids = np.zeros(n_target, int)
        return [
            fold
            for repeat in range(self.n_repeats)
            for fold in TaskKFold(
                n_splits, stratify=stratify, shuffle=True, random_state=repeat
            ).split(split.X_target, split.y_target, task_ids=task_ids)
        ]

    def _fold_scores(self, method, split, cache, folds):
        """Score of ``method`` on every fold (NaN on all if a fold cannot fit)."""
        scores = np.full(len(folds), np.nan)
        for k, (train, test) in enumerate(folds):
            fold = copy.copy(split)
            fold.X_target, fold.y_target = split.X_target[train], split.y_target[train]
            fold.w_target = split.w_target[train]
            fold.target_labelled_index = split.target_labelled_index[train]
            try:
                model = self._fit_method(method, fold, cache)
                prediction = model.predict(split.X_target[test])
            except ValueError:  # e.g. a fold with one class left
                return np.full(len(folds), np.nan)
            truth = split.y_target[test]
            scores[k] = (
                accuracy_score(truth, prediction)
                if self._classifier
                else -mean_squared_error(truth, prediction)
            )
        return scores

    def _usable_candidates(self, split, available, label_free):
        if self.candidates is None:
            if not label_free:
                candidates = list(_DEFAULT_CANDIDATES)
            elif self._classifier:
                candidates = list(_LABEL_FREE_CLASSIFIER_CANDIDATES)
            else:
                candidates = list(_LABEL_FREE_CANDIDATES)
        else:
            candidates = list(self.candidates)
            if not candidates:
                raise ValueError(
                    "candidates is empty; name the methods method='auto' should "
                    f"compare (any of {list(METHODS)}), or None for the default "
                    f"{list(_DEFAULT_CANDIDATES)} (with enough target labels) or "
                    f"{list(_LABEL_FREE_CLASSIFIER_CANDIDATES)} / "
                    f"{list(_LABEL_FREE_CANDIDATES)} (without; classifier / "
                    "regressor)."
                )
        unknown = [c for c in candidates if c not in METHODS]
        if unknown:
            raise ValueError(
                f"candidates has unknown methods {unknown}; known: {METHODS}."
            )
        usable = [c for c in candidates if c in available]
        if label_free:
            usable = [c for c in usable if c not in _NEEDS_TARGET_LABELS]
            n_rows = len(split.X_source) + len(split.X_target_all)
            if self.candidates is None and n_rows > _MEDA_DEFAULT_MAX_ROWS:
                usable = [c for c in usable if c != "meda"]
        if not usable:
            raise ValueError(
                f"None of candidates {candidates} can run with the given source "
                f"and {split.n_labelled_target} labelled target row(s); available "
                f"here: {available}."
            )
        return usable

    def _choose(self, split, available, cache):
        label_free = not self._enough_labels(split)
        usable = self._usable_candidates(split, available, label_free)
        if label_free:
            return self._choose_label_free(split, usable)
        folds = self._target_folds(split)
        scores = np.array([self._fold_scores(m, split, cache, folds) for m in usable])
        rule = (
            f"repeated cross-validation: {self.n_repeats} x TaskKFold("
            f"{len(folds) // self.n_repeats} folds) on {split.n_labelled_target} "
            "labelled target rows"
        )
        return self._decide(usable, scores, rule)

    def _choose_label_free(self, split, usable):
        """Pick by the label-free scorer ``unlabelled_scoring``, cross-fitted
        over folds of the source rows (see ``_label_free``), with the same tie
        rule as the cross-validation on target labels."""
        from . import _label_free

        folds = []
        if split.has_source and len(usable) > 1:
            y_source = _label_free._coded(split, self._classifier)
            folds = _label_free.source_folds(
                y_source, self.cv_folds, self.n_repeats, self._classifier
            )
        if not folds:
            chosen = min(usable, key=_simplicity)
            rule = (
                f"label-free default: {split.n_labelled_target} labelled target "
                "row(s), and one candidate or too few source rows to score on; "
                "the simplest candidate"
            )
            nan = np.full(len(usable), np.nan)
            self.cv_results_ = {
                "method": np.asarray(usable, dtype=object),
                "mean_score": nan,
                "std_score": nan,
                "rank_score": _rank(nan),
                "chosen": np.asarray([m == chosen for m in usable]),
                "rule": np.asarray([rule] * len(usable), dtype=object),
            }
            self.selection_ = rule
            return chosen
        scores = _label_free.scores(self, split, usable, folds)
        scoring = _label_free.resolve_scoring(self.unlabelled_scoring, self._classifier)
        rule = (
            f"label-free: {split.n_labelled_target} labelled target row(s), too "
            f"few to cross-validate; {scoring!r} scorer, "
            f"cross-fitted over {self.n_repeats} x {len(folds) // self.n_repeats} "
            "folds of the source rows (each candidate fitted on the other folds "
            "and every target row, scored on the held-out fold and every target "
            "row)"
        )
        n_rows = len(split.X_source) + len(split.X_target_all)
        if (
            self.candidates is None
            and self._classifier
            and n_rows > _MEDA_DEFAULT_MAX_ROWS
        ):
            rule += (
                f"; meda left out of the default candidates ({n_rows} rows > "
                f"{_MEDA_DEFAULT_MAX_ROWS}: list it in candidates to compare it)"
            )
        return self._decide(usable, scores, rule)

    def _decide(self, usable, scores, rule):
        """The choice from fold scores ``(len(usable), n_folds)``, greater is
        better, and its evidence in ``cv_results_``.

        Tie: a candidate whose mean gap to the best mean is at most the
        standard error of that gap over the paired fold scores; the tied
        candidate that comes first in ``_SIMPLICITY`` wins, never the one
        with the higher score.
        """
        n_scores = scores.shape[1]
        means = scores.mean(axis=1)
        finite = np.isfinite(means)
        rule += (
            "; tie (mean gap to the best at most its paired standard error over "
            f"the {n_scores} fold scores) -> the simplest tied method in the "
            "documented order"
        )
        results = {"method": np.asarray(usable, dtype=object)}
        for k in range(n_scores):
            results[f"split{k}_score"] = scores[:, k]
        sem = scores.std(axis=1, ddof=1) / np.sqrt(n_scores)
        results.update(mean_score=means, std_score=scores.std(axis=1), sem_score=sem)
        if not finite.any():
            # Nothing to compare: the target's own labels if they can train
            # (target_only), else the simplest method that uses the source.
            chosen = (
                "target_only"
                if "target_only" in usable
                else min(usable, key=_simplicity)
            )
            gap = gap_sem = np.full(len(usable), np.nan)
            tied = np.zeros(len(usable), bool)
            rule += "; no candidate could be scored: fell back to " + chosen
        else:
            best = int(np.nanargmax(means))
            # Paired over the same folds: the fold-to-fold noise both
            # methods share cancels.
            differences = scores[best] - scores
            gap = differences.mean(axis=1)
            gap_sem = differences.std(axis=1, ddof=1) / np.sqrt(n_scores)
            tied = finite & (gap <= gap_sem)
            chosen = min((m for m, t in zip(usable, tied) if t), key=_simplicity)
        results.update(
            gap_to_best=gap,
            gap_sem=gap_sem,
            tied_with_best=tied,
            rank_score=_rank(means),
            chosen=np.asarray([m == chosen for m in usable]),
            rule=np.asarray([rule] * len(usable), dtype=object),
        )
        self.cv_results_, self.selection_ = results, rule
        return chosen
