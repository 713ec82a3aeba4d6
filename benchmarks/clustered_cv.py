"""Clustered CV: the path CV against GridSearchCV over the same grid.

    python benchmarks/clustered_cv.py [--data-home ../shared/data] [--splits 1]
        [--dataset school|landmine] [--alphas 10] [--n-clusters 1,2,3]
        [--l2-ratios 0.01,0.1] [--repeats 1]

``--dataset landmine``: the classifier on per-task stratified 20 % training
splits (seeds 0, 1, ...), mean per-task AUC as the fold scorer and on the
test part. School (the default):
On each of the first ``--splits`` published School splits (75 %/25 % per
school), features standardized on the training part, the strengths and the
number of clusters of the clustered model are chosen on the training part by
3 ``TaskKFold`` folds (every school in every fold), negative MSE, two ways:

- ``ClusteredMultiTaskRegressorCV``: one warm-started path over ``alpha`` per
  (``n_clusters``, ``l2_ratio``) and fold, the loss built once per fold, the
  grid placed around ``alpha_ref_`` (see ``docs/clustered.rst``);
- ``GridSearchCV(ClusteredMultiTaskRegressor)`` over exactly the same points
  (``alpha`` from the CV's ``alphas_``, ``alpha_l2 = l2_ratio * alpha``), the
  same folds and scorer: one cold fit per point and fold.

Both refit on the whole training part; the table gives the fit time (one
BLAS thread, ``n_jobs=1``; the median of ``--repeats`` interleaved fits,
after one untimed fit of the CV that gives the grid), the chosen point, the
explained variance on the test part (``1 - MSE / Var(y_test)`` over all
test rows) and the largest relative difference between the two searches'
mean fold scores (warm- and cold-started solves that both stop at the
solver's ``tol``).
"""

import argparse
import time
import warnings

import numpy as np
from _common import data_home_or_none, print_table
from landmine import mean_task_auc, per_task_split
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GridSearchCV
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from sklearn_mtl.datasets import load_landmine, load_school
from sklearn_mtl.linear._clustered import (
    ClusteredMultiTaskClassifier,
    ClusteredMultiTaskRegressor,
)
from sklearn_mtl.linear._cv_family import (
    ClusteredMultiTaskClassifierCV,
    ClusteredMultiTaskRegressorCV,
)
from sklearn_mtl.metrics import make_task_scorer
from sklearn_mtl.model_selection import TaskKFold


def explained_variance(model, XT, y, task_ids):
    return 1.0 - np.mean((y - model.predict(XT)) ** 2) / np.var(y)


def task_auc(model, XT, y, task_ids):
    return mean_task_auc(y, model.decision_function(XT), task_ids)


# dataset: (estimator, its CV, fold scorer, test metric, metric name)
SETUPS = {
    "school": (
        ClusteredMultiTaskRegressor,
        ClusteredMultiTaskRegressorCV,
        "neg_mean_squared_error",
        explained_variance,
        "test EV",
    ),
    "landmine": (
        ClusteredMultiTaskClassifier,
        ClusteredMultiTaskClassifierCV,
        make_task_scorer(roc_auc_score, response_method="decision_function"),
        task_auc,
        "test mean task AUC",
    ),
}


