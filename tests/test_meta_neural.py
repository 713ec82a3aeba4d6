"""Neural meta-learners (sklearn_mtl.meta._gradient): math against hand runs.

Every gradient is compared with an independent computation: finite
differences of the post-adaptation query loss, or a plain training loop on a
copy of the ``nn.Module`` (``torch.autograd.grad`` on its parameters and
in-place SGD), never with the functions under test. Planted mistakes each test
was checked to catch are listed in the report of the change that added it.
"""

import copy
import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.neural_network import MLPRegressor
from sklearn.utils.estimator_checks import parametrize_with_checks

torch = pytest.importorskip("torch")
pytest.importorskip("skorch")
# Tiny networks: one thread avoids oversubscribing a shared CPU (far faster).
torch.set_num_threads(1)

from sklearn_mtl.meta import (  # noqa: E402
    GradientMetaClassifier,
    GradientMetaRegressor,
    PrototypicalClassifier,
)
from sklearn_mtl.meta._gradient import (  # noqa: E402
    _inner_loop,
    _make_module,
    _meta_gradient,
    _reptile_step,
)

SMALL = dict(
    hidden_layer_sizes=(8,),
    n_meta_iter=5,
    inner_steps=1,
    meta_batch_size=2,
    device="cpu",
    random_state=0,
)


# --- independent references --------------------------------------------------


def _tiny(seed=0, n_in=2, hidden=(3,), n_out=1):
    torch.manual_seed(seed)
    module = _make_module(n_in, hidden, "tanh", n_out).double()
    params = {k: v.detach().clone() for k, v in module.named_parameters()}
    return module, params


def _episodes(seed, n_tasks=2, n_in=2):
    g = torch.Generator().manual_seed(seed)
    out = []
    for t in range(n_tasks):
        w = torch.randn(n_in, generator=g, dtype=torch.float64)
        X_s = torch.randn(4, n_in, generator=g, dtype=torch.float64)
        X_q = torch.randn(5, n_in, generator=g, dtype=torch.float64)
        out.append((X_s, torch.sin(X_s @ w) + t, X_q, torch.sin(X_q @ w) + t))
    return out


def _sgd_by_hand(module, params, X, y, steps, lr, head_only=False):
    """Plain SGD on a deep copy of the module; returns its parameters."""
    net = copy.deepcopy(module)
    with torch.no_grad():
        for k, p in net.named_parameters():
            p.copy_(params[k])
    moving = [
        p for k, p in net.named_parameters() if k.startswith("head.") or not head_only
    ]
    for _ in range(steps):
        out = net["head"](net["trunk"](X))
        loss = ((out[:, 0] - y) ** 2).mean()
        grads = torch.autograd.grad(loss, moving)
        with torch.no_grad():
            for p, g in zip(moving, grads):
                p -= lr * g
    return net


def _query_objective(module, params, episodes, steps, lr, head_only=False):
    """Mean query loss after adaptation, evaluated without any meta-graph."""
    total = 0.0
    for X_s, y_s, X_q, y_q in episodes:
        net = _sgd_by_hand(module, params, X_s, y_s, steps, lr, head_only)
        with torch.no_grad():
            out = net["head"](net["trunk"](X_q))
            total += float(((out[:, 0] - y_q) ** 2).mean())
    return total / len(episodes)


# --- meta-gradients -------------------------------------------------------------


