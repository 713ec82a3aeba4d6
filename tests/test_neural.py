"""Neural multi-task estimators: API, architectures, weightings, data, devices."""

import pickle
import sys
import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("skorch")

from sklearn.base import clone  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402
from torch import nn  # noqa: E402

from sklearn_mtl import IndependentTasks, MultiTaskClassifier, MultiTaskRegressor  # noqa: E402
from sklearn_mtl.datasets import (  # noqa: E402
    make_multitask_classification,
    make_multitask_regression,
)
from sklearn_mtl.neural import (  # noqa: E402
    FixedWeighting,
    GradNorm,
    PCGrad,
    resolve_device,
)
from sklearn_mtl.neural._net import BatchIterator, RowsDataset, batch_losses  # noqa: E402
from sklearn_mtl.neural._torch_weighting import (  # noqa: E402
    Equal,
    Fixed,
    GradNormState,
    dwa_weights,
    project_conflicting,
)

FAST = dict(max_epochs=15, batch_size=32, random_state=0)


@pytest.fixture
def regression():
    return make_multitask_regression(
        n_tasks=3, n_samples=40, n_features=5, random_state=0
    )


def test_shared_network_beats_one_network_per_task():
    """Few samples per task, related tasks: sharing the trunk pays off."""
    X, y, task_ids, coef, intercept, _ = make_multitask_regression(
        n_tasks=8,
        n_samples=15,
        n_features=8,
        task_spread=0.1,
        noise=1.0,
        return_coef=True,
        random_state=0,
    )
    rng = np.random.RandomState(1)
    X_test, t_test = rng.standard_normal((800, 8)), np.repeat(np.arange(8), 100)
    y_test = np.einsum("nd,nd->n", X_test, coef[t_test]) + intercept[t_test]
    params = dict(
        hidden_layer_sizes=(32,), max_epochs=150, weight_decay=1e-3, random_state=0
    )
    shared = MultiTaskRegressor(**params).fit(X, y, task_ids=task_ids)
    separate = IndependentTasks(MultiTaskRegressor(**params)).fit(
        X, y, task_ids=task_ids
    )
    shared_score = shared.score(X_test, y_test, task_ids=t_test)
    assert shared_score > separate.score(X_test, y_test, task_ids=t_test) + 0.05


@pytest.mark.parametrize("architecture", ["hard", "cross_stitch", "mmoe"])
def test_architectures_learn(regression, architecture):
    """A smoke check only: test_neural_math.py checks each architecture's math
    (own heads, gates and towers by hand; forward_all against each task's pass)."""
    X, y, task_ids = regression
    model = MultiTaskRegressor(architecture=architecture, max_epochs=60, random_state=0)
    model.fit(X, y, task_ids=task_ids)
    assert model.score(X, y, task_ids=task_ids) > 0.7
    features = model.transform(X[:5], task_ids=task_ids[:5])
    assert features.shape == (5, 64)


def test_cross_stitch_units_start_near_identity_and_learn(regression):
    X, y, task_ids = regression
    model = MultiTaskRegressor(
        architecture="cross_stitch", max_epochs=20, random_state=0, device="cpu"
    )
    model.fit(X, y, task_ids=task_ids)
    stitch = model.net_.module_.network.stitches[0].detach().numpy()
    assert stitch.shape == (3, 3)
    assert np.all(np.diag(stitch) > 0.5) and not np.allclose(np.diag(stitch), 0.9)


def test_mmoe_gates_are_per_task_distributions(regression):
    X, y, task_ids = regression
    model = MultiTaskRegressor(
        architecture="mmoe", n_experts=3, max_epochs=20, random_state=0, device="cpu"
    )
    model.fit(X, y, task_ids=task_ids)
    network = model.net_.module_.network
    gates = network.gates(
        torch.as_tensor(X[:4], dtype=torch.float32), torch.tensor([0, 1, 2, 0])
    )
    np.testing.assert_allclose(gates.sum(dim=1).detach().numpy(), 1.0, rtol=1e-6)
    assert not torch.allclose(gates[0], gates[1])


