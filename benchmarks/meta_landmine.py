"""Few-shot new landmine fields: the linear meta-learners against the baselines.

    python benchmarks/meta_landmine.py                    # data home as school.py
    python benchmarks/meta_landmine.py --data-home PATH   # a folder with landmine/
    python benchmarks/meta_landmine.py --repeats 2        # quicker

Protocol (issue 9). Each repeat holds out a random 30 % of the 29 fields (9
fields, never seen in meta-training). Every held-out field gets k = 10 or 20
labelled mines (its support set) and is scored by the ROC AUC of the
probability of "landmine" on its other rows; the figure is the mean AUC over
the held-out fields. Features are standardized on the training fields' rows.
Mean ± std over the repeats (5 by default).

Support rule. Only about 6 % of the rows are mines (15-48 per field), so k
random rows often hold none. The support set is k rows drawn uniformly at
random from the field, redrawn until it holds both classes (i.e. k random
rows conditioned on holding a mine and a non-mine: usually exactly one mine
at k = 10). No field prevalence is used. Both classes are needed by the
target-only logistic regression and by the refitted graph model (which
refuses a single-class task); the meta-learners would accept one class.

Models; hyperparameters are defaults or chosen on the training fields only:

* target-only logistic: ``LogisticRegression()`` (C = 1) on the k rows of
  the field alone (too few mines to cross-validate C);
* pooled logistic: ``LogisticRegressionCV`` (10 Cs, 3 folds, ROC AUC) on
  every training field, the new field's rows unused;
* transfer (auto): ``TransferClassifier(method="auto")``, target the new field,
  sources all training fields, fitted on their rows plus the k support rows
  (it picks among target_only, source_only, pooled, parameter, augment and
  coral by 3-fold CV on the k rows);
* graph (refit): ``GraphMultiTaskClassifier()`` (defaults, "full" graph)
  refitted on the training fields plus every new field's k rows;
* learned prior: ``LearnedPriorClassifier`` then ``adapt`` on the k rows;
  ``rank`` in {0, 1, 3} chosen by ``GridSearchCV`` with ``MetaTaskSplit``
  (3 splits, 30 % of the training fields) and ``make_adapt_scorer(k,
  roc_auc_score, response_method="predict_proba")``;
* common-mean logistic: ``CommonMeanRidgeClassifier``, ``alpha`` in
  logspace(-2, 4, 7), chosen the same way.
"""

import _bootstrap  # standard library only: installs what is missing, first

_bootstrap.ensure_installed()

import argparse  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
from _common import data_home_or_none  # noqa: E402
from _meta_fewshot import (  # noqa: E402
    fit_quiet,
    hold_out_tasks,
    per_new_task,
    progress,
    refit_with_new_tasks,
    select_many,
    table,
)
from sklearn.linear_model import LogisticRegression, LogisticRegressionCV  # noqa: E402
from sklearn.metrics import roc_auc_score  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from sklearn_mtl import GraphMultiTaskClassifier  # noqa: E402
from sklearn_mtl.datasets import load_landmine  # noqa: E402
from sklearn_mtl.meta import (  # noqa: E402
    CommonMeanRidgeClassifier,
    LearnedPriorClassifier,
    make_adapt_scorer,
)
from sklearn_mtl.transfer import TransferClassifier  # noqa: E402

SHOTS = (10, 20)
MODELS = (
    "target-only logistic",
    "pooled logistic",
    "transfer (auto)",
    "graph (refit)",
    "learned prior",
    "common-mean logistic",
)
META = (
    ("learned prior", LearnedPriorClassifier, {"rank": [0, 1, 3]}),
    (
        "common-mean logistic",
        CommonMeanRidgeClassifier,
        {"alpha": np.logspace(-2, 4, 7)},
    ),
)


def draw_support(y_task, k, rng):
    """k random rows of one field, redrawn until both classes are there."""
    while True:
        rows = rng.permutation(len(y_task))
        if np.unique(y_task[rows[:k]]).size == 2:
            return rows[:k], rows[k:]


def mean_task_auc(y, score, task_ids):
    return float(
        np.mean(
            [
                roc_auc_score(y[task_ids == t], score[task_ids == t])
                for t in np.unique(task_ids)
            ]
        )
    )


