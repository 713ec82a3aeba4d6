"""Scorers that know the tasks, for ``scoring=`` in searches and CV."""

from sklearn.metrics._scorer import _BaseScorer
from sklearn.utils._param_validation import StrOptions, validate_params
from sklearn.utils.metadata_routing import _raise_for_params

from .._tasks import resolve_task_labels
from ._per_task import _positive_scores, per_task_score

__all__ = ["make_task_scorer"]

_RESPONSE_METHODS = ("predict", "predict_proba", "decision_function")


def _task_column_of(estimator):
    """The ``task_column`` that reads the scorer's X, or None.

    A fitted search scores with its best estimator. In a Pipeline the first
    step that sets a task column reads the X given to the pipeline (a
    ``PerTask`` step keeps the column in place for the next ones); otherwise
    the final estimator's column is used.
    """
    while hasattr(estimator, "best_estimator_"):
        estimator = estimator.best_estimator_
    if hasattr(estimator, "steps"):
        for _, step in estimator.steps:
            column = getattr(step, "task_column", None)
            if column is not None:
                return column
        return _task_column_of(estimator.steps[-1][1])
    return getattr(estimator, "task_column", None)


def _pick_response_method(estimator, response_method):
    methods = (
        (response_method,) if isinstance(response_method, str) else response_method
    )
    for method in methods:
        if hasattr(estimator, method):
            return method
    raise AttributeError(
        f"{type(estimator).__name__} has none of the response methods "
        f"{list(methods)} the scorer needs."
    )


class _TaskIdsScorer(_BaseScorer):
    """A scorer that requests ``task_ids`` by default, like the estimators."""

    def _get_metadata_request(self):
        requests = super()._get_metadata_request()
        if not hasattr(self, "_metadata_request"):
            # Like the package's estimators, task_ids is requested by default.
            requests.score.add_request(param="task_ids", alias=True)
        return requests

    def set_score_request(self, **kwargs):
        """Set the metadata requested by the scorer.

        ``task_ids`` stays requested unless set here (e.g. ``task_ids=False``
        to read the task column instead). Needs metadata routing enabled.

        Parameters
        ----------
        **kwargs : dict
            ``param_name=alias`` with alias in ``{True, False, None, str}``.

        Returns
        -------
        self : object
            The scorer.
        """
        super().set_score_request(**kwargs)
        if "task_ids" not in kwargs:
            self._metadata_request.score.add_request(param="task_ids", alias=True)
        return self


class _TaskScorer(_TaskIdsScorer):
    """A per-task scorer: predicts with the task labels, scores task by task.

    The labels come from ``task_ids`` (routed metadata, requested by default,
    or given directly), else from the task column of ``X``; without either, a
    2-D ``y_true`` is scored column by column (wide format) and a 1-D one as a
    single task.
    """

    def __init__(self, score_func, sign, kwargs, response_method, average, task_column):
        super().__init__(score_func, sign, kwargs, response_method)
        self._average = average
        self._task_column = task_column

    def __repr__(self):
        name = getattr(self._score_func, "__name__", repr(self._score_func))
        sign = "" if self._sign > 0 else ", greater_is_better=False"
        column = (
            "" if self._task_column is None else f", task_column={self._task_column!r}"
        )
        extra = "".join(f", {k}={v!r}" for k, v in self._kwargs.items())
        return (
            f"make_task_scorer({name}, average={self._average!r}{sign}, "
            f"response_method={self._response_method!r}{column}{extra})"
        )

    def __call__(
        self, estimator, X, y_true, *, task_ids=None, sample_weight=None, **kwargs
    ):
        """Score ``estimator`` on ``X``, ``y_true`` task by task.

        Parameters
        ----------
        estimator : object
            Fitted estimator; its response method gets ``task_ids`` when given.
        X : array-like of shape (n_samples, n_features)
            Test samples.
        y_true : array-like of shape (n_samples,) or (n_samples, n_tasks)
            True targets.
        task_ids : array-like of shape (n_samples,), default=None
            Task label of each sample; accepted with or without metadata
            routing.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights, passed to the metric task by task.
        **kwargs : dict
            Other metadata requested through ``set_score_request`` (needs
            metadata routing).

        Returns
        -------
        score : float or dict
            The averaged score, or a dict by task label (as str) when the
            scorer was made with ``average=None``.
        """
        _raise_for_params(kwargs, self, None)
        return self._score(
            None,
            estimator,
            X,
            y_true,
            task_ids=task_ids,
            sample_weight=sample_weight,
            **kwargs,
        )

    def _score(self, method_caller, estimator, X, y_true, **kwargs):
        # method_caller (scikit-learn's cached call) cannot pass task_ids to the
        # response method, so the estimator is called directly.
        self._warn_overlap(
            message=(
                "There is an overlap between set kwargs of this scorer instance and"
                " passed metadata. Please pass them either as kwargs to "
                "`make_task_scorer` or metadata, but not both."
            ),
            kwargs=kwargs,
        )
        task_ids = kwargs.pop("task_ids", None)
        sample_weight = kwargs.pop("sample_weight", None)
        method = _pick_response_method(estimator, self._response_method)
        predict = getattr(estimator, method)
        if task_ids is not None:
            labels = resolve_task_labels(X, None, task_ids, owner="The task scorer")
            y_pred = predict(X, task_ids=task_ids)
        else:
            column = (
                self._task_column
                if self._task_column is not None
                else _task_column_of(estimator)
            )
            labels = None
            if column is not None:
                labels = resolve_task_labels(
                    X, None, task_column=column, owner="The task scorer"
                )
            y_pred = predict(X)
        if method == "predict_proba":
            y_pred = _positive_scores(y_pred)
        scores = per_task_score(
            y_true,
            y_pred,
            task_ids=labels,
            metric=self._score_func,
            average=self._average,
            output="dict" if self._average is None else "array",
            sample_weight=sample_weight,
            metric_params={**self._kwargs, **kwargs},
        )
        if self._average is None:
            return {str(task): self._sign * value for task, value in scores.items()}
        return self._sign * scores


