"""
======================================================
Regularization path: from independent to shared models
======================================================

``alpha_graph`` sets how strongly :class:`~sklearn_mtl.GraphMultiTaskRegressor`
pulls the task models toward each other. At ``alpha_graph=0`` every task has
its own ridge regression; as it grows (with a connected graph such as
``"full"``) all tasks end up sharing one coefficient vector, each keeping its
own intercept.

The path is computed as scikit-learn computes its own: one estimator with
``warm_start=True`` refitted over a grid of ``alpha_graph`` values, each fit
starting from the previous coefficients.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np

from sklearn_mtl import GraphMultiTaskRegressor
from sklearn_mtl.datasets import load_school, make_multitask_regression

try:
    school = load_school()
    X, y, task_ids = school.data, school.target, school.task_ids
    labels, sizes = np.unique(task_ids, return_counts=True)
    keep = np.isin(task_ids, labels[np.argsort(sizes)[::-1][:12]])
    X, y, task_ids = X[keep], y[keep], task_ids[keep]
    data_name = "School, 12 largest schools"
except FileNotFoundError:
    X, y, task_ids = make_multitask_regression(
        n_tasks=12, n_samples=60, noise=1.0, random_state=0
    )
    data_name = "synthetic, 12 tasks"

# %%
# The path, warm-started from small to large ``alpha_graph``
# -----------------------------------------------------------
alphas = np.logspace(-2, 5, 40)
model = GraphMultiTaskRegressor(graph="full", alpha_l2=0.1, warm_start=True)
coefs = []
for alpha in alphas:
    model.set_params(alpha_graph=alpha).fit(X, y, task_ids=task_ids)
    coefs.append(model.coef_.copy())
coefs = np.array(coefs)  # (n_alphas, n_tasks, n_features)

# The feature whose coefficient differs most between tasks at the weakest
# penalty: its path shows the tasks being pulled together.
feature = np.argmax(coefs[0].std(axis=0))
spread = np.linalg.norm(coefs - coefs.mean(axis=1, keepdims=True), axis=(1, 2))

# %%
# Plot
# ----
fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), layout="constrained")
axes[0].semilogx(alphas, coefs[:, :, feature])
axes[0].set_xlabel("alpha_graph")
axes[0].set_ylabel(f"coefficient of feature {feature}")
axes[0].set_title("one line per task")
axes[1].loglog(alphas, spread, marker=".")
axes[1].set_xlabel("alpha_graph")
axes[1].set_ylabel("||W - mean task model||_F")
axes[1].set_title("spread of the task models")
fig.suptitle(f"Regularization path of GraphMultiTaskRegressor ({data_name})")
plt.show()

# %%
# On the left, each task's coefficient of one feature converges to a shared
# value as ``alpha_graph`` grows; on the right, the distance of the task
# models from their mean falls toward zero. Cross-validation
# (:class:`~sklearn_mtl.model_selection.TaskKFold`) picks the point on this
# path where the tasks share as much as helps.
print(
    f"spread: {spread[0]:.2f} at alpha_graph={alphas[0]:g}, "
    f"{spread[-1]:.2e} at alpha_graph={alphas[-1]:g}"
)
