"""Few-shot new schools: the linear meta-learners against the baselines on School.

    python benchmarks/meta_school.py                    # data home as school.py
    python benchmarks/meta_school.py --data-home PATH   # a folder with school/

Protocol (issue 9). Each repeat holds out a random 30 % of the 139 schools
(never seen in meta-training); every held-out school gets k = 5, 10 or 20
randomly drawn labelled students (its support set), and the score is the
explained variance ``1 - MSE / Var(y)`` over all the held-out schools' other
students, pooled. Features are standardized on the training schools' rows.
Mean ± std over 5 repeats.

Models, all chosen on the training schools only:

* target-only ridge: ``RidgeCV`` (leave-one-out over 13 alphas) on the k
  samples of each new school alone;
* pooled ridge: one ``RidgeCV`` on every training school, the new school's
  samples unused;
* transfer (auto): ``TransferRegressor(method="auto")``, target the new
  school, sources all training schools, fitted on their rows plus the k
  support rows (it picks among target_only, source_only, pooled, parameter,
  augment and coral by 3-fold CV on the k rows);
* graph (refit): ``GraphMultiTaskRegressor()`` (defaults, "full" graph)
  refitted on the training schools plus every new school's k rows;
* learned prior: ``LearnedPriorRegressor`` then ``adapt`` on the k samples,
  each new school's intercept free (``intercept_prior="flat"``)
  or drawn from a learned ``N(b0, tau2)`` (``"learned"``); ``rank`` in
  {0, 1, 3, 5} picked by ``GridSearchCV`` with ``MetaTaskSplit``
  (3 splits, 30 % of the training schools held out) and
  ``make_adapt_scorer(k)`` (adapt on k rows of each held-out training
  school, score the rest), i.e. selected the way it is used;
* common-mean ridge: ``CommonMeanRidge``, ``alpha`` in logspace(-1, 5, 7)
  picked the same way.

Without School data the same table is made on synthetic related tasks.
"""

import _bootstrap  # standard library only: installs what is missing, first

_bootstrap.ensure_installed()

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
from _common import data_home_or_none, mean_std, print_table  # noqa: E402
from _meta_fewshot import per_new_task, refit_with_new_tasks  # noqa: E402
from sklearn.linear_model import RidgeCV  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from sklearn_mtl import GraphMultiTaskRegressor  # noqa: E402
from sklearn_mtl.datasets import load_school, make_multitask_regression  # noqa: E402
from sklearn_mtl.meta import (  # noqa: E402
    CommonMeanRidge,
    LearnedPriorRegressor,
    MetaTaskSplit,
    make_adapt_scorer,
)
from sklearn_mtl.transfer import TransferRegressor  # noqa: E402

SHOTS = (5, 10, 20)
N_REPEATS = 5
RIDGE_ALPHAS = np.logspace(-2, 4, 13)
MODELS = (
    "target-only ridge",
    "pooled ridge",
    "transfer (auto)",
    "graph (refit)",
    "learned prior",
    "learned prior + intercept prior",
    "common-mean ridge",
)
META = (
    ("learned prior", {"intercept_prior": "flat"}, {"rank": [0, 1, 3, 5]}),
    (
        "learned prior + intercept prior",
        {"intercept_prior": "learned"},
        {"rank": [0, 1, 3, 5]},
    ),
    ("common-mean ridge", None, {"alpha": np.logspace(-1, 5, 7)}),
)


def explained_variance(y_true, y_pred):
    return 1.0 - np.mean((y_true - y_pred) ** 2) / np.var(y_true)


def load(data_home):
    if data_home is not None:
        school = load_school(data_home)
        return "School", school.data, school.target, school.task_ids
    X, y, task_ids = make_multitask_regression(
        n_tasks=100,
        n_samples=60,
        n_features=15,
        n_clusters=3,
        task_spread=0.3,
        noise=2.0,
        random_state=0,
    )
    return "synthetic related tasks", X, y, task_ids


def progress(message):
    print(message, file=sys.stderr, flush=True)


def select(estimator, grid, X, y, task_ids, k, seed):
    """Hyperparameters scored on new tasks: the issue's leave-tasks-out search."""
    XT = np.column_stack([X, task_ids])  # the task column reaches the scorer
    search = GridSearchCV(
        estimator.set_params(task_column=-1),
        grid,
        cv=MetaTaskSplit(3, test_size=0.3, random_state=seed, task_column=-1),
        scoring=make_adapt_scorer(k),
    ).fit(XT, y)
    return search.best_params_


