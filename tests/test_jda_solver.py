"""JDA's eigensolver against the dense generalized ``eigh`` it replaced.

Each round solves ``G^T G a = lambda (U U^T + mu I) a`` (top ``k``,
``a^T B a = 1``): compared with ``scipy.linalg.eigh(A, B, subset_by_index)``
on random problems in both forms (primal ``p <= m``, sample space ``m < p``),
both branches (Lanczos, dense), the rank-deficient case, the fallback when
Lanczos does not converge, and whole JDA fits (linear wide and tall, rbf).
"""

import numpy as np
import pytest
import scipy.linalg
import scipy.sparse.linalg
from sklearn.metrics.pairwise import rbf_kernel
from threadpoolctl import threadpool_limits

import sklearn_mtl.transfer._jda as jda_module
from sklearn_mtl.transfer._jda import JDA, _JDAPencil, _top_eigenpairs


@pytest.fixture(autouse=True)
def _one_blas_thread():
    # As in JDA's fit: on a small busy machine, BLAS threads waiting for each
    # other make these small dense solves many times slower.
    with threadpool_limits(limits=1, user_api="blas"):
        yield


def _reference(G, U, mu, k):
    """The solve JDA used before: the dense generalized eigh, decreasing."""
    A = G.T @ G
    B = U @ U.T + mu * np.eye(G.shape[1])
    size = A.shape[0]
    values, vectors = scipy.linalg.eigh(A, B, subset_by_index=[size - k, size - 1])
    return values[::-1], vectors[:, ::-1], A, B


class _DensePencil:
    """``_JDAPencil``'s interface on the reference solve (for whole fits)."""

    def __init__(self, G, mu):
        self.G, self.mu = G, mu

    def solve(self, U, k, maxiter=None):
        return _reference(self.G, U, self.mu, k)[:2]


def _problem(m, p, r=4, seed=0):
    """Centred rows with decaying spectrum (clear gaps) and a random U."""
    rng = np.random.RandomState(seed)
    G = rng.normal(size=(m, p)) * (0.97 ** np.arange(p))
    G -= G.mean(axis=0)
    E = rng.normal(size=(m, r)) / m
    return G, (G + rng.normal(size=(m, p))).T @ E


def _kernel_problem(n, r=4, seed=0):
    rng = np.random.RandomState(seed)
    K = rbf_kernel(rng.normal(size=(n, 12)), gamma=0.02)
    E = rng.normal(size=(n, r)) / n
    return K - K.mean(axis=0), K @ E


def _check(values, vectors, G, U, mu, k, *, angle=1e-8):
    expected, reference, A, B = _reference(G, U, mu, k)
    # Decreasing, equal to the generalized eigenvalues.
    np.testing.assert_allclose(values, expected, rtol=1e-9)
    assert np.all(np.diff(values) <= 0)
    # The same subspace, and each column a B-normalized solution.
    assert scipy.linalg.subspace_angles(vectors, reference).max() < angle
    np.testing.assert_allclose(vectors.T @ B @ vectors, np.eye(k), atol=1e-8)
    residual = A @ vectors - B @ vectors * values
    assert np.abs(residual).max() < 1e-8 * np.abs(A).max()


@pytest.mark.parametrize(
    "m, p, k",
    [
        (80, 40, 6),  # primal, dense eigh (below 200)
        (40, 90, 6),  # sample space, dense eigh
        (320, 250, 10),  # primal, Lanczos
        (230, 400, 10),  # sample space, Lanczos
    ],
)
@pytest.mark.parametrize("mu", [0.05, 2.0])
def test_pencil_equals_dense_generalized_eigh_linear(m, p, k, mu):
    G, U = _problem(m, p)
    pencil = _JDAPencil(G, mu)
    assert pencil.gram.shape == (min(m, p),) * 2  # never p x p when m < p
    _check(*pencil.solve(U, k), G, U, mu, k)


