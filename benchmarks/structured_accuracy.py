"""Structured models' accuracy on School and Landmine, strengths chosen by their CV.

    python benchmarks/structured_accuracy.py [--data-home ../shared/data]
        [--datasets school,landmine] [--repeats 10] [--n-jobs 2] [--alphas 20]
        [--fractions 0.2,0.5] [--skip Sparse,Dirty]

Every structured model is its ``...CV`` variant (``MultiTaskPathCV``): the
strength is chosen on the training part only, by a warm-started path over
``--alphas`` strengths scored on 3 task-aware folds (``TaskKFold``, every task
in every fold). The structured models from other modules (sparse, dirty,
robust, clustered) are picked up when present; a CV variant is made for each
(``MultiTaskPathCV`` + the estimator) and a model without a path hook is
reported as skipped. Three models are also tuned by GridSearchCV over 3
``TaskKFold`` folds of the training part (``GRIDS``): the graph model on a
half-decade grid, the low-rank model with its ridge ``alpha_l2`` searched
jointly with ``alpha``, and the clustered model (no path, so no
``MultiTaskPathCV``) over ``n_clusters``, ``alpha`` and ``alpha_l2``; the
table gives their most frequently chosen point. Baselines as in
``school.py`` / ``landmine.py``:
``IndependentTasks`` and ``PooledTasks`` around RidgeCV / LogisticRegressionCV,
and the graph model tuned by GridSearchCV over 3 folds. The mixed-effects
models (``MixedEffectsMultiTaskRegressor`` / ``...Classifier``: task
coefficients as random effects around a shared mean, their covariance and the
noise estimated by EM) have no strength to choose: they are fitted once on the
training part with their defaults. Features are standardized on the training
part.

- School: the 10 published 75 %/25 %-per-school splits; explained variance
  ``1 - MSE / Var(y_test)`` over all test rows, mean ± std over splits.
- Landmine: per-task stratified 20 % and 50 % training splits, ``--repeats``
  times; AUC per task on its test rows, averaged over the 29 tasks.
"""

import argparse
import importlib
import sys
import time
import warnings
from collections import Counter

import numpy as np
from _common import data_home_or_none, mean_std, print_table, scaled
from joblib import Parallel, delayed
from landmine import mean_task_auc, per_task_split
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegressionCV, RidgeCV
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from threadpoolctl import threadpool_limits

from sklearn_mtl import (
    GraphMultiTaskClassifier,
    GraphMultiTaskRegressor,
    IndependentTasks,
    PooledTasks,
)
from sklearn_mtl.datasets import load_landmine, load_school
from sklearn_mtl.linear import (
    JointFeatureMultiTaskClassifier,
    JointFeatureMultiTaskRegressor,
    LowRankMultiTaskClassifier,
    LowRankMultiTaskRegressor,
)
from sklearn_mtl.linear._clustered import (
    ClusteredMultiTaskClassifier,
    ClusteredMultiTaskRegressor,
)
from sklearn_mtl.linear._cv import MultiTaskPathCV
from sklearn_mtl.linear._mixed_effects import (
    MixedEffectsMultiTaskClassifier,
    MixedEffectsMultiTaskRegressor,
)
from sklearn_mtl.metrics import make_task_scorer
from sklearn_mtl.model_selection import TaskKFold

# Modules of the structured family written beside this one; their public
# Regressor / Classifier classes are benchmarked when the module exists.
OPTIONAL_MODULES = [
    "sklearn_mtl.linear._sparse",
    "sklearn_mtl.linear._dirty",
    "sklearn_mtl.linear._robust",
    "sklearn_mtl.linear._clustered",
]
RIDGE_ALPHAS = np.logspace(-2, 4, 13)

