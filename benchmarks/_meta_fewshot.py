"""Shared pieces of the few-shot new-task benchmarks (meta_school.py,
meta_landmine.py, meta_parkinsons.py): the held-out split, the baselines that
need one fit per new task or a refit with the new tasks, model selection on
training tasks only, and the table with paired differences."""

import sys
import warnings

import numpy as np
from _common import mean_std, print_table
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV

from sklearn_mtl.meta import MetaTaskSplit


def progress(message):
    print(message, file=sys.stderr, flush=True)


def hold_out_tasks(task_ids, fraction, rng):
    """A random ``fraction`` of the tasks, never seen in meta-training."""
    tasks = np.unique(task_ids)
    return np.sort(
        rng.choice(tasks, size=int(round(fraction * len(tasks))), replace=False)
    )


def select_many(estimator, grid, X, y, task_ids, scorers, seed):
    """Best parameters for each scorer (one per k), from one search.

    ``GridSearchCV`` with :class:`MetaTaskSplit` (3 splits, 30 % of the
    training tasks held out) scores every candidate with every scorer; the
    meta-learner is fitted once per candidate and split, whatever the number
    of shots. Only training tasks are seen.
    """
    XT = np.column_stack([X, task_ids])  # the task column reaches the scorer
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        search = GridSearchCV(
            estimator.set_params(task_column=-1),
            grid,
            cv=MetaTaskSplit(3, test_size=0.3, random_state=seed, task_column=-1),
            scoring=scorers,
            refit=False,
        ).fit(XT, y)
    results = search.cv_results_
    return {
        name: results["params"][int(np.argmax(results[f"mean_test_{name}"]))]
        for name in scorers
    }


def fit_quiet(model, *args, **kwargs):
    """Fit without the ConvergenceWarnings of capped EM / L-BFGS runs."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(*args, **kwargs)


def per_new_task(make_model, Xtr, ytr, ttr, X, y, task_ids, support, query, output):
    """One model per new task fitted on all training rows plus that task's
    support rows (``TransferRegressor/Classifier`` with the training tasks as
    sources); ``output(model, X_query)`` gives the query predictions."""
    out = np.empty(len(query))
    for task in np.unique(task_ids[query]):
        s = support[task_ids[support] == task]
        in_task = task_ids[query] == task
        model = fit_quiet(
            make_model(task),
            np.vstack([Xtr, X[s]]),
            np.r_[ytr, y[s]],
            task_ids=np.r_[ttr, task_ids[s]],
        )
        out[in_task] = output(model, X[query[in_task]])
    return out


def refit_with_new_tasks(model, Xtr, ytr, ttr, X, y, task_ids, support):
    """The multi-task model refitted on the training tasks plus every new
    task's support rows (it has no other way to serve a new task)."""
    return fit_quiet(
        model,
        np.vstack([Xtr, X[support]]),
        np.r_[ytr, y[support]],
        task_ids=np.r_[ttr, task_ids[support]],
    )


def table(title, models, shots, results, peer, digits=3, higher_is_better=True):
    """Mean ± std over repeats, then each model minus ``peer`` paired by repeat."""
    header = ["model", *[f"k = {k}" for k in shots]]
    rows = [
        [name, *[mean_std([r[(name, k)] for r in results], digits) for k in shots]]
        for name in models
    ]
    for name in models:
        if name == peer:
            continue
        rows.append(
            [
                f"{name} − {peer} (paired)",
                *[
                    mean_std([r[(name, k)] - r[(peer, k)] for r in results], digits)
                    for k in shots
                ],
            ]
        )
    best = max if higher_is_better else min
    for k in shots:
        means = {name: np.mean([r[(name, k)] for r in results]) for name in models}
        progress(f"k = {k}: best {best(means, key=means.get)}")
    print_table(title, header, rows)
