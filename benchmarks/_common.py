"""Helpers shared by the benchmarks: data home, timing, and table printing."""

import os
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

# The shared datasets beside a checkout (where CI and the README look first).
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def data_home_or_none(cli_value):
    """The data home to read: the command line's, else $SKLEARN_MTL_DATA, else
    ``../shared/data`` beside the checkout when it exists, else None (synthetic).

    A folder given on the command line must exist: a typo is an error, not a
    silent fall back to synthetic data.
    """
    if cli_value:
        if not os.path.isdir(cli_value):
            raise SystemExit(f"--data-home {cli_value!r} is not a folder.")
        return cli_value
    home = os.environ.get("SKLEARN_MTL_DATA")
    if home and os.path.isdir(home):
        return home
    return str(SHARED_DATA) if SHARED_DATA.is_dir() else None


@contextmanager
def timer(store, key):
    start = time.perf_counter()
    yield
    store.setdefault(key, []).append(time.perf_counter() - start)


def mean_std(values, digits=4):
    values = np.asarray(values, dtype=float)
    return f"{values.mean():.{digits}f} ± {values.std():.{digits}f}"


def print_table(title, header, rows):
    """A Markdown table, so the output can be pasted into notes and docs."""
    print(f"\n### {title}\n")
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    line = "| " + " | ".join(str(h).ljust(w) for h, w in zip(header, widths)) + " |"
    print(line)
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in rows:
        print("| " + " | ".join(str(c).ljust(w) for c, w in zip(row, widths)) + " |")
    print(flush=True)


def scaled(model, n_features):
    """Standardize the first n_features columns; the task column (last) passes."""
    scaler = ColumnTransformer(
        [("features", StandardScaler(), list(range(n_features)))],
        remainder="passthrough",
    )
    return make_pipeline(scaler, model)
