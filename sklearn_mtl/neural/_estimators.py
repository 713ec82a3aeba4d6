"""MultiTaskClassifier and MultiTaskRegressor: multi-task networks via skorch.

This module imports without torch; fitting needs the ``neural`` extra.
"""

from numbers import Integral, Real

import numpy as np
from scipy.special import softmax
from sklearn.base import BaseEstimator, _fit_context
from sklearn.utils import TransformerTags
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from .._base import MultiTaskClassifierMixin, MultiTaskRegressorMixin
from .._tasks import check_fit_data, check_predict_data, proba_output
from ._training import _OPTIMIZERS, _NetworkTrainingMixin, _require_torch
from ._weighting import LossWeighting

__all__ = ["MultiTaskClassifier", "MultiTaskRegressor"]

_ARRAY_PARAMS = {"dtype": "numeric", "allow_nd": True}


_SHARED_DOC = """
    Parameters
    ----------
    trunk : "mlp", torch.nn.Module class or instance, default="mlp"
        The shared feature extractor. "mlp" builds fully connected layers of
        ``hidden_layer_sizes``. A module class is instantiated with the
        ``trunk__*`` keyword arguments (settable and grid-searchable, as in
        skorch); an instance is deep-copied at fit. It must map a batch of
        ``X`` to a 2-D tensor (n_samples, n_features_out). Integer ``X``
        (token ids) reaches it as int64, the rest as float32; ``X`` may have
        more than two dimensions (images).
    architecture : {"hard", "cross_stitch", "mmoe"}, default="hard"
        "hard": the trunk then one linear head per task. "cross_stitch": one
        MLP tower per task, linked after every layer by learned cross-stitch
        units (needs ``trunk="mlp"``). "mmoe": ``n_experts`` copies of the
        trunk mixed by a softmax gate per task.
    hidden_layer_sizes : tuple of int, default=(64,)
        Layer widths of the "mlp" trunk and of the cross-stitch towers.
    activation : {"relu", "tanh", "gelu", "identity"}, default="relu"
        Activation of the "mlp" layers.
    dropout : float, default=0.0
        Dropout after each "mlp" layer.
    n_experts : int, default=4
        Experts of the "mmoe" architecture.
    loss_weighting : str, LossWeighting, dict or array-like, default="equal"
        How task losses combine: "equal" (mean over tasks), "uncertainty"
        (learned, Kendall et al.), "dwa" (dynamic weight averaging), "gradnorm",
        "pcgrad" (gradient surgery), a strategy object from
        :mod:`sklearn_mtl.neural` to set its options, or fixed per-task
        weights (dict by task label, or an array in sorted task order).
    optimizer : {"adam", "adamw", "sgd"} or torch.optim.Optimizer class, \
default="adam"
        Optimizer of all parameters.
    learning_rate : float, default=1e-3
        Step size.
    trunk_learning_rate : float, default=None
        Step size of the trunk's parameters (None: ``learning_rate``); a
        smaller one fine-tunes a pretrained trunk gently. Trunk parameters
        with ``requires_grad=False`` stay frozen.
    weight_decay : float, default=0.0
        L2 penalty of the optimizer.
    batch_size : int, default=64
        Rows per mini-batch.
    max_epochs : int, default=100
        Passes over the training rows.
    task_balanced_batches : bool, default=False
        Draw batch rows so every task is equally likely, whatever its size.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of every task's rows (stratified by
        class for classifiers) and stop when the mean validation loss over
        tasks has not improved by ``tol`` for ``n_iter_no_change`` epochs,
        keeping the best weights.
    validation_fraction : float, default=0.1
        Share of each task held out with ``early_stopping``.
    n_iter_no_change : int, default=10
        Patience of early stopping, in epochs.
    tol : float, default=1e-4
        Smallest improvement early stopping counts.
    device : str, default="auto"
        The torch device; "auto" picks CUDA when available, else the CPU.
    mixed_precision : bool, default=False
        Train in bfloat16 autocast on CUDA (ignored on the CPU).
    task_column : int or str, default=None
        Column of ``X`` holding the task label (2-D ``X`` only).
    random_state : int, RandomState instance or None, default=None
        Seeds weights, shuffling and dropout (without touching torch's
        global random state); CPU runs are then reproducible.
    verbose : int, default=0
        1 prints skorch's table of losses per epoch.
    **trunk_params
        ``trunk__<name>`` arguments for a trunk given as a class."""

