"""Office-Caltech10 semi-supervised protocol with the spread over trials.

    python benchmarks/transfer_office_semi_trials.py --data-home ../shared/data
        [--trials 20]

Runs ``transfer_office.py``'s semi-supervised protocol unchanged (its
``semi_supervised`` function, its methods, classifier and preprocessing: the
published splits, 20 or 8 labelled source images per class, 3 labelled target
images per class) and prints its table, then records every score it computes
and adds one row per method: the mean over trials of the 12-pair mean
accuracy, ± its standard deviation over the trials, and the mean fit + score
seconds per pair and trial. The peer is source-only (ratio column, same run).
"""

import argparse
import time
import warnings

import numpy as np
import transfer_office
from _common import data_home_or_none, print_table

from sklearn_mtl.datasets import load_office_caltech

_BaseTransfer = transfer_office.TransferClassifier


def recording(records):
    """A ``TransferClassifier`` that appends (method, score, seconds) of each
    fit + score to ``records`` (same estimator otherwise)."""

    class Recorded(_BaseTransfer):
        def fit(self, X, y, task_ids=None, sample_weight=None):
            self._start = time.perf_counter()
            return super().fit(X, y, task_ids=task_ids, sample_weight=sample_weight)

        def score(self, X, y, sample_weight=None):
            value = super().score(X, y, sample_weight=sample_weight)
            records.append((self.method, value, time.perf_counter() - self._start))
            return value

    return Recorded


def main(trials, home):
    office = load_office_caltech(home)
    X = transfer_office.preprocess(office.data, office.domain)
    records = []
    transfer_office.TransferClassifier = recording(records)
    start = time.perf_counter()
    transfer_office.semi_supervised(X, office.target, office.splits, trials)
    total = time.perf_counter() - start
    # semi_supervised runs pair by pair, trial by trial, method by method.
    methods = list(transfer_office.SEMI_METHODS)
    n_pairs = len(transfer_office.PAIRS)
    scores = np.array([r[1] for r in records]).reshape(n_pairs, trials, len(methods))
    seconds = np.array([r[2] for r in records]).reshape(n_pairs, trials, len(methods))
    assert [r[0] for r in records[: len(methods)]] == methods
    per_trial = 100 * scores.mean(axis=0)  # (trials, methods): 12-pair means
    peer = per_trial[:, methods.index("source_only")].mean()
    rows = [
        [
            m,
            f"{per_trial[:, k].mean():.1f} ± {per_trial[:, k].std(ddof=1):.1f}",
            f"{per_trial[:, k].mean() / peer:.3f}",
            f"{seconds[:, :, k].mean():.2f}",
        ]
        for k, m in enumerate(methods)
    ]
    print_table(
        f"Office-Caltech10, semi-supervised protocol, {trials} trials: target "
        "accuracy % (mean of the 12 pairs) as mean ± standard deviation over "
        "the trials",
        ["method", "accuracy %", "vs source only", "fit s per pair"],
        rows,
    )
    print(f"total {total:.0f} s")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-home", default=None)
    parser.add_argument("--trials", type=int, default=20)
    args = parser.parse_args()
    home = data_home_or_none(args.data_home)
    if home is None:
        parser.error("needs --data-home or $SKLEARN_MTL_DATA")
    warnings.simplefilter("ignore")
    main(args.trials, home)
