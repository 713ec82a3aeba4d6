"""Domain scorers that refit or weigh in the model's embedding.

Deep embedded validation, circular validation and the supervised target
scorer, on the base class of ``_domain_scorers.py`` (``task_ids`` requested
by default; target rows are ``task_ids == target``).
"""

from numbers import Integral, Real

import numpy as np
from sklearn import get_config
from sklearn.base import clone, is_classifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, mean_squared_error
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import Pipeline
from sklearn.utils._param_validation import (
    HasMethods,
    Interval,
    StrOptions,
    validate_params,
)
from sklearn.utils.validation import check_array

from .._tasks import missing_labels
from ._domain_scorers import _DomainScorer, _target_rows

__all__ = [
    "make_circular_validation_scorer",
    "make_deep_embedded_validation_scorer",
    "make_target_scorer",
]


def _source_side(estimator, name):
    """``estimator``'s method ``name`` for held-out *source* rows.

    A :class:`~sklearn_mtl.TransferClassifier` / ``TransferRegressor`` serves
    source rows through its source transformation (``_predict_source_rows``,
    ``_predict_proba_source_rows``); any other model as given.
    """
    return getattr(estimator, f"_{name}_source_rows", getattr(estimator, name))


def _embedded_features(estimator, X_source, X_target):
    """The features the fitted model's last step reads, per domain.

    A Transfer* model: its ``_embedded_features`` (the shared space of a
    mapping or subspace method, else the input); a Pipeline: every step but
    the last; any other model: the input features.
    """
    if hasattr(estimator, "_embedded_features"):
        return estimator._embedded_features(X_source, X_target)
    if hasattr(estimator, "steps") and len(estimator.steps) > 1:
        head = estimator[:-1]
        return np.asarray(head.transform(X_source)), np.asarray(
            head.transform(X_target)
        )
    return X_source, X_target


def _row_losses(estimator, X_source, y_source):
    """Per-row loss of the source rows: log loss (classifiers), squared error."""
    if is_classifier(estimator):
        proba = np.asarray(_source_side(estimator, "predict_proba")(X_source))
        classes = np.asarray(estimator.classes_)
        column = np.searchsorted(classes, y_source)
        column = np.clip(column, 0, len(classes) - 1)
        known = classes[column] == y_source
        # A source class the model never saw has probability 0: the clipped
        # log loss of probability 1e-15, finite.
        p_true = np.where(known, proba[np.arange(len(y_source)), column], 0.0)
        return -np.log(np.clip(p_true, 1e-15, 1.0))
    y_pred = np.asarray(_source_side(estimator, "predict")(X_source), dtype=float)
    return (y_pred - y_source.astype(float)) ** 2


class _DeepEmbeddedValidationScorer(_DomainScorer):
    _owner = "The deep embedded validation scorer"

    def __init__(self, target, discriminator, n_splits, clip, random_state):
        super().__init__(target, -1, {})
        self._discriminator = discriminator
        self._n_splits = n_splits
        self._clip = clip
        self._random_state = random_state

    def __repr__(self):
        return f"make_deep_embedded_validation_scorer(target={self._target!r})"

    def _score(self, method_caller, estimator, X, y_true, **kwargs):
        X, is_target, y_source = self._domains(X, y_true, kwargs.get("task_ids"))
        X_source, X_target = X[~is_target], X[is_target]
        n_source, n_target = len(X_source), len(X_target)
        F_source, F_target = _embedded_features(estimator, X_source, X_target)
        # p(target | f) by a domain discriminator cross-fitted on the
        # features: each source row's odds come from a model that did not
        # see it (DEV fits the discriminator on other rows than it weighs).
        n_splits = int(min(self._n_splits, n_source, n_target))
        if n_splits < 2:
            raise ValueError(
                f"{self._owner} needs at least 2 source and 2 target rows to "
                f"score; got {n_source} and {n_target}."
            )
        discriminator = (
            LogisticRegression()
            if self._discriminator is None
            else clone(self._discriminator)
        )
        logits = cross_val_predict(
            discriminator,
            np.vstack([F_source, F_target]),
            np.r_[np.zeros(n_source, int), np.ones(n_target, int)],
            cv=StratifiedKFold(n_splits, shuffle=True, random_state=self._random_state),
            method="decision_function",
        )[:n_source]
        # w = p(t|f)/p(s|f) * n_s/n_t, in the log domain and clipped: a
        # separable pair of domains gives bounded weights, never inf or NaN.
        bound = np.log(self._clip)
        weights = np.exp(np.clip(logits + np.log(n_source / n_target), -bound, bound))
        losses = _row_losses(estimator, X_source, y_source)
        weighted = weights * losses
        # Control variate (You et al., 2019, eq. 5): E[w] = 1 under the
        # source, so eta (E[w] - 1) has mean 0 and eta minimizes the variance.
        variance = np.var(weights, ddof=1)
        if variance > 0:
            eta = -np.cov(weighted, weights)[0, 1] / variance
        else:
            eta = 0.0
        risk = np.mean(weighted) + eta * np.mean(weights) - eta
        return -float(risk)


