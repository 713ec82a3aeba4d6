"""The skorch side of deep domain adaptation: its dataset, batches and net.

A training batch pairs a mini-batch of *labelled* rows (sources and labelled
target rows: the label loss) with a mini-batch of *target* rows, labelled or
not (the domain loss). Batches are tensor slices of data already on the
device, as in :mod:`sklearn_mtl.neural._net`.
"""

import math

import torch
from skorch import NeuralNet
from torch.nn import functional as F

from ..neural._net import TrainingDiverged
from ._deep_modules import coral_loss, dann_lambda

__all__ = ["DomainBatches", "DomainDataset", "DomainAdaptationNet"]


class DomainDataset(torch.utils.data.Dataset):
    """Labelled rows (``X``, ``y``, ``weight``, ``is_source``) and the target
    rows ``X_target`` (every target row; None: no domain loss)."""

    def __init__(self, X, y, weight, is_source, X_target):
        self.X, self.y, self.weight = X, y, weight
        self.is_source, self.X_target = is_source, X_target

    def __len__(self):
        return self.X.shape[0]

    def __getitem__(self, i):  # pragma: no cover - batches come from slices
        raise NotImplementedError("DomainDataset is read in slices by DomainBatches.")


class DomainBatches:
    """An epoch of (labelled batch, target batch) pairs.

    The labelled rows are shuffled once per epoch and cut in batches of
    ``batch_size``; each is paired with ``min(batch_size, n_target)`` target
    rows, drawn without replacement within a pass over the target (passes
    are concatenated when the target is the smaller domain).
    """

    def __init__(self, dataset, batch_size, generator):
        self.dataset, self.batch_size, self.generator = dataset, batch_size, generator

    def __len__(self):
        return -(-len(self.dataset) // self.batch_size)

    def __iter__(self):
        data, size = self.dataset, self.batch_size
        device = data.X.device
        order = torch.randperm(len(data), generator=self.generator).to(device)
        target_order, target_size = None, 0
        if data.X_target is not None:
            n_target = data.X_target.shape[0]
            target_size = min(size, n_target)
            n_passes = -(-len(self) * target_size // n_target)
            # Several permutations at once: argsort of uniform noise, row by row.
            noise = torch.rand(n_passes, n_target, generator=self.generator)
            target_order = noise.argsort(dim=1).flatten().to(device)
        for b, start in enumerate(range(0, len(order), size)):
            rows = order[start : start + size]
            batch = {
                "X": data.X[rows],
                "y": data.y[rows],
                "weight": data.weight[rows],
                "is_source": data.is_source[rows],
            }
            if target_order is not None:
                picked = target_order[b * target_size : (b + 1) * target_size]
                batch["X_target"] = data.X_target[picked]
            yield batch, None


class DomainAdaptationNet(NeuralNet):
    """NeuralNet training a DomainAdaptationNetwork on DomainBatches.

    Set after construction: ``adaptation`` ("dann", "coral" or None),
    ``adaptation_weight``, ``classification``, ``generator``. The loss of a
    batch is the weighted label loss on its labelled rows plus

    - "dann": the domain classifier's cross-entropy on the batch's source
      rows (domain 0) and target rows (domain 1); the features reach it
      through gradient reversal with ``lambda = adaptation_weight *
      (2 / (1 + exp(-10 p)) - 1)``, p the share of training steps done;
    - "coral": ``adaptation_weight`` times the CORAL loss between the
      features of the batch's source rows and target rows.
    """

    def get_split_datasets(self, X, y=None, **fit_params):
        return X, None

    def get_iterator(self, dataset, training=False):
        return DomainBatches(dataset, self.batch_size, self.generator)

    def initialize(self):
        super().initialize()
        self.steps_done_ = 0
        return self

    def label_loss(self, output, y, weight):
        if self.classification:
            row_loss = F.cross_entropy(output.float(), y, reduction="none")
        else:
            row_loss = (output[:, 0].float() - y) ** 2
        return (weight * row_loss).sum() / weight.sum()

    def domain_loss(self, source_features, target_features):
        """The adaptation term of the loss (0 without target or source rows)."""
        if self.adaptation is None or len(source_features) == 0:
            return source_features.new_zeros(())
        if self.adaptation == "coral":
            if len(source_features) < 2 or len(target_features) < 2:
                return source_features.new_zeros(())  # no covariance from one row
            return self.adaptation_weight * coral_loss(source_features, target_features)
        total = max(self.max_epochs * self.steps_per_epoch, 1)
        lambda_ = self.adaptation_weight * dann_lambda(self.steps_done_ / total)
        self.lambda_ = lambda_
        features = torch.cat([source_features, target_features])
        logits = self.module_.domain_logits(features, lambda_)
        domains = torch.cat(
            [
                logits.new_zeros(len(source_features)),
                logits.new_ones(len(target_features)),
            ]
        )
        return F.binary_cross_entropy_with_logits(logits.float(), domains)

    def train_step_single(self, batch, **fit_params):
        self._set_training(True)
        rows, _ = batch
        n_labelled = rows["X"].shape[0]
        X_target = rows.get("X_target")
        network = self.module_
        inputs = rows["X"] if X_target is None else torch.cat([rows["X"], X_target])
        # One pass through the trunk for both domains (dropout and batch
        # statistics see the mixed batch, as in DANN).
        features = network.features(inputs)
        output = network.head(features[:n_labelled])
        label_loss = self.label_loss(output, rows["y"], rows["weight"])
        if X_target is None:
            domain_loss = label_loss.new_zeros(())
        else:
            domain_loss = self.domain_loss(
                features[:n_labelled][rows["is_source"]], features[n_labelled:]
            )
        loss = label_loss + domain_loss
        loss.backward()
        self.steps_done_ += 1
        return {
            "loss": loss,
            "y_pred": output,
            "label_loss": label_loss.detach(),
            "domain_loss": domain_loss.detach(),
        }

    def run_single_epoch(self, iterator, training, prefix, step_fn, **fit_params):
        # As MultiTaskNet: the losses are read back once per epoch (one device
        # synchronization), then checked and recorded.
        if iterator is None:
            return
        losses, sizes = [], []
        for batch in iterator:
            step = step_fn(batch, **fit_params)
            sizes.append(len(batch[0]["X"]))
            losses.append(
                torch.stack(
                    [step["loss"].detach(), step["label_loss"], step["domain_loss"]]
                )
            )
        values = torch.stack(losses).tolist() if losses else []
        for (total, _, _), size in zip(values, sizes):
            self.history.new_batch()
            self.history.record_batch(f"{prefix}_loss", total)
            self.history.record_batch(f"{prefix}_batch_size", size)
        self.history.record(f"{prefix}_batch_count", len(values))
        if values:
            means = torch.tensor(values).mean(dim=0).tolist()
            self.history.record(f"{prefix}_label_loss", means[1])
            self.history.record(f"{prefix}_domain_loss", means[2])
        if self.adaptation == "dann":
            self.history.record("lambda", getattr(self, "lambda_", 0.0))
        diverged = [v[0] for v in values if not math.isfinite(v[0])]
        if diverged:
            raise TrainingDiverged(len(self.history), prefix, diverged[0])
