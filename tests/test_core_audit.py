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

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import accuracy_score, r2_score

from sklearn_mtl._baselines import IndependentTasks, PooledTasks
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


# -- score and the baselines ------------------------------------------------------
def _regression(seed=0, n=60):
    rng = np.random.RandomState(seed)
    X = rng.standard_normal((n, 3))
    task_ids = np.repeat([0, 1, 2], n // 3)
    y = X @ [1.0, -2.0, 0.5] + task_ids + rng.standard_normal(n)
    weights = rng.uniform(0.1, 3.0, n)
    return X, y, task_ids, weights


def test_score_uses_sample_weight_long_and_wide():
    X, y, task_ids, weights = _regression()
    model = IndependentTasks(Ridge(alpha=5.0)).fit(X, y, task_ids=task_ids)
    y_pred = model.predict(X, task_ids=task_ids)
    expected = r2_score(y, y_pred, sample_weight=weights)
    assert expected != pytest.approx(r2_score(y, y_pred))
    assert model.score(X, y, task_ids=task_ids, sample_weight=weights) == pytest.approx(
        expected
    )
    # Wide: the mean over tasks of each task's weighted R² on its labels.
    Y = y.reshape(3, -1).T.copy()
    Y[::4, 1] = np.nan
    Xw, w = X[:20], weights[:20]
    wide = IndependentTasks(Ridge(alpha=5.0)).fit(Xw, Y)
    P = wide.predict(Xw)
    labelled = ~np.isnan(Y)
    expected = np.mean(
        [
            r2_score(
                Y[labelled[:, t], t],
                P[labelled[:, t], t],
                sample_weight=w[labelled[:, t]],
            )
            for t in range(3)
        ]
    )
    assert wide.score(Xw, Y, sample_weight=w) == pytest.approx(expected)


def test_independent_and_pooled_pass_sample_weight_on():
    X, y, task_ids, weights = _regression(1)
    independent = IndependentTasks(Ridge(alpha=5.0)).fit(
        X, y, task_ids=task_ids, sample_weight=weights
    )
    for t, fitted in enumerate(independent.estimators_):
        rows = task_ids == t
        reference = Ridge(alpha=5.0).fit(X[rows], y[rows], sample_weight=weights[rows])
        np.testing.assert_allclose(fitted.coef_, reference.coef_)
    pooled = PooledTasks(Ridge(alpha=5.0)).fit(
        X, y, task_ids=task_ids, sample_weight=weights
    )
    reference = Ridge(alpha=5.0).fit(X, y, sample_weight=weights)
    np.testing.assert_allclose(pooled.estimator_.coef_, reference.coef_)


def test_independent_predict_proba_puts_each_tasks_classes_in_their_columns():
    # Task 0 sees classes {0, 1}, task 1 sees {1, 2}: task 1's probabilities
    # belong in columns 1 and 2 of classes_ = [0, 1, 2], column 0 stays 0.
    rng = np.random.RandomState(2)
    X = rng.standard_normal((80, 2))
    task_ids = np.repeat([0, 1], 40)
    y = (X[:, 0] > 0).astype(int) + (task_ids == 1)
    model = IndependentTasks(LogisticRegression()).fit(X, y, task_ids=task_ids)
    proba = model.predict_proba(X, task_ids=task_ids)
    rows = task_ids == 1
    reference = LogisticRegression().fit(X[rows], y[rows]).predict_proba(X[rows])
    np.testing.assert_allclose(proba[rows][:, 1:], reference)
    np.testing.assert_array_equal(proba[rows][:, 0], 0.0)
    assert accuracy_score(y, model.predict(X, task_ids=task_ids)) > 0.9


# -- structured and graph models ----------------------------------------------------
def test_robust_outlier_tasks_are_the_nonzero_rows_of_the_outlier_part():
    from sklearn_mtl.linear._robust import RobustMultiTaskRegressor

    # Tasks 0-3 share one direction, task 4 does not. A feature that is zero
    # everywhere keeps its coefficient exactly 0 in every task, so "the row
    # is nonzero" and "every entry is nonzero" differ.
    rng = np.random.RandomState(0)
    n_tasks, n = 5, 30
    X = rng.standard_normal((n_tasks * n, 4))
    X[:, 3] = 0.0
    task_ids = np.repeat(np.arange(n_tasks), n)
    W = np.outer(rng.standard_normal(n_tasks), [1.0, 2.0, -1.0, 0.0])
    W[4] = [3.0, -3.0, 1.0, 0.0]
    y = np.einsum("ij,ij->i", X, W[task_ids]) + 0.1 * rng.standard_normal(X.shape[0])
    model = RobustMultiTaskRegressor(alpha=5.0, outlier_ratio=0.7).fit(
        X, y, task_ids=task_ids
    )
    nonzero = np.linalg.norm(model.coef_outlier_, axis=1) > 0
    assert nonzero[4]
    np.testing.assert_array_equal(model.outlier_tasks_, model.tasks_[nonzero])


def test_knn_graph_beyond_the_first_block_of_1024_tasks():
    from sklearn_mtl.graphs import KNNGraph

    # Similarities are computed in blocks of 1024 rows: a task of a later
    # block must still exclude itself, not the task of the same row number
    # in the first block.
    rng = np.random.RandomState(0)
    n_tasks = 1030
    coef = rng.standard_normal((n_tasks, 3))
    A = KNNGraph(n_neighbors=1).adjacency(np.arange(n_tasks), coef)
    unit = coef / np.linalg.norm(coef, axis=1, keepdims=True)
    similarity = unit @ unit.T
    np.fill_diagonal(similarity, -np.inf)
    nearest = np.argmax(similarity, axis=1)
    expected = np.zeros((n_tasks, n_tasks))
    expected[np.arange(n_tasks), nearest] = 1.0
    expected = np.maximum(expected, expected.T)
    np.testing.assert_array_equal(A.toarray(), expected)


# -- bad inputs: clear errors naming the parameter, never a silent answer -----------
@pytest.mark.parametrize(
    "graph, name",
    [("knn0", "n_neighbors"), ("tree_list", "parents"), ("learned_eps0", "eps")],
)
def test_graph_objects_parameters_are_validated_at_fit(graph, name):
    from sklearn_mtl.graphs import KNNGraph, LearnedGraph, TreeGraph
    from sklearn_mtl.linear._graph_model import GraphMultiTaskRegressor

    # KNNGraph(n_neighbors=0) used to fit an unlinked graph and LearnedGraph
    # (eps=0) a singular covariance without a word; a list of parents was
    # reported as a cycle.
    graph = {
        "knn0": KNNGraph(n_neighbors=0),
        "tree_list": TreeGraph([0, 1]),
        "learned_eps0": LearnedGraph(eps=0.0),
    }[graph]
    X, y, task_ids, _ = _regression()
    kind = type(graph).__name__
    # The message names the estimator's graph parameter and the graph's own.
    with pytest.raises(
        ValueError, match=rf"graph={kind}\(.*'{name}' parameter of {kind}"
    ):
        GraphMultiTaskRegressor(graph=graph).fit(X, y, task_ids=task_ids)


def test_mixed_effects_without_any_feature_varying_within_a_task():
    from sklearn_mtl.linear._mixed_effects import MixedEffectsMultiTaskRegressor

    # Centred within each task, a constant feature is 0: the slopes are not
    # identified. This used to start EM from an infinite spread and fail deep
    # in numpy ("array must not contain infs or NaNs"); the fit is now the
    # task means with zero slopes.
    _, y, task_ids, _ = _regression()
    X = np.ones((y.shape[0], 1))
    model = MixedEffectsMultiTaskRegressor().fit(X, y, task_ids=task_ids)
    np.testing.assert_allclose(model.coef_, 0.0, atol=1e-12)
    np.testing.assert_allclose(
        model.intercept_, [y[task_ids == t].mean() for t in range(3)]
    )


def test_fixed_loss_weights_all_zero_are_refused():
    pytest.importorskip("torch")
    from sklearn_mtl.neural._weighting import FixedWeighting

    with pytest.raises(ValueError, match="loss_weighting weights are all zero"):
        FixedWeighting([0.0, 0.0, 0.0]).build(3, np.arange(3))


def test_a_user_module_with_the_wrong_input_size_names_its_parameter():
    torch = pytest.importorskip("torch")
    pytest.importorskip("skorch")
    from sklearn_mtl.meta._gradient import GradientMetaRegressor
    from sklearn_mtl.meta._prototypes import PrototypicalClassifier
    from sklearn_mtl.neural._estimators import MultiTaskRegressor

    X, y, task_ids, _ = _regression()
    labels = (y > np.median(y)).astype(int)
    fast = dict(random_state=0, device="cpu")
    with pytest.raises(
        ValueError, match=r"trunk \(Linear\) failed .* \(3,\) per sample"
    ):
        MultiTaskRegressor(trunk=torch.nn.Linear(7, 5), max_epochs=1, **fast).fit(
            X, y, task_ids=task_ids
        )
    with pytest.raises(
        ValueError, match=r"network \(Linear\) failed .*\(n_samples, 3\)"
    ):
        GradientMetaRegressor(
            network=lambda n, k: torch.nn.Linear(n + 2, k), n_meta_iter=1, **fast
        ).fit(X, y, task_ids=task_ids)
    with pytest.raises(ValueError, match=r"network \(Linear\) failed"):
        PrototypicalClassifier(
            network=lambda n: torch.nn.Linear(n + 1, 4), n_meta_iter=1, **fast
        ).fit(X, labels, task_ids=task_ids)
    with pytest.raises(ValueError, match=r"\(n_samples, embedding_dim\)"):
        PrototypicalClassifier(
            network=lambda n: torch.nn.Sequential(
                torch.nn.Linear(n, 6), torch.nn.Unflatten(1, (2, 3))
            ),
            n_meta_iter=1,
            **fast,
        ).fit(X, labels, task_ids=task_ids)


def test_adapt_scorer_of_an_estimator_without_adapt():
    from sklearn_mtl.meta._selection import make_adapt_scorer

    X, y, task_ids, _ = _regression()
    model = IndependentTasks(Ridge()).fit(X, y, task_ids=task_ids)
    with pytest.raises(TypeError, match="IndependentTasks has no adapt method"):
        make_adapt_scorer(3)(model, X, y, task_ids=task_ids)


# -- synthetic data -----------------------------------------------------------------
def test_synthetic_targets_follow_the_returned_truth():
    from sklearn_mtl.datasets import (
        make_multitask_classification,
        make_multitask_regression,
    )

    X, y, task_ids, coef, intercept, _ = make_multitask_regression(
        n_tasks=4, n_samples=500, noise=2.0, return_coef=True, random_state=0
    )
    residual = y - (np.einsum("nd,nd->n", X, coef[task_ids]) + intercept[task_ids])
    assert residual.std() == pytest.approx(2.0, rel=0.05)
    assert abs(residual.mean()) < 0.15
    X, y, task_ids, coef, intercept, _ = make_multitask_classification(
        n_tasks=4, n_samples=1000, flip_y=0.2, return_coef=True, random_state=0
    )
    clean = np.einsum("nd,nd->n", X, coef[task_ids]) + intercept[task_ids] > 0
    assert np.mean(y != clean) == pytest.approx(0.2, abs=0.03)


# -- meta-learning ------------------------------------------------------------------
def test_learned_prior_classifier_finds_the_direction_tasks_vary_along():
    from sklearn_mtl.meta._prior import LearnedPriorClassifier

    # Tasks' coefficients spread along one direction v: a rank-1 prior puts
    # its leading variance there (a prior fitted with rank 0 is isotropic).
    rng = np.random.RandomState(0)
    n_tasks, n, v = 10, 40, np.array([1.0, 2.0, -1.0]) / np.sqrt(6.0)
    W = 3.0 * rng.standard_normal(n_tasks)[:, None] * v
    X = rng.standard_normal((n_tasks * n, 3))
    task_ids = np.repeat(np.arange(n_tasks), n)
    margin = np.einsum("ij,ij->i", X, W[task_ids])
    y = (rng.random_sample(X.shape[0]) < 1 / (1 + np.exp(-margin))).astype(int)
    with warnings.catch_warnings():
        # Three EM steps (a ConvergenceWarning) are enough to find v.
        warnings.simplefilter("ignore")
        model = LearnedPriorClassifier(rank=1, max_iter=3).fit(X, y, task_ids=task_ids)
    assert model.prior_components_.shape == (1, 3, 1)
    values, vectors = np.linalg.eigh(model.prior_covariance_[0])
    assert values[-1] > 10 * values[-2]
    assert abs(vectors[:, -1] @ v) > 0.95


def test_standardized_meta_learners_ignore_each_features_scale():
    pytest.importorskip("torch")
    from sklearn_mtl.meta._gradient import GradientMetaRegressor
    from sklearn_mtl.meta._prototypes import PrototypicalClassifier

    # standardize=True divides every feature by its standard deviation: a
    # feature given in other units (x 1000) must change nothing.
    X, y, task_ids, _ = _regression()
    units = np.array([1000.0, 0.01, 1.0])
    labels = (y > np.median(y)).astype(int)
    fast = dict(n_meta_iter=2, hidden_layer_sizes=(8,), random_state=0, device="cpu")
    for model, target, method in [
        (GradientMetaRegressor(**fast), y, "predict"),
        (PrototypicalClassifier(**fast), labels, "predict_proba"),
    ]:
        plain = clone(model).fit(X, target, task_ids=task_ids)
        scaled = clone(model).fit(X * units, target, task_ids=task_ids)
        np.testing.assert_allclose(scaled.x_scale_, X.std(axis=0) * units)
        np.testing.assert_allclose(
            getattr(scaled, method)(X * units, task_ids=task_ids),
            getattr(plain, method)(X, task_ids=task_ids),
            rtol=1e-4,
            atol=1e-5,
        )


@pytest.mark.parametrize("penalty", ["sparse", "joint"])
def test_multiclass_loss_leaves_a_tasks_unseen_classes_untouched(penalty):
    from sklearn_mtl.linear._sparse import SparseMultiTaskClassifier
    from sklearn_mtl.linear._structured import JointFeatureMultiTaskClassifier

    # Task 0 sees classes {0, 1}, task 1 sees {1, 2}. The cross-entropy of a
    # task runs over its own classes only, so a class it never saw gets no
    # gradient and its coefficients stay at 0 (a softmax over all classes
    # would push them down, and shift the seen classes' fit).
    rng = np.random.RandomState(0)
    X = rng.standard_normal((120, 3))
    task_ids = np.repeat([0, 1], 60)
    y = np.where(task_ids == 0, (X[:, 0] > 0).astype(int), 1 + (X[:, 1] > 0))
    model = {
        "sparse": SparseMultiTaskClassifier,
        "joint": JointFeatureMultiTaskClassifier,
    }[penalty](alpha=0.5).fit(X, y, task_ids=task_ids)
    np.testing.assert_array_equal(
        model.task_class_mask_, [[True, True, False], [False, True, True]]
    )
    np.testing.assert_array_equal(model.coef_[0, 2], 0.0)
    np.testing.assert_array_equal(model.coef_[1, 0], 0.0)
    assert np.any(model.coef_[0, :2] != 0) and np.any(model.coef_[1, 1:] != 0)


def test_clustered_labels_are_kmeans_on_the_scaled_singular_vectors():
    from sklearn.cluster import KMeans
    from sklearn.metrics import adjusted_rand_score

    from sklearn_mtl.linear._clustered import ClusteredMultiTaskRegressor

    # Two clusters split along the first coordinate (+-3), and one task far
    # out along a weaker second direction. k-means on the rows of U_k S_k (the
    # task models' geometry) finds the two clusters; on U_k alone the weak
    # direction is stretched to the strong one's size and the outlier task
    # takes a cluster of its own.
    rng = np.random.RandomState(0)
    n_tasks, n = 8, 40
    truth = np.arange(n_tasks) % 2
    second = np.full(n_tasks, -1.5 / 7)
    second[0] = 1.5
    W = np.c_[np.where(truth == 1, 3.0, -3.0), second, np.zeros(n_tasks)]
    W += 0.05 * rng.standard_normal(W.shape)
    X = rng.standard_normal((n_tasks * n, 3))
    task_ids = np.repeat(np.arange(n_tasks), n)
    y = np.einsum("ij,ij->i", X, W[task_ids]) + 0.1 * rng.standard_normal(X.shape[0])
    model = ClusteredMultiTaskRegressor(
        n_clusters=2, alpha=0.1, alpha_l2=0.01, random_state=0
    ).fit(X, y, task_ids=task_ids)
    U, s, _ = np.linalg.svd(model.coef_, full_matrices=False)
    by_hand = KMeans(2, n_init=10, random_state=0).fit_predict((U * s)[:, :2])
    assert adjusted_rand_score(model.cluster_labels_, by_hand) == 1.0
    assert adjusted_rand_score(model.cluster_labels_, truth) == 1.0


def test_learned_graph_attributes_are_the_inverse_covariance():
    from sklearn_mtl.linear._graph_model import GraphMultiTaskRegressor

    X, y, task_ids, _ = _regression(3)
    model = GraphMultiTaskRegressor(graph="learned", alpha_graph=0.5).fit(
        X, y, task_ids=task_ids
    )
    precision = np.linalg.inv(model.task_covariance_)
    np.testing.assert_allclose(model.laplacian_, precision)
    # Positively correlated tasks are linked with a positive weight:
    # adjacency = -precision off the diagonal.
    expected = -precision
    np.fill_diagonal(expected, 0.0)
    np.testing.assert_allclose(model.adjacency_, expected)


def test_cv_results_std_is_scikit_learns_population_std():
    from sklearn_mtl.linear._cv import JointFeatureMultiTaskRegressorCV

    # GridSearchCV reports np.std over the folds (ddof=0); so must the CV
    # estimators' cv_results_, so that both can be compared.
    X, y, task_ids, _ = _regression(4)
    model = JointFeatureMultiTaskRegressorCV(alphas=4, cv=3).fit(
        X, y, task_ids=task_ids
    )
    results = model.cv_results_
    splits = np.column_stack([results[f"split{k}_test_score"] for k in range(3)])
    np.testing.assert_allclose(results["mean_test_score"], splits.mean(axis=1))
    np.testing.assert_allclose(results["std_test_score"], splits.std(axis=1))
    assert np.all(results["std_test_score"] > 0)
