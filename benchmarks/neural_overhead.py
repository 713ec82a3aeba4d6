"""Overhead of MultiTaskRegressor against a hand-written torch slicing loop.

    python benchmarks/neural_overhead.py [--epochs 2] [--repeats 2] [--device cpu]

The network of issue 11: an MLP trunk 100 -> 256 -> 256 (ReLU) and 5 task
heads, Adam (lr 1e-3), 50,000 rows of 100 features, batch sizes 128 and 1024,
the same epochs for both. Two layouts of the same tasks:

- wide: ``y`` of shape (50,000, 5), 10% of the labels missing (NaN); the
  reference runs the trunk once per sample, all 5 heads as one linear layer,
  and takes the squared error over the present labels;
- long: 50,000 (sample, task) rows with ``task_ids``; the reference runs the
  trunk per row and picks the row's own head's output.

The reference slices pre-made tensors per batch; the estimator's time is its
whole ``fit`` (validation, standardization, setup included). Reported: rows
per second (best of ``--repeats``) and their ratio, measured in the same run
on the same device (``--device``, default: cuda when available, else cpu).
"""

import argparse
import time

import numpy as np
import torch
from _common import print_table
from torch import nn

from sklearn_mtl import MultiTaskRegressor

N_ROWS, N_FEATURES, N_TASKS, WIDTH = 50_000, 100, 5, 256


def data(seed=0):
    rng = np.random.RandomState(seed)
    X = rng.standard_normal((N_ROWS, N_FEATURES)).astype(np.float32)
    coef = rng.standard_normal((N_FEATURES, N_TASKS)) / np.sqrt(N_FEATURES)
    Y = (X @ coef + 0.1 * rng.standard_normal((N_ROWS, N_TASKS))).astype(np.float32)
    Y_wide = Y.copy()
    Y_wide[rng.random_sample(Y.shape) < 0.1] = np.nan
    task_ids = np.arange(N_ROWS) % N_TASKS
    y_long = Y[np.arange(N_ROWS), task_ids]
    return X, Y_wide, y_long, task_ids


def _synchronize(device):
    if str(device).startswith("cuda"):
        torch.cuda.synchronize()


def reference(layout, X, Y, task_ids, epochs, batch_size, device):
    """The hand-written loop; its time includes moving the data to the device."""
    torch.manual_seed(0)
    start = time.perf_counter()
    X_t = torch.as_tensor(X, device=device)
    trunk = nn.Sequential(
        nn.Linear(N_FEATURES, WIDTH), nn.ReLU(), nn.Linear(WIDTH, WIDTH), nn.ReLU()
    ).to(device)
    heads = nn.Linear(WIDTH, N_TASKS).to(device)
    optimizer = torch.optim.Adam([*trunk.parameters(), *heads.parameters()], lr=1e-3)
    if layout == "wide":
        present = torch.as_tensor(~np.isnan(Y), device=device)
        Y_t = torch.as_tensor(np.nan_to_num(Y), device=device)
    else:
        y_t = torch.as_tensor(Y, device=device)
        t_t = torch.as_tensor(task_ids, device=device)
    for _ in range(epochs):
        order = torch.randperm(len(X_t), device=device)
        for begin in range(0, len(order), batch_size):
            rows = order[begin : begin + batch_size]
            out = heads(trunk(X_t[rows]))
            if layout == "wide":
                mask = present[rows]
                loss = (((out - Y_t[rows]) ** 2) * mask).sum() / mask.sum()
            else:
                own = out.gather(1, t_t[rows, None])[:, 0]
                loss = ((own - y_t[rows]) ** 2).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    _synchronize(device)
    return epochs * len(X) / (time.perf_counter() - start)


def ours(layout, X, Y, task_ids, epochs, batch_size, device):
    model = MultiTaskRegressor(
        hidden_layer_sizes=(WIDTH, WIDTH),
        learning_rate=1e-3,
        max_epochs=epochs,
        batch_size=batch_size,
        device=device,
        random_state=0,
    )
    start = time.perf_counter()
    if layout == "wide":
        model.fit(X, Y)
    else:
        model.fit(X, Y, task_ids=task_ids)
    _synchronize(device)
    return epochs * len(X) / (time.perf_counter() - start)


def run(epochs, repeats, device, batch_sizes):
    X, Y_wide, y_long, task_ids = data()
    rows = []
    for layout, Y in [("wide", Y_wide), ("long", y_long)]:
        for batch_size in batch_sizes:
            args = (layout, X, Y, task_ids, epochs, batch_size, device)
            # Alternate the two so that a busy machine slows both alike.
            ref, mine = [], []
            for _ in range(repeats):
                ref.append(reference(*args))
                mine.append(ours(*args))
            rows.append(
                [
                    layout,
                    batch_size,
                    f"{max(ref):,.0f}",
                    f"{max(mine):,.0f}",
                    f"{max(mine) / max(ref):.2f}",
                ]
            )
    threads = f", {torch.get_num_threads()} CPU threads" if device == "cpu" else ""
    print_table(
        f"Training throughput, rows/s, {N_FEATURES}->{WIDTH}->{WIDTH}, {N_TASKS} "
        f"tasks, {N_ROWS:,} rows ({epochs} epochs, best of {repeats}, {device}"
        f"{threads})",
        ["y layout", "batch", "torch slicing loop", "MultiTaskRegressor", "ratio"],
        rows,
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument(
        "--device",
        default="cuda" if torch.cuda.is_available() else "cpu",
        help="torch device (default: cuda when available, else cpu)",
    )
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[128, 1024])
    args = parser.parse_args()
    run(args.epochs, args.repeats, args.device, args.batch_sizes)
