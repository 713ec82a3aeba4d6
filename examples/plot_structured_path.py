"""
=====================================================================
Joint feature selection: the regularization path and its CV estimator
=====================================================================

:class:`~sklearn_mtl.linear.JointFeatureMultiTaskRegressor` penalizes the
L2,1 norm of the task models: a feature is used by every task or by none. Its
strength ``alpha`` runs from ``alpha_max`` (no feature at all) down; the
path shows, for each feature, the norm of its coefficients across tasks as
``alpha`` decreases, each fit warm-started from the previous one.

``JointFeatureMultiTaskRegressorCV`` picks ``alpha`` the way
``MultiTaskLassoCV`` does, but with task-aware folds (every task in every
fold), tasks with their own design and intercept, and the path scores kept
in ``scores_path_``.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np

from sklearn_mtl.linear import (
    JointFeatureMultiTaskRegressor,
    JointFeatureMultiTaskRegressorCV,
    multitask_path,
)

# %%
# Twelve tasks of 40 samples, each with its own design; 5 of 30 features
# matter, in every task, with task-specific weights.
rng = np.random.default_rng(0)
n_tasks, n_per_task, n_features = 12, 40, 30
task_ids = np.repeat(np.arange(n_tasks), n_per_task)
X = rng.normal(size=(task_ids.size, n_features))
W = np.zeros((n_tasks, n_features))
W[:, :5] = rng.normal(size=(n_tasks, 5)) + 1.0
y = np.einsum("ij,ij->i", X, W[task_ids]) + 2.0 * rng.normal(size=task_ids.size)

# %%
# The path, from alpha_max down to alpha_max / 100
# ------------------------------------------------
alphas, coefs, intercepts, n_iters = multitask_path(
    JointFeatureMultiTaskRegressor(), X, y, task_ids, alphas=30, eps=1e-2
)
norms = np.linalg.norm(coefs, axis=1)  # (n_alphas, n_features)
print(f"alpha_max = {alphas[0]:.1f}; solver iterations along the path: {n_iters.sum()}")

# %%
# Choosing alpha by task-aware cross-validation
# ---------------------------------------------
model = JointFeatureMultiTaskRegressorCV(alphas=20, eps=1e-2, cv=3)
model.fit(X, y, task_ids=task_ids)
selected = np.flatnonzero(np.linalg.norm(model.coef_, axis=0))
print(f"alpha_ = {model.alpha_:.2f}, selected features: {selected.tolist()}")

# %%
# The strength that predicts best keeps more than the 5 relevant features (the
# shrinkage of a strong penalty costs more than a few small spurious weights),
# as for the lasso; the path shows the relevant ones entering first.

# %%
fig, (top, bottom) = plt.subplots(2, 1, sharex=True, figsize=(7, 7))
for j in range(n_features):
    top.plot(alphas, norms[:, j], color="C0" if j < 5 else "C7", lw=1)
top.set_ylabel("||W[:, j]|| across tasks")
top.set_title("L2,1 path: 5 relevant features (blue), 25 others (grey)")
mean = model.scores_path_.mean(axis=1)
std = model.scores_path_.std(axis=1)
bottom.plot(model.alphas_, model.scores_path_, color="C7", lw=0.5)
bottom.plot(model.alphas_, mean, color="C1", lw=2, label="mean over folds")
bottom.fill_between(model.alphas_, mean - std, mean + std, color="C1", alpha=0.2)
bottom.set_ylabel("test R² (3 task-aware folds)")
bottom.set_xlabel("alpha")
for axis in (top, bottom):
    axis.axvline(model.alpha_, color="k", ls="--", lw=1)
    axis.set_xscale("log")
bottom.legend()
fig.tight_layout()
plt.show()
