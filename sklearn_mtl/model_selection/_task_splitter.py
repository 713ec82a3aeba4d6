"""The base every task-aware splitter shares, and their argument checks.

Every splitter reads the task of each sample through the package's task
convention (``task_ids=``, ``groups=`` as a routing-free alias, the
``task_column`` of ``X``, or a wide 2-D ``y``) and requests ``task_ids`` for
``split`` by default, so that with
``sklearn.set_config(enable_metadata_routing=True)``::

    cross_validate(model, X, y, cv=TaskKFold(), params={"task_ids": task_ids})

sends the labels to the model's ``fit`` and to the splitter alike.
"""

from numbers import Integral

from sklearn.model_selection._split import BaseCrossValidator

from .._tasks import resolve_task_labels


class _TaskSplitter(BaseCrossValidator):
    """Reads the task labels; requests ``task_ids`` (and ``groups``) for split."""

    # groups stays requested: scikit-learn passes groups= to every splitter
    # without routing, and it is the routing-free way to give task labels.
    __metadata_request__split = {"task_ids": True, "groups": True}

    def _labels(self, X, y, groups, task_ids):
        return resolve_task_labels(
            X,
            y,
            task_ids,
            task_column=self.task_column,
            groups=groups,
            owner=type(self).__name__,
        )

    def _iter_test_indices(self, X=None, y=None, groups=None):  # pragma: no cover
        raise NotImplementedError  # split is overridden


def _check_n_splits(n_splits, owner, minimum=2):
    if not isinstance(n_splits, Integral) or isinstance(n_splits, bool):
        raise ValueError(
            f"{owner}: n_splits must be an integer, got {n_splits!r} of type "
            f"{type(n_splits).__name__}."
        )
    if n_splits < minimum:
        # K-fold needs a train and a test fold; a shuffle split one draw.
        why = " (one train and one test fold)" if minimum == 2 else ""
        raise ValueError(
            f"{owner}: n_splits={n_splits} must be at least {minimum}{why}."
        )


def _check_task_column(task_column, owner):
    if task_column is not None and (
        isinstance(task_column, bool) or not isinstance(task_column, (Integral, str))
    ):
        raise ValueError(
            f"{owner}: task_column must be None, an int or a str, got {task_column!r}."
        )


def _check_stratify(stratify, owner):
    if stratify not in ("auto", True, False):
        raise ValueError(
            f"{owner}: stratify must be 'auto', True or False, got {stratify!r}."
        )
