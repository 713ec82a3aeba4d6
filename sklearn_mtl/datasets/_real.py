"""Loaders for the real multi-task datasets (never downloaded by this package)."""

import numpy as np
from scipy.io import loadmat
from sklearn.utils import Bunch

from ._home import dataset_folder

__all__ = ["load_school", "load_landmine"]

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
