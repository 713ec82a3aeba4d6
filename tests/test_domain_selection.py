"""Model selection without target labels (issue 12, item 3).

Deep embedded validation and circular validation against hand computations
and on synthetic good/bad adaptations; the source/target and
leave-one-domain-out splitters; ``method="auto"``'s label-free choice; the
held-out errors of TrAdaBoost; ``use_target_labels=False``.
"""

import warnings

import numpy as np
import pytest
import sklearn
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import (
    GridSearchCV,
    StratifiedKFold,
    cross_validate,
)
from sklearn.tree import DecisionTreeClassifier

from sklearn_mtl.metrics._domain_validation import (
    make_circular_validation_scorer,
    make_deep_embedded_validation_scorer,
    make_target_scorer,
)
from sklearn_mtl.model_selection._domain_split import (
    LeaveOneDomainOut,
    SourceTargetShuffleSplit,
    pack_leave_one_domain_out,
)
from sklearn_mtl.transfer import TransferClassifier, TransferRegressor, _selection
from sklearn_mtl.transfer._boosting import fit_tradaboost_held_out
from sklearn_mtl.transfer._instance import tradaboost_update


def _translated(seed=0, n_source=120, n_target=80):
    """Two Gaussian classes; the target rotated by 60 degrees and moved by
    (4, -3): a source-only linear model fails, CORAL / linear OT help."""
    rng = np.random.RandomState(seed)

    def draw(n):
        y = rng.randint(2, size=n)
        X = rng.normal(size=(n, 2)) * [0.6, 1.0] + np.c_[3.0 * y - 1.5, np.zeros(n)]
        return X, y

    X_source, y_source = draw(n_source)
    X_target, y_target = draw(n_target)
    angle = np.pi / 3
    rotation = np.array(
        [[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]]
    )
    X_target = X_target @ rotation.T + [4.0, -3.0]
    X = np.vstack([X_source, X_target])
    domains = np.repeat(["s", "t"], [n_source, n_target])
    return X, np.r_[y_source, y_target], domains


def _hidden(y, domains):
    """Target labels hidden (NaN)."""
    return np.where(domains == "t", np.nan, y.astype(float))


# -- deep embedded validation ----------------------------------------------------


def _dev_by_hand(model, X_source, y_source, X_target, n_splits, clip, seed):
    """You et al. (2019), Algorithm 1 with a cross-fitted logistic discriminator,
    written with explicit sums."""
    Z = np.vstack([X_source, X_target])
    d = np.r_[np.zeros(len(X_source), int), np.ones(len(X_target), int)]
    logit = np.empty(len(Z))
    folds = StratifiedKFold(n_splits, shuffle=True, random_state=seed)
    for train, test in folds.split(Z, d):
        logit[test] = (
            LogisticRegression().fit(Z[train], d[train]).decision_function(Z[test])
        )
    n_s, n_t = len(X_source), len(X_target)
    # p(t|x) / p(s|x) = exp(logit); times n_s / n_t; clipped.
    w = np.clip(np.exp(logit[:n_s]) * n_s / n_t, 1 / clip, clip)
    proba = model.predict_proba(X_source)
    loss = -np.log(proba[np.arange(n_s), y_source])
    wl = w * loss
    cov = np.sum((wl - wl.mean()) * (w - w.mean())) / (n_s - 1)
    var = np.sum((w - w.mean()) ** 2) / (n_s - 1)
    eta = -cov / var
    return -(wl.mean() + eta * w.mean() - eta)


