"""Building and training the torch network behind the neural estimators.

The estimators' torch side: the trunk and the multi-task network, tensors
on the device, the skorch training run (early stopping, divergence errors)
and the forward pass over rows. torch and skorch are imported inside the
functions, so importing this module needs neither.
"""

import copy
import inspect
import warnings
from numbers import Integral

import numpy as np
from sklearn.base import clone
from sklearn.utils.validation import check_random_state

from ._weighting import resolve_weighting

__all__ = ["resolve_device"]

# Largest |X| above which a network's fit warns that X is not scaled (raw
# pixels, up to 255, stay below it).
UNSCALED_FEATURES = 1e4

_OPTIMIZERS = {"adam": "Adam", "adamw": "AdamW", "sgd": "SGD"}


def _require_torch():
    try:
        import skorch  # noqa: F401
        import torch  # noqa: F401
    except ImportError as exc:
        raise ImportError(
            "The neural estimators need torch and skorch: "
            "pip install 'sklearn_mtl[neural]' (on a CPU-only machine install a CPU "
            "build of torch first)."
        ) from exc


def resolve_device(device):
    """``"auto"``: "cuda" when a GPU is visible to torch, else "cpu".

    Parameters
    ----------
    device : str
        A torch device name, or ``"auto"``.

    Returns
    -------
    device : str
        ``device`` itself, or for ``"auto"`` "cuda" or "cpu".

    Examples
    --------
    >>> from sklearn_mtl.neural import resolve_device
    >>> resolve_device("cpu")
    'cpu'
    """
    if device != "auto":
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


