"""Few-shot sinusoid regression (Finn et al. 2017): MAML, first-order MAML,
Reptile and ANIL against a pretrained-then-fine-tuned network.

    python benchmarks/meta_sinusoid.py                      # about 10 min, 2 cores
    python benchmarks/meta_sinusoid.py --n-meta-iter 300    # quicker, worse

Protocol. A task is ``y = A sin(x - phi)``, ``A ~ U[0.1, 5]``, ``phi ~ U[0,
pi]``, ``x ~ U[-5, 5]`` (Finn et al. 2017, section 5.1). Meta-training sees a
fixed pool of 2000 tasks of 20 points each; every meta-learner is
``GradientMetaRegressor`` with a 40-40 ReLU network (the paper's), episodes of
10 support and 10 query points, meta-batches of 10 tasks, 5 inner gradient
steps of size 0.05 (on standardized targets) in meta-training and in
``adapt``. One meta-training per algorithm serves both K: the new tasks are
600 tasks never seen, each with K = 5 or 10 support points for ``adapt`` and
100 query points for the MSE. Figures: the MSE averaged over the 600 tasks ±
its 95 % interval (1.96 standard errors over tasks); one meta-training seed.

The inner-loop settings (steps 5, step 0.05) and Reptile's outer step (0.1)
were set in a short exploration on separate validation tasks drawn from the
training distribution (never the 600 test tasks); the MAML-family outer loop
is Adam at 1e-3.

Baselines: the same 40-40 network trained on all meta-training points pooled
(Adam, 1e-3, 20 epochs of minibatches of 256; it learns the mean curve),
scored as it is ("pretrained") and after 5 plain gradient steps on the K
support points ("pretrained + fine-tuned"; the step size chosen among 0.001 to
0.1 on 200 validation tasks); and a zero predictor (the task spread).
learn2learn's MAML is reported as not installable when it is not importable
(the only release for Python 3.11 on PyPI, 0.2.0, fails to compile).
"""

import _bootstrap  # standard library only: installs what is missing, first

_bootstrap.ensure_installed()

import argparse  # noqa: E402
import copy  # noqa: E402
import importlib.util  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
from _common import print_table  # noqa: E402
from torch import nn  # noqa: E402

from sklearn_mtl.meta import GradientMetaRegressor  # noqa: E402

SHOTS = (5, 10)
N_TRAIN_TASKS, POINTS_PER_TASK = 2000, 20
N_TEST_TASKS, N_QUERY, N_VALIDATION = 600, 100, 200
INNER_STEPS, INNER_LR = 5, 0.05
ALGORITHMS = {
    "MAML": {"algorithm": "maml", "meta_lr": 1e-3},
    "first-order MAML": {"algorithm": "fomaml", "meta_lr": 1e-3},
    "Reptile": {"algorithm": "reptile", "meta_lr": 0.1},
    "ANIL": {"algorithm": "anil", "meta_lr": 1e-3},
}
FINE_TUNE_LRS = (0.001, 0.003, 0.01, 0.03, 0.1)


def sinusoid_tasks(rng, n_tasks, n_points):
    """x and y of shape (n_tasks, n_points) for Finn et al.'s task family."""
    amplitude = rng.uniform(0.1, 5.0, n_tasks)
    phase = rng.uniform(0.0, np.pi, n_tasks)
    x = rng.uniform(-5.0, 5.0, (n_tasks, n_points))
    return x, amplitude[:, None] * np.sin(x - phase[:, None])


def long_format(x, y, first_task=0):
    n_tasks, n_points = x.shape
    tasks = np.repeat(np.arange(first_task, first_task + n_tasks), n_points)
    return x.reshape(-1, 1), y.ravel(), tasks


def per_task_mse(y_true, y_pred):
    """MSE of each task (rows: tasks), then mean ± 1.96 standard errors."""
    mse = np.mean((y_true - y_pred) ** 2, axis=1)
    return mse.mean(), 1.96 * mse.std(ddof=1) / np.sqrt(len(mse))


def pretrain(x, y, seed):
    """The 40-40 ReLU network fitted on every meta-training point, pooled."""
    torch.manual_seed(seed)
    net = nn.Sequential(
        nn.Linear(1, 40), nn.ReLU(), nn.Linear(40, 40), nn.ReLU(), nn.Linear(40, 1)
    )
    X = torch.as_tensor(x.reshape(-1, 1), dtype=torch.float32)
    Y = torch.as_tensor(y.reshape(-1, 1), dtype=torch.float32)
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
    generator = torch.Generator().manual_seed(seed)
    for _ in range(20):
        for batch in torch.randperm(len(X), generator=generator).split(256):
            optimizer.zero_grad()
            nn.functional.mse_loss(net(X[batch]), Y[batch]).backward()
            optimizer.step()
    return net


