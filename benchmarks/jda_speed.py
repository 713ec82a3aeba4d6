"""Speed of JDA's eigenproblems: its solver against the dense generalized eigh.

    python benchmarks/jda_speed.py --data-home ../shared/data [--repeats 3]
        [--kernel linear|rbf] [--pairs amazon:caltech,dslr:webcam]
        [--digits] [--auto] [--blas-threads 1]

Each pseudo-label round of ``JDA`` solves ``G^T G a = lambda (U U^T + mu I) a``
for its top ``k`` (50) solutions, ``G`` the centred rows (``m x p``), ``U``
the ``p x (classes + 1)`` matched means of the round. The peer is the solve
``JDA`` used before, in the same process: ``scipy.linalg.eigh`` of the dense
generalized pencil with ``subset_by_index`` (Cholesky of ``B``, reduction to a
standard problem, tridiagonalization of all ``p`` dimensions). The solver now
in ``JDA`` turns each round into a standard symmetric problem through closed
forms of ``B^-1/2`` / ``B^-1`` (``B`` is ``mu I`` plus a rank-``r`` term), in
the ``m x m`` sample space when there are fewer rows than features, and
computes only the top ``k`` eigenpairs (ARPACK Lanczos; dense ``eigh`` below
200 dimensions or if Lanczos does not converge).

Both run inside the same ``JDA`` fit (the peer is patched in for its run),
one after the other, in alternating order, ``--repeats`` times per pair; the
table gives the best wall time of each, of the whole fit and of the
eigensolves alone, and what changes between the two fits: the largest
principal angle between the two final subspaces, the largest relative
difference of the eigenvalues and of the components (signed alike), whether
the pseudo-labels of every round agree, and the target accuracy of JDA's
pseudo-labels. A control fit moves the solutions of the solve before by 1e-13
(relative, random) and reports whether its pseudo-labels still agree with the
unmoved fit: where the pseudo-labelling classifier ends near its iteration
limit (LogisticRegression on the rbf embedding), such a change alone flips a
few labels, and the rounds then part. Office-Caltech10 SURF: rows
L1-normalized then z-scored per domain, every source row labelled, no target
label (12 pairs); ``--digits`` adds MNIST <-> USPS (L2-normalized rows, 256
features). ``--auto``
also times ``TransferClassifier(method="auto")`` without target labels (its
label-free default candidates and scorer, JDA fitted on every source fold)
with either solver, once each, and checks that it chooses and predicts the
same.
"""

import argparse
import time
import warnings
from contextlib import contextmanager

import numpy as np
import scipy.linalg
from _common import data_home_or_none, print_table
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_limits
from transfer_label_free_office import preprocess

import sklearn_mtl.transfer._jda as jda_module
from sklearn_mtl import TransferClassifier
from sklearn_mtl.datasets import load_office_caltech
from sklearn_mtl.transfer._jda import JDA

DOMAINS = ("amazon", "caltech", "dslr", "webcam")
PAIRS = [(s, t) for s in DOMAINS for t in DOMAINS if s != t]


class DenseGeneralized:
    """The solve JDA used before: the dense generalized ``eigh``, top ``k``."""

    def __init__(self, G, mu):
        A = G.T @ G
        self.A, self.mu = (A + A.T) / 2, mu

    def solve(self, U, k, maxiter=None):
        size = self.A.shape[0]
        B = U @ U.T + self.mu * np.eye(size)
        values, vectors = scipy.linalg.eigh(
            self.A, B, subset_by_index=[size - k, size - 1]
        )
        return values[::-1], vectors[:, ::-1]


class PerturbedDense(DenseGeneralized):
    """The solve before, its solutions moved by 1e-13 (relative, random): how
    much the pseudo-labels move with no change of solver at all."""

    def solve(self, U, k, maxiter=None):
        values, vectors = super().solve(U, k)
        noise = np.random.RandomState(len(self.A)).normal(size=vectors.shape)
        return values, vectors * (1 + 1e-13 * noise)


SOLVERS = {"dense eigh (before)": DenseGeneralized, "new": jda_module._JDAPencil}


