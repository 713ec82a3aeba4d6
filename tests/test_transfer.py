"""Transfer estimators: defining properties, the two source forms, errors."""

import numpy as np
import pytest
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression, Ridge, SGDRegressor
from sklearn.pipeline import make_pipeline
from sklearn.tree import DecisionTreeClassifier

from sklearn_mtl import TransferClassifier, TransferRegressor
from sklearn_mtl.transfer import (
    CORAL,
    FeatureAugmentation,
    SharedRepresentation,
    kmm_weights,
)
from sklearn_mtl.transfer._instance import tradaboost_update


@pytest.fixture
def shifted():
    """A large source and a small target whose model differs a little."""
    rng = np.random.RandomState(0)
    X = rng.normal(size=(215, 4))
    domain = np.repeat(["source", "target"], [200, 15])
    coef = np.where(
        domain[:, None] == "source", [1.0, 2.0, -1.0, 0.5], [1.3, 2.0, -1.0, 0.2]
    )
    y = np.sum(X * coef, axis=1) + 0.3 * rng.normal(size=215)
    return X, y, domain


def test_parameter_transfer_limits(shifted):
    X, y, domain = shifted
    target = domain == "target"
    tiny = TransferRegressor(method="parameter", target="target", alpha=1e-8)
    tiny.fit(X, y, task_ids=domain)
    ols = Ridge(alpha=1e-8).fit(X[target], y[target])
    np.testing.assert_allclose(tiny.estimator_.coef_[0], ols.coef_, rtol=1e-5)

    source = Ridge(alpha=1.0).fit(X[~target], y[~target])
    huge = TransferRegressor(method="parameter", target="target", alpha=1e10)
    huge.fit(X, y, task_ids=domain)
    np.testing.assert_allclose(huge.estimator_.coef_[0], source.coef_, atol=1e-6)
    # The intercept is refitted on the target (not penalized).
    residual = y[target] - X[target] @ source.coef_
    assert huge.estimator_.intercept_[0] == pytest.approx(residual.mean(), abs=1e-6)


def test_parameter_transfer_objective_is_as_documented(shifted):
    X, y, domain = shifted
    target = domain == "target"
    source = FrozenEstimator(Ridge().fit(X[~target], y[~target]))
    model = TransferRegressor(method="parameter", source_estimator=source, alpha=3.0)
    model.fit(X[target], y[target])
    w, b = model.estimator_.coef_[0], model.estimator_.intercept_[0]
    residual = y[target] - X[target] @ w - b
    # Stationarity of (1/2)||residual||^2 + (3/2)||w - w_src||^2 in w and b.
    grad_w = -X[target].T @ residual + 3.0 * (w - source.coef_)
    np.testing.assert_allclose(grad_w, 0.0, atol=1e-8)
    assert abs(residual.sum()) < 1e-8


@pytest.mark.parametrize("n_classes", [2, 3])
def test_logistic_parameter_transfer_limits(n_classes):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(300, 3))
    y = np.digitize(X[:, 0] + 0.3 * rng.normal(size=300), [-0.5, 0.5][: n_classes - 1])
    source = LogisticRegression(C=1.0).fit(X[:250], y[:250])
    huge = TransferClassifier(method="parameter", source_estimator=source, alpha=1e9)
    huge.fit(X[250:], y[250:])
    np.testing.assert_allclose(huge.estimator_.coef_, source.coef_, atol=1e-5)
    free = TransferClassifier(method="parameter", source_estimator=source, alpha=0.5)
    free.fit(X[250:], y[250:])
    assert np.linalg.norm(free.estimator_.coef_ - source.coef_) > 0.01
    proba = free.predict_proba(X[250:])
    assert proba.shape == (50, n_classes)
    # Stationarity of the documented objective: logistic loss on the target plus
    # (alpha/2)||w - w_src||^2, intercept unpenalized.
    onehot = np.eye(n_classes)[y[250:]]
    d_scores = (proba - onehot)[:, 1:] if n_classes == 2 else proba - onehot
    grad_coef = d_scores.T @ X[250:] + 0.5 * (free.estimator_.coef_ - source.coef_)
    np.testing.assert_allclose(grad_coef, 0.0, atol=1e-5)
    np.testing.assert_allclose(d_scores.sum(axis=0), 0.0, atol=1e-5)


