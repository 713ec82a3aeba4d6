"""``method="auto"`` without target labels: label-free scores cross-fitted
over source folds (interpolation consistency for classifiers, reverse
validation for regressors), the tie rule on its fold scores, and the soft
neighbourhood density and interpolation consistency scorers (issue 12,
item 3).

Hand computations on designed cases; each test names the mistakes it catches.
"""

import warnings

import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.model_selection import StratifiedKFold

from sklearn_mtl.metrics._domain_scorers import (
    interpolation_consistency,
    make_interpolation_consistency_scorer,
    make_soft_neighborhood_density_scorer,
    soft_neighborhood_density,
)
from sklearn_mtl.metrics._domain_validation import make_circular_validation_scorer
from sklearn_mtl.transfer import TransferClassifier, TransferRegressor
from sklearn_mtl.transfer._label_free import source_folds

# -- soft neighbourhood density ---------------------------------------------------


class _FixedProba(ClassifierMixin, BaseEstimator):
    """A "fitted" classifier whose probabilities are a table indexed by the
    row's first feature (so the scorer's target rows pick known rows)."""

    def __init__(self, table=None):
        self.table = table

    def fit(self, X, y):
        self.classes_ = np.arange(self.table.shape[1])
        return self

    def predict_proba(self, X):
        return self.table[np.asarray(X)[:, 0].astype(int)]

    def predict(self, X):
        return self.predict_proba(X).argmax(axis=1)


def _snd_by_hand(proba, temperature):
    """Saito et al. (2021), eq. 1-3, with explicit loops."""
    n = len(proba)
    f = [p / np.sqrt(np.sum(p**2)) for p in proba]
    total = 0.0
    for i in range(n):
        logits = [np.dot(f[i], f[j]) / temperature for j in range(n) if j != i]
        weights = np.exp(np.array(logits) - max(logits))
        p = weights / weights.sum()
        total += -np.sum(p * np.log(p))
    return total / n


_PROBA = np.array(
    [
        [0.7, 0.2, 0.1],
        [0.6, 0.3, 0.1],
        [0.1, 0.8, 0.1],
        [0.2, 0.2, 0.6],
        [0.05, 0.05, 0.9],
        [0.3, 0.4, 0.3],
    ]
)


def test_soft_neighborhood_density_by_hand():
    """Catches: the row's similarity to itself kept (or negated, as skada
    does); the softmax over the whole matrix instead of per row; the
    temperature ignored (T = 0.3, not the default); rows not L2-normalized;
    a block boundary dropping or double-counting rows."""
    expected = _snd_by_hand(_PROBA, 0.3)
    assert soft_neighborhood_density(_PROBA, 0.3) == pytest.approx(expected)
    assert soft_neighborhood_density(_PROBA, 0.3, block_size=4) == pytest.approx(
        expected
    )
    # Through the scorer: source rows are ignored, target rows are those of
    # task "t"; the model's probabilities of rows 0..5.
    X = np.r_[[9.0, 9.0], [0.0, 0.0], [1.0, 0.0], [2.0, 0], [3, 0], [4, 0], [5, 0]]
    X = X.reshape(-1, 2)
    model = _FixedProba(np.vstack([_PROBA, [[1 / 3] * 3] * 4])).fit(X, None)
    tasks = np.r_[["s"], ["t"] * 6]
    y = np.r_[0.0, [np.nan] * 6]
    scorer = make_soft_neighborhood_density_scorer("t", temperature=0.3)
    assert scorer(model, X, y, task_ids=tasks) == pytest.approx(expected)
    # The paper's default temperature.
    assert make_soft_neighborhood_density_scorer("t")(
        model, X, y, task_ids=tasks
    ) == pytest.approx(_snd_by_hand(_PROBA, 0.05))


