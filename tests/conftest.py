import os
from pathlib import Path

import numpy as np
import pytest

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture
def rng():
    return np.random.RandomState(0)


@pytest.fixture
def data_home():
    """The real datasets, when a data home is available (CI points at ../shared)."""
    home = os.environ.get("SKLEARN_MTL_DATA") or (
        str(SHARED_DATA) if SHARED_DATA.is_dir() else None
    )
    if home is None or not Path(home).is_dir():
        pytest.skip("no data home: set SKLEARN_MTL_DATA to the shared datasets")
    return home
