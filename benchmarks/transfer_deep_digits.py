"""Deep domain adaptation on MNIST <-> USPS: DANN and Deep CORAL.

    PYTHONPATH=. nice -n 10 python benchmarks/transfer_deep_digits.py \
        --data-home ../shared/data

Data: ``mnist_usps/{USPS_vs_MNIST,MNIST_vs_USPS}.mat`` (Long et al., ICCV
2013: 1,800 USPS and 2,000 MNIST images, 16 x 16 grey levels, 256 features;
see its PROVENANCE.md), each domain z-scored on its own as in
``transfer_digits.py``. Every source image labelled, every target image
unlabelled and tested (fine-tuning needs target labels, so it has no row in
this protocol). Two trunks, each shared by every model of its rows: an MLP
256 -> 256 -> 128 (ReLU; the estimators' default trunk) and a small CNN on the
16 x 16 images (a module class given as ``trunk``); then a linear head. Adam
at 1e-3, batches of 128, ``--epochs-mlp`` / ``--epochs-cnn`` passes.

- source only: :class:`~sklearn_mtl.MultiTaskClassifier` (same trunk) on the
  source rows;
- DANN, Deep CORAL: the package's estimators (``adaptation_weight`` 1);
- peer: DANN as a plain torch loop written the obvious way (``DataLoader``
  over ``TensorDataset`` for each domain, a gradient reversal function),
  same network, batches and epochs: the ratio of fit times is ours / peer.

Published (JDA paper, 1-nearest neighbour on these files): JDA 59.7 %
(USPS -> MNIST), 67.3 % (MNIST -> USPS). Threads: one by default; on two
cores shared with other jobs, two torch threads ran these small networks up
to 40 times slower. ``--device cuda`` trains every model, the peer loop
included, on the GPU.
"""

import argparse
import os
import time

import numpy as np
import scipy.io
import torch
from _common import data_home_or_none, print_table

from sklearn_mtl.neural import MultiTaskClassifier
from sklearn_mtl.transfer._deep import DANNClassifier, DeepCORALClassifier
from sklearn_mtl.transfer._deep_modules import grad_reverse

PAIRS = [("USPS", "MNIST", "USPS_vs_MNIST.mat"), ("MNIST", "USPS", "MNIST_vs_USPS.mat")]
PUBLISHED_JDA = {"USPS->MNIST": 59.7, "MNIST->USPS": 67.3}
HIDDEN = (256, 128)
BATCH, LR = 128, 1e-3


class SmallCNN(torch.nn.Module):
    """Two 5x5 convolutions (16, 32 channels, ReLU, 2x2 max-pooling) on the
    16 x 16 image, then 128 ReLU features (a LeNet-style trunk)."""

    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Sequential(
            torch.nn.Conv2d(1, 16, 5, padding=2),
            torch.nn.ReLU(),
            torch.nn.MaxPool2d(2),
            torch.nn.Conv2d(16, 32, 5, padding=2),
            torch.nn.ReLU(),
            torch.nn.MaxPool2d(2),
        )
        self.fc = torch.nn.Sequential(torch.nn.Linear(512, 128), torch.nn.ReLU())

    def forward(self, X):
        return self.fc(self.conv(X.view(-1, 1, 16, 16)).flatten(1))


def plain_mlp(n_inputs):
    layers, width = [], n_inputs
    for size in HIDDEN:
        layers += [torch.nn.Linear(width, size), torch.nn.ReLU()]
        width = size
    return torch.nn.Sequential(*layers)


# trunk name -> (estimator arguments, the peer's trunk, its width)
TRUNKS = {
    "MLP 256-128": (dict(hidden_layer_sizes=HIDDEN), lambda: plain_mlp(256), 128),
    "CNN": (dict(trunk=SmallCNN), SmallCNN, 128),
}


def zscore(X):
    std = X.std(axis=0)
    return (X - X.mean(axis=0)) / np.where(std > 0, std, 1.0)


def load_pair(home, filename):
    data = scipy.io.loadmat(os.path.join(home, "mnist_usps", filename))
    X_source, X_target = data["X_src"].T.astype(float), data["X_tar"].T.astype(float)
    y_source = data["Y_src"].ravel().astype(int)
    y_target = data["Y_tar"].ravel().astype(int)
    return zscore(X_source), y_source, zscore(X_target), y_target


def stacked(X_s, y_s, X_t):
    """Source and target rows in the package's convention (NaN: no label)."""
    X = np.vstack([X_s, X_t])
    y = np.r_[y_s.astype(float), np.full(len(X_t), np.nan)]
    domain = np.repeat(["source", "target"], [len(X_s), len(X_t)])
    return X, y, domain


