"""Real multi-task datasets (read from a data home) and synthetic generators."""

from ._home import get_data_home
from ._omniglot import load_omniglot
from ._real import load_concrete, load_landmine, load_office_caltech, load_school
from ._synthetic import make_multitask_classification, make_multitask_regression

__all__ = [
    "get_data_home",
    "load_concrete",
    "load_office_caltech",
    "load_landmine",
    "load_omniglot",
    "load_school",
    "make_multitask_classification",
    "make_multitask_regression",
]
