"""Neural estimators against hand computations, at settings where mistakes show.

Each test here was checked by planting the mistake it names in the code and
seeing it fail (uncertainty weighting without its log-variance term, DWA
multiplying by the temperature, GradNorm ignoring alpha or inverting the
training rate, every task read by head 0, gates or stitches ignored,
task-balanced batches ignored, early stopping keeping the last epoch,
validation rows trained on, sample weights ignored).
"""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("skorch")

from sklearn.utils.estimator_checks import (  # noqa: E402
    check_sample_weight_equivalence_on_dense_data,
)

from sklearn_mtl import MultiTaskClassifier, MultiTaskRegressor  # noqa: E402
from sklearn_mtl.datasets import make_multitask_regression  # noqa: E402
from sklearn_mtl.neural import GradNorm  # noqa: E402
from sklearn_mtl.neural._modules import TaskHeads  # noqa: E402
from sklearn_mtl.neural._net import MultiTaskNet, batch_losses  # noqa: E402
from sklearn_mtl.neural._torch_weighting import (  # noqa: E402
    DWA,
    GradNormState,
    Uncertainty,
    dwa_weights,
)

# The CPU, also on a GPU machine: the tests read the network's weights by hand.
FAST = dict(max_epochs=8, batch_size=32, random_state=0, device="cpu")


@pytest.fixture
def regression():
    return make_multitask_regression(
        n_tasks=3, n_samples=40, n_features=5, random_state=0
    )


def _as_numpy(tensor):
    return tensor.detach().cpu().numpy()


# -- loss weightings ----------------------------------------------------------------


def test_uncertainty_weighting_value_and_gradient_by_hand():
    state = Uncertainty(3)
    s = np.array([0.5, -1.0, 2.0])
    with torch.no_grad():
        state.log_variance.copy_(torch.as_tensor(s, dtype=torch.float32))
    losses = torch.tensor([2.0, 3.0, 7.0])
    present = torch.tensor([True, True, False])
    total = state.total(losses, present)
    # sum_t exp(-s_t) L_t + s_t over the present tasks.
    expected = np.exp(-s[:2]) @ [2.0, 3.0] + s[:2].sum()
    assert total.item() == pytest.approx(expected, rel=1e-6)
    total.backward()
    # d/ds_t = 1 - exp(-s_t) L_t: zero where exp(s_t) = L_t, the documented optimum.
    np.testing.assert_allclose(
        _as_numpy(state.log_variance.grad),
        [1 - np.exp(-0.5) * 2.0, 1 - np.exp(1.0) * 3.0, 0.0],
        rtol=1e-6,
    )


def test_dwa_weights_by_hand_at_temperature_two():
    before, last = np.array([2.0, 1.0, 4.0]), np.array([1.0, 0.9, 3.0])
    ratio = last / before
    expected = 3 * np.exp(ratio / 2.0) / np.exp(ratio / 2.0).sum()
    np.testing.assert_allclose(dwa_weights(before, last, 2.0), expected, rtol=1e-12)


def test_dwa_state_weights_from_the_last_two_epochs():
    """Epoch means of the batch losses, then w = K softmax(r / T), T = 2."""
    state = DWA(2, temperature=2.0)
    task_index = torch.tensor([0, 0, 1])
    head_sizes = torch.tensor([1, 1])

    def epoch(*batches):
        for errors in batches:
            target = {"y": torch.zeros(3, 1), "weight": torch.ones(3)}
            output = torch.as_tensor(errors, dtype=torch.float32)[:, None]
            state.record(batch_losses(output, target, task_index, head_sizes, 1, False))
        state.end_epoch()

    # A task's epoch loss is the mean of its batch means.
    epoch([1.0, 2.0, 3.0], [2.0, 2.0, 0.0])  # batch means [2.5, 9] and [4, 0]
    np.testing.assert_array_equal(_as_numpy(state.weights), [1.0, 1.0])
    # Batch means [1, 8] and [2, 8].
    epoch([1.0, 1.0, np.sqrt(8.0)], [np.sqrt(2.0), np.sqrt(2.0), np.sqrt(8.0)])
    before = np.array([(2.5 + 4.0) / 2, (9.0 + 0.0) / 2])
    last = np.array([(1.0 + 2.0) / 2, 8.0])
    ratio = last / before
    expected = 2 * np.exp(ratio / 2.0) / np.exp(ratio / 2.0).sum()
    np.testing.assert_allclose(_as_numpy(state.weights), expected, rtol=1e-6)
    # The training loss is the weighted mean over the present tasks.
    total = state.total(torch.tensor([3.0, 5.0]), torch.tensor([True, True]))
    assert total.item() == pytest.approx((expected @ [3.0, 5.0]) / 2, rel=1e-6)


