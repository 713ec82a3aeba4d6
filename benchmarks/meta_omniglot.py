"""Omniglot one-shot: meta-learners with a small CNN against nearest neighbours.

    python benchmarks/meta_omniglot.py                    # data home as school.py
    python benchmarks/meta_omniglot.py --data-home PATH   # a folder with omniglot/
    python benchmarks/meta_omniglot.py --device cuda      # train on a GPU

Protocol (issue 9; Lake et al. 2015). Meta-training sees the background
images only: the union of the authors' two small background sets (8
alphabets, 242 characters, 4,840 images at 28 x 28). The test is the official
benchmark: 20 runs of 20-way one-shot classification within an alphabet
never seen in training; each run's 20 class images are the support set of a
new task (``adapt``), its 20 query images are classified, and the error is
over the 400 queries (± the std over the 20 runs' errors). One training seed.

Rows:

* prototypical network (:class:`PrototypicalClassifier` with the 4-block
  :class:`ConvNet` as the embedding), trained on episodes of 20 characters of
  one alphabet (``--way``) with 3 drawings each, a third of the rows as
  support (about 1 shot per class, as at test time);
* first-order MAML (:class:`GradientMetaClassifier`, ``algorithm="fomaml"``,
  the same CNN with a 20-way head that every task's inner loop starts at
  zero, ``head_init="zero"``; 3 inner steps of 0.4, Adam 1e-3, 2 tasks per
  meta-step), episodes of 20 characters with 2 drawings each, one of each
  character as support (the estimator's episodes are stratified by class).
  With a meta-learned head (``--head-init meta``) it stays at chance: the
  labels are drawn anew for every task, so the head it learns is noise that
  each task's 3 inner steps must first undo;
* 1-nearest neighbour on raw pixels (Euclidean);
* 1-nearest neighbour on the features of a pooled network: the same CNN
  trained as an ordinary 242-class classifier of every background character
  (skorch), features = its trunk's output in evaluation mode;

with the published figures on the same 20 runs beside them (not measured
here): the authors' modified-Hausdorff-distance nearest neighbour 38.8 %,
people 4.5 %, deep networks trained on the full 30-alphabet background set
8-14 % (Lake et al. 2015, 2019). Training times are wall-clock on the machine
that runs the script. ``--episodes 300 --maml-iter 60 --epochs 3`` took 40
minutes wall on the project's 2-core CPU shared with seven other jobs (load
average 10-19; the process got about a fifth of the CPU), i.e. about 8
minutes of a dedicated 2-core machine; first-order MAML's default of 200
meta-iterations takes 5 minutes wall on that CPU at load 3-5. ``--models``
trains a subset of the rows (e.g. ``--models maml --maml-iter 400``).
"""

import _bootstrap  # standard library only: installs what is missing, first

_bootstrap.ensure_installed()

import argparse  # noqa: E402
import functools  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
from _common import data_home_or_none, print_table  # noqa: E402
from sklearn.neighbors import KNeighborsClassifier  # noqa: E402
from skorch import NeuralNetClassifier  # noqa: E402

from sklearn_mtl.datasets._omniglot import load_omniglot  # noqa: E402
from sklearn_mtl.meta import GradientMetaClassifier, PrototypicalClassifier  # noqa: E402
from sklearn_mtl.neural._conv import ConvNet  # noqa: E402

PUBLISHED = (
    ("modified Hausdorff distance, 1-NN (Lake et al. 2015)", "38.8"),
    ("deep networks, full background set (Lake et al. 2019)", "8-14"),
    ("people (Lake et al. 2015)", "4.5"),
)


def progress(message):
    print(message, file=sys.stderr, flush=True)