def test_deep_embedded_validation_by_hand():
    """Catches: eta's sign, a missing n_s/n_t factor, the discriminator
    scored on rows it was fitted on, the control variate dropped."""
    rng = np.random.RandomState(3)
    X_source = rng.normal(size=(90, 2))
    X_target = rng.normal(loc=[0.8, -0.4], scale=1.2, size=(50, 2))
    y_source = (X_source[:, 0] + 0.5 * rng.normal(size=90) > 0).astype(int)
    model = LogisticRegression(C=0.3).fit(X_source, y_source)
    X = np.vstack([X_source, X_target])
    y = np.r_[y_source, np.full(50, -1)]
    domains = np.repeat(["s", "t"], [90, 50])
    scorer = make_deep_embedded_validation_scorer("t", n_splits=3, clip=30.0)
    expected = _dev_by_hand(model, X_source, y_source, X_target, 3, 30.0, 0)
    assert scorer(model, X, y, task_ids=domains) == pytest.approx(expected, rel=1e-10)
    # The control variate changes the estimate here (it is not a no-op).
    plain = make_deep_embedded_validation_scorer("t", n_splits=3, clip=30.0)
    assert plain(model, X, y, task_ids=domains) != pytest.approx(
        -np.mean(-np.log(model.predict_proba(X_source)[np.arange(90), y_source]))
    )


def test_deep_embedded_validation_ranks_a_reweighting_above_source_only():
    """Covariate shift with a misspecified linear model: the density-ratio
    weighted fit is better on the target, and DEV (source rows only) says so."""
    rng = np.random.RandomState(0)
    x_source = rng.normal(0.0, 1.0, size=400)
    x_target = rng.normal(1.5, 0.5, size=300)
    x = np.r_[x_source, x_target][:, None]
    y = np.sin(2 * x[:, 0]) + x[:, 0] + 0.1 * rng.normal(size=700)
    domains = np.repeat(["s", "t"], [400, 300])
    y_hidden = _hidden(y, domains)
    good = TransferRegressor(Ridge(1e-3), method="discriminator", target="t")
    bad = TransferRegressor(Ridge(1e-3), method="source_only", target="t")
    good.fit(x, y_hidden, task_ids=domains)
    bad.fit(x, y_hidden, task_ids=domains)
    target = domains == "t"
    true_mse = [np.mean((m.predict(x[target]) - y[target]) ** 2) for m in (good, bad)]
    assert true_mse[0] < 0.8 * true_mse[1]
    scorer = make_deep_embedded_validation_scorer("t")
    assert scorer(good, x, y_hidden, task_ids=domains) > scorer(
        bad, x, y_hidden, task_ids=domains
    )


def test_deep_embedded_validation_is_finite_on_separable_domains():
    X, y, domains = _translated()
    X = X.copy()
    X[domains == "t"] += 100.0  # perfectly separable: weights hit the clip
    model = LogisticRegression().fit(X[domains == "s"], y[domains == "s"])
    value = make_deep_embedded_validation_scorer("t")(
        model, X, _hidden(y, domains), task_ids=domains
    )
    assert np.isfinite(value)


# -- circular validation ----------------------------------------------------------


def test_circular_validation_by_hand():
    """Catches: the backward model scored on the target (pseudo-labels) instead
    of the source's true labels; roles not swapped in the backward fit."""
    X, y, domains = _translated(seed=1)
    y_hidden = _hidden(y, domains)
    s, t = domains == "s", domains == "t"
    model = TransferClassifier(method="coral", target="t")
    model.fit(X, y_hidden, task_ids=domains)
    pseudo = model.predict(X[t])
    # Backward: the pseudo-labelled target is the source, the source the
    # (unlabelled) target, same method.
    backward = TransferClassifier(method="coral", target="back").fit(
        np.vstack([X[t], X[s]]),
        np.r_[pseudo, np.full(s.sum(), np.nan)],
        task_ids=np.repeat(["fwd", "back"], [t.sum(), s.sum()]),
    )
    expected = np.mean(backward.predict(X[s]) == y[s])
    scorer = make_circular_validation_scorer("t")
    assert scorer(model, X, y_hidden, task_ids=domains) == pytest.approx(expected)
    # A plain model: the backward model is fitted on the pseudo-labels alone.
    plain = LogisticRegression().fit(X, y)  # predicts both classes on the target
    back = LogisticRegression().fit(X[t], plain.predict(X[t]))
    assert scorer(plain, X, y_hidden, task_ids=domains) == pytest.approx(
        np.mean(back.predict(X[s]) == y[s])
    )