def test_feature_augmentation_by_hand():
    X = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    augment = FeatureAugmentation(target="t").fit(X, task_ids=["s", "t", "s2"])
    np.testing.assert_array_equal(
        augment.transform(X, task_ids=["s", "t", "s2"]),
        [[1, 2, 1, 2, 0, 0], [3, 4, 0, 0, 3, 4], [5, 6, 5, 6, 0, 0]],
    )
    # Without task labels every row is a target row (prediction time).
    np.testing.assert_array_equal(augment.transform(X[:1]), [[1, 2, 0, 0, 1, 2]])
    with pytest.raises(ValueError, match="needs task_ids in fit"):
        FeatureAugmentation(target="t").fit(X)


def test_coral_matches_target_covariance():
    rng = np.random.RandomState(0)
    source = rng.normal(size=(300, 3)) @ [[2, 0, 0], [1, 1, 0], [0, 0, 0.5]]
    target = rng.normal(size=(100, 3)) @ [[0.5, 0.2, 0], [0, 1, 0], [0.3, 0, 2]] + 4
    X = np.vstack([source, target])
    domains = np.repeat(["s", "t"], [300, 100])
    coral = CORAL(target="t", regularization=0.0).fit(X, task_ids=domains)
    aligned = coral.transform(source, task_ids=np.repeat("s", 300))
    np.testing.assert_allclose(np.cov(aligned.T), np.cov(target.T), atol=1e-8)
    np.testing.assert_allclose(aligned.mean(axis=0), target.mean(axis=0), atol=1e-8)
    np.testing.assert_array_equal(coral.transform(target), target)


def test_kmm_weights_move_the_source_mean_to_the_target():
    # The weights' optimality and constraints are checked against a hand-solved
    # QP in test_transfer_math.py; here, the purpose: the reweighted source mean
    # moves most of the way to the target mean.
    rng = np.random.RandomState(0)
    source, target = rng.normal(size=(300, 2)), rng.normal(loc=1.0, size=(60, 2))
    beta = kmm_weights(source, target)
    weighted_mean = beta @ source / beta.sum()
    assert np.linalg.norm(weighted_mean - target.mean(axis=0)) < 0.5 * np.linalg.norm(
        source.mean(axis=0) - target.mean(axis=0)
    )


def test_tradaboost_reweighting_by_hand():
    weights = np.array([0.2, 0.2, 0.3, 0.3])
    wrong = np.array([True, False, True, False])
    is_source = np.array([True, True, False, False])
    updated = tradaboost_update(
        weights, wrong, is_source, beta_source=0.5, beta_target=0.25
    )
    np.testing.assert_allclose(updated, [0.1, 0.2, 1.2, 0.3])


def test_tradaboost_runs_for_both_tasks(shifted):
    X, y, domain = shifted
    model = TransferClassifier(
        DecisionTreeClassifier(max_depth=2), method="tradaboost", target="target"
    ).fit(X, y > 0, task_ids=domain)
    assert model.predict_proba(X[:3]).shape == (3, 2)
    regressor = TransferRegressor(
        method="tradaboost", target="target", n_estimators=4, random_state=0
    ).fit(X, y, task_ids=domain)
    assert regressor.score(X[domain == "target"], y[domain == "target"]) > 0.5