_SHARED_ATTRIBUTES = """
    tasks_ : ndarray of shape (n_tasks,)
        Sorted task labels (``0..T-1`` for a wide ``y``).
    task_format_ : {"long", "wide"}
        How tasks were given in fit.
    net_ : skorch.NeuralNet
        The trained skorch net; ``net_.module_.network`` the torch module and
        ``net_.history`` the losses per epoch.
    device_ : str
        The device trained on.
    n_iter_ : int
        Epochs run.
    n_features_in_ : int
        Number of columns of ``X`` in fit."""


class _NeuralMultiTaskModel(_NetworkTrainingMixin, BaseEstimator):
    _parameter_constraints = {
        "trunk": [StrOptions({"mlp"}), type, HasMethods(["forward"])],
        "architecture": [StrOptions({"hard", "cross_stitch", "mmoe"})],
        "hidden_layer_sizes": [tuple, list],
        "activation": [StrOptions({"relu", "tanh", "gelu", "identity"})],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "n_experts": [Interval(Integral, 1, None, closed="left")],
        "loss_weighting": [
            StrOptions({"equal", "uncertainty", "dwa", "gradnorm", "pcgrad"}),
            LossWeighting,
            dict,
            "array-like",
        ],
        "optimizer": [StrOptions(set(_OPTIMIZERS)), type],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "trunk_learning_rate": [None, Interval(Real, 0, None, closed="left")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "task_balanced_batches": ["boolean"],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "device": [str],
        "mixed_precision": ["boolean"],
        "task_column": [None, Integral, str],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        trunk="mlp",
        *,
        architecture="hard",
        hidden_layer_sizes=(64,),
        activation="relu",
        dropout=0.0,
        n_experts=4,
        loss_weighting="equal",
        optimizer="adam",
        learning_rate=1e-3,
        trunk_learning_rate=None,
        weight_decay=0.0,
        batch_size=64,
        max_epochs=100,
        task_balanced_batches=False,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        tol=1e-4,
        device="auto",
        mixed_precision=False,
        task_column=None,
        random_state=None,
        verbose=0,
        **trunk_params,
    ):
        self.trunk = trunk
        self.architecture = architecture
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.dropout = dropout
        self.n_experts = n_experts
        self.loss_weighting = loss_weighting
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.trunk_learning_rate = trunk_learning_rate
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.task_balanced_batches = task_balanced_batches
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.device = device
        self.mixed_precision = mixed_precision
        self.task_column = task_column
        self.random_state = random_state
        self.verbose = verbose
        # Stored as given; fit rejects names that are not trunk__<name>.
        self._extra_params = tuple(trunk_params)
        for name, value in trunk_params.items():
            setattr(self, name, value)

    # -- parameters: trunk__* arguments behave like parameters, as in skorch --
    def _trunk_params(self):
        return {k: getattr(self, k) for k in self._extra_params}

    def get_params(self, deep=True):
        params = super().get_params(deep=False)
        params.update(self._trunk_params())
        return params

    def set_params(self, **params):
        for name in [k for k in params if k.startswith("trunk__")]:
            if name not in self._extra_params:
                self._extra_params += (name,)
            setattr(self, name, params.pop(name))
        return super().set_params(**params)

    def _check_extra_params(self):
        unexpected = [k for k in self._extra_params if not k.startswith("trunk__")]
        if unexpected:
            raise TypeError(
                f"{type(self).__name__} got unexpected keyword arguments {unexpected}; "
                "besides its parameters it accepts trunk__<name> arguments only."
            )

    def fit_transform(self, X, y, task_ids=None, sample_weight=None):
        """Fit, then return the shared representation of ``X`` (see transform).

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Training inputs.
        y : array-like
            Targets, as in ``fit``.
        task_ids : array-like of shape (n_samples,), default=None
            Task of each sample.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.

        Returns
        -------
        features : ndarray of shape (n_samples, n_features_out)
        """
        self.fit(X, y, task_ids=task_ids, sample_weight=sample_weight)
        return self.transform(X, task_ids=task_ids)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        # ``transform`` gives the shared representation (learned features).
        tags.transformer_tags = TransformerTags(preserves_dtype=["float32"])
        return tags

    def _check_predict(self, X, task_ids):
        check_is_fitted(self, "net_")
        return check_predict_data(self, X, task_ids, array_params=_ARRAY_PARAMS)

    def transform(self, X, task_ids=None):
        """The shared representation the task heads read.

        For hard sharing the trunk's output (the same for every task); for
        MMoE the task's gated mixture of experts; for cross-stitch the task's
        tower. Use it as learned features (feature-based transfer).

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Samples.
        task_ids : array-like of shape (n_samples,), default=None
            Task of each sample.

        Returns
        -------
        features : ndarray of shape (n_samples, n_features_out), with a task
            axis after a wide-format fit
        """
        data = self._check_predict(X, task_ids)
        return data.to_output(self._forward_rows(data, representation=True))


class MultiTaskRegressor(MultiTaskRegressorMixin, _NeuralMultiTaskModel):
    __doc__ = f"""Multi-task neural network regressor (shared trunk, per-task heads).

    Trained with skorch on torch, on the GPU when present. Targets are
    standardized per task for training (so tasks of different scales weigh
    alike) and predictions mapped back. A long-format ``y`` may have several
    columns: several targets per task.
{_SHARED_DOC}

    Attributes
    ----------
    n_outputs_ : int
        Targets per task.
    multi_target_ : bool
        Whether a long-format ``y`` had several columns (targets per task).
    target_mean_, target_scale_ : ndarray of shape (n_tasks, `n_outputs_`)
        Per-task standardization of the targets (weighted by
        ``sample_weight``).{_SHARED_ATTRIBUTES}

    Examples
    --------
    >>> from sklearn_mtl import MultiTaskRegressor
    >>> from sklearn_mtl.datasets import make_multitask_regression
    >>> X, y, task_ids = make_multitask_regression(n_tasks=3, random_state=0)
    >>> model = MultiTaskRegressor(max_epochs=20, random_state=0)
    >>> model.fit(X, y, task_ids=task_ids).predict(X[:2], task_ids=task_ids[:2]).shape
    (2,)
    """

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, task_ids=None, sample_weight=None):
        """Train the network on all tasks.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Training inputs.
        y : array-like of shape (n_samples,), (n_samples, n_targets) or \
(n_samples, n_tasks)
            Targets; 2-D without ``task_ids``: one task per column, NaN =
            missing label; 2-D with ``task_ids``: several targets per task.
        task_ids : array-like of shape (n_samples,), default=None
            Task of each sample.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the samples in their task's loss.

        Returns
        -------
        self : object
        """
        self._check_extra_params()
        _require_torch()
        data = check_fit_data(
            self,
            X,
            y,
            task_ids,
            sample_weight,
            array_params=_ARRAY_PARAMS,
            multi_target=True,
            min_samples_per_task=2,
        )
        self._warn_unscaled(data.X)
        import torch

        y_rows = data.y.reshape(data.n_rows, -1)
        self.n_outputs_ = y_rows.shape[1]
        self.multi_target_ = data.y.ndim == 2 and not data.wide
        weights = (
            np.ones(data.n_rows) if data.sample_weight is None else data.sample_weight
        )
        mean = np.zeros((data.n_tasks, self.n_outputs_))
        scale = np.ones((data.n_tasks, self.n_outputs_))
        for t, rows in enumerate(data.rows_of_tasks()):
            # Weighted moments: a weight of k standardizes like k repeated rows.
            mean[t] = np.average(y_rows[rows], axis=0, weights=weights[rows])
            spread = np.sqrt(
                np.average((y_rows[rows] - mean[t]) ** 2, axis=0, weights=weights[rows])
            )
            scale[t] = np.where(spread > 0, spread, 1.0)
        self.target_mean_, self.target_scale_ = mean, scale
        standardized = (y_rows - mean[data.task_index]) / scale[data.task_index]
        return self._fit_network(
            data,
            torch.as_tensor(standardized, dtype=torch.float32),
            torch.as_tensor(weights, dtype=torch.float32),
            [self.n_outputs_] * data.n_tasks,
            self.n_outputs_,
            classification=False,
            strata=data.task_index,
        )

    def predict(self, X, task_ids=None):
        """Predict each sample with its task's head.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Samples.
        task_ids : array-like of shape (n_samples,), default=None
            Task of each sample.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,), (n_samples, n_targets) or \
(n_samples, n_tasks)
        """
        data = self._check_predict(X, task_ids)
        out = self._forward_rows(data)[:, : self.n_outputs_]
        out = (
            out * self.target_scale_[data.task_index]
            + self.target_mean_[data.task_index]
        )
        return data.to_output(out if self.multi_target_ else out[:, 0])


