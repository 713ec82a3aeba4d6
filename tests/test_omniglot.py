"""Omniglot: the loader (on a synthetic zip layout and, when present, the real
files), the ConvNet, and the meta-learners using it (batch norm, ANIL, pickling).

Never downloads: the real-data test skips without ``$SKLEARN_MTL_DATA/omniglot``.
"""

import functools
import io
import os
import pickle
import zipfile
from pathlib import Path

import numpy as np
import pytest

from sklearn_mtl.datasets._omniglot import load_omniglot

try:  # the loader decodes PNGs with Pillow (it comes with matplotlib)
    from PIL import Image
except ImportError:
    Image = None
try:  # the ConvNet and the meta-learners need the neural extra
    import torch
except ImportError:
    torch = None

needs_pil = pytest.mark.skipif(Image is None, reason="Pillow is not installed")
needs_torch = pytest.mark.skipif(torch is None, reason="torch is not installed")

SIDE = 10  # side of the synthetic images


def _png(ink_pixels):
    """A SIDE x SIDE mode-"1" PNG, white with black ink at flat positions."""
    white = np.ones(SIDE * SIDE, dtype=bool)
    white[list(ink_pixels)] = False
    img = Image.fromarray(white.reshape(SIDE, SIDE))
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


# Character c of alphabet a: ink along the first half of row a*3 + c (a
# horizontal stroke: transposing the image turns it into a vertical one).
def _char_pixels(a, c):
    row = a * 3 + c
    return [row * SIDE + j for j in range(SIDE // 2)]


def _write_background(path, top, alphabets):
    with zipfile.ZipFile(path, "w") as z:
        for a, name in alphabets:
            for c in range(2):
                for d in (1, 2, 3):
                    z.writestr(
                        f"{top}/{name}/character{c + 1:02d}/{a * 10 + c + 1:04d}_"
                        f"{d:02d}.png",
                        _png(_char_pixels(a, c) + [99 - d]),
                    )


def _run_class_pixels(r, j):
    return [j, 40 + r % 10, 60 + j % 7]


def _write_runs(path, rng):
    answers = np.empty((20, 20), dtype=int)
    with zipfile.ZipFile(path, "w") as z:
        for r in range(20):
            run = f"run{r + 1:02d}"
            perm = rng.permutation(20)
            answers[r] = perm
            order = rng.permutation(20)  # lines of class_labels.txt shuffled
            z.writestr(
                f"{run}/class_labels.txt",
                "\n".join(
                    f"{run}/test/item{i + 1:02d}.png {run}/training/class"
                    f"{perm[i] + 1:02d}.png"
                    for i in order
                )
                + "\n",
            )
            for j in range(20):
                z.writestr(
                    f"{run}/training/class{j + 1:02d}.png",
                    _png(_run_class_pixels(r, j)),
                )
            for i in range(20):
                z.writestr(
                    f"{run}/test/item{i + 1:02d}.png",
                    _png(_run_class_pixels(r, perm[i])),
                )
    return answers


@pytest.fixture(scope="module")
def fake_home(tmp_path_factory):
    if Image is None:
        pytest.skip("Pillow is not installed")
    home = tmp_path_factory.mktemp("data")
    folder = home / "omniglot"
    folder.mkdir()
    _write_background(
        folder / "images_background_small1.zip",
        "images_background_small1",
        [(0, "Alpha"), (1, "Greek")],
    )
    # Greek is in both small sets (as in the real files): read once.
    _write_background(
        folder / "images_background_small2.zip",
        "images_background_small2",
        [(1, "Greek"), (2, "Zeta")],
    )
    answers = _write_runs(folder / "all_runs.zip", np.random.default_rng(0))
    return home, answers


def test_loader_layout_labels_and_orientation(fake_home):
    home, _ = fake_home
    data = load_omniglot(home, image_size=SIDE)
    # 3 alphabets (Greek once) x 2 characters x 3 drawers.
    assert data.data.shape == (18, SIDE * SIDE)
    assert data.data.dtype == np.float32
    assert sorted(set(data.alphabet)) == ["Alpha", "Greek", "Zeta"]
    assert sorted(set(data.target))[:2] == ["Alpha/character01", "Alpha/character02"]
    assert np.bincount(data.drawer).tolist() == [0, 6, 6, 6]
    for i in range(len(data.target)):
        alphabet, char = data.target[i].split("/")
        a = ["Alpha", "Greek", "Zeta"].index(alphabet)
        c = int(char[-2:]) - 1
        expected = np.zeros(SIDE * SIDE, dtype=np.float32)
        expected[_char_pixels(a, c) + [99 - data.drawer[i]]] = 1.0  # ink = 1
        np.testing.assert_array_equal(data.data[i], expected)
        assert data.alphabet[i] == alphabet
    # Upright images: the stroke is a row of the image, not a column.
    img = data.images[0]
    assert img[0, : SIDE // 2].all() and not img[1:, 0].any()


def test_loader_runs_pair_queries_with_their_class(fake_home):
    home, answers = fake_home
    data = load_omniglot(home, image_size=SIDE)
    assert data.runs_support.shape == data.runs_query.shape == (20, 20, SIDE * SIDE)
    np.testing.assert_array_equal(data.runs_target, answers)
    for r in range(20):
        for j in range(20):
            expected = np.zeros(SIDE * SIDE, dtype=np.float32)
            expected[_run_class_pixels(r, j)] = 1.0
            np.testing.assert_array_equal(data.runs_support[r, j], expected)
        np.testing.assert_array_equal(
            data.runs_query[r], data.runs_support[r, data.runs_target[r]]
        )


def test_loader_downsamples_by_area(fake_home):
    home, _ = fake_home
    full = load_omniglot(home, image_size=SIDE)
    half = load_omniglot(home, image_size=SIDE // 2)
    assert half.data.shape == (18, (SIDE // 2) ** 2)
    # BOX resampling by 2 is the mean over 2 x 2 blocks.
    blocks = full.images.reshape(18, SIDE // 2, 2, SIDE // 2, 2).mean(axis=(2, 4))
    np.testing.assert_allclose(half.images, blocks, atol=1e-6)


def test_loader_errors(fake_home, tmp_path):
    home, _ = fake_home
    with pytest.raises(FileNotFoundError, match="brendenlake/omniglot"):
        load_omniglot(tmp_path)
    with pytest.raises(ValueError, match="image_size"):
        load_omniglot(home, image_size=0)
    with pytest.raises(ValueError, match="sets"):
        load_omniglot(home, sets=("small3",))
    bad = tmp_path / "omniglot"
    bad.mkdir()
    for name in ("images_background_small1.zip", "all_runs.zip"):
        (bad / name).write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="images_background_small1.zip"):
        load_omniglot(tmp_path, sets="small1")


def _real_home():
    home = os.environ.get("SKLEARN_MTL_DATA")
    candidates = [home] if home else []
    candidates.append(str(Path(__file__).resolve().parents[2] / "shared" / "data"))
    for c in candidates:
        if c and (Path(c) / "omniglot" / "all_runs.zip").is_file():
            return c
    return None


@needs_pil
@pytest.mark.skipif(_real_home() is None, reason="Omniglot files not present")
def test_loader_real_data():
    from sklearn.neighbors import KNeighborsClassifier

    data = load_omniglot(_real_home())
    assert data.data.shape == (4840, 784)
    assert len(np.unique(data.target)) == 242
    assert len(np.unique(data.alphabet)) == 8
    assert 0 <= data.data.min() and data.data.max() <= 1
    assert data.data.mean() < 0.2  # ink = 1 on a mostly white page
    # run01/class_labels.txt starts "run01/test/item01.png run01/training/class08.png".
    assert data.runs_target[0, 0] == 7
    # Raw-pixel 1-NN is poor but far from chance (95 %): a wrong pairing of
    # queries and classes would put it at chance.
    errors = [
        np.mean(
            KNeighborsClassifier(1)
            .fit(data.runs_support[r], np.arange(20))
            .predict(data.runs_query[r])
            != data.runs_target[r]
        )
        for r in range(20)
    ]
    assert 0.6 < np.mean(errors) < 0.88


# --- the ConvNet and the meta-learners on it -----------------------------------

from sklearn_mtl.meta._gradient import GradientMetaClassifier  # noqa: E402
from sklearn_mtl.meta._prototypes import PrototypicalClassifier  # noqa: E402

if torch is not None:
    torch.set_num_threads(1)  # tiny networks: one thread is faster on a shared CPU
    from sklearn_mtl.neural._conv import ConvNet

    TINY = functools.partial(ConvNet, image_shape=(8, 8), n_filters=4, n_blocks=2)


@needs_torch
def test_convnet_shapes_and_row_major_reshape():
    torch.manual_seed(0)
    assert ConvNet(784, 5)(torch.zeros(3, 784)).shape == (3, 5)
    assert ConvNet(image_shape=(28, 28))(torch.zeros(3, 784)).shape == (3, 64)
    net = ConvNet(3 * 16 * 8, image_shape=(3, 16, 8), n_filters=6, n_blocks=3)
    X = torch.randn(4, 3 * 16 * 8)
    assert net(X).shape == (4, net.n_embedding) and net.n_embedding == 6 * 2 * 1
    net.eval()
    # Rows are images in C order (channels, then rows of pixels).
    np.testing.assert_array_equal(
        net(X).detach(), net.trunk(X.view(4, 3, 16, 8)).detach()
    )
    with pytest.raises(ValueError, match="784 features"):
        ConvNet(784, image_shape=(20, 20))
    with pytest.raises(ValueError, match="n_blocks"):
        ConvNet(image_shape=(8, 8), n_blocks=4)
    with pytest.raises(ValueError, match="image_shape"):
        ConvNet(image_shape=(8,))


def _image_tasks(n_tasks=6, n_classes=4, per_class=5, seed=0, noise=0.15):
    """Tasks of 4 classes, each class a random 8 x 8 template plus noise;
    labels 0..3 per task (a label means nothing across tasks)."""
    rng = np.random.default_rng(seed)
    X, y, t = [], [], []
    for task in range(n_tasks):
        templates = (rng.random((n_classes, 64)) < 0.3).astype(np.float32)
        for k in range(n_classes):
            X.append(templates[k] + noise * rng.standard_normal((per_class, 64)))
            y.append(np.full(per_class, k))
            t.append(np.full(per_class, task))
    return (
        np.concatenate(X).astype(np.float32),
        np.concatenate(y),
        np.concatenate(t),
    )


@needs_torch
def test_prototypical_cnn_beats_chance_and_prototypes_by_hand():
    X, y, t = _image_tasks()
    model = PrototypicalClassifier(
        network=TINY,
        standardize=False,
        n_meta_iter=5,
        support_fraction=0.4,
        random_state=0,
        device="cpu",
    ).fit(X, y, task_ids=t)
    Xn, yn, tn = _image_tasks(n_tasks=3, seed=1)
    support = np.concatenate(
        [
            np.flatnonzero((tn == task) & (np.arange(len(tn)) % 5 == 0))
            for task in range(3)
        ]
    )
    query = np.setdiff1d(np.arange(len(tn)), support)
    model.adapt(Xn[support], yn[support], task_ids=tn[support] + 100)
    acc = np.mean(model.predict(Xn[query], task_ids=tn[query] + 100) == yn[query])
    assert acc > 0.6  # chance: 0.25
    # Prototypes: mean over each class's support rows of the evaluation-mode
    # embedding (batch norm with the running statistics of training).
    net = TINY(64)
    net.load_state_dict(
        {k: torch.as_tensor(v) for k, v in model.embedding_params_.items()}
    )
    net.eval()
    with torch.no_grad():
        emb = net(torch.as_tensor(Xn[support])).numpy()
    task_index = np.searchsorted(model.tasks_, 100)
    for k in range(4):
        rows = (tn[support] == 0) & (yn[support] == k)
        np.testing.assert_allclose(
            model.prototypes_[task_index, k],
            emb[rows].mean(axis=0),
            rtol=1e-5,
            atol=1e-6,
        )
    # The fitted tasks' prototypes too (all their training rows).
    with torch.no_grad():
        emb = net(torch.as_tensor(X[t == 0])).numpy()
    for k in range(4):
        np.testing.assert_allclose(
            model.prototypes_[0, k],
            emb[y[t == 0] == k].mean(axis=0),
            rtol=1e-5,
            atol=1e-6,
        )
    # A prediction does not depend on the rows predicted with it.
    one = model.predict_proba(Xn[query[:1]], task_ids=tn[query[:1]] + 100)
    many = model.predict_proba(Xn[query], task_ids=tn[query] + 100)[:1]
    np.testing.assert_allclose(one, many, rtol=1e-5, atol=1e-7)


@needs_torch
@pytest.mark.parametrize("algorithm", ["maml", "fomaml", "reptile"])
def test_maml_family_with_batch_norm(algorithm):
    X, y, t = _image_tasks()
    model = GradientMetaClassifier(
        algorithm=algorithm,
        network=TINY,
        standardize=False,
        n_meta_iter=2,
        inner_steps=2,
        inner_lr=0.1,
        meta_batch_size=2,
        random_state=0,
        device="cpu",
    ).fit(X, y, task_ids=t)
    assert np.isfinite(model.meta_loss_).all() or algorithm == "reptile"
    Xn, yn, _ = _image_tasks(n_tasks=1, seed=1)
    model.adapt(Xn[::5], yn[::5], task_ids=[9] * 4)
    i = np.searchsorted(model.tasks_, 9)
    # The stored batch-norm statistics are those of the support rows at the
    # task's adapted parameters (first block: mean and unbiased variance of
    # the first convolution's output over images and pixels).
    weight = torch.as_tensor(model.task_params_["trunk.0.weight"][i])
    bias = torch.as_tensor(model.task_params_["trunk.0.bias"][i])
    conv = torch.nn.functional.conv2d(
        torch.as_tensor(Xn[::5]).view(4, 1, 8, 8), weight, bias, padding=1
    )
    np.testing.assert_allclose(
        model.task_params_["trunk.1.running_mean"][i],
        conv.mean(dim=(0, 2, 3)),
        rtol=1e-4,
        atol=1e-6,
    )
    np.testing.assert_allclose(
        model.task_params_["trunk.1.running_var"][i],
        conv.var(dim=(0, 2, 3), unbiased=True),
        rtol=1e-4,
        atol=1e-6,
    )
    one = model.predict_proba(Xn[1:2], task_ids=[9])
    many = model.predict_proba(Xn[1:10], task_ids=[9] * 9)[:1]
    np.testing.assert_allclose(one, many, rtol=1e-5, atol=1e-7)


@needs_torch
def test_anil_with_cnn_leaves_trunk_bit_identical():
    X, y, t = _image_tasks()
    model = GradientMetaClassifier(
        algorithm="anil",
        network=functools.partial(TINY),
        standardize=False,
        n_meta_iter=2,
        inner_steps=3,
        inner_lr=0.5,
        random_state=0,
        device="cpu",
    ).fit(X, y, task_ids=t)
    Xn, yn, _ = _image_tasks(n_tasks=1, seed=2)
    model.adapt(Xn, yn, task_ids=[7] * len(yn))
    i = np.searchsorted(model.tasks_, 7)
    for k, v in model.meta_params_.items():
        if k.startswith("trunk."):
            np.testing.assert_array_equal(model.task_params_[k][i], v)
    assert not np.array_equal(
        model.task_params_["head.weight"][i], model.meta_params_["head.weight"]
    )


@needs_torch
def test_anil_needs_a_head():
    X, y, t = _image_tasks(n_tasks=2)
    model = GradientMetaClassifier(
        algorithm="anil", network=lambda n_in, n_out: TINY(n_in), device="cpu"
    )
    with pytest.raises(ValueError, match="head"):
        model.fit(X, y, task_ids=t)


@needs_torch
@pytest.mark.parametrize("cls", [PrototypicalClassifier, GradientMetaClassifier])
def test_cnn_models_pickle_and_clone(cls):
    from sklearn.base import clone

    X, y, t = _image_tasks(n_tasks=3)
    model = cls(
        network=TINY, standardize=False, n_meta_iter=2, random_state=0, device="cpu"
    ).fit(X, y, task_ids=t)
    model.adapt(X[:8], y[:8], task_ids=[50] * 8)
    back = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(
        back.predict_proba(X[:6], task_ids=[50] * 6),
        model.predict_proba(X[:6], task_ids=[50] * 6),
    )
    refit = clone(model).fit(X, y, task_ids=t)
    np.testing.assert_array_equal(
        refit.predict_proba(X[:6], task_ids=t[:6]),
        model.predict_proba(X[:6], task_ids=t[:6]),
    )