# Models tuned by GridSearchCV on a 2-D (or 3-D) grid over TaskKFold folds of
# the training part: the graph model on a half-decade grid of alpha_graph (the
# 5-point decade grid above skips the 10**2.5 that CV picks on School), the
# low-rank model with a ridge alpha_l2 searched jointly with alpha, and the
# clustered model, which has no path (no alpha_max_) for MultiTaskPathCV.
# The School clustered grid is small for time: a wider search (n_clusters in
# {1, 2, 3, 5, 10}, alpha in logspace(0, 4, 9), alpha_l2 in {0.1, 1, 10}; 5 to
# 100x slower) chose n_clusters=1, alpha 316 or 1000, alpha_l2=10 by CV on the
# training part of splits 1-3, and these points bracket that choice.
GRIDS = {
    "Regressor": {
        GraphMultiTaskRegressor: {
            "alpha_graph": np.logspace(0, 4, 9),
            "alpha_l2": [0.1, 0.3, 1.0, 3.0],
        },
        LowRankMultiTaskRegressor: {
            "alpha": np.logspace(2, 4, 9),
            "alpha_l2": [0.0, 1.0, 10.0, 100.0],
        },
        ClusteredMultiTaskRegressor: {
            "n_clusters": [1, 3],
            "alpha": [10**2.5, 10**3],
            "alpha_l2": [10.0, 30.0],
        },
    },
    "Classifier": {
        GraphMultiTaskClassifier: {
            "alpha_graph": np.logspace(-1, 3, 9),
            "alpha_l2": np.logspace(-1, 2, 4),
        },
        LowRankMultiTaskClassifier: {
            "alpha": np.logspace(0, 2, 9),
            "alpha_l2": [0.0, 1.0, 10.0],
        },
        ClusteredMultiTaskClassifier: {
            "n_clusters": [1, 3],
            "alpha": [1.0, 10.0, 100.0],
            "alpha_l2": [0.1, 1.0, 10.0],
        },
    },
}


def progress(message):
    print(message, file=sys.stderr, flush=True)


def structured_classes(kind):
    """Structured estimator classes of ``kind`` ("Regressor"/"Classifier")."""
    ours = {
        "Regressor": [JointFeatureMultiTaskRegressor, LowRankMultiTaskRegressor],
        "Classifier": [JointFeatureMultiTaskClassifier, LowRankMultiTaskClassifier],
    }[kind]
    found = list(ours)
    for name in OPTIONAL_MODULES:
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        for attribute in getattr(module, "__all__", dir(module)):
            cls = getattr(module, attribute, None)
            if (
                isinstance(cls, type)
                and issubclass(cls, BaseEstimator)
                and attribute.endswith(kind)
                and not attribute.startswith("_")
                and cls not in found
            ):
                found.append(cls)
    return found


def cv_variant(cls):
    """``cls``'s ...CV estimator class: the package's mixin + the estimator."""
    return type(cls.__name__ + "CV", (MultiTaskPathCV, cls), {"__module__": __name__})


def structured_models(kind, n_features, n_alphas, scoring, skip=()):
    models = {}
    for cls in structured_classes(kind):
        if any(word in cls.__name__ for word in skip) or "Clustered" in cls.__name__:
            continue
        try:
            model = cv_variant(cls)(
                alphas=n_alphas, cv=3, task_column=-1, scoring=scoring
            )
        except Exception as exc:  # a model the generic CV cannot wrap
            progress(f"  {cls.__name__}: skipped ({type(exc).__name__}: {exc})")
            continue
        models[cls.__name__ + "CV"] = scaled(model, n_features)
    return models


def grid_models(kind, n_features, scoring, seed, skip=()):
    """Models of GRIDS[kind], each a GridSearchCV over 3 TaskKFold folds."""
    models = {}
    folds = TaskKFold(3, shuffle=True, random_state=seed, task_column=-1)
    for cls, grid in GRIDS[kind].items():
        name = f"{cls.__name__} grid({', '.join(grid)})"
        if any(word in name for word in skip):
            continue
        estimator = cls(task_column=-1)
        if "graph" in cls.__init__.__code__.co_varnames:
            estimator.set_params(graph="full")
        prefix = cls.__name__.lower() + "__"
        models[name] = GridSearchCV(
            scaled(estimator, n_features),
            {prefix + key: values for key, values in grid.items()},
            cv=folds,
            scoring=scoring,
        )
    return models