class SmallCNN(nn.Module):
    def __init__(self, channels=4):
        super().__init__()
        self.conv = nn.Conv2d(1, channels, 3, padding=1)
        self.pool = nn.AdaptiveAvgPool2d(2)

    def forward(self, X):
        return self.pool(torch.relu(self.conv(X))).flatten(1)


class TokenLSTM(nn.Module):
    def __init__(self, vocabulary=20, width=8):
        super().__init__()
        self.embed = nn.Embedding(vocabulary, width)
        self.lstm = nn.LSTM(width, width, batch_first=True)

    def forward(self, X):
        _, (hidden, _) = self.lstm(self.embed(X))
        return hidden[-1]


def test_cnn_trunk_on_images_with_skorch_style_params():
    rng = np.random.RandomState(0)
    images = rng.standard_normal((120, 1, 6, 6)).astype(np.float32)
    task_ids = np.repeat([0, 1], 60)
    # Task 0: bright top half; task 1: bright left half.
    images[:30, :, :3] += 1.5
    images[60:90, :, :, :3] += 1.5
    y = np.tile(np.r_[np.ones(30), np.zeros(30)], 2).astype(int)
    model = MultiTaskClassifier(
        SmallCNN, trunk__channels=6, max_epochs=40, random_state=0
    )
    assert model.get_params()["trunk__channels"] == 6
    model.fit(images, y, task_ids=task_ids)
    assert model.net_.module_.network.trunk.conv.out_channels == 6
    assert model.score(images, y, task_ids=task_ids) > 0.9
    assert clone(model).get_params()["trunk__channels"] == 6


def test_lstm_trunk_on_token_ids():
    rng = np.random.RandomState(0)
    tokens = rng.randint(1, 20, size=(160, 7))
    task_ids = np.repeat(["reviews", "tweets"], 80)
    y = (tokens == 3).any(axis=1).astype(int)
    model = MultiTaskClassifier(
        TokenLSTM, trunk__width=12, max_epochs=40, learning_rate=0.01, random_state=0
    )
    model.fit(tokens, y, task_ids=task_ids)
    assert model.score(tokens, y, task_ids=task_ids) > 0.85


def test_trunk_params_are_grid_searchable():
    rng = np.random.RandomState(0)
    images = rng.standard_normal((60, 1, 4, 4)).astype(np.float32)
    y = (images.mean(axis=(1, 2, 3)) > 0).astype(float)
    search = GridSearchCV(
        MultiTaskRegressor(SmallCNN, max_epochs=3, random_state=0),
        {"trunk__channels": [2, 3]},
        cv=2,
    ).fit(images, y)
    assert search.best_params_["trunk__channels"] in (2, 3)


def test_bad_trunks_get_clear_errors(regression):
    X, y, task_ids = regression
    with pytest.raises(ValueError, match="trunk must return a 2-D tensor"):
        MultiTaskRegressor(nn.Unflatten(1, (5, 1)), **FAST).fit(X, y, task_ids=task_ids)
    with pytest.raises(ValueError, match="needs trunk='mlp'"):
        MultiTaskRegressor(nn.Linear(5, 4), architecture="cross_stitch", **FAST).fit(
            X, y, task_ids=task_ids
        )
    with pytest.raises(
        ValueError, match="trunk__\\* arguments need trunk to be a class"
    ):
        MultiTaskRegressor(nn.Linear(5, 4), trunk__bias=False, **FAST).fit(
            X, y, task_ids=task_ids
        )
    with pytest.raises(ValueError, match="trunk='mlp' is set by hidden_layer_sizes"):
        MultiTaskRegressor(trunk__channels=3, **FAST).fit(X, y, task_ids=task_ids)
    with pytest.raises(TypeError, match=r"unexpected keyword arguments \['hidden'\]"):
        MultiTaskRegressor(hidden=3).fit(X, y, task_ids=task_ids)


