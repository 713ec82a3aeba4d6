"""Loaders for the real multi-task datasets (never downloaded by this package)."""

import warnings

import numpy as np
from scipy.io import loadmat
from sklearn.utils import Bunch

from ._home import dataset_folder

__all__ = ["load_school", "load_landmine", "load_concrete", "load_office_caltech"]


def _bad_file(dataset, path, problem, source):
    """The error for a present but unusable file: dataset, file, what is wrong."""
    return ValueError(
        f"Dataset {dataset!r}: the file {path} is corrupt, truncated or "
        f"incomplete: {problem}. Replace it with a fresh copy of {source}."
    )


def _read_mat(dataset, path, keys, source):
    """``loadmat(path)``, checked to hold the variables ``keys``."""
    try:
        raw = loadmat(path)
    # A damaged file fails anywhere in scipy's parser (ValueError, OSError,
    # zlib.error, MatReadError, TypeError, ...): all mean "not a readable .mat".
    except Exception as exc:
        problem = f"it cannot be read as a MATLAB file ({type(exc).__name__}: {exc})"
        raise _bad_file(dataset, path, problem, source) from exc
    missing = [key for key in keys if key not in raw]
    if missing:
        found = sorted(key for key in raw if not key.startswith("__"))
        problem = f"it lacks the variable(s) {missing} (it holds {found})"
        raise _bad_file(dataset, path, problem, source)
    return raw


def _check_file(condition, dataset, path, problem, source):
    if not condition:
        raise _bad_file(dataset, path, problem, source)


def _indices(values, n, dataset, path, what, source):
    """1-based indices from a file as a 1-D int array, checked to lie in 1..n."""
    values = np.asarray(values, dtype=np.float64).ravel()
    _check_file(
        values.size > 0
        and np.all(values == np.round(values))
        and values.min() >= 1
        and values.max() <= n,
        dataset,
        path,
        f"{what} must be whole numbers between 1 and {n}",
        source,
    )
    return values.astype(np.int64)


_SCHOOL_SOURCE = (
    "the School data of Argyriou, Evgeniou & Pontil (2008): school_b.mat and "
    "school_{1..10}_indexes.mat, e.g. from https://github.com/tjanez/PyMTL "
    "(data/school/); original data: Centre for Multilevel Modelling, Bristol"
)
_LANDMINE_SOURCE = (
    "LandmineData.mat of Xue, Liao, Carin & Krishnapuram (JMLR 2007), "
    "http://www.ee.duke.edu/~lcarin/LandmineData.zip"
)


