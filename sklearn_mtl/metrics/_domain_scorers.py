"""Label-free domain-adaptation scorers: model selection without target labels.

Scorers for ``scoring=`` in ``cross_validate`` / ``GridSearchCV`` of a
domain-adaptation model: the held-out ``X`` / ``y`` carry source and target
rows, ``task_ids`` (routed metadata, requested by default) says which rows are
the target (``task_ids == target``); target rows' labels are never read.
"""

from numbers import Integral, Real

import numpy as np
from scipy.special import logsumexp
from sklearn.base import is_classifier
from sklearn.metrics import accuracy_score, mean_squared_error
from sklearn.preprocessing import normalize
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import (
    Interval,
    StrOptions,
    validate_params,
)
from sklearn.utils.metadata_routing import _raise_for_params
from sklearn.utils.validation import _num_samples, check_array

from .._tasks import _as_labels, missing_labels, target_mask
from ._scorer import _TaskIdsScorer

__all__ = [
    "make_importance_weighted_scorer",
    "make_interpolation_consistency_scorer",
    "make_prediction_entropy_scorer",
    "make_soft_neighborhood_density_scorer",
]


def _target_rows(X, task_ids, target, owner):
    """Boolean mask of the target rows, with errors naming what is missing."""
    if task_ids is None:
        raise ValueError(
            f"{owner} needs task_ids to tell the target rows (task == {target!r}) "
            "from the source rows; pass task_ids (routed metadata or directly)."
        )
    return target_mask(_as_labels(task_ids, _num_samples(X)), target, owner)


class _DomainScorer(_TaskIdsScorer):
    """Shared plumbing: ``task_ids`` requested by default, rows split by domain."""

    _owner = "The domain scorer"

    def __init__(self, target, sign, kwargs):
        super().__init__(None, sign, kwargs, "predict")
        self._target = target

    def __call__(self, estimator, X, y_true, *, task_ids=None, **kwargs):
        """Score ``estimator`` without the target rows' labels.

        Parameters
        ----------
        estimator : object
            Fitted estimator (it serves the target task).
        X : array-like of shape (n_samples, n_features)
            Source and target rows.
        y_true : array-like of shape (n_samples,)
            Labels of the source rows; target rows' entries are ignored (NaN
            allowed).
        task_ids : array-like of shape (n_samples,)
            Task of each row; rows equal to the scorer's ``target`` are the
            target.
        **kwargs : dict
            Other metadata requested through ``set_score_request`` (ignored).

        Returns
        -------
        score : float
            Greater is better.
        """
        _raise_for_params(kwargs, self, None)
        return self._score(None, estimator, X, y_true, task_ids=task_ids, **kwargs)

    def _domains(self, X, y_true, task_ids, unlabelled_source=False):
        """``(X, is_target, y_source)``: validated rows, target mask, the
        source rows' labels (target labels never read).

        Every source row must have a label, unless ``unlabelled_source``: then
        ``y_source`` keeps the missing markers (at least one source row must
        be labelled).
        """
        X = check_array(X, input_name="X")
        is_target = _target_rows(X, task_ids, self._target, self._owner)
        if is_target.all():
            raise ValueError(
                f"{self._owner} scores held-out source rows, but every row to "
                "score is a target row."
            )
        y_source = np.asarray(y_true)[~is_target]
        missing = missing_labels(y_source)
        if missing.all() or (missing.any() and not unlabelled_source):
            raise ValueError(
                f"{self._owner}: a source row to score has no label (NaN or None)."
            )
        if y_source.dtype.kind == "O" and not missing.any():
            y_source = np.asarray(y_source.tolist())
        return X, is_target, y_source


