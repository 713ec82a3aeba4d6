"""The functional core of the gradient-based meta-learners (tensors in and out).

Used by :mod:`sklearn_mtl.meta._gradient` (the estimators).

One network ``f(x; theta)`` (an MLP trunk and a linear head) is meta-learned
so that a few gradient steps on a new task's support rows fit that task. The
pieces are small functions on a dict of parameter tensors run through
``torch.func.functional_call`` (clone-and-adapt, as learn2learn does it):

- :func:`_inner_loop`: ``inner_steps`` plain gradient steps of size
  ``inner_lr`` from ``theta`` on the support rows (optionally the head only,
  optionally keeping the graph for second-order gradients);
- :func:`_meta_gradient`: the gradient of the mean query loss after the inner
  loop with respect to ``theta`` (MAML: through the inner loop; first-order
  MAML: the query gradient at the adapted parameters; ANIL: MAML with the
  inner loop on the head only);
- :func:`_reptile_step`: ``theta + meta_lr * mean_t(phi_t - theta)``.

torch is imported inside the functions, so importing this module needs no
torch.
"""

import numpy as np

# -- the functional core (tensors in, tensors out) -------------------------------


def _make_module(n_inputs, hidden_layer_sizes, activation, n_outputs):
    """The network: an MLP trunk and a linear head (parameters ``head.*``)."""
    from torch import nn

    from ..neural._modules import MLP

    trunk = MLP(n_inputs, tuple(hidden_layer_sizes), activation)
    module = nn.ModuleDict(
        {"trunk": trunk, "head": nn.Linear(trunk.n_outputs, n_outputs)}
    )
    module.default_trunk_head = True
    return module


def _forward(module, params, X):
    from torch.func import functional_call

    if not getattr(module, "default_trunk_head", False):
        return functional_call(module, params, (X,))
    features = functional_call(module["trunk"], _sub(params, "trunk."), (X,))
    return functional_call(module["head"], _sub(params, "head."), (features,))


def _sub(params, prefix):
    return {k[len(prefix) :]: v for k, v in params.items() if k.startswith(prefix)}


def _loss(outputs, y, classifier):
    import torch.nn.functional as F

    if classifier:
        return F.cross_entropy(outputs, y)
    return F.mse_loss(outputs[:, 0], y)


def _inner_loop(
    module,
    params,
    X,
    y,
    *,
    steps,
    lr,
    classifier,
    head_only=False,
    create_graph=False,
    zero_head=False,
):
    """``steps`` gradient steps of size ``lr`` on ``(X, y)`` from ``params``.

    Returns a new dict; ``params`` is never modified. With ``head_only`` the
    trunk tensors are passed through as they are (the very same objects).
    With ``create_graph`` the steps stay differentiable with respect to
    ``params`` (second-order MAML); otherwise the result is detached. With
    ``zero_head`` the loop starts from a head of zeros instead of
    ``params``' head (the "zeroing trick", Kao et al. 2022): when class
    labels mean nothing across tasks a meta-learned head is noise that every
    task must first undo, whereas one step from zero makes each class's
    weights its (centred) support features, a prototype classifier.
    """
    import torch

    names = [k for k in params if k.startswith("head.") or not head_only]
    current = dict(params)
    if zero_head:
        for k in current:
            if k.startswith("head."):
                current[k] = torch.zeros_like(current[k]).requires_grad_(True)
    for _ in range(steps):
        loss = _loss(_forward(module, current, X), y, classifier)
        grads = torch.autograd.grad(
            loss, [current[k] for k in names], create_graph=create_graph
        )
        for k, g in zip(names, grads):
            current[k] = current[k] - lr * g
    if not create_graph:
        current = {k: (v.detach() if k in names else v) for k, v in current.items()}
    return current


def _meta_gradient(
    module, params, episodes, *, algorithm, steps, lr, classifier, zero_head=False
):
    """Gradient of the mean query loss after adaptation, w.r.t. ``params``.

    ``episodes`` is a list of ``(X_support, y_support, X_query, y_query)``.
    MAML and ANIL differentiate through the inner loop (second order; ANIL's
    inner loop moves the head only); first-order MAML uses the query
    gradient at the adapted parameters as the gradient at ``params``.
    With ``zero_head`` every task's head starts at zero, so the head is not
    meta-learned: its gradient is zero. Returns ``(loss, grads)``,
    ``grads`` a dict like ``params``.
    """
    import torch

    names = list(params)
    leaves = {k: v.detach().requires_grad_(True) for k, v in params.items()}
    total = {k: torch.zeros_like(v) for k, v in leaves.items()}
    total_loss = 0.0
    for X_s, y_s, X_q, y_q in episodes:
        first_order = algorithm == "fomaml"
        adapted = _inner_loop(
            module,
            leaves,
            X_s,
            y_s,
            steps=steps,
            lr=lr,
            classifier=classifier,
            head_only=algorithm == "anil",
            create_graph=not first_order,
            zero_head=zero_head,
        )
        if first_order:
            adapted = {k: v.detach().requires_grad_(True) for k, v in adapted.items()}
            wrt = [adapted[k] for k in names]
        else:
            wrt = [leaves[k] for k in names]
        loss = _loss(_forward(module, adapted, X_q), y_q, classifier)
        grads = torch.autograd.grad(loss, wrt, allow_unused=True)
        for k, g in zip(names, grads):
            if g is not None and not (zero_head and k.startswith("head.")):
                total[k] += g
        total_loss += float(loss.detach())
    n = len(episodes)
    return total_loss / n, {k: g / n for k, g in total.items()}