def load_school(data_home=None):
    """Load the School exam-score data: 139 schools, 15,362 students.

    Multi-task regression: each school is a task; the target is a student's
    exam score. The 27 features are binary encodings of year, gender, VR band,
    ethnic group, school gender and denomination, and two school percentages
    (%FSM, %VR1). The published constant bias column is dropped, since every
    estimator here fits its own intercepts.

    Files expected in ``<data_home>/school/argyriou_splits/``:
    ``school_b.mat`` and ``school_1_indexes.mat`` ... ``school_10_indexes.mat``.

    Parameters
    ----------
    data_home : str or path-like, default=None
        Folder holding a ``school`` sub-folder; default ``$SKLEARN_MTL_DATA``.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        ``data`` (15362, 27) float array, ``target`` (15362,), ``task_ids``
        (15362,) school number 1..139, ``splits``: the 10 published
        75 % / 25 %-per-school (train_indices, test_indices) pairs, and
        ``DESCR``.

    Raises
    ------
    FileNotFoundError
        If a file is missing; the message says where to get it.
    ValueError
        If a file is corrupt, truncated or incomplete; the message names the
        dataset, the file and what is wrong.

    Examples
    --------
    >>> from sklearn_mtl.datasets import load_school
    >>> school = load_school()  # doctest: +SKIP
    >>> school.data.shape  # doctest: +SKIP
    (15362, 27)
    """
    required = ["argyriou_splits/school_b.mat"] + [
        f"argyriou_splits/school_{i}_indexes.mat" for i in range(1, 11)
    ]
    folder = dataset_folder("school", data_home, required, _SCHOOL_SOURCE)
    path = folder / "argyriou_splits" / "school_b.mat"
    raw = _read_mat("school", path, ["x", "y", "task_indexes"], _SCHOOL_SOURCE)
    x, y = np.asarray(raw["x"], dtype=np.float64), raw["y"].ravel()
    _check_file(
        x.ndim == 2 and x.shape[0] >= 2 and x.shape[1] == y.size,
        "school",
        path,
        f"x {x.shape} must be (n_features + 1, n_samples) with as many samples "
        f"as y ({y.size})",
        _SCHOOL_SOURCE,
    )
    X = x.T[:, :-1]
    y = y.astype(np.float64)
    _check_file(
        np.all(np.isfinite(X)) and np.all(np.isfinite(y)),
        "school",
        path,
        "x or y holds NaN or infinity",
        _SCHOOL_SOURCE,
    )
    starts = _indices(
        raw["task_indexes"], len(y), "school", path, "task_indexes", _SCHOOL_SOURCE
    )
    _check_file(
        starts[0] == 1 and np.all(np.diff(starts) > 0),
        "school",
        path,
        "task_indexes must start at 1 and increase (the first row of each school)",
        _SCHOOL_SOURCE,
    )
    starts = starts - 1
    sizes = np.diff(np.append(starts, len(y)))
    task_ids = np.repeat(np.arange(1, len(starts) + 1), sizes)
    splits = []
    for i in range(1, 11):
        path = folder / "argyriou_splits" / f"school_{i}_indexes.mat"
        index = _read_mat("school", path, ["tr", "tst"], _SCHOOL_SOURCE)
        train, test = (
            _indices(index[key], len(y), "school", path, key, _SCHOOL_SOURCE) - 1
            for key in ("tr", "tst")
        )
        splits.append((train, test))
    return Bunch(
        data=X,
        target=y,
        task_ids=task_ids,
        splits=splits,
        feature_names=[f"x{j}" for j in range(X.shape[1])],
        DESCR=load_school.__doc__,
    )


def load_landmine(data_home=None):
    """Load the Landmine detection data: 29 fields, 14,820 radar readings.

    Multi-task binary classification: each field is a task (1-15 highly
    foliated, 16-29 bare earth or desert); the label says whether a reading
    is a landmine (about 6 % are). Nine features per reading.

    File expected: ``<data_home>/landmine/LandmineData.mat``.

    Parameters
    ----------
    data_home : str or path-like, default=None
        Folder holding a ``landmine`` sub-folder; default ``$SKLEARN_MTL_DATA``.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        ``data`` (14820, 9), ``target`` (14820,) in {0, 1}, ``task_ids``
        (14820,) field number 1..29, and ``DESCR``.

    Raises
    ------
    FileNotFoundError
        If a file is missing; the message says where to get it.
    ValueError
        If a file is corrupt, truncated or incomplete; the message names the
        dataset, the file and what is wrong.

    Examples
    --------
    >>> from sklearn_mtl.datasets import load_landmine
    >>> landmine = load_landmine()  # doctest: +SKIP
    >>> landmine.data.shape  # doctest: +SKIP
    (14820, 9)
    """
    folder = dataset_folder(
        "landmine", data_home, ["LandmineData.mat"], _LANDMINE_SOURCE
    )
    path = folder / "LandmineData.mat"
    raw = _read_mat("landmine", path, ["feature", "label"], _LANDMINE_SOURCE)
    try:
        features = [np.asarray(f, dtype=np.float64) for f in raw["feature"].ravel()]
        labels = [
            np.asarray(lab, dtype=np.float64).ravel() for lab in raw["label"].ravel()
        ]
    except (TypeError, ValueError) as exc:
        problem = f"feature and label must be cells of numeric arrays ({exc})"
        raise _bad_file("landmine", path, problem, _LANDMINE_SOURCE) from exc
    _check_file(
        len(features) == len(labels) > 0,
        "landmine",
        path,
        f"feature has {len(features)} fields but label has {len(labels)}",
        _LANDMINE_SOURCE,
    )
    for t, (field, label) in enumerate(zip(features, labels)):
        _check_file(
            field.ndim == 2
            and field.shape == (label.size, features[0].shape[1])
            and np.all(np.isfinite(field))
            and np.all((label == 0) | (label == 1)),
            "landmine",
            path,
            f"field {t + 1} must hold a finite (n, {features[0].shape[1]}) feature "
            f"array and n labels in {{0, 1}}; got features {field.shape} and "
            f"{label.size} labels",
            _LANDMINE_SOURCE,
        )
    labels = [label.astype(int) for label in labels]
    task_ids = np.concatenate(
        [np.full(len(lab), t + 1) for t, lab in enumerate(labels)]
    )
    return Bunch(
        data=np.vstack(features),
        target=np.concatenate(labels),
        task_ids=task_ids,
        DESCR=load_landmine.__doc__,
    )


