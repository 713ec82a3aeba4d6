"""Omniglot (Lake, Salakhutdinov & Tenenbaum): handwritten characters of 50
alphabets, for few-shot classification. Read from the authors' zip files."""

import io
import re
import zipfile

import numpy as np
from sklearn.utils import Bunch

from ._home import dataset_folder
from ._real import _bad_file

__all__ = ["load_omniglot"]

_SOURCE = (
    "the Omniglot repository of Brenden Lake, https://github.com/brendenlake/omniglot "
    "(python/images_background_small1.zip, python/images_background_small2.zip and "
    "python/one-shot-classification/all_runs.zip)"
)
_SETS = ("small1", "small2", "background", "evaluation")
_IMAGE = re.compile(r"^[^/]+/([^/]+)/(character\d+)/\d+_(\d+)\.png$")
_RUN_LINE = re.compile(
    r"^(run\d+)/test/(item\d+)\.png\s+(run\d+)/training/(class\d+)\.png$"
)
_N_RUNS = 20


def _pil():
    try:
        from PIL import Image
    except (
        ImportError
    ) as exc:  # Pillow comes with matplotlib (the docs/benchmarks extras)
        raise ImportError(
            "load_omniglot decodes PNG images with Pillow: pip install pillow "
            "(it is installed with matplotlib)."
        ) from exc
    return Image


def _decode(archive, name, path, image_size):
    """One PNG of the zip as a flat float32 row, ink = 1, resized to image_size.

    The originals are black ink on white (mode "1"); BOX resampling averages
    the pixels each output pixel covers, so thin strokes stay as grey levels
    instead of vanishing between sample points.
    """
    Image = _pil()
    try:
        with Image.open(io.BytesIO(archive.read(name))) as img:
            gray = np.asarray(img.convert("L"), dtype=np.float32) / 255.0
    except Exception as exc:  # any decoding failure means a damaged file
        problem = f"{name} cannot be decoded as a PNG image ({type(exc).__name__})"
        raise _bad_file("omniglot", path, problem, _SOURCE) from exc
    ink = Image.fromarray(1.0 - gray, mode="F")
    if ink.size != (image_size, image_size):
        ink = ink.resize((image_size, image_size), Image.Resampling.BOX)
    return np.clip(np.asarray(ink, dtype=np.float32), 0.0, 1.0).ravel()


def _open(path):
    try:
        return zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise _bad_file(
            "omniglot", path, f"it is not a readable zip archive ({exc})", _SOURCE
        ) from exc


def _background(paths, image_size):
    """Images of the background zips, the union by alphabet/character/drawer."""
    rows, chars, alphabets, drawers, seen = [], [], [], [], set()
    for path in paths:
        with _open(path) as archive:
            names = sorted(n for n in archive.namelist() if n.endswith(".png"))
            if not names:
                raise _bad_file("omniglot", path, "it holds no PNG image", _SOURCE)
            for name in names:
                match = _IMAGE.match(name)
                if match is None:
                    raise _bad_file(
                        "omniglot",
                        path,
                        f"{name} is not <set>/<alphabet>/characterNN/NNNN_DD.png",
                        _SOURCE,
                    )
                alphabet, character, drawer = match.groups()
                # small1 and small2 share Greek and Latin (the same files).
                key = (alphabet, character, drawer)
                if key in seen:
                    continue
                seen.add(key)
                rows.append(_decode(archive, name, path, image_size))
                chars.append(f"{alphabet}/{character}")
                alphabets.append(alphabet)
                drawers.append(int(drawer))
    return (
        np.stack(rows),
        np.asarray(chars),
        np.asarray(alphabets),
        np.asarray(drawers, dtype=np.int64),
    )


def _runs(path, image_size):
    """The 20 one-shot runs: support (class01..20), queries (item01..20), answers."""
    support = np.empty((_N_RUNS, 20, image_size * image_size), dtype=np.float32)
    query = np.empty_like(support)
    answer = np.empty((_N_RUNS, 20), dtype=np.int64)
    with _open(path) as archive:
        present = set(archive.namelist())
        for r in range(_N_RUNS):
            run = f"run{r + 1:02d}"
            labels = f"{run}/class_labels.txt"
            if labels not in present:
                raise _bad_file("omniglot", path, f"{labels} is missing", _SOURCE)
            lines = archive.read(labels).decode().split()
            pairs = [" ".join(lines[i : i + 2]) for i in range(0, len(lines), 2)]
            found = [_RUN_LINE.match(p) for p in pairs]
            if len(found) != 20 or not all(
                m and m.group(1) == m.group(3) == run for m in found
            ):
                raise _bad_file(
                    "omniglot",
                    path,
                    f"{labels} must pair 20 {run}/test/itemNN.png with "
                    f"{run}/training/classNN.png",
                    _SOURCE,
                )
            for m in found:
                item = int(m.group(2)[4:]) - 1
                answer[r, item] = int(m.group(4)[5:]) - 1
            if sorted(answer[r]) != sorted(set(answer[r])) or answer[r].max() > 19:
                raise _bad_file(
                    "omniglot", path, f"{labels} pairs items with a bad class", _SOURCE
                )
            for j in range(20):
                for kind, out, stem in (
                    ("training", support, "class"),
                    ("test", query, "item"),
                ):
                    name = f"{run}/{kind}/{stem}{j + 1:02d}.png"
                    if name not in present:
                        raise _bad_file("omniglot", path, f"{name} is missing", _SOURCE)
                    out[r, j] = _decode(archive, name, path, image_size)
    return support, query, answer