class _ImportanceWeightedScorer(_DomainScorer):
    _owner = "The importance-weighted scorer"

    def __init__(self, target, weighting, score_func, greater_is_better):
        super().__init__(target, 1 if greater_is_better else -1, {})
        self._weighting = weighting
        self._metric = score_func

    def __repr__(self):
        return (
            f"make_importance_weighted_scorer(target={self._target!r}, "
            f"weighting={self._weighting!r})"
        )

    def _score(self, method_caller, estimator, X, y_true, **kwargs):
        from ..transfer import discriminator_weights, kliep_weights

        X, is_target, y_source = self._domains(X, y_true, kwargs.get("task_ids"))
        X_source, X_target = X[~is_target], X[is_target]
        weigh = kliep_weights if self._weighting == "kliep" else discriminator_weights
        weights = weigh(X_source, X_target)
        # A TransferClassifier / TransferRegressor whose method transforms
        # source and target rows differently predicts the source rows through
        # the source side (as skada routes sample_domain); others predict.
        predict = getattr(estimator, "_predict_source_rows", estimator.predict)
        y_pred = predict(X_source)
        metric = self._metric
        if metric is None:
            if is_classifier(estimator):
                return float(accuracy_score(y_source, y_pred, sample_weight=weights))
            return -float(mean_squared_error(y_source, y_pred, sample_weight=weights))
        return self._sign * float(metric(y_source, y_pred, sample_weight=weights))


class _PredictionEntropyScorer(_DomainScorer):
    _owner = "The prediction-entropy scorer"

    def __init__(self, target):
        super().__init__(target, -1, {})

    def __repr__(self):
        return f"make_prediction_entropy_scorer(target={self._target!r})"

    def _score(self, method_caller, estimator, X, y_true, **kwargs):
        X = check_array(X, input_name="X")
        is_target = _target_rows(X, kwargs.get("task_ids"), self._target, self._owner)
        if not hasattr(estimator, "predict_proba"):
            raise AttributeError(
                f"{self._owner} needs predict_proba; {type(estimator).__name__} "
                "has none."
            )
        proba = np.asarray(estimator.predict_proba(X[is_target]), dtype=float)
        # 0 log 0 = 0: a certain prediction has entropy 0, never NaN.
        logs = np.log(np.where(proba > 0, proba, 1.0))
        entropy = -(proba * logs).sum(axis=1)
        return -float(entropy.mean())


def soft_neighborhood_density(proba, temperature=0.05, block_size=1024):
    """Mean entropy of each row's soft neighbourhood (Saito et al., 2021).

    ``f_i = p_i / ||p_i||``; ``P_ij = softmax_j(f_i . f_j / temperature)``
    over ``j != i``; the score is ``mean_i -sum_j P_ij log P_ij``. Rows are
    processed ``block_size`` at a time (memory ``block_size x n``).
    """
    features = normalize(np.asarray(proba, dtype=float))
    n = len(features)
    if n < 3:
        raise ValueError(
            "The soft neighbourhood density needs at least 3 target rows (each "
            f"row's neighbours are the others); got {n}."
        )
    total = 0.0
    for start in range(0, n, block_size):
        stop = min(start + block_size, n)
        z = features[start:stop] @ features.T / temperature
        # A row is not its own neighbour.
        z[np.arange(stop - start), np.arange(start, stop)] = -np.inf
        log_norm = logsumexp(z, axis=1, keepdims=True)
        p = np.exp(z - log_norm)
        # H = log Z - sum_j p_j z_j (the -inf self entry has p = 0).
        finite = np.where(np.isfinite(z), z, 0.0)
        total += float(np.sum(log_norm[:, 0] - np.sum(p * finite, axis=1)))
    return total / n


class _SoftNeighborhoodDensityScorer(_DomainScorer):
    _owner = "The soft neighbourhood density scorer"

    def __init__(self, target, temperature):
        super().__init__(target, 1, {})
        self._temperature = temperature

    def __repr__(self):
        return (
            f"make_soft_neighborhood_density_scorer(target={self._target!r}, "
            f"temperature={self._temperature!r})"
        )

    def _score(self, method_caller, estimator, X, y_true, **kwargs):
        X = check_array(X, input_name="X")
        is_target = _target_rows(X, kwargs.get("task_ids"), self._target, self._owner)
        if not hasattr(estimator, "predict_proba"):
            raise AttributeError(
                f"{self._owner} needs predict_proba; {type(estimator).__name__} "
                "has none."
            )
        proba = estimator.predict_proba(X[is_target])
        return soft_neighborhood_density(proba, self._temperature)


