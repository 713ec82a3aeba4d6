"""Task-loss weighting strategies: the ``loss_weighting`` parameter.

Each strategy is a small parameter object (grid-searchable, cloned like an
estimator); ``build(n_tasks)`` returns the torch-side state used in training,
so torch is only imported when a network is fitted. Strings name the default
of each strategy.
"""

from numbers import Real

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils._param_validation import Interval

__all__ = [
    "LossWeighting",
    "EqualWeighting",
    "FixedWeighting",
    "UncertaintyWeighting",
    "DynamicWeightAveraging",
    "GradNorm",
    "PCGrad",
    "resolve_weighting",
]


class LossWeighting(BaseEstimator):
    """Base class: how per-task losses become one training loss."""

    def build(self, n_tasks, tasks):  # pragma: no cover - interface
        raise NotImplementedError


class EqualWeighting(LossWeighting):
    """The mean of the task losses present in a batch: every task counts the same.

    Examples
    --------
    >>> from sklearn_mtl.neural import EqualWeighting
    >>> EqualWeighting()
    EqualWeighting()
    """

    def build(self, n_tasks, tasks):
        from ._torch_weighting import Equal

        return Equal(n_tasks)


class FixedWeighting(LossWeighting):
    """``sum_t weights[t] * loss_t``, with weights given per task.

    Parameters
    ----------
    weights : dict or array-like of shape (n_tasks,)
        A dict maps task labels to weights (absent tasks get 1); an array
        gives one weight per task in sorted label order.

    Examples
    --------
    >>> from sklearn_mtl.neural import FixedWeighting
    >>> FixedWeighting({"small": 2.0, "large": 0.5})
    FixedWeighting(weights={'large': 0.5, 'small': 2.0})
    """

    _parameter_constraints = {"weights": [dict, "array-like"]}

    def __init__(self, weights):
        self.weights = weights

    def build(self, n_tasks, tasks):
        from ._torch_weighting import Fixed

        if isinstance(self.weights, dict):
            known = set(np.asarray(tasks).tolist())
            unknown = [k for k in self.weights if k not in known]
            if unknown:
                raise ValueError(
                    f"loss_weighting names tasks not in the data: {unknown}."
                )
            values = [
                float(self.weights.get(t, 1.0)) for t in np.asarray(tasks).tolist()
            ]
        else:
            values = np.asarray(self.weights, dtype=float).ravel()
            if values.shape != (n_tasks,):
                raise ValueError(
                    f"loss_weighting has {values.size} weights for {n_tasks} tasks."
                )
        if np.any(~np.isfinite(values)) or np.any(np.asarray(values) < 0):
            raise ValueError("loss_weighting weights must be finite and non-negative.")
        if not np.any(np.asarray(values) > 0):
            # A zero total loss trains nothing: the network would stay at its
            # random initialization without a word.
            raise ValueError(
                "loss_weighting weights are all zero, so no task would be trained; "
                "give at least one task a positive weight."
            )
        return Fixed(n_tasks, values)


class UncertaintyWeighting(LossWeighting):
    """Learned homoscedastic uncertainty weights (Kendall, Gal & Cipolla, 2018).

    Minimizes ``sum_t exp(-s_t) * loss_t + s_t`` jointly over the network and
    the log-variances ``s_t``; at the optimum ``exp(s_t)`` equals the task's
    loss, so noisy tasks are down-weighted.

    Examples
    --------
    >>> from sklearn_mtl.neural import UncertaintyWeighting
    >>> UncertaintyWeighting()
    UncertaintyWeighting()
    """

    def build(self, n_tasks, tasks):
        from ._torch_weighting import Uncertainty

        return Uncertainty(n_tasks)


class DynamicWeightAveraging(LossWeighting):
    """Dynamic weight averaging (Liu, Johns & Davison, 2019).

    At epoch e, ``w_t = T * softmax_t(r_t / temperature)`` with
    ``r_t = L_t(e-1) / L_t(e-2)`` the ratio of the task's mean training loss
    over the last two epochs: tasks whose loss falls slowly get more weight.
    Weights are 1 for the first two epochs.

    Parameters
    ----------
    temperature : float, default=2.0
        Softness of the weights; large values tend to equal weights.

    Examples
    --------
    >>> from sklearn_mtl.neural import DynamicWeightAveraging
    >>> DynamicWeightAveraging(temperature=1.0)
    DynamicWeightAveraging(temperature=1.0)
    """

    _parameter_constraints = {
        "temperature": [Interval(Real, 0, None, closed="neither")]
    }

    def __init__(self, temperature=2.0):
        self.temperature = temperature

    def build(self, n_tasks, tasks):
        from ._torch_weighting import DWA

        return DWA(n_tasks, self.temperature)


class GradNorm(LossWeighting):
    """GradNorm (Chen et al., 2018): weights that balance gradient norms.

    After each step the task weights move (by gradient descent with step
    ``learning_rate``) so that the norm of each weighted task gradient on the
    last shared weight matrix approaches the mean norm times
    ``(relative inverse training rate)^alpha``; weights are renormalized to
    sum to the number of tasks.

    Parameters
    ----------
    alpha : float, default=1.5
        Strength of the pull toward equal training rates.
    learning_rate : float, default=0.025
        Step size of the weight updates.

    Examples
    --------
    >>> from sklearn_mtl.neural import GradNorm
    >>> GradNorm(alpha=0.5)
    GradNorm(alpha=0.5)
    """

    _parameter_constraints = {
        "alpha": [Interval(Real, 0, None, closed="left")],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
    }

    def __init__(self, alpha=1.5, learning_rate=0.025):
        self.alpha = alpha
        self.learning_rate = learning_rate

    def build(self, n_tasks, tasks):
        from ._torch_weighting import GradNormState

        return GradNormState(n_tasks, self.alpha, self.learning_rate)


class PCGrad(LossWeighting):
    """Gradient surgery (Yu et al., 2020) on the shared parameters.

    Each task's gradient on the shared parameters is projected off the normal
    plane of every other task gradient it conflicts with (negative dot
    product), in random order; the projected gradients are summed. Heads get
    their own task's gradient unchanged.

    Parameters
    ----------
    random_state : int, RandomState instance or None, default=None
        Order of the projections; None follows the estimator's
        ``random_state`` (so ``loss_weighting="pcgrad"`` is reproducible
        whenever the estimator is seeded).

    Examples
    --------
    >>> from sklearn_mtl.neural import PCGrad
    >>> PCGrad(random_state=0)
    PCGrad(random_state=0)
    """

    _parameter_constraints = {"random_state": ["random_state"]}

    def __init__(self, random_state=None):
        self.random_state = random_state

    def build(self, n_tasks, tasks):
        from ._torch_weighting import PCGradState

        return PCGradState(n_tasks, self.random_state)


_NAMED = {
    "equal": EqualWeighting,
    "uncertainty": UncertaintyWeighting,
    "dwa": DynamicWeightAveraging,
    "gradnorm": GradNorm,
    "pcgrad": PCGrad,
}


def resolve_weighting(value):
    """The weighting object for a ``loss_weighting`` parameter value."""
    if isinstance(value, LossWeighting):
        return value
    if isinstance(value, str):
        return _NAMED[value]()
    return FixedWeighting(value)