def fit_score(name, model, fit, score, stage):
    """(score, seconds, chosen strength) of one model, or None when it fails."""
    start = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            fit(model)
    except Exception as exc:
        progress(f"  {stage}: {name} failed ({type(exc).__name__}: {exc})")
        return None
    seconds = time.perf_counter() - start
    if hasattr(model, "best_params_"):  # GridSearchCV: its chosen point
        alpha = ", ".join(
            f"{key.split('__')[-1]}={value:.3g}"
            for key, value in model.best_params_.items()
        )
        return score(model), seconds, alpha
    final = model.steps[-1][1] if hasattr(model, "steps") else model
    alpha = getattr(final, "alpha_", None)
    return score(model), seconds, alpha


def school_split(split, train, test, X, y, task_ids, n_alphas, skip):
    XT = np.column_stack([X, task_ids])
    folds = list(
        StratifiedKFold(3, shuffle=True, random_state=split).split(
            train, task_ids[train]
        )
    )
    n_features = X.shape[1]
    models = {
        "IndependentTasks(RidgeCV)": scaled(
            IndependentTasks(RidgeCV(alphas=RIDGE_ALPHAS), task_column=-1), n_features
        ),
        "PooledTasks(RidgeCV)": scaled(
            PooledTasks(RidgeCV(alphas=RIDGE_ALPHAS), task_column=-1), n_features
        ),
        "GraphMultiTaskRegressor('full')": GridSearchCV(
            scaled(GraphMultiTaskRegressor(graph="full", task_column=-1), n_features),
            {
                "graphmultitaskregressor__alpha_graph": np.logspace(0, 4, 5),
                "graphmultitaskregressor__alpha_l2": [0.1, 1.0],
            },
            cv=folds,
            scoring="neg_mean_squared_error",
        ),
        **structured_models("Regressor", n_features, n_alphas, None, skip),
        **grid_models("Regressor", n_features, "neg_mean_squared_error", split, skip),
        "MixedEffectsMultiTaskRegressor (EM, no CV)": scaled(
            MixedEffectsMultiTaskRegressor(task_column=-1), n_features
        ),
    }
    results = {}
    with threadpool_limits(1):
        for name, model in models.items():
            results[name] = fit_score(
                name,
                model,
                lambda m: m.fit(XT[train], y[train]),
                lambda m: (
                    1.0
                    - np.mean((y[test] - m.predict(XT[test])) ** 2) / np.var(y[test])
                ),
                f"split {split + 1}",
            )
    progress(f"  School split {split + 1} done")
    return results


def landmine_repeat(fraction, repeat, X, y, task_ids, n_alphas, skip):
    XT = np.column_stack([X, task_ids])
    rng = np.random.RandomState(repeat)
    train, test = per_task_split(y, task_ids, fraction, rng)
    strata = task_ids[train] * 2 + y[train]
    folds = list(
        StratifiedKFold(3, shuffle=True, random_state=repeat).split(train, strata)
    )
    n_features = X.shape[1]
    lrcv = LogisticRegressionCV(
        Cs=10,
        l1_ratios=(0.0,),
        cv=3,
        scoring="roc_auc",
        max_iter=1000,
        use_legacy_attributes=False,
    )
    auc = make_task_scorer(roc_auc_score, response_method="decision_function")
    models = {
        "IndependentTasks(LogisticRegressionCV)": scaled(
            IndependentTasks(lrcv, task_column=-1), n_features
        ),
        "PooledTasks(LogisticRegressionCV)": scaled(
            PooledTasks(lrcv, task_column=-1), n_features
        ),
        "GraphMultiTaskClassifier('full')": GridSearchCV(
            scaled(GraphMultiTaskClassifier(task_column=-1), n_features),
            {
                "graphmultitaskclassifier__alpha_graph": np.logspace(-1, 3, 5),
                "graphmultitaskclassifier__alpha_l2": np.logspace(-1, 2, 4),
            },
            cv=folds,
            scoring="roc_auc",
        ),
        **structured_models("Classifier", n_features, n_alphas, auc, skip),
        **grid_models("Classifier", n_features, auc, repeat, skip),
        "MixedEffectsMultiTaskClassifier (EM, no CV)": scaled(
            MixedEffectsMultiTaskClassifier(task_column=-1), n_features
        ),
    }
    results = {}
    with threadpool_limits(1):
        for name, model in models.items():
            results[name] = fit_score(
                name,
                model,
                lambda m: m.fit(XT[train], y[train]),
                lambda m: mean_task_auc(
                    y[test], m.predict_proba(XT[test])[:, 1], task_ids[test]
                ),
                f"{fraction:.0%} repeat {repeat + 1}",
            )
    progress(f"  Landmine {fraction:.0%} repeat {repeat + 1} done")
    return results