@pytest.mark.parametrize("n, k", [(90, 6), (260, 10)])
def test_pencil_equals_dense_generalized_eigh_kernel(n, k):
    G, U = _kernel_problem(n)
    _check(*_JDAPencil(G, 0.1).solve(U, k), G, U, 0.1, k)


def test_lanczos_runs_above_the_threshold_and_dense_below(monkeypatch):
    calls = []
    eigsh = scipy.sparse.linalg.eigsh

    def spy(*args, **kwargs):
        calls.append(args[0].shape[0])
        return eigsh(*args, **kwargs)

    monkeypatch.setattr(jda_module.scipy.sparse.linalg, "eigsh", spy)
    for m, p in [(320, 250), (230, 400), (80, 40), (300, 150)]:
        G, U = _problem(m, p)
        _JDAPencil(G, 0.1).solve(U, 10)
    # 150 is below 200; 250 and 230 are above 200 and 5 k.
    assert calls == [250, 230]


def test_solutions_are_reproducible_bit_for_bit():
    # A fixed Lanczos start vector: two solves agree exactly.
    G, U = _problem(320, 250)
    first = _JDAPencil(G, 0.1).solve(U, 10)
    second = _JDAPencil(G, 0.1).solve(U, 10)
    np.testing.assert_array_equal(first[0], second[0])
    np.testing.assert_array_equal(first[1], second[1])


@pytest.mark.parametrize("m, p", [(320, 250), (230, 400)])
def test_fallback_to_dense_when_lanczos_does_not_converge(m, p, monkeypatch):
    G, U = _problem(m, p)
    matrix = np.diag(np.arange(250.0))
    with pytest.raises(scipy.sparse.linalg.ArpackNoConvergence):
        scipy.sparse.linalg.eigsh(matrix, k=10, which="LA", tol=0, maxiter=1)
    dense = []
    eigh = scipy.linalg.eigh

    def spy(*args, **kwargs):
        dense.append(args[0].shape[0])
        return eigh(*args, **kwargs)

    monkeypatch.setattr(jda_module.scipy.linalg, "eigh", spy)
    values, vectors = _JDAPencil(G, 0.1).solve(U, 10, maxiter=1)
    assert dense == [min(m, p)]  # ARPACK gave up after one restart: dense ran
    monkeypatch.undo()
    _check(values, vectors, G, U, 0.1, 10)


def test_top_eigenpairs_decreasing_in_both_branches():
    rng = np.random.RandomState(3)
    for size in (60, 300):
        Q = np.linalg.qr(rng.normal(size=(size, size)))[0]
        spectrum = rng.permutation(np.linspace(1.0, 50.0, size))
        values, vectors = _top_eigenpairs((Q * spectrum) @ Q.T, 8)
        np.testing.assert_allclose(values, np.sort(spectrum)[::-1][:8], rtol=1e-10)
        top = Q[:, np.argsort(spectrum)[::-1][:8]]
        np.testing.assert_allclose(np.abs(np.sum(vectors * top, axis=0)), 1.0)


def test_rank_below_k_in_the_sample_space_switches_to_the_primal_form():
    # 8 distinct rows repeated: the centred rows have rank 7 < k = 10, so the
    # top 10 include zero eigenvalues, which the sample space cannot map back.
    rng = np.random.RandomState(1)
    G = np.repeat(rng.normal(size=(8, 60)), 5, axis=0)
    G -= G.mean(axis=0)
    U = G.T @ rng.normal(size=(40, 3)) / 40 + rng.normal(size=(60, 3)) / 10
    pencil = _JDAPencil(G, 0.1)
    assert pencil.dual
    values, vectors = pencil.solve(U, 10)
    assert not pencil.dual
    expected, reference, A, B = _reference(G, U, 0.1, 10)
    np.testing.assert_allclose(values, expected, rtol=1e-9, atol=1e-9 * values[0])
    assert np.all(np.isfinite(vectors))
    # The nonzero part is unique; the zero part any B-orthonormal null vectors.
    assert scipy.linalg.subspace_angles(vectors[:, :7], reference[:, :7]).max() < 1e-8
    np.testing.assert_allclose(vectors.T @ B @ vectors, np.eye(10), atol=1e-8)
    np.testing.assert_allclose(A @ vectors, B @ vectors * values, atol=1e-8)


