"""Instance-based transfer: source samples reweighted by relevance to the target."""

import warnings
from numbers import Integral, Real

import numpy as np
import scipy.optimize
from sklearn.base import clone
from sklearn.kernel_approximation import Nystroem
from sklearn.metrics.pairwise import rbf_kernel
from sklearn.model_selection import KFold
from sklearn.utils._param_validation import Interval, StrOptions, validate_params
from threadpoolctl import threadpool_limits

from ._reweight import _check_domains

__all__ = [
    "TrAdaBoostInterpolationWarning",
    "kmm_weights",
    "tradaboost_update",
    "TrAdaBoostModel",
    "fit_tradaboost",
    "fit_two_stage_tradaboost_r2",
]


class TrAdaBoostInterpolationWarning(UserWarning):
    """TrAdaBoost's base learner fits every training row exactly.

    TrAdaBoost reweights the rows its learners get wrong *on the training
    data*; a learner that interpolates them (an unpruned tree, a 1-nearest
    neighbour) gets none wrong, so no weight ever moves and the boosted model
    is the pooled model of sources and target.
    """


def _warn_interpolates(estimator):
    warnings.warn(
        f"TrAdaBoost: the base learner {type(estimator).__name__} fits every "
        "training row (sources and target) exactly, so no sample is ever "
        "reweighted and the result is the pooled model. Use a learner that "
        "does not interpolate (e.g. a depth-limited tree) or another method.",
        TrAdaBoostInterpolationWarning,
        stacklevel=3,
    )


# Above this many source rows kmm_weights approximates the kernel by default:
# the exact path's cost grows as n_source^2 per solver iteration.
_KMM_EXACT_MAX_ROWS = 1000


