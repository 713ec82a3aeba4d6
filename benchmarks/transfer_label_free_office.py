"""Label-free model selection on Office-Caltech10: "auto" without target labels.

    python benchmarks/transfer_label_free_office.py --data-home ../shared/data
        [--candidates default|source_only,jda,...] [--scoring auto]
        [--cv-folds 3] [--n-repeats 3] [--blas-threads 1]

The all-source protocol of ``transfer_office.py`` (SURF features, rows
L1-normalized then z-scored per domain; every source row labelled, no target
label; 12 pairs): ``TransferClassifier(LogisticRegression(max_iter=1000))``
with ``method="auto"``, which then scores its candidates (by default its own
default candidates: source_only, jda, meda) with a label-free scorer
(``--scoring``; "auto" is interpolation consistency for a classifier)
cross-fitted over folds of the source rows, against each candidate fitted
alone and against the best candidate per pair in hindsight (the oracle a
label-free rule can at most reach). Per pair the table also gives each
candidate's mean label-free score (``score:<method>``), whether the choice
was a tie (decided by the simplicity order, not by the scores), and the
fit's wall and CPU seconds (CPU: this process only, so it does not grow
with the machine's load). The peer is source-only (the ratio column is
auto's accuracy over source-only's, measured in the same run).
"""

import argparse
import time
import warnings

import numpy as np
from _common import data_home_or_none, print_table
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_limits

from sklearn_mtl import TransferClassifier
from sklearn_mtl.datasets import load_office_caltech

DOMAINS = ("amazon", "caltech", "dslr", "webcam")
PAIRS = [(s, t) for s in DOMAINS for t in DOMAINS if s != t]
DEFAULT = "default"


def preprocess(X, domain):
    X = X / np.maximum(X.sum(axis=1, keepdims=True), 1e-12)
    out = np.empty_like(X)
    for name in np.unique(domain):
        rows = domain == name
        mean, std = X[rows].mean(axis=0), X[rows].std(axis=0)
        out[rows] = (X[rows] - mean) / np.where(std > 0, std, 1.0)
    return out


def classifier():
    return LogisticRegression(max_iter=1000)


def run(X, y, domain, candidates, scoring="auto", cv_folds=3, n_repeats=3):
    rows, auto, seconds, cpu, oracle, chosen = [], [], [], [], [], []
    each = {}
    for source, target in PAIRS:
        s, t = domain == source, domain == target
        X_pair = np.vstack([X[s], X[t]])
        tasks = np.repeat(["s", "t"], [s.sum(), t.sum()])
        hidden = np.r_[y[s], np.full(t.sum(), np.nan)]  # no target label
        start, start_cpu = time.perf_counter(), time.process_time()
        model = TransferClassifier(
            classifier(),
            target="t",
            candidates=candidates,
            unlabelled_scoring=scoring,
            cv_folds=cv_folds,
            n_repeats=n_repeats,
        )
        model.fit(X_pair, hidden, task_ids=tasks)
        seconds.append(time.perf_counter() - start)
        # CPU seconds of this process (BLAS on one thread): what the fit
        # costs whatever else the machine runs; wall seconds grow with load.
        cpu.append(time.process_time() - start_cpu)
        auto.append(np.mean(model.predict(X[t]) == y[t]))
        chosen.append(model.method_)
        results = model.cv_results_
        methods = list(results["method"])
        pair = {}
        for method in methods:
            alone = TransferClassifier(classifier(), method=method, target="t")
            alone.fit(X_pair, hidden, task_ids=tasks)
            pair[method] = np.mean(alone.predict(X[t]) == y[t])
            each.setdefault(method, []).append(pair[method])
        oracle.append(max(pair.values()))
        ties = int(np.sum(results.get("tied_with_best", [False])))
        rows.append(
            [f"{source} -> {target}", f"{100 * auto[-1]:.1f}", model.method_]
            + ["yes" if ties > 1 else "no"]
            + [f"{100 * pair[m]:.1f}" for m in methods]
            + [f"{v:.3f}" for v in results["mean_score"]]
            + [f"{seconds[-1]:.1f}", f"{cpu[-1]:.1f}"]
        )
        print(f"{source} -> {target} done", flush=True)
    peer = np.mean(each["source_only"]) if "source_only" in each else np.nan
    rows.append(
        ["mean", f"{100 * np.mean(auto):.1f}", f"oracle {100 * np.mean(oracle):.1f}"]
        + [""]
        + [f"{100 * np.mean(each[m]):.1f}" for m in methods]
        + [""] * len(methods)
        + [f"{np.mean(seconds):.1f}", f"{np.mean(cpu):.1f}"]
    )
    print_table(
        "Office-Caltech10, all-source protocol, no target label: target accuracy "
        f'% of method="auto" ({scoring} scorer, {n_repeats} x {cv_folds} source '
        "folds) and of each candidate alone; each candidate's mean label-free score",
        ["pair", "auto", "auto chose", "tie"]
        + methods
        + [f"score:{m}" for m in methods]
        + ["auto fit s", "auto CPU s"],
        rows,
    )
    print(f"auto / source-only: {np.mean(auto) / peer:.3f}")
    return chosen


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-home", default=None)
    parser.add_argument("--candidates", default=DEFAULT)
    parser.add_argument(
        "--scoring",
        default="auto",
        choices=[
            "auto",
            "circular",
            "deep_embedded",
            "importance_weighted",
            "interpolation_consistency",
            "prediction_entropy",
            "soft_neighborhood_density",
        ],
    )
    parser.add_argument("--cv-folds", type=int, default=3)
    parser.add_argument("--n-repeats", type=int, default=3)
    parser.add_argument("--blas-threads", type=int, default=1)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    home = data_home_or_none(args.data_home)
    if home is None:
        raise SystemExit("Office-Caltech10 needs --data-home (or SKLEARN_MTL_DATA).")
    data = load_office_caltech(data_home=home)
    X = preprocess(data.data.astype(float), data.domain)
    with threadpool_limits(args.blas_threads):
        default = args.candidates == "default"
        candidates = None if default else args.candidates.split(",")
        run(
            X,
            data.target,
            data.domain,
            candidates,
            args.scoring,
            args.cv_folds,
            args.n_repeats,
        )