def peer_dann(make_trunk, width, X_s, y_s, X_t, epochs, seed, device="cpu"):
    """DANN as a plain torch loop, written the obvious way (batches moved to
    ``device`` as they are drawn)."""
    torch.manual_seed(seed)
    classes = np.unique(y_s)
    trunk = make_trunk().to(device)
    head = torch.nn.Linear(width, len(classes)).to(device)
    domain_head = torch.nn.Sequential(
        torch.nn.Linear(width, 64), torch.nn.ReLU(), torch.nn.Linear(64, 1)
    ).to(device)
    params = [*trunk.parameters(), *head.parameters(), *domain_head.parameters()]
    optimizer = torch.optim.Adam(params, lr=LR)
    source = torch.utils.data.TensorDataset(
        torch.tensor(X_s, dtype=torch.float32),
        torch.tensor(np.searchsorted(classes, y_s)),
    )
    target = torch.utils.data.TensorDataset(torch.tensor(X_t, dtype=torch.float32))
    source_loader = torch.utils.data.DataLoader(source, BATCH, shuffle=True)
    target_loader = torch.utils.data.DataLoader(target, BATCH, shuffle=True)
    total, step = epochs * len(source_loader), 0
    for _ in range(epochs):
        target_iter = iter(target_loader)
        for xb, yb in source_loader:
            try:
                (xt,) = next(target_iter)
            except StopIteration:
                target_iter = iter(target_loader)
                (xt,) = next(target_iter)
            xb, yb, xt = xb.to(device), yb.to(device), xt.to(device)
            lambda_ = 2 / (1 + np.exp(-10 * step / total)) - 1
            features = trunk(torch.cat([xb, xt]))
            label_loss = torch.nn.functional.cross_entropy(
                head(features[: len(xb)]), yb
            )
            logits = domain_head(grad_reverse(features, lambda_))[:, 0]
            domains = torch.cat([torch.zeros(len(xb)), torch.ones(len(xt))]).to(device)
            domain_loss = torch.nn.functional.binary_cross_entropy_with_logits(
                logits, domains
            )
            optimizer.zero_grad()
            (label_loss + domain_loss).backward()
            optimizer.step()
            step += 1
    with torch.no_grad():
        logits = head(trunk(torch.tensor(X_t, dtype=torch.float32, device=device)))
    return classes[logits.argmax(1).cpu().numpy()]


def fit_model(name, args, seed, X_s, y_s, X, y, domain):
    if name.startswith("source only"):
        return MultiTaskClassifier(random_state=seed, **args).fit(X_s, y_s)
    model = DANNClassifier if name == "DANN" else DeepCORALClassifier
    model = model(target="target", random_state=seed, **args)
    return model.fit(X, y, task_ids=domain)


def main(home, epochs, repeats, device="cpu"):
    """``epochs``: trunk name -> epochs."""
    common = dict(batch_size=BATCH, learning_rate=LR, device=device)
    names = [
        "source only (MultiTaskClassifier)",
        "DANN",
        "Deep CORAL",
        "DANN, plain torch loop (peer)",
    ]
    # Warm-up: torch's first optimizer imports its compiler stack (seconds).
    warm = np.random.RandomState(0).normal(size=(8, 4))
    MultiTaskClassifier(max_epochs=1, device=device).fit(warm, np.arange(8) % 2)
    rows = []
    for trunk_name, (trunk_args, make_trunk, width) in TRUNKS.items():
        n_epochs = epochs[trunk_name]
        args = dict(common, max_epochs=n_epochs, **trunk_args)
        accuracy = {(n, p): [] for n in names for p in PUBLISHED_JDA}
        seconds = {n: [] for n in names}
        for source, target, filename in PAIRS:
            pair = f"{source}->{target}"
            X_s, y_s, X_t, y_t = load_pair(home, filename)
            X, y, domain = stacked(X_s, y_s, X_t)
            for seed in range(repeats):
                for name in names[:3]:
                    start = time.perf_counter()
                    model = fit_model(name, args, seed, X_s, y_s, X, y, domain)
                    seconds[name].append(time.perf_counter() - start)
                    accuracy[name, pair].append(
                        100 * np.mean(model.predict(X_t) == y_t)
                    )
                start = time.perf_counter()
                predicted = peer_dann(
                    make_trunk, width, X_s, y_s, X_t, n_epochs, seed, device
                )
                seconds[names[3]].append(time.perf_counter() - start)
                accuracy[names[3], pair].append(100 * np.mean(predicted == y_t))
                shown = {n: round(float(accuracy[n, pair][-1]), 1) for n in names}
                print(trunk_name, pair, seed, shown, flush=True)
        peer = np.mean(seconds[names[3]])
        for name in names:
            per_pair = [np.mean(accuracy[name, p]) for p in PUBLISHED_JDA]
            fit = np.mean(seconds[name])
            rows.append(
                [f"{name}, {trunk_name}, {n_epochs} epochs", f"{np.mean(per_pair):.1f}"]
                + [f"{a:.1f}" for a in per_pair]
                + [f"{fit:.1f}", f"{fit / peer:.2f}x"]
            )
    rows.append(
        ["JDA (published, 1-NN)", f"{np.mean(list(PUBLISHED_JDA.values())):.1f}"]
        + [f"{v:.1f}" for v in PUBLISHED_JDA.values()]
        + ["", ""]
    )
    print_table(
        "MNIST <-> USPS, all source labels, no target label: target accuracy % "
        f"(mean of {repeats} seed(s)); device {device}; fit seconds per pair; "
        "fit time / the "
        "plain torch DANN loop's with the same trunk",
        ["model", "mean %", *PUBLISHED_JDA, "fit s", "fit / peer"],
        rows,
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-home", default=None)
    parser.add_argument("--epochs-mlp", type=int, default=30)
    parser.add_argument("--epochs-cnn", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    args = parser.parse_args()
    home = data_home_or_none(args.data_home)
    if home is None:
        parser.error("needs --data-home or $SKLEARN_MTL_DATA")
    torch.set_num_threads(args.threads)
    epochs = {"MLP 256-128": args.epochs_mlp, "CNN": args.epochs_cnn}
    main(home, epochs, args.repeats, args.device)