def test_auto_scores_by_repeated_cross_validation_on_the_target(shifted):
    from sklearn_mtl.model_selection import TaskKFold

    X, y, domain = shifted
    target = domain == "target"
    model = TransferRegressor(
        target="target", candidates=["target_only", "pooled", "parameter"]
    ).fit(X, y, task_ids=domain)
    # By hand: 3 repeats (seeds 0, 1, 2) of 3 shuffled TaskKFold folds of the
    # target rows (one task); sources always in training.
    Xt, yt = X[target], y[target]
    hand = {"target_only": [], "pooled": []}
    for seed in range(3):
        folds = TaskKFold(3, stratify=False, shuffle=True, random_state=seed).split(
            Xt, yt, task_ids=np.zeros(len(Xt))
        )
        for train, test in folds:
            alone = Ridge().fit(Xt[train], yt[train])
            pooled = Ridge().fit(
                np.vstack([X[~target], Xt[train]]), np.r_[y[~target], yt[train]]
            )
            hand["target_only"].append(
                -np.mean((alone.predict(Xt[test]) - yt[test]) ** 2)
            )
            hand["pooled"].append(-np.mean((pooled.predict(Xt[test]) - yt[test]) ** 2))
    results = model.cv_results_
    methods = list(results["method"])
    assert methods == ["target_only", "pooled", "parameter"]
    for method, scores in hand.items():
        row = methods.index(method)
        split = [results[f"split{k}_score"][row] for k in range(9)]
        np.testing.assert_allclose(split, scores)
        assert results["mean_score"][row] == pytest.approx(np.mean(scores))
        assert results["std_score"][row] == pytest.approx(np.std(scores))
        assert results["sem_score"][row] == pytest.approx(np.std(scores, ddof=1) / 3)
    assert results["rank_score"].tolist() == list(
        1 + np.argsort(np.argsort(-results["mean_score"]))
    )
    assert results["chosen"].sum() == 1
    assert methods[int(np.argmax(results["chosen"]))] == model.method_
    assert "repeated cross-validation" in results["rule"][0] == model.selection_
    # The shifted target's model differs a little: a source helps 15 rows.
    assert model.method_ != "target_only"


def test_auto_tie_goes_to_the_simplest_method_using_the_source(shifted):
    """Two methods whose fold scores agree within their paired standard error
    tie; the simpler (earlier in the documented order) wins even with the
    lower mean, and a clearly better method is never called a tie."""
    from sklearn_mtl.transfer._selection import _SIMPLICITY

    X, y, domain = shifted
    model = TransferRegressor(
        Ridge(alpha=1.0),
        target="target",
        candidates=["target_only", "source_only", "pooled", "parameter"],
    ).fit(X, y, task_ids=domain)
    results = model.cv_results_
    methods = list(results["method"])
    best = int(np.nanargmax(results["mean_score"]))
    splits = np.array(
        [[results[f"split{k}_score"][m] for k in range(9)] for m in range(4)]
    )
    difference = splits[best] - splits
    gap, sem = difference.mean(axis=1), difference.std(axis=1, ddof=1) / 3
    np.testing.assert_allclose(results["gap_to_best"], gap)
    np.testing.assert_array_equal(results["tied_with_best"], gap <= sem)
    tied = [m for m, t in zip(methods, gap <= sem) if t]
    assert model.method_ == min(tied, key=_SIMPLICITY.index)
    assert _SIMPLICITY[0] == "source_only" and _SIMPLICITY[-1] == "target_only"
    # Identical candidates are always tied (gap 0 <= 0): the order decides.
    same = TransferRegressor(
        target="target", candidates=["augment", "pooled"], n_repeats=2
    )
    same.fit(X, np.where(domain == "target", y, y), task_ids=domain)
    assert same.method_ in {"pooled", "augment"}
    if same.cv_results_["tied_with_best"].all():
        assert same.method_ == "pooled"


def test_auto_can_refuse_a_useless_source(shifted):
    X, y, domain = shifted
    # A source with an unrelated model must lose to target-only training.
    rng = np.random.RandomState(1)
    y_bad = y.copy()
    y_bad[domain == "source"] = rng.normal(scale=5, size=200)
    bad = TransferRegressor(
        target="target", candidates=["target_only", "source_only", "pooled"]
    )
    assert bad.fit(X, y_bad, task_ids=domain).method_ == "target_only"


