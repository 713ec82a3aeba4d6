"""Parameter transfer: a target linear model pulled toward the source's coefficients.

``fit_parameter_transfer`` is the "parameter" method of the ``Transfer*``
estimators, usable alone; the helpers read a fitted source model's
coefficients and classes (also for "warm_start").
"""

from numbers import Real

import numpy as np
import scipy.optimize
import scipy.special
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import Ridge
from sklearn.utils._param_validation import Interval, validate_params
from sklearn.utils.validation import _check_sample_weight, check_X_y

__all__ = ["fit_parameter_transfer"]


class _LinearToward:
    """A linear model fitted by :func:`fit_parameter_transfer`."""

    def __init__(self, coef, intercept, classes=None):
        self.coef_, self.intercept_, self.classes_ = coef, intercept, classes

    def decision_function(self, X):
        scores = X @ self.coef_.T + self.intercept_
        return scores[:, 0] if scores.shape[1] == 1 else scores

    def predict(self, X):
        scores = self.decision_function(X)
        if self.classes_ is None:
            return scores
        return self.classes_[
            (scores > 0).astype(int) if scores.ndim == 1 else scores.argmax(1)
        ]

    def predict_proba(self, X):
        scores = self.decision_function(X)
        if scores.ndim == 1:
            positive = scipy.special.expit(scores)
            return np.column_stack([1 - positive, positive])
        return scipy.special.softmax(scores, axis=1)


def _unwrap(model):
    """The fitted model inside a FrozenEstimator (its state is what transfers)."""
    return model.estimator if isinstance(model, FrozenEstimator) else model


def _check_same_classes(model, classes, method):
    source_classes = np.asarray(model.classes_)
    if not np.array_equal(source_classes, classes):
        raise ValueError(
            f"method={method!r} needs the source model's classes "
            f"{source_classes.tolist()} to equal the target's {classes.tolist()}."
        )


def _source_coefficients(model, n_features, classifier, classes, method="parameter"):
    coef = getattr(model, "coef_", None)
    if coef is None:
        raise ValueError(
            f"method={method!r} needs a linear source model with coef_; "
            f"{type(model).__name__} has none."
        )
    coef = np.atleast_2d(np.asarray(coef, dtype=float))
    if coef.shape[-1] != n_features:
        raise ValueError(
            f"The source model has {coef.shape[-1]} coefficients per output but the "
            f"target data has {n_features} features."
        )
    if classifier:
        _check_same_classes(model, classes, method)
    return coef


@validate_params(
    {
        "X": ["array-like"],
        "y": ["array-like"],
        "weights": ["array-like", None],
        "source_coef": ["array-like"],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "classes": ["array-like", None],
    },
    prefer_skip_nested_validation=True,
)
def fit_parameter_transfer(X, y, weights, source_coef, alpha, classes=None):
    """Target linear model pulled toward the source coefficients.

    Regression minimizes ``(1/2) sum_i s_i (y_i - x_i w - b)^2 + (alpha/2)
    ||w - w_src||^2``: ``w = w_src + ridge(alpha)`` fitted on the residual
    ``y - X w_src`` (closed form). Classification minimizes the weighted
    logistic loss plus the same penalty (L-BFGS with exact gradients); the
    intercept is never penalized.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Target samples.
    y : array-like of shape (n_samples,)
        Target values (class labels when ``classes`` is given).
    weights : array-like of shape (n_samples,) or None
        Sample weights ``s_i`` (None: all ones).
    source_coef : array-like of shape (n_outputs, n_features) or (n_features,)
        The source model's coefficients ``w_src``.
    alpha : float >= 0
        Strength of the pull toward ``w_src``.
    classes : array-like of shape (n_classes,), default=None
        Sorted class labels (classification); None for regression.

    Returns
    -------
    model : object
        With ``coef_``, ``intercept_``, ``predict`` (and ``predict_proba``).
    """
    X, y = check_X_y(X, y, y_numeric=classes is None)
    weights = np.ones(len(y)) if weights is None else _check_sample_weight(weights, X)
    source_coef = np.atleast_2d(np.asarray(source_coef, dtype=float))
    if source_coef.ndim != 2 or source_coef.shape[1] != X.shape[1]:
        raise ValueError(
            f"source_coef has shape {source_coef.shape} but X has {X.shape[1]} "
            "features; give (n_outputs, n_features) coefficients."
        )
    if classes is not None:
        classes = np.asarray(classes)
        if not np.all(np.isin(y, classes)):
            raise ValueError("y has labels that are not in classes.")
        expected = 1 if len(classes) == 2 else len(classes)
        if source_coef.shape[0] != expected:
            raise ValueError(
                f"source_coef has {source_coef.shape[0]} rows; {len(classes)} "
                f"classes need {expected}."
            )
    if classes is None:
        residual = y - X @ source_coef[0]
        ridge = Ridge(alpha=alpha).fit(X, residual, sample_weight=weights)
        return _LinearToward(
            (source_coef[0] + ridge.coef_)[None], np.atleast_1d(ridge.intercept_)
        )
    n_features = X.shape[1]
    binary = len(classes) == 2
    n_outputs = 1 if binary else len(classes)
    index = np.searchsorted(classes, y)
    onehot = np.eye(len(classes))[index]
    sign = np.where(index == 1, 1.0, -1.0)
    scale = weights.sum()

    def value_grad(theta):
        coef = theta[: n_features * n_outputs].reshape(n_outputs, n_features)
        intercept = theta[n_features * n_outputs :]
        scores = X @ coef.T + intercept
        diff = coef - source_coef
        penalty = 0.5 * alpha * np.sum(diff**2)
        if binary:
            margin = sign * scores[:, 0]
            loss = weights @ np.logaddexp(0, -margin)
            d_scores = (-sign * weights * scipy.special.expit(-margin))[:, None]
        else:
            log_norm = scipy.special.logsumexp(scores, axis=1)
            loss = weights @ (log_norm - np.sum(onehot * scores, axis=1))
            d_scores = (np.exp(scores - log_norm[:, None]) - onehot) * weights[:, None]
        grad_coef = d_scores.T @ X + alpha * diff
        grad = np.concatenate([grad_coef.ravel(), d_scores.sum(axis=0)])
        return (loss + penalty) / scale, grad / scale

    start = np.concatenate([source_coef.ravel(), np.zeros(n_outputs)])
    result = scipy.optimize.minimize(
        value_grad,
        start,
        jac=True,
        method="L-BFGS-B",
        options={"maxiter": 5000, "gtol": 1e-10, "ftol": 1e-14},
    )
    coef = result.x[: n_features * n_outputs].reshape(n_outputs, n_features)
    return _LinearToward(coef, result.x[n_features * n_outputs :], classes)
