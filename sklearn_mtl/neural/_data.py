"""Training data in the two layouts the networks train on (torch side).

``rows_datasets``: one row per (sample, task) pair; ``wide_datasets``: one
row per sample, every task's target, for a wide ``y``. Both split off the
validation rows chosen by the estimator. ``merge_repeated_rows`` puts
full-batch data in a canonical form.
"""

import dataclasses

import numpy as np
import torch

from ._net import RowsDataset, WideDataset

__all__ = ["merge_repeated_rows", "rows_datasets", "wide_datasets"]


def merge_repeated_rows(data, targets, weights, strata):
    """Full-batch data in a canonical form: repeated rows merged into weights.

    When one batch covers the data, the objective is the same with a row
    repeated k times or given weight k; merging them (and dropping rows of
    weight 0), in a sorted order, makes the computation itself the same, so
    weights equal repetition to the last bit, not just to float32 rounding.
    Call it for full-batch training of long-format data only.
    """
    keep = np.flatnonzero(weights > 0)
    key = np.column_stack(
        [
            data.task_index[keep],
            data.X[keep].reshape(keep.size, -1).astype(np.float64),
            targets.numpy()[keep].reshape(keep.size, -1).astype(np.float64),
        ]
    )
    _, first, inverse = np.unique(key, axis=0, return_index=True, return_inverse=True)
    rows = keep[first]
    merged = np.bincount(inverse.ravel(), weights=weights.numpy()[keep])
    data = dataclasses.replace(data, X=data.X[rows], task_index=data.task_index[rows])
    merged = torch.as_tensor(merged, dtype=weights.dtype)
    return data, targets[rows], merged, strata[rows]


def _split(n_rows, valid_rows, device):
    train_rows = np.setdiff1d(np.arange(n_rows), valid_rows)
    return (
        torch.as_tensor(train_rows, device=device),
        torch.as_tensor(valid_rows, device=device),
    )


def rows_datasets(X, data, targets, weights, valid_rows):
    """(train, validation) RowsDatasets: one row per (sample, task) pair.

    ``X`` is the samples' tensor on the device; ``valid_rows`` the held-out
    rows (or None: no validation set).
    """
    device = X.device
    samples = (
        None
        if data.sample_index is None
        else torch.as_tensor(data.sample_index, device=device)
    )
    task_index = torch.as_tensor(data.task_index, device=device)
    dataset = RowsDataset(X, samples, task_index, targets, weights)
    if valid_rows is None:
        return dataset, None
    train_rows, valid_rows = _split(data.n_rows, valid_rows, device)
    return dataset.subset(train_rows), dataset.subset(valid_rows)


def wide_datasets(X, data, targets, weights, valid_rows):
    """(train, validation) WideDatasets: one row per sample, all its tasks.

    A (sample, task) pair without a label, or held out for validation,
    weighs 0 in the training set (and the other way round); samples with no
    label in a set are left out of it.
    """
    device = X.device
    n_samples, n_tasks = data.X.shape[0], data.n_tasks
    samples = torch.as_tensor(data.sample_index, device=device)
    tasks = torch.as_tensor(data.task_index, device=device)
    dense = targets.new_zeros((n_samples, n_tasks) + targets.shape[1:])
    dense[samples, tasks] = targets

    def part(rows):
        weight = weights.new_zeros((n_samples, n_tasks))
        weight[samples[rows], tasks[rows]] = weights[rows]
        labelled = torch.zeros(n_samples, dtype=torch.bool, device=device)
        labelled[samples[rows]] = True
        if bool(labelled.all()):
            return WideDataset(X, None, dense, weight)
        keep = torch.nonzero(labelled).flatten()
        return WideDataset(X, keep, dense[keep], weight[keep])

    if valid_rows is None:
        return part(torch.arange(data.n_rows, device=device)), None
    train_rows, valid_rows = _split(data.n_rows, valid_rows, device)
    return part(train_rows), part(valid_rows)
