"""Loaders for the real multi-task datasets (never downloaded by this package)."""

import numpy as np
from scipy.io import loadmat
from sklearn.utils import Bunch

from ._home import dataset_folder

__all__ = ["load_school", "load_landmine", "load_concrete", "load_office_caltech"]

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
    raw = loadmat(folder / "argyriou_splits" / "school_b.mat")
    X = raw["x"].T.astype(np.float64)[:, :-1]
    y = raw["y"].ravel().astype(np.float64)
    starts = raw["task_indexes"].ravel().astype(int) - 1
    sizes = np.diff(np.append(starts, len(y)))
    task_ids = np.repeat(np.arange(1, len(starts) + 1), sizes)
    splits = []
    for i in range(1, 11):
        index = loadmat(folder / "argyriou_splits" / f"school_{i}_indexes.mat")
        splits.append((index["tr"].ravel() - 1, index["tst"].ravel() - 1))
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
    raw = loadmat(folder / "LandmineData.mat")
    features = [np.asarray(f, dtype=np.float64) for f in raw["feature"].ravel()]
    labels = [np.asarray(lab).ravel().astype(int) for lab in raw["label"].ravel()]
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

    Examples
    --------
    >>> from sklearn_mtl.datasets import load_concrete
    >>> load_concrete().data.shape  # doctest: +SKIP
    (1030, 8)
    """
    folder = dataset_folder(
        "concrete_uci", data_home, ["Concrete_Data_Yeh.csv"], _CONCRETE_SOURCE
    )
    with open(folder / "Concrete_Data_Yeh.csv") as handle:
        header = handle.readline().strip().split(",")
    values = np.loadtxt(folder / "Concrete_Data_Yeh.csv", delimiter=",", skiprows=1)
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

    Examples
    --------
    >>> from sklearn_mtl.datasets import load_office_caltech
    >>> office = load_office_caltech()  # doctest: +SKIP
    >>> office.splits["amazon", "webcam"][0]["target_train"].shape  # doctest: +SKIP
    (30,)
    """
    required = [f"{_OFFICE_FILES[d]}_SURF_L10.mat" for d in OFFICE_DOMAINS]
    folder = dataset_folder(
        "office_caltech10_surf", data_home, required, _OFFICE_SOURCE
    )
    features, labels, domains, offsets = [], [], [], {}
    for name in OFFICE_DOMAINS:
        raw = loadmat(folder / f"{_OFFICE_FILES[name]}_SURF_L10.mat")
        offsets[name] = sum(len(f) for f in features)
        features.append(raw["fts"].astype(np.float64))
        labels.append(raw["labels"].ravel().astype(int))
        domains.append(np.full(len(labels[-1]), name))
    splits = {}
    split_folder = folder / "splits_semisup_20trials"
    for source in OFFICE_DOMAINS:
        for target in OFFICE_DOMAINS:
            path = (
                split_folder
                / f"SameCategory_{source}-{target}_20RandomTrials_10Categories.mat"
            )
            if source == target or not path.is_file():
                continue
            raw = loadmat(path)

            trials = [
                {
                    "source_train": _split_rows(
                        raw, "train", "source", i, offsets[source]
                    ),
                    "target_train": _split_rows(
                        raw, "train", "target", i, offsets[target]
                    ),
                    "target_test": _split_rows(
                        raw, "test", "target", i, offsets[target]
                    ),
                }
                for i in range(raw["train"]["source"][0, 0].shape[1])
            ]
            splits[source, target] = trials
    return Bunch(
        data=np.vstack(features),
        target=np.concatenate(labels),
        domain=np.concatenate(domains),
        splits=splits,
        DESCR=load_office_caltech.__doc__,
    )


def _split_rows(raw, part, side, trial, offset):
    # 1-based (and small unsigned) in the files: widen, then shift to global rows.
    local = raw[part][side][0, 0][0, trial].ravel().astype(np.int64)
    return local - 1 + offset