def interpolation_consistency(
    predict,
    X_target,
    mix_ratio=0.55,
    probes="inter",
    n_permutations=5,
    seed=0,
    block_size=2048,
):
    """Interpolation consistency of a classifier's hard predictions (MixVal,
    Hu et al., 2023): ``(score, n_probes)``.

    Each target row ``a`` is paired with row ``b = pi(a)`` for
    ``n_permutations`` random permutations ``pi``; the probe is
    ``mix_ratio * x_a + (1 - mix_ratio) * x_b`` and it passes when
    ``predict`` gives it ``a``'s predicted class (``mix_ratio > 0.5``: ``a``
    dominates). Inter-cluster probes (``a`` and ``b`` predicted differently)
    test where the boundary between two predicted clusters lies; intra-cluster
    ones (same prediction) test that the space between two rows of a cluster
    keeps its class. ``probes`` picks "inter", "intra" or "both" (the mean of
    the two rates). A kind with no probe (every row predicted alike leaves no
    inter-cluster pair) scores 0: a collapsed prediction has no boundary to
    credit. Probes are predicted ``block_size`` at a time.
    """
    X_target = np.asarray(X_target, dtype=float)
    n = len(X_target)
    pseudo = np.asarray(predict(X_target))
    rng = check_random_state(seed)
    partners = np.concatenate([rng.permutation(n) for _ in range(n_permutations)])
    rows = np.tile(np.arange(n), n_permutations)
    keep = rows != partners  # a row mixed with itself probes nothing
    rows, partners = rows[keep], partners[keep]
    if not len(rows):  # e.g. 2 rows and every draw the identity
        return 0.0, 0
    # Probes in blocks: a kernel model's predict holds a block x n_fit
    # matrix, and the probes are n_permutations times the target rows.
    predicted = [
        np.asarray(
            predict(
                mix_ratio * X_target[rows[start : start + block_size]]
                + (1 - mix_ratio) * X_target[partners[start : start + block_size]]
            )
        )
        for start in range(0, len(rows), block_size)
    ]
    passed = np.concatenate(predicted) == pseudo[rows]
    inter = pseudo[rows] != pseudo[partners]
    rates = {
        "inter": float(passed[inter].mean()) if inter.any() else 0.0,
        "intra": float(passed[~inter].mean()) if (~inter).any() else 0.0,
    }
    if probes == "both":
        return (rates["inter"] + rates["intra"]) / 2, len(rows)
    count = int(inter.sum()) if probes == "inter" else int((~inter).sum())
    return rates[probes], count


class _InterpolationConsistencyScorer(_DomainScorer):
    _owner = "The interpolation consistency scorer"

    def __init__(self, target, mix_ratio, probes, n_permutations, random_state):
        super().__init__(target, 1, {})
        self._mix_ratio = mix_ratio
        self._probes = probes
        self._n_permutations = n_permutations
        self._random_state = random_state

    def __repr__(self):
        return (
            f"make_interpolation_consistency_scorer(target={self._target!r}, "
            f"mix_ratio={self._mix_ratio!r}, probes={self._probes!r})"
        )

    def _score(self, method_caller, estimator, X, y_true, **kwargs):
        X = check_array(X, input_name="X")
        is_target = _target_rows(X, kwargs.get("task_ids"), self._target, self._owner)
        if not is_classifier(estimator):
            raise ValueError(
                f"{self._owner} compares predicted classes; "
                f"{type(estimator).__name__} is not a classifier (use the "
                "circular or deep embedded validation scorer for regression)."
            )
        if is_target.sum() < 2:
            raise ValueError(
                f"{self._owner} mixes pairs of target rows; got "
                f"{int(is_target.sum())} target row(s), it needs at least 2."
            )
        score, _ = interpolation_consistency(
            estimator.predict,
            X[is_target],
            self._mix_ratio,
            self._probes,
            self._n_permutations,
            self._random_state,
        )
        return score