def test_gradnorm_step_by_hand_with_unequal_losses():
    """alpha = 3: the hand step differs from alpha ignored and from 1 / rate."""
    state = GradNormState(2, alpha=3.0, learning_rate=0.1)
    state.initial_losses.copy_(torch.tensor([2.0, 1.0]))
    losses, norms = torch.tensor([2.2, 0.9]), torch.tensor([1.2, 0.8])
    state.update(torch.tensor([0, 1]), losses, norms)
    # Training rates L/L0 = [1.1, 0.9], relative to their mean: [1.1, 0.9].
    weighted = np.array([1.2, 0.8])  # w = 1
    target = weighted.mean() * np.array([1.1, 0.9]) ** 3.0
    step = np.sign(weighted - target) * [1.2, 0.8]
    weights = 1.0 - 0.1 * step
    expected = weights * 2.0 / weights.sum()
    np.testing.assert_allclose(_as_numpy(state.weights), expected, rtol=1e-6)
    # The slower-training task (0) gains weight.
    assert expected[0] > 1 > expected[1]


def test_gradnorm_options_reach_the_training_state(regression):
    X, y, task_ids = regression
    model = MultiTaskRegressor(
        loss_weighting=GradNorm(alpha=3.0, learning_rate=0.2), **FAST
    ).fit(X, y, task_ids=task_ids)
    state = model.net_.module_.weighting
    assert (state.alpha, state.learning_rate) == (3.0, 0.2)


# -- architectures: each task reads its own head, gate and tower ----------------------


def _standardized_to_y(model, out, tasks):
    return out * model.target_scale_[tasks, 0] + model.target_mean_[tasks, 0]


def test_each_task_predicts_with_its_own_head(regression):
    X, y, task_ids = regression
    model = MultiTaskRegressor(**FAST).fit(X, y, task_ids=task_ids)
    network = model.net_.module_.network
    trunk = _as_numpy(network.trunk(torch.as_tensor(X, dtype=torch.float32)))
    weight, bias = _as_numpy(network.heads.weight), _as_numpy(network.heads.bias)
    for t in range(3):
        head_t = trunk @ weight[t, 0] + bias[t, 0]
        expected = _standardized_to_y(model, head_t, t)
        rows = task_ids == t
        np.testing.assert_allclose(
            model.predict(X[rows], task_ids=task_ids[rows]), expected[rows], rtol=1e-5
        )
    # The heads really differ (else the check above could not tell them apart).
    assert not np.allclose(weight[0], weight[1])


def test_each_task_predicts_with_its_own_head_wide(regression):
    X, y, task_ids = regression
    rng = np.random.RandomState(0)
    Y = np.column_stack([X @ rng.standard_normal(5) for _ in range(3)])
    Y[rng.random_sample(Y.shape) < 0.2] = np.nan
    model = MultiTaskRegressor(**FAST).fit(X, Y)
    network = model.net_.module_.network
    trunk = _as_numpy(network.trunk(torch.as_tensor(X, dtype=torch.float32)))
    weight, bias = _as_numpy(network.heads.weight), _as_numpy(network.heads.bias)
    expected = np.column_stack(
        [
            _standardized_to_y(model, trunk @ weight[t, 0] + bias[t, 0], t)
            for t in range(3)
        ]
    )
    np.testing.assert_allclose(model.predict(X), expected, rtol=1e-5, atol=1e-6)


