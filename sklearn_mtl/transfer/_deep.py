"""Deep domain adaptation on skorch: DANN and Deep CORAL.

The network is a trunk (any ``torch.nn.Module``; the package's MLP by
default, as for :class:`~sklearn_mtl.MultiTaskClassifier`) and a linear label
head. Source rows and labelled target rows train the label loss; every target
row, labelled or not, feeds the domain loss. This module imports without
torch; fitting needs the ``neural`` extra.
"""

from numbers import Integral, Real

import numpy as np
from scipy.special import softmax
from sklearn.base import BaseEstimator, _fit_context
from sklearn.utils import TransformerTags
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, check_random_state

from .._base import MultiTaskClassifierMixin, MultiTaskRegressorMixin
from .._tasks import check_predict_data
from ..neural._training import (
    _OPTIMIZERS,
    _NetworkTrainingMixin,
    _require_torch,
    resolve_device,
)
from ._domains import split_source_target
from ._estimator_helpers import TargetClassifierScoreMixin, TargetRegressorScoreMixin

__all__ = [
    "DANNClassifier",
    "DANNRegressor",
    "DeepCORALClassifier",
    "DeepCORALRegressor",
]


class _DeepDomainAdaptation(_NetworkTrainingMixin, BaseEstimator):
    """Shared parameters, fit and forward pass; subclasses set ``_adaptation``
    ("dann" or "coral") and ``_classifier``."""

    _parameter_constraints = {
        "trunk": [StrOptions({"mlp"}), type, HasMethods(["forward"])],
        "target": "no_validation",
        "adaptation_weight": [Interval(Real, 0, None, closed="left")],
        "hidden_layer_sizes": [tuple, list],
        "activation": [StrOptions({"relu", "tanh", "gelu", "identity"})],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "optimizer": [StrOptions(set(_OPTIMIZERS)), type],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "device": [str],
        "task_column": [None, Integral, str],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }
    _adaptation = None
    _classifier = False

    def __init__(
        self,
        trunk="mlp",
        *,
        target=None,
        adaptation_weight=1.0,
        hidden_layer_sizes=(64,),
        activation="relu",
        dropout=0.0,
        optimizer="adam",
        learning_rate=1e-3,
        weight_decay=0.0,
        batch_size=64,
        max_epochs=100,
        device="auto",
        task_column=None,
        random_state=None,
        verbose=0,
        **trunk_params,
    ):
        self.trunk = trunk
        self.target = target
        self.adaptation_weight = adaptation_weight
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.dropout = dropout
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.device = device
        self.task_column = task_column
        self.random_state = random_state
        self.verbose = verbose
        # Stored as given; fit rejects names that are not trunk__<name>.
        self._extra_params = tuple(trunk_params)
        for name, value in trunk_params.items():
            setattr(self, name, value)

    # -- trunk__* arguments behave like parameters (as in MultiTask*) ---------
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

    def _domain_head_sizes(self):
        return None

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # ``transform`` gives the trunk's features (learned, float32).
        tags.transformer_tags = TransformerTags(preserves_dtype=["float32"])
        return tags

    # -- fit --------------------------------------------------------------------
    def _split(self, X, y, task_ids, sample_weight):
        self._check_extra_params()
        _require_torch()
        self._check_hidden_layer_sizes()
        data, split = split_source_target(
            self,
            X,
            y,
            task_ids,
            sample_weight,
            classifier=self._classifier,
            allow_unlabelled=True,
        )
        if not split.has_source and split.n_labelled_target == 0:
            raise ValueError(
                f"{type(self).__name__} has no label to learn from: the data has no "
                "source task and no labelled target row. Pass source rows with "
                "task_ids and target=<the target task>."
            )
        self.target_ = self.tasks_[split.target_position]
        X_labelled, y_labelled, weights, is_source = split.stacked()
        self._warn_unscaled(X_labelled, split.X_target_all, stacklevel=5)
        return split, X_labelled, y_labelled, weights, is_source

    def _fit_network(self, split, X_labelled, targets, weights, is_source, n_outputs):
        import torch

        from ..neural._net import TrainingDiverged
        from ._deep_modules import DomainAdaptationNetwork
        from ._deep_net import DomainAdaptationNet, DomainDataset

        device = resolve_device(self.device)
        rng = check_random_state(self.random_state)
        seed = int(rng.randint(np.iinfo(np.int32).max))
        optimizer = (
            getattr(torch.optim, _OPTIMIZERS[self.optimizer])
            if isinstance(self.optimizer, str)
            else self.optimizer
        )
        # Without a source (single-task data) there is nothing to adapt: the
        # network trains on the target's labels alone.
        adapt = split.has_source
        # Seed locally: torch's global random state is left as the user had it.
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            X = self._to_tensor(X_labelled, device)
            trunk = self._make_trunk(X_labelled.shape[1])
            width = self._trunk_width(trunk, X[:2].cpu())
            network = DomainAdaptationNetwork(
                trunk, width, n_outputs, self._domain_head_sizes()
            )
            dataset = DomainDataset(
                X,
                targets.to(device),
                torch.as_tensor(weights, dtype=torch.float32, device=device),
                torch.as_tensor(is_source, device=device),
                self._to_tensor(split.X_target_all, device) if adapt else None,
            )
            net = DomainAdaptationNet(
                module=network,
                # skorch requires a criterion; the losses are the net's own.
                criterion=torch.nn.MSELoss,
                optimizer=optimizer,
                lr=self.learning_rate,
                optimizer__weight_decay=self.weight_decay,
                max_epochs=self.max_epochs,
                batch_size=self.batch_size,
                train_split=None,
                device=device,
                verbose=self.verbose,
            )
            net.adaptation = self._adaptation if adapt else None
            net.adaptation_weight = float(self.adaptation_weight)
            net.classification = self._classifier
            net.steps_per_epoch = -(-len(dataset) // self.batch_size)
            net.generator = torch.Generator().manual_seed(seed)
            try:
                net.fit(dataset, None)
            except TrainingDiverged as diverged:
                raise self._diverged_error(X_labelled, diverged) from None
            finite = torch.stack(
                [torch.isfinite(p).all() for p in network.parameters()]
            )
            if not bool(finite.all()):
                diverged = TrainingDiverged(len(net.history), "parameters", "nan")
                raise self._diverged_error(X_labelled, diverged)
        self.net_ = net
        self.device_ = device
        self.n_iter_ = len(net.history)
        return self

    # -- prediction -------------------------------------------------------------
    def _target_X(self, X):
        check_is_fitted(self, "net_")
        target = int(np.flatnonzero(self.tasks_ == self.target_)[0])
        return check_predict_data(self, X, default_task=target).X

    def _forward(self, X, features=False):
        """The label head's outputs (or the trunk's features) as numpy."""
        import torch

        # The net's device, not device_: a GPU-trained model unpickled on a
        # CPU-only machine has been moved to the CPU by skorch.
        network = self.net_.module_
        X = self._to_tensor(X, self.net_.device)
        network.eval()
        step = max(self.batch_size, 1024)
        method = network.features if features else network
        with torch.no_grad():
            out = [
                method(X[i : i + step]).float().cpu() for i in range(0, len(X), step)
            ]
        return torch.cat(out).numpy() if out else np.zeros((0, 0))

    def transform(self, X, task_ids=None):
        """The trunk's features of ``X`` (the domain-invariant representation).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.
        task_ids : ignored
            Accepted for the package's convention: both domains share the
            network.

        Returns
        -------
        features : ndarray of shape (n_samples, n_features_out)
        """
        return self._forward(self._target_X(X), features=True)

    def fit_transform(self, X, y, task_ids=None, sample_weight=None):
        """Fit, then return the trunk's features of ``X`` (see ``transform``).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Source and target rows.
        y : array-like of shape (n_samples,)
            Labels, as in ``fit``.
        task_ids : array-like of shape (n_samples,), default=None
            Task (domain) of each row.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the labelled rows in the label loss.

        Returns
        -------
        features : ndarray of shape (n_samples, n_features_out)
        """
        self.fit(X, y, task_ids=task_ids, sample_weight=sample_weight)
        return self.transform(X)


_DOC = """
    Give the source and target rows to ``fit`` with ``task_ids`` and name the
    target task with ``target`` (every other task is a source). A target row
    whose label is missing — NaN in a float ``y``, None or NaN in an object
    ``y`` — is unlabelled: it feeds the domain loss only, never the label
    loss. Zero labelled target rows is the usual (unsupervised) case; any
    labelled target rows join the source rows in the label loss. Every target
    row, labelled or not, is in the domain loss. Single-task data (no source)
    trains the network on its labels alone: there is nothing to adapt.

    Each training step pairs a mini-batch of labelled rows with a mini-batch
    of target rows; the trunk sees both in one pass. {method}

    Parameters
    ----------
    trunk : "mlp", torch.nn.Module class or instance, default="mlp"
        The feature extractor. "mlp" builds fully connected layers of
        ``hidden_layer_sizes``. A module class is instantiated with the
        ``trunk__*`` keyword arguments; an instance is deep-copied at fit. It
        must map a batch of ``X`` (float32) to a 2-D tensor (n_samples,
        n_features_out).
    target : object, default=None
        Label of the target task (None: the only task).
    adaptation_weight : float, default=1.0
        {weight}{extra_params}
    hidden_layer_sizes : tuple of int, default=(64,)
        Layer widths of the "mlp" trunk.
    activation : {{"relu", "tanh", "gelu", "identity"}}, default="relu"
        Activation of the "mlp" layers.
    dropout : float, default=0.0
        Dropout after each "mlp" layer.
    optimizer : {{"adam", "adamw", "sgd"}} or torch.optim.Optimizer class, \
default="adam"
        Optimizer of all parameters.
    learning_rate : float, default=1e-3
        Step size.
    weight_decay : float, default=0.0
        L2 penalty of the optimizer.
    batch_size : int, default=64
        Labelled rows per mini-batch (and target rows, at most all of them).
    max_epochs : int, default=100
        Passes over the labelled rows.
    device : str, default="auto"
        The torch device; "auto" picks CUDA when available, else the CPU.
    task_column : int or str, default=None
        Column of ``X`` holding the task label.
    random_state : int, RandomState instance or None, default=None
        Seeds weights, shuffling and dropout (without touching torch's
        global random state); CPU runs are then reproducible.
    verbose : int, default=0
        1 prints skorch's table of losses per epoch.
    **trunk_params
        ``trunk__<name>`` arguments for a trunk given as a class.

    Attributes
    ----------
    net_ : skorch.NeuralNet
        The trained net; ``net_.module_`` the torch module (``trunk``,
        ``head``{domain_head}) and ``net_.history`` the losses per epoch
        (``train_label_loss``, ``train_domain_loss``{lambda_hist}).
    target_ : object
        The target task label.
    tasks_ : ndarray
        Task labels seen in fit.
    device_ : str
        The device trained on.
    n_iter_ : int
        Epochs run.
    n_features_in_ : int
        Number of columns of ``X`` in fit.{attributes}"""

_DANN_DOC = dict(
    method="DANN (Ganin et al., 2016): a domain classifier learns to tell "
    "source features from target features, and its gradient reaches the trunk "
    "reversed (gradient reversal layer), so the trunk learns features the "
    "classifier cannot tell apart. The reversal's scale follows the paper's "
    "schedule ``lambda_p = adaptation_weight * (2 / (1 + exp(-10 p)) - 1)``, "
    "p going from 0 to 1 over the training steps (the learning rate stays "
    "constant).",
    weight="The scale ``lambda`` the gradient reversal tends to.",
    extra_params="\n    domain_hidden_layer_sizes : tuple of int, default=(64,)\n"
    "        Hidden layers of the domain classifier (then one logit).",
    domain_head=", ``domain_head``",
    lambda_hist=", ``lambda``",
)
_CORAL_DOC = dict(
    method="Deep CORAL (Sun & Saenko, 2016): the loss adds ``adaptation_weight "
    "* ||C_s - C_t||_F^2 / (4 d^2)``, ``C_s`` and ``C_t`` the covariances of "
    "the trunk's d features on the batch's source and target rows.",
    weight="Weight of the CORAL loss.",
    extra_params="",
    domain_head="",
    lambda_hist="",
)


class _DANN(_DeepDomainAdaptation):
    _parameter_constraints = {
        **_DeepDomainAdaptation._parameter_constraints,
        "domain_hidden_layer_sizes": [tuple, list],
    }
    _adaptation = "dann"

    def __init__(
        self,
        trunk="mlp",
        *,
        target=None,
        adaptation_weight=1.0,
        domain_hidden_layer_sizes=(64,),
        hidden_layer_sizes=(64,),
        activation="relu",
        dropout=0.0,
        optimizer="adam",
        learning_rate=1e-3,
        weight_decay=0.0,
        batch_size=64,
        max_epochs=100,
        device="auto",
        task_column=None,
        random_state=None,
        verbose=0,
        **trunk_params,
    ):
        super().__init__(
            trunk,
            target=target,
            adaptation_weight=adaptation_weight,
            hidden_layer_sizes=hidden_layer_sizes,
            activation=activation,
            dropout=dropout,
            optimizer=optimizer,
            learning_rate=learning_rate,
            weight_decay=weight_decay,
            batch_size=batch_size,
            max_epochs=max_epochs,
            device=device,
            task_column=task_column,
            random_state=random_state,
            verbose=verbose,
            **trunk_params,
        )
        self.domain_hidden_layer_sizes = domain_hidden_layer_sizes

    def _domain_head_sizes(self):
        sizes = tuple(self.domain_hidden_layer_sizes)
        if not all(
            isinstance(s, Integral) and not isinstance(s, bool) and s > 0 for s in sizes
        ):
            raise ValueError(
                "domain_hidden_layer_sizes must be a tuple of positive integers; got "
                f"{sizes!r}."
            )
        return sizes


class _DeepCORAL(_DeepDomainAdaptation):
    _adaptation = "coral"


class _RegressorPart(TargetRegressorScoreMixin, MultiTaskRegressorMixin):
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, task_ids=None, sample_weight=None):
        """Train the network on the sources, adapting to the target.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Source and target rows.
        y : array-like of shape (n_samples,)
            Targets; NaN marks an unlabelled target row.
        task_ids : array-like of shape (n_samples,), default=None
            Task (domain) of each row; ``target`` names the target.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the labelled rows in the label loss.

        Returns
        -------
        self : object
        """
        split, X_lab, y_lab, weights, is_source = self._split(
            X, y, task_ids, sample_weight
        )
        import torch  # after _split, which says how to install it

        y_lab = y_lab.astype(float)
        # Standardized targets (weighted moments), mapped back at predict.
        mean = np.average(y_lab, weights=weights)
        spread = np.sqrt(np.average((y_lab - mean) ** 2, weights=weights))
        self.target_mean_, self.target_scale_ = mean, spread if spread > 0 else 1.0
        targets = torch.as_tensor(
            (y_lab - mean) / self.target_scale_, dtype=torch.float32
        )
        return self._fit_network(split, X_lab, targets, weights, is_source, 1)

    def predict(self, X, task_ids=None):
        """Predict target rows.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples (of the target task).
        task_ids : ignored
            Accepted for the package's convention; predictions serve the target.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        out = self._forward(self._target_X(X))[:, 0]
        return out * self.target_scale_ + self.target_mean_


class _ClassifierPart(TargetClassifierScoreMixin, MultiTaskClassifierMixin):
    _classifier = True

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, task_ids=None, sample_weight=None):
        """Train the network on the sources, adapting to the target.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Source and target rows.
        y : array-like of shape (n_samples,)
            Class labels; NaN (float ``y``) or None (object ``y``) marks an
            unlabelled target row.
        task_ids : array-like of shape (n_samples,), default=None
            Task (domain) of each row; ``target`` names the target.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the labelled rows in the label loss.

        Returns
        -------
        self : object
        """
        split, X_lab, y_lab, weights, is_source = self._split(
            X, y, task_ids, sample_weight
        )
        import torch  # after _split, which says how to install it

        self.classes_ = np.unique(y_lab)
        encoded = torch.as_tensor(np.searchsorted(self.classes_, y_lab))
        return self._fit_network(
            split, X_lab, encoded, weights, is_source, len(self.classes_)
        )

    def predict_proba(self, X, task_ids=None):
        """Class probabilities of target rows, columns as ``classes_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples (of the target task).
        task_ids : ignored
            Accepted for the package's convention; predictions serve the target.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        return softmax(self._forward(self._target_X(X)), axis=1)

    def predict(self, X, task_ids=None):
        """Most probable class of target rows.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples (of the target task).
        task_ids : ignored
            Accepted for the package's convention; predictions serve the target.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]


_EXAMPLE = """
    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_mtl.transfer import {name}
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(200, 2))
    >>> domain = np.repeat(["source", "target"], 100)
    >>> X[domain == "target"] += 1.0
    >>> y = {y}
    >>> y[domain == "target"] = np.nan  # unlabelled target rows
    >>> model = {name}(target="target", max_epochs=5, random_state=0)
    >>> model.fit(X, y, task_ids=domain).predict(X[:2]).shape
    (2,)
    """

_CLASS_Y = "(X[:, 0] > X[:, 1]).astype(float)"
_REG_Y = "X @ [1.0, -1.0]"


class DANNClassifier(_ClassifierPart, _DANN):
    __doc__ = (
        "Domain-adversarial neural network classifier (DANN).\n"
        + _DOC.format(
            **_DANN_DOC,
            attributes="\n    classes_ : ndarray\n        Class labels seen in fit.",
        )
        + _EXAMPLE.format(name="DANNClassifier", y=_CLASS_Y)
    )


class DANNRegressor(_RegressorPart, _DANN):
    __doc__ = (
        "Domain-adversarial neural network regressor (DANN).\n"
        + _DOC.format(
            **_DANN_DOC,
            attributes="\n    target_mean_, target_scale_ : float\n        "
            "Standardization of the labels for training.",
        )
        + _EXAMPLE.format(name="DANNRegressor", y=_REG_Y)
    )


class DeepCORALClassifier(_ClassifierPart, _DeepCORAL):
    __doc__ = (
        "Deep CORAL classifier: a network whose features align second moments.\n"
        + _DOC.format(
            **_CORAL_DOC,
            attributes="\n    classes_ : ndarray\n        Class labels seen in fit.",
        )
        + _EXAMPLE.format(name="DeepCORALClassifier", y=_CLASS_Y)
    )


class DeepCORALRegressor(_RegressorPart, _DeepCORAL):
    __doc__ = (
        "Deep CORAL regressor: a network whose features align second moments.\n"
        + _DOC.format(
            **_CORAL_DOC,
            attributes="\n    target_mean_, target_scale_ : float\n        "
            "Standardization of the labels for training.",
        )
        + _EXAMPLE.format(name="DeepCORALRegressor", y=_REG_Y)
    )