@validate_params(
    {
        "target": "no_validation",
        "mix_ratio": [Interval(Real, 0.5, 1, closed="neither")],
        "probes": [StrOptions({"inter", "intra", "both"})],
        "n_permutations": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def make_interpolation_consistency_scorer(
    target, *, mix_ratio=0.55, probes="inter", n_permutations=5, random_state=0
):
    """Interpolation consistency on mixed target rows (MixVal, Hu et al., 2023).

    The fitted classifier labels the target rows (hard pseudo-labels). Each
    target row ``a`` is mixed with a random partner ``b``:
    ``x = mix_ratio * x_a + (1 - mix_ratio) * x_b``, and the probe passes when
    the classifier predicts ``a``'s pseudo-label for ``x``. The score is the
    pass rate, greater is better; no label is read, and only target rows are
    used (source rows in ``X`` are ignored).

    With ``probes="inter"`` (default) only pairs predicted differently are
    probes: a mix just past the midpoint of two predicted clusters must stay
    on ``a``'s side, which holds when the boundary between them runs through
    the low-density gap rather than through a cluster. ``"intra"`` probes
    pairs predicted alike (the space between two rows of one predicted class
    must keep it), ``"both"`` averages the two rates as skada's
    ``MixValScorer`` does. Intra-cluster probes are not the default because a
    classifier with convex class regions — the argmax of linear scores of
    the input or of a linear map of it (logistic regression alone or after
    CORAL or JDA's projection) — passes every one of them by construction,
    so they only ever mark down nonlinear (kernel, nearest-neighbour)
    models.

    Compared with :func:`make_circular_validation_scorer`, which refits the
    method backward from the pseudo-labels, this needs no refit, and it does
    not penalize an adaptation whose errors are *structured*: circular
    validation learns the pseudo-labels back, so scattered errors average
    out while errors shared by a whole target cluster come back as a wrong
    source region (see ``docs/domain_model_selection.rst``). Its blind
    spot is the converse: it never reads a source label, so a labelling
    and the same labelling with the classes permuted score alike — an
    adaptation that maps target clusters onto the wrong classes is not
    caught (circular validation catches it).

    Parameters
    ----------
    target : object
        Task label of the target rows in ``task_ids``.
    mix_ratio : float in (0.5, 1), default=0.55
        Weight of row ``a`` in the mix (the MixVal authors' value).
    probes : {"inter", "intra", "both"}, default="inter"
        Which pairs are probes.
    n_permutations : int >= 1, default=5
        Partners per target row (one random permutation each).
    random_state : int, RandomState instance or None, default=0
        Draws the partners.

    Returns
    -------
    scorer : callable
        ``scorer(estimator, X, y, task_ids=...)``, in [0, 1]. A classifier
        that predicts one class for every target row has no inter-cluster
        probe and scores 0.

    See Also
    --------
    make_soft_neighborhood_density_scorer : Density of the predicted
        probabilities' neighbourhoods.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn_mtl.metrics._domain_scorers import (
    ...     make_interpolation_consistency_scorer)
    >>> rng = np.random.RandomState(0)
    >>> X = np.vstack([rng.normal(size=(40, 2)), rng.normal(size=(40, 2))])
    >>> X[40:, 0] += np.where(rng.rand(40) < 0.5, -4.0, 4.0)
    >>> y = np.r_[(X[:40, 0] > 0).astype(float), np.full(40, np.nan)]
    >>> domains = np.repeat(["source", "target"], 40)
    >>> model = LogisticRegression().fit(X[:40], y[:40])
    >>> scorer = make_interpolation_consistency_scorer(target="target")
    >>> 0 <= scorer(model, X, y, task_ids=domains) <= 1
    True
    """
    return _InterpolationConsistencyScorer(
        target, mix_ratio, probes, n_permutations, random_state
    )


@validate_params(
    {
        "target": "no_validation",
        "weighting": [StrOptions({"discriminator", "kliep"})],
        "score_func": [None, callable],
        "greater_is_better": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def make_importance_weighted_scorer(
    target, *, weighting="discriminator", score_func=None, greater_is_better=True
):
    """Importance-weighted validation (Sugiyama et al., 2007) without target labels.

    The held-out *source* rows are scored, each weighted by the density ratio
    ``p_target(x) / p_source(x)`` estimated between them and the held-out
    target rows' features (:func:`~sklearn_mtl.transfer.discriminator_weights`
    or :func:`~sklearn_mtl.transfer.kliep_weights`): an estimate of the
    target's score under covariate shift. The weights are estimated on the
    raw features. A :class:`~sklearn_mtl.TransferClassifier` or
    :class:`~sklearn_mtl.TransferRegressor` whose method transforms
    source rows differently from target rows (augment, linear_ot,
    entropic_ot, subspace_alignment, tca) predicts the source rows through
    its source transformation; any other model predicts them as given
    (``predict(X_source)``). "coral" is among the latter: its source rows are
    scored unaligned.

    Parameters
    ----------
    target : object
        Task label of the target rows in ``task_ids``.
    weighting : {"discriminator", "kliep"}, default="discriminator"
        Density-ratio estimator.
    score_func : callable, default=None
        ``score_func(y_true, y_pred, sample_weight=...)``. None: weighted
        accuracy for classifiers, minus the weighted mean squared error for
        regressors.
    greater_is_better : bool, default=True
        Whether ``score_func`` is a score (True) or a loss (False: negated).

    Returns
    -------
    scorer : callable
        ``scorer(estimator, X, y, task_ids=...)``; greater is better.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn_mtl.metrics import make_importance_weighted_scorer
    >>> rng = np.random.RandomState(0)
    >>> X = np.vstack([rng.normal(size=(40, 2)), 1 + rng.normal(size=(40, 2))])
    >>> y = np.r_[(X[:40, 0] > 0).astype(float), np.full(40, np.nan)]
    >>> domains = np.repeat(["source", "target"], 40)
    >>> model = LogisticRegression().fit(X[:40], y[:40])
    >>> scorer = make_importance_weighted_scorer(target="target")
    >>> 0 <= scorer(model, X, y, task_ids=domains) <= 1
    True
    """
    return _ImportanceWeightedScorer(target, weighting, score_func, greater_is_better)


@validate_params({"target": "no_validation"}, prefer_skip_nested_validation=True)
def make_prediction_entropy_scorer(target):
    """Prediction entropy on the target rows (lower entropy, better score).

    The mean Shannon entropy (natural log) of ``predict_proba`` over the
    target rows, negated so that greater is better (Morerio et al., 2018):
    confident target predictions suggest an adaptation that separates the
    target's classes. No label is read.

    Parameters
    ----------
    target : object
        Task label of the target rows in ``task_ids``.

    Returns
    -------
    scorer : callable
        ``scorer(estimator, X, y, task_ids=...)``, equal to minus the mean
        entropy (at most 0).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn_mtl.metrics import make_prediction_entropy_scorer
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(60, 2))
    >>> y = np.r_[(X[:40, 0] > 0).astype(float), np.full(20, np.nan)]
    >>> domains = np.repeat(["source", "target"], [40, 20])
    >>> model = LogisticRegression().fit(X[:40], y[:40])
    >>> scorer = make_prediction_entropy_scorer(target="target")
    >>> -np.log(2) <= scorer(model, X, y, task_ids=domains) <= 0
    True
    """
    return _PredictionEntropyScorer(target)


@validate_params(
    {
        "target": "no_validation",
        "temperature": [Interval(Real, 0, None, closed="neither")],
    },
    prefer_skip_nested_validation=True,
)
def make_soft_neighborhood_density_scorer(target, *, temperature=0.05):
    """Soft neighbourhood density (Saito et al., 2021) of the target predictions.

    Each target row's class probabilities, L2-normalized, are its feature
    ``f_i``; its soft neighbourhood is ``P_ij = softmax_j(f_i . f_j / T)``
    over the *other* target rows ``j != i``; the score is the mean entropy
    ``mean_i -sum_j P_ij log P_ij`` (natural log), greater is better: a
    model whose target predictions form dense clusters has many close
    neighbours per row, hence a spread (high-entropy) neighbourhood. No label
    is read. skada's ``SoftNeighborhoodDensity`` differs from the paper in
    two ways this one does not: it normalizes the softmax over the whole
    matrix instead of per row, and it keeps each row's similarity to itself
    (negated) instead of leaving it out.

    Parameters
    ----------
    target : object
        Task label of the target rows in ``task_ids``.
    temperature : float > 0, default=0.05
        ``T`` (the paper's value).

    Returns
    -------
    scorer : callable
        ``scorer(estimator, X, y, task_ids=...)``, between 0 and
        ``log(n_target - 1)``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn_mtl.metrics._domain_scorers import (
    ...     make_soft_neighborhood_density_scorer)
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(60, 2))
    >>> y = np.r_[(X[:40, 0] > 0).astype(float), np.full(20, np.nan)]
    >>> domains = np.repeat(["source", "target"], [40, 20])
    >>> model = LogisticRegression().fit(X[:40], y[:40])
    >>> scorer = make_soft_neighborhood_density_scorer(target="target")
    >>> bool(0 <= scorer(model, X, y, task_ids=domains) <= np.log(19))
    True
    """
    return _SoftNeighborhoodDensityScorer(target, temperature)