def test_warm_start_and_finetune(shifted):
    X, y, domain = shifted
    sgd = TransferRegressor(
        SGDRegressor(max_iter=5, tol=None, random_state=0),
        method="warm_start",
        target="target",
    ).fit(X, y, task_ids=domain)
    assert sgd.score(X[domain == "target"], y[domain == "target"]) > 0.8
    pytest.importorskip("torch")
    from sklearn_mtl import MultiTaskRegressor

    network = MultiTaskRegressor(
        hidden_layer_sizes=(16,), max_epochs=20, random_state=0
    )
    frozen = TransferRegressor(
        network, method="finetune", target="target", freeze_trunk=True
    ).fit(X, y, task_ids=domain)
    source_net = MultiTaskRegressor(
        hidden_layer_sizes=(16,), max_epochs=20, random_state=0
    )
    source_net.fit(X[domain == "source"], y[domain == "source"])
    import torch

    copied = frozen.estimator_.net_.module_.network.trunk.state_dict()
    assert all(
        not p.requires_grad
        for p in frozen.estimator_.net_.module_.network.trunk.parameters()
    )
    original = source_net.net_.module_.network.trunk.state_dict()
    for key in copied:  # frozen: the target network kept the source trunk
        assert torch.allclose(copied[key], original[key])


def test_finetune_freezes_the_first_layers(shifted):
    pytest.importorskip("torch")
    from sklearn_mtl import MultiTaskRegressor

    X, y, domain = shifted
    network = MultiTaskRegressor(
        hidden_layer_sizes=(16, 8), max_epochs=5, random_state=0
    )
    model = TransferRegressor(
        network, method="finetune", target="target", freeze_trunk=1
    )
    model.fit(X, y, task_ids=domain)
    first, second = model.estimator_.net_.module_.network.trunk.layers[::2][:2]
    assert not first.weight.requires_grad and second.weight.requires_grad


def test_shared_representation_in_a_pipeline(shifted):
    pytest.importorskip("torch")
    from sklearn_mtl import MultiTaskRegressor

    X, y, domain = shifted
    network = MultiTaskRegressor(max_epochs=10, random_state=0).fit(
        X, y, task_ids=domain
    )
    pipe = make_pipeline(SharedRepresentation(network, prefit=True), Ridge())
    pipe.fit(X[domain == "target"], y[domain == "target"])
    assert pipe.predict(X[:3]).shape == (3,)


def test_clear_errors(shifted):
    X, y, domain = shifted
    with pytest.raises(ValueError, match="target='nope' is not among the tasks"):
        TransferRegressor(target="nope").fit(X, y, task_ids=domain)
    with pytest.raises(ValueError, match="set target"):
        TransferRegressor().fit(X, y, task_ids=domain)
    few = np.r_[np.zeros(len(y) - 1), 1]
    with pytest.raises(ValueError, match="at least 2 target rows"):
        TransferRegressor(target=1.0).fit(X, y, task_ids=few)
    with pytest.raises(ValueError, match="at least 2 labelled target samples"):
        TransferRegressor(target=1.0, allow_unlabelled=False).fit(X, y, task_ids=few)
    source = Ridge().fit(X[:, :3], y)
    with pytest.raises(
        ValueError, match="fitted on 3 features but the target data has 4"
    ):
        TransferRegressor(source_estimator=source).fit(X, y)
    with pytest.raises(ValueError, match="needs source data"):
        TransferRegressor(method="kmm", source_estimator=Ridge().fit(X, y)).fit(X, y)
    with pytest.raises(ValueError, match="needs a source"):
        TransferRegressor(method="parameter").fit(X, y)
    with pytest.raises(ValueError, match="needs estimator to be a MultiTaskRegressor"):
        TransferRegressor(method="finetune", target="target").fit(X, y, task_ids=domain)


