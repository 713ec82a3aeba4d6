"""Per-task preprocessing: ``PerTask`` fits one transformer per task."""

from ._per_task import PerTask

__all__ = ["PerTask"]