@pytest.mark.parametrize("algorithm", ["maml", "anil"])
def test_second_order_meta_gradient_matches_finite_difference(algorithm):
    module, params = _tiny(seed=1)
    episodes = _episodes(seed=2)
    steps, lr = 3, 0.4  # large steps: the second-order terms matter
    head_only = algorithm == "anil"
    _, grads = _meta_gradient(
        module,
        params,
        episodes,
        algorithm=algorithm,
        steps=steps,
        lr=lr,
        classifier=False,
    )
    rng = np.random.default_rng(3)
    eps = 1e-6
    for _ in range(3):
        direction = {
            k: torch.as_tensor(rng.standard_normal(v.shape)) for k, v in params.items()
        }
        plus = {k: v + eps * direction[k] for k, v in params.items()}
        minus = {k: v - eps * direction[k] for k, v in params.items()}
        fd = (
            _query_objective(module, plus, episodes, steps, lr, head_only)
            - _query_objective(module, minus, episodes, steps, lr, head_only)
        ) / (2 * eps)
        analytic = sum(float((grads[k] * direction[k]).sum()) for k in params)
        assert analytic == pytest.approx(fd, rel=1e-6, abs=1e-9)
    # The first-order gradient is a different number here (not a vacuous test).
    _, fo = _meta_gradient(
        module,
        params,
        episodes,
        algorithm="fomaml",
        steps=steps,
        lr=lr,
        classifier=False,
    )
    diff = max(float((fo[k] - grads[k]).abs().max()) for k in params)
    assert diff > 1e-3


def test_first_order_gradient_is_query_gradient_at_adapted_params():
    module, params = _tiny(seed=4)
    episodes = _episodes(seed=5, n_tasks=3)
    steps, lr = 2, 0.3
    _, grads = _meta_gradient(
        module,
        params,
        episodes,
        algorithm="fomaml",
        steps=steps,
        lr=lr,
        classifier=False,
    )
    expected = {k: torch.zeros_like(v) for k, v in params.items()}
    for X_s, y_s, X_q, y_q in episodes:
        net = _sgd_by_hand(module, params, X_s, y_s, steps, lr)
        out = net["head"](net["trunk"](X_q))
        loss = ((out[:, 0] - y_q) ** 2).mean()
        names = [k for k, _ in net.named_parameters()]
        for k, g in zip(names, torch.autograd.grad(loss, list(net.parameters()))):
            expected[k] += g / len(episodes)
    for k in params:
        torch.testing.assert_close(grads[k], expected[k], rtol=1e-10, atol=1e-12)


def test_reptile_step_is_interpolation_toward_adapted_params():
    module, params = _tiny(seed=6)
    X_s, y_s, _, _ = _episodes(seed=7, n_tasks=1)[0]
    steps, lr, meta_lr = 4, 0.2, 0.3
    new = _reptile_step(
        module,
        params,
        [(X_s, y_s)],
        steps=steps,
        lr=lr,
        meta_lr=meta_lr,
        classifier=False,
    )
    phi = dict(_sgd_by_hand(module, params, X_s, y_s, steps, lr).named_parameters())
    for k in params:
        expected = params[k] + meta_lr * (phi[k].detach() - params[k])
        torch.testing.assert_close(new[k], expected, rtol=1e-12, atol=1e-12)
        assert not torch.equal(new[k], params[k])


def test_inner_loop_does_not_modify_its_input():
    module, params = _tiny(seed=8)
    before = {k: v.clone() for k, v in params.items()}
    X_s, y_s, _, _ = _episodes(seed=9, n_tasks=1)[0]
    leaves = {k: v.requires_grad_(True) for k, v in params.items()}
    _inner_loop(module, leaves, X_s, y_s, steps=3, lr=0.5, classifier=False)
    for k in params:
        assert torch.equal(params[k].detach(), before[k])


