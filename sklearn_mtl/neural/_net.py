"""The skorch side: a multi-task NeuralNet, its dataset and batch iterator.

Batches are tensor slices of data already on the device, not per-sample
DataLoader collation (which costs up to half the throughput on small nets).
"""

import contextlib
import math

import torch
from skorch import NeuralNet
from torch import nn
from torch.utils.data import Dataset

__all__ = ["MultiTaskSystem", "RowsDataset", "MultiTaskNet", "TrainingDiverged"]


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

    def forward(self, X, task_index):
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

    def batch(self, rows):
        samples = rows if self.sample_index is None else self.sample_index[rows]
        X = {"X": self.X[samples], "task_index": self.task_index[rows]}
        if self.y is None:
            return X, None
        return X, {"y": self.y[rows], "weight": self.weight[rows]}


class BatchIterator:
    """Mini-batches of a RowsDataset by index slicing.

    ``task_balanced`` draws rows with replacement, each task equally likely,
    an epoch holding as many rows as the dataset.
    """

    def __init__(self, dataset, batch_size, shuffle, generator, task_balanced=False):
        self.dataset, self.batch_size = dataset, batch_size
        self.shuffle, self.generator = shuffle, generator
        self.task_balanced = task_balanced

    def __len__(self):
        return -(-len(self.dataset) // self.batch_size)

    def _order(self):
        n_rows = len(self.dataset)
        device = self.dataset.task_index.device
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
        order = self._order()
        for start in range(0, len(order), self.batch_size):
            yield self.dataset.batch(order[start : start + self.batch_size])


class BatchLosses:
    """Per-row losses of a batch, reduced per task on demand.

    ``mean_over_tasks`` (the equal weighting, and what early stopping
    watches) weights rows by ``w_i / (n_present * W_task)`` computed without
    autograd, which keeps the common path as cheap as a plain mean.
    """

    def __init__(self, row_loss, task_index, weight, n_tasks):
        self.row_loss, self.task_index, self.weight = row_loss, task_index, weight
        with torch.no_grad():
            self.task_weight = torch.zeros(n_tasks, device=weight.device).index_add_(
                0, task_index, weight
            )
        # A task whose rows in the batch all weigh 0 is absent: it contributes
        # nothing (and its 0 / 0 mean is never formed).
        self.present = self.task_weight > 0
        self._per_task = None

    def _inverse_task_weight(self):
        return torch.where(
            self.present, 1.0 / torch.where(self.present, self.task_weight, 1.0), 0.0
        )

    def per_task(self):
        """Weighted mean loss of every task (0 where absent), with gradients."""
        if self._per_task is None:
            sums = torch.zeros_like(self.task_weight).index_add_(
                0, self.task_index, self.weight * self.row_loss
            )
            self._per_task = sums * self._inverse_task_weight()
        return self._per_task

    def mean_over_tasks(self):
        with torch.no_grad():
            n_present = self.present.sum().clamp_min(1)
            coef = self.weight * (self._inverse_task_weight() / n_present)[
                self.task_index
            ]
        return (coef * self.row_loss).sum()


def batch_losses(output, target, task_index, head_sizes, n_outputs, classification):
    """Row losses of a batch (cross-entropy over the task's own classes, or MSE)."""
    if classification:
        columns = torch.arange(output.shape[1], device=output.device)
        valid = columns[None, :] < head_sizes[task_index][:, None]
        logits = output.float().masked_fill(~valid, float("-inf"))
        picked = logits.gather(1, target["y"][:, None])[:, 0]
        row_loss = torch.logsumexp(logits, dim=1) - picked
    elif n_outputs == 1:
        row_loss = (output[:, 0].float() - target["y"][:, 0]) ** 2
    else:
        row_loss = ((output[:, :n_outputs].float() - target["y"]) ** 2).mean(dim=1)
    return BatchLosses(row_loss, task_index, target["weight"], head_sizes.shape[0])


class MultiTaskNet(NeuralNet):
    """NeuralNet training a MultiTaskSystem on RowsDataset batches.

    Set after construction: ``head_sizes`` (tensor), ``n_outputs``,
    ``classification``, ``valid_rows`` (or None), ``generator``,
    ``task_balanced``, ``mixed_precision``.
    """

    def get_split_datasets(self, X, y=None, **fit_params):
        if self.valid_rows is None:
            return X, None
        keep = torch.ones(len(X), dtype=torch.bool)
        keep[self.valid_rows] = False
        train_rows = torch.nonzero(keep).flatten().to(X.task_index.device)
        return X.subset(train_rows), X.subset(self.valid_rows.to(X.task_index.device))

    def get_iterator(self, dataset, training=False):
        return BatchIterator(
            dataset,
            self.batch_size if self.batch_size > 0 else len(dataset),
            shuffle=training,
            generator=self.generator,
            task_balanced=training and self.task_balanced,
        )

    def _autocast(self):
        if self.mixed_precision and str(self.device).startswith("cuda"):
            return torch.autocast(device_type="cuda", dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def batch_losses(self, y_pred, y_true, X):
        return batch_losses(
            y_pred,
            y_true,
            X["task_index"],
            self.head_sizes.to(y_pred.device),
            self.n_outputs,
            self.classification,
        )

    def get_loss(self, y_pred, y_true, X=None, training=False):
        # Early stopping watches the plain mean over tasks, whatever the weighting.
        return self.batch_losses(y_pred, y_true, X).mean_over_tasks()

    def train_step_single(self, batch, **fit_params):
        self._set_training(True)
        Xi, yi = batch
        with self._autocast():
            y_pred = self.infer(Xi, **fit_params)
        losses = self.batch_losses(y_pred, yi, Xi)
        weighting = self.module_.weighting
        shared, others = self.module_.parameter_groups()
        loss = weighting.backward(losses, shared, others)
        weighting.record(losses)
        return {"loss": loss, "y_pred": y_pred}

    def on_batch_end(self, net, batch=None, training=None, **kwargs):
        # The batch loss is already on the host (skorch recorded its .item()):
        # checking it costs no device synchronization.
        kind = "train" if training else "valid"
        value = self.history[-1, "batches", -1, f"{kind}_loss"]
        if not math.isfinite(value):
            raise TrainingDiverged(len(self.history), kind, value)

    def on_epoch_end(self, net, dataset_train=None, dataset_valid=None, **kwargs):
        super().on_epoch_end(net, dataset_train, dataset_valid, **kwargs)
        self.module_.weighting.end_epoch()
