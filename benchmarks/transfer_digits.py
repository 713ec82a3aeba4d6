"""Unsupervised domain adaptation on MNIST <-> USPS (the JDA paper's files).

    python benchmarks/transfer_digits.py --data-home ../shared/data

Data: ``mnist_usps/{USPS_vs_MNIST,MNIST_vs_USPS}.mat`` (Long et al., ICCV
2013: 1,800 USPS and 2,000 MNIST images, 16 x 16 grey levels, 256 features;
see its PROVENANCE.md). Every source image labelled, every target image
unlabelled and tested. Each domain z-scored on its own (as the Office-Caltech
benchmark). The same classifier (logistic regression, C=1) after every
method; the methods and skada 0.6's comparable ones (when installed) are
those of ``transfer_office.py``, less the ones whose n x n eigenproblems
take minutes on 3,800 rows here (skada's TCA and TJM; our TCA runs).
Published (JDA paper, 1-nearest-neighbour classifier): JDA 59.7 %
(USPS -> MNIST) and 67.3 % (MNIST -> USPS).
"""

import argparse
import os
import warnings

import numpy as np
import scipy.io
from _common import data_home_or_none, print_table
from transfer_office import method_rows, our_methods, run_methods, skada_methods

PAIRS = [("USPS", "MNIST", "USPS_vs_MNIST.mat"), ("MNIST", "USPS", "MNIST_vs_USPS.mat")]
# n x n eigenproblems repeated 10-100 times: minutes per pair on 3,800 rows.
SLOW = {"TCA (skada)", "TJM (joint matching) (skada)"}


def zscore(X):
    std = X.std(axis=0)
    return (X - X.mean(axis=0)) / np.where(std > 0, std, 1.0)


def load_pair(home, filename):
    data = scipy.io.loadmat(os.path.join(home, "mnist_usps", filename))
    X_source, X_target = data["X_src"].T.astype(float), data["X_tar"].T.astype(float)
    y_source = data["Y_src"].ravel().astype(int)
    y_target = data["Y_tar"].ravel().astype(int)
    return zscore(X_source), y_source, zscore(X_target), y_target


def main(home):
    methods = {**our_methods(), **skada_methods()}
    methods = {name: m for name, m in methods.items() if name not in SLOW}
    pairs = [load_pair(home, filename) for _, _, filename in PAIRS]
    accuracy, seconds = run_methods(methods, pairs, report=print)
    print_table(
        "MNIST <-> USPS, all source labels, no target label: target accuracy %; "
        "published JDA (1-NN) 59.7 (U->M), 67.3 (M->U)",
        ["method", "mean %", "vs source only", "fit s"]
        + [f"{s}->{t}" for s, t, _ in PAIRS],
        method_rows(accuracy, seconds),
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-home", default=None)
    args = parser.parse_args()
    home = data_home_or_none(args.data_home)
    if home is None:
        parser.error("needs --data-home or $SKLEARN_MTL_DATA")
    warnings.simplefilter("ignore")
    main(home)