class MultiTaskClassifier(MultiTaskClassifierMixin, _NeuralMultiTaskModel):
    __doc__ = f"""Multi-task neural network classifier (shared trunk, per-task heads).

    Trained with skorch on torch, on the GPU when present. Each task's head
    has as many outputs as the task has classes, so tasks may have different
    label sets (binary and multiclass mixed); ``classes_`` is their union and
    a task gives probability 0 to classes it never saw.
{_SHARED_DOC}

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Union of the tasks' class labels.
    task_classes_ : list of ndarray
        Class labels of each task, in the order of ``tasks_``.{_SHARED_ATTRIBUTES}

    Examples
    --------
    >>> from sklearn_mtl import MultiTaskClassifier
    >>> from sklearn_mtl.datasets import make_multitask_classification
    >>> X, y, task_ids = make_multitask_classification(n_tasks=3, random_state=0)
    >>> model = MultiTaskClassifier(max_epochs=20, random_state=0)
    >>> model = model.fit(X, y, task_ids=task_ids)
    >>> model.predict_proba(X[:2], task_ids=task_ids[:2]).shape
    (2, 2)
    """

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, task_ids=None, sample_weight=None):
        """Train the network on all tasks.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Training inputs.
        y : array-like of shape (n_samples,) or (n_samples, n_tasks)
            Class labels; 2-D without ``task_ids``: one task per column, NaN =
            missing label.
        task_ids : array-like of shape (n_samples,), default=None
            Task of each sample.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the samples in their task's loss.

        Returns
        -------
        self : object
        """
        self._check_extra_params()
        _require_torch()
        data = check_fit_data(
            self,
            X,
            y,
            task_ids,
            sample_weight,
            classifier=True,
            array_params=_ARRAY_PARAMS,
        )
        self._warn_unscaled(data.X)
        import torch

        self.classes_ = np.unique(data.y)
        task_rows = data.rows_of_tasks()
        self.task_classes_ = [np.unique(data.y[rows]) for rows in task_rows]
        local = np.empty(data.n_rows, dtype=np.int64)
        for t, rows in enumerate(task_rows):
            local[rows] = np.searchsorted(self.task_classes_[t], data.y[rows])
        weights = (
            np.ones(data.n_rows) if data.sample_weight is None else data.sample_weight
        )
        strata = data.task_index * len(self.classes_) + np.searchsorted(
            self.classes_, data.y
        )
        return self._fit_network(
            data,
            torch.as_tensor(local),
            torch.as_tensor(weights, dtype=torch.float32),
            [len(c) for c in self.task_classes_],
            1,
            classification=True,
            strata=strata,
        )

    def _proba_rows(self, data):
        logits = self._forward_rows(data)
        proba = np.zeros((data.n_rows, len(self.classes_)))
        for t, rows in enumerate(data.rows_of_tasks()):
            if rows.size == 0:
                continue
            k = len(self.task_classes_[t])
            task_logits = logits[rows, :k]
            columns = np.searchsorted(self.classes_, self.task_classes_[t])
            proba[np.ix_(rows, columns)] = softmax(task_logits, axis=1)
        return proba

    def predict_proba(self, X, task_ids=None):
        """Class probabilities, columns in the order of ``classes_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Samples.
        task_ids : array-like of shape (n_samples,), default=None
            Task of each sample.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes), or a list of n_tasks
            such arrays after a wide-format fit
        """
        data = self._check_predict(X, task_ids)
        proba = data.to_output(self._proba_rows(data))
        return proba_output(proba)

    def predict(self, X, task_ids=None):
        """Most probable class of each sample under its task's head.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Samples.
        task_ids : array-like of shape (n_samples,), default=None
            Task of each sample.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_tasks)
        """
        data = self._check_predict(X, task_ids)
        labels = self.classes_[np.argmax(self._proba_rows(data), axis=1)]
        return data.to_output(labels)
