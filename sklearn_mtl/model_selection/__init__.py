"""Task-aware cross-validation: splitters that read the task convention."""

from ._split import (
    LeaveOneTaskOut,
    LeavePTasksOut,
    TaskKFold,
    TaskShuffleSplit,
    train_test_split,
)

__all__ = [
    "LeaveOneTaskOut",
    "LeavePTasksOut",
    "TaskKFold",
    "TaskShuffleSplit",
    "train_test_split",
]