def episode_tasks(omniglot, n_tasks, way, drawings, rng):
    """Training tasks: ``way`` characters of one alphabet, ``drawings`` each.

    Labels are 0..way-1 in a random order per task (a character's label means
    nothing across tasks, as in MAML's N-way episodes), so new tasks can use
    the labels 0..19 of a run's support images.
    """
    alphabets = np.unique(omniglot.alphabet)
    chars_of = {
        a: np.unique(omniglot.target[omniglot.alphabet == a]) for a in alphabets
    }
    rows_of = {
        c: np.flatnonzero(omniglot.target == c) for c in np.unique(omniglot.target)
    }
    X, y, t = [], [], []
    for task in range(n_tasks):
        chars = chars_of[alphabets[rng.integers(len(alphabets))]]
        chars = rng.choice(chars, size=min(way, len(chars)), replace=False)
        for label, char in enumerate(chars):
            rows = rng.choice(rows_of[char], size=drawings, replace=False)
            X.append(omniglot.data[rows])
            y.append(np.full(drawings, label))
            t.append(np.full(drawings, task))
    return np.concatenate(X), np.concatenate(y), np.concatenate(t)


def one_shot_errors(predict_run, omniglot):
    """Error of each of the 20 runs: ``predict_run(r)`` -> 20 predicted classes."""
    return np.array(
        [np.mean(predict_run(r) != omniglot.runs_target[r]) for r in range(20)]
    )


def adapted_errors(model, omniglot):
    n_pixels = omniglot.runs_support.shape[-1]
    # Negative ids: never one of the meta-training episodes' ids (0, 1, ...),
    # however many episodes were drawn.
    runs = -1 - np.repeat(np.arange(20), 20)
    model.adapt(
        omniglot.runs_support.reshape(-1, n_pixels),
        np.tile(np.arange(20), 20),
        task_ids=runs,
    )
    pred = model.predict(
        omniglot.runs_query.reshape(-1, n_pixels), task_ids=runs
    ).reshape(20, 20)
    return one_shot_errors(lambda r: pred[r], omniglot)


def nearest_neighbour_errors(features_support, features_query, omniglot):
    def predict(r):
        knn = KNeighborsClassifier(n_neighbors=1).fit(
            features_support[r], np.arange(20)
        )
        return knn.predict(features_query[r])

    return one_shot_errors(predict, omniglot)


def run(args):
    torch.set_num_threads(args.threads)
    device = args.device
    if device.startswith("cuda") and not torch.cuda.is_available():
        progress("--device cuda asked for, but torch sees no GPU: using the CPU")
        device = "cpu"
    omniglot = load_omniglot(data_home_or_none(args.data_home))
    shape = (28, 28)
    progress(
        f"background: {omniglot.data.shape[0]} images, "
        f"{len(np.unique(omniglot.target))} characters, "
        f"{len(np.unique(omniglot.alphabet))} alphabets; device {device}"
    )
    net = functools.partial(ConvNet, image_shape=shape, n_filters=args.filters)
    rng = np.random.default_rng(args.seed)
    results, times = {}, {}

    name = "1-NN, raw pixels"
    results[name] = nearest_neighbour_errors(
        omniglot.runs_support, omniglot.runs_query, omniglot
    )
    times[name] = 0.0

    name = "prototypical network (CNN)"
    if "proto" in args.models:
        proto(args, omniglot, net, rng, device, name, results, times)
    name = "first-order MAML (CNN)"
    if "maml" in args.models:
        maml(args, omniglot, net, rng, device, name, results, times)
    name = "1-NN, pooled CNN's features"
    if "pooled" in args.models:
        pooled_features(args, omniglot, shape, device, name, results, times)
    report(args, device, results, times)


def proto(args, omniglot, net, rng, device, name, results, times):
    X, y, t = episode_tasks(omniglot, args.episodes, args.way, 3, rng)
    model = PrototypicalClassifier(
        network=net,
        standardize=False,
        learning_rate=1e-3,
        meta_batch_size=1,
        n_meta_iter=args.episodes,
        support_fraction=1 / 3,
        random_state=args.seed,
        device=device,
    )
    start = time.perf_counter()
    model.fit(X, y, task_ids=t)
    times[name] = time.perf_counter() - start
    results[name] = adapted_errors(model, omniglot)
    progress(f"  {name}: {100 * results[name].mean():.1f} % ({times[name]:.0f} s)")


