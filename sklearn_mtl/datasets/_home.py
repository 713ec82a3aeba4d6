"""Where real datasets live: a ``data_home`` argument, else ``$SKLEARN_MTL_DATA``."""

import os
from pathlib import Path

__all__ = ["get_data_home", "dataset_folder"]

ENV_VAR = "SKLEARN_MTL_DATA"


def get_data_home(data_home=None):
    """Folder holding one sub-folder per dataset.

    Parameters
    ----------
    data_home : str or path-like, default=None
        Used as is when given; else ``$SKLEARN_MTL_DATA``; else
        ``~/sklearn_mtl_data``.

    Returns
    -------
    path : pathlib.Path

    Examples
    --------
    >>> from sklearn_mtl.datasets import get_data_home
    >>> get_data_home("/tmp/mtl").as_posix()
    '/tmp/mtl'
    """
    if data_home is None:
        data_home = os.environ.get(ENV_VAR, Path.home() / "sklearn_mtl_data")
    return Path(data_home).expanduser()


def dataset_folder(name, data_home, required, source):
    """``data_home/name``, checked to hold every file in ``required``.

    A missing file raises ``FileNotFoundError`` saying where to get the data.
    """
    folder = get_data_home(data_home) / name
    missing = [f for f in required if not (folder / f).is_file()]
    if missing:
        raise FileNotFoundError(
            f"Dataset {name!r} not found: {folder} lacks {', '.join(missing)}. "
            f"Get it from {source} and place the files in {folder}, or point "
            f"data_home (or ${ENV_VAR}) at a folder holding a {name!r} sub-folder."
        )
    return folder