def proba(model, X, task_ids=None):
    if task_ids is None:
        return model.predict_proba(X)[:, 1]
    return model.predict_proba(X, task_ids=task_ids)[:, 1]


def run_repeat(repeat, X, y, task_ids):
    rng = np.random.default_rng(repeat)
    held_out = hold_out_tasks(task_ids, 0.3, rng)
    test_rows = np.isin(task_ids, held_out)
    # Shuffled rows: make_adapt_scorer adapts on the first k rows of a task.
    train = rng.permutation(np.flatnonzero(~test_rows))
    Xs = StandardScaler().fit(X[train]).transform(X)
    Xtr, ytr, ttr = Xs[train], y[train], task_ids[train]
    pooled = fit_quiet(
        LogisticRegressionCV(
            Cs=10,
            l1_ratios=(0.0,),
            cv=3,
            scoring="roc_auc",
            max_iter=1000,
            use_legacy_attributes=False,
        ),
        Xtr,
        ytr,
    )
    scorers = {
        f"k{k}": make_adapt_scorer(k, roc_auc_score, response_method="predict_proba")
        for k in SHOTS
    }
    chosen = {
        name: select_many(make(), grid, Xtr, ytr, ttr, scorers, repeat)
        for name, make, grid in META
    }
    scores = {}
    for k in SHOTS:
        support, query = [], []
        for task in held_out:
            rows = np.flatnonzero(task_ids == task)
            s, q = draw_support(y[rows], k, rng)
            support.append(rows[s])
            query.append(rows[q])
        support, query = np.concatenate(support), np.concatenate(query)
        tq = task_ids[query]
        preds = {"pooled logistic": proba(pooled, Xs[query])}
        alone = np.empty(len(query))
        for task in held_out:
            s = support[task_ids[support] == task]
            alone[tq == task] = proba(
                LogisticRegression().fit(Xs[s], y[s]), Xs[query[tq == task]]
            )
        preds["target-only logistic"] = alone
        preds["transfer (auto)"] = per_new_task(
            lambda task: TransferClassifier(method="auto", target=task),
            Xtr,
            ytr,
            ttr,
            Xs,
            y,
            task_ids,
            support,
            query,
            proba,
        )
        graph = refit_with_new_tasks(
            GraphMultiTaskClassifier(), Xtr, ytr, ttr, Xs, y, task_ids, support
        )
        preds["graph (refit)"] = proba(graph, Xs[query], tq)
        for name, make, _ in META:
            params = chosen[name][f"k{k}"]
            model = fit_quiet(make(**params), Xtr, ytr, task_ids=ttr)
            model.adapt(Xs[support], y[support], task_ids=task_ids[support])
            preds[name] = proba(model, Xs[query], tq)
        for name in MODELS:
            scores[(name, k)] = mean_task_auc(y[query], preds[name], tq)
    return scores, {name: chosen[name] for name, _, _ in META}


def run(data_home, repeats):
    landmine = load_landmine(data_home)
    X, y, task_ids = landmine.data, landmine.target, landmine.task_ids
    progress(f"Landmine: {len(np.unique(task_ids))} fields, {repeats} repeats")
    start = time.perf_counter()
    results, picks = [], []
    with threadpool_limits(1):
        for repeat in range(repeats):
            scores, chosen = run_repeat(repeat, X, y, task_ids)
            results.append(scores)
            picks.append(chosen)
            progress(f"  repeat {repeat + 1}/{repeats} done")
    elapsed = time.perf_counter() - start
    table(
        "Landmine: mean AUC over new fields (30 % of the 29 fields held out, "
        f"{repeats} repeats, mean ± std)",
        MODELS,
        SHOTS,
        results,
        peer="pooled logistic",
    )
    for name, _, _ in META:
        print(
            f"{name}, hyperparameters chosen per repeat: "
            f"{[{k: p[name][k] for k in p[name]} for p in picks]}"
        )
    print(f"\nTotal time: {elapsed:.0f} s")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-home", default=None)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    home = data_home_or_none(args.data_home)
    if home is None:
        parser.error("the Landmine benchmark needs --data-home or $SKLEARN_MTL_DATA")
    run(home, args.repeats)


if __name__ == "__main__":
    main()