def test_zero_head_first_step_is_a_centred_prototype_classifier():
    # From a head of zeros every class has probability 1/C, so one step of
    # mean cross-entropy gives W_c = lr/n * sum_i (1[y_i = c] - 1/C) f_i and
    # b_c = lr/n * (n_c - n/C): unequal class counts, a class with no row.
    module, params = _tiny(seed=10, n_in=3, hidden=(4,), n_out=4)
    g = torch.Generator().manual_seed(11)
    X = torch.randn(6, 3, generator=g, dtype=torch.float64)
    y = torch.tensor([0, 0, 0, 1, 2, 2])
    lr, n, C = 0.7, 6, 4
    before = {k: v.clone() for k, v in params.items()}
    leaves = {k: v.requires_grad_(True) for k, v in params.items()}
    out = _inner_loop(
        module,
        leaves,
        X,
        y,
        steps=1,
        lr=lr,
        classifier=True,
        head_only=True,
        zero_head=True,
    )
    with torch.no_grad():
        f = module["trunk"](X)
        onehot = torch.nn.functional.one_hot(y, C).double()
        W = lr / n * (onehot - 1 / C).T @ f
        b = lr / n * (onehot - 1 / C).sum(0)
    torch.testing.assert_close(out["head.weight"], W, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(out["head.bias"], b, rtol=1e-12, atol=1e-12)
    for k in params:
        # The meta-learned head is ignored, never modified.
        assert torch.equal(params[k].detach(), before[k])


@pytest.mark.parametrize("algorithm", ["fomaml", "maml"])
def test_zero_head_meta_gradient_is_taken_from_a_zero_head(algorithm):
    module, params = _tiny(seed=12)
    # A non-zero meta head that the zeroing trick must ignore entirely.
    params = {k: v + 0.5 if k.startswith("head.") else v for k, v in params.items()}
    episodes = _episodes(seed=13, n_tasks=2)
    steps, lr = 2, 0.3
    common = dict(algorithm=algorithm, steps=steps, lr=lr, classifier=False)
    _, grads = _meta_gradient(module, params, episodes, zero_head=True, **common)
    zeroed = {
        k: torch.zeros_like(v) if k.startswith("head.") else v
        for k, v in params.items()
    }
    for k in grads:
        if k.startswith("head."):
            assert torch.equal(grads[k], torch.zeros_like(grads[k]))
    if algorithm == "fomaml":
        _, expected = _meta_gradient(module, zeroed, episodes, **common)
        for k in grads:
            if not k.startswith("head."):
                torch.testing.assert_close(grads[k], expected[k], rtol=1e-12, atol=0)
    else:
        # Second order: central finite difference on a trunk weight of the
        # objective whose inner loop starts from a zero head.
        k, eps = "trunk.layers.0.weight", 1e-6
        for idx in [(0, 0), (1, 1)]:
            plus = {n: v.clone() for n, v in zeroed.items()}
            minus = {n: v.clone() for n, v in zeroed.items()}
            plus[k][idx] += eps
            minus[k][idx] -= eps
            fd = (
                _query_objective(module, plus, episodes, steps, lr)
                - _query_objective(module, minus, episodes, steps, lr)
            ) / (2 * eps)
            assert abs(float(grads[k][idx]) - fd) < 1e-6


def test_classifier_episodes_hold_every_query_class_in_the_support():
    # 2 rows per class (Omniglot's episodes): an unstratified half split
    # leaves about a quarter of the query rows without their class in the
    # support set; the stratified one puts one row of each class on each side.
    model = GradientMetaClassifier(support_fraction=0.5)
    y = torch.as_tensor(np.repeat(np.arange(20), 2))
    X = torch.arange(40.0)[:, None]
    rng = np.random.RandomState(0)
    for _ in range(20):
        X_s, y_s, X_q, y_q = model._episode((X, y), rng)
        assert sorted(y_s.tolist()) == list(range(20))
        assert sorted(y_q.tolist()) == list(range(20))
        rows = np.concatenate([X_s[:, 0].numpy(), X_q[:, 0].numpy()])
        assert sorted(rows.astype(int)) == list(range(40))
    # Unequal classes: at least one support row each, the fraction of the rest;
    # a class with one row goes to the support set.
    y = torch.tensor([0, 0, 0, 0, 1, 1, 1, 2])
    model.set_params(support_fraction=0.25)
    _, y_s, _, y_q = model._episode((torch.zeros(8, 1), y), rng)
    assert sorted(y_s.tolist()) == [0, 1, 2]
    assert sorted(y_q.tolist()) == [0, 0, 0, 1, 1]


def test_zero_head_estimator_keeps_a_zero_meta_head():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 2))
    t = np.repeat(np.arange(6), 10)
    y = (X[:, 0] > 0).astype(int) + 2 * (t % 2)
    model = GradientMetaClassifier(algorithm="fomaml", head_init="zero", **SMALL)
    model.fit(X, y, task_ids=t)
    for k, v in model.meta_params_.items():
        assert np.all(v == 0) == k.startswith("head.")
    assert np.any(model.task_params_["head.weight"] != 0)
    model.adapt(X[:4], y[:4], task_ids=[99] * 4)
    assert np.all(model.meta_params_["head.weight"] == 0)
    assert model.predict(X[:4], task_ids=[99] * 4).shape == (4,)
    headless = GradientMetaClassifier(
        network=lambda n_in, n_out: torch.nn.Linear(n_in, n_out),
        head_init="zero",
        **SMALL,
    )
    with pytest.raises(ValueError, match="head_init='zero'"):
        headless.fit(X, y, task_ids=t)


