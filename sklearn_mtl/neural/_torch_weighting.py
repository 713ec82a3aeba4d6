"""Training-time state of the loss weightings (torch modules).

``total(task_losses, present)`` combines the mean loss of every task in a
batch (T,), zero for absent tasks, with ``present`` (T,) booleans.
``backward(losses, shared, others)`` takes a batch's ``BatchLosses``, leaves
the gradients on the parameters and returns the scalar loss it minimized; it
is told the ``shared`` parameters (trunk, experts, towers) apart from the
``others`` (heads, learned loss weights).
"""

import numpy as np
import torch
from sklearn.utils import check_random_state
from torch import nn


class TaskWeighting(nn.Module):
    """Base: the mean over present tasks, backward through ``total``."""

    def __init__(self, n_tasks):
        super().__init__()
        self.n_tasks = n_tasks

    def total(self, task_losses, present):
        return (task_losses * present).sum() / present.sum().clamp_min(1)

    def backward(self, losses, shared, others):
        loss = self._batch_total(losses)
        loss.backward()
        return loss

    def _batch_total(self, losses):
        return self.total(losses.per_task(), losses.present)

    def record(self, losses):
        """Called with every training batch's losses."""

    def end_epoch(self):
        """Called after every training epoch."""


class Equal(TaskWeighting):
    """Mean over the tasks present in the batch (the default)."""

    def _batch_total(self, losses):
        # Same value as total(per_task, present), without per-task autograd ops.
        return losses.mean_over_tasks()


class Fixed(TaskWeighting):
    """``sum_t w_t L_t`` over the present tasks, with given weights."""

    def __init__(self, n_tasks, weights):
        super().__init__(n_tasks)
        self.register_buffer(
            "weights", torch.as_tensor(np.asarray(weights), dtype=torch.float32)
        )

    def total(self, task_losses, present):
        return (self.weights * present * task_losses).sum()


class Uncertainty(TaskWeighting):
    """``sum_t exp(-s_t) L_t + s_t`` with learned log-variances ``s_t``."""

    def __init__(self, n_tasks):
        super().__init__(n_tasks)
        self.log_variance = nn.Parameter(torch.zeros(n_tasks))

    def total(self, task_losses, present):
        terms = torch.exp(-self.log_variance) * task_losses + self.log_variance
        return (terms * present).sum()


class DWA(TaskWeighting):
    """Dynamic weight averaging from the last two epochs' mean task losses."""

    def __init__(self, n_tasks, temperature):
        super().__init__(n_tasks)
        self.temperature = temperature
        self.register_buffer("weights", torch.ones(n_tasks))
        self.epoch_sums = np.zeros(n_tasks)
        self.epoch_counts = np.zeros(n_tasks)
        self.history = []

    def total(self, task_losses, present):
        return (self.weights * task_losses * present).sum() / present.sum().clamp_min(1)

    def record(self, losses):
        present = losses.present.cpu().numpy()
        self.epoch_sums += losses.per_task().detach().float().cpu().numpy() * present
        self.epoch_counts += present

    def end_epoch(self):
        seen = self.epoch_counts > 0
        mean = np.where(
            seen, self.epoch_sums / np.maximum(self.epoch_counts, 1), np.nan
        )
        self.history.append(mean)
        self.epoch_sums[:], self.epoch_counts[:] = 0.0, 0.0
        if len(self.history) >= 2:
            self.weights.copy_(
                torch.as_tensor(dwa_weights(*self.history[-2:], self.temperature))
            )


def dwa_weights(before_last, last, temperature):
    """``T * softmax(r / temperature)`` with ``r = last / before_last``.

    Tasks missing from either epoch get ratio 1.
    """
    ratio = np.where(
        np.isfinite(last) & np.isfinite(before_last) & (before_last > 0),
        last / np.where(before_last > 0, before_last, 1.0),
        1.0,
    )
    scaled = np.exp((ratio - ratio.max()) / temperature)
    return len(ratio) * scaled / scaled.sum()


def last_weight_matrix(parameters):
    """The last shared parameter with two or more dimensions (a weight matrix)."""
    matrices = [p for p in parameters if p.ndim >= 2]
    return matrices[-1] if matrices else parameters[-1]