def run_split(dataset, split, train, test, X, y, task_ids, args):
    Estimator, EstimatorCV, scoring, metric, _ = SETUPS[dataset]
    scaler = StandardScaler().fit(X[train])
    XT = np.column_stack([scaler.transform(X), task_ids])
    folds = TaskKFold(3, shuffle=True, random_state=split, task_column=-1)
    common = {"task_column": -1, "random_state": 0}
    path_cv = EstimatorCV(
        alphas=args.alphas,
        n_clusters=args.n_clusters,
        l2_ratio=args.l2_ratios,
        cv=folds,
        scoring=scoring,
        **common,
    )
    path_cv.fit(XT[train], y[train])
    # The CV's grid point by point: (n_clusters, l2_ratio, alpha) in its order.
    results = path_cv.cv_results_
    grid = [
        {"n_clusters": [int(k)], "alpha": [float(a)], "alpha_l2": [float(r * a)]}
        for k, r, a in zip(
            results["param_n_clusters"],
            results["param_l2_ratio"],
            results["param_alpha"],
        )
    ]
    search = GridSearchCV(Estimator(**common), grid, cv=folds, scoring=scoring)
    # Interleaved repeats, medians: the machine's load moves between runs.
    path_times, grid_times = [], []
    for _ in range(args.repeats):
        for model, times in [(path_cv, path_times), (search, grid_times)]:
            start = time.perf_counter()
            model.fit(XT[train], y[train])
            times.append(time.perf_counter() - start)
    path_time, grid_time = np.median(path_times), np.median(grid_times)
    # Relative: negative MSEs of order 100 on School.
    theirs, ours = search.cv_results_["mean_test_score"], results["mean_test_score"]
    gap = np.max(np.abs(theirs - ours) / np.abs(theirs))
    best = search.best_params_
    return [
        (
            EstimatorCV.__name__,
            path_time,
            f"k={path_cv.n_clusters_}, alpha={path_cv.alpha_:.3g}, "
            f"alpha_l2={path_cv.alpha_l2_:.3g} (alpha_ref_={path_cv.alpha_ref_:.3g})",
            metric(path_cv, XT[test], y[test], task_ids[test]),
            gap,
        ),
        (
            f"GridSearchCV({Estimator.__name__})",
            grid_time,
            f"k={best['n_clusters']}, alpha={best['alpha']:.3g}, "
            f"alpha_l2={best['alpha_l2']:.3g}",
            metric(search, XT[test], y[test], task_ids[test]),
            gap,
        ),
    ]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-home", default=None)
    parser.add_argument("--dataset", choices=sorted(SETUPS), default="school")
    parser.add_argument("--splits", type=int, default=1)
    parser.add_argument("--alphas", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--n-clusters", default="1,2,3")
    parser.add_argument("--l2-ratios", default="0.01,0.1")
    args = parser.parse_args()
    args.n_clusters = [int(v) for v in args.n_clusters.split(",")]
    args.l2_ratios = [float(v) for v in args.l2_ratios.split(",")]
    home = data_home_or_none(args.data_home)
    if args.dataset == "school":
        bunch = load_school(home)
        splits = bunch.splits[: args.splits]
    else:
        bunch = load_landmine(home)
    X = np.asarray(bunch.data, dtype=float)
    y = np.asarray(bunch.target)
    task_ids = np.asarray(bunch.task_ids)
    if args.dataset == "landmine":
        # Per-task stratified 20 % training splits, as in landmine.py.
        splits = [
            per_task_split(y, task_ids, 0.2, np.random.RandomState(split))
            for split in range(args.splits)
        ]
    rows = []
    with threadpool_limits(1), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for split, (train, test) in enumerate(splits):
            for name, seconds, point, ev, gap in run_split(
                args.dataset, split, train, test, X, y, task_ids, args
            ):
                rows.append(
                    [
                        split + 1,
                        name,
                        f"{seconds:.1f}",
                        point,
                        f"{ev:.4f}",
                        f"{gap:.1e}",
                    ]
                )
            path_s, grid_s = float(rows[-2][2]), float(rows[-1][2])
            rows[-1].append(f"{grid_s / path_s:.1f}x")
            rows[-2].append("")
    n_points = len(args.n_clusters) * len(args.l2_ratios) * args.alphas
    print_table(
        f"{args.dataset}, clustered model, {n_points} grid points x 3 TaskKFold folds",
        [
            "split",
            "search",
            "fit time (s)",
            "chosen point",
            SETUPS[args.dataset][4],
            "max rel. mean score diff",
            "GridSearchCV / ours",
        ],
        rows,
    )


if __name__ == "__main__":
    main()