# -- silent failures and deep tracebacks (issue 11, sections 1 and 2) ----------


def test_empty_candidates_raise_naming_candidates(shifted):
    X, y, domain = shifted
    with pytest.raises(ValueError, match="candidates is empty"):
        TransferRegressor(target="target", candidates=[]).fit(X, y, task_ids=domain)
    # Candidates that the given source cannot run are an error too, not a
    # silent fall-back to target-only.
    source = Ridge().fit(X, y)
    with pytest.raises(ValueError, match="None of candidates"):
        TransferRegressor(source_estimator=source, candidates=["kmm", "coral"]).fit(
            X[:20], y[:20]
        )


@pytest.mark.parametrize(
    "target, match",
    [
        ("absent", "target='absent' is not among the tasks"),
        (1, "matches '1' only as text"),
        (None, "needs target"),
        (["t"], "single task label"),
    ],
)
@pytest.mark.parametrize("transformer", [FeatureAugmentation, CORAL])
def test_domain_transformers_reject_a_target_that_is_not_a_task(
    transformer, target, match
):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(20, 2))
    task_ids = np.repeat(["0", "1"], 10)
    with pytest.raises(ValueError, match=match):
        transformer(target=target).fit(X, task_ids=task_ids)


def test_domain_transformers_reject_unknown_labels_in_transform():
    X = np.arange(8.0).reshape(4, 2)
    augment = FeatureAugmentation(target=1).fit(X, task_ids=[0, 0, 1, 1])
    # Labels of another type would otherwise make every row a source row.
    with pytest.raises(ValueError, match="another type|not seen during fit"):
        augment.transform(X, task_ids=["0", "0", "1", "1"])
    np.testing.assert_array_equal(
        augment.transform(X, task_ids=[1, 1, 0, 0])[:, 2:4],
        [[0, 0], [0, 0], X[2], X[3]],
    )


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: CORAL(target="t", regularization=-1), "regularization"),
        (lambda: CORAL(target="t", regularization="big"), "regularization"),
        (lambda: FeatureAugmentation(target="t").set_params(nope=1), "nope"),
    ],
)
def test_transformer_parameters_are_validated(make, match):
    X = np.random.RandomState(0).normal(size=(10, 2))
    with pytest.raises(ValueError, match=match):
        make().fit(X, task_ids=np.repeat(["s", "t"], 5))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"gamma": -1.0}, "gamma"),
        ({"bound": 0.0}, "bound"),
        ({"epsilon": -0.1}, "epsilon"),
    ],
)
def test_kmm_weights_validates_its_parameters(kwargs, match):
    rng = np.random.RandomState(0)
    with pytest.raises(ValueError, match=match):
        kmm_weights(rng.normal(size=(10, 2)), rng.normal(size=(5, 2)), **kwargs)
    with pytest.raises(ValueError, match="X_source has 2 features but X_target has 3"):
        kmm_weights(rng.normal(size=(10, 2)), rng.normal(size=(5, 3)))
    with pytest.raises(ValueError, match="NaN"):
        kmm_weights(np.full((4, 2), np.nan), rng.normal(size=(5, 2)))


def test_fit_parameter_transfer_validates_its_parameters():
    from sklearn_mtl.transfer import fit_parameter_transfer

    X, y = np.eye(3), np.arange(3.0)
    with pytest.raises(ValueError, match="alpha"):
        fit_parameter_transfer(X, y, None, np.zeros(3), alpha=-1.0)
    with pytest.raises(ValueError, match="source_coef has shape"):
        fit_parameter_transfer(X, y, None, np.zeros(2), alpha=1.0)