# --- estimators -----------------------------------------------------------------


def _sinusoids(rng, n_tasks, n_per_task, first_task=0):
    amp = rng.uniform(1.0, 3.0, n_tasks)
    phase = rng.uniform(0.0, np.pi / 2, n_tasks)
    X = rng.uniform(-3, 3, (n_tasks * n_per_task, 1))
    t = np.repeat(np.arange(n_tasks), n_per_task)
    y = amp[t] * np.sin(X[:, 0] + phase[t])
    return X, y, t + first_task


def _fitted(algorithm, seed=0, **kwargs):
    rng = np.random.default_rng(seed)
    X, y, t = _sinusoids(rng, 12, 20)
    params = dict(SMALL, algorithm=algorithm, n_meta_iter=10, inner_steps=2)
    params.update(kwargs)
    model = GradientMetaRegressor(**params).fit(X, y, task_ids=t)
    return model, rng


@pytest.mark.parametrize("algorithm", ["maml", "fomaml", "reptile", "anil"])
def test_adapt_leaves_meta_learned_state_unchanged(algorithm):
    model, rng = _fitted(algorithm)
    X, y, t = _sinusoids(rng, 2, 5, first_task=100)
    meta = copy.deepcopy(model.meta_params_)
    fitted = copy.deepcopy(model.task_params_)
    X_fit = rng.uniform(-3, 3, (12, 1))
    t_fit = np.arange(12)
    pred_before = model.predict(X_fit, task_ids=t_fit)
    model.adapt(X, y, task_ids=t)
    for k in meta:
        np.testing.assert_array_equal(model.meta_params_[k], meta[k])
        # The fitted tasks come first in tasks_ (labels 0..11 < 100).
        np.testing.assert_array_equal(model.task_params_[k][:12], fitted[k])
    np.testing.assert_array_equal(model.predict(X_fit, task_ids=t_fit), pred_before)
    np.testing.assert_array_equal(model.meta_tasks_, np.arange(12))
    np.testing.assert_array_equal(model.tasks_, np.r_[np.arange(12), 100, 101])
    # The new tasks did move away from the initialization.
    moved = max(np.abs(model.task_params_[k][12:] - meta[k]).max() for k in meta)
    assert moved > 0


def test_anil_adapt_moves_the_head_only():
    model, rng = _fitted("anil")
    X, y, t = _sinusoids(rng, 1, 5, first_task=50)
    model.adapt(X, y, task_ids=t)
    i = int(np.searchsorted(model.tasks_, 50))
    for k, v in model.meta_params_.items():
        if k.startswith("trunk."):
            np.testing.assert_array_equal(model.task_params_[k][i], v)
        else:
            assert np.abs(model.task_params_[k][i] - v).max() > 1e-6