@contextmanager
def solver(kind, clock, rounds):
    """JDA with the pencil class ``kind``; each solve's seconds into ``clock``
    and each round's right-hand side factor ``U = F^T E`` into ``rounds`` (the
    same pseudo-labels give the same ``U``, bit for bit)."""

    class Timed(kind):
        def solve(self, U, k, **kwargs):
            rounds.append(U)
            start = time.perf_counter()
            result = super().solve(U, k, **kwargs)
            clock.append(time.perf_counter() - start)
            return result

    saved = jda_module._JDAPencil
    jda_module._JDAPencil = Timed
    try:
        yield
    finally:
        jda_module._JDAPencil = saved


def office_pairs(home, names):
    data = load_office_caltech(data_home=home)
    X = preprocess(data.data.astype(float), data.domain)
    for source, target in PAIRS:
        if names and f"{source}:{target}" not in names:
            continue
        s, t = data.domain == source, data.domain == target
        yield f"{source}->{target}", X[s], data.target[s], X[t], data.target[t]


def digit_pairs(home):
    from transfer_digits import PAIRS as DIGITS
    from transfer_digits import load_pair

    for source, target, filename in DIGITS:
        yield f"{source}->{target}", *load_pair(home, filename)


def fit_jda(kind, kernel, X_source, y_source, X_target):
    clock, rounds = [], []
    X = np.vstack([X_source, X_target])
    domains = np.repeat(["s", "t"], [len(X_source), len(X_target)])
    y = np.r_[y_source.astype(float), np.full(len(X_target), np.nan)]
    with solver(kind, clock, rounds):
        start = time.perf_counter()
        model = JDA(target="t", kernel=kernel).fit(X, y, task_ids=domains)
        seconds = time.perf_counter() - start
    return seconds, sum(clock), model, rounds


def fit_auto(kind, X_source, y_source, X_target):
    X = np.vstack([X_source, X_target])
    domains = np.repeat(["s", "t"], [len(X_source), len(X_target)])
    y = np.r_[y_source.astype(float), np.full(len(X_target), np.nan)]
    model = TransferClassifier(LogisticRegression(max_iter=1000), target="t")
    with solver(kind, [], []):
        start = time.perf_counter()
        model.fit(X, y, task_ids=domains)
        seconds = time.perf_counter() - start
    return seconds, model


def compare(name, X_source, y_source, X_target, y_target, kernel, repeats):
    """One table row: best times of both solvers and what differs."""
    times = {kind: ([], []) for kind in SOLVERS}
    fitted = {}
    for repeat in range(repeats):
        order = list(SOLVERS) if repeat % 2 == 0 else list(SOLVERS)[::-1]
        for kind in order:
            fit_s, solve_s, model, rounds = fit_jda(
                SOLVERS[kind], kernel, X_source, y_source, X_target
            )
            times[kind][0].append(fit_s)
            times[kind][1].append(solve_s)
            fitted[kind] = model, rounds
    (old, old_rounds), (new, new_rounds) = fitted.values()
    *_, control, control_rounds = fit_jda(
        PerturbedDense, kernel, X_source, y_source, X_target
    )

    def same(model, rounds):  # the same pseudo-labels in every round
        return (
            len(old_rounds) == len(rounds)
            and all(np.array_equal(a, b) for a, b in zip(old_rounds, rounds))
            and np.array_equal(old.pseudo_labels_, model.pseudo_labels_)
        )

    angle = scipy.linalg.subspace_angles(old.components_, new.components_).max()
    values = np.abs(old.eigenvalues_ - new.eigenvalues_) / old.eigenvalues_
    scale = np.abs(old.components_).max()
    components = np.abs(old.components_ - new.components_).max() / scale
    (old_fit, old_solve), (new_fit, new_solve) = (
        (min(a), min(b)) for a, b in times.values()
    )
    accuracy = [100 * np.mean(m.pseudo_labels_ == y_target) for m in (old, new)]
    row = [
        name,
        f"{len(X_source) + len(X_target)} x {X_source.shape[1]}",
        new.n_iter_ + 1,
        f"{old_fit:.2f}",
        f"{new_fit:.2f}",
        f"{old_fit / new_fit:.1f}x",
        f"{old_solve:.3f}",
        f"{new_solve:.3f}",
        f"{old_solve / new_solve:.1f}x",
        f"{angle:.0e}",
        f"{values.max():.0e}",
        f"{components:.0e}",
        "yes" if same(new, new_rounds) else "NO",
        "yes" if same(control, control_rounds) else "NO",
        f"{accuracy[0]:.1f} / {accuracy[1]:.1f}",
    ]
    return row, (old_fit, new_fit, old_solve, new_solve)