def test_circular_validation_ranks_an_alignment_above_source_only():
    X, y, domains = _translated(seed=2)
    y_hidden = _hidden(y, domains)
    t = domains == "t"
    scorer = make_circular_validation_scorer("t")
    scores, accuracy = {}, {}
    for method in ("source_only", "linear_ot"):
        model = TransferClassifier(method=method, target="t")
        model.fit(X, y_hidden, task_ids=domains)
        scores[method] = scorer(model, X, y_hidden, task_ids=domains)
        accuracy[method] = np.mean(model.predict(X[t]) == y[t])
    assert accuracy["linear_ot"] > accuracy["source_only"] + 0.15
    assert scores["linear_ot"] > scores["source_only"]


def test_circular_validation_one_predicted_class_is_finite():
    X, y, domains = _translated()
    model = LogisticRegression().fit(X[domains == "s"], y[domains == "s"])
    X = X.copy()
    X[domains == "t"] = [50.0, 0.0]  # every target row predicted class 1
    value = make_circular_validation_scorer("t")(
        model, X, _hidden(y, domains), task_ids=domains
    )
    assert value == pytest.approx(np.mean(y[domains == "s"] == 1))


def test_scorers_name_what_is_missing():
    X, y, domains = _translated()
    model = LogisticRegression().fit(X, y)
    for scorer in (
        make_circular_validation_scorer("t"),
        make_deep_embedded_validation_scorer("t"),
    ):
        with pytest.raises(ValueError, match="needs task_ids"):
            scorer(model, X, y)
        # Every source row unlabelled: nothing to score. (One unlabelled
        # source row is an error for deep embedded validation only: circular
        # validation adapts to it without scoring it.)
        y_bad = _hidden(y, domains)
        y_bad[domains == "s"] = np.nan
        with pytest.raises(ValueError, match="a source row to score has no label"):
            scorer(model, X, y_bad, task_ids=domains)
    y_bad = y.astype(float)
    y_bad[0] = np.nan
    with pytest.raises(ValueError, match="a source row to score has no label"):
        make_deep_embedded_validation_scorer("t")(model, X, y_bad, task_ids=domains)
    with pytest.raises(ValueError, match="every target row to score is unlabelled"):
        make_target_scorer("t")(model, X, _hidden(y, domains), task_ids=domains)


# -- splitters ----------------------------------------------------------------


def test_source_target_shuffle_split_takes_the_fraction_of_each_domain():
    _, _, domains = _translated()
    X = np.zeros((len(domains), 1))
    cv = SourceTargetShuffleSplit("t", n_splits=3, test_size=0.25, random_state=0)
    splits = list(cv.split(X, task_ids=domains))
    assert len(splits) == cv.get_n_splits() == 3
    for train, test in splits:
        assert not set(train) & set(test)
        assert len(train) + len(test) == len(domains)
        assert np.sum(domains[test] == "s") == 30
        assert np.sum(domains[test] == "t") == 20
    assert not np.array_equal(splits[0][1], splits[1][1])
    with pytest.raises(ValueError, match="target='x' is not among"):
        next(SourceTargetShuffleSplit("x").split(X, task_ids=domains))


def test_grid_search_with_source_target_split_and_circular_scorer():
    """Label-free model selection through scikit-learn's own search."""
    X, y, domains = _translated(seed=4)
    y_hidden = _hidden(y, domains)
    search = GridSearchCV(
        TransferClassifier(target="t"),
        {"method": ["source_only", "linear_ot"]},
        cv=SourceTargetShuffleSplit("t", n_splits=3, random_state=0),
        scoring=make_circular_validation_scorer("t"),
    )
    with sklearn.config_context(enable_metadata_routing=True):
        search.fit(X, y_hidden, task_ids=domains)
    assert search.best_params_ == {"method": "linear_ot"}
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))