def test_adapt_is_the_inner_loop_by_hand():
    model, rng = _fitted("maml")
    X, y, t = _sinusoids(rng, 1, 5, first_task=50)
    model.adapt(X, y, task_ids=t)
    module = model._module()
    params = {k: torch.as_tensor(v) for k, v in model.meta_params_.items()}
    Xs = torch.as_tensor((X - model.x_mean_) / model.x_scale_, dtype=torch.float32)
    ys = torch.as_tensor((y - model.y_mean_) / model.y_scale_, dtype=torch.float32)
    net = _sgd_by_hand(module, params, Xs, ys, model.inner_steps, model.inner_lr)
    i = int(np.searchsorted(model.tasks_, 50))
    for k, p in net.named_parameters():
        np.testing.assert_allclose(model.task_params_[k][i], p.detach(), atol=1e-6)
    out = net["head"](net["trunk"](Xs)).detach().numpy()[:, 0]
    np.testing.assert_allclose(
        model.predict(X, task_ids=t), out * model.y_scale_ + model.y_mean_, rtol=1e-5
    )


def test_meta_learner_beats_scratch_network_at_five_shots():
    rng = np.random.default_rng(0)
    X, y, t = _sinusoids(rng, 40, 20)
    model = GradientMetaRegressor(
        algorithm="maml",
        hidden_layer_sizes=(32, 32),
        inner_steps=3,
        inner_lr=0.1,
        meta_lr=3e-3,
        meta_batch_size=8,
        n_meta_iter=250,
        support_fraction=0.25,
        device="cpu",
        random_state=0,
    ).fit(X, y, task_ids=t)
    X_new, y_new, t_new = _sinusoids(rng, 8, 55, first_task=1000)
    support = np.tile(np.r_[np.ones(5, bool), np.zeros(50, bool)], 8)
    model.adapt(X_new[support], y_new[support], task_ids=t_new[support])
    query = ~support
    meta_mse = np.mean(
        (model.predict(X_new[query], task_ids=t_new[query]) - y_new[query]) ** 2
    )
    scratch = []
    for task in np.unique(t_new):
        s, q = support & (t_new == task), query & (t_new == task)
        net = MLPRegressor(
            hidden_layer_sizes=(32, 32), max_iter=2000, random_state=0
        ).fit(X_new[s], y_new[s])
        scratch.append(np.mean((net.predict(X_new[q]) - y_new[q]) ** 2))
    assert meta_mse < 0.5 * np.mean(scratch), (meta_mse, np.mean(scratch))


def test_clone_and_pickle_round_trip():
    model, rng = _fitted("fomaml")
    X, y, t = _sinusoids(rng, 1, 5, first_task=70)
    model.adapt(X, y, task_ids=t)
    X_test = rng.uniform(-3, 3, (6, 1))
    t_test = np.array([0, 3, 70, 70, 11, 0])
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(
        restored.predict(X_test, task_ids=t_test),
        model.predict(X_test, task_ids=t_test),
    )
    # A model trained on a GPU serves on a machine without one.
    restored.device_ = "cuda:0"
    if not torch.cuda.is_available():
        np.testing.assert_array_equal(
            restored.predict(X_test, task_ids=t_test),
            model.predict(X_test, task_ids=t_test),
        )
    twin = clone(model)
    assert twin.get_params() == model.get_params()
    assert not hasattr(twin, "meta_params_")
    refit = twin.fit(*_sinusoids(np.random.default_rng(0), 12, 20))
    np.testing.assert_array_equal(
        refit.predict(X_test[:2], task_ids=[0, 3]),
        _fitted("fomaml")[0].predict(X_test[:2], task_ids=[0, 3]),
    )


