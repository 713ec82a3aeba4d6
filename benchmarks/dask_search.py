"""Wall time of a 100-candidate GridSearchCV: serially and on a Dask cluster.

    python benchmarks/dask_search.py [--data-home ../shared/data] [--n-workers 2]

GraphMultiTaskRegressor over alpha_graph x alpha_l2 (10 x 10 candidates) with
TaskKFold(3) and a per-task R² scorer, task labels routed as metadata, on School
(``--data-home``, else ``$SKLEARN_MTL_DATA``, else ``../shared/data``, else
synthetic tasks of School's shape). The same search code runs three ways, only
the joblib backend differing:

- sequential: every fit in this process, one at a time (the reference);
- loky: joblib's default local process pool with ``--n-workers`` processes;
- dask: a ``distributed.LocalCluster`` of ``--n-workers`` single-threaded
  worker processes, through ``joblib.parallel_config(backend="dask")``.

Prints a Markdown table (wall time, ratio to sequential) and checks that every
run found the same scores and best parameters. The cluster's start-up is timed
apart: a real cluster is started once and serves many searches.
"""

import argparse
import logging
import os
import time

import joblib
import numpy as np
import sklearn
from _common import data_home_or_none, print_table
from sklearn.metrics import r2_score
from sklearn.model_selection import GridSearchCV

from sklearn_mtl import GraphMultiTaskRegressor
from sklearn_mtl.datasets import load_school, make_multitask_regression
from sklearn_mtl.metrics import make_task_scorer
from sklearn_mtl.model_selection import TaskKFold

GRID = {
    "alpha_graph": np.logspace(-3, 2, 10).tolist(),
    "alpha_l2": np.logspace(-3, 2, 10).tolist(),
}


def load(home):
    if home is not None:
        school = load_school(data_home=home)
        return "School", school.data, school.target, school.task_ids
    # School's shape: 139 tasks of about 110 samples, 27 features.
    rng = np.random.RandomState(0)
    X, y, task_ids = make_multitask_regression(
        n_tasks=139,
        n_samples=rng.randint(20, 200, size=139),
        n_features=27,
        noise=5.0,
        random_state=0,
    )
    return "synthetic (School's shape)", X, y, task_ids


def search(X, y, task_ids, n_jobs):
    """The user's code: unchanged whatever backend is active around it."""
    with sklearn.config_context(enable_metadata_routing=True):
        grid = GridSearchCV(
            GraphMultiTaskRegressor(),
            GRID,
            cv=TaskKFold(3, shuffle=True, random_state=0),
            scoring=make_task_scorer(r2_score),
            n_jobs=n_jobs,
        )
        return grid.fit(X, y, task_ids=task_ids)


def timed(run):
    start = time.perf_counter()
    result = run()
    return result, time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-home", default=None)
    parser.add_argument("--n-workers", type=int, default=2)
    args = parser.parse_args()
    from distributed import Client, LocalCluster

    name, X, y, task_ids = load(data_home_or_none(args.data_home))
    n_tasks = len(np.unique(task_ids))
    n_candidates = len(GRID["alpha_graph"]) * len(GRID["alpha_l2"])
    print(
        f"{name}: {X.shape[0]} samples, {X.shape[1]} features, {n_tasks} tasks; "
        f"{n_candidates} candidates x 3 folds = {3 * n_candidates} fits + refit; "
        f"{os.cpu_count()} CPUs",
        flush=True,
    )
    n = args.n_workers
    with joblib.parallel_config(backend="sequential"):
        reference, t_serial = timed(lambda: search(X, y, task_ids, n_jobs=None))
    with joblib.parallel_config(backend="loky"):
        loky, t_loky = timed(lambda: search(X, y, task_ids, n_jobs=n))

    start = time.perf_counter()
    cluster = LocalCluster(
        n_workers=n,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        silence_logs=logging.ERROR,
    )
    client = Client(cluster)
    t_start = time.perf_counter() - start
    try:
        with joblib.parallel_config(backend="dask"):
            dask, t_dask = timed(lambda: search(X, y, task_ids, n_jobs=-1))
    finally:
        client.close()
        cluster.close()

    for label, other in [("loky", loky), ("dask", dask)]:
        same = np.array_equal(
            other.cv_results_["mean_test_score"],
            reference.cv_results_["mean_test_score"],
        )
        if not same or other.best_params_ != reference.best_params_:
            raise SystemExit(f"{label}: the search's results differ from sequential.")

    print_table(
        f"GridSearchCV, {n_candidates} candidates, TaskKFold(3), {name}",
        ["backend", "workers", "wall time (s)", "ratio to sequential"],
        [
            ["sequential (reference)", 1, f"{t_serial:.2f}", "1.00"],
            ["loky", n, f"{t_loky:.2f}", f"{t_loky / t_serial:.2f}"],
            [
                "dask LocalCluster",
                n,
                f"{t_dask:.2f}",
                f"{t_dask / t_serial:.2f}",
            ],
        ],
    )
    print(
        f"Cluster start-up (not in the times above): {t_start:.2f} s. "
        "All three runs: identical mean_test_score for every candidate; best "
        f"{reference.best_params_} (R² {reference.best_score_:.4f})."
    )


if __name__ == "__main__":
    main()
