"""Pure torch modules for multi-task networks (no skorch, no scikit-learn).

Every multi-task module maps ``(X, task_index)`` to one output row per sample:
the sample's own task head, padded to the widest head (task t fills its first
``head_sizes[t]`` columns). ``representation(X, task_index)`` returns what the
heads read: the shared features.
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
    """One linear head per task, sizes may differ; stored padded for one gather."""

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

    def forward(self, features, task_index):
        weight = self.weight[task_index]
        out = torch.einsum("nh,nkh->nk", features, weight) + self.bias[task_index]
        # Columns past a task's head size are padding: zero, never used by the loss.
        return out * self.mask[task_index]


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

    def representation(self, X, task_index):
        n_tasks = self.heads.weight.shape[0]
        hidden = X.flatten(1).unsqueeze(0).expand(n_tasks, -1, -1)
        for weight, bias, stitch in zip(self.weights, self.biases, self.stitches):
            hidden = self.dropout(self.activation(torch.baddbmm(bias, hidden, weight)))
            hidden = torch.einsum("st,tnh->snh", stitch, hidden)
        return hidden[task_index, torch.arange(X.shape[0], device=X.device)]

    def forward(self, X, task_index):
        return self.heads(self.representation(X, task_index), task_index)


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