def test_classifier_adapts_to_a_new_task():
    rng = np.random.default_rng(0)
    n_tasks, n = 12, 30
    X = rng.standard_normal((n_tasks * n, 2))
    t = np.repeat(np.arange(n_tasks), n)
    angle = rng.uniform(-0.4, 0.4, n_tasks)
    w = np.column_stack([np.cos(angle), np.sin(angle)])
    y = np.where(np.einsum("ij,ij->i", X, w[t]) > 0, "b", "a")
    model = GradientMetaClassifier(
        hidden_layer_sizes=(16,),
        n_meta_iter=40,
        inner_steps=2,
        inner_lr=0.3,
        meta_lr=1e-2,
        device="cpu",
        random_state=0,
    ).fit(X, y, task_ids=t)
    np.testing.assert_array_equal(model.classes_, ["a", "b"])
    X_new = rng.standard_normal((40, 2))
    y_new = np.where(X_new[:, 0] > 0, "b", "a")
    # A one-class support set is fine: every class keeps an output.
    model.adapt(X_new[:4], np.array(["a"] * 4), task_ids=[500] * 4)
    proba = model.predict_proba(X_new, task_ids=[500] * 40)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    model.adapt(X_new[:10], y_new[:10], task_ids=[500] * 10)
    assert model.score(X_new[10:], y_new[10:], task_ids=[500] * 30) > 0.7
    with pytest.raises(ValueError, match="not seen in fit"):
        model.adapt(X_new[:3], ["c", "a", "b"], task_ids=[501] * 3)
    with pytest.raises(ValueError, match="meta-learned in fit"):
        model.adapt(X_new[:3], ["a", "a", "b"], task_ids=[0] * 3)