_CONCRETE_SOURCE = (
    "the UCI Concrete Compressive Strength data (Yeh, 1998) as a CSV with header "
    "cement,...,age,csMPa, e.g. Concrete_Data_Yeh.csv from "
    "https://archive.ics.uci.edu/dataset/165"
)
_OFFICE_SOURCE = (
    "the Office-Caltech10 SURF features of Gong et al. (CVPR 2012), e.g. the data "
    "folder of https://github.com/VisionLearningGroup/CORAL, and the semi-supervised "
    "splits of https://github.com/Jiaolong/DA-SVMs (DataSplitsOfficeCaltech)"
)
OFFICE_DOMAINS = ("amazon", "caltech", "dslr", "webcam")
_OFFICE_FILES = {
    "amazon": "amazon",
    "caltech": "Caltech10",
    "dslr": "dslr",
    "webcam": "webcam",
}


def load_concrete(data_home=None):
    """Load the Concrete compressive strength data (1,030 mixtures, 8 features).

    A single regression task, used for transfer by splitting it into domains
    along one feature (see ``benchmarks/transfer_regression.py``).

    File expected: ``<data_home>/concrete_uci/Concrete_Data_Yeh.csv``.

    Parameters
    ----------
    data_home : str or path-like, default=None
        Folder holding a ``concrete_uci`` sub-folder.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        ``data`` (1030, 8), ``target`` (1030,) strength in MPa,
        ``feature_names``, ``DESCR``.

    Raises
    ------
    FileNotFoundError
        If a file is missing; the message says where to get it.
    ValueError
        If a file is corrupt, truncated or incomplete; the message names the
        dataset, the file and what is wrong.

    Examples
    --------
    >>> from sklearn_mtl.datasets import load_concrete
    >>> load_concrete().data.shape  # doctest: +SKIP
    (1030, 8)
    """
    folder = dataset_folder(
        "concrete_uci", data_home, ["Concrete_Data_Yeh.csv"], _CONCRETE_SOURCE
    )
    path = folder / "Concrete_Data_Yeh.csv"
    try:
        with open(path) as handle:
            header = handle.readline().strip().split(",")
            # ndmin=2 keeps one row 2-D; an empty body is checked below.
            with warnings.catch_warnings():
                # "input contained no data": reported below with the file's name.
                warnings.simplefilter("ignore", UserWarning)
                values = np.loadtxt(handle, delimiter=",", ndmin=2)
    except (UnicodeDecodeError, ValueError) as exc:
        problem = f"every line after the header must hold numbers only ({exc})"
        raise _bad_file("concrete", path, problem, _CONCRETE_SOURCE) from exc
    _check_file(
        len(header) >= 2 and all(header),
        "concrete",
        path,
        f"the first line must be a header naming the columns, got {header}",
        _CONCRETE_SOURCE,
    )
    _check_file(
        values.shape[0] > 0 and values.shape[1] == len(header),
        "concrete",
        path,
        f"expected rows of {len(header)} numbers under the header, got an array "
        f"of shape {values.shape}",
        _CONCRETE_SOURCE,
    )
    _check_file(
        np.all(np.isfinite(values)),
        "concrete",
        path,
        "it holds NaN or infinity",
        _CONCRETE_SOURCE,
    )
    return Bunch(
        data=values[:, :-1],
        target=values[:, -1],
        feature_names=header[:-1],
        DESCR=load_concrete.__doc__,
    )


