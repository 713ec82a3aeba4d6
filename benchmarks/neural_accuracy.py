"""Neural multi-task models against the same network per task / pooled, on real data.

    python benchmarks/neural_accuracy.py --data-home ../shared/data [--repeats 3]

School (regression, explained variance over all test rows; the first
``--repeats`` published splits) and Landmine (classification, mean AUC over
the 29 tasks; ``--repeats`` per-task stratified 20 % training splits). Every
network has the same fixed, untuned settings (one hidden layer of 32 units,
Adam, early stopping on a task-stratified 10 % of the training part);
``IndependentTasks`` / ``PooledTasks`` wrap that same network. The graph
model is the linear reference, its strengths chosen by 3-fold GridSearchCV on
the training part. Features are standardized on the training part.
"""

import argparse
import warnings

import numpy as np
from _common import data_home_or_none, mean_std, print_table, scaled, timer
from landmine import mean_task_auc, per_task_split
from school import explained_variance
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, StratifiedKFold

from sklearn_mtl import (
    GraphMultiTaskClassifier,
    GraphMultiTaskRegressor,
    IndependentTasks,
    MultiTaskClassifier,
    MultiTaskRegressor,
    PooledTasks,
)
from sklearn_mtl.datasets import load_landmine, load_school

NETWORK = dict(
    hidden_layer_sizes=(32,),
    max_epochs=200,
    early_stopping=True,
    n_iter_no_change=10,
    weight_decay=1e-4,
    batch_size=64,
)
GRID = {"alpha_graph": np.logspace(-1, 3, 5), "alpha_l2": np.logspace(-1, 2, 4)}


def candidates(network_class, graph_class, n_features, folds, scoring, seed):
    network = network_class(**NETWORK, random_state=seed)
    graph_grid = {f"{graph_class.__name__.lower()}__{k}": v for k, v in GRID.items()}
    return {
        f"{network_class.__name__} (hard sharing)": network.set_params(task_column=-1),
        f"{network_class.__name__} (MMoE, 4 experts)": network_class(
            **NETWORK, architecture="mmoe", random_state=seed, task_column=-1
        ),
        "IndependentTasks(same network)": IndependentTasks(
            network_class(**NETWORK, random_state=seed), task_column=-1
        ),
        "PooledTasks(same network)": PooledTasks(
            network_class(**NETWORK, random_state=seed), task_column=-1
        ),
        f"{graph_class.__name__}('full'), CV": GridSearchCV(
            scaled(graph_class(task_column=-1), n_features),
            graph_grid,
            cv=folds,
            scoring=scoring,
        ),
    }


def school(data_home, repeats):
    data = load_school(data_home)
    X, y, task_ids = data.data, data.target, data.task_ids
    XT = np.column_stack([X, task_ids])
    scores, times = {}, {}
    for split, (train, test) in enumerate(data.splits[:repeats]):
        folds = list(
            StratifiedKFold(3, shuffle=True, random_state=split).split(
                train, task_ids[train]
            )
        )
        models = candidates(
            MultiTaskRegressor,
            GraphMultiTaskRegressor,
            X.shape[1],
            folds,
            "neg_mean_squared_error",
            split,
        )
        for name, model in models.items():
            model = (
                model if isinstance(model, GridSearchCV) else scaled(model, X.shape[1])
            )
            with timer(times, name):
                model.fit(XT[train], y[train])
            scores.setdefault(name, []).append(
                explained_variance(y[test], model.predict(XT[test]))
            )
        print(f"School split {split + 1}/{repeats} done", flush=True)
    return scores, times


def landmine(data_home, repeats):
    data = load_landmine(data_home)
    X, y, task_ids = data.data, data.target, data.task_ids
    XT = np.column_stack([X, task_ids])
    scores, times = {}, {}
    for repeat in range(repeats):
        train, test = per_task_split(y, task_ids, 0.2, np.random.RandomState(repeat))
        strata = task_ids[train] * 2 + y[train]
        folds = list(
            StratifiedKFold(3, shuffle=True, random_state=repeat).split(train, strata)
        )
        models = candidates(
            MultiTaskClassifier,
            GraphMultiTaskClassifier,
            X.shape[1],
            folds,
            "roc_auc",
            repeat,
        )
        for name, model in models.items():
            model = (
                model if isinstance(model, GridSearchCV) else scaled(model, X.shape[1])
            )
            with timer(times, name):
                model.fit(XT[train], y[train])
            proba = model.predict_proba(XT[test])[:, 1]
            scores.setdefault(name, []).append(
                mean_task_auc(y[test], proba, task_ids[test])
            )
        print(f"Landmine repeat {repeat + 1}/{repeats} done", flush=True)
    return scores, times


def run(data_home, repeats):
    warnings.simplefilter("ignore", ConvergenceWarning)
    for title, (scores, times), metric in [
        (
            "School: explained variance",
            school(data_home, repeats),
            "explained variance",
        ),
        (
            "Landmine, 20 % training: mean AUC over tasks",
            landmine(data_home, repeats),
            "mean task AUC",
        ),
    ]:
        rows = [
            [name, mean_std(v), f"{np.mean(times[name]):.1f}"]
            for name, v in scores.items()
        ]
        print_table(f"{title} ({repeats} splits)", ["model", metric, "fit s"], rows)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-home", default=None)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    home = data_home_or_none(args.data_home)
    if home is None:
        parser.error("needs --data-home or $SKLEARN_MTL_DATA")
    run(home, args.repeats)