class _TargetScorer(_DomainScorer):
    _owner = "The target scorer"

    def __init__(self, target, score_func, greater_is_better, response_method):
        super().__init__(target, 1 if greater_is_better else -1, {})
        self._metric = score_func
        self._response_method = response_method

    def __repr__(self):
        return f"make_target_scorer(target={self._target!r})"

    def _score(self, method_caller, estimator, X, y_true, **kwargs):
        X = check_array(X, input_name="X")
        is_target = _target_rows(X, kwargs.get("task_ids"), self._target, self._owner)
        y_target = np.asarray(y_true)[is_target]
        labelled = ~missing_labels(y_target)
        if not labelled.any():
            raise ValueError(
                f"{self._owner} reads the target rows' labels, but every target "
                "row to score is unlabelled (NaN or None)."
            )
        y_target = y_target[labelled]
        if y_target.dtype.kind == "O":
            y_target = np.asarray(y_target.tolist())
        rows = X[is_target][labelled]
        if self._metric is None:
            y_pred = estimator.predict(rows)
            if is_classifier(estimator):
                return float(accuracy_score(y_target, y_pred))
            return -float(mean_squared_error(y_target, y_pred))
        y_pred = getattr(estimator, self._response_method)(rows)
        return self._sign * float(self._metric(y_target, y_pred))


# Methods whose backward fit (pseudo-labelled target -> unlabelled source)
# would need labels on the new target: the backward model is then the one
# trained on the pseudo-labelled rows alone.
_BACKWARD_SOURCE_ONLY = {
    "target_only",
    "parameter",
    "finetune",
    "warm_start",
    "tradaboost",
    "pooled",
}


def _is_transfer(estimator):
    return hasattr(estimator, "method_") and hasattr(estimator, "allow_unlabelled")


def _backward_fit_predict(estimator, X, is_target, y_pseudo):
    """Fit ``estimator``'s method from the (pseudo-labelled) target back to the
    (unlabelled) source rows; predictions for the source rows."""
    X_source, X_target = X[~is_target], X[is_target]
    # A Pipeline ending in a Transfer* estimator (scaling, then adaptation) is
    # swapped through its last step; refitting it on the target rows alone
    # failed with "target=... is not among the tasks of the data".
    step = ""
    transfer = estimator
    if isinstance(estimator, Pipeline) and _is_transfer(estimator.steps[-1][1]):
        step = estimator.steps[-1][0] + "__"
        transfer = estimator.steps[-1][1]
    if _is_transfer(transfer):
        method = transfer.method_
        if method in _BACKWARD_SOURCE_ONLY:
            method = "source_only"
        swapped = {
            "method": method,
            "target": 1,
            "source_estimator": None,
            "task_column": None,
            "allow_unlabelled": True,
        }
        backward = clone(estimator).set_params(
            **{step + name: value for name, value in swapped.items()}
        )
        # Roles swapped: the old target (task 0) is the labelled source, the
        # old source (task 1) the unlabelled target; labels coded 0..K-1.
        y = np.full(len(X), np.nan)
        y[is_target] = y_pseudo
        roles = np.where(is_target, 0, 1)
        if step and not get_config()["enable_metadata_routing"]:
            # Without metadata routing a Pipeline takes step-prefixed params.
            backward.fit(X, y, **{step + "task_ids": roles})
        else:
            backward.fit(X, y, task_ids=roles)
        return backward.predict(X_source)
    # Any other model: no adaptation to swap; trained on the pseudo-labels.
    return clone(estimator).fit(X_target, y_pseudo).predict(X_source)