def run_repeat(repeat, X, y, task_ids):
    rng = np.random.default_rng(repeat)
    tasks = np.unique(task_ids)
    held_out = rng.choice(tasks, size=int(round(0.3 * len(tasks))), replace=False)
    test_rows = np.isin(task_ids, held_out)
    # Shuffled rows: make_adapt_scorer adapts on the first k rows of a task.
    train = rng.permutation(np.flatnonzero(~test_rows))
    scaler = StandardScaler().fit(X[train])
    Xs = scaler.transform(X)
    Xtr, ytr, ttr = Xs[train], y[train], task_ids[train]
    pooled = RidgeCV(alphas=RIDGE_ALPHAS).fit(Xtr, ytr)
    scores, chosen = {}, {}
    for k in SHOTS:
        # k random students of each held-out school are its support set.
        support, query = [], []
        for task in held_out:
            rows = rng.permutation(np.flatnonzero(task_ids == task))
            support.append(rows[:k])
            query.append(rows[k:])
        support, query = np.concatenate(support), np.concatenate(query)
        preds = {"pooled ridge": pooled.predict(Xs[query])}
        target = np.empty(len(query))
        offset = 0
        for s_rows, q_rows in zip(
            np.split(support, len(held_out)),
            np.split(
                query, np.cumsum([np.sum(task_ids == t) - k for t in held_out])[:-1]
            ),
        ):
            alone = RidgeCV(alphas=RIDGE_ALPHAS).fit(Xs[s_rows], y[s_rows])
            target[offset : offset + len(q_rows)] = alone.predict(Xs[q_rows])
            offset += len(q_rows)
        preds["target-only ridge"] = target
        preds["transfer (auto)"] = per_new_task(
            lambda task: TransferRegressor(method="auto", target=task),
            Xtr,
            ytr,
            ttr,
            Xs,
            y,
            task_ids,
            support,
            query,
            lambda model, Xq: model.predict(Xq),
        )
        graph = refit_with_new_tasks(
            GraphMultiTaskRegressor(), Xtr, ytr, ttr, Xs, y, task_ids, support
        )
        preds["graph (refit)"] = graph.predict(Xs[query], task_ids=task_ids[query])
        for name, options, grid in META:
            estimator = (
                CommonMeanRidge()
                if options is None
                else LearnedPriorRegressor(**options)
            )
            params = select(estimator, grid, Xtr, ytr, ttr, k, repeat)
            model = estimator.set_params(task_column=None, **params)
            model.fit(Xtr, ytr, task_ids=ttr)
            model.adapt(Xs[support], y[support], task_ids=task_ids[support])
            preds[name] = model.predict(Xs[query], task_ids=task_ids[query])
            chosen[(name, k)] = params
        for name in MODELS:
            scores[(name, k)] = explained_variance(y[query], preds[name])
    return scores, chosen


def run(data_home=None, repeats=N_REPEATS):
    title, X, y, task_ids = load(data_home)
    n_tasks = len(np.unique(task_ids))
    progress(f"{title}: {n_tasks} tasks, {repeats} repeats")
    start = time.perf_counter()
    results = []
    with threadpool_limits(1):
        for repeat in range(repeats):
            results.append(run_repeat(repeat, X, y, task_ids))
            progress(f"  repeat {repeat + 1}/{repeats} done")
    elapsed = time.perf_counter() - start
    header = ["model", *[f"k = {k}" for k in SHOTS]]
    rows = [
        [name, *[mean_std([r[0][(name, k)] for r in results], 3) for k in SHOTS]]
        for name in MODELS
    ]
    for name in MODELS:
        if name == "pooled ridge":
            continue
        # Paired over repeats: both models see the same held-out schools and
        # the same support students.
        rows.append(
            [
                f"{name} − pooled ridge (paired)",
                *[
                    mean_std(
                        [r[0][(name, k)] - r[0][("pooled ridge", k)] for r in results],
                        3,
                    )
                    for k in SHOTS
                ],
            ]
        )
    print_table(
        f"{title}: explained variance on new tasks (30 % of tasks held out, "
        f"{repeats} repeats, mean ± std)",
        header,
        rows,
    )
    for name, _, _ in META:
        picks = {k: [r[1][(name, k)] for r in results] for k in SHOTS}
        print(f"{name}, hyperparameters chosen per repeat: {picks}")
    print(f"\nTotal time: {elapsed:.0f} s")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-home", default=None)
    parser.add_argument("--repeats", type=int, default=N_REPEATS)
    args = parser.parse_args()
    run(data_home_or_none(args.data_home), args.repeats)


if __name__ == "__main__":
    main()