def test_leave_one_domain_out_layout_and_cross_validate():
    """Catches: a target's labels used in training (the accuracy would be the
    supervised one); the target copy of another domain in the split."""
    rng = np.random.RandomState(5)
    X_parts, y_parts, d_parts = [], [], []
    for k, shift in enumerate([0.0, 3.0, -3.0]):
        X_k, y_k, _ = _translated(seed=10 + k, n_source=40, n_target=1)
        X_parts.append(X_k[:40] + shift)
        y_parts.append(y_k[:40])
        d_parts.append(np.full(40, f"d{k}"))
    X, y, task = np.vstack(X_parts), np.concatenate(y_parts), np.concatenate(d_parts)
    y = np.where(rng.uniform(size=120) < 0.0, 1 - y, y)
    X2, y2, tasks = pack_leave_one_domain_out(X, y, task)
    cv = LeaveOneDomainOut(source_test_size=0.25, random_state=0)
    assert cv.get_n_splits(X2, task_ids=tasks) == 3
    for k, (train, test) in enumerate(cv.split(X2, task_ids=tasks)):
        copies = np.flatnonzero(tasks == "target")
        mine = copies[task == f"d{k}"]
        assert set(mine) <= set(train) and set(mine) <= set(test)
        assert not set(copies) - set(mine) & (set(train) | set(test))
        sources_in = set(np.flatnonzero(tasks == f"d{k}")) & (set(train) | set(test))
        assert not sources_in
        held = [i for i in test if tasks[i] != "target"]
        assert len(held) == 20 and not set(held) & set(train)
    model = TransferClassifier(method="coral", target="target", use_target_labels=False)
    with sklearn.config_context(enable_metadata_routing=True):
        result = cross_validate(
            model,
            X2,
            y2,
            cv=cv,
            params={"task_ids": tasks},
            scoring={
                "accuracy": make_target_scorer("target"),
                "circular": make_circular_validation_scorer("target"),
            },
        )
    # By hand: the same fits with the target labels hidden.
    for k, (train, test) in enumerate(cv.split(X2, task_ids=tasks)):
        hidden = np.where(tasks[train] == "target", np.nan, y2[train].astype(float))
        hand = TransferClassifier(method="coral", target="target")
        hand.fit(X2[train], hidden, task_ids=tasks[train])
        rows = test[tasks[test] == "target"]
        assert result["test_accuracy"][k] == pytest.approx(
            np.mean(hand.predict(X2[rows]) == y2[rows])
        )
    assert np.all(np.isfinite(result["test_circular"]))
    with pytest.raises(ValueError, match="pack_leave_one_domain_out"):
        next(LeaveOneDomainOut().split(X2[:-1], task_ids=tasks[:-1]))


def test_use_target_labels_false_equals_hidden_labels():
    X, y, domains = _translated(seed=6)
    withheld = TransferClassifier(
        method="coral", target="t", use_target_labels=False
    ).fit(X, y, task_ids=domains)
    hidden = TransferClassifier(method="coral", target="t").fit(
        X, _hidden(y, domains), task_ids=domains
    )
    np.testing.assert_allclose(withheld.predict_proba(X), hidden.predict_proba(X))
    # With the labels used, the fit differs (they reach the loss).
    used = TransferClassifier(method="coral", target="t").fit(X, y, task_ids=domains)
    assert not np.allclose(used.predict_proba(X), hidden.predict_proba(X))


# -- method="auto" without target labels ----------------------------------------