def test_classifier_heads_per_task_with_different_class_counts():
    rng = np.random.RandomState(0)
    X = rng.standard_normal((90, 4))
    task_ids = np.repeat([0, 1], 45)
    y = np.where(task_ids == 0, rng.randint(0, 2, 90), rng.randint(0, 3, 90))
    model = MultiTaskClassifier(**FAST).fit(X, y, task_ids=task_ids)
    network = model.net_.module_.network
    trunk = _as_numpy(network.trunk(torch.as_tensor(X, dtype=torch.float32)))
    weight, bias = _as_numpy(network.heads.weight), _as_numpy(network.heads.bias)
    proba = model.predict_proba(X, task_ids=task_ids)
    for t, k in [(0, 2), (1, 3)]:
        logits = trunk @ weight[t, :k].T + bias[t, :k]
        expected = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
        rows = task_ids == t
        np.testing.assert_allclose(proba[rows][:, :k], expected[rows], rtol=1e-4)


@pytest.mark.parametrize("dense_limit", [0, 64], ids=["gather", "all-heads"])
def test_task_heads_apply_each_rows_own_head(monkeypatch, dense_limit):
    """Both ways of applying the heads, against the padded heads by hand."""
    monkeypatch.setattr(TaskHeads, "dense_limit", dense_limit)
    torch.manual_seed(0)
    heads = TaskHeads(4, [2, 3, 1])
    features = torch.randn(7, 4)
    task_index = torch.tensor([0, 1, 2, 1, 0, 2, 1])
    W, b = _as_numpy(heads.weight), _as_numpy(heads.bias)
    every = np.einsum("nh,tkh->ntk", features.numpy(), W) + b
    every *= np.arange(3)[None, :] < np.array([2, 3, 1])[:, None]  # padding is 0
    np.testing.assert_allclose(_as_numpy(heads.all_tasks(features)), every, rtol=1e-5)
    own = every[np.arange(7), task_index.numpy()]
    np.testing.assert_allclose(
        _as_numpy(heads(features, task_index)), own, rtol=1e-5, atol=1e-7
    )


def _manual_tower(network, X, stitch_rows, activation=np.maximum):
    """Cross-stitch forward by hand: h^s = sum_t alpha[s, t] relu(h^t W^t + b^t)."""
    n_tasks = network.heads.weight.shape[0]
    hidden = [X] * n_tasks
    for weight, bias, stitch in zip(network.weights, network.biases, stitch_rows):
        W, b = _as_numpy(weight), _as_numpy(bias)
        layer = [activation(hidden[t] @ W[t] + b[t], 0.0) for t in range(n_tasks)]
        hidden = [
            sum(stitch[s, t] * layer[t] for t in range(n_tasks)) for s in range(n_tasks)
        ]
    return hidden


def test_cross_stitch_at_identity_is_independent_towers_and_mixes_by_hand(regression):
    X, y, task_ids = regression
    model = MultiTaskRegressor(
        architecture="cross_stitch", hidden_layer_sizes=(6, 4), **FAST
    ).fit(X, y, task_ids=task_ids)
    network = model.net_.module_.network
    X32 = X.astype(np.float32)
    X_t, t_t = torch.as_tensor(X32), torch.as_tensor(task_ids)
    rng = np.random.RandomState(0)
    mixing = [rng.uniform(0, 1, (3, 3)) for _ in range(2)]
    for stitches in ([np.eye(3), np.eye(3)], mixing):
        with torch.no_grad():
            for parameter, value in zip(network.stitches, stitches):
                parameter.copy_(torch.as_tensor(value, dtype=torch.float32))
        towers = _manual_tower(network, X32, stitches)
        expected = np.stack([towers[t][i] for i, t in enumerate(task_ids)])
        np.testing.assert_allclose(
            _as_numpy(network.representation(X_t, t_t)), expected, rtol=1e-4, atol=1e-5
        )
    # At identity, task 0's tower ignores the other towers' weights entirely.
    with torch.no_grad():
        for parameter in network.stitches:
            parameter.copy_(torch.eye(3))
        before = network.representation(X_t, torch.zeros(len(X), dtype=torch.long))
        network.weights[0][1].add_(1.0)
        after = network.representation(X_t, torch.zeros(len(X), dtype=torch.long))
    torch.testing.assert_close(before, after)


