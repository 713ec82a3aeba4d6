"""The skorch side: a multi-task NeuralNet, its datasets and batch iterator.

Batches are tensor slices of data already on the device, not per-sample
DataLoader collation (which costs up to half the throughput on small nets).
Two layouts: ``RowsDataset``, one row per (sample, task) pair (a long ``y``,
and a row's own head), and ``WideDataset``, one row per sample with a label
(or none) for every task (a wide ``y``: one pass through the shared layers
serves all the sample's tasks).
"""

import contextlib
import math

import torch
from skorch import NeuralNet
from torch import nn
from torch.utils.data import Dataset

__all__ = [
    "MultiTaskSystem",
    "RowsDataset",
    "WideDataset",
    "MultiTaskNet",
    "TrainingDiverged",
]


class TrainingDiverged(Exception):
    """A training or validation loss became NaN or infinite.

    Raised inside the training loop; the estimator turns it into an error in
    the user's terms (learning rate, input scale).
    """

    def __init__(self, epoch, kind, value):
        super().__init__(f"the {kind} loss became {value} in epoch {epoch}")
        self.epoch, self.kind, self.value = epoch, kind, value


def silent(*args, **kwargs):
    """A print replacement that prints nothing (picklable, unlike a lambda)."""


class MultiTaskSystem(nn.Module):
    """The network plus the loss weighting's state, trained as one module."""

    def __init__(self, network, weighting):
        super().__init__()
        self.network = network
        self.weighting = weighting

    def forward(self, X, task_index=None):
        # No task index: a WideDataset batch, every task's head on every sample.
        if task_index is None:
            return self.network.forward_all(X)
        return self.network(X, task_index)

    def parameter_groups(self):
        """(shared, others): parameters outside any head are shared by tasks."""
        if getattr(self, "_groups", None) is None:
            self._groups = self._parameter_groups()
        return self._groups

    def _parameter_groups(self):
        head_ids = {id(p) for p in self.network.heads.parameters()}
        shared = [p for p in self.network.parameters() if id(p) not in head_ids]
        others = [p for p in self.network.heads.parameters()]
        others += list(self.weighting.parameters())
        return [p for p in shared if p.requires_grad], [
            p for p in others if p.requires_grad
        ]


class RowsDataset(Dataset):
    """Rows of multi-task data: features of ``X[sample_index]``, a task, a target.

    ``X`` is stored once per sample (wide data shares it across tasks);
    ``sample_index=None`` means row i is sample i.
    """

    def __init__(self, X, sample_index, task_index, y=None, weight=None):
        self.X, self.sample_index, self.task_index = X, sample_index, task_index
        self.y, self.weight = y, weight

    def __len__(self):
        return self.task_index.shape[0]

    def __getitem__(self, i):  # pragma: no cover - batches come from slices
        return self.batch(torch.as_tensor([i]))

    def subset(self, rows):
        def take(a):
            return None if a is None else a[rows]

        # Without a sample index a subset needs one: its row i is no longer sample i.
        samples = rows if self.sample_index is None else self.sample_index[rows]
        return RowsDataset(
            self.X, samples, self.task_index[rows], take(self.y), take(self.weight)
        )

    def inputs(self, rows):
        samples = rows if self.sample_index is None else self.sample_index[rows]
        return {"X": self.X[samples]}

    def batch(self, rows):
        X = {**self.inputs(rows), "task_index": self.task_index[rows]}
        if self.y is None:
            return X, None
        return X, {"y": self.y[rows], "weight": self.weight[rows]}


class WideDataset(Dataset):
    """Samples with a target for every task: ``y`` (n_rows, n_tasks[, n_outputs]).

    ``weight`` (n_rows, n_tasks) is 0 where a task has no label (or is held
    out), so one forward pass per sample serves all its labelled tasks.
    ``sample_index=None`` means row i is sample i of ``X``.
    """

    def __init__(self, X, sample_index, y, weight):
        self.X, self.sample_index, self.y, self.weight = X, sample_index, y, weight
        self.task_index = None

    def __len__(self):
        return self.weight.shape[0]

    def __getitem__(self, i):  # pragma: no cover - batches come from slices
        return self.batch(torch.as_tensor([i]))

    def inputs(self, rows):
        samples = rows if self.sample_index is None else self.sample_index[rows]
        return {"X": self.X[samples]}

    def batch(self, rows):
        return self.inputs(rows), {"y": self.y[rows], "weight": self.weight[rows]}