def fine_tune_predict(net, x_support, y_support, x_query, lr):
    """INNER_STEPS plain gradient steps on each task's support points."""
    out = np.empty(x_query.shape)
    for t in range(len(x_support)):  # a loop over tasks, not samples
        model = copy.deepcopy(net)
        optimizer = torch.optim.SGD(model.parameters(), lr=lr)
        xs = torch.as_tensor(x_support[t, :, None], dtype=torch.float32)
        ys = torch.as_tensor(y_support[t, :, None], dtype=torch.float32)
        for _ in range(INNER_STEPS):
            optimizer.zero_grad()
            nn.functional.mse_loss(model(xs), ys).backward()
            optimizer.step()
        with torch.no_grad():
            xq = torch.as_tensor(x_query[t, :, None], dtype=torch.float32)
            out[t] = model(xq)[:, 0].numpy()
    return out


def learn2learn_status():
    if importlib.util.find_spec("learn2learn") is None:
        return (
            "not installed: `pip install learn2learn` (0.2.0, the only release "
            "for Python 3.11) fails to compile its Cython extension, which "
            "includes longintrepr.h, a header Python 3.11 no longer ships"
        )
    return "importable, but not wired into this benchmark"


def run(n_meta_iter, seed=0):
    torch.set_num_threads(1)  # small networks: threads only contend
    rng = np.random.default_rng(seed)
    x_train, y_train = sinusoid_tasks(rng, N_TRAIN_TASKS, POINTS_PER_TASK)
    x_val, y_val = sinusoid_tasks(rng, N_VALIDATION, max(SHOTS) + N_QUERY)
    x_test, y_test = sinusoid_tasks(rng, N_TEST_TASKS, max(SHOTS) + N_QUERY)
    X, y, tasks = long_format(x_train, y_train)
    rows, times = {}, {}
    # Support = the first K points of a new task, query = its last 100.
    query_x, query_y = x_test[:, -N_QUERY:], y_test[:, -N_QUERY:]

    rows["zero predictor"] = {k: per_task_mse(query_y, 0 * query_y) for k in SHOTS}
    start = time.perf_counter()
    net = pretrain(x_train, y_train, seed)
    times["pretrained + fine-tuned"] = time.perf_counter() - start
    with torch.no_grad():
        flat = net(torch.as_tensor(query_x.reshape(-1, 1), dtype=torch.float32))
    rows["pretrained (no fine-tuning)"] = {
        k: per_task_mse(query_y, flat.numpy().reshape(query_y.shape)) for k in SHOTS
    }
    rows["pretrained + fine-tuned"], chosen_lr = {}, {}
    for k in SHOTS:
        val_mse = {
            lr: per_task_mse(
                y_val[:, -N_QUERY:],
                fine_tune_predict(
                    net, x_val[:, :k], y_val[:, :k], x_val[:, -N_QUERY:], lr
                ),
            )[0]
            for lr in FINE_TUNE_LRS
        }
        chosen_lr[k] = min(val_mse, key=val_mse.get)
        pred = fine_tune_predict(
            net, x_test[:, :k], y_test[:, :k], query_x, chosen_lr[k]
        )
        rows["pretrained + fine-tuned"][k] = per_task_mse(query_y, pred)
    print(f"fine-tuning step chosen on validation tasks: {chosen_lr}", flush=True)

    for name, params in ALGORITHMS.items():
        model = GradientMetaRegressor(
            hidden_layer_sizes=(40, 40),
            inner_steps=INNER_STEPS,
            inner_lr=INNER_LR,
            meta_batch_size=10,
            n_meta_iter=n_meta_iter,
            support_fraction=0.5,
            random_state=seed,
            device="cpu",
            **params,
        )
        start = time.perf_counter()
        model.fit(X, y, task_ids=tasks)
        times[name] = time.perf_counter() - start
        rows[name] = {}
        for k in SHOTS:
            Xs, ys, ts = long_format(x_test[:, :k], y_test[:, :k], first_task=10**6)
            Xq, _, tq = long_format(query_x, query_y, first_task=10**6)
            adapted = copy.deepcopy(model).adapt(Xs, ys, task_ids=ts)
            pred = adapted.predict(Xq, task_ids=tq).reshape(query_y.shape)
            rows[name][k] = per_task_mse(query_y, pred)
        print(f"{name}: meta-trained in {times[name]:.0f} s", flush=True)

    peer = "pretrained + fine-tuned"
    header = ["model", *[f"K = {k}" for k in SHOTS], "train s"]
    table = []
    for name, by_k in rows.items():
        table.append(
            [
                name,
                *[f"{by_k[k][0]:.3f} ± {by_k[k][1]:.3f}" for k in SHOTS],
                f"{times[name]:.0f}" if name in times else "",
            ]
        )
    for name in ALGORITHMS:
        table.append(
            [
                f"{name} / {peer} (MSE ratio)",
                *[f"{rows[name][k][0] / rows[peer][k][0]:.2f}" for k in SHOTS],
                "",
            ]
        )
    print_table(
        f"Sinusoid regression: MSE on 100 query points of {N_TEST_TASKS} new tasks "
        f"(mean ± 95 % interval over tasks; {n_meta_iter} meta-steps of 10 tasks)",
        header,
        table,
    )
    print(f"learn2learn's MAML on the same protocol: {learn2learn_status()}.")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-meta-iter", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    run(args.n_meta_iter, args.seed)


if __name__ == "__main__":
    main()