def test_mmoe_each_task_mixes_experts_with_its_own_gate(regression):
    X, y, task_ids = regression
    model = MultiTaskRegressor(architecture="mmoe", n_experts=3, **FAST).fit(
        X, y, task_ids=task_ids
    )
    network = model.net_.module_.network
    with torch.no_grad():  # distinct gates (training may leave them near zero)
        network.gate_weight.copy_(torch.randn(network.gate_weight.shape))
        network.gate_bias.copy_(torch.randn(network.gate_bias.shape))
    X_t = torch.as_tensor(X, dtype=torch.float32)
    G, g = _as_numpy(network.gate_weight), _as_numpy(network.gate_bias)
    experts = np.stack([_as_numpy(e(X_t)) for e in network.experts], axis=1)
    heads_w, heads_b = _as_numpy(network.heads.weight), _as_numpy(network.heads.bias)
    for t in range(3):
        logits = X @ G[t].T + g[t]
        gate = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
        np.testing.assert_allclose(gate.sum(axis=1), 1.0)
        task = torch.full((len(X),), t)
        np.testing.assert_allclose(_as_numpy(network.gates(X_t, task)), gate, rtol=1e-4)
        mixed = np.einsum("ne,neh->nh", gate, experts)
        np.testing.assert_allclose(
            _as_numpy(network.representation(X_t, task)), mixed, rtol=1e-4, atol=1e-6
        )
        expected = _standardized_to_y(model, mixed @ heads_w[t, 0] + heads_b[t, 0], t)
        np.testing.assert_allclose(
            model.predict(X, task_ids=np.full(len(X), t)), expected, rtol=1e-4
        )


# -- training controls ----------------------------------------------------------------


@pytest.fixture
def seen_batches(monkeypatch):
    """What every training and validation step received, in order."""
    seen = {"train": [], "valid": []}
    train_step = MultiTaskNet.train_step_single
    valid_step = MultiTaskNet.validation_step

    def record_train(self, batch, **fit_params):
        seen["train"].append(batch)
        return train_step(self, batch, **fit_params)

    def record_valid(self, batch, **fit_params):
        seen["valid"].append(batch)
        return valid_step(self, batch, **fit_params)

    monkeypatch.setattr(MultiTaskNet, "train_step_single", record_train)
    monkeypatch.setattr(MultiTaskNet, "validation_step", record_valid)
    return seen


@pytest.mark.parametrize("balanced", [False, True])
def test_task_balanced_batches_reach_training(seen_batches, balanced):
    rng = np.random.RandomState(0)
    X = rng.standard_normal((500, 3))
    task_ids = np.repeat([0, 1], [450, 50])
    y = X[:, 0] + task_ids
    MultiTaskRegressor(
        task_balanced_batches=balanced, max_epochs=4, batch_size=50, random_state=0
    ).fit(X, y, task_ids=task_ids)
    tasks = torch.cat([Xi["task_index"] for Xi, _ in seen_batches["train"]])
    assert len(tasks) == 4 * 500  # an epoch holds as many rows as the data
    share = tasks.float().mean().item()
    assert (0.45 < share < 0.55) if balanced else share == pytest.approx(0.1)


def test_early_stopping_restores_the_best_epoch(regression, monkeypatch):
    X, y, task_ids = regression
    snapshots = []
    on_epoch_end = MultiTaskNet.on_epoch_end

    def snapshot(self, net, **kwargs):
        # Called after the epoch's validation, before early stopping decides.
        snapshots.append({k: v.clone() for k, v in self.module_.state_dict().items()})
        return on_epoch_end(self, net, **kwargs)

    monkeypatch.setattr(MultiTaskNet, "on_epoch_end", snapshot)
    model = MultiTaskRegressor(
        early_stopping=True,
        n_iter_no_change=3,
        tol=0.0,
        validation_fraction=0.3,
        learning_rate=0.05,
        max_epochs=200,
        batch_size=16,
        random_state=0,
    ).fit(X, y, task_ids=task_ids)
    valid_loss = model.net_.history[:, "valid_loss"]
    best = int(np.argmin(valid_loss))
    assert model.n_iter_ < 200 and best < len(valid_loss) - 1
    final = model.net_.module_.state_dict()
    for name, value in final.items():
        torch.testing.assert_close(value, snapshots[best][name])
    last = snapshots[-1]["network.heads.weight"]
    assert not torch.equal(final["network.heads.weight"], last)


