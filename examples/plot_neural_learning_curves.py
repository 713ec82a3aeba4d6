"""
========================================================
Learning curves of a neural multi-task network, per task
========================================================

:class:`~sklearn_mtl.MultiTaskRegressor` trains a shared MLP trunk with one
head per task (torch + skorch, the ``neural`` extra). Its skorch net is kept
in ``net_``, and ``net_.history`` holds the training loss of every epoch and,
with ``early_stopping=True``, the loss on a task-stratified validation share
(both are means over tasks).

The history does not split the loss by task, so the per-task curves are
drawn from the public API alone: with a fixed ``random_state`` a fit of
``max_epochs=k`` is exactly the first ``k`` epochs of a longer run, so
refitting at a few epoch counts and scoring each task on held-out samples
(:func:`~sklearn_mtl.metrics.per_task_score`) traces each task's held-out R²
along training. Small data and few epochs keep it to a few seconds on a CPU.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np

from sklearn_mtl import MultiTaskRegressor
from sklearn_mtl.datasets import load_school, make_multitask_regression
from sklearn_mtl.metrics import per_task_score
from sklearn_mtl.model_selection import train_test_split

try:
    school = load_school()
    X, y, task_ids = school.data, school.target, school.task_ids
    labels, sizes = np.unique(task_ids, return_counts=True)
    keep = np.isin(task_ids, labels[np.argsort(sizes)[::-1][:8]])
    X, y, task_ids = X[keep], y[keep], task_ids[keep]
    data_name = "School, 8 largest schools"
except FileNotFoundError:
    X, y, task_ids = make_multitask_regression(
        n_tasks=8, n_samples=200, noise=1.0, random_state=0
    )
    data_name = "synthetic, 8 tasks"

X_train, X_test, y_train, y_test, t_train, t_test = train_test_split(
    X, y, task_ids, task_ids=task_ids, test_size=0.3, random_state=0
)
params = dict(
    hidden_layer_sizes=(32,),
    batch_size=64,
    learning_rate=3e-3,
    weight_decay=1e-3,
    random_state=0,
)

# %%
# One run with early stopping: the history
# ----------------------------------------
net = MultiTaskRegressor(
    max_epochs=40, early_stopping=True, n_iter_no_change=5, **params
)
net.fit(X_train, y_train, task_ids=t_train)
train_loss = net.net_.history[:, "train_loss"]
valid_loss = net.net_.history[:, "valid_loss"]
print(f"stopped after {net.n_iter_} epochs")

# %%
# Per-task held-out R² along training
# -----------------------------------
epochs = [1, 2, 4, 8, 16, 32]
per_task = []
for n_epochs in epochs:
    model = MultiTaskRegressor(max_epochs=n_epochs, **params)
    model.fit(X_train, y_train, task_ids=t_train)
    per_task.append(
        per_task_score(y_test, model.predict(X_test, task_ids=t_test), task_ids=t_test)
    )
per_task = np.array(per_task)  # (n_checkpoints, n_tasks), sorted task order

# %%
# Plot
# ----
fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), layout="constrained")
axes[0].plot(range(1, len(train_loss) + 1), train_loss, label="training")
axes[0].plot(range(1, len(valid_loss) + 1), valid_loss, label="validation")
axes[0].set_xlabel("epoch")
axes[0].set_ylabel("loss (mean over tasks, standardized targets)")
axes[0].set_title("net_.history")
axes[0].legend()
for task, curve in zip(model.tasks_, per_task.T):
    axes[1].plot(epochs, curve, marker=".", label=f"task {task}")
axes[1].set_xscale("log", base=2)
axes[1].set_xticks(epochs, [str(e) for e in epochs])
axes[1].set_xlabel("epochs trained")
axes[1].set_ylabel("held-out R²")
axes[1].set_title("per task")
axes[1].legend(fontsize=7, ncol=2)
fig.suptitle(f"MultiTaskRegressor learning curves ({data_name})")
plt.show()

# %%
# Tasks learn at different speeds and to different levels: a mean loss can
# keep falling while one task has already started to overfit. Task-aware
# early stopping (``early_stopping=True``) watches the mean validation loss
# over tasks; a loss weighting such as ``loss_weighting="dwa"`` gives more
# weight to the tasks whose loss falls slowly.
print("held-out R² per task after", epochs[-1], "epochs:", np.round(per_task[-1], 3))