@validate_params(
    {
        "metric": [callable],
        "average": [StrOptions({"uniform", "weighted"}), None],
        "greater_is_better": ["boolean"],
        "response_method": [list, tuple, StrOptions(set(_RESPONSE_METHODS))],
        "task_column": [int, str, None],
    },
    prefer_skip_nested_validation=True,
)
def make_task_scorer(
    metric,
    *,
    average="uniform",
    greater_is_better=True,
    response_method="predict",
    task_column=None,
    **kwargs,
):
    """Make a scorer that scores each task and averages, for ``scoring=``.

    The scorer calls ``estimator.<response_method>(X, task_ids=task_ids)``,
    scores each task with ``metric`` (see :func:`per_task_score`) and returns
    the uniform or task-size-weighted mean (``average=None``: a dict of
    per-task scores keyed by ``str(label)``, which ``cross_validate`` reports
    as ``test_<label>``; give such a scorer alone as ``scoring=``, since a
    scoring dict of several scorers needs numbers).

    Where the task labels come from, in order:

    1. ``task_ids`` metadata: requested by default, so with
       ``sklearn.set_config(enable_metadata_routing=True)``,
       ``cross_validate(..., params={"task_ids": t})`` and
       ``GridSearchCV.fit(X, y, task_ids=t)`` send each test fold's labels to
       the scorer (``set_score_request(task_ids=False)`` turns it off). A
       direct call ``scorer(est, X, y, task_ids=t)`` works without routing.
    2. the task column of ``X``: ``task_column`` here, else the estimator's
       own ``task_column`` (in a Pipeline the first step that sets one, else
       the final step's; a fitted search's best estimator). No routing needed.
    3. neither: a 2-D ``y_true`` is scored column by column (wide format),
       a 1-D one as a single task.

    Parameters
    ----------
    metric : callable
        Single-task metric ``metric(y_true, y_pred, **kwargs)``, e.g.
        :func:`~sklearn.metrics.r2_score`,
        :func:`~sklearn.metrics.roc_auc_score` (with
        ``response_method="predict_proba"``: column 1 of a binary task's
        probabilities is used) or
        :func:`~sklearn_mtl.metrics.normalized_mean_squared_error`.
    average : {"uniform", "weighted"} or None, default="uniform"
        Mean over tasks, uniform or weighted by each task's number of test
        samples; None returns the per-task dict.
    greater_is_better : bool, default=True
        False for losses: the scorer then returns the negated value, as
        scikit-learn's scorers do.
    response_method : {"predict", "predict_proba", "decision_function"} or \
            list of them, default="predict"
        Method giving ``y_pred``; the first one the estimator has in a list.
    task_column : int or str, default=None
        Column of the X given to the scorer holding the task labels; needed
        only when no step's ``task_column`` indexes that X.
    **kwargs : dict
        Extra keyword arguments of ``metric``.

    Returns
    -------
    scorer : callable
        ``scorer(estimator, X, y_true, task_ids=None, sample_weight=None)``.

    Examples
    --------
    >>> import sklearn
    >>> from sklearn.metrics import r2_score
    >>> from sklearn.model_selection import cross_validate
    >>> from sklearn_mtl import GraphMultiTaskRegressor
    >>> from sklearn_mtl.datasets import make_multitask_regression
    >>> from sklearn_mtl.metrics import make_task_scorer
    >>> from sklearn_mtl.model_selection import TaskKFold
    >>> X, y, task_ids = make_multitask_regression(n_tasks=3, random_state=0)
    >>> with sklearn.config_context(enable_metadata_routing=True):
    ...     result = cross_validate(
    ...         GraphMultiTaskRegressor(), X, y, cv=TaskKFold(3),
    ...         scoring=make_task_scorer(r2_score), params={"task_ids": task_ids})
    >>> result["test_score"].shape
    (3,)
    """
    if not isinstance(response_method, str):
        unknown = [m for m in response_method if m not in _RESPONSE_METHODS]
        if unknown or not response_method:
            raise ValueError(
                f"response_method must name methods among {list(_RESPONSE_METHODS)}, "
                f"got {response_method!r}."
            )
        response_method = tuple(response_method)
    return _TaskScorer(
        metric,
        1 if greater_is_better else -1,
        kwargs,
        response_method,
        average,
        task_column,
    )