def test_warm_start_starts_from_a_fitted_source_estimator(shifted):
    X, y, domain = shifted
    target = domain == "target"
    source = SGDRegressor(random_state=0).fit(X[~target], y[~target])
    # A step size of ~0 leaves the coefficients where they start: the source's.
    still = SGDRegressor(
        learning_rate="constant", eta0=1e-12, max_iter=1, tol=None, random_state=0
    )
    model = TransferRegressor(
        still, method="warm_start", source_estimator=FrozenEstimator(source)
    ).fit(X[target], y[target])
    np.testing.assert_allclose(model.estimator_.coef_, source.coef_, rtol=1e-6)
    np.testing.assert_allclose(model.estimator_.intercept_, source.intercept_)
    # A warm_start estimator of the source's class continues from its state.
    logistic_source = LogisticRegression().fit(X[~target], y[~target] > 0)
    model = TransferClassifier(
        LogisticRegression(max_iter=1, C=1e-12),
        method="warm_start",
        source_estimator=logistic_source,
    )
    with pytest.warns(Warning):  # one iteration does not converge
        model.fit(X[target], y[target] > 0)
    assert np.corrcoef(model.estimator_.coef_[0], logistic_source.coef_[0])[0, 1] > 0.99
    assert logistic_source.warm_start is False  # the user's model is untouched
    with pytest.raises(ValueError, match="needs a linear source model"):
        TransferRegressor(
            SGDRegressor(),
            method="warm_start",
            source_estimator=DecisionTreeClassifier().fit(X, y > 0),
        ).fit(X[target], y[target])


def test_shared_representation_rejects_a_non_multitask_estimator(shifted):
    X, y, _ = shifted
    for prefit, network in [(False, Ridge()), (True, Ridge().fit(X, y))]:
        with pytest.raises(ValueError, match="needs network to be a multi-task.*Ridge"):
            SharedRepresentation(network, prefit=prefit).fit(X, y)


def test_shared_representation_uses_each_rows_own_mmoe_gate(shifted):
    torch = pytest.importorskip("torch")
    from sklearn_mtl import MultiTaskRegressor

    X, y, domain = shifted
    network = MultiTaskRegressor(
        architecture="mmoe",
        n_experts=3,
        hidden_layer_sizes=(8,),
        max_epochs=2,
        random_state=0,
        device="cpu",  # the hand computation below runs on CPU tensors
    ).fit(X, y, task_ids=domain)
    module = network.net_.module_.network
    with torch.no_grad():  # distinct gates per task, so the task matters
        module.gate_weight.copy_(torch.randn(module.gate_weight.shape) * 2)
    shared = SharedRepresentation(network, prefit=True).fit(X)
    features = shared.transform(X, task_ids=domain)
    # By hand: each row's experts mixed by the softmax gate of its own task.
    X_t = torch.as_tensor(X, dtype=torch.float32)
    experts = torch.stack([e(X_t) for e in module.experts], dim=1).detach().numpy()
    task_index = (domain == "target").astype(int)
    logits = (
        np.einsum("nd,ned->ne", X, module.gate_weight.detach().numpy()[task_index])
        + module.gate_bias.detach().numpy()[task_index]
    )
    gates = np.exp(logits - logits.max(1, keepdims=True))
    gates /= gates.sum(1, keepdims=True)
    expected = np.einsum("ne,neh->nh", gates, experts)
    np.testing.assert_allclose(features, expected, rtol=1e-4, atol=1e-5)
    source_gate = shared.transform(X, task_ids=np.repeat("source", len(X)))
    assert np.abs(source_gate - features)[domain == "target"].max() > 1e-3
    # Without labels a task-dependent representation is ambiguous: refuse ...
    with pytest.raises(ValueError, match="pass task_ids"):
        shared.transform(X)
    # ... unless ``task`` says which task to represent.
    target_rows = SharedRepresentation(network, prefit=True, task="target").fit(X)
    np.testing.assert_allclose(
        target_rows.transform(X[domain == "target"]), features[domain == "target"]
    )
    with pytest.raises(ValueError, match="task='nope' is not among the tasks"):
        SharedRepresentation(network, prefit=True, task="nope").fit(X)


