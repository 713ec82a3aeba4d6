"""Task-aware cross-validation: splitters that read the task convention."""

from ._domain_split import (
    LeaveOneDomainOut,
    SourceTargetShuffleSplit,
    pack_leave_one_domain_out,
)
from ._leave_out import LeaveOneTaskOut, LeavePTasksOut
from ._split import TaskKFold, TaskShuffleSplit, train_test_split

__all__ = [
    "LeaveOneDomainOut",
    "LeaveOneTaskOut",
    "LeavePTasksOut",
    "SourceTargetShuffleSplit",
    "TaskKFold",
    "TaskShuffleSplit",
    "pack_leave_one_domain_out",
    "train_test_split",
]