class _CircularValidationScorer(_DomainScorer):
    _owner = "The circular validation scorer"

    def __init__(self, target, score_func, greater_is_better):
        super().__init__(target, 1 if greater_is_better else -1, {})
        self._metric = score_func

    def __repr__(self):
        return f"make_circular_validation_scorer(target={self._target!r})"

    def _score(self, method_caller, estimator, X, y_true, **kwargs):
        X, is_target, y_source = self._domains(
            X, y_true, kwargs.get("task_ids"), unlabelled_source=True
        )
        # Unlabelled source rows: the backward model adapts to them, they are
        # not scored.
        scored = ~missing_labels(y_source)
        y_source = y_source[scored]
        if y_source.dtype.kind == "O":
            y_source = np.asarray(y_source.tolist())
        classifier = is_classifier(estimator)
        y_pseudo = np.asarray(estimator.predict(X[is_target]))
        if classifier:
            # Coded 0..K-1 (a float y can then mark the unlabelled rows).
            labels, codes = np.unique(y_pseudo, return_inverse=True)
            if len(labels) == 1:
                # One predicted class: the backward model can only predict it.
                y_back = np.full(len(y_source), labels[0])
            else:
                y_back = labels[
                    np.asarray(
                        _backward_fit_predict(
                            estimator, X, is_target, codes.astype(float)
                        )
                    ).astype(int)[scored]
                ]
        else:
            y_back = _backward_fit_predict(
                estimator, X, is_target, y_pseudo.astype(float)
            )[scored]
        if self._metric is not None:
            return self._sign * float(self._metric(y_source, y_back))
        if classifier:
            return float(accuracy_score(y_source, y_back))
        return -float(mean_squared_error(y_source, y_back))


