"""School: per-task cross-validated explained variance of the graph model.

    python benchmarks/school_per_task_cv.py [--data-home ../shared/data]

``cross_validate`` with ``TaskKFold(5)`` (every school in every fold) and a
per-task scorer, task labels routed as metadata. Prints a Markdown table: one
row per school, explained variance mean and std over the 5 test folds, then
the uniform and size-weighted means over schools.
"""

import argparse
import time

import numpy as np
import sklearn
from _common import data_home_or_none
from sklearn.metrics import explained_variance_score
from sklearn.model_selection import cross_validate

from sklearn_mtl import GraphMultiTaskRegressor
from sklearn_mtl.datasets import load_school
from sklearn_mtl.metrics import make_task_scorer
from sklearn_mtl.model_selection import TaskKFold


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-home", default=None)
    home = data_home_or_none(parser.parse_args().data_home)
    if home is None:
        raise SystemExit("School data not found: pass --data-home.")
    school = load_school(data_home=home)
    X, y, task_ids = school.data, school.target, school.task_ids
    cv = TaskKFold(5, shuffle=True, random_state=0)
    start = time.perf_counter()
    with sklearn.config_context(enable_metadata_routing=True):
        per_task = cross_validate(
            GraphMultiTaskRegressor(),
            X,
            y,
            cv=cv,
            scoring=make_task_scorer(explained_variance_score, average=None),
            params={"task_ids": task_ids},
        )
        weighted = cross_validate(
            GraphMultiTaskRegressor(),
            X,
            y,
            cv=cv,
            scoring=make_task_scorer(explained_variance_score, average="weighted"),
            params={"task_ids": task_ids},
        )["test_score"]
    elapsed = time.perf_counter() - start
    tasks, counts = np.unique(task_ids, return_counts=True)
    scores = np.array([per_task[f"test_{task}"] for task in tasks])
    print(f"{len(tasks)} schools, {X.shape[0]} students, 5 folds ({elapsed:.1f} s)\n")
    print("| school | students | EV mean over folds | EV std over folds |")
    print("|---:|---:|---:|---:|")
    for task, n, values in zip(tasks, counts, scores):
        print(f"| {task} | {n} | {values.mean():.3f} | {values.std():.3f} |")
    uniform = scores.mean(axis=0)
    print(
        f"\nMean over schools, uniform: {uniform.mean():.4f} ± {uniform.std():.4f}; "
        f"weighted by test-fold size: {weighted.mean():.4f} ± {weighted.std():.4f} "
        "(mean ± std over folds)"
    )


if __name__ == "__main__":
    main()