def _domains_with_classes(n_per_domain, n_features, seed=0):
    """Three classes; the target is the source moved and scaled."""
    rng = np.random.RandomState(seed)
    y = np.arange(n_per_domain) % 3
    means = 2.0 * rng.normal(size=(3, n_features))
    X_source = means[y] + rng.normal(size=(n_per_domain, n_features))
    X_target = 1.2 * (means[y] + rng.normal(size=(n_per_domain, n_features))) + 0.5
    X = np.vstack([X_source, X_target])
    domains = np.repeat(["s", "t"], n_per_domain)
    return X, np.r_[y, np.full(n_per_domain, np.nan)], domains


@pytest.mark.parametrize(
    "n_per_domain, n_features, kernel",
    [
        (115, 400, "linear"),  # 230 rows < 400 features: the sample space
        (160, 250, "linear"),  # 320 rows >= 250 features: the primal form
        (130, 12, "rbf"),  # 260 x 260 kernel
    ],
)
def test_jda_fit_equals_the_dense_generalized_solve(
    n_per_domain, n_features, kernel, monkeypatch
):
    X, y, domains = _domains_with_classes(n_per_domain, n_features)
    kwargs = dict(target="t", n_components=10, kernel=kernel, n_iter=3)
    new = JDA(**kwargs).fit(X, y, task_ids=domains)
    monkeypatch.setattr(jda_module, "_JDAPencil", _DensePencil)
    old = JDA(**kwargs).fit(X, y, task_ids=domains)
    assert new.n_iter_ == old.n_iter_
    np.testing.assert_array_equal(new.pseudo_labels_, old.pseudo_labels_)
    np.testing.assert_allclose(new.eigenvalues_, old.eigenvalues_, rtol=1e-9)
    # Signed alike whichever solver ran: the components themselves agree.
    scale = np.abs(old.components_).max()
    np.testing.assert_allclose(new.components_, old.components_, atol=1e-8 * scale)
    columns = np.arange(new.components_.shape[1])
    largest = new.components_[np.abs(new.components_).argmax(axis=0), columns]
    assert np.all(largest > 0)


def test_zero_eigenvalues_among_the_top_k_take_the_dense_path(monkeypatch):
    # Centred rows of rank 19 in 300 dimensions, k = 30: eleven of the top 30
    # are zero, whose solutions (any B-orthonormal null vectors) the dense
    # eigh gives deterministically rather than ARPACK's random restarts.
    rng = np.random.RandomState(2)
    G = rng.normal(size=(400, 20)) @ rng.normal(size=(20, 300))
    G -= G.mean(axis=0)
    U = rng.normal(size=(300, 3))
    dense = []
    eigh = scipy.linalg.eigh

    def spy(*args, **kwargs):
        dense.append(args[0].shape[0])
        return eigh(*args, **kwargs)

    monkeypatch.setattr(jda_module.scipy.linalg, "eigh", spy)
    values, vectors = _JDAPencil(G, 0.1).solve(U, 30)
    assert dense == [300]
    monkeypatch.undo()
    expected, reference, A, B = _reference(G, U, 0.1, 30)
    np.testing.assert_allclose(values, expected, rtol=1e-9, atol=1e-9 * values[0])
    assert scipy.linalg.subspace_angles(vectors[:, :19], reference[:, :19]).max() < 1e-8
    np.testing.assert_allclose(vectors.T @ B @ vectors, np.eye(30), atol=1e-8)
    np.testing.assert_allclose(A @ vectors, B @ vectors * values, atol=1e-8 * values[0])