def test_different_label_sets_per_task():
    rng = np.random.RandomState(0)
    X = rng.standard_normal((300, 4))
    task_ids = np.repeat(["digits", "yes/no", "colours"], 100)
    y = np.concatenate(
        [
            rng.randint(0, 10, 100).astype(str),
            rng.choice(["yes", "no"], 100),
            rng.choice(["red", "green", "blue"], 100),
        ]
    )
    model = MultiTaskClassifier(**FAST).fit(X, y, task_ids=task_ids)
    assert len(model.classes_) == 15
    assert [len(c) for c in model.task_classes_] == [3, 10, 2]
    proba = model.predict_proba(X, task_ids=task_ids)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    yes_no = np.isin(model.classes_, ["yes", "no"])
    assert np.all(proba[task_ids == "yes/no"][:, ~yes_no] == 0)
    assert set(model.predict(X[100:200], task_ids=task_ids[100:200])) <= {"yes", "no"}


def test_several_targets_per_task(regression):
    X, y, task_ids = regression
    Y = np.column_stack([y, -2 * y + 1])
    model = MultiTaskRegressor(max_epochs=40, random_state=0).fit(
        X, Y, task_ids=task_ids
    )
    prediction = model.predict(X, task_ids=task_ids)
    assert prediction.shape == (120, 2)
    assert np.corrcoef(prediction[:, 1], -2 * y)[0, 1] > 0.8


def test_missing_labels_are_masked_out(rng):
    X = rng.standard_normal((80, 4))
    Y = np.column_stack([X @ rng.standard_normal(4) for _ in range(3)])
    Y[rng.random_sample(Y.shape) < 0.3] = np.nan
    model = MultiTaskRegressor(
        early_stopping=True, validation_fraction=0.2, **FAST
    ).fit(X, Y)
    prediction = model.predict(X)
    assert prediction.shape == (80, 3) and np.all(np.isfinite(prediction))
    output = torch.tensor([[1.0], [3.0], [0.0]])
    target = {"y": torch.tensor([[0.0], [1.0], [5.0]]), "weight": torch.ones(3)}
    losses = batch_losses(
        output, target, torch.tensor([0, 0, 2]), torch.tensor([1, 1, 1]), 1, False
    )
    np.testing.assert_allclose(losses.per_task().numpy(), [2.5, 0.0, 25.0])
    assert losses.present.tolist() == [True, False, True]
    assert losses.mean_over_tasks().item() == pytest.approx((2.5 + 25.0) / 2)


def test_task_balanced_batches_draw_tasks_equally():
    task_index = torch.as_tensor(np.repeat([0, 1], [900, 100]))
    dataset = RowsDataset(torch.zeros(1000, 1), torch.arange(1000), task_index)
    iterator = BatchIterator(
        dataset, 1000, True, torch.Generator().manual_seed(0), task_balanced=True
    )
    ((batch, _),) = list(iterator)
    share = batch["task_index"].float().mean().item()
    assert 0.45 < share < 0.55


