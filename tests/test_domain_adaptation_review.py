"""Review of the domain-adaptation API as a new user meets it (reviewer R1).

Each test pins a problem found by using the public API end to end and fails
on the code before its fix.
"""

import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression

from sklearn_mtl.transfer._gfk import GFK
from sklearn_mtl.transfer._jda import JDA
from sklearn_mtl.transfer._subspace import TCA, SubspaceAlignment


def _rotated_two_features(seed=0, n_source=200, n_target=100, angle=0.6):
    """Two classes split along the first feature; the target rotated and moved."""
    rng = np.random.RandomState(seed)
    X_source = rng.normal(size=(n_source, 2))
    y_source = (X_source[:, 0] > 0).astype(int)
    X_source[:, 0] += 2 * y_source - 1
    X_target = rng.normal(size=(n_target, 2))
    y_target = (X_target[:, 0] > 0).astype(int)
    X_target[:, 0] += 2 * y_target - 1
    rotation = np.array(
        [[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]]
    )
    X_target = X_target @ rotation.T + [1.0, 0.5]
    X = np.vstack([X_source, X_target])
    domains = np.repeat([0, 1], [n_source, n_target])
    y = np.r_[y_source, np.full(n_target, np.nan)]
    return X, y, domains, np.r_[y_source, y_target]


@pytest.mark.parametrize("cls", [SubspaceAlignment, TCA, JDA])
def test_explicit_n_components_equal_to_n_features_is_kept(cls):
    """With more rows than features, ``n_components=n_features`` is allowed:
    it was cut to ``n_features - 1`` with a warning, so on 2 features TCA and
    JDA kept one axis and fell below chance (0.24 / 0.30) on a rotated target
    where both axes give 0.82 / 0.85."""
    X, y, domains, y_true = _rotated_two_features()
    target = domains == 1
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        model = cls(target=1, n_components=2).fit(X, y, task_ids=domains)
    assert model.n_components_ == 2
    Z = model.transform(X, task_ids=domains)
    assert Z.shape == (len(X), 2)
    clf = LogisticRegression().fit(Z[~target], y_true[~target])
    assert clf.score(Z[target], y_true[target]) > 0.8
    # The default still reduces by one direction (documented), and more than
    # the data allow is still reduced with a warning naming the bound.
    assert cls(target=1).fit(X, y, task_ids=domains).n_components_ == 1
    with pytest.warns(UserWarning, match=r"n_components=3 is more than.*= 2"):
        assert (
            cls(target=1, n_components=3).fit(X, y, task_ids=domains).n_components_ == 2
        )


def test_gfk_keeps_a_proper_subspace():
    """GFK's subspaces stay below the feature count (full width is G = I)."""
    X, y, domains, _ = _rotated_two_features()
    with pytest.warns(UserWarning, match=r"n_features - 1=1\) = 1"):
        assert GFK(target=1, n_components=2).fit(X, task_ids=domains).n_components_ == 1


def test_method_meda_does_not_warn_about_a_default_the_user_never_set():
    """``method="meda"`` (and "auto", which fits it at every fold) built a
    MEDAClassifier with its 20 GFK components and warned, 10 times per
    "auto" fit, that 2 features allow 1; a MEDAClassifier the user passes
    with n_components=20 still warns."""
    from sklearn_mtl.transfer._estimators import TransferClassifier
    from sklearn_mtl.transfer._meda import MEDAClassifier

    X, y, domains, y_true = _rotated_two_features(n_source=60, n_target=40)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        TransferClassifier(method="meda", target=1).fit(X, y, task_ids=domains)
        TransferClassifier(target=1).fit(X, y, task_ids=domains)  # auto
    with pytest.warns(UserWarning, match="GFK: n_components=20"):
        TransferClassifier(
            MEDAClassifier(n_components=20), method="meda", target=1
        ).fit(X, y, task_ids=domains)


@pytest.mark.parametrize("routing", [False, True])
def test_circular_validation_of_a_pipeline_ending_in_a_transfer_estimator(routing):
    """Scaling then adaptation is the common pipeline; circular validation
    refitted it on the target rows alone and raised "target=1 is not among
    the tasks of the data: [0]". Through an identity step it must score as
    the bare estimator does."""
    import sklearn
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    from sklearn_mtl.metrics._domain_validation import make_circular_validation_scorer
    from sklearn_mtl.transfer._estimators import TransferClassifier

    X, y, domains, _ = _rotated_two_features(n_source=80, n_target=40)
    scorer = make_circular_validation_scorer(1)
    with sklearn.config_context(enable_metadata_routing=routing):
        bare = TransferClassifier(method="coral", target=1)
        piped = make_pipeline(FunctionTransformer(), clone(bare))
        fit_params = {"task_ids": domains}
        if not routing:
            fit_params = {"transferclassifier__task_ids": domains}
        piped.fit(X, y, **fit_params)
        bare.fit(X, y, task_ids=domains)
        expected = scorer(bare, X, y, task_ids=domains)
        assert scorer(piped, X, y, task_ids=domains) == pytest.approx(expected)


@pytest.mark.parametrize("method", ["coral", "meda", "jdot", "spl"])
def test_every_method_returns_the_labels_type(method):
    """Integer labels (some target rows marked None in an object y): the
    methods fitted on every target row (meda, jdot, spl, dann, deep_coral)
    returned float classes_ and predictions (0.0, 1.0) where the others
    return the integers given."""
    from sklearn_mtl.transfer._estimators import TransferClassifier

    X, y, domains, _ = _rotated_two_features(n_source=60, n_target=40)
    y_object = np.array([None if np.isnan(v) else int(v) for v in y], dtype=object)
    y_object[60:64] = [0, 1, 0, 1]  # a few labelled target rows
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        model = TransferClassifier(method=method, target=1, random_state=0)
        model.fit(X, y_object, task_ids=domains)
    assert model.classes_.dtype.kind == "i"
    np.testing.assert_array_equal(model.classes_, [0, 1])
    predicted = model.predict(X[domains == 1])
    assert predicted.dtype == model.classes_.dtype
    assert set(predicted) <= {0, 1}


