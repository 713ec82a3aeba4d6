"""Task-aware cross-validation: splitters that read the task convention."""

from ._leave_out import LeaveOneTaskOut, LeavePTasksOut
from ._split import TaskKFold, TaskShuffleSplit, train_test_split

__all__ = [
    "LeaveOneTaskOut",
    "LeavePTasksOut",
    "TaskKFold",
    "TaskShuffleSplit",
    "train_test_split",
]
