"""
===========================================
Which tasks are alike: a learned task graph
===========================================

With ``graph="learned"``, :class:`~sklearn_mtl.GraphMultiTaskRegressor`
learns a task covariance together with the task models (multi-task
relationship learning): tasks whose models move together get a large
covariance, and the penalty pulls them toward each other. The fitted
``task_covariance_`` shows which tasks the model found alike.

Here it is drawn as a heatmap of task correlations for the 20 largest
schools of the School data (synthetic related tasks, in two known groups,
when no data home holds School), beside the fixed k-nearest-neighbour graph
(``graph="knn"``) built from independent ridge fits.
"""

# %%
# Data: School when available, else synthetic related tasks
# ---------------------------------------------------------
import matplotlib.pyplot as plt
import numpy as np
from scipy.cluster.hierarchy import leaves_list, linkage
from scipy.spatial.distance import squareform

from sklearn_mtl import GraphMultiTaskRegressor
from sklearn_mtl.datasets import load_school, make_multitask_regression

try:
    school = load_school()
    X, y, task_ids = school.data, school.target, school.task_ids
    labels, sizes = np.unique(task_ids, return_counts=True)
    keep = np.isin(task_ids, labels[np.argsort(sizes)[::-1][:20]])
    X, y, task_ids = X[keep], y[keep], task_ids[keep]
    data_name = "School, 20 largest schools"
except FileNotFoundError:
    X, y, task_ids = make_multitask_regression(
        n_tasks=20, n_samples=60, n_clusters=2, noise=1.0, random_state=0
    )
    data_name = "synthetic, 2 groups of tasks"

# %%
# Fit the learned graph and the kNN graph
# ----------------------------------------
learned = GraphMultiTaskRegressor(graph="learned", alpha_graph=1.0)
learned.fit(X, y, task_ids=task_ids)
knn = GraphMultiTaskRegressor(graph="knn").fit(X, y, task_ids=task_ids)

cov = learned.task_covariance_
std = np.sqrt(np.diag(cov))
corr = cov / np.outer(std, std)

# Order the tasks so that groups of alike tasks sit together on the diagonal.
order = leaves_list(linkage(squareform(1 - corr, checks=False), "average"))
tasks = learned.tasks_[order]
adjacency = knn.adjacency_
adjacency = adjacency.toarray() if hasattr(adjacency, "toarray") else adjacency

# %%
# Plot
# ----
fig, axes = plt.subplots(1, 2, figsize=(11, 4.8), layout="constrained")
panels = [
    (corr[np.ix_(order, order)], "learned task correlation", "RdBu_r", (-1, 1)),
    (adjacency[np.ix_(order, order)], "kNN graph adjacency", "Greys", (0, None)),
]
for ax, (matrix, title, cmap, (vmin, vmax)) in zip(axes, panels):
    image = ax.imshow(matrix, cmap=cmap, vmin=vmin, vmax=vmax)
    ax.set_title(title)
    ax.set_xticks(range(len(tasks)), tasks, rotation=90, fontsize=7)
    ax.set_yticks(range(len(tasks)), tasks, fontsize=7)
    ax.set_xlabel("task")
    fig.colorbar(image, ax=ax, shrink=0.8)
fig.suptitle(f"Task relations ({data_name})")
plt.show()

# %%
# Blocks of high correlation are groups of tasks the model treats as alike.
# The kNN graph is fixed before the fit; the learned covariance is estimated
# jointly with the models and may also hold negative relations.
print(
    f"{len(tasks)} tasks; mean off-diagonal correlation "
    f"{(corr.sum() - len(tasks)) / (len(tasks) ** 2 - len(tasks)):.2f}"
)