def test_a_target_that_is_no_task_is_named_with_unlabelled_rows():
    """target=5 (a typo) with unlabelled target rows raised "Task 1 has 100
    row(s) whose label is missing ... allowed only in task(s) [5]", blaming
    the data; the error names the target."""
    from sklearn_mtl.transfer._estimators import TransferClassifier

    X, y, domains, _ = _rotated_two_features(n_source=60, n_target=40)
    with pytest.raises(ValueError, match=r"target=5 is not among the tasks"):
        TransferClassifier(method="coral", target=5).fit(X, y, task_ids=domains)
    # A genuine missing source label still names its task.
    y_bad = y.copy()
    y_bad[0] = np.nan
    with pytest.raises(ValueError, match=r"Task 0 has 1 row\(s\) whose label"):
        TransferClassifier(method="coral", target=1).fit(X, y_bad, task_ids=domains)


def test_leave_one_domain_out_on_unpacked_data_says_how_to_pack():
    from sklearn_mtl.model_selection._domain_split import LeaveOneDomainOut

    X, y, domains, _ = _rotated_two_features(n_source=20, n_target=10)
    with pytest.raises(ValueError, match=r"pack_leave_one_domain_out\(X, y"):
        list(LeaveOneDomainOut().split(X, y, task_ids=domains))


def test_target_only_with_one_labelled_class_names_the_method():
    """Three target labels of one class: the error came from
    LogisticRegression ("This solver needs samples of at least 2 classes"),
    naming neither the method nor the target."""
    from sklearn_mtl.transfer._estimators import TransferClassifier

    X, y, domains, _ = _rotated_two_features(n_source=60, n_target=40)
    y[60:63] = 1.0
    with pytest.raises(ValueError, match=r"method='target_only'.*one class"):
        TransferClassifier(method="target_only", target=1).fit(X, y, task_ids=domains)
    # auto skips it (few labels: label-free candidates) and still fits.
    assert TransferClassifier(target=1).fit(X, y, task_ids=domains).method_


def test_default_score_with_task_ids_scores_the_target_rows_only():
    """``SourceTargetShuffleSplit`` puts source rows in every test fold; the
    default ``score`` predicted them as target rows and counted them, so
    ``cross_validate`` without target labels reported a source-domain
    accuracy (0.975, 0.9 here) as the target's. With task_ids only the
    target's labelled rows are scored, and none raises."""
    import sklearn
    from sklearn.model_selection import cross_validate

    from sklearn_mtl.model_selection._domain_split import SourceTargetShuffleSplit
    from sklearn_mtl.transfer._estimators import TransferClassifier

    X, y, domains, y_true = _rotated_two_features()
    target = domains == 1
    model = TransferClassifier(method="coral", target=1).fit(X, y, task_ids=domains)
    on_target = model.score(X[target], y_true[target])
    assert model.score(X, y_true, task_ids=domains) == pytest.approx(on_target)
    with pytest.raises(ValueError, match="no label"):
        model.score(X, y, task_ids=domains)  # target rows unlabelled
    with pytest.raises(ValueError, match="no row of the target task 1"):
        model.score(X[~target], y_true[~target], task_ids=domains[~target])
    with sklearn.config_context(enable_metadata_routing=True):
        with pytest.raises(ValueError, match="no label"):
            cross_validate(
                TransferClassifier(method="coral", target=1),
                X,
                y,
                params={"task_ids": domains},
                cv=SourceTargetShuffleSplit(1, n_splits=2, random_state=0),
                error_score="raise",
            )


def test_domain_transformers_name_their_output_columns():
    """get_feature_names_out / set_output: a map within feature space keeps the
    input names, a projection names its components, FeatureAugmentation its
    three blocks; the pandas output holds the same numbers as the array."""
    import pandas as pd

    from sklearn_mtl.transfer import (
        CORAL,
        GFK,
        JDA,
        TCA,
        FeatureAugmentation,
        LinearOTMapping,
        SubspaceAlignment,
    )

    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(60, 4)), columns=list("abcd"))
    domains = np.repeat(["s", "t"], 30)
    y = (X["a"].to_numpy() > 0).astype(float)
    y[30:] = np.nan
    expected = {
        CORAL: list("abcd"),
        LinearOTMapping: list("abcd"),
        TCA: ["tca0", "tca1"],
        JDA: ["jda0", "jda1"],
        SubspaceAlignment: ["subspacealignment0", "subspacealignment1"],
        GFK: ["gfk0", "gfk1", "gfk2", "gfk3"],
        FeatureAugmentation: [
            f"{block}__{f}" for block in ("shared", "source", "target") for f in "abcd"
        ],
    }
    for kind, names in expected.items():
        params = {"n_components": 2} if kind in (TCA, JDA, SubspaceAlignment) else {}
        if kind is GFK:
            params = {"n_components": 3}
        model = kind(target="t", **params).fit(X, y, task_ids=domains)
        assert list(model.get_feature_names_out()) == names, kind.__name__
        frame = (
            clone(model)
            .set_output(transform="pandas")
            .fit(X, y, task_ids=domains)
            .transform(X, task_ids=domains)
        )
        assert list(frame.columns) == names
        np.testing.assert_allclose(
            frame.to_numpy(), model.transform(X, task_ids=domains)
        )