def test_early_stopping_on_a_task_aware_split():
    X, y, task_ids = make_multitask_classification(
        n_tasks=3, n_samples=60, random_state=0
    )
    model = MultiTaskClassifier(
        early_stopping=True,
        n_iter_no_change=3,
        max_epochs=500,
        learning_rate=0.05,
        random_state=0,
    ).fit(X, y, task_ids=task_ids)
    assert model.n_iter_ < 500
    assert "valid_loss" in model.net_.history[-1]
    data_rows = model._validation_rows(
        np.repeat(np.arange(6), 30), np.random.RandomState(0)
    )
    assert np.array_equal(np.bincount(data_rows // 30), [3] * 6)


def test_reproducible_and_leaves_global_rng_alone(regression):
    X, y, task_ids = regression
    state = torch.get_rng_state()
    first = MultiTaskRegressor(dropout=0.2, **FAST).fit(X, y, task_ids=task_ids)
    assert torch.equal(state, torch.get_rng_state())
    second = MultiTaskRegressor(dropout=0.2, **FAST).fit(X, y, task_ids=task_ids)
    np.testing.assert_array_equal(
        first.predict(X, task_ids=task_ids), second.predict(X, task_ids=task_ids)
    )


def test_verbose_controls_the_progress_table(regression, capsys):
    X, y, task_ids = regression
    MultiTaskRegressor(max_epochs=2, verbose=0).fit(X, y, task_ids=task_ids)
    assert capsys.readouterr().out == ""
    MultiTaskRegressor(max_epochs=2, verbose=1).fit(X, y, task_ids=task_ids)
    assert "train_loss" in capsys.readouterr().out


def test_device_selection_and_state_round_trip(regression, monkeypatch):
    assert resolve_device("auto") == ("cuda" if torch.cuda.is_available() else "cpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert resolve_device("auto") == "cuda"
    monkeypatch.undo()
    X, y, task_ids = regression
    model = MultiTaskRegressor(mixed_precision=True, **FAST).fit(
        X, y, task_ids=task_ids
    )
    assert model.device_ == resolve_device("auto")
    restored = pickle.loads(pickle.dumps(model))
    expected = model.predict(X, task_ids=task_ids)
    assert isinstance(expected, np.ndarray)
    np.testing.assert_allclose(restored.predict(X, task_ids=task_ids), expected)
    other = MultiTaskRegressor(**{**FAST, "random_state": 1}).fit(
        X, y, task_ids=task_ids
    )
    state = {k: v.cpu() for k, v in model.net_.module_.state_dict().items()}
    other.net_.module_.load_state_dict(state)
    np.testing.assert_allclose(other.predict(X, task_ids=task_ids), expected, rtol=1e-6)


@pytest.mark.skipif(torch.cuda.is_available(), reason="simulates a CPU-only machine")
def test_gpu_trained_model_predicts_on_a_cpu_only_machine(regression):
    X, y, task_ids = regression
    model = MultiTaskRegressor(**FAST).fit(X, y, task_ids=task_ids)
    expected = model.predict(X, task_ids=task_ids)
    # As if trained on a GPU: skorch maps the weights back to the CPU on load.
    model.net_.device = model.device_ = "cuda"
    with pytest.warns(Warning, match="(?i)cuda"):
        restored = pickle.loads(pickle.dumps(model))
    assert str(restored.net_.device) == "cpu"
    np.testing.assert_allclose(restored.predict(X, task_ids=task_ids), expected)


def test_clear_import_error_without_torch(regression, monkeypatch):
    X, y, task_ids = regression
    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(ImportError, match=r"sklearn_mtl\[neural\]"):
        MultiTaskRegressor().fit(X, y, task_ids=task_ids)


# -- loss weightings: each strategy's defining property ------------------------------


def test_equal_and_fixed_weightings_combine_as_documented():
    losses, present = torch.tensor([1.0, 2.0, 6.0]), torch.tensor([True, False, True])
    assert Equal(3).total(losses, present).item() == pytest.approx(3.5)
    assert Fixed(3, [2.0, 5.0, 0.5]).total(losses, present).item() == pytest.approx(5.0)
    with pytest.raises(ValueError, match="names tasks not in the data"):
        FixedWeighting({"nope": 1.0}).build(2, np.array(["a", "b"]))


def test_zero_fixed_weight_leaves_a_task_untrained(regression):
    X, y, task_ids = regression
    weighted = MultiTaskRegressor(loss_weighting={0: 0.0}, **FAST).fit(
        X, y, task_ids=task_ids
    )
    plain = MultiTaskRegressor(**FAST).fit(X, y, task_ids=task_ids)
    rows = task_ids == 0
    assert (
        weighted.score(X[rows], y[rows], task_ids=task_ids[rows])
        < plain.score(X[rows], y[rows], task_ids=task_ids[rows]) - 0.3
    )


def test_uncertainty_weighting_learns_the_noisier_task():
    rng = np.random.RandomState(0)
    X = rng.standard_normal((400, 3))
    task_ids = np.repeat([0, 1], 200)
    signal = X @ [1.0, -1.0, 0.5]
    y = signal + np.where(task_ids == 1, 2.0, 0.1) * rng.standard_normal(400)
    model = MultiTaskRegressor(
        loss_weighting="uncertainty", max_epochs=60, learning_rate=0.01, random_state=0
    ).fit(X, y, task_ids=task_ids)
    log_variance = model.net_.module_.weighting.log_variance.detach().cpu().numpy()
    assert log_variance[1] > log_variance[0] + 1.0


def test_dwa_weights_by_hand():
    weights = dwa_weights(np.array([1.0, 1.0]), np.array([0.5, 1.0]), temperature=1.0)
    expected = 2 * np.exp([0.5, 1.0]) / np.exp([0.5, 1.0]).sum()
    np.testing.assert_allclose(weights, expected)
    assert weights[1] > weights[0]  # the task whose loss stalls gets more weight


def test_dwa_updates_weights_during_training(regression):
    X, y, task_ids = regression
    model = MultiTaskRegressor(loss_weighting="dwa", **FAST).fit(
        X, y, task_ids=task_ids
    )
    weights = model.net_.module_.weighting.weights.cpu().numpy()
    assert weights.sum() == pytest.approx(3.0) and not np.allclose(weights, 1.0)


def test_gradnorm_moves_weight_away_from_the_larger_gradient():
    state = GradNormState(2, alpha=1.5, learning_rate=0.1)
    tasks, losses = torch.tensor([0, 1]), torch.tensor([1.0, 1.0])
    for _ in range(3):
        state.update(tasks, losses, torch.tensor([1.0, 10.0]))
    weights = state.weights.numpy()
    assert weights[0] > 1 > weights[1]
    assert weights.sum() == pytest.approx(2.0)
    # Training runs end to end and keeps the weights' sum.
    X, y, task_ids = make_multitask_regression(n_tasks=2, random_state=0)
    model = MultiTaskRegressor(loss_weighting=GradNorm(alpha=1.0), **FAST).fit(
        X, y, task_ids=task_ids
    )
    assert model.net_.module_.weighting.weights.sum().item() == pytest.approx(2.0)


def test_pcgrad_removes_conflicts_only():
    conflicting = torch.tensor([[1.0, 0.0], [-1.0, 1.0]])
    projected = project_conflicting(conflicting, np.random.RandomState(0))
    for i in range(2):
        for j in range(2):
            assert torch.dot(projected[i], conflicting[j]) >= -1e-6
    agreeing = torch.tensor([[1.0, 0.0], [1.0, 1.0]])
    assert torch.equal(
        project_conflicting(agreeing, np.random.RandomState(0)), agreeing
    )
    X, y, task_ids = make_multitask_regression(n_tasks=2, random_state=0)
    surgery = MultiTaskRegressor(loss_weighting=PCGrad(random_state=0), **FAST)
    plain = MultiTaskRegressor(**FAST)
    assert (
        surgery.fit(X, y, task_ids=task_ids).score(X, y, task_ids=task_ids)
        > plain.fit(X, y, task_ids=task_ids).score(X, y, task_ids=task_ids) - 0.1
    )


# -- bad inputs: clear errors instead of NaN or deep tracebacks -------------------


@pytest.mark.parametrize(
    "params, scale, cause",
    [
        (dict(learning_rate=1e12), 1.0, "learning rate is too high"),
        (dict(optimizer="sgd"), 1e8, "inputs are not scaled"),
    ],
)
def test_diverging_training_stops_with_a_clear_error(regression, params, scale, cause):
    X, y, task_ids = regression
    model = MultiTaskRegressor(**{**FAST, **params})
    with pytest.raises(ValueError, match=r"diverged in epoch \d+") as error:
        model.fit(X * scale, y, task_ids=task_ids)
    message = str(error.value)
    # Both causes are named; the likelier one first.
    assert "learning_rate=" in message and "StandardScaler" in message
    assert message.index(cause) < message.index("or the")


def test_zero_weight_task_in_a_batch_contributes_nothing():
    output = torch.tensor([[1.0], [3.0], [0.0], [2.0]])
    target = {
        "y": torch.tensor([[0.0], [1.0], [5.0], [0.0]]),
        "weight": torch.tensor([1.0, 3.0, 0.0, 0.0]),
    }
    losses = batch_losses(
        output, target, torch.tensor([0, 0, 1, 1]), torch.tensor([1, 1]), 1, False
    )
    assert losses.present.tolist() == [True, False]
    # Task 0: (1 * 1 + 3 * 4) / 4; task 1 weighs nothing and is absent.
    np.testing.assert_allclose(losses.per_task().detach().numpy(), [3.25, 0.0])
    assert losses.mean_over_tasks().item() == pytest.approx(3.25)
    # Task 1 has a single row of non-zero weight: most batches holding task 1
    # rows weigh it 0; training stays finite.
    X, y, task_ids = make_multitask_regression(
        n_tasks=3, n_samples=40, n_features=5, random_state=0
    )
    weights = np.where(task_ids == 1, 0.0, 1.0)
    weights[np.flatnonzero(task_ids == 1)[0]] = 1.0
    model = MultiTaskRegressor(**{**FAST, "batch_size": 8}).fit(
        X, y, task_ids=task_ids, sample_weight=weights
    )
    assert np.all(np.isfinite(model.predict(X, task_ids=task_ids)))


@pytest.mark.parametrize(
    "seed", [0, np.int64(3), np.random.RandomState(5)], ids=["int", "np.int64", "rs"]
)
def test_pcgrad_follows_the_estimators_random_state(seed):
    # Four tasks in conflict (opposite signs): the projection order matters.
    rng = np.random.RandomState(0)
    X = rng.standard_normal((160, 4))
    task_ids = np.repeat(np.arange(4), 40)
    coef = np.array([[1, 1, 0, 0], [-1, -1, 0, 0], [1, -1, 1, 0], [-1, 1, 0, 1]])
    y = np.einsum("nd,nd->n", X, coef[task_ids])

    def fit(random_state, weighting="pcgrad"):
        model = MultiTaskRegressor(
            loss_weighting=weighting,
            max_epochs=4,
            batch_size=32,
            random_state=random_state,
        )
        return model.fit(X, y, task_ids=task_ids).predict(X, task_ids=task_ids)

    copy_of = (
        (lambda: np.random.RandomState(5))
        if isinstance(seed, np.random.RandomState)
        else (lambda: seed)
    )
    np.testing.assert_array_equal(fit(copy_of()), fit(copy_of()))
    # Only the projection order differs between these two fits.
    first = fit(0, PCGrad(random_state=np.int64(1)))
    np.testing.assert_array_equal(first, fit(0, PCGrad(random_state=np.int64(1))))
    assert not np.array_equal(first, fit(0, PCGrad(random_state=2)))


@pytest.mark.parametrize("sizes", [(0,), (16, -4), (8.0,), (2.5,), (True,)])
def test_bad_hidden_layer_sizes_name_the_parameter(regression, sizes):
    X, y, task_ids = regression
    with pytest.raises(ValueError, match="hidden_layer_sizes must be a tuple of pos"):
        MultiTaskRegressor(hidden_layer_sizes=sizes, **FAST).fit(
            X, y, task_ids=task_ids
        )


def test_model_fitted_with_early_stopping_pickles(regression):
    X, y, task_ids = regression
    model = MultiTaskRegressor(early_stopping=True, n_iter_no_change=2, **FAST).fit(
        X, y, task_ids=task_ids
    )
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(
        restored.predict(X, task_ids=task_ids), model.predict(X, task_ids=task_ids)
    )


@pytest.mark.parametrize("kind", ["regressor", "classifier"])
def test_unscaled_features_warn_at_the_users_call(kind):
    """At |X| ~ 1e8 a network can train without diverging yet predict noise:
    the fit warns (pointing at the caller's line), and not on scaled data."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    task_ids = np.repeat([0, 1], 30)
    y = X[:, 0] + task_ids if kind == "regressor" else (X[:, 0] > 0).astype(int)
    model = (MultiTaskRegressor if kind == "regressor" else MultiTaskClassifier)(
        max_epochs=1, random_state=0
    )
    with pytest.warns(UserWarning, match="features are not scaled") as record:
        model.fit(X * 1e8, y, task_ids=task_ids)
    assert record[0].filename == __file__
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        model.fit(X, y, task_ids=task_ids)