class GradNormState(TaskWeighting):
    """GradNorm: task weights updated to balance task gradient norms."""

    def __init__(self, n_tasks, alpha, learning_rate):
        super().__init__(n_tasks)
        self.alpha, self.learning_rate = alpha, learning_rate
        self.register_buffer("weights", torch.ones(n_tasks))
        self.register_buffer("initial_losses", torch.full((n_tasks,), float("nan")))

    def total(self, task_losses, present):
        return (self.weights * task_losses * present).sum() / present.sum().clamp_min(1)

    def backward(self, losses, shared, others):
        task_losses, present = losses.per_task(), losses.present
        matrix = last_weight_matrix(shared)
        tasks = torch.nonzero(present).flatten()
        norms = torch.stack(
            [
                torch.autograd.grad(task_losses[t], matrix, retain_graph=True)[0].norm()
                for t in tasks
            ]
        )
        loss = self.total(task_losses, present)
        loss.backward()
        with torch.no_grad():
            self.update(tasks, task_losses[tasks].detach(), norms)
        return loss

    def update(self, tasks, losses, gradient_norms):
        """One GradNorm step on the weights of ``tasks``.

        ``gradient_norms`` are the norms of the *unweighted* task gradients;
        the weighted norm ``w_t * g_t`` is linear in ``w_t``, so the gradient
        of ``sum_t |w_t g_t - target_t|`` is ``sign(w_t g_t - target_t) g_t``.
        """
        initial = self.initial_losses[tasks]
        fresh = torch.isnan(initial)
        initial = torch.where(fresh, losses, initial)
        self.initial_losses[tasks] = initial
        weights = self.weights[tasks]
        weighted_norms = weights * gradient_norms
        rate = losses / initial.clamp_min(1e-12)
        relative_rate = rate / rate.mean().clamp_min(1e-12)
        target = weighted_norms.mean() * relative_rate**self.alpha
        step = torch.sign(weighted_norms - target) * gradient_norms
        weights = (weights - self.learning_rate * step).clamp_min(1e-3)
        # Renormalize so the present tasks' weights keep their sum.
        self.weights[tasks] = weights * (self.weights[tasks].sum() / weights.sum())


class PCGradState(TaskWeighting):
    """Projecting conflicting gradients on the shared parameters."""

    def __init__(self, n_tasks, random_state):
        super().__init__(n_tasks)
        # np.integer seeds and RandomState instances count as seeds too.
        self.rng = check_random_state(random_state)

    def backward(self, losses, shared, others):
        task_losses, present = losses.per_task(), losses.present
        tasks = torch.nonzero(present).flatten().tolist()
        scale = 1.0 / max(len(tasks), 1)
        per_task = []
        for t in tasks:
            grads = torch.autograd.grad(
                task_losses[t] * scale, shared, retain_graph=True, allow_unused=True
            )
            per_task.append(
                torch.cat(
                    [
                        (g if g is not None else torch.zeros_like(p)).flatten()
                        for g, p in zip(grads, shared)
                    ]
                )
            )
        loss = self.total(task_losses, present)
        if others:
            torch.autograd.backward(loss, inputs=others)
        combined = project_conflicting(torch.stack(per_task), self.rng).sum(dim=0)
        offset = 0
        for p in shared:
            p.grad = combined[offset : offset + p.numel()].view_as(p).clone()
            offset += p.numel()
        return loss


def project_conflicting(gradients, rng):
    """PCGrad projection of each row of ``gradients`` (T, p).

    Row i is projected onto the normal plane of every row j it conflicts with
    (``g_i . g_j < 0``), the js visited in random order.
    """
    projected = gradients.clone()
    n_tasks = gradients.shape[0]
    for i in range(n_tasks):
        for j in rng.permutation(n_tasks):
            if j == i:
                continue
            dot = torch.dot(projected[i], gradients[j])
            if dot < 0:
                projected[i] -= (
                    dot / gradients[j].dot(gradients[j]).clamp_min(1e-20) * gradients[j]
                )
    return projected
