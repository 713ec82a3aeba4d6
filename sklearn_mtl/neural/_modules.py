"""Pure torch modules for multi-task networks (no skorch, no scikit-learn).

Every multi-task module maps ``(X, task_index)`` to one output row per sample:
the sample's own task head, padded to the widest head (task t fills its first
``head_sizes[t]`` columns). ``forward_all(X)`` gives every task's head on every
sample, (n_samples, n_tasks, width): one pass through the shared layers for a
sample labelled for several tasks (a wide ``y``). ``representation(X,
task_index)`` returns what the heads read: the shared features.
"""

import math

import torch
from torch import nn

__all__ = ["MLP", "TaskHeads", "HardSharingNet", "CrossStitchNet", "MMoENet"]

_ACTIVATIONS = {
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "gelu": nn.GELU,
    "identity": nn.Identity,
}


class MLP(nn.Module):
    """Fully connected layers ``in -> hidden_layer_sizes``, activation after each.

    Inputs with more than two dimensions are flattened.
    """

    def __init__(
        self, n_inputs, hidden_layer_sizes=(64,), activation="relu", dropout=0.0
    ):
        super().__init__()
        layers, width = [], n_inputs
        for size in hidden_layer_sizes:
            layers += [nn.Linear(width, size), _ACTIVATIONS[activation]()]
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            width = size
        self.layers = nn.Sequential(*layers)
        self.n_outputs = width

    def forward(self, X):
        return self.layers(X.flatten(1))


class TaskHeads(nn.Module):
    """One linear head per task, sizes may differ; stored padded (T, width, in).

    ``forward(features, task_index)`` applies each row's own head;
    ``all_tasks(features)`` applies every head to every row.
    """

    # With few head outputs in all, one matrix product through every head and
    # a pick of the row's own columns is faster (forward and backward) than
    # gathering a weight matrix per row.
    dense_limit = 64

    def __init__(self, n_inputs, head_sizes):
        super().__init__()
        n_tasks, width = len(head_sizes), max(head_sizes)
        bound = 1.0 / math.sqrt(n_inputs)
        self.weight = nn.Parameter(
            torch.empty(n_tasks, width, n_inputs).uniform_(-bound, bound)
        )
        self.bias = nn.Parameter(torch.empty(n_tasks, width).uniform_(-bound, bound))
        mask = torch.arange(width)[None, :] < torch.as_tensor(head_sizes)[:, None]
        self.register_buffer("mask", mask)
        self.padded = not bool(mask.all())

    def forward(self, features, task_index):
        n_tasks, width, _ = self.weight.shape
        if n_tasks * width <= self.dense_limit:
            rows = torch.arange(features.shape[0], device=features.device)
            return self.all_tasks(features)[rows, task_index]
        weight = self.weight[task_index]
        out = torch.einsum("nh,nkh->nk", features, weight) + self.bias[task_index]
        # Columns past a task's head size are padding: zero, never used by the loss.
        return out * self.mask[task_index] if self.padded else out

    def all_tasks(self, features):
        """Every head on every row: (n, T, width).

        ``features`` is (n, in), shared by the tasks, or (n, T, in), task t's
        own features in ``[:, t]``.
        """
        n_tasks, width, n_inputs = self.weight.shape
        if features.ndim == 2:
            # All heads as one linear layer (one fused matrix product and bias).
            out = nn.functional.linear(
                features,
                self.weight.reshape(n_tasks * width, n_inputs),
                self.bias.reshape(n_tasks * width),
            ).view(-1, n_tasks, width)
        else:
            out = torch.einsum("nth,tkh->ntk", features, self.weight) + self.bias
        return out * self.mask if self.padded else out


class HardSharingNet(nn.Module):
    """A shared trunk and one head per task (hard parameter sharing)."""

    def __init__(self, trunk, n_trunk_outputs, head_sizes):
        super().__init__()
        self.trunk = trunk
        self.heads = TaskHeads(n_trunk_outputs, head_sizes)

    def representation(self, X, task_index):
        return self.trunk(X)

    def forward(self, X, task_index):
        return self.heads(self.representation(X, task_index), task_index)

    def forward_all(self, X):
        return self.heads.all_tasks(self.trunk(X))