@validate_params(
    {
        "target": "no_validation",
        "discriminator": [None, HasMethods(["fit", "decision_function"])],
        "n_splits": [Interval(Integral, 2, None, closed="left")],
        "clip": [Interval(Real, 1, None, closed="left")],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def make_deep_embedded_validation_scorer(
    target, *, discriminator=None, n_splits=2, clip=100.0, random_state=0
):
    """Deep embedded validation (You et al., 2019) without target labels.

    An estimate of the target risk from the held-out *source* rows: each
    source row's loss (log loss of ``predict_proba`` for classifiers, squared
    error for regressors) weighted by the density ratio
    ``w = p_t(f) / p_s(f)`` of its features ``f`` in the model's embedding,
    with a control variate that removes most of the weights' variance::

        risk = mean(w * loss) + eta * mean(w) - eta,
        eta = -Cov(w * loss, w) / Var(w)

    (``eta = 0`` when every weight is equal). The score is ``-risk``.

    The density ratio comes from a domain discriminator (``discriminator``,
    default a logistic regression) cross-fitted over ``n_splits`` folds of
    the source and target rows' features, so that no row is weighted by a
    model that saw it: ``w = exp(logit) * n_s / n_t``, clipped to
    ``[1 / clip, clip]`` in the log domain (finite, never NaN, on separable
    domains). The embedding ``f``: for a :class:`~sklearn_mtl.TransferClassifier`
    or :class:`~sklearn_mtl.TransferRegressor` whose method maps the domains
    (augment, linear_ot, entropic_ot, subspace_alignment, tca) the mapped
    features, source rows through the source side; for a ``Pipeline`` the
    output of every step but the last; otherwise the input features. Source
    rows are predicted as the model sees sources (as for
    :func:`make_importance_weighted_scorer`).

    Parameters
    ----------
    target : object
        Task label of the target rows in ``task_ids``.
    discriminator : classifier, default=None
        Domain classifier with ``decision_function`` (None:
        ``LogisticRegression()``).
    n_splits : int, default=2
        Cross-fitting folds of the discriminator (at most the smaller domain's
        row count).
    clip : float >= 1, default=100.0
        Bound on the weights, ``[1 / clip, clip]``.
    random_state : int, RandomState instance or None, default=0
        Shuffles the cross-fitting folds.

    Returns
    -------
    scorer : callable
        ``scorer(estimator, X, y, task_ids=...)``, minus the estimated target
        risk (greater is better).

    See Also
    --------
    make_importance_weighted_scorer : Importance weights on the input
        features, without the control variate.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn_mtl.metrics import (
    ...     make_deep_embedded_validation_scorer)
    >>> rng = np.random.RandomState(0)
    >>> X = np.vstack([rng.normal(size=(40, 2)), 1 + rng.normal(size=(40, 2))])
    >>> y = np.r_[(X[:40, 0] > 0).astype(float), np.full(40, np.nan)]
    >>> domains = np.repeat(["source", "target"], 40)
    >>> model = LogisticRegression().fit(X[:40], y[:40])
    >>> scorer = make_deep_embedded_validation_scorer(target="target")
    >>> bool(scorer(model, X, y, task_ids=domains) <= 0)
    True
    """
    return _DeepEmbeddedValidationScorer(
        target, discriminator, n_splits, clip, random_state
    )


@validate_params(
    {
        "target": "no_validation",
        "score_func": [None, callable],
        "greater_is_better": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def make_circular_validation_scorer(target, *, score_func=None, greater_is_better=True):
    """Circular validation (Bruzzone & Marconcini, 2010) without target labels.

    As in skada's ``CircularValidation``: the fitted model labels the
    held-out target rows (pseudo-labels); a copy with the same
    hyper-parameters is fitted *backward*, the pseudo-labelled target rows as
    its source and the held-out source rows as its unlabelled target; its
    score on the source rows' true labels is the score. A good adaptation
    survives the round trip.

    The backward model: for a :class:`~sklearn_mtl.TransferClassifier` or
    :class:`~sklearn_mtl.TransferRegressor`, a clone with the fitted method
    (``method_``: "auto" is not rerun) and the roles swapped; methods that
    need labels on the target (target_only, parameter, finetune, warm_start,
    tradaboost) and "pooled" go back as "source_only" (the backward target has
    no label). A ``Pipeline`` whose last step is such an estimator is swapped
    through that step (``task_ids`` routed, or passed to that step when
    metadata routing is off). Any other model is fitted on the
    pseudo-labelled target rows alone. Pseudo-labels of a single class make
    the backward model predict that class (no fit, no error).

    Source rows whose label is missing (NaN or None) are part of the
    backward model's unlabelled target but are not scored. Reverse
    validation (Zhong et al., 2010) scores source rows the forward model was
    not fitted on; passing the forward model's *training* source rows
    unlabelled beside the held-out ones lets the backward adaptation see the
    whole source domain, as the forward one saw the whole target, while only
    rows whose labels neither model read are scored (``method="auto"`` does
    this). Scored on the forward model's own training rows instead, the
    round trip mostly measures how well the backward fit recovers the
    forward one, which a model that does not adapt wins.

    Parameters
    ----------
    target : object
        Task label of the target rows in ``task_ids``.
    score_func : callable, default=None
        ``score_func(y_source, y_backward)``. None: accuracy for classifiers,
        minus the mean squared error for regressors.
    greater_is_better : bool, default=True
        Whether ``score_func`` is a score (True) or a loss (False: negated).

    Returns
    -------
    scorer : callable
        ``scorer(estimator, X, y, task_ids=...)``; greater is better.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_mtl.metrics import (
    ...     make_circular_validation_scorer)
    >>> from sklearn_mtl.transfer import TransferClassifier
    >>> rng = np.random.RandomState(0)
    >>> X = np.vstack([rng.normal(size=(40, 2)), 1 + rng.normal(size=(40, 2))])
    >>> y = np.r_[(X[:40, 0] > 0).astype(float), np.full(40, np.nan)]
    >>> domains = np.repeat(["source", "target"], 40)
    >>> model = TransferClassifier(method="coral", target="target")
    >>> model = model.fit(X, y, task_ids=domains)
    >>> scorer = make_circular_validation_scorer(target="target")
    >>> 0 <= scorer(model, X, y, task_ids=domains) <= 1
    True
    """
    return _CircularValidationScorer(target, score_func, greater_is_better)


@validate_params(
    {
        "target": "no_validation",
        "score_func": [None, callable],
        "greater_is_better": ["boolean"],
        "response_method": [StrOptions({"predict", "predict_proba"})],
    },
    prefer_skip_nested_validation=True,
)
def make_target_scorer(
    target, *, score_func=None, greater_is_better=True, response_method="predict"
):
    """Score on the labelled target rows only (the supervised evaluation).

    The rows of ``task_ids == target`` that have a label are scored; source
    rows and unlabelled target rows are skipped. With
    :class:`~sklearn_mtl.model_selection.LeaveOneDomainOut` (test sets of
    target copies and held-out source rows) and an estimator fitted with
    ``use_target_labels=False``, this is the target accuracy of an
    unsupervised adaptation, as skada's ``SupervisedScorer``.

    Parameters
    ----------
    target : object
        Task label of the target rows in ``task_ids``.
    score_func : callable, default=None
        ``score_func(y_true, y_pred)``. None: accuracy for classifiers, minus
        the mean squared error for regressors.
    greater_is_better : bool, default=True
        Whether ``score_func`` is a score (True) or a loss (False: negated).
    response_method : {"predict", "predict_proba"}, default="predict"
        What ``score_func`` reads.

    Returns
    -------
    scorer : callable
        ``scorer(estimator, X, y, task_ids=...)``; greater is better.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn_mtl.metrics import make_target_scorer
    >>> X = np.array([[-2.0], [2.0], [-1.0], [1.0]])
    >>> y = np.array([0, 1, 1, 1])
    >>> domains = np.array(["s", "s", "t", "t"])
    >>> model = LogisticRegression().fit(X[:2], y[:2])
    >>> make_target_scorer("t")(model, X, y, task_ids=domains)
    0.5
    """
    return _TargetScorer(target, score_func, greater_is_better, response_method)