def maml(args, omniglot, net, rng, device, name, results, times):
    X, y, t = episode_tasks(omniglot, args.maml_tasks, args.way, 2, rng)
    model = GradientMetaClassifier(
        algorithm="fomaml",
        network=net,
        standardize=False,
        inner_steps=args.inner_steps,
        inner_lr=0.4,
        meta_lr=1e-3,
        meta_batch_size=2,
        n_meta_iter=args.maml_iter,
        support_fraction=0.5,
        head_init=args.head_init,
        random_state=args.seed,
        device=device,
    )
    start = time.perf_counter()
    model.fit(X, y, task_ids=t)
    times[name] = time.perf_counter() - start
    results[name] = adapted_errors(model, omniglot)
    progress(
        f"  {name}: {100 * results[name].mean():.1f} % ({times[name]:.0f} s); "
        "query loss, first and last 10 meta-iterations: "
        f"{np.mean(model.meta_loss_[:10]):.2f} -> {np.mean(model.meta_loss_[-10:]):.2f}"
    )


def pooled_features(args, omniglot, shape, device, name, results, times):
    classes, labels = np.unique(omniglot.target, return_inverse=True)
    torch.manual_seed(args.seed)
    pooled = NeuralNetClassifier(
        ConvNet,
        module__n_features=shape[0] * shape[1],
        module__n_outputs=len(classes),
        module__image_shape=shape,
        module__n_filters=args.filters,
        optimizer=torch.optim.Adam,
        lr=1e-3,
        batch_size=64,
        max_epochs=args.epochs,
        train_split=None,
        iterator_train__shuffle=True,
        device=device,
        verbose=0,
    )
    start = time.perf_counter()
    pooled.fit(omniglot.data, labels.astype(np.int64))
    times[name] = time.perf_counter() - start
    module = pooled.module_.eval()

    def embed(images):
        with torch.no_grad():
            x = torch.as_tensor(images.reshape(-1, images.shape[-1]), device=device)
            return module.embed(x).cpu().numpy().reshape(20, 20, -1)

    results[name] = nearest_neighbour_errors(
        embed(omniglot.runs_support), embed(omniglot.runs_query), omniglot
    )
    progress(f"  {name}: {100 * results[name].mean():.1f} % ({times[name]:.0f} s)")


def report(args, device, results, times):
    baseline = results["1-NN, raw pixels"].mean()
    rows = [
        [
            name,
            f"{100 * e.mean():.1f} ± {100 * e.std():.1f}",
            f"{e.mean() / baseline:.2f}",
            f"{times[name]:.0f}",
        ]
        for name, e in results.items()
    ]
    rows += [[f"*{name}* (published)", value, "", ""] for name, value in PUBLISHED]
    machine = (
        torch.cuda.get_device_name(0)
        if device.startswith("cuda")
        else f"CPU, {args.threads} threads ({platform.machine()})"
    )
    print_table(
        "Omniglot, 20 runs of 20-way within-alphabet one-shot, error over the "
        "400 queries (%, ± std over runs); trained on the 2 small background "
        f"sets; {machine}",
        ["model", "error (%)", "ratio to raw-pixel 1-NN", "training (s)"],
        rows,
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-home", default=None)
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--filters", type=int, default=64)
    parser.add_argument("--way", type=int, default=20)
    parser.add_argument("--episodes", type=int, default=300)
    parser.add_argument("--maml-tasks", type=int, default=100)
    parser.add_argument("--maml-iter", type=int, default=200)
    parser.add_argument(
        "--head-init",
        default="zero",
        choices=["zero", "meta"],
        help="first-order MAML's head: zero (every task starts from a head of "
        "zeros) or meta (a meta-learned head, which stays at chance here)",
    )
    parser.add_argument("--inner-steps", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument(
        "--models",
        default="proto,maml,pooled",
        help="comma-separated rows to train: proto, maml, pooled (raw-pixel 1-NN "
        "always runs)",
    )
    run(parser.parse_args(argv))


if __name__ == "__main__":
    main()