def load_omniglot(data_home=None, *, image_size=28, sets=("small1", "small2")):
    """Load Omniglot's background images and its 20 official one-shot runs.

    Omniglot (Lake, Salakhutdinov & Tenenbaum, Science 2015) holds 1,623
    handwritten characters of 50 alphabets, each drawn once by 20 people. The
    background images are for (meta-)training; the one-shot benchmark is 20
    runs of 20-way within-alphabet classification on alphabets absent from
    the background: each run gives one image of each of 20 characters (the
    support set) and 20 query images, one per character, to match to them.
    The error is the share of the 400 queries matched to the wrong class.

    Files expected in ``<data_home>/omniglot/``, as published in
    https://github.com/brendenlake/omniglot (``python/``):
    ``images_background_small1.zip`` and ``images_background_small2.zip``
    (the authors' reduced background sets: 5 alphabets each, Greek and Latin
    in both, 8 in the union; 242 characters, 4,840 images) and
    ``all_runs.zip`` (the one-shot runs). ``sets`` may also name
    ``"background"`` (``images_background.zip``, 30 alphabets) or
    ``"evaluation"`` (``images_evaluation.zip``) when those files are there.

    Images are 105 x 105 black ink on white; they are returned with ink = 1,
    downsampled to ``image_size`` x ``image_size`` by area averaging (Pillow's
    BOX filter), row-major: ``data[i].reshape(image_size, image_size)`` shows
    the character upright. Decoding needs Pillow (installed with matplotlib).

    Parameters
    ----------
    data_home : str or path-like, default=None
        Folder holding an ``omniglot`` sub-folder; default ``$SKLEARN_MTL_DATA``.
    image_size : int, default=28
        Side of the returned square images (105 keeps the originals).
    sets : tuple of str, default=("small1", "small2")
        Background sets to read, in order; an image in several sets (same
        alphabet, character and drawer) is read once.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        - ``data``: (n_images, image_size**2) float32 in [0, 1], ink = 1;
        - ``images``: the same as (n_images, image_size, image_size);
        - ``target``: (n_images,) character label ``"Alphabet/characterNN"``;
        - ``alphabet``: (n_images,) alphabet name (the natural task label);
        - ``drawer``: (n_images,) drawer number 1..20;
        - ``runs_support``: (20, 20, image_size**2) the support image of class
          ``j`` of run ``r`` (``training/class{j+1}.png``);
        - ``runs_query``: (20, 20, image_size**2) query ``i`` of run ``r``
          (``test/item{i+1}.png``);
        - ``runs_target``: (20, 20) int, the class (0..19, index into
          ``runs_support[r]``) of each query, from ``class_labels.txt``;
        - ``DESCR``.

    Raises
    ------
    FileNotFoundError
        If a file is missing; the message says where to get it.
    ValueError
        If a file is corrupt or incomplete (names the file and the problem),
        or ``image_size`` / ``sets`` is invalid.

    Examples
    --------
    >>> from sklearn_mtl.datasets import load_omniglot  # doctest: +SKIP
    >>> omniglot = load_omniglot()  # doctest: +SKIP
    >>> omniglot.data.shape, omniglot.runs_support.shape  # doctest: +SKIP
    ((4840, 784), (20, 20, 784))
    """
    if not isinstance(image_size, (int, np.integer)) or not 1 <= image_size <= 105:
        raise ValueError(
            f"image_size must be an integer in [1, 105], got {image_size!r}."
        )
    sets = (sets,) if isinstance(sets, str) else tuple(sets)
    bad = [s for s in sets if s not in _SETS]
    if not sets or bad:
        raise ValueError(
            f"sets must be a non-empty tuple of {list(_SETS)}, got {sets!r}."
        )
    files = {
        "small1": "images_background_small1.zip",
        "small2": "images_background_small2.zip",
        "background": "images_background.zip",
        "evaluation": "images_evaluation.zip",
    }
    required = [files[s] for s in sets] + ["all_runs.zip"]
    folder = dataset_folder("omniglot", data_home, required, _SOURCE)
    paths = [folder / files[s] for s in dict.fromkeys(sets)]
    data, target, alphabet, drawer = _background(paths, image_size)
    support, query, answer = _runs(folder / "all_runs.zip", image_size)
    return Bunch(
        data=data,
        images=data.reshape(-1, image_size, image_size),
        target=target,
        alphabet=alphabet,
        drawer=drawer,
        runs_support=support,
        runs_query=query,
        runs_target=answer,
        DESCR=load_omniglot.__doc__,
    )