def test_soft_neighborhood_density_ranks_a_good_boundary_above_a_bad_one():
    """Two well-separated target clusters: a model whose boundary runs between
    them (each row's soft neighbourhood spreads evenly over its own cluster:
    entropy log(n/2 - 1)) scores above one whose boundary cuts through both.
    And the documented failure mode: predictions collapsed onto one class
    reach the maximum log(n - 1) (SND alone cannot tell a collapsed model).
    Catches: the sign (lower entropy scored as better)."""
    rng = np.random.RandomState(0)
    n = 40
    cluster = np.repeat([0, 1], n // 2)
    X_target = rng.normal(size=(n, 2)) * 0.5 + np.c_[4.0 * cluster, np.zeros(n)]
    X_source = rng.normal(size=(100, 2)) * 2.0
    good = LogisticRegression().fit(X_source, (X_source[:, 0] > 2).astype(int))
    bad = LogisticRegression().fit(X_source, (X_source[:, 1] > 0).astype(int))
    X = np.vstack([X_source, X_target])
    y = np.r_[(X_source[:, 0] > 2).astype(float), np.full(n, np.nan)]
    tasks = np.repeat(["s", "t"], [100, n])
    scorer = make_soft_neighborhood_density_scorer("t")
    good_score = scorer(good, X, y, task_ids=tasks)
    assert good_score == pytest.approx(np.log(n // 2 - 1), abs=1e-3)
    assert good_score > scorer(bad, X, y, task_ids=tasks) + 0.03
    collapsed = np.tile([0.99, 0.01], (n, 1))
    assert soft_neighborhood_density(collapsed) == pytest.approx(np.log(n - 1))


def test_soft_neighborhood_density_errors():
    with pytest.raises(ValueError, match="at least 3 target rows"):
        soft_neighborhood_density(_PROBA[:2])
    with pytest.raises(ValueError, match="temperature"):
        make_soft_neighborhood_density_scorer("t", temperature=0.0)


# -- circular validation with unlabelled source rows --------------------------------


def test_circular_validation_adapts_to_unlabelled_source_rows_scores_labelled():
    """Catches: the backward model adapting to the labelled source rows only;
    unlabelled source rows scored (or their NaN labels compared); every
    source row unlabelled accepted silently."""
    X, y, tasks = _shifted_blobs(seed=3)
    s = np.flatnonzero(tasks == "s")
    t = np.flatnonzero(tasks == "t")
    labels = y[s].copy()
    model = TransferClassifier(method="coral", target="t").fit(X, y, task_ids=tasks)
    # Only every third source row keeps its label for scoring.
    scored = s[::3]
    y_val = np.full(len(y), np.nan)
    y_val[scored] = y[scored]
    # By hand: pseudo-label the target; the backward CORAL adapts from the
    # pseudo-labelled target to *every* source row; accuracy on the scored
    # rows.
    pseudo = model.predict(X[t])
    backward = TransferClassifier(method="coral", target="back").fit(
        np.vstack([X[t], X[s]]),
        np.r_[pseudo, np.full(len(s), np.nan)],
        task_ids=np.repeat(["fwd", "back"], [len(t), len(s)]),
    )
    expected = np.mean(backward.predict(X[scored]) == labels[::3])
    scorer = make_circular_validation_scorer("t")
    assert scorer(model, X, y_val, task_ids=tasks) == pytest.approx(expected)
    # Adapting to the scored rows alone differs on this shift.
    alone = TransferClassifier(method="coral", target="back").fit(
        np.vstack([X[t], X[scored]]),
        np.r_[pseudo, np.full(len(scored), np.nan)],
        task_ids=np.repeat(["fwd", "back"], [len(t), len(scored)]),
    )
    assert not np.allclose(
        alone.predict_proba(X[scored]), backward.predict_proba(X[scored])
    )
    y_none = np.full(len(y), np.nan)
    with pytest.raises(ValueError, match="source row to score has no label"):
        scorer(model, X, y_none, task_ids=tasks)


# -- the tie rule on label-free fold scores ---------------------------------------


def _decide(candidates, scores):
    model = TransferClassifier(target="t")
    chosen = model._decide(list(candidates), np.asarray(scores, float), "designed")
    return chosen, model.cv_results_


def test_tie_rule_on_designed_fold_scores():
    """Catches: ties decided by the higher mean; an unpaired standard error
    (the best's own spread, here far larger than the paired one); the
    standard deviation instead of the standard error; a strict '<' that
    makes an exact tie (gap = its standard error) a win."""
    # JDA's mean is higher by 0.02 on every fold pair but one: paired gaps
    # (0.03, 0.03, 0.00) -> mean 0.02, SE = 0.01 (sd sqrt(3) * 0.01 / sqrt(3)).
    # The folds themselves swing by 0.2, so an unpaired SE would call a tie.
    jda = [0.83, 0.63, 0.73]
    source_only = [0.80, 0.60, 0.73]
    chosen, results = _decide(["jda", "source_only"], [jda, source_only])
    assert chosen == "jda"
    gaps = np.array([0.03, 0.03, 0.0])
    assert results["gap_to_best"][1] == pytest.approx(gaps.mean())
    assert results["gap_sem"][1] == pytest.approx(gaps.std(ddof=1) / np.sqrt(3))
    assert list(results["tied_with_best"]) == [True, False]
    for k in range(3):
        assert results[f"split{k}_score"][0] == jda[k]
    # Noisy gaps (0.10, -0.08, 0.04): mean 0.02 < SE 0.053 -> a tie, and the
    # simpler method wins although its mean is lower.
    chosen, results = _decide(
        ["jda", "source_only"], [[0.90, 0.52, 0.77], [0.80, 0.60, 0.73]]
    )
    assert chosen == "source_only"
    assert list(results["tied_with_best"]) == [True, True]
    assert results["rank_score"].tolist() == [1, 2]
    # A gap exactly equal to its standard error is a tie: gaps (0, 0, 3c) have
    # mean c and SE c.
    chosen, _ = _decide(["jda", "source_only"], [[0.5, 0.5, 0.8], [0.5, 0.5, 0.5]])
    assert chosen == "source_only"
    # Three candidates: the simplest *tied* one, not the simplest overall.
    chosen, results = _decide(
        ["source_only", "tca", "jda"],
        [[0.50, 0.52, 0.51], [0.70, 0.60, 0.75], [0.72, 0.58, 0.80]],
    )
    assert list(results["tied_with_best"]) == [False, True, True]
    assert chosen == "tca"


def test_label_free_tie_goes_to_the_simpler_method_end_to_end():
    """Two candidates whose fits are identical (coral and linear_ot align the
    same Gaussian moments only approximately, but source_only twice is
    exact): an exact tie on every fold -> the simpler one."""
    X, y, tasks = _shifted_blobs()
    model = TransferClassifier(
        target="t", candidates=["pooled", "source_only"], n_repeats=1
    )
    model.fit(X, y, task_ids=tasks)
    # Without target labels "pooled" fits the source rows only, as
    # source_only does: the same scores on every fold.
    results = model.cv_results_
    assert results["mean_score"][0] == pytest.approx(results["mean_score"][1])
    assert model.method_ == "source_only"
    assert results["tied_with_best"].all()


# -- source folds and the estimators around them ----------------------------------


def test_source_folds_stratify_reseed_and_fall_back():
    """Catches: folds not stratified by class; the same seed in every repeat;
    stratification forced on a class smaller than the fold count; folds of
    fewer than 2 rows."""
    y = np.repeat([0.0, 1.0, 2.0], [9, 6, 3])
    folds = source_folds(y, 3, 2, classifier=True)
    assert len(folds) == 6
    for train, held in folds:
        assert np.bincount(y[held].astype(int)).tolist() == [3, 2, 1]
        assert sorted(np.r_[train, held]) == list(range(18))
    assert not np.array_equal(folds[0][1], folds[3][1])
    # A class of 2 rows cannot be stratified over 3 folds: plain k-fold.
    y_small = np.r_[y, 3.0, 3.0]
    folds = source_folds(y_small, 3, 1, classifier=True)
    assert len(folds) == 3
    # Regression: plain k-fold; 3 rows cannot make 2 folds of 2 rows.
    assert len(source_folds(np.arange(10.0), 3, 1, classifier=False)) == 3
    assert source_folds(np.arange(3.0), 3, 1, classifier=False) == []


def _shifted_blobs(seed=0, n_source=60, n_target=40):
    rng = np.random.RandomState(seed)
    y_source = rng.randint(2, size=n_source)
    X_source = (
        rng.normal(size=(n_source, 2)) + np.c_[3.0 * y_source, np.zeros(n_source)]
    )
    y_target = rng.randint(2, size=n_target)
    X_target = rng.normal(size=(n_target, 2))
    X_target[:, 0] += 3.0 * y_target
    X = np.vstack([X_source, X_target + [1.0, 2.0]])
    y = np.r_[y_source.astype(float), np.full(n_target, np.nan)]
    return X, y, np.repeat(["s", "t"], [n_source, n_target])


def test_label_free_auto_regressor_keeps_the_mappings():
    """Regressors: the mappings as candidates (JDA needs classes), fold
    scores for each, finite, and the choice among them."""
    rng = np.random.RandomState(1)
    X_source = rng.normal(size=(60, 3))
    X_target = rng.normal(size=(40, 3)) * 2.0 + 1.0
    coef = np.array([1.0, -2.0, 0.5])
    X = np.vstack([X_source, X_target])
    y = np.r_[X_source @ coef, np.full(40, np.nan)]
    tasks = np.repeat(["s", "t"], [60, 40])
    model = TransferRegressor(LinearRegression(), target="t", n_repeats=2)
    model.fit(X, y, task_ids=tasks)
    results = model.cv_results_
    assert list(results["method"]) == [
        "source_only",
        "coral",
        "linear_ot",
        "subspace_alignment",
    ]
    assert all(f"split{k}_score" in results for k in range(6))
    assert np.isfinite(results["mean_score"]).all()
    assert model.method_ in results["method"]
    assert model.predict(X_target).shape == (40,)


def test_label_free_auto_with_too_few_source_rows_takes_the_simplest():
    X, y, tasks = _shifted_blobs(n_source=3, n_target=10)
    y[:3] = [0.0, 1.0, 0.0]
    model = TransferClassifier(target="t", candidates=["coral", "source_only"])
    model.fit(X, y, task_ids=tasks)
    assert model.method_ == "source_only"
    assert "too few source rows" in model.selection_
    assert np.isnan(model.cv_results_["mean_score"]).all()


# -- interpolation consistency (MixVal) ---------------------------------------------


class _Stripes(ClassifierMixin, BaseEstimator):
    """Class ``floor(x0) mod 3``: non-convex class regions, so intra-cluster
    probes can fail too."""

    def fit(self, X, y):
        self.classes_ = np.arange(3)
        return self

    def predict(self, X):
        return np.floor(np.asarray(X)[:, 0]).astype(int) % 3


def _ice_by_hand(rule, X, mix_ratio, n_permutations, seed):
    """MixVal's probes with explicit loops: pass rates (inter, intra)."""
    rng = np.random.RandomState(seed)
    permutations = [rng.permutation(len(X)) for _ in range(n_permutations)]
    passed = {"inter": [], "intra": []}
    fixed_points = 0
    for permutation in permutations:
        for a, b in enumerate(permutation):
            if a == b:
                fixed_points += 1
                continue
            label_a, label_b = rule(X[[a]])[0], rule(X[[b]])[0]
            mixed = mix_ratio * X[a] + (1 - mix_ratio) * X[b]
            kind = "inter" if label_a != label_b else "intra"
            passed[kind].append(rule(mixed[None])[0] == label_a)
    assert fixed_points > 0  # the case exercises the skipped self-pairs
    return np.mean(passed["inter"]), np.mean(passed["intra"])


def test_interpolation_consistency_by_hand():
    """Catches: the mix weighted towards the partner; the partner's label as
    the expected one; inter and intra probes swapped; a row mixed with itself
    counted as a (passed) probe; "both" as the pooled rate instead of the
    mean of the two rates; source rows mixed in."""
    rng = np.random.RandomState(5)
    X_target = rng.uniform(0, 6, size=(9, 2))
    X_source = rng.uniform(20, 30, size=(4, 2))  # never mixed: far stripes
    X = np.vstack([X_source, X_target])
    y = np.r_[np.zeros(4), np.full(9, np.nan)]
    tasks = np.repeat(["s", "t"], [4, 9])
    model = _Stripes().fit(X, y)
    inter, intra = _ice_by_hand(model.predict, X_target, 0.6, 4, 3)
    assert 0 < inter < 1 and 0 < intra < 1
    # Probes predicted in blocks of 5 (the last one partial): same rate.
    blocked, _ = interpolation_consistency(
        model.predict, X_target, 0.6, "inter", 4, 3, block_size=5
    )
    assert blocked == pytest.approx(inter)
    for probes, expected in [
        ("inter", inter),
        ("intra", intra),
        ("both", (inter + intra) / 2),
    ]:
        scorer = make_interpolation_consistency_scorer(
            "t", mix_ratio=0.6, probes=probes, n_permutations=4, random_state=3
        )
        assert scorer(model, X, y, task_ids=tasks) == pytest.approx(expected)


def test_interpolation_consistency_convex_regions_and_collapse():
    """Pins the documented facts: a linear classifier passes every
    intra-cluster probe (convex class regions), so "intra" cannot rank it;
    one predicted class leaves no inter-cluster probe and scores 0."""
    rng = np.random.RandomState(0)
    X = rng.normal(size=(90, 4))
    y = np.r_[rng.randint(3, size=60).astype(float), np.full(30, np.nan)]
    tasks = np.repeat(["s", "t"], [60, 30])
    linear = LogisticRegression().fit(X[:60], y[:60])
    intra = make_interpolation_consistency_scorer("t", probes="intra")
    assert intra(linear, X, y, task_ids=tasks) == 1.0
    constant = _FixedProba(np.array([[0.2, 0.8]])).fit(None, None)
    X_constant = np.zeros((90, 1))
    inter = make_interpolation_consistency_scorer("t")
    assert inter(constant, X_constant, y, task_ids=tasks) == 0.0


def test_interpolation_consistency_ranks_an_alignment_above_bad_ones():
    """On a rotated and translated target, JDA (target accuracy 0.95) above
    source-only and MEDA (0.46: on 2 features its GFK keeps one direction),
    as their target accuracies rank them; a scorer that rewarded confident
    or merely smooth predictions would not separate them this way."""
    from test_domain_selection import _hidden, _translated

    X, y, domains = _translated(seed=7)
    y_hidden = _hidden(y, domains)
    target = domains == "t"
    scorer = make_interpolation_consistency_scorer("t")
    scores, accuracies = {}, {}
    for method in ("source_only", "jda", "meda"):
        with warnings.catch_warnings():
            # MEDA warns that 2 features allow one GFK component.
            warnings.simplefilter("ignore", UserWarning)
            model = TransferClassifier(method=method, target="t")
            model.fit(X, y_hidden, task_ids=domains)
        scores[method] = scorer(model, X, y_hidden, task_ids=domains)
        accuracies[method] = np.mean(model.predict(X[target]) == y[target])
    assert (
        accuracies["jda"]
        > 0.9
        > 0.5
        > max(accuracies["source_only"], accuracies["meda"])
    )
    assert scores["jda"] > scores["source_only"] + 0.2
    assert scores["jda"] > scores["meda"] + 0.2


class _Swapped(ClassifierMixin, BaseEstimator):
    """A fitted classifier's predictions with classes 0 and 1 swapped."""

    def __init__(self, model=None):
        self.model = model

    def fit(self, X, y):
        self.classes_ = self.model.classes_
        return self

    def predict(self, X):
        return 1 - self.model.predict(X)


def test_interpolation_consistency_cannot_see_a_class_permutation():
    """Pins the documented blind spot: swapping the classes of every
    prediction leaves every probe's outcome unchanged, although the target
    accuracy drops from about 1 to about 0."""
    rng = np.random.RandomState(2)
    y_all = rng.randint(2, size=100)
    X = rng.normal(size=(100, 2)) + np.c_[4.0 * y_all, np.zeros(100)]
    y = np.r_[y_all[:60].astype(float), np.full(40, np.nan)]
    tasks = np.repeat(["s", "t"], [60, 40])
    model = LogisticRegression().fit(X[:60], y[:60])
    swapped = _Swapped(model).fit(X, y)
    assert np.mean(model.predict(X[60:]) == y_all[60:]) > 0.9
    assert np.mean(swapped.predict(X[60:]) == y_all[60:]) < 0.1
    scorer = make_interpolation_consistency_scorer("t", probes="both")
    assert scorer(swapped, X, y, task_ids=tasks) == scorer(model, X, y, task_ids=tasks)


def test_interpolation_consistency_errors():
    X = np.vstack([np.zeros((3, 2)), np.ones((1, 2))])
    y = np.r_[0.0, 1.0, 0.0, np.nan]
    tasks = np.array(["s", "s", "s", "t"])
    scorer = make_interpolation_consistency_scorer("t")
    model = LogisticRegression().fit(X[:3], y[:3])
    with pytest.raises(ValueError, match="at least 2"):
        scorer(model, X, y, task_ids=tasks)
    regressor = LinearRegression().fit(X[:3], y[:3])
    with pytest.raises(ValueError, match="not a classifier"):
        scorer(regressor, X, y, task_ids=np.array(["s", "s", "t", "t"]))
    with pytest.raises(ValueError, match="mix_ratio"):
        make_interpolation_consistency_scorer("t", mix_ratio=0.5)


def test_auto_scoring_is_interpolation_consistency_for_classifiers_by_hand():
    """``unlabelled_scoring="auto"``: each candidate fitted on the other
    source folds and every target row, scored by interpolation consistency
    on the target rows; circular validation for a regressor. Catches: the
    two kinds' scorers swapped; a candidate fitted on the held-out fold (or
    on every source row); fold scores paired with the wrong candidate."""
    from test_domain_selection import _hidden, _translated

    X, y, domains = _translated(seed=4, n_source=60, n_target=40)
    y_hidden = _hidden(y, domains)
    model = TransferClassifier(
        target="t",
        unlabelled_scoring="auto",
        candidates=["source_only", "jda"],
        n_repeats=1,
    )
    model.fit(X, y_hidden, task_ids=domains)
    results = model.cv_results_
    assert "'interpolation_consistency' scorer" in model.selection_
    s, t = np.flatnonzero(domains == "s"), np.flatnonzero(domains == "t")
    codes = np.where(domains == "s", 0, 1)
    scorer = make_interpolation_consistency_scorer(1)
    folds = StratifiedKFold(3, shuffle=True, random_state=0).split(X[s], y[s])
    for f, (train, held) in enumerate(folds):
        fit_rows, val_rows = np.r_[s[train], t], np.r_[s[held], t]
        for k, method in enumerate(results["method"]):
            candidate = TransferClassifier(method=method, target=1).fit(
                X[fit_rows], y_hidden[fit_rows], task_ids=codes[fit_rows]
            )
            expected = scorer(
                candidate, X[val_rows], y_hidden[val_rows], task_ids=codes[val_rows]
            )
            assert results[f"split{f}_score"][k] == pytest.approx(expected)
    assert model.method_ == "jda"
    regressor = TransferRegressor(
        LinearRegression(),
        target="t",
        unlabelled_scoring="auto",
        candidates=["source_only", "coral"],
        n_repeats=1,
    ).fit(X, y_hidden, task_ids=domains)
    assert "'circular' scorer" in regressor.selection_
