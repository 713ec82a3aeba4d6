"""
===============================
Per-task cross-validated scores
===============================

An average score over tasks can hide tasks that a multi-task model makes
worse. This example cross-validates the graph-regularized model and
independent ridge per task, with the package's task-aware tools:

- :class:`~sklearn_mtl.model_selection.TaskKFold` splits *inside* every task,
  so every task is trained on and tested in every fold;
- :func:`~sklearn_mtl.metrics.make_task_scorer` with ``average=None`` scores
  every task separately; ``cross_validate`` reports one ``test_<task>``
  column per task.

The task labels reach the splitter, the estimator and the scorer through
scikit-learn's metadata routing (switched on here in a ``config_context``).
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
import sklearn
from sklearn.linear_model import Ridge
from sklearn.metrics import r2_score
from sklearn.model_selection import cross_validate

from sklearn_mtl import GraphMultiTaskRegressor, IndependentTasks
from sklearn_mtl.datasets import load_school, make_multitask_regression
from sklearn_mtl.metrics import make_task_scorer
from sklearn_mtl.model_selection import TaskKFold

try:
    school = load_school()
    X, y, task_ids = school.data, school.target, school.task_ids
    data_name = "School (139 schools)"
except FileNotFoundError:
    X, y, task_ids = make_multitask_regression(
        n_tasks=40,
        n_samples=30,
        n_clusters=1,
        task_spread=0.3,
        noise=2.0,
        random_state=0,
    )
    data_name = "synthetic (40 tasks)"

# %%
# Cross-validate with a per-task splitter and a per-task scorer
# -------------------------------------------------------------
cv = TaskKFold(n_splits=3, shuffle=True, random_state=0)
per_task_r2 = make_task_scorer(r2_score, average=None)
models = {
    "IndependentTasks(Ridge())": IndependentTasks(Ridge()),
    "GraphMultiTaskRegressor('full')": GraphMultiTaskRegressor(
        graph="full", alpha_graph=100.0
    ),
}
tasks = np.unique(task_ids)
scores = {}
with sklearn.config_context(enable_metadata_routing=True):
    for name, model in models.items():
        result = cross_validate(
            model, X, y, cv=cv, scoring=per_task_r2, params={"task_ids": task_ids}
        )
        # One column per task, named after its label; mean over the folds.
        scores[name] = np.array([result[f"test_{t}"].mean() for t in tasks])

# %%
# The table, for the first tasks
# ------------------------------
independent, graph = scores.values()
print(f"{'task':>6} {'independent R²':>15} {'graph R²':>9}")
for t, a, b in list(zip(tasks, independent, graph))[:10]:
    print(f"{t!s:>6} {a:15.3f} {b:9.3f}")
print(f"{'mean':>6} {independent.mean():15.3f} {graph.mean():9.3f}")
better = np.mean(graph > independent)
print(f"the graph model is better on {better:.0%} of {len(tasks)} tasks")

# %%
# Plot: every task, one against the other
# ---------------------------------------
fig, ax = plt.subplots(figsize=(5.5, 5.2), layout="constrained")
ax.scatter(independent, graph, s=12, alpha=0.7)
low = min(independent.min(), graph.min())
high = max(independent.max(), graph.max())
ax.plot([low, high], [low, high], color="grey", lw=1, ls="--")
ax.set_xlabel("IndependentTasks(Ridge()): per-task CV R²")
ax.set_ylabel("GraphMultiTaskRegressor: per-task CV R²")
ax.set_title(f"{better:.0%} of tasks above the diagonal — {data_name}", fontsize=10)
plt.show()

# %%
# Points above the diagonal are tasks the multi-task model helps. Per-task R²
# on a few test samples is noisy, so read the cloud, not single points; the
# tasks well below the diagonal, if any, are where sharing costs accuracy.