@parametrize_with_checks(
    [
        GradientMetaRegressor(**SMALL),
        GradientMetaRegressor(**dict(SMALL, algorithm="reptile")),
        GradientMetaClassifier(**SMALL),
        PrototypicalClassifier(
            hidden_layer_sizes=(8,), n_meta_iter=5, device="cpu", random_state=0
        ),
    ],
    expected_failed_checks=lambda est: {},
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


# --- prototypical networks ---------------------------------------------------


def _class_tasks(rng, n_tasks, n, first_task=0):
    """Three classes per task, each a Gaussian blob at a task-shifted centre."""
    centres = np.array([[0.0, 3.0], [3.0, -2.0], [-3.0, -2.0]])
    t = np.repeat(np.arange(n_tasks), n)
    y = np.tile(np.arange(3), n_tasks * n // 3 + 1)[: n_tasks * n]
    shift = rng.standard_normal((n_tasks, 2))
    X = centres[y] + shift[t] + 0.7 * rng.standard_normal((n_tasks * n, 2))
    return X, y, t + first_task


def _fitted_protonet():
    rng = np.random.default_rng(0)
    X, y, t = _class_tasks(rng, 8, 15)
    model = PrototypicalClassifier(
        hidden_layer_sizes=(16, 4),
        n_meta_iter=20,
        learning_rate=1e-2,
        device="cpu",
        random_state=0,
    ).fit(X, y, task_ids=t)
    return model, rng


def _embed_by_hand(model, X):
    net = model._module().double()
    with torch.no_grad():
        for k, p in net.named_parameters():
            p.copy_(torch.as_tensor(model.embedding_params_[k]))
        return net(torch.as_tensor((X - model.x_mean_) / model.x_scale_)).numpy()


def test_prototypes_and_probabilities_by_hand():
    model, rng = _fitted_protonet()
    X, y, t = _class_tasks(rng, 1, 7, first_task=40)
    keep = y != 2  # the new task has no example of class 2
    embedding = copy.deepcopy(model.embedding_params_)
    fitted = model.prototypes_.copy()
    model.adapt(X[keep], y[keep], task_ids=t[keep])
    for k in embedding:
        np.testing.assert_array_equal(model.embedding_params_[k], embedding[k])
    np.testing.assert_array_equal(model.prototypes_[:8], fitted)
    emb = _embed_by_hand(model, X[keep])
    expected = np.stack([emb[y[keep] == c].mean(axis=0) for c in (0, 1)])
    np.testing.assert_allclose(model.prototypes_[8][:2], expected, rtol=1e-5)
    assert np.all(np.isnan(model.prototypes_[8][2]))
    X_test = rng.standard_normal((5, 2))
    e = _embed_by_hand(model, X_test)
    d2 = ((e[:, None, :] - expected[None]) ** 2).sum(-1)
    p = np.exp(-d2 - (-d2).max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    proba = model.predict_proba(X_test, task_ids=[40] * 5)
    np.testing.assert_allclose(proba[:, :2], p, rtol=1e-4, atol=1e-6)
    np.testing.assert_array_equal(proba[:, 2], 0.0)


def test_protonet_few_shot_and_pickle():
    model, rng = _fitted_protonet()
    X, y, t = _class_tasks(rng, 4, 33, first_task=100)
    first = np.zeros(len(y), bool)
    for task in range(100, 104):
        idx = np.flatnonzero(t == task)
        first[idx[:6]] = True  # two shots per class
    model.adapt(X[first], y[first], task_ids=t[first])
    assert model.score(X[~first], y[~first], task_ids=t[~first]) > 0.8
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(
        restored.predict_proba(X, task_ids=t), model.predict_proba(X, task_ids=t)
    )


class _BodyHead(torch.nn.Module):
    """A user network: any nn.Module with a submodule named ``head``."""

    def __init__(self, n_inputs, n_outputs):
        super().__init__()
        self.body = torch.nn.Linear(n_inputs, 8)
        self.head = torch.nn.Linear(8, n_outputs)

    def forward(self, X):
        return self.head(torch.tanh(self.body(X)))


def test_custom_network_with_anil_adapts_its_head_only():
    model, rng = _fitted("anil", network=_BodyHead)
    assert set(model.meta_params_) == {
        "body.weight",
        "body.bias",
        "head.weight",
        "head.bias",
    }
    X, y, t = _sinusoids(rng, 1, 5, first_task=60)
    model.adapt(X, y, task_ids=t)
    i = int(np.searchsorted(model.tasks_, 60))
    for k, v in model.meta_params_.items():
        if k.startswith("body."):
            np.testing.assert_array_equal(model.task_params_[k][i], v)
        else:
            assert np.abs(model.task_params_[k][i] - v).max() > 1e-6
    assert model.predict(X, task_ids=t).shape == (5,)


def test_custom_network_errors_name_the_parameter():
    X, y, t = _sinusoids(np.random.default_rng(0), 3, 6)
    no_head = lambda n_in, n_out: torch.nn.Linear(n_in, n_out)  # noqa: E731
    wrong_width = lambda n_in, n_out: torch.nn.Linear(n_in, n_out + 1)  # noqa: E731
    with pytest.raises(ValueError, match="network.*'head'"):
        GradientMetaRegressor(**dict(SMALL, algorithm="anil", network=no_head)).fit(
            X, y, task_ids=t
        )
    with pytest.raises(ValueError, match=r"network must map .* shape \(2, 2\)"):
        GradientMetaRegressor(**dict(SMALL, network=wrong_width)).fit(X, y, task_ids=t)
    with pytest.raises(ValueError, match="network must build an nn.Module"):
        GradientMetaRegressor(**dict(SMALL, network=lambda a, b: 3)).fit(
            X, y, task_ids=t
        )


def test_grid_search_over_inner_lr_scored_on_new_tasks():
    # Almost no inner step cannot tell sinusoids apart; a real one can.
    from sklearn.model_selection import GridSearchCV

    from sklearn_mtl.meta import MetaTaskSplit, make_adapt_scorer

    X, y, t = _sinusoids(np.random.default_rng(1), 30, 15)
    search = GridSearchCV(
        GradientMetaRegressor(
            algorithm="fomaml",
            hidden_layer_sizes=(32, 32),
            inner_steps=3,
            meta_batch_size=8,
            n_meta_iter=120,
            meta_lr=3e-3,
            support_fraction=1 / 3,  # 5 of 15 rows, the shots scored below
            device="cpu",
            random_state=0,
            task_column=-1,
        ),
        {"inner_lr": [1e-5, 0.1]},
        cv=MetaTaskSplit(2, test_size=0.3, random_state=0, task_column=-1),
        scoring=make_adapt_scorer(5),
    ).fit(np.c_[X, t], y)
    assert search.best_params_ == {"inner_lr": 0.1}
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
