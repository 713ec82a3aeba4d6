"""Main job: multi-task models against the classical baselines on School.

    python benchmarks/school.py                      # finds the data, else synthetic
    python benchmarks/school.py --data-home PATH     # a folder with school/ in it

On a fresh machine the first run installs what the package and its tests
need (see ``_bootstrap.py``). The data home is ``--data-home``, else
``$SKLEARN_MTL_DATA``, else ``../shared/data`` beside this checkout when it
exists; without School data the same table is made on synthetic related tasks
(5 random 75/25 splits).

Protocol (real data): the 10 published 75 %/25 %-per-school splits. Every
model sees features standardized on its training part; hyperparameters are
chosen on the training part only (RidgeCV's leave-one-out for the baselines;
GridSearchCV with 3 task-stratified folds for the graph models, over
alpha_graph in {1, 10, 100, 1e3, 1e4} and alpha_l2 in {0.1, 1}; on the
standardized School features a wider alpha_l2 grid, logspace(-1, 2, 4), chose
0.1 or 1 in every split and fold checked, so its other points only cost time).
Score: explained variance 1 - MSE / Var(y_test) over all test rows, mean ± std
over splits, and the paired difference to each baseline. Splits run in
parallel (``--n-jobs``), one BLAS thread each: these problems are small, and
threads only contend.
"""

import _bootstrap  # standard library only: installs what is missing, first

_bootstrap.ensure_installed()

import argparse  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402
from _common import data_home_or_none, mean_std, print_table, scaled  # noqa: E402
from joblib import Parallel, delayed  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.linear_model import RidgeCV  # noqa: E402
from sklearn.model_selection import (  # noqa: E402
    GridSearchCV,
    StratifiedKFold,
    train_test_split,
)
from threadpoolctl import threadpool_limits  # noqa: E402

from sklearn_mtl import (  # noqa: E402
    GraphMultiTaskRegressor,
    IndependentTasks,
    PooledTasks,
)
from sklearn_mtl.datasets import load_school, make_multitask_regression  # noqa: E402

RIDGE_ALPHAS = np.logspace(-2, 4, 13)
GRAPH_GRID = {
    "graphmultitaskregressor__alpha_graph": np.logspace(0, 4, 5),
    "graphmultitaskregressor__alpha_l2": [0.1, 1.0],
}


def models(n_features, task_folds):
    baselines = {
        "IndependentTasks(RidgeCV)": IndependentTasks(
            RidgeCV(alphas=RIDGE_ALPHAS), task_column=-1
        ),
        "PooledTasks(RidgeCV)": PooledTasks(
            RidgeCV(alphas=RIDGE_ALPHAS), task_column=-1
        ),
    }
    out = {name: scaled(m, n_features) for name, m in baselines.items()}
    for graph in ["full", "knn", "learned"]:
        out[f"GraphMultiTaskRegressor({graph!r})"] = GridSearchCV(
            scaled(GraphMultiTaskRegressor(graph=graph, task_column=-1), n_features),
            GRAPH_GRID,
            cv=task_folds,
            scoring="neg_mean_squared_error",
        )
    return out


def explained_variance(y_true, y_pred):
    return 1.0 - np.mean((y_true - y_pred) ** 2) / np.var(y_true)


def load(data_home):
    if data_home is not None:
        school = load_school(data_home)
        return (
            "School (10 published splits)",
            school.data,
            school.target,
            school.task_ids,
            school.splits,
        )
    X, y, task_ids = make_multitask_regression(
        n_tasks=30,
        n_samples=24,
        n_features=15,
        n_clusters=3,
        task_spread=0.3,
        noise=2.0,
        random_state=0,
    )
    splits = [
        train_test_split(
            np.arange(len(y)), test_size=0.25, stratify=task_ids, random_state=seed
        )
        for seed in range(5)
    ]
    return "synthetic related tasks (5 random 75/25 splits)", X, y, task_ids, splits


def progress(message):
    print(message, file=sys.stderr, flush=True)


def run_split(split, n_splits, train, test, X, y, task_ids):
    """Fit every model on one split; its scores and fit times (CV included)."""
    XT = np.column_stack([X, task_ids])  # the task column travels through CV
    folds = list(
        StratifiedKFold(3, shuffle=True, random_state=split).split(
            train, task_ids[train]
        )
    )
    scores, times = {}, {}
    with threadpool_limits(1), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for name, model in models(X.shape[1], folds).items():
            start = time.perf_counter()
            model.fit(XT[train], y[train])
            times[name] = time.perf_counter() - start
            scores[name] = explained_variance(y[test], model.predict(XT[test]))
            progress(f"  split {split + 1}/{n_splits}: {name} {times[name]:.1f} s")
    return scores, times


def run(data_home=None, n_jobs=-1):
    title, X, y, task_ids, splits = load(data_home)
    progress(f"{title}: {len(splits)} splits, 5 models each, n_jobs={n_jobs}")
    start = time.perf_counter()
    jobs = (
        delayed(run_split)(split, len(splits), train, test, X, y, task_ids)
        for split, (train, test) in enumerate(splits)
    )
    scores, times = {}, {}
    done = 0
    for split_scores, split_times in Parallel(
        n_jobs=n_jobs, return_as="generator_unordered"
    )(jobs):
        done += 1
        progress(
            f"{done}/{len(splits)} splits done ({time.perf_counter() - start:.0f} s)"
        )
        for name in split_scores:
            scores.setdefault(name, []).append(split_scores[name])
            times.setdefault(name, []).append(split_times[name])
    # Splits arrive in any order, but each brings all models' scores at once:
    # position i of every list is the same split, so differences stay paired.
    independent = np.array(scores["IndependentTasks(RidgeCV)"])
    pooled = np.array(scores["PooledTasks(RidgeCV)"])
    rows = []
    for name, values in scores.items():
        values = np.array(values)
        rows.append(
            [
                name,
                mean_std(values),
                mean_std(values - independent),
                mean_std(values - pooled),
                f"{np.mean(times[name]):.2f}",
            ]
        )
    print_table(
        f"Explained variance on {title}",
        [
            "model",
            "explained variance",
            "Δ vs independent",
            "Δ vs pooled",
            "fit s (with CV)",
        ],
        rows,
    )
    print(
        f"Main job: {time.perf_counter() - start:.1f} s for the {len(splits)} splits."
    )
    return scores


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--data-home",
        default=None,
        help="folder with a school/ sub-folder (default: $SKLEARN_MTL_DATA, else "
        "../shared/data beside the checkout; synthetic data without either)",
    )
    parser.add_argument(
        "--n-jobs", type=int, default=-1, help="splits run in parallel (-1: all cores)"
    )
    parser.add_argument(
        "--synthetic", action="store_true", help="use synthetic tasks even if found"
    )
    args = parser.parse_args()
    home = None if args.synthetic else data_home_or_none(args.data_home)
    if home is not None and args.data_home is None:
        if os.path.isdir(os.path.join(home, "school")):
            progress(f"Data home: {home}")
        else:  # a default home without School: the synthetic table, said so
            progress(f"No school/ in {home}; using synthetic tasks.")
            home = None
    run(home, n_jobs=args.n_jobs)
