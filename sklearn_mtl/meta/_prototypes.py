"""Prototypical networks (Snell et al. 2017) with the ``adapt()`` contract.

An embedding network ``f`` is trained by episodes: a task's rows are split
into support and query sets, each class present in the support gets a
prototype ``c_k = mean f(x)`` over its support rows, and a query row is
classified by the softmax of ``-||f(x) - c_k||^2``. A task (fitted or new) is
then nothing but its prototypes: :meth:`adapt` computes them from the support
rows with the embedding left as it is.
"""

from numbers import Integral, Real

import numpy as np
from scipy.special import softmax
from sklearn.base import BaseEstimator, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, check_random_state

from .._base import MultiTaskClassifierMixin
from .._tasks import check_fit_data, check_predict_data, proba_output
from ..neural._training import run_user_module
from ._base import MetaLearnerMixin
from ._gradient import _feature_scaling, _resolve_device

__all__ = ["PrototypicalClassifier"]


def _prototypes(embedded, labels, n_classes):
    """Mean embedding of each class, (n_classes, dim); NaN for absent classes."""
    import torch

    one_hot = torch.nn.functional.one_hot(labels, n_classes).to(embedded.dtype)
    counts = one_hot.sum(0)
    sums = one_hot.T @ embedded
    protos = sums / counts.clamp(min=1)[:, None]
    return torch.where(counts[:, None] > 0, protos, torch.nan), counts > 0


def _logits(embedded, protos):
    """``-||f(x) - c_k||^2``; ``-inf`` for classes without a prototype."""
    import torch

    present = ~torch.isnan(protos[:, 0])
    safe = torch.where(present[:, None], protos, 0.0)
    d2 = ((embedded[:, None, :] - safe[None]) ** 2).sum(-1)
    return torch.where(present[None], -d2, -torch.inf)