# -- "auto" speed: cheap defaults, nothing source-derived refitted per fold -----


def test_auto_default_candidates_are_the_cheap_methods(shifted):
    X, y, domain = shifted
    model = TransferRegressor(target="target").fit(X, y, task_ids=domain)
    assert set(model.cv_results_["method"]) == {
        "target_only",
        "source_only",
        "pooled",
        "parameter",
        "augment",
        "coral",
    }


def test_auto_computes_source_derived_pieces_once(shifted, monkeypatch):
    from sklearn_mtl.transfer import _estimators

    X, y, domain = shifted
    calls = {"kmm": 0, "coral": 0, "source fits": 0}
    kmm = _estimators.kmm_weights

    def counting_kmm(X_source, X_target, **kwargs):
        calls["kmm"] += 1
        # Every fold and the refit use the features of all target rows.
        assert len(X_target) == np.sum(domain == "target")
        return kmm(X_source, X_target, **kwargs)

    coral_sources = _estimators._coral_sources

    def counting_coral(split, X_target):
        calls["coral"] += 1
        return coral_sources(split, X_target)

    class CountingRidge(Ridge):
        def fit(self, X, y, sample_weight=None):
            calls["source fits"] += len(X) == 200  # the source rows alone
            return super().fit(X, y, sample_weight=sample_weight)

    monkeypatch.setattr(_estimators, "kmm_weights", counting_kmm)
    monkeypatch.setattr(_estimators, "_coral_sources", counting_coral)
    TransferRegressor(
        CountingRidge(),
        target="target",
        candidates=["source_only", "parameter", "coral", "kmm"],
    ).fit(X, y, task_ids=domain)
    assert calls == {"kmm": 1, "coral": 1, "source fits": 1}
    # The shared KMM weights are those of a direct "kmm" fit: same model.
    direct = TransferRegressor(Ridge(), method="kmm", target="target")
    direct.fit(X, y, task_ids=domain)
    auto_kmm = TransferRegressor(Ridge(), target="target", candidates=["kmm"]).fit(
        X, y, task_ids=domain
    )
    np.testing.assert_allclose(auto_kmm.estimator_.coef_, direct.estimator_.coef_)


def test_auto_tie_rule_on_designed_fold_scores(shifted, monkeypatch):
    """Fold scores set by hand: target_only has the best mean, coral and
    pooled lie within one paired standard error of it, source_only far below.
    The simplest tied method that uses the source (pooled) wins.

    Catches: a tie without the standard error (target_only would win); the
    most complex tied method chosen; an unpaired standard error.
    """
    from sklearn_mtl.transfer._selection import _MethodSelectionMixin

    base = np.array([0.80, 0.90, 0.70, 0.85, 0.75, 0.80, 0.90, 0.70, 0.80])
    swing = np.array([0.1, -0.1, 0.1, -0.1, 0.1, -0.1, 0.1, -0.1, 0.1])
    fold_scores = {
        "target_only": base + swing,
        "coral": base,
        "pooled": base - np.r_[swing[:-1], 0.05],
        "source_only": base - 0.2,
    }
    monkeypatch.setattr(
        _MethodSelectionMixin,
        "_fold_scores",
        lambda self, method, split, cache, folds: fold_scores[method].copy(),
    )
    X, y, domain = shifted
    model = TransferRegressor(target="target", candidates=list(fold_scores))
    model.fit(X, y, task_ids=domain)
    results = model.cv_results_
    gaps = {m: fold_scores["target_only"] - s for m, s in fold_scores.items()}
    for row, method in enumerate(results["method"]):
        gap = gaps[method]
        assert results["gap_to_best"][row] == pytest.approx(gap.mean())
        assert results["gap_sem"][row] == pytest.approx(gap.std(ddof=1) / 3)
    assert results["tied_with_best"].tolist() == [True, True, True, False]
    assert results["rank_score"].tolist() == [1, 2, 3, 4]
    assert model.method_ == "pooled"