def auto_row(name, X_source, y_source, X_target, y_target):
    runs = {
        kind: fit_auto(SOLVERS[kind], X_source, y_source, X_target) for kind in SOLVERS
    }
    (old_s, old), (new_s, new) = runs.values()
    same = old.method_ == new.method_ and np.array_equal(
        old.predict(X_target), new.predict(X_target)
    )
    accuracy = 100 * np.mean(new.predict(X_target) == y_target)
    return [
        name,
        f"{old_s:.1f}",
        f"{new_s:.1f}",
        f"{old_s / new_s:.1f}x",
        new.method_,
        "yes" if same else "NO",
        f"{accuracy:.1f}",
    ]


def main(home, kernel, repeats, names, digits, auto):
    data = list(office_pairs(home, names))
    if digits:
        data += list(digit_pairs(home))
    rows, totals = [], []
    for name, *arrays in data:
        row, total = compare(name, *arrays, kernel, repeats)
        print(" | ".join(map(str, row)), flush=True)
        rows.append(row)
        totals.append(total)
    old_fit, new_fit, old_solve, new_solve = np.sum(totals, axis=0)
    rows.append(
        ["total", "", "", f"{old_fit:.2f}", f"{new_fit:.2f}",
         f"{old_fit / new_fit:.1f}x", f"{old_solve:.3f}", f"{new_solve:.3f}",
         f"{old_solve / new_solve:.1f}x", "", "", "", "", "", ""]
    )  # fmt: skip
    print_table(
        f"JDA (kernel={kernel}, k=50, mu=0.1, LogisticRegression pseudo-labels): "
        f"best of {repeats} interleaved fits; peer: dense generalized eigh "
        "(the solve before)",
        ["pair", "rows x features", "rounds", "fit s (before)", "fit s (new)",
         "fit ratio", "solves s (before)", "solves s (new)", "solve ratio",
         "max angle (rad)", "max rel. eigenvalue diff", "max rel. component diff",
         "same pseudo-labels every round", "same with the before solve moved 1e-13",
         "pseudo-label accuracy % (before / new)"],
        rows,
    )  # fmt: skip
    if auto:
        auto_rows = []
        for name, *arrays in data:
            auto_rows.append(auto_row(name, *arrays))
            print(" | ".join(auto_rows[-1]), flush=True)
        print_table(
            'TransferClassifier(method="auto"), no target label (its label-free '
            "defaults): one fit with each solver",
            ["pair", "fit s (before)", "fit s (new)", "ratio", "chosen",
             "same choice and predictions", "target accuracy %"],
            auto_rows,
        )  # fmt: skip


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-home", default=None)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--kernel", default="linear", choices=["linear", "rbf"])
    parser.add_argument("--pairs", default=None, help="e.g. amazon:caltech,...")
    parser.add_argument("--digits", action="store_true", help="add MNIST <-> USPS")
    parser.add_argument("--auto", action="store_true", help="time label-free auto")
    parser.add_argument("--blas-threads", type=int, default=1)
    args = parser.parse_args()
    home = data_home_or_none(args.data_home)
    if home is None:
        parser.error("needs --data-home or $SKLEARN_MTL_DATA (Office-Caltech10)")
    warnings.simplefilter("ignore")
    names = args.pairs.split(",") if args.pairs else None
    with threadpool_limits(limits=args.blas_threads, user_api="blas"):
        main(home, args.kernel, args.repeats, names, args.digits, args.auto)