@pytest.mark.parametrize("wide", [False, True])
def test_validation_rows_never_reach_the_training_loss(seen_batches, wide):
    rng = np.random.RandomState(0)
    X = rng.standard_normal((60, 4))
    # Every sample's weight is its id (+1): the batches say which samples they hold.
    weights = 1.0 + np.arange(60)
    if wide:
        Y = np.column_stack([X @ rng.standard_normal(4) for _ in range(3)])
        Y[rng.random_sample(Y.shape) < 0.2] = np.nan
        fit_args = (X, Y)
    else:
        task_ids = np.repeat([0, 1, 2], 20)
        fit_args = (X, X[:, 0] + task_ids, task_ids)
    MultiTaskRegressor(early_stopping=True, validation_fraction=0.25, **FAST).fit(
        *fit_args, sample_weight=weights
    )

    def pairs(batches):
        """(sample, task) pairs whose loss a step could use."""
        found = set()
        for Xi, yi in batches:
            w = _as_numpy(yi["weight"])
            if w.ndim == 1:  # one row per (sample, task)
                tasks = _as_numpy(Xi["task_index"])
                found |= set(zip((w - 1).astype(int).tolist(), tasks.tolist()))
            else:  # one row per sample, all tasks; weight 0 = not used
                s, t = np.nonzero(w)
                found |= set(zip((w[s, t] - 1).astype(int).tolist(), t.tolist()))
        return found

    trained, validated = pairs(seen_batches["train"]), pairs(seen_batches["valid"])
    assert validated and trained.isdisjoint(validated)
    n_labels = np.isfinite(fit_args[1]).sum()
    assert len(trained | validated) == n_labels


def test_sample_weight_equivalence_for_the_regressor():
    """Weights equal repetition (full-batch training, weighted standardization)."""
    check_sample_weight_equivalence_on_dense_data(
        "MultiTaskRegressor", MultiTaskRegressor(max_epochs=30, random_state=0)
    )


def test_sample_weight_equivalence_for_the_classifier():
    check_sample_weight_equivalence_on_dense_data(
        "MultiTaskClassifier", MultiTaskClassifier(max_epochs=30, random_state=0)
    )


# -- a wide y: one pass per sample, every task's head, missing labels masked -------


class CountingTrunk(torch.nn.Module):
    """A linear trunk that counts the rows it has seen in training."""

    def __init__(self, n_inputs=4):
        super().__init__()
        self.linear = torch.nn.Linear(n_inputs, 8)
        self.rows_seen = 0

    def forward(self, X):
        if self.training:
            self.rows_seen += X.shape[0]
        return torch.relu(self.linear(X))


def test_wide_y_runs_the_trunk_once_per_sample():
    rng = np.random.RandomState(0)
    X = rng.standard_normal((50, 4)).astype(np.float32)
    Y = np.column_stack([X @ rng.standard_normal(4) for _ in range(4)])
    Y[rng.random_sample(Y.shape) < 0.3] = np.nan
    Y[0] = np.nan  # a sample with no label at all is never run
    model = MultiTaskRegressor(
        CountingTrunk, max_epochs=3, batch_size=16, random_state=0
    ).fit(X, Y)
    labelled = ~np.isnan(Y)
    # 3 epochs of the labelled samples, not of the (sample, task) labels.
    assert labelled.sum() > labelled.any(axis=1).sum() > 40
    rows_seen = model.net_.module_.network.trunk.rows_seen
    assert rows_seen == 3 * labelled.any(axis=1).sum()