class BatchIterator:
    """Mini-batches of a RowsDataset or WideDataset by index slicing.

    ``task_balanced`` draws rows with replacement, each task equally likely,
    an epoch holding as many rows as the dataset. With targets, each batch's
    per-task weights and loss coefficients are computed for the whole epoch
    at once (see ``epoch_targets``), not batch by batch.
    """

    def __init__(
        self,
        dataset,
        batch_size,
        shuffle,
        generator,
        task_balanced=False,
        n_tasks=None,
    ):
        self.dataset, self.batch_size = dataset, batch_size
        self.shuffle, self.generator = shuffle, generator
        self.task_balanced, self.n_tasks = task_balanced, n_tasks

    def __len__(self):
        return -(-len(self.dataset) // self.batch_size)

    def _order(self):
        n_rows = len(self.dataset)
        device = self.dataset.X.device
        if self.task_balanced:
            tasks = self.dataset.task_index.cpu()
            counts = torch.bincount(tasks).double()
            probabilities = (1.0 / counts)[tasks]
            order = torch.multinomial(
                probabilities, n_rows, True, generator=self.generator
            )
        elif self.shuffle:
            order = torch.randperm(n_rows, generator=self.generator)
        else:
            order = torch.arange(n_rows)
        return order.to(device)

    def __iter__(self):
        order, size, dataset = self._order(), self.batch_size, self.dataset
        if dataset.y is None:
            for start in range(0, len(order), size):
                yield dataset.batch(order[start : start + size])
            return
        rows, task_weight = epoch_targets(dataset, order, size, self.n_tasks)
        for b, start in enumerate(range(0, len(order), size)):
            batch = {k: v[start : start + size] for k, v in rows.items()}
            X = dataset.inputs(order[start : start + size])
            if "task_index" in batch:
                X["task_index"] = batch.pop("task_index")
            yield X, {**batch, "task_weight": task_weight[b]}


def epoch_targets(dataset, order, batch_size, n_tasks=None):
    """An epoch's targets in batch order, and every batch's task weights.

    Returns ``rows``, per-row tensors in the order of ``order`` ("y",
    "weight", "coef", and "task_index" for a RowsDataset), and
    ``task_weight`` (n_batches, n_tasks), the weight of each task in each
    batch. ``coef`` is the equal weighting's coefficient of a row's loss,
    ``w_i / (n_present * W_task)`` of its batch, 0 for a task absent from the
    batch (all its rows weigh 0): a handful of operations per epoch instead
    of per batch.
    """
    weight = dataset.weight[order]
    n_batches = -(-order.shape[0] // batch_size)
    batch_of_row = torch.arange(order.shape[0], device=order.device) // batch_size
    rows = {"y": dataset.y[order], "weight": weight}
    if dataset.task_index is None:  # wide: weight (n, T)
        n_tasks = weight.shape[1]
        cell = batch_of_row
        task_weight = weight.new_zeros((n_batches, n_tasks))
    else:
        rows["task_index"] = dataset.task_index[order]
        if n_tasks is None:
            n_tasks = int(dataset.task_index.max()) + 1
        cell = batch_of_row * n_tasks + rows["task_index"]
        task_weight = weight.new_zeros(n_batches * n_tasks)
    task_weight = task_weight.index_add_(0, cell, weight).view(n_batches, n_tasks)
    n_present = (task_weight > 0).sum(dim=1, keepdim=True).clamp_min(1)
    denominator = task_weight.clamp_min(1e-30) * n_present
    if dataset.task_index is None:
        rows["coef"] = weight / denominator[cell]
    else:
        rows["coef"] = weight / denominator.view(-1)[cell]
    return rows, task_weight


class BatchLosses:
    """Per-row losses of a batch, reduced per task on demand.

    Rows of a long batch: ``row_loss`` and ``weight`` (n,) with ``task_index``
    (n,); of a wide batch: ``row_loss`` and ``weight`` (n, T) with
    ``task_index=None`` (weight 0 where a task has no label). A task whose
    rows in the batch all weigh 0 is absent: it contributes nothing (and its
    0 / 0 mean is never formed). ``mean_over_tasks`` (the equal weighting, and
    what early stopping watches) weights rows by ``w_i / (n_present * W_task)``,
    computed outside autograd, which keeps the common path as cheap as a
    plain mean.
    """

    def __init__(
        self, row_loss, task_index, weight, n_tasks, task_weight=None, coef=None
    ):
        # Weights need no gradient: what is computed from them alone is
        # outside autograd without a no_grad block. ``task_weight`` and
        # ``coef`` come precomputed from the batch iterator (epoch_targets).
        self.row_loss, self.task_index, self.weight = row_loss, task_index, weight
        if task_weight is None:
            if task_index is None:
                task_weight = weight.sum(dim=0)
            else:
                task_weight = torch.zeros(
                    n_tasks, device=weight.device, dtype=weight.dtype
                ).index_add_(0, task_index, weight)
        self.task_weight, self._coef = task_weight, coef
        self._per_task = None

    @property
    def present(self):
        """Tasks with positive weight in the batch."""
        return self.task_weight > 0

    def per_task(self):
        """Weighted mean loss of every task (0 where absent), with gradients."""
        if self._per_task is None:
            weighted = self.weight * self.row_loss
            if self.task_index is None:
                sums = weighted.sum(dim=0)
            else:
                sums = torch.zeros_like(self.task_weight).index_add_(
                    0, self.task_index, weighted
                )
            # An absent task's rows all weigh 0: dividing them by a tiny
            # positive number keeps them at 0, with no 0 / 0.
            self._per_task = sums / self.task_weight.clamp_min(1e-30)
        return self._per_task

    def mean_over_tasks(self):
        coef = self._coef
        if coef is None:
            n_present = self.present.sum().clamp_min(1)
            task_coef = self.task_weight.clamp_min(1e-30) * n_present
            if self.task_index is not None:
                task_coef = task_coef[self.task_index]
            coef = self.weight / task_coef
        return (coef * self.row_loss).sum()


def batch_losses(output, target, task_index, head_sizes, n_outputs, classification):
    """Losses of a batch (cross-entropy over the task's own classes, or MSE).

    ``output`` is (n, width) with ``task_index`` (n,), or (n, T, width) with
    ``task_index=None`` (every task's head on every sample).
    """
    y = target["y"]
    if classification:
        columns = torch.arange(output.shape[-1], device=output.device)
        sizes = head_sizes if task_index is None else head_sizes[task_index]
        valid = columns < sizes[..., None]
        logits = output.float().masked_fill(~valid, float("-inf"))
        picked = logits.gather(-1, y[..., None])[..., 0]
        row_loss = torch.logsumexp(logits, dim=-1) - picked
    elif n_outputs == 1:
        row_loss = (output[..., 0].float() - y[..., 0]) ** 2
    else:
        row_loss = ((output[..., :n_outputs].float() - y) ** 2).mean(dim=-1)
    return BatchLosses(
        row_loss,
        task_index,
        target["weight"],
        head_sizes.shape[0],
        target.get("task_weight"),
        target.get("coef"),
    )


class MultiTaskNet(NeuralNet):
    """NeuralNet training a MultiTaskSystem on RowsDataset batches.

    Set after construction: ``head_sizes`` (tensor), ``n_outputs``,
    ``classification``, ``valid_dataset`` (or None), ``generator``,
    ``task_balanced``, ``mixed_precision``.
    """

    def get_split_datasets(self, X, y=None, **fit_params):
        # The estimator splits (by task, or by task and class): X is the
        # training set, ``valid_dataset`` the held-out one (or None).
        return X, self.valid_dataset

    def get_iterator(self, dataset, training=False):
        return BatchIterator(
            dataset,
            self.batch_size if self.batch_size > 0 else len(dataset),
            shuffle=training,
            generator=self.generator,
            task_balanced=training and self.task_balanced,
            n_tasks=len(self.head_sizes),
        )

    def _set_training(self, training=True):
        # skorch sets the mode before every batch, walking every submodule;
        # only a change of mode needs that walk.
        if self.module_.training != training:
            super()._set_training(training)

    def _autocast(self):
        if self.mixed_precision and str(self.device).startswith("cuda"):
            return torch.autocast(device_type="cuda", dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def batch_losses(self, y_pred, y_true, X):
        return batch_losses(
            y_pred,
            y_true,
            X.get("task_index"),
            self.head_sizes.to(y_pred.device),
            self.n_outputs,
            self.classification,
        )

    def get_loss(self, y_pred, y_true, X=None, training=False):
        # Early stopping watches the plain mean over tasks, whatever the weighting.
        return self.batch_losses(y_pred, y_true, X).mean_over_tasks()

    def run_single_epoch(self, iterator, training, prefix, step_fn, **fit_params):
        # skorch's loop, leaner: the callbacks used here act once per epoch, so
        # batches notify nobody, and the batch losses are read back once per
        # epoch (one device synchronization, not one per batch), then checked
        # and recorded in the history as skorch would.
        if iterator is None:
            return
        losses, sizes = [], []
        for batch in iterator:
            step = step_fn(batch, **fit_params)
            losses.append(step["loss"].detach())
            sizes.append(len(batch[0]["X"]))
        values = torch.stack(losses).tolist() if losses else []
        for value, size in zip(values, sizes):
            self.history.new_batch()
            self.history.record_batch(f"{prefix}_loss", value)
            self.history.record_batch(f"{prefix}_batch_size", size)
        self.history.record(f"{prefix}_batch_count", len(values))
        diverged = [v for v in values if not math.isfinite(v)]
        if diverged:
            raise TrainingDiverged(len(self.history), prefix, diverged[0])

    def train_step(self, batch, **fit_params):
        # skorch's train_step, less its per-batch accumulator and
        # on_grad_computed notification (no callback here uses them).
        step = {}

        def closure():
            self._zero_grad_optimizer()
            step.update(self.train_step_single(batch, **fit_params))
            return step["loss"]

        self._step_optimizer(closure)
        return step

    def train_step_single(self, batch, **fit_params):
        self._set_training(True)
        Xi, yi = batch
        with self._autocast():
            # Batches are dicts of tensors already on the device.
            y_pred = self.module_(**Xi)
        losses = self.batch_losses(y_pred, yi, Xi)
        weighting = self.module_.weighting
        shared, others = self.module_.parameter_groups()
        loss = weighting.backward(losses, shared, others)
        weighting.record(losses)
        return {"loss": loss, "y_pred": y_pred}

    def on_epoch_end(self, net, dataset_train=None, dataset_valid=None, **kwargs):
        super().on_epoch_end(net, dataset_train, dataset_valid, **kwargs)
        self.module_.weighting.end_epoch()
