"""Pure torch pieces of deep domain adaptation (no skorch, no scikit-learn).

The gradient reversal layer (Ganin & Lempitsky, 2015), its lambda schedule,
the domain classifier head of DANN, the Deep CORAL loss (Sun & Saenko, 2016)
and the network holding a trunk, a label head and an optional domain head.
"""

import math

import torch
from torch import nn

from ..neural._modules import MLP

__all__ = [
    "DomainAdaptationNetwork",
    "GradientReversal",
    "coral_loss",
    "dann_lambda",
    "grad_reverse",
]


class GradientReversal(torch.autograd.Function):
    """Identity forward; the backward multiplies the gradient by ``-lambda``."""

    @staticmethod
    def forward(ctx, x, lambda_):
        ctx.lambda_ = lambda_
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad_output):
        # No gradient for lambda_ (a float, set by the schedule).
        return -ctx.lambda_ * grad_output, None


def grad_reverse(x, lambda_=1.0):
    """``x`` unchanged, its gradient reversed and scaled by ``lambda_``."""
    return GradientReversal.apply(x, float(lambda_))


def dann_lambda(progress, gamma=10.0):
    """The DANN schedule ``2 / (1 + exp(-gamma p)) - 1`` for progress p in [0, 1].

    It starts at 0 (the domain classifier is random noise early on, so its
    reversed gradient would only disturb the features) and tends to 1.
    """
    return 2.0 / (1.0 + math.exp(-gamma * progress)) - 1.0


def coral_loss(source, target):
    """Deep CORAL loss: ``||C_s - C_t||_F^2 / (4 d^2)``.

    ``C_s`` and ``C_t`` are the (unbiased, centered) covariances of the
    source and target features, (n_s, d) and (n_t, d); the batch sizes may
    differ.
    """
    d = source.shape[1]
    # torch.cov centers each variable and divides by n - 1, as in the paper.
    difference = torch.cov(source.T) - torch.cov(target.T)
    return (difference**2).sum() / (4.0 * d * d)


class DomainAdaptationNetwork(nn.Module):
    """A trunk, a linear label head and, for DANN, a domain classifier.

    ``forward(X)`` gives the label head's output (logits or standardized
    regression outputs); ``features(X)`` the trunk's. The domain head (an
    MLP of ``domain_hidden_layer_sizes`` then one logit, "target" against
    "source") reads the features through a gradient reversal layer:
    ``domain_logits(features, lambda_)``.
    """

    def __init__(self, trunk, n_features, n_outputs, domain_hidden_layer_sizes=None):
        super().__init__()
        self.trunk = trunk
        self.head = nn.Linear(n_features, n_outputs)
        self.domain_head = None
        if domain_hidden_layer_sizes is not None:
            hidden = MLP(n_features, tuple(domain_hidden_layer_sizes))
            self.domain_head = nn.Sequential(hidden, nn.Linear(hidden.n_outputs, 1))

    def features(self, X):
        return self.trunk(X)

    def forward(self, X):
        return self.head(self.trunk(X))

    def domain_logits(self, features, lambda_):
        return self.domain_head(grad_reverse(features, lambda_))[:, 0]
