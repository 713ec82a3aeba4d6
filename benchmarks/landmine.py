"""Landmine: the graph-regularized classifier against the classical baselines.

    python benchmarks/landmine.py --data-home ../shared/data [--repeats 10]

Protocol: per task (field) stratified splits with 20 % and 50 % of each task
for training, the rest for testing, ``--repeats`` times. Features are
standardized on the training part. Hyperparameters are chosen on the
training part only: LogisticRegressionCV (3 folds, ROC AUC) inside each
baseline, GridSearchCV (3 folds stratified by task and label, ROC AUC) for the
graph model. Score: AUC per task on its test samples, averaged over the 29
tasks; mean ± std over repeats.
"""

import argparse
import warnings

import numpy as np
from _common import data_home_or_none, mean_std, print_table, scaled, timer
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegressionCV
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from threadpoolctl import threadpool_limits

from sklearn_mtl import GraphMultiTaskClassifier, IndependentTasks, PooledTasks
from sklearn_mtl.datasets import load_landmine

GRAPH_GRID = {
    "graphmultitaskclassifier__alpha_graph": np.logspace(-1, 3, 5),
    "graphmultitaskclassifier__alpha_l2": np.logspace(-1, 2, 4),
}


def per_task_split(y, task_ids, train_fraction, rng):
    """Stratified train/test indices within every task."""
    train = []
    for task in np.unique(task_ids):
        for label in (0, 1):
            rows = np.flatnonzero((task_ids == task) & (y == label))
            n_train = max(1, int(round(train_fraction * len(rows))))
            train.extend(rng.permutation(rows)[:n_train])
    train = np.sort(train)
    return train, np.setdiff1d(np.arange(len(y)), train)


def mean_task_auc(y, proba, task_ids):
    return np.mean(
        [
            roc_auc_score(y[task_ids == t], proba[task_ids == t])
            for t in np.unique(task_ids)
        ]
    )


def run(data_home, repeats=10, fractions=(0.2, 0.5)):
    landmine = load_landmine(data_home)
    X, y, task_ids = landmine.data, landmine.target, landmine.task_ids
    XT = np.column_stack([X, task_ids])
    n_features = X.shape[1]
    rows = []
    for fraction in fractions:
        scores, times = {}, {}
        for repeat in range(repeats):
            rng = np.random.RandomState(repeat)
            train, test = per_task_split(y, task_ids, fraction, rng)
            strata = task_ids[train] * 2 + y[train]
            folds = list(
                StratifiedKFold(3, shuffle=True, random_state=repeat).split(
                    train, strata
                )
            )
            # l1_ratios and use_legacy_attributes set: their defaults change in
            # scikit-learn 1.10 (a FutureWarning per fit otherwise).
            lrcv = LogisticRegressionCV(
                Cs=10,
                l1_ratios=(0.0,),
                cv=3,
                scoring="roc_auc",
                max_iter=1000,
                use_legacy_attributes=False,
            )
            candidates = {
                "IndependentTasks(LogisticRegressionCV)": scaled(
                    IndependentTasks(lrcv, task_column=-1), n_features
                ),
                "PooledTasks(LogisticRegressionCV)": scaled(
                    PooledTasks(lrcv, task_column=-1), n_features
                ),
                "GraphMultiTaskClassifier('full')": GridSearchCV(
                    scaled(GraphMultiTaskClassifier(task_column=-1), n_features),
                    GRAPH_GRID,
                    cv=folds,
                    scoring="roc_auc",
                ),
            }
            for name, model in candidates.items():
                with timer(times, name), warnings.catch_warnings():
                    warnings.simplefilter("ignore", ConvergenceWarning)
                    model.fit(XT[train], y[train])
                proba = model.predict_proba(XT[test])[:, 1]
                scores.setdefault(name, []).append(
                    mean_task_auc(y[test], proba, task_ids[test])
                )
            print(
                f"train {fraction:.0%}: repeat {repeat + 1}/{repeats} done", flush=True
            )
        for name, values in scores.items():
            rows.append(
                [
                    f"{fraction:.0%}",
                    name,
                    mean_std(values),
                    f"{np.mean(times[name]):.2f}",
                ]
            )
    print_table(
        f"Landmine: mean AUC over 29 tasks ({repeats} repeats)",
        ["train", "model", "mean task AUC", "fit s (with CV)"],
        rows,
    )


if __name__ == "__main__":
    # Small problems: BLAS threads only contend (10x slower on a busy 2-core machine).
    threadpool_limits(1, user_api="blas")
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-home", default=None)
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args()
    home = data_home_or_none(args.data_home)
    if home is None:
        parser.error("the Landmine benchmark needs --data-home or $SKLEARN_MTL_DATA")
    run(home, repeats=args.repeats)
