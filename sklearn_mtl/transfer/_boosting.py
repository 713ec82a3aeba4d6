"""TrAdaBoost with its errors measured on rows the learner did not fit."""

import numpy as np
from sklearn.base import clone
from sklearn.model_selection import KFold, StratifiedKFold

from ._instance import TrAdaBoostModel, tradaboost_update

__all__ = ["fit_tradaboost_held_out", "out_of_fold_mistakes"]


def _cross_fitting_folds(y, is_source, n_splits, random_state):
    """Folds of every row, stratified by (domain, class) where each such
    group has ``n_splits`` rows; the same folds serve every round."""
    codes = np.unique(y, return_inverse=True)[1]
    key = np.unique(np.c_[is_source, codes], axis=0, return_inverse=True)[1].ravel()
    counts = np.bincount(key)
    if counts.min() >= n_splits:
        splitter = StratifiedKFold(n_splits, shuffle=True, random_state=random_state)
        return list(splitter.split(y, key))
    return list(KFold(n_splits, shuffle=True, random_state=random_state).split(y))


def out_of_fold_mistakes(estimator, X, y, probabilities, folds):
    """Whether each row is misclassified by a learner fitted on the other folds
    (with the round's sample weights ``probabilities * n``)."""
    wrong = np.zeros(len(y), bool)
    for train, test in folds:
        learner = clone(estimator).fit(
            X[train], y[train], sample_weight=probabilities[train] * len(y)
        )
        wrong[test] = learner.predict(X[test]) != y[test]
    return wrong


def fit_tradaboost_held_out(
    estimator,
    X,
    y,
    weights,
    is_source,
    classes,
    n_estimators,
    *,
    n_splits=2,
    random_state=None,
):
    """TrAdaBoost (Dai et al., 2007) with cross-fitted errors.

    As :func:`~sklearn_mtl.transfer._instance.fit_tradaboost`, except which
    rows count as misclassified in round t: each row is predicted by a
    learner fitted, with the round's weights, on the *other* ``n_splits - 1``
    folds (folds stratified by domain and class, fixed across rounds). The
    target error ``eps_t`` (weighted, target rows only), ``beta_t``, the
    source factor ``beta = 1 / (1 + sqrt(2 ln n_source / N))`` and the
    updates are then Dai et al.'s. The round's voter is the learner fitted on
    every row. A base learner that fits its training rows exactly (an
    unpruned tree) still makes held-out mistakes, so sources are reweighted
    where the training-error version never moves a weight. Costs
    ``n_splits + 1`` fits per round.

    Returns
    -------
    model : TrAdaBoostModel
        Vote of the last ``ceil(N/2)`` rounds, weighted ``log(1 / beta_t)``.
    """
    n_source = is_source.sum()
    beta_source = 1.0 / (1.0 + np.sqrt(2.0 * np.log(max(n_source, 2)) / n_estimators))
    folds = _cross_fitting_folds(y, is_source, n_splits, random_state)
    weights = weights / weights.sum()
    target = ~is_source
    learners, learner_weights = [], []
    for _ in range(n_estimators):
        probabilities = weights / weights.sum()
        wrong = out_of_fold_mistakes(estimator, X, y, probabilities, folds)
        learner = clone(estimator).fit(X, y, sample_weight=probabilities * len(y))
        error = np.sum(weights[target] * wrong[target]) / weights[target].sum()
        error = float(np.clip(error, 1e-10, 0.499))
        beta_target = error / (1.0 - error)
        learners.append(learner)
        learner_weights.append(np.log(1.0 / beta_target))
        weights = tradaboost_update(weights, wrong, is_source, beta_source, beta_target)
    half = n_estimators // 2
    return TrAdaBoostModel(learners[half:], learner_weights[half:], classes)