def chosen(alphas):
    """Median alpha_ of the paths; a grid search's most frequent point."""
    if not alphas:
        return ""
    if isinstance(alphas[0], str):
        point, count = Counter(alphas).most_common(1)[0]
        return f"{point} ({count}/{len(alphas)})"
    return f"{np.median(alphas):.3g}"


def summarize(results, baseline):
    """Rows: model, mean ± std, paired Δ vs baseline, seconds, median alpha_."""
    names = list(dict.fromkeys(n for r in results for n in r))
    rows = []
    for name in names:
        ok = [r for r in results if r.get(name) is not None and r.get(baseline)]
        if not ok:
            rows.append([name, "failed", "", "", ""])
            continue
        values = np.array([r[name][0] for r in ok])
        delta = values - np.array([r[baseline][0] for r in ok])
        alphas = [r[name][2] for r in ok if r[name][2] is not None]
        rows.append(
            [
                name,
                mean_std(values),
                mean_std(delta),
                f"{np.mean([r[name][1] for r in ok]):.2f}",
                chosen(alphas),
            ]
        )
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-home", default=None)
    parser.add_argument("--datasets", default="school,landmine")
    parser.add_argument("--repeats", type=int, default=10, help="Landmine repeats")
    parser.add_argument("--splits", type=int, default=10, help="School splits used")
    parser.add_argument(
        "--fractions", default="0.2,0.5", help="Landmine training fractions"
    )
    parser.add_argument("--alphas", type=int, default=20, help="strengths per path")
    parser.add_argument("--n-jobs", type=int, default=2, help="splits in parallel")
    parser.add_argument(
        "--skip", default="", help="comma-separated structured models to leave out"
    )
    args = parser.parse_args()
    skip = tuple(filter(None, args.skip.split(",")))
    home = data_home_or_none(args.data_home)
    if home is None:
        raise SystemExit("No data home: give --data-home or set SKLEARN_MTL_DATA.")
    datasets = args.datasets.split(",")
    start = time.perf_counter()
    if "school" in datasets:
        school = load_school(home)
        X, y, task_ids = school.data, school.target, school.task_ids
        results = Parallel(n_jobs=args.n_jobs)(
            delayed(school_split)(k, train, test, X, y, task_ids, args.alphas, skip)
            for k, (train, test) in enumerate(school.splits[: args.splits])
        )
        print_table(
            f"School: explained variance, {len(results)} published splits",
            [
                "model",
                "explained variance",
                "Δ vs IndependentTasks",
                "fit s (with CV)",
                "median alpha_",
            ],
            summarize(results, "IndependentTasks(RidgeCV)"),
        )
    if "landmine" in datasets:
        landmine = load_landmine(home)
        X, y, task_ids = landmine.data, landmine.target, landmine.task_ids
        for fraction in map(float, args.fractions.split(",")):
            results = Parallel(n_jobs=args.n_jobs)(
                delayed(landmine_repeat)(fraction, r, X, y, task_ids, args.alphas, skip)
                for r in range(args.repeats)
            )
            print_table(
                f"Landmine, {fraction:.0%} of each task for training: mean AUC "
                f"over 29 tasks, {args.repeats} repeats",
                [
                    "model",
                    "mean task AUC",
                    "Δ vs IndependentTasks",
                    "fit s (with CV)",
                    "median alpha_",
                ],
                summarize(results, "IndependentTasks(LogisticRegressionCV)"),
            )
    print(f"Total: {time.perf_counter() - start:.0f} s.")


if __name__ == "__main__":
    main()
