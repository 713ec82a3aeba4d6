"""The later domain-adaptation methods as ``method=`` of the Transfer* estimators.

nearest_neighbors, class_regularized_ot, jda, jdot (helper F's pieces) and
dann, deep_coral (helper G's networks): each against its standalone piece,
and the class-aware ones on a rotation where source-only fails.
"""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from sklearn_mtl.transfer import TransferClassifier, TransferRegressor


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


# -- the later methods, wired into method= ----------------------------------------


@pytest.mark.parametrize("method", ["class_regularized_ot", "jda", "jdot"])
def test_class_aware_methods_fix_a_rotation(method):
    pytest.importorskip("ot")
    X, y, domains = _translated(seed=3)
    y_hidden, t = _hidden(y, domains), domains == "t"
    model = TransferClassifier(method=method, target="t").fit(
        X, y_hidden, task_ids=domains
    )
    source_only = TransferClassifier(method="source_only", target="t")
    source_only.fit(X, y_hidden, task_ids=domains)
    accuracy = np.mean(model.predict(X[t]) == y[t])
    assert accuracy > np.mean(source_only.predict(X[t]) == y[t]) + 0.3


def test_wired_methods_equal_their_pieces():
    """method="nearest_neighbors" is the estimator weighted by nn_weights;
    "jda" the estimator on JDA's embedding; "jdot" JDOTClassifier."""
    pytest.importorskip("ot")
    from sklearn_mtl.transfer._jda import JDA
    from sklearn_mtl.transfer._jdot import JDOTClassifier
    from sklearn_mtl.transfer._reweight import nn_weights

    X, y, domains = _translated(seed=4, n_source=60, n_target=40)
    y_hidden, s, t = _hidden(y, domains), domains == "s", domains == "t"
    fitted = {
        m: TransferClassifier(method=m, target="t").fit(X, y_hidden, task_ids=domains)
        for m in ("nearest_neighbors", "jda", "jdot")
    }
    hand = LogisticRegression().fit(X[s], y[s], sample_weight=nn_weights(X[s], X[t]))
    np.testing.assert_allclose(
        fitted["nearest_neighbors"].predict_proba(X), hand.predict_proba(X)
    )
    jda = JDA(target="t").fit(X, y_hidden, task_ids=domains)
    on_embedding = LogisticRegression().fit(
        jda.transform(X[s], task_ids=domains[s]), y[s]
    )
    np.testing.assert_allclose(
        fitted["jda"].predict_proba(X[t]),
        on_embedding.predict_proba(jda.transform(X[t])),
    )
    jdot = JDOTClassifier(LogisticRegression(), target="t").fit(
        X, y_hidden, task_ids=domains
    )
    np.testing.assert_array_equal(fitted["jdot"].predict(X[t]), jdot.predict(X[t]))
    with pytest.raises(ValueError, match="'jda' aligns class-wise"):
        TransferRegressor(method="jda", target="t").fit(X, y_hidden, task_ids=domains)


@pytest.mark.parametrize("method", ["dann", "deep_coral"])
def test_deep_methods_through_the_transfer_estimator(method):
    pytest.importorskip("torch")
    from sklearn_mtl.transfer._deep import DANNClassifier, DeepCORALClassifier

    kind = DANNClassifier if method == "dann" else DeepCORALClassifier
    X, y, domains = _translated(seed=5, n_source=40, n_target=20)
    y_some = _hidden(y, domains)
    y_some[40:45] = y[40:45]  # 5 labelled target rows
    network = kind(hidden_layer_sizes=(8,), max_epochs=2, random_state=0)
    model = TransferClassifier(
        DANNClassifier(hidden_layer_sizes=(8,), max_epochs=2, random_state=0),
        method=method,
        target="t",
    ).fit(X, y_some, task_ids=domains)
    # The same network settings, fitted directly (sources, then every target
    # row, 5 of them labelled).
    direct = network.set_params(target="target").fit(
        X, y_some, task_ids=np.where(domains == "s", "source", "target")
    )
    np.testing.assert_allclose(model.predict_proba(X), direct.predict_proba(X))


def test_augment_without_target_labels_names_the_method():
    """'augment' needs labelled target rows; with none the error names the
    method (it used to name the internal target label 'target')."""
    import numpy as np

    from sklearn_mtl.transfer import TransferClassifier

    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    y = (X[:, 0] > 0).astype(float)
    y[30:] = np.nan
    domains = np.array(["s"] * 30 + ["t"] * 10)
    with pytest.raises(ValueError, match="method='augment' learns target-specific"):
        TransferClassifier(method="augment", target="t").fit(X, y, task_ids=domains)