class PrototypicalClassifier(MetaLearnerMixin, MultiTaskClassifierMixin, BaseEstimator):
    """Prototypical networks: classes as mean embeddings of their examples.

    ``fit`` trains an MLP embedding ``f`` on episodes drawn from the training
    tasks: each meta-step draws ``meta_batch_size`` tasks, splits each task's
    rows into support (``support_fraction``) and query sets, and lowers the
    mean cross-entropy of the query rows under the softmax of
    ``-||f(x) - c_k||^2`` over the prototypes ``c_k`` (mean support embedding
    of class ``k``; query rows of a class absent from the support are
    skipped). Every served task is its prototypes: a fitted task's from all
    its training rows, a new task's (:meth:`adapt`) from its support rows. A
    task predicts only the classes it has a prototype for.

    Parameters
    ----------
    network : callable or None, default=None
        None: an MLP embedding (``hidden_layer_sizes``, ``activation``).
        Otherwise an ``nn.Module`` class (or any factory) called as
        ``network(n_features)``, whose module maps a (n_samples, n_features)
        float tensor to (n_samples, embedding_dim), e.g.
        ``functools.partial(ConvNet, image_shape=(28, 28))`` for images
        (:class:`~sklearn_mtl.neural.ConvNet` without a head). Batch
        norm normalizes each episode's support and query batches with their
        own statistics in training and with the running statistics gathered
        over training when serving (as Snell et al. do), so the embedding of
        a row does not depend on the rows embedded with it.
    hidden_layer_sizes : tuple of int, default=(64, 64)
        Widths of the embedding MLP's layers; the last is the embedding size.
    activation : {"relu", "tanh", "gelu", "identity"}, default="relu"
        Activation after each hidden layer but the last (which is linear).
    learning_rate : float, default=1e-3
        Adam learning rate.
    meta_batch_size : int, default=4
        Tasks per meta-step (all tasks when fewer).
    n_meta_iter : int, default=100
        Meta-steps.
    support_fraction : float, default=0.5
        Share of a training task's rows in the support set of an episode.
    standardize : bool, default=True
        Standardize each feature on the training rows before the network;
        False passes them as they are (e.g. images with pixels in [0, 1]).
    random_state : int, RandomState instance or None, default=None
        Seeds the initialization and the episodes.
    device : str, default="auto"
        The torch device for training ("auto": a GPU when torch sees one).
        Parameters are stored as numpy arrays (pickles and serves on CPU).
    task_column : int or str, default=None
        Column of ``X`` holding each sample's task label.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Union of the training tasks' classes.
    embedding_params_ : dict of str to ndarray
        The embedding network's parameters and buffers (batch-norm running
        statistics, if any).
    prototypes_ : ndarray of shape (n_tasks, n_classes, embedding_dim)
        Each served task's class prototypes (order of ``tasks_``); NaN rows
        for classes the task has no example of.
    tasks_, meta_tasks_, adapted_tasks_ : ndarray
        Served, fitted and adapted task labels, sorted.
    meta_loss_ : ndarray of shape (n_meta_iter,)
        Mean query loss of each meta-step.
    device_ : str
        Training device.

    See Also
    --------
    GradientMetaClassifier : MAML family for classification.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_mtl.meta import PrototypicalClassifier
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((200, 2))
    >>> t = np.repeat(np.arange(10), 20)
    >>> y = (X[:, 0] > 0).astype(int)
    >>> model = PrototypicalClassifier(hidden_layer_sizes=(8,), n_meta_iter=10,
    ...                                random_state=0, device="cpu")
    >>> model = model.fit(X, y, task_ids=t).adapt(X[:6], y[:6], task_ids=[99] * 6)
    >>> model.predict_proba(X[:3], task_ids=[99] * 3).shape
    (3, 2)
    """

    _is_classifier_meta = True

    _parameter_constraints = {
        "network": [None, callable],
        "hidden_layer_sizes": [tuple, list],
        "activation": [StrOptions({"relu", "tanh", "gelu", "identity"})],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "meta_batch_size": [Interval(Integral, 1, None, closed="left")],
        "n_meta_iter": [Interval(Integral, 0, None, closed="left")],
        "support_fraction": [Interval(Real, 0, 1, closed="neither")],
        "standardize": ["boolean"],
        "random_state": ["random_state"],
        "device": [str],
        "task_column": [None, Integral, str],
    }

    def __init__(
        self,
        *,
        network=None,
        hidden_layer_sizes=(64, 64),
        activation="relu",
        learning_rate=1e-3,
        meta_batch_size=4,
        n_meta_iter=100,
        support_fraction=0.5,
        standardize=True,
        random_state=None,
        device="auto",
        task_column=None,
    ):
        self.network = network
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.learning_rate = learning_rate
        self.meta_batch_size = meta_batch_size
        self.n_meta_iter = n_meta_iter
        self.support_fraction = support_fraction
        self.standardize = standardize
        self.random_state = random_state
        self.device = device
        self.task_column = task_column

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.classifier_tags.poor_score = True  # few meta-steps by default
        return tags

    def _module(self):
        from torch import nn

        from ..neural._modules import MLP

        if self.network is not None:
            module = self.network(self.n_inputs_)
            if not isinstance(module, nn.Module):
                raise ValueError(
                    "network must build an nn.Module when called as "
                    f"network(n_features); it returned a {type(module).__name__}."
                )
            return module
        sizes = tuple(self.hidden_layer_sizes)
        # The last layer is linear: distances live in an unclipped space.
        trunk = MLP(self.n_inputs_, sizes[:-1], self.activation)
        return nn.Sequential(trunk, nn.Linear(trunk.n_outputs, sizes[-1]))

    def _embed(self, module, params, X):
        from torch.func import functional_call

        return functional_call(module, params, (X,))

    def _serving_device(self):
        import torch

        if self.device_.startswith("cuda") and not torch.cuda.is_available():
            return "cpu"
        return self.device_

    def _tensor(self, array, device, dtype=None):
        import torch

        return torch.as_tensor(array, dtype=dtype or torch.float32, device=device)

    def _task_prototypes(self, module, params, data, targets, device):
        import torch

        X = self._tensor((data.X_rows - self.x_mean_) / self.x_scale_, device)
        y = self._tensor(targets, device, dtype=torch.long)
        out = []
        with torch.no_grad():
            for rows in data.rows_of_tasks():
                rows = torch.as_tensor(rows, device=device)
                embedded = self._embed(module, params, X[rows])
                out.append(_prototypes(embedded, y[rows], len(self.classes_))[0])
        return torch.stack(out).cpu().numpy()

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, task_ids=None):
        """Train the embedding on episodes of the training tasks.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,) or (n_samples, n_tasks)
            Class labels; a 2-D ``y`` without ``task_ids`` is one task per column.
        task_ids : array-like of shape (n_samples,), default=None
            Task label of each sample.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        import torch

        sizes = self.hidden_layer_sizes
        if self.network is None and (
            len(sizes) == 0 or not all(isinstance(s, Integral) and s > 0 for s in sizes)
        ):
            raise ValueError(
                "hidden_layer_sizes must be a non-empty tuple of positive integers "
                f"(the last is the embedding size), got {tuple(sizes)!r}."
            )
        data = check_fit_data(
            self, X, y, task_ids, classifier=True, per_task_classes=False
        )
        self.classes_, targets = np.unique(data.y, return_inverse=True)
        n_classes = len(self.classes_)
        rng = check_random_state(self.random_state)
        device = self.device_ = _resolve_device(self.device)
        X_rows = data.X_rows
        self.x_mean_, self.x_scale_ = _feature_scaling(X_rows, self.standardize)
        self.n_inputs_ = X_rows.shape[1]
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(rng.randint(np.iinfo(np.int32).max)))
            module = self._module()
        module.to(device)
        params = {
            k: v.detach().clone().requires_grad_(True)
            for k, v in module.named_parameters()
        }
        optimizer = torch.optim.Adam(params.values(), lr=self.learning_rate)
        X_all = self._tensor((X_rows - self.x_mean_) / self.x_scale_, device)
        y_all = self._tensor(targets, device, dtype=torch.long)
        if self.network is not None:
            embedded = run_user_module(module, X_all[:2], "network")
            if not isinstance(embedded, torch.Tensor) or embedded.ndim != 2:
                raise ValueError(
                    "network must map (n_samples, n_features) to (n_samples, "
                    f"embedding_dim); {type(module).__name__} returned "
                    f"{getattr(embedded, 'shape', type(embedded).__name__)}."
                )
        task_rows = data.rows_of_tasks()
        batch = min(self.meta_batch_size, len(task_rows))
        losses = np.full(self.n_meta_iter, np.nan)
        for it in range(self.n_meta_iter):
            total, n_used = 0.0, 0
            for t in rng.choice(len(task_rows), size=batch, replace=False):
                rows = rng.permutation(task_rows[t])
                n_support = int(
                    np.clip(round(self.support_fraction * len(rows)), 1, len(rows) - 1)
                )
                s = torch.as_tensor(rows[:n_support], device=device)
                q = torch.as_tensor(rows[n_support:], device=device)
                protos, present = _prototypes(
                    self._embed(module, params, X_all[s]), y_all[s], n_classes
                )
                keep = present[y_all[q]]
                if not bool(keep.any()):
                    continue
                logits = _logits(self._embed(module, params, X_all[q][keep]), protos)
                total = total + torch.nn.functional.cross_entropy(
                    logits, y_all[q][keep]
                )
                n_used += 1
            if n_used == 0:
                continue
            loss = total / n_used
            if not torch.isfinite(loss):
                raise ValueError(
                    f"PrototypicalClassifier diverged at meta-iteration {it} (epoch "
                    f"{it}); lower learning_rate (={self.learning_rate})."
                )
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses[it] = float(loss.detach())
        self.meta_loss_ = losses
        params = {k: v.detach() for k, v in params.items()}
        # The batch-norm running statistics gathered over the episodes serve.
        params.update({k: v.detach().clone() for k, v in module.named_buffers()})
        module.eval()
        self.embedding_params_ = {k: v.cpu().numpy() for k, v in params.items()}
        protos = self._task_prototypes(module, params, data, targets, device)
        self.meta_tasks_ = self.tasks_.copy()
        self.adapted_tasks_ = self.tasks_[:0].copy()
        self._fitted_prototypes = protos
        self._adapted_prototypes = protos[:0]
        self.prototypes_ = protos
        return self

    def adapt(self, X, y, task_ids=None):
        """Learn new tasks: their class prototypes from the support rows.

        The embedding and the fitted tasks' prototypes are left exactly as
        they are; adapting a task again replaces its prototypes.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Support samples of the new tasks.
        y : array-like of shape (n_samples,)
            Their class labels (seen in fit).
        task_ids : array-like of shape (n_samples,), default=None
            Task label of each support sample (new labels only).

        Returns
        -------
        self : object
            The estimator, now also serving the adapted tasks.
        """
        import torch

        data, new = self._check_support(X, y, task_ids)
        device = self._serving_device()
        module = self._module().to(device).eval()
        params = {
            k: torch.as_tensor(v, device=device)
            for k, v in self.embedding_params_.items()
        }
        protos = self._task_prototypes(
            module, params, data, data.y.astype(np.int64), device
        )
        keep = ~np.isin(self.adapted_tasks_, new)
        tasks = np.concatenate([self.adapted_tasks_[keep], new])
        order = np.argsort(tasks, kind="stable")
        self.adapted_tasks_ = tasks[order]
        self._adapted_prototypes = np.concatenate(
            [self._adapted_prototypes[keep], protos]
        )[order]
        all_tasks = np.concatenate([self.meta_tasks_, self.adapted_tasks_])
        order = np.argsort(all_tasks, kind="stable")
        self.tasks_ = all_tasks[order]
        self.prototypes_ = np.concatenate(
            [self._fitted_prototypes, self._adapted_prototypes]
        )[order]
        return self

    def _scores(self, X, task_ids):
        import torch

        check_is_fitted(self, "embedding_params_")
        data = check_predict_data(self, X, task_ids)
        device = self._serving_device()
        module = self._module().to(device).eval()
        params = {
            k: torch.as_tensor(v, device=device)
            for k, v in self.embedding_params_.items()
        }
        X_rows = self._tensor((data.X_rows - self.x_mean_) / self.x_scale_, device)
        out = np.empty((data.n_rows, len(self.classes_)))
        with torch.no_grad():
            embedded = self._embed(module, params, X_rows)
            for t in np.unique(data.task_index):
                rows = np.flatnonzero(data.task_index == t)
                protos = self._tensor(self.prototypes_[t], device)
                out[rows] = _logits(embedded[rows], protos).cpu().numpy()
        return data, out

    def predict_proba(self, X, task_ids=None):
        """Softmax of ``-||f(x) - c_k||^2`` over the task's prototypes.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.
        task_ids : array-like of shape (n_samples,), default=None
            Task of each sample.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Columns in the order of ``classes_``; 0 for classes the task has
            no example of.
        """
        data, scores = self._scores(X, task_ids)
        return proba_output(data.to_output(softmax(scores, axis=1)))

    def predict(self, X, task_ids=None):
        """Class of the nearest prototype of each sample's task.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.
        task_ids : array-like of shape (n_samples,), default=None
            Task of each sample.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_tasks)
        """
        data, scores = self._scores(X, task_ids)
        return data.to_output(self.classes_[np.argmax(scores, axis=1)])