@validate_params(
    {
        "X_source": ["array-like"],
        "X_target": ["array-like"],
        "gamma": [None, Interval(Real, 0, None, closed="neither")],
        "bound": [Interval(Real, 0, None, closed="neither")],
        "epsilon": [None, Interval(Real, 0, None, closed="left")],
        "n_landmarks": [
            None,
            StrOptions({"auto"}),
            Interval(Integral, 1, None, closed="left"),
        ],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def kmm_weights(
    X_source,
    X_target,
    *,
    gamma=None,
    bound=1000.0,
    epsilon=None,
    n_landmarks="auto",
    random_state=0,
):
    """Kernel mean matching (Huang et al., 2007): weights ``beta`` of the sources.

    Minimizes ``||mean_s(beta_i phi(x_i)) - mean_t(phi(x_j))||^2`` in the RBF
    feature space, i.e. ``(1/2) beta^T K beta - kappa^T beta`` with
    ``kappa_i = (n_s / n_t) sum_j k(x_i, x_j^t)``, subject to
    ``0 <= beta <= bound`` and ``|sum(beta) - n_s| <= n_s * epsilon``.
    Solved by L-BFGS-B on the box, the sum band enforced by a squared-hinge
    penalty made stiffer until it holds, then projected exactly onto box and
    band. ``gamma`` defaults to ``1 / (n_features * var(X))``.

    Scalable path: with ``n_landmarks`` set, the kernel is replaced by its
    Nystroem approximation ``K ~ Z Z^T`` on ``m = n_landmarks`` rows drawn from
    both domains (:class:`~sklearn.kernel_approximation.Nystroem`), so each
    solver step costs ``O(n_s m)`` instead of ``O(n_s^2)`` and no
    ``n_s x n_s`` matrix is formed. ``m >= n_s + n_t`` gives the exact
    problem back.

    Parameters
    ----------
    X_source : array-like of shape (n_source, n_features)
        Source samples to weight.
    X_target : array-like of shape (n_target, n_features)
        Target samples (unlabelled) whose distribution the weights match.
    gamma : float > 0, default=None
        RBF kernel width.
    bound : float > 0, default=1000.0
        Upper bound ``B`` of every weight.
    epsilon : float >= 0, default=None
        Allowed relative deviation of ``sum(beta)`` from ``n_source``;
        default ``(sqrt(n_source) - 1) / sqrt(n_source)``.
    n_landmarks : int, "auto" or None, default="auto"
        Rows of the Nystroem approximation. None: the exact kernel. "auto":
        exact up to 1,000 source rows, else 300 landmarks (about 1 s on
        4,600 source rows).
    random_state : int, RandomState instance or None, default=0
        Draws the landmarks (unused on the exact path).

    Returns
    -------
    beta : ndarray of shape (n_source,)

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_mtl.transfer import kmm_weights
    >>> rng = np.random.RandomState(0)
    >>> X_source = rng.normal(size=(2000, 1))
    >>> X_target = rng.normal(loc=1.0, size=(100, 1))
    >>> beta = kmm_weights(X_source, X_target)  # 300 landmarks
    >>> bool(beta[X_source[:, 0] > 1].mean() > beta[X_source[:, 0] < 0].mean())
    True
    """
    X_source, X_target = _check_domains(X_source, X_target, "KMM")
    n_source, n_target = len(X_source), len(X_target)
    if gamma is None:
        spread = np.vstack([X_source, X_target]).var()
        gamma = 1.0 / (X_source.shape[1] * spread) if spread > 0 else 1.0
    if epsilon is None:
        epsilon = (np.sqrt(n_source) - 1) / np.sqrt(n_source)
    if n_landmarks == "auto":
        n_landmarks = None if n_source <= _KMM_EXACT_MAX_ROWS else 300
    # One BLAS thread: the solver makes thousands of small matrix-vector
    # products and the landmark SVD is small; neither gains from threads, and
    # on a busy machine threads waiting for each other made each product 100x
    # slower (what made 4,600-row fits take 17-27 s).
    with threadpool_limits(limits=1, user_api="blas"):
        if n_landmarks is None:
            K = rbf_kernel(X_source, X_source, gamma=gamma) + 1e-8 * np.eye(n_source)
            kappa = rbf_kernel(X_source, X_target, gamma=gamma).sum(axis=1)

            def K_times(beta):
                return K @ beta

        else:
            X = np.vstack([X_source, X_target])
            nystroem = Nystroem(
                gamma=gamma,
                n_components=min(n_landmarks, len(X)),
                random_state=random_state,
            ).fit(X)
            Z_source, Z_target = (
                nystroem.transform(X_source),
                nystroem.transform(X_target),
            )
            kappa = Z_source @ Z_target.sum(axis=0)

            def K_times(beta):
                # (Z Z^T + 1e-8 I) beta without the n_s x n_s matrix.
                return Z_source @ (Z_source.T @ beta) + 1e-8 * beta

        kappa = (n_source / n_target) * kappa
        low, high = n_source * (1 - epsilon), n_source * (1 + epsilon)

        def objective(beta, stiffness):
            K_beta = K_times(beta)
            total = beta.sum()
            # Signed distance of sum(beta) outside the band [low, high].
            outside = max(total - high, 0.0) - max(low - total, 0.0)
            value = 0.5 * beta @ K_beta - kappa @ beta + 0.5 * stiffness * outside**2
            return value, K_beta - kappa + stiffness * outside

        # Penalty continuation: each stiffer solve starts from the last, so the
        # band is met to ~1e-9 n_s without an ill-conditioned first problem.
        beta = np.ones(n_source)
        for stiffness in 10.0 ** np.arange(1, 9):
            beta = scipy.optimize.minimize(
                objective,
                beta,
                args=(stiffness,),
                jac=True,
                method="L-BFGS-B",
                bounds=[(0.0, bound)] * n_source,
                options={"maxiter": 1000, "ftol": 1e-15, "gtol": 1e-10},
            ).x
            if low - 1e-9 * n_source <= beta.sum() <= high + 1e-9 * n_source:
                break
        return _project_box_band(beta, bound, low, high)


def _project_box_band(beta, bound, low, high):
    """Euclidean projection onto ``{0 <= b <= bound, low <= sum(b) <= high}``.

    ``clip(beta - tau, 0, bound)`` with the shift ``tau`` that brings the sum
    into the band (a monotone 1-D root), so the box is never broken.
    """
    clipped = np.clip(beta, 0.0, bound)
    total = clipped.sum()
    if low <= total <= high:
        return clipped
    goal = high if total > high else low
    goal = min(goal, bound * len(beta))  # an infeasible band: the closest sum

    def excess(tau):
        return np.clip(beta - tau, 0.0, bound).sum() - goal

    tau = scipy.optimize.brentq(
        excess, beta.min() - bound - 1.0, beta.max() + 1.0, xtol=1e-12
    )
    return np.clip(beta - tau, 0.0, bound)


def tradaboost_update(weights, wrong, is_source, beta_source, beta_target):
    """One TrAdaBoost reweighting (Dai et al., 2007).

    Misclassified source samples are down-weighted by ``beta_source``
    (``w * beta_source``); misclassified target samples up-weighted
    (``w / beta_target``); the rest keep their weight.
    """
    factor = np.where(is_source, beta_source, 1.0 / beta_target)
    return weights * np.where(wrong, factor, 1.0)


class TrAdaBoostModel:
    """Weighted vote of TrAdaBoost's last ``ceil(N/2)`` learners."""

    def __init__(self, learners, learner_weights, classes):
        self.learners, self.learner_weights = learners, learner_weights
        self.classes_ = classes

    def predict_proba(self, X):
        total = sum(
            w * _proba_on(learner, X, self.classes_)
            for learner, w in zip(self.learners, self.learner_weights)
        )
        return total / sum(self.learner_weights)

    def predict(self, X):
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


def _proba_on(learner, X, classes):
    out = np.zeros((len(X), len(classes)))
    if hasattr(learner, "predict_proba"):
        out[:, np.searchsorted(classes, learner.classes_)] = learner.predict_proba(X)
    else:
        out[np.arange(len(X)), np.searchsorted(classes, learner.predict(X))] = 1.0
    return out


def fit_tradaboost(estimator, X, y, weights, is_source, classes, n_estimators):
    """TrAdaBoost for classification with any base learner taking sample_weight.

    Per round t the error ``eps_t`` is measured on the target rows only,
    ``beta_t = eps_t / (1 - eps_t)``; misclassified sources are multiplied by
    ``beta = 1 / (1 + sqrt(2 ln n_source / N))``, misclassified target rows
    divided by ``beta_t``. Returns the model voting with the last
    ``ceil(N/2)`` learners (rounds ``floor(N/2)+1..N``), each weighted
    ``log(1 / beta_t)``, and the final sample weights.
    """
    n_source = is_source.sum()
    beta_source = 1.0 / (1.0 + np.sqrt(2.0 * np.log(max(n_source, 2)) / n_estimators))
    weights = weights / weights.sum()
    learners, learner_weights = [], []
    ever_wrong = False
    for _ in range(n_estimators):
        probabilities = weights / weights.sum()
        learner = clone(estimator).fit(X, y, sample_weight=probabilities * len(y))
        wrong = learner.predict(X) != y
        ever_wrong = ever_wrong or bool(wrong.any())
        target = ~is_source
        error = np.sum(weights[target] * wrong[target]) / weights[target].sum()
        error = float(np.clip(error, 1e-10, 0.499))
        beta_target = error / (1.0 - error)
        learners.append(learner)
        learner_weights.append(np.log(1.0 / beta_target))
        weights = tradaboost_update(weights, wrong, is_source, beta_source, beta_target)
    if not ever_wrong:
        _warn_interpolates(estimator)
    half = n_estimators // 2
    return TrAdaBoostModel(learners[half:], learner_weights[half:], classes), weights


class _WeightedMedianEnsemble:
    """AdaBoost.R2's prediction: the weighted median of its learners."""

    def __init__(self, learners, learner_weights):
        self.learners, self.learner_weights = learners, np.asarray(learner_weights)

    def predict(self, X):
        predictions = np.column_stack([m.predict(X) for m in self.learners])
        order = np.argsort(predictions, axis=1)
        cumulative = np.cumsum(self.learner_weights[order], axis=1)
        median = np.argmax(cumulative >= 0.5 * cumulative[:, -1:], axis=1)
        return predictions[np.arange(len(X)), order[np.arange(len(X)), median]]


def _adaboost_r2_frozen_source(estimator, X, y, weights, is_source, n_estimators):
    """AdaBoost.R2 (Drucker, 1997) in which only target weights change (R2')."""
    weights = weights.copy()
    learners, learner_weights = [], []
    for _ in range(n_estimators):
        learner = clone(estimator).fit(X, y, sample_weight=weights / weights.mean())
        errors = np.abs(learner.predict(X) - y)
        errors = errors / errors.max() if errors.max() > 0 else errors
        p = weights / weights.sum()
        loss = float(np.clip(np.sum(p * errors), 1e-10, None))
        learners.append(learner)
        if loss >= 0.5:
            learner_weights.append(1e-10)
            break
        beta = loss / (1.0 - loss)
        learner_weights.append(np.log(1.0 / beta))
        weights = np.where(is_source, weights, weights * beta ** (1.0 - errors))
    return _WeightedMedianEnsemble(learners, learner_weights)


def fit_two_stage_tradaboost_r2(
    estimator, X, y, weights, is_source, *, n_steps, n_estimators, cv, random_state
):
    """Two-stage TrAdaBoost.R2 (Pardoe & Stone, 2010).

    Stage 1 moves weight from the sources to the target step by step: source
    weights become ``w_i * beta^e_i`` (``e_i`` the source sample's adjusted
    error), ``beta`` found by root finding so that the target holds
    ``m/(n+m) + s/(S-1) (1 - m/(n+m))`` of the total at step s. At every
    step stage 2 (AdaBoost.R2 with frozen source weights) is scored by
    ``cv``-fold cross-validation on the target; the best step's model is
    refit on all data.
    """
    weights = weights / weights.sum()
    n, m = is_source.sum(), (~is_source).sum()
    target_rows = np.flatnonzero(~is_source)
    folds = list(
        KFold(min(cv, m), shuffle=True, random_state=random_state).split(target_rows)
    )
    best_error, best_weights = np.inf, weights
    for step in range(n_steps):
        errors = []
        for _, test in folds:
            keep = np.ones(len(y), bool)
            keep[target_rows[test]] = False
            model = _adaboost_r2_frozen_source(
                estimator,
                X[keep],
                y[keep],
                weights[keep],
                is_source[keep],
                n_estimators,
            )
            rows = target_rows[test]
            errors.append(np.mean((model.predict(X[rows]) - y[rows]) ** 2))
        if np.mean(errors) < best_error:
            best_error, best_weights = np.mean(errors), weights.copy()
        learner = clone(estimator).fit(X, y, sample_weight=weights / weights.mean())
        adjusted = np.abs(learner.predict(X) - y)
        if step == 0 and adjusted.max() <= 1e-12 * max(np.abs(y).max(), 1.0):
            _warn_interpolates(estimator)
        adjusted = adjusted / adjusted.max() if adjusted.max() > 0 else adjusted
        target_share = m / (n + m) + (step + 1) / max(n_steps - 1, 1) * (
            1 - m / (n + m)
        )
        weights = _shift_to_target(
            weights, adjusted, is_source, min(target_share, 1 - 1e-9)
        )
    return _adaboost_r2_frozen_source(
        estimator, X, y, best_weights, is_source, n_estimators
    )


def _shift_to_target(weights, adjusted_errors, is_source, target_share):
    """Source weights ``w * beta^e`` with beta such that the target holds its share."""
    source, errors = weights[is_source], adjusted_errors[is_source]
    target_total = weights[~is_source].sum()
    wanted_source = target_total * (1 - target_share) / target_share

    def excess(log_beta):
        return np.sum(source * np.exp(log_beta * errors)) - wanted_source

    if excess(0.0) <= 0:  # sources already light enough
        log_beta = 0.0
    elif excess(-50.0) > 0:  # even beta = e^-50 leaves too much: error-free sources
        log_beta = -50.0
    else:
        log_beta = scipy.optimize.brentq(excess, -50.0, 0.0, xtol=1e-10)
    shifted = weights.copy()
    shifted[is_source] = source * np.exp(log_beta * errors)
    return shifted / shifted.sum()