def load_office_caltech(data_home=None):
    """Load Office-Caltech10 SURF features: 4 domains, 10 shared classes.

    Domains amazon (958 images), caltech (1,123), dslr (157), webcam (295);
    800-bin SURF bag-of-words counts; labels 1..10. Also the published
    semi-supervised splits (20 trials per source -> target pair: 20 (amazon,
    caltech) or 8 (dslr, webcam) labelled source images per class, 3 labelled
    target images per class, the other target images for testing).

    Files expected in ``<data_home>/office_caltech10_surf/``: the four
    ``*_SURF_L10.mat`` and ``splits_semisup_20trials/``.

    Parameters
    ----------
    data_home : str or path-like, default=None
        Folder holding an ``office_caltech10_surf`` sub-folder.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        ``data`` (2533, 800) raw counts, ``target`` (2533,) labels,
        ``domain`` (2533,) domain names, and ``splits``: a dict mapping
        ``(source, target)`` to a list of trials, each a dict of global row
        indices ``source_train``, ``target_train``, ``target_test``.

    Raises
    ------
    FileNotFoundError
        If a file is missing; the message says where to get it.
    ValueError
        If a file is corrupt, truncated or incomplete; the message names the
        dataset, the file and what is wrong.

    Examples
    --------
    >>> from sklearn_mtl.datasets import load_office_caltech
    >>> office = load_office_caltech()  # doctest: +SKIP
    >>> office.splits["amazon", "webcam"][0]["target_train"].shape  # doctest: +SKIP
    (30,)
    """
    split_files = {
        (source, target): "splits_semisup_20trials/SameCategory_"
        f"{source}-{target}_20RandomTrials_10Categories.mat"
        for source in OFFICE_DOMAINS
        for target in OFFICE_DOMAINS
        if source != target
    }
    required = [f"{_OFFICE_FILES[d]}_SURF_L10.mat" for d in OFFICE_DOMAINS]
    folder = dataset_folder(
        "office_caltech10_surf",
        data_home,
        required + list(split_files.values()),
        _OFFICE_SOURCE,
    )
    features, labels, domains, offsets, sizes = [], [], [], {}, {}
    for name in OFFICE_DOMAINS:
        path = folder / f"{_OFFICE_FILES[name]}_SURF_L10.mat"
        raw = _read_mat("office_caltech", path, ["fts", "labels"], _OFFICE_SOURCE)
        fts, label = np.asarray(raw["fts"], dtype=np.float64), raw["labels"].ravel()
        n_features = features[0].shape[1] if features else fts.shape[-1]
        _check_file(
            fts.ndim == 2
            and fts.shape == (label.size, n_features)
            and label.size > 0
            and np.all(np.isfinite(fts)),
            "office_caltech",
            path,
            f"fts must be a finite (n_images, {n_features}) array with one label "
            f"per image; got fts {fts.shape} and {label.size} labels",
            _OFFICE_SOURCE,
        )
        offsets[name], sizes[name] = sum(len(f) for f in features), len(fts)
        features.append(fts)
        labels.append(label.astype(int))
        domains.append(np.full(len(labels[-1]), name))
    splits = {}
    for (source, target), name in split_files.items():
        path = folder / name
        raw = _read_mat("office_caltech", path, ["train", "test"], _OFFICE_SOURCE)
        try:
            n_trials = raw["train"]["source"][0, 0].shape[1]
            parts = [
                ("source_train", "train", "source", source),
                ("target_train", "train", "target", target),
                ("target_test", "test", "target", target),
            ]
            splits[source, target] = [
                {
                    key: _indices(
                        raw[part][side][0, 0][0, trial],
                        sizes[domain],
                        "office_caltech",
                        path,
                        f"{part}.{side} of trial {trial + 1}",
                        _OFFICE_SOURCE,
                    )
                    - 1
                    + offsets[domain]
                    for key, part, side, domain in parts
                }
                for trial in range(n_trials)
            ]
        except (IndexError, KeyError, TypeError, ValueError) as exc:
            if str(exc).startswith("Dataset "):
                raise
            problem = (
                "train and test must be structs with source and target fields, "
                f"each a cell of index arrays per trial ({type(exc).__name__}: {exc})"
            )
            raise _bad_file("office_caltech", path, problem, _OFFICE_SOURCE) from exc
    return Bunch(
        data=np.vstack(features),
        target=np.concatenate(labels),
        domain=np.concatenate(domains),
        splits=splits,
        DESCR=load_office_caltech.__doc__,
    )
