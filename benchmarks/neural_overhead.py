"""Overhead of MultiTaskRegressor against a hand-written torch training loop.

    python benchmarks/neural_overhead.py [--epochs 5] [--batch-size 256]

Same module (MLP trunk 50 -> 128 -> 128 with 10 task heads), same data
(20,000 rows x 50 features, 10 tasks), optimizer (Adam, lr 1e-3), batch size
and epochs. The plain loop slices pre-made tensors per batch and takes the mean
squared error of each row's own head. Reported: training samples per second
(best of 3) and their ratio, measured in the same run; on a machine with CUDA,
the same for the GPU and its speed-up over the CPU.
"""

import argparse
import time

import numpy as np
import torch
from _common import print_table

from sklearn_mtl import MultiTaskRegressor
from sklearn_mtl.datasets import make_multitask_regression
from sklearn_mtl.neural._modules import MLP, HardSharingNet


def data():
    X, y, task_ids = make_multitask_regression(
        n_tasks=10, n_samples=2000, n_features=50, random_state=0
    )
    return X.astype(np.float32), y.astype(np.float32), task_ids


def plain_loop(X, y, task_ids, epochs, batch_size, device):
    torch.manual_seed(0)
    X_t = torch.as_tensor(X, device=device)
    y_t = torch.as_tensor((y - y.mean()) / y.std(), device=device)[:, None]
    t_t = torch.as_tensor(task_ids, device=device)
    module = HardSharingNet(MLP(50, (128, 128)), 128, [1] * 10).to(device)
    optimizer = torch.optim.Adam(module.parameters(), lr=1e-3)
    start = time.perf_counter()
    for _ in range(epochs):
        order = torch.randperm(len(X_t), device=device)
        for begin in range(0, len(order), batch_size):
            rows = order[begin : begin + batch_size]
            optimizer.zero_grad()
            loss = torch.mean((module(X_t[rows], t_t[rows]) - y_t[rows]) ** 2)
            loss.backward()
            optimizer.step()
    if device == "cuda":
        torch.cuda.synchronize()
    return epochs * len(X) / (time.perf_counter() - start)


def ours(X, y, task_ids, epochs, batch_size, device):
    model = MultiTaskRegressor(
        hidden_layer_sizes=(128, 128),
        max_epochs=epochs,
        batch_size=batch_size,
        device=device,
        random_state=0,
    )
    # Validation, standardization and setup are timed too: all of fit.
    start = time.perf_counter()
    model.fit(X, y, task_ids=task_ids)
    return epochs * len(X) / (time.perf_counter() - start)


def run(epochs, batch_size):
    X, y, task_ids = data()
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    rows, throughput = [], {}
    for device in devices:
        plain = max(
            plain_loop(X, y, task_ids, epochs, batch_size, device) for _ in range(3)
        )
        mine = max(ours(X, y, task_ids, epochs, batch_size, device) for _ in range(3))
        throughput[device] = mine
        rows.append([device, f"{plain:,.0f}", f"{mine:,.0f}", f"{mine / plain:.2f}"])
    print_table(
        f"Training throughput, samples/s ({epochs} epochs, batch {batch_size}, "
        f"{torch.get_num_threads()} CPU threads)",
        ["device", "plain torch loop", "MultiTaskRegressor", "ratio (aim >= 0.85)"],
        rows,
    )
    if "cuda" in throughput:
        print(f"GPU speed-up over CPU: {throughput['cuda'] / throughput['cpu']:.1f}x")
    else:
        print("No CUDA device here: GPU throughput not measured.")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=256)
    args = parser.parse_args()
    run(args.epochs, args.batch_size)
