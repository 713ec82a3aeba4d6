"""The skorch side: a multi-task NeuralNet, its dataset and batch iterator.

Batches are tensor slices of data already on the device, not per-sample
DataLoader collation (which costs up to half the throughput on small nets).
"""

import contextlib

import torch
from skorch import NeuralNet
from torch import nn
from torch.utils.data import Dataset

__all__ = ["MultiTaskSystem", "RowsDataset", "MultiTaskNet"]


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
        head_ids = {id(p) for p in self.network.heads.parameters()}
        shared = [p for p in self.network.parameters() if id(p) not in head_ids]
        others = [p for p in self.network.heads.parameters()]
        others += list(self.weighting.parameters())
        return [p for p in shared if p.requires_grad], [
            p for p in others if p.requires_grad
        ]


class RowsDataset(Dataset):
    """Rows of multi-task data: features of ``X[sample_index]``, a task, a target.

    ``X`` is stored once per sample (wide data shares it across tasks).
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

        return RowsDataset(
            self.X,
            self.sample_index[rows],
            self.task_index[rows],
            take(self.y),
            take(self.weight),
        )

    def batch(self, rows):
        X = {"X": self.X[self.sample_index[rows]], "task_index": self.task_index[rows]}
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


def per_task_losses(output, target, task_index, head_sizes, n_outputs, classification):
    """Weighted mean loss of every task in a batch and which tasks are present."""
    n_tasks = head_sizes.shape[0]
    if classification:
        valid = (
            torch.arange(output.shape[1], device=output.device)[None, :]
            < head_sizes[task_index][:, None]
        )
        logits = output.float().masked_fill(~valid, float("-inf"))
        row_loss = (
            torch.logsumexp(logits, dim=1)
            - logits.gather(1, target["y"][:, None])[:, 0]
        )
    else:
        difference = output[:, :n_outputs].float() - target["y"]
        row_loss = (difference**2).mean(dim=1)
    weight = target["weight"]
    sums = torch.zeros(n_tasks, device=output.device).index_add_(
        0, task_index, weight * row_loss
    )
    totals = torch.zeros(n_tasks, device=output.device).index_add_(
        0, task_index, weight
    )
    present = totals > 0
    return sums / totals.clamp_min(1e-12), present


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

    def task_losses(self, y_pred, y_true, X):
        return per_task_losses(
            y_pred,
            y_true,
            X["task_index"],
            self.head_sizes.to(y_pred.device),
            self.n_outputs,
            self.classification,
        )

    def get_loss(self, y_pred, y_true, X=None, training=False):
        # Early stopping watches the plain mean over tasks, whatever the weighting.
        task_losses, present = self.task_losses(y_pred, y_true, X)
        return (task_losses * present).sum() / present.sum().clamp_min(1)

    def train_step_single(self, batch, **fit_params):
        self._set_training(True)
        Xi, yi = batch
        with self._autocast():
            y_pred = self.infer(Xi, **fit_params)
        task_losses, present = self.task_losses(y_pred, yi, Xi)
        weighting = self.module_.weighting
        shared, others = self.module_.parameter_groups()
        loss = weighting.backward(task_losses, present, shared, others)
        weighting.record(task_losses.detach(), present)
        return {"loss": loss, "y_pred": y_pred}

    def on_epoch_end(self, net, dataset_train=None, dataset_valid=None, **kwargs):
        super().on_epoch_end(net, dataset_train, dataset_valid, **kwargs)
        self.module_.weighting.end_epoch()
