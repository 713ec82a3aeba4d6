"""Transfer regression: Concrete (three domains) and School (one school as target).

    python benchmarks/transfer_regression.py --data-home ../shared/data [--repeats 10]

Concrete (Pardoe & Stone 2010 recipe): rows sorted by superplasticizer (r = 0.37
with strength), cut in thirds, that feature dropped; each third in turn is the
target, the other two the sources. ``n`` labelled target rows are drawn
(5, 10, 25), the rest of the target is the test set; ``--repeats`` draws.
Features standardized on the source rows. RMSE, mean over domains and repeats.

School: ``--repeats`` randomly chosen schools in turn are the target with 10
labelled students, the other 138 schools the sources; test on the school's
other students. RMSE. KMM and TrAdaBoost are left out here (11,000+ sources).

Every method uses the same base model (Ridge; a depth-4 tree for TrAdaBoost).
"""

import argparse
import warnings

import numpy as np
import pandas as pd
from _common import data_home_or_none, mean_std, print_table
from sklearn.linear_model import Ridge
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeRegressor

from sklearn_mtl import TransferRegressor
from sklearn_mtl.datasets import get_data_home, load_school

METHODS = [
    "target_only",
    "source_only",
    "pooled",
    "parameter",
    "augment",
    "coral",
    "kmm",
    "tradaboost",
    "auto",
]


def load_concrete(data_home):
    frame = pd.read_csv(
        get_data_home(data_home) / "concrete_uci" / "Concrete_Data_Yeh.csv"
    )
    order = np.argsort(frame["superplasticizer"].to_numpy(), kind="stable")
    frame = frame.iloc[order]
    domains = np.repeat([0, 1, 2], [344, 343, 343])
    X = frame.drop(columns=["superplasticizer", "csMPa"]).to_numpy(float)
    return X, frame["csMPa"].to_numpy(float), domains


def model(method, target):
    if method == "tradaboost":
        return TransferRegressor(
            DecisionTreeRegressor(max_depth=4, random_state=0),
            method=method,
            target=target,
            n_estimators=8,
            random_state=0,
        )
    return TransferRegressor(Ridge(alpha=1.0), method=method, target=target)


def rmse(model, X, y):
    return float(np.sqrt(np.mean((model.predict(X) - y) ** 2)))


def concrete(data_home, repeats, sizes=(5, 10, 25)):
    X, y, domains = load_concrete(data_home)
    rows, chosen = [], {}
    for n in sizes:
        scores = {m: [] for m in METHODS}
        for target in range(3):
            for repeat in range(repeats):
                rng = np.random.RandomState(repeat)
                target_rows = np.flatnonzero(domains == target)
                labelled = rng.choice(target_rows, n, replace=False)
                test = np.setdiff1d(target_rows, labelled)
                train = np.r_[np.flatnonzero(domains != target), labelled]
                scaler = StandardScaler().fit(X[domains != target])
                Xs = scaler.transform(X)
                for method in METHODS:
                    fitted = model(method, target).fit(
                        Xs[train], y[train], task_ids=domains[train]
                    )
                    scores[method].append(rmse(fitted, Xs[test], y[test]))
                    if method == "auto":
                        chosen.setdefault(n, []).append(fitted.method_)
        for method in METHODS:
            rows.append([n, method, mean_std(scores[method], 2)])
        print(f"Concrete n={n} done", flush=True)
    print_table(
        f"Concrete: target RMSE (3 target domains x {repeats} repeats)",
        ["labelled target", "method", "RMSE"],
        rows,
    )
    for n, picks in chosen.items():
        values, counts = np.unique(picks, return_counts=True)
        print(
            f"auto chose (n={n}): "
            + ", ".join(f"{v} {c}" for v, c in zip(values, counts))
        )


def school(data_home, repeats, n_labelled=10):
    data = load_school(data_home)
    X = StandardScaler().fit_transform(data.data)
    y, task_ids = data.target, data.task_ids
    methods = [m for m in METHODS if m not in ("kmm", "tradaboost")]
    scores = {m: [] for m in methods}
    rng = np.random.RandomState(0)
    for target in rng.choice(np.unique(task_ids), repeats, replace=False):
        rows = rng.permutation(np.flatnonzero(task_ids == target))
        labelled, test = rows[:n_labelled], rows[n_labelled:]
        train = np.r_[np.flatnonzero(task_ids != target), labelled]
        for method in methods:
            # "auto"'s default candidates leave KMM and TrAdaBoost out too.
            fitted = model(method, target)
            fitted.fit(X[train], y[train], task_ids=task_ids[train])
            scores[method].append(rmse(fitted, X[test], y[test]))
    print_table(
        f"School: one school as target ({n_labelled} labelled), "
        f"{repeats} target schools",
        ["method", "RMSE"],
        [[m, mean_std(v, 2)] for m, v in scores.items()],
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-home", default=None)
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args()
    home = data_home_or_none(args.data_home)
    if home is None:
        parser.error("needs --data-home or $SKLEARN_MTL_DATA")
    warnings.simplefilter("ignore")
    concrete(home, args.repeats)
    school(home, args.repeats)