def test_auto_without_labels_scores_candidates_as_documented():
    """Catches: the scorer applied to the source rows the candidates were
    fitted on; target labels reaching the candidates; folds not stratified or
    not reseeded per repeat; the worst candidate chosen."""
    X, y, domains = _translated(seed=7)
    y_hidden = _hidden(y, domains)
    model = TransferClassifier(
        target="t",
        n_repeats=2,
        unlabelled_scoring="circular",
        candidates=["source_only", "jda"],
    )
    model.fit(X, y_hidden, task_ids=domains)
    results = model.cv_results_
    assert "label-free" in model.selection_
    # By hand (reverse validation cross-fitted over the source rows): for
    # each repeat r, StratifiedKFold(3, shuffle, seed r) of the source rows;
    # each candidate fitted on the other folds and every target row (labels
    # hidden), scored by circular validation on every source row (labels of
    # the held-out fold only: the others are adapted to, not scored) and
    # every target row.
    s, t = np.flatnonzero(domains == "s"), np.flatnonzero(domains == "t")
    codes = np.where(domains == "s", 0, 1)
    scorer = make_circular_validation_scorer(1)
    folds = [
        (s[train], s[held])
        for seed in (0, 1)
        for train, held in StratifiedKFold(3, shuffle=True, random_state=seed).split(
            X[s], y[s]
        )
    ]
    assert len(folds) == 6
    for k, method in enumerate(results["method"]):
        for f, (train, _) in enumerate(folds):
            fit_rows, val_rows = np.r_[train, t], np.r_[s, t]
            candidate = TransferClassifier(method=method, target=1).fit(
                X[fit_rows], y_hidden[fit_rows], task_ids=codes[fit_rows]
            )
            y_val = y_hidden.copy()
            y_val[train] = np.nan
            expected = scorer(
                candidate, X[val_rows], y_val[val_rows], task_ids=codes[val_rows]
            )
            assert results[f"split{f}_score"][k] == pytest.approx(expected)
    means = results["mean_score"]
    assert means[list(results["method"]).index(model.method_)] == np.max(means)
    accuracy = np.mean(model.predict(X[t]) == y[t])
    source_only = TransferClassifier(method="source_only", target="t")
    source_only.fit(X, y_hidden, task_ids=domains)
    assert accuracy > np.mean(source_only.predict(X[t]) == y[t]) + 0.2


@pytest.mark.parametrize(
    "scoring",
    [
        "auto",
        "circular",
        "interpolation_consistency",
        "deep_embedded",
        "importance_weighted",
        "prediction_entropy",
        "soft_neighborhood_density",
    ],
)
def test_auto_label_free_scorings_run(scoring):
    X, y, domains = _translated(seed=8, n_source=60, n_target=40)
    model = TransferClassifier(
        target="t", unlabelled_scoring=scoring, candidates=["source_only", "coral"]
    )
    model.fit(X, _hidden(y, domains), task_ids=domains)
    assert model.method_ in set(model.cv_results_["method"])
    # "auto" is interpolation consistency for a classifier.
    resolved = "interpolation_consistency" if scoring == "auto" else scoring
    assert f"{resolved!r} scorer" in model.selection_


# -- TrAdaBoost with held-out errors ---------------------------------------------


def test_tradaboost_held_out_errors_by_hand():
    """Catches: in-sample mistakes (an unpruned tree never errs there, so no
    weight would move); the voter fitted on a fold instead of every row."""
    rng = np.random.RandomState(11)
    X = rng.uniform(-2, 2, size=(40, 1))
    is_source = np.r_[np.ones(28, bool), np.zeros(12, bool)]
    y = np.where(is_source, X[:, 0] > 0.7, X[:, 0] > 0).astype(int)
    y[rng.choice(40, 6, replace=False)] ^= 1
    tree = DecisionTreeClassifier(random_state=0)
    model = fit_tradaboost_held_out(
        tree, X, y, np.ones(40), is_source, np.array([0, 1]), 4, random_state=0
    )
    # By hand: folds stratified by (domain, class), fixed across rounds.
    key = 2 * is_source + y
    folds = list(StratifiedKFold(2, shuffle=True, random_state=0).split(X, key))
    beta_source = 1 / (1 + np.sqrt(2 * np.log(28) / 4))
    w = np.full(40, 1 / 40)
    voters, betas = [], []
    for _ in range(4):
        p = w / w.sum()
        wrong = np.zeros(40, bool)
        for train, test in folds:
            learner = DecisionTreeClassifier(random_state=0)
            learner.fit(X[train], y[train], sample_weight=p[train] * 40)
            wrong[test] = learner.predict(X[test]) != y[test]
        voters.append(
            DecisionTreeClassifier(random_state=0).fit(X, y, sample_weight=p * 40)
        )
        t = ~is_source
        eps = np.clip(np.sum(w[t] * wrong[t]) / np.sum(w[t]), 1e-10, 0.499)
        betas.append(eps / (1 - eps))
        w = tradaboost_update(w, wrong, is_source, beta_source, betas[-1])
    assert not np.allclose(w, w[0])  # weights moved
    np.testing.assert_allclose(model.learner_weights, np.log(1 / np.array(betas[2:])))
    grid = np.linspace(-2, 2, 41)[:, None]
    votes = np.array([v.predict_proba(grid)[:, 1] for v in voters[2:]])
    weights = np.log(1 / np.array(betas[2:]))
    np.testing.assert_allclose(
        model.predict_proba(grid)[:, 1], weights @ votes / weights.sum()
    )