def _support_buffers(module, params, X):
    """The module's buffers with batch-norm statistics set to those of ``X``.

    MAML's inner loop normalizes with the statistics of the batch it is given
    (the support rows), as Finn et al.'s code does. A served task then keeps
    the mean and variance of its own support rows at its adapted parameters
    (MetaBN, Bronskill et al. 2020) and predicts in evaluation mode with
    them: a query row's prediction does not depend on the other query rows.
    Modules without batch norm keep their buffers as they are. Returns an
    empty dict for a module without buffers.
    """
    import torch
    from torch.nn.modules.batchnorm import _BatchNorm

    norms = [m for m in module.modules() if isinstance(m, _BatchNorm)]
    if not list(module.buffers()):
        return {}
    saved = [(m.momentum, m.training) for m in norms]
    for m in norms:
        # momentum=None is a cumulative average: after a reset, one batch
        # leaves exactly its own mean and (unbiased) variance.
        m.reset_running_stats()
        m.momentum = None
    module.train()
    with torch.no_grad():
        _forward(module, params, X)
    for m, (momentum, training) in zip(norms, saved):
        m.momentum = momentum
        m.train(training)
    return {k: v.detach().clone() for k, v in module.named_buffers()}


def _reptile_step(
    module, params, tasks, *, steps, lr, meta_lr, classifier, zero_head=False
):
    """``params + meta_lr * mean_t(adapted_t - params)``; ``tasks`` = [(X, y)].

    With ``zero_head`` the head is not meta-learned (it stays as it is).
    """
    import torch

    with torch.no_grad():
        delta = {k: torch.zeros_like(v) for k, v in params.items()}
    for X, y in tasks:
        start = {k: v.detach().requires_grad_(True) for k, v in params.items()}
        adapted = _inner_loop(
            module,
            start,
            X,
            y,
            steps=steps,
            lr=lr,
            classifier=classifier,
            zero_head=zero_head,
        )
        with torch.no_grad():
            for k in delta:
                if not (zero_head and k.startswith("head.")):
                    delta[k] += adapted[k] - params[k]
    with torch.no_grad():
        return {k: params[k] + meta_lr * delta[k] / len(tasks) for k in params}


def _episode_split(n, labels, support_fraction, rng):
    """Support and query row indices of one episode of a task of ``n`` rows.

    Regression (``labels`` None): a random ``support_fraction`` of the rows,
    at least one on each side. Classification: each class is split by
    ``support_fraction`` (at least one support row per class with two or
    more rows; a class of one row goes to the support), so every query
    row's class is in the support set. An unstratified split leaves some
    query classes without support (a quarter of the queries of an Omniglot
    episode of 2 drawings per class), which no inner loop can learn and
    which only adds noise to the meta-gradient.
    """
    order = rng.permutation(n)
    if labels is not None:
        order = order[np.argsort(labels[order], kind="stable")]
        sorted_labels = labels[order]
        starts = np.searchsorted(sorted_labels, sorted_labels, side="left")
        counts = np.bincount(sorted_labels)[sorted_labels]
        n_support = np.clip(np.round(support_fraction * counts), 1, counts - 1)
        in_support = (np.arange(n) - starts < n_support) | (counts == 1)
        if in_support.any() and not in_support.all():
            return order[in_support], order[~in_support]
        # Only single-row classes: fall back to the random split.
    n_support = int(np.clip(round(support_fraction * n), 1, n - 1))
    return order[:n_support], order[n_support:]


def _feature_scaling(X, standardize):
    """Mean and scale of the features (0 and 1 when not standardizing)."""
    if not standardize:
        return np.zeros(X.shape[1]), np.ones(X.shape[1])
    scale = X.std(axis=0)
    return X.mean(axis=0), np.where(scale > 0, scale, 1.0)


def _resolve_device(device):
    from ..neural._training import _require_torch, resolve_device

    _require_torch()
    return resolve_device(device)
