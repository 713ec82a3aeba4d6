"""Multi-task meta-learning: learn from many tasks how to learn a new one.

Every meta-learner follows one contract: ``fit(X, y, task_ids=...)``
meta-learns from the training tasks; ``adapt(X_support, y_support,
task_ids=...)`` learns new tasks from a few samples without changing what was
meta-learned; ``predict`` / ``score`` serve every task seen in either. Model
selection on new tasks: :class:`MetaTaskSplit` (train tasks / test tasks) and
:func:`make_adapt_scorer` (adapt on each test task's first ``k`` rows, score on
the rest).
"""

from ._common_mean import CommonMeanRidge, CommonMeanRidgeClassifier
from ._gradient import GradientMetaClassifier, GradientMetaRegressor
from ._prior import LearnedPriorClassifier, LearnedPriorRegressor
from ._prototypes import PrototypicalClassifier
from ._selection import MetaTaskSplit, make_adapt_scorer

__all__ = [
    "CommonMeanRidge",
    "CommonMeanRidgeClassifier",
    "GradientMetaClassifier",
    "GradientMetaRegressor",
    "LearnedPriorClassifier",
    "LearnedPriorRegressor",
    "MetaTaskSplit",
    "PrototypicalClassifier",
    "make_adapt_scorer",
]