class _NetworkTrainingMixin:
    """Build, train and run the network of a ``_NeuralMultiTaskModel``.

    Reads the estimator's parameters (architecture, optimizer, batches, early
    stopping, device, random_state) and ``tasks_``; ``_fit_network`` sets
    ``net_``, ``device_`` and ``n_iter_``.
    """

    def _make_trunk(self, n_inputs):
        from ._modules import MLP

        trunk_params = {k[len("trunk__") :]: v for k, v in self._trunk_params().items()}
        if isinstance(self.trunk, str):
            if trunk_params:
                raise ValueError(
                    f"trunk__* arguments ({sorted(trunk_params)}) configure a trunk "
                    "class; trunk='mlp' is set by hidden_layer_sizes, activation "
                    "and dropout."
                )
            return MLP(
                n_inputs, tuple(self.hidden_layer_sizes), self.activation, self.dropout
            )
        if inspect.isclass(self.trunk):
            return self.trunk(**trunk_params)
        if trunk_params:
            raise ValueError(
                "trunk__* arguments need trunk to be a class; got an instance of "
                f"{type(self.trunk).__name__}."
            )
        return copy.deepcopy(self.trunk)

    def _trunk_width(self, trunk, X_sample):
        import torch

        out = run_user_module(trunk, X_sample, "trunk")
        if not isinstance(out, torch.Tensor) or out.ndim != 2:
            raise ValueError(
                f"trunk must return a 2-D tensor (n_samples, n_features); "
                f"{type(trunk).__name__} returned "
                f"{getattr(out, 'shape', type(out).__name__)}."
            )
        return out.shape[1]

    def _make_network(self, X_sample, head_sizes):
        from ._modules import CrossStitchNet, HardSharingNet, MMoENet

        n_inputs = int(np.prod(X_sample.shape[1:]))
        sample = X_sample
        if self.architecture == "cross_stitch":
            if not isinstance(self.trunk, str):
                raise ValueError(
                    "architecture='cross_stitch' links MLP towers layer by layer and "
                    "needs trunk='mlp'."
                )
            return CrossStitchNet(
                n_inputs,
                head_sizes,
                tuple(self.hidden_layer_sizes),
                self.activation,
                self.dropout,
            )
        if self.architecture == "mmoe":
            experts = [self._make_trunk(n_inputs) for _ in range(self.n_experts)]
            width = self._trunk_width(experts[0], sample)
            return MMoENet(experts, width, n_inputs, head_sizes)
        trunk = self._make_trunk(n_inputs)
        return HardSharingNet(trunk, self._trunk_width(trunk, sample), head_sizes)

    def _to_tensor(self, X, device):
        import torch

        # Integers reach a user trunk as int64 (token ids); everything else,
        # and any input of the built-in MLP, as float32.
        integer = np.issubdtype(X.dtype, np.integer) and not isinstance(self.trunk, str)
        dtype = torch.int64 if integer else torch.float32
        array = np.ascontiguousarray(X)
        if not array.flags.writeable:  # torch cannot share read-only memory
            array = array.copy()
        return torch.as_tensor(array, dtype=dtype, device=device)

    def _trunk_param_groups(self):
        if self.trunk_learning_rate is None:
            return {}
        # skorch matches parameter names: the trunk, MMoE experts, towers.
        patterns = ["network.trunk.*", "network.experts.*", "network.weights.*"]
        groups = [(p, {"lr": self.trunk_learning_rate}) for p in patterns]
        return {"optimizer__param_groups": groups}

    @staticmethod
    def _sample_index(data, device):
        import torch

        if data.sample_index is None:
            return None
        return torch.as_tensor(data.sample_index, device=device)

    def _check_hidden_layer_sizes(self):
        sizes = self.hidden_layer_sizes
        bad = [
            s
            for s in sizes
            if isinstance(s, (bool, np.bool_)) or not isinstance(s, Integral) or s < 1
        ]
        if bad:
            raise ValueError(
                "hidden_layer_sizes must be a tuple of positive integers (layer "
                f"widths); got {tuple(sizes)!r}, where {bad[0]!r} is not a positive "
                "integer."
            )

    def _warn_unscaled(self, *arrays, stacklevel=4):
        """Warn when numeric inputs are far from unit scale: a network reads raw
        features, and at 1e8 it can train without diverging yet predict
        values of that size, or noise (silently wrong)."""
        largest = max(
            (
                float(np.abs(a).max(initial=0))
                for a in arrays
                if np.issubdtype(np.asarray(a).dtype, np.number)
            ),
            default=0.0,
        )
        if largest > UNSCALED_FEATURES:
            warnings.warn(
                f"{type(self).__name__}: the features are not scaled (largest |X| "
                f"= {largest:.3g}); the network reads them raw and its predictions "
                "will be poor. Standardize X (e.g. StandardScaler in a Pipeline).",
                UserWarning,
                # The user's call: fit's wrapper, fit, this method, warn.
                stacklevel=stacklevel,
            )

    def _diverged_error(self, X, diverged):
        """The error for a loss that became NaN/inf, in the user's terms."""
        scale = float(np.max(np.abs(X))) if np.issubdtype(X.dtype, np.number) else 0
        causes = [
            f"the learning rate is too high (learning_rate={self.learning_rate!r}; "
            "try 10 to 1000 times smaller)"
        ]
        unscaled = f"the inputs are not scaled (largest |X| = {scale:.3g}; "
        unscaled += "standardize X, e.g. with StandardScaler)"
        # Inputs far from unit scale are the more likely culprit: name them first.
        causes.insert(0 if scale > 1e3 else 1, unscaled)
        if diverged.kind == "parameters":
            what = f"after epoch {diverged.epoch}: the weights became NaN or infinite"
        else:
            what = (
                f"in epoch {diverged.epoch}: the {diverged.kind} loss became "
                f"{diverged.value}"
            )
        return ValueError(
            f"Training of {type(self).__name__} diverged {what}. Likely causes: "
            f"{causes[0]}, or {causes[1]}."
        )

    def _validation_rows(self, strata, rng):
        """Hold out a share of every task (and class) with at least 2 rows."""
        rows = []
        for stratum in np.unique(strata):
            members = np.flatnonzero(strata == stratum)
            n_valid = int(np.floor(self.validation_fraction * members.size))
            if (
                members.size >= 2
                and n_valid == 0
                and self.validation_fraction * members.size >= 0.5
            ):
                n_valid = 1
            rows.extend(rng.permutation(members)[:n_valid])
        if not rows:
            raise ValueError(
                "early_stopping holds out validation_fraction of every task, but the "
                "tasks are too small for any validation rows; raise "
                "validation_fraction or turn early_stopping off."
            )
        return np.sort(np.asarray(rows))

    def _fit_network(
        self, data, targets, weights, head_sizes, n_outputs, classification, strata
    ):
        import torch
        from skorch.callbacks import EarlyStopping

        from ._data import merge_repeated_rows, rows_datasets, wide_datasets
        from ._net import MultiTaskNet, MultiTaskSystem, TrainingDiverged, silent

        self._check_hidden_layer_sizes()
        # One batch covering the data: merge repeated rows (see the function).
        if (
            self.batch_size >= data.n_rows
            and data.sample_index is None
            and not self.task_balanced_batches  # draws rows by count
        ):
            data, targets, weights, strata = merge_repeated_rows(
                data, targets, weights, strata
            )
        device = resolve_device(self.device)
        rng = check_random_state(self.random_state)
        seed = int(rng.randint(np.iinfo(np.int32).max))
        weighting = resolve_weighting(self.loss_weighting)
        if "random_state" in weighting.get_params() and (
            weighting.get_params()["random_state"] is None
        ):
            # An unseeded weighting (loss_weighting="pcgrad") follows the
            # estimator's random_state; derived from ``seed`` so that it draws
            # nothing more from ``rng``.
            weighting = clone(weighting).set_params(random_state=seed)
        optimizer = (
            getattr(torch.optim, _OPTIMIZERS[self.optimizer])
            if isinstance(self.optimizer, str)
            else self.optimizer
        )
        valid_rows = self._validation_rows(strata, rng) if self.early_stopping else None
        # A wide y trains one row per sample, every task's head at once; task
        # balancing draws (sample, task) rows, so it keeps the long layout.
        wide = data.sample_index is not None and not self.task_balanced_batches
        # Seed locally: torch's global random state is left as the user had it.
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            X = self._to_tensor(data.X, device)
            # The network is built on the CPU (skorch moves it to the device):
            # probe the trunk's width with CPU rows.
            network = self._make_network(X[:2].cpu(), head_sizes)
            system = MultiTaskSystem(
                network, weighting.build(data.n_tasks, self.tasks_)
            )
            make_datasets = wide_datasets if wide else rows_datasets
            train_set, valid_set = make_datasets(
                X, data, targets.to(device), weights.to(device), valid_rows
            )
            callbacks = []
            if self.early_stopping:
                callbacks.append(
                    EarlyStopping(
                        patience=self.n_iter_no_change,
                        threshold=self.tol,
                        threshold_mode="abs",
                        load_best=True,
                        # A named function: a lambda would make the model unpicklable.
                        sink=silent,
                    )
                )
            net = MultiTaskNet(
                module=system,
                # skorch requires a criterion; losses come from _net.batch_losses.
                criterion=torch.nn.MSELoss,
                optimizer=optimizer,
                lr=self.learning_rate,
                optimizer__weight_decay=self.weight_decay,
                **self._trunk_param_groups(),
                max_epochs=self.max_epochs,
                batch_size=self.batch_size,
                train_split=None,
                callbacks=callbacks,
                device=device,
                verbose=self.verbose,
            )
            net.head_sizes = torch.as_tensor(head_sizes)
            net.n_outputs = n_outputs
            net.classification = classification
            net.valid_dataset = valid_set
            net.task_balanced = self.task_balanced_batches
            net.mixed_precision = self.mixed_precision
            net.generator = torch.Generator().manual_seed(seed)
            try:
                net.fit(train_set, None)
            except TrainingDiverged as diverged:
                raise self._diverged_error(data.X, diverged) from None
            # The last optimizer step is followed by no loss: check its result.
            # (One device synchronization for all the parameters.)
            finite = torch.stack([torch.isfinite(p).all() for p in system.parameters()])
            if not bool(finite.all()):
                diverged = TrainingDiverged(len(net.history), "parameters", "nan")
                raise self._diverged_error(data.X, diverged)
        self.net_ = net
        self.device_ = device
        self.n_iter_ = len(net.history)
        return self

    def _forward_rows(self, data, representation=False):
        """Network outputs (or shared features) for every row, as numpy."""
        import torch

        from ._net import BatchIterator, RowsDataset

        # The net's device, not device_: a GPU-trained model unpickled on a
        # CPU-only machine has been moved to the CPU by skorch.
        device = self.net_.device
        X = self._to_tensor(data.X, device)
        # The whole system, so the net's own training-mode check sees the change.
        self.net_.module_.eval()
        network = self.net_.module_.network
        batch_size = max(self.batch_size, 1024)
        outputs = []
        with torch.no_grad():
            if data.sample_index is not None and not representation:
                # Every task of a sample in one pass, then each row's own task.
                for start in range(0, X.shape[0], batch_size):
                    stop = start + batch_size
                    outputs.append(network.forward_all(X[start:stop]).float().cpu())
                if not outputs:
                    return np.zeros((0, 0))
                every_task = torch.cat(outputs)
                rows = (
                    torch.as_tensor(data.sample_index),
                    torch.as_tensor(data.task_index),
                )
                return every_task[rows].numpy()
            dataset = RowsDataset(
                X,
                self._sample_index(data, device),
                torch.as_tensor(data.task_index, device=device),
            )
            method = network.representation if representation else network
            for batch, _ in BatchIterator(dataset, batch_size, False, None):
                outputs.append(method(batch["X"], batch["task_index"]).float().cpu())
        return torch.cat(outputs).numpy() if outputs else np.zeros((0, 0))


def run_user_module(module, sample, param):
    """``module(sample)`` in evaluation mode without gradients, for a module the
    user built (``trunk``, ``network``): a module that cannot take the input
    (a first layer sized for another number of features) fails inside torch
    with a shape message naming none of the estimator's parameters, so the
    error is re-raised naming ``param`` and the input's shape."""
    import torch

    training = module.training
    module.eval()
    try:
        with torch.no_grad():
            return module(sample)
    except (RuntimeError, ValueError, TypeError, IndexError) as exc:
        raise ValueError(
            f"{param} ({type(module).__name__}) failed on a batch of the input, of "
            f"shape {tuple(sample.shape)}: {exc}. Its first layer must take "
            f"{tuple(sample.shape[1:])} per sample (the features of X)."
        ) from exc
    finally:
        module.train(training)