def test_wide_losses_equal_the_long_losses_of_the_present_labels():
    rng = np.random.RandomState(0)
    n, T = 6, 3
    output = torch.as_tensor(rng.standard_normal((n, T, 1)), dtype=torch.float32)
    Y = rng.standard_normal((n, T))
    Y[rng.random_sample((n, T)) < 0.4] = np.nan
    Y[:, 2] = np.nan  # task 2 absent from the batch
    weight = rng.uniform(0.5, 2.0, n)
    present = ~np.isnan(Y)
    dense = batch_losses(
        output,
        {
            "y": torch.as_tensor(np.nan_to_num(Y)[..., None], dtype=torch.float32),
            "weight": torch.as_tensor(weight[:, None] * present, dtype=torch.float32),
        },
        None,
        torch.tensor([1, 1, 1]),
        1,
        False,
    )
    samples, tasks = np.nonzero(present)
    long = batch_losses(
        output[samples, tasks],
        {
            "y": torch.as_tensor(Y[samples, tasks][:, None], dtype=torch.float32),
            "weight": torch.as_tensor(weight[samples], dtype=torch.float32),
        },
        torch.as_tensor(tasks),
        torch.tensor([1, 1, 1]),
        1,
        False,
    )
    # By hand: the weighted mean squared error of each task's present labels.
    errors = (output[..., 0].numpy() - np.nan_to_num(Y)) ** 2
    by_hand = [
        np.average(errors[present[:, t], t], weights=weight[present[:, t]])
        for t in range(2)
    ]
    for losses in (dense, long):
        np.testing.assert_allclose(
            _as_numpy(losses.per_task()), [*by_hand, 0.0], rtol=1e-5
        )
        assert losses.present.tolist() == [True, True, False]
        assert losses.mean_over_tasks().item() == pytest.approx(np.mean(by_hand))


@pytest.mark.parametrize("architecture", ["hard", "cross_stitch", "mmoe"])
def test_every_task_pass_equals_each_tasks_own_pass(regression, architecture):
    """The wide path's forward_all against the per-row path, checked by hand above."""
    X, y, task_ids = regression
    model = MultiTaskRegressor(architecture=architecture, n_experts=3, **FAST)
    network = model.fit(X, y, task_ids=task_ids).net_.module_.network
    network.eval()
    torch.manual_seed(0)
    with torch.no_grad():  # every parameter distinct across tasks (gates included)
        for parameter in network.parameters():
            parameter.add_(0.3 * torch.randn(parameter.shape))
        X_t = torch.as_tensor(X, dtype=torch.float32)
        every = network.forward_all(X_t)
        for t in range(3):
            own = network(X_t, torch.full((len(X),), t))
            torch.testing.assert_close(every[:, t], own, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("wide", [False, True])
def test_epoch_coefficients_equal_each_batchs_own(wide):
    """Per-epoch loss coefficients = each batch's, zero-weight tasks included."""
    from sklearn_mtl.neural._net import BatchIterator, RowsDataset, WideDataset

    rng = np.random.RandomState(0)
    n, T = 23, 3
    if wide:
        weight = torch.as_tensor(rng.uniform(0.5, 2, (n, T)), dtype=torch.float32)
        weight[rng.random_sample((n, T)) < 0.3] = 0.0
        weight[:8, 2] = 0.0  # task 2 absent from the first batch
        dataset = WideDataset(torch.zeros(n, 1), None, torch.zeros(n, T, 1), weight)
    else:
        weight = torch.as_tensor(rng.uniform(0.5, 2, n), dtype=torch.float32)
        tasks = torch.as_tensor(rng.randint(0, T, n))
        weight[:8][tasks[:8] == 2] = 0.0
        dataset = RowsDataset(torch.zeros(n, 1), None, tasks, torch.zeros(n, 1), weight)
    batches = list(BatchIterator(dataset, 8, False, None, n_tasks=T))
    assert len(batches) == 3
    for Xi, target in batches:
        row_loss = torch.as_tensor(rng.uniform(0, 3, target["weight"].shape))
        given = batch_losses_from(target, row_loss, Xi.get("task_index"), T)
        plain = batch_losses_from(
            {"weight": target["weight"]}, row_loss, Xi.get("task_index"), T
        )
        assert given.mean_over_tasks().item() == pytest.approx(
            plain.mean_over_tasks().item(), rel=1e-6
        )
        assert given.present.tolist() == plain.present.tolist()
    assert not batches[0][1]["task_weight"][2] > 0


def batch_losses_from(target, row_loss, task_index, n_tasks):
    from sklearn_mtl.neural._net import BatchLosses

    return BatchLosses(
        row_loss.float(),
        task_index,
        target["weight"],
        n_tasks,
        target.get("task_weight"),
        target.get("coef"),
    )