def test_label_free_default_candidates_per_estimator_kind(monkeypatch):
    """Catches: classifiers falling back to the mappings (which circular
    validation favours whether or not they help) or regressors offered JDA
    or MEDA, which need classes."""
    X, y, domains = _translated(seed=3, n_source=60, n_target=40)
    y_hidden = _hidden(y, domains)
    classifier = TransferClassifier(target="t", n_repeats=1)
    with warnings.catch_warnings():
        # MEDA warns that 2 features allow one GFK component.
        warnings.simplefilter("ignore", UserWarning)
        classifier.fit(X, y_hidden, task_ids=domains)
    assert list(classifier.cv_results_["method"]) == ["source_only", "jda", "meda"]
    assert "meda left out" not in classifier.selection_
    # Above the size cap MEDA (O(n^2)) is left out of the defaults, and says so.
    monkeypatch.setattr(_selection, "_MEDA_DEFAULT_MAX_ROWS", len(X) - 1)
    classifier.fit(X, y_hidden, task_ids=domains)
    assert list(classifier.cv_results_["method"]) == ["source_only", "jda"]
    assert f"meda left out of the default candidates ({len(X)} rows" in (
        classifier.selection_
    )
    listed = TransferClassifier(
        target="t", n_repeats=1, candidates=["source_only", "meda"]
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        listed.fit(X, y_hidden, task_ids=domains)
    assert list(listed.cv_results_["method"]) == ["source_only", "meda"]
    regressor = TransferRegressor(target="t", n_repeats=1)
    regressor.fit(X, y_hidden, task_ids=domains)
    assert list(regressor.cv_results_["method"]) == [
        "source_only",
        "coral",
        "linear_ot",
        "subspace_alignment",
    ]


def test_domain_labels_are_read_by_the_task_convention():
    """Splitters and scorers find the target through the task convention's
    ``target_mask``: mixed label types are refused (never merged), a target
    matching a domain only as text is named as such."""
    from sklearn_mtl.metrics import make_prediction_entropy_scorer

    X = np.arange(8.0).reshape(4, 2)
    y = np.array([0, 1, 0, 1])
    # np.asarray would merge 1 and "1" into one domain '1'.
    with pytest.raises(ValueError, match="mixes label types"):
        pack_leave_one_domain_out(X, y, [1, "1", 1, "1"])
    with pytest.raises(ValueError, match="NaN or infinity"):
        pack_leave_one_domain_out(X, y, [0.0, np.nan, 0.0, 1.0])
    # Numbered domains with the default string target would give labels that
    # LeaveOneDomainOut then refuses: said at once, with the way out.
    with pytest.raises(ValueError, match="target=-1 for numbered domains"):
        pack_leave_one_domain_out(X, y, [0, 0, 1, 1])
    Xp, yp, tp = pack_leave_one_domain_out(X, y, [0, 0, 1, 1], target=-1)
    splits = list(LeaveOneDomainOut(target=-1).split(Xp, yp, task_ids=tp))
    assert len(splits) == 2

    domains = np.array([0, 0, 1, 1])
    split = SourceTargetShuffleSplit(target="1", n_splits=1, random_state=0)
    with pytest.raises(ValueError, match="matches 1 only as text"):
        next(split.split(X, y, task_ids=domains))

    model = LogisticRegression().fit(X, y)
    scorer = make_prediction_entropy_scorer(target="1")
    with pytest.raises(ValueError, match="matches 1 only as text"):
        scorer(model, X, y, task_ids=domains)
    # The right label scores the target rows only.
    proba = model.predict_proba(X[2:])
    entropy = -np.mean(np.sum(proba * np.log(proba), axis=1))
    assert make_prediction_entropy_scorer(target=1)(
        model, X, y, task_ids=domains
    ) == pytest.approx(-entropy)