class CrossStitchNet(nn.Module):
    """Per-task MLP towers linked after every layer by cross-stitch units.

    Layer l of tower s reads ``sum_t alpha_l[s, t] * h_{l-1}^t`` (Misra et al.,
    2016); ``alpha`` starts near identity (``stitch_init`` of each tower's own
    activations), and is learned. Every tower runs on every sample, so the
    cost grows with the number of tasks.
    """

    def __init__(
        self,
        n_inputs,
        head_sizes,
        hidden_layer_sizes=(64,),
        activation="relu",
        dropout=0.0,
        stitch_init=0.9,
    ):
        super().__init__()
        n_tasks = len(head_sizes)
        self.weights, self.biases, self.stitches = (
            nn.ParameterList(),
            nn.ParameterList(),
            nn.ParameterList(),
        )
        width = n_inputs
        off = (1 - stitch_init) / max(n_tasks - 1, 1)
        stitch = torch.full((n_tasks, n_tasks), off)
        stitch.fill_diagonal_(stitch_init if n_tasks > 1 else 1.0)
        for size in hidden_layer_sizes:
            bound = 1.0 / math.sqrt(width)
            self.weights.append(
                nn.Parameter(torch.empty(n_tasks, width, size).uniform_(-bound, bound))
            )
            self.biases.append(
                nn.Parameter(torch.empty(n_tasks, 1, size).uniform_(-bound, bound))
            )
            self.stitches.append(nn.Parameter(stitch.clone()))
            width = size
        self.activation = _ACTIVATIONS[activation]()
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.heads = TaskHeads(width, head_sizes)

    def towers(self, X):
        """Every tower's output on every sample: (n_tasks, n, width)."""
        n_tasks = self.heads.weight.shape[0]
        hidden = X.flatten(1).unsqueeze(0).expand(n_tasks, -1, -1)
        for weight, bias, stitch in zip(self.weights, self.biases, self.stitches):
            hidden = self.dropout(self.activation(torch.baddbmm(bias, hidden, weight)))
            hidden = torch.einsum("st,tnh->snh", stitch, hidden)
        return hidden

    def representation(self, X, task_index):
        return self.towers(X)[task_index, torch.arange(X.shape[0], device=X.device)]

    def forward(self, X, task_index):
        return self.heads(self.representation(X, task_index), task_index)

    def forward_all(self, X):
        return self.heads.all_tasks(self.towers(X).transpose(0, 1))


class MMoENet(nn.Module):
    """Multi-gate mixture of experts (Ma et al., 2018).

    ``n_experts`` copies of the trunk are shared by all tasks; each task has a
    softmax gate over the experts, computed from the (flattened) input.
    """

    def __init__(self, experts, n_expert_outputs, n_inputs, head_sizes):
        super().__init__()
        n_tasks = len(head_sizes)
        self.experts = nn.ModuleList(experts)
        self.gate_weight = nn.Parameter(torch.zeros(n_tasks, len(experts), n_inputs))
        self.gate_bias = nn.Parameter(torch.zeros(n_tasks, len(experts)))
        self.heads = TaskHeads(n_expert_outputs, head_sizes)

    def gates(self, X, task_index):
        flat = X.flatten(1).to(self.gate_weight.dtype)
        logits = torch.einsum("nd,ned->ne", flat, self.gate_weight[task_index])
        return torch.softmax(logits + self.gate_bias[task_index], dim=1)

    def representation(self, X, task_index):
        expert_out = torch.stack([expert(X) for expert in self.experts], dim=1)
        return torch.einsum("ne,neh->nh", self.gates(X, task_index), expert_out)

    def forward(self, X, task_index):
        return self.heads(self.representation(X, task_index), task_index)

    def forward_all(self, X):
        expert_out = torch.stack([expert(X) for expert in self.experts], dim=1)
        flat = X.flatten(1).to(self.gate_weight.dtype)
        logits = torch.einsum("nd,ted->nte", flat, self.gate_weight) + self.gate_bias
        # Task t's representation mixes the experts with task t's own gate.
        mixed = torch.einsum("nte,neh->nth", torch.softmax(logits, dim=2), expert_out)
        return self.heads.all_tasks(mixed)
