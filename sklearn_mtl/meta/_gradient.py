"""Gradient-based neural meta-learners: MAML, first-order MAML, Reptile, ANIL.

The estimators; the functional core is in ``_gradient_core.py``.

One network ``f(x; theta)`` (an MLP trunk and a linear head) is meta-learned
so that a few gradient steps on a new task's support rows fit that task. The
pieces are small functions on a dict of parameter tensors run through
``torch.func.functional_call`` (clone-and-adapt, as learn2learn does it):

- :func:`_inner_loop`: ``inner_steps`` plain gradient steps of size
  ``inner_lr`` from ``theta`` on the support rows (optionally the head only,
  optionally keeping the graph for second-order gradients);
- :func:`_meta_gradient`: the gradient of the mean query loss after the inner
  loop with respect to ``theta`` (MAML: through the inner loop; first-order
  MAML: the query gradient at the adapted parameters; ANIL: MAML with the
  inner loop on the head only);
- :func:`_reptile_step`: ``theta + meta_lr * mean_t(phi_t - theta)``.

torch is imported inside the functions, so importing this module needs no
torch.
"""

from numbers import Integral, Real

import numpy as np
from scipy.special import softmax
from sklearn.base import BaseEstimator, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, check_random_state

from .._base import MultiTaskClassifierMixin, MultiTaskRegressorMixin
from .._tasks import check_fit_data, check_predict_data, proba_output
from ._base import MetaLearnerMixin
from ._gradient_core import (  # noqa: F401  (re-exported: tests, _prototypes)
    _episode_split,
    _feature_scaling,
    _forward,
    _inner_loop,
    _loss,
    _make_module,
    _meta_gradient,
    _reptile_step,
    _resolve_device,
    _sub,
    _support_buffers,
)
from ._gradient_doc import _ATTRS_DOC, _COMMON_PARAMS_DOC

__all__ = ["GradientMetaClassifier", "GradientMetaRegressor"]

_ALGORITHMS = ("maml", "fomaml", "reptile", "anil")


# -- the estimators ---------------------------------------------------------------


class _GradientMeta(MetaLearnerMixin, BaseEstimator):
    _parameter_constraints = {
        "algorithm": [StrOptions(set(_ALGORITHMS))],
        "network": [None, callable],
        "hidden_layer_sizes": [tuple, list],
        "activation": [StrOptions({"relu", "tanh", "gelu", "identity"})],
        "inner_steps": [Interval(Integral, 0, None, closed="left")],
        "inner_lr": [Interval(Real, 0, None, closed="neither")],
        "meta_lr": [Interval(Real, 0, None, closed="neither")],
        "meta_batch_size": [Interval(Integral, 1, None, closed="left")],
        "n_meta_iter": [Interval(Integral, 0, None, closed="left")],
        "support_fraction": [Interval(Real, 0, 1, closed="neither")],
        "head_init": [StrOptions({"meta", "zero"})],
        "standardize": ["boolean"],
        "random_state": ["random_state"],
        "device": [str],
        "task_column": [None, Integral, str],
    }

    def __init__(
        self,
        *,
        algorithm="maml",
        network=None,
        hidden_layer_sizes=(40, 40),
        activation="relu",
        inner_steps=3,
        inner_lr=0.05,
        meta_lr=1e-3,
        meta_batch_size=4,
        n_meta_iter=100,
        support_fraction=0.5,
        head_init="meta",
        standardize=True,
        random_state=None,
        device="auto",
        task_column=None,
    ):
        self.algorithm = algorithm
        self.network = network
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.inner_steps = inner_steps
        self.inner_lr = inner_lr
        self.meta_lr = meta_lr
        self.meta_batch_size = meta_batch_size
        self.n_meta_iter = n_meta_iter
        self.support_fraction = support_fraction
        self.head_init = head_init
        self.standardize = standardize
        self.random_state = random_state
        self.device = device
        self.task_column = task_column

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    # -- validation and tensors ---------------------------------------------------
    def _check_architecture(self):
        sizes = self.hidden_layer_sizes
        if not all(isinstance(s, Integral) and s > 0 for s in sizes):
            raise ValueError(
                f"hidden_layer_sizes must hold positive integers, got {tuple(sizes)!r}."
            )

    def _tensor(self, array, device, dtype=None):
        import torch

        return torch.as_tensor(
            array, dtype=dtype or torch.float32, device=device
        ).contiguous()

    def _standardized(self, X):
        return (X - self.x_mean_) / self.x_scale_

    def _module(self):
        from torch import nn

        if self.network is None:
            return _make_module(
                self.n_inputs_,
                self.hidden_layer_sizes,
                self.activation,
                self.n_outputs_,
            )
        module = self.network(self.n_inputs_, self.n_outputs_)
        if not isinstance(module, nn.Module):
            raise ValueError(
                "network must build an nn.Module when called as network(n_features, "
                f"n_outputs); it returned a {type(module).__name__}."
            )
        has_head = any(k.startswith("head.") for k, _ in module.named_parameters())
        if self.algorithm == "anil" and not has_head:
            raise ValueError(
                "algorithm='anil' adapts the head only: the module built by network "
                "needs a submodule named 'head' holding parameters."
            )
        if self.head_init == "zero" and not has_head:
            raise ValueError(
                "head_init='zero' starts every task from a head of zeros: the module "
                "built by network needs a submodule named 'head' holding parameters."
            )
        return module

    def _check_network_output(self, module, X, device):
        import torch

        params = dict(module.named_parameters())
        sample = self._tensor(X[:2], device)
        try:
            with torch.no_grad():
                out = _forward(module, params, sample)
        except (RuntimeError, ValueError, TypeError, IndexError) as exc:
            # A first layer sized for another input fails inside torch with a
            # shape message that names no parameter.
            raise ValueError(
                f"network ({type(module).__name__}) failed on a batch of shape "
                f"{tuple(sample.shape)}: {exc}. It must map (n_samples, "
                f"{self.n_inputs_}) to (n_samples, {self.n_outputs_})."
            ) from exc
        if tuple(out.shape) != (min(2, len(X)), self.n_outputs_):
            raise ValueError(
                f"network must map (n_samples, {self.n_inputs_}) to (n_samples, "
                f"{self.n_outputs_}); its module gave shape {tuple(out.shape)}."
            )

    def _serving_device(self):
        import torch

        if self.device_.startswith("cuda") and not torch.cuda.is_available():
            return "cpu"
        return self.device_

    def _task_arrays(self, data, targets):
        """Per task: (standardized features, targets) of its rows."""
        X = self._standardized(data.X_rows)
        return [(X[rows], targets[rows]) for rows in data.rows_of_tasks()]

    def _targets_tensor(self, y, device):
        import torch

        if self._is_classifier_meta:
            return self._tensor(y, device, dtype=torch.long)
        return self._tensor(y, device)

    def _adapt_all(self, module, params, task_arrays, device):
        """Adapted parameters of each task, stacked numpy arrays by name.

        With batch norm, each task also keeps its support rows' statistics
        (see :func:`_support_buffers`).
        """
        out = {}
        for X_t, y_t in task_arrays:
            X_t = self._tensor(X_t, device)
            adapted = _inner_loop(
                module,
                {k: v.detach().requires_grad_(True) for k, v in params.items()},
                X_t,
                self._targets_tensor(y_t, device),
                steps=self.inner_steps,
                lr=self.inner_lr,
                classifier=self._is_classifier_meta,
                head_only=self.algorithm == "anil",
                zero_head=self.head_init == "zero",
            )
            adapted = {k: v.detach() for k, v in adapted.items()}
            adapted.update(_support_buffers(module, adapted, X_t))
            for k, v in adapted.items():
                out.setdefault(k, []).append(v.cpu().numpy())
        return {k: np.stack(v) for k, v in out.items()}

    # -- fit -----------------------------------------------------------------------
    def _fit(self, data, targets):
        import torch

        if self.network is None:
            self._check_architecture()
        rng = check_random_state(self.random_state)
        device = self.device_ = _resolve_device(self.device)
        X_rows = data.X_rows
        self.x_mean_, self.x_scale_ = _feature_scaling(X_rows, self.standardize)
        self.n_inputs_ = X_rows.shape[1]
        task_arrays = self._task_arrays(data, targets)

        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(rng.randint(np.iinfo(np.int32).max)))
            module = self._module()
        module.to(device)
        self._check_network_output(module, task_arrays[0][0], device)
        params = {k: v.detach().clone() for k, v in module.named_parameters()}
        if self.head_init == "zero":
            # Not meta-learned: every task starts from zeros (_inner_loop).
            params = {
                k: v.zero_() if k.startswith("head.") else v for k, v in params.items()
            }
        tensors = [
            (self._tensor(X_t, device), self._targets_tensor(y_t, device))
            for X_t, y_t in task_arrays
        ]
        n_tasks = len(tensors)
        batch = min(self.meta_batch_size, n_tasks)
        optimizer = None
        if self.algorithm != "reptile":
            leaves = {k: v.requires_grad_(True) for k, v in params.items()}
            optimizer = torch.optim.Adam(leaves.values(), lr=self.meta_lr)
            params = leaves
        losses = np.full(self.n_meta_iter, np.nan)
        common = dict(
            steps=self.inner_steps,
            lr=self.inner_lr,
            classifier=self._is_classifier_meta,
            zero_head=self.head_init == "zero",
        )
        for it in range(self.n_meta_iter):
            chosen = rng.choice(n_tasks, size=batch, replace=False)
            if self.algorithm == "reptile":
                params = _reptile_step(
                    module,
                    params,
                    [tensors[t] for t in chosen],
                    meta_lr=self.meta_lr,
                    **common,
                )
                continue
            episodes = [self._episode(tensors[t], rng) for t in chosen]
            loss, grads = _meta_gradient(
                module, params, episodes, algorithm=self.algorithm, **common
            )
            if not np.isfinite(loss):
                raise ValueError(
                    f"{type(self).__name__} diverged at meta-iteration {it} (epoch "
                    f"{it}): the query loss is {loss}. Lower inner_lr "
                    f"(={self.inner_lr}) or meta_lr (={self.meta_lr})."
                )
            losses[it] = loss
            for k, p in params.items():
                p.grad = grads[k]
            optimizer.step()
        params = {k: v.detach() for k, v in params.items()}
        for k, v in params.items():
            if not torch.isfinite(v).all():
                raise ValueError(
                    f"{type(self).__name__} diverged (epoch loop of n_meta_iter="
                    f"{self.n_meta_iter}): parameter {k} is not finite. Lower "
                    f"inner_lr (={self.inner_lr}) or meta_lr (={self.meta_lr})."
                )
        self.meta_loss_ = losses
        self.meta_params_ = {k: v.cpu().numpy() for k, v in params.items()}
        fitted = self._adapt_all(module, params, task_arrays, device)
        self.meta_tasks_ = self.tasks_.copy()
        self.adapted_tasks_ = self.tasks_[:0].copy()
        self._fitted_params = fitted
        self._adapted_params = {k: v[:0] for k, v in fitted.items()}
        self.task_params_ = fitted
        return self

    def _episode(self, task, rng):
        X, y = task
        labels = None
        if self._is_classifier_meta:
            labels = y.cpu().numpy() if hasattr(y, "cpu") else np.asarray(y)
        s, q = _episode_split(X.shape[0], labels, self.support_fraction, rng)
        return X[s], y[s], X[q], y[q]

    # -- adapt ---------------------------------------------------------------------
    def adapt(self, X, y, task_ids=None):
        """Learn new tasks from their support samples with the inner loop.

        Each new task's parameters are the meta-learned initialization after
        ``inner_steps`` gradient steps on its support rows (the head only for
        "anil"). ``meta_params_`` and the fitted tasks' parameters are left
        exactly as they are; adapting a task again replaces its parameters.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Support samples of the new tasks (with the task column when
            ``task_column`` is set).
        y : array-like of shape (n_samples,)
            Their targets (class labels seen in fit, for the classifier).
        task_ids : array-like of shape (n_samples,), default=None
            Task label of each support sample; required unless
            ``task_column`` is set. Labels must be new.

        Returns
        -------
        self : object
            The estimator, now also serving the adapted tasks.
        """
        import torch

        data, new = self._check_support(X, y, task_ids)
        if self._is_classifier_meta:
            targets = data.y.astype(np.int64)
        else:
            targets = (data.y - self.y_mean_) / self.y_scale_
        device = self._serving_device()
        module = self._module().to(device)
        params = {
            k: torch.as_tensor(v, device=device) for k, v in self.meta_params_.items()
        }
        new_params = self._adapt_all(
            module, params, self._task_arrays(data, targets), device
        )
        keep = ~np.isin(self.adapted_tasks_, new)
        tasks = np.concatenate([self.adapted_tasks_[keep], new])
        order = np.argsort(tasks, kind="stable")
        self.adapted_tasks_ = tasks[order]
        self._adapted_params = {
            k: np.concatenate([v[keep], new_params[k]])[order]
            for k, v in self._adapted_params.items()
        }
        all_tasks = np.concatenate([self.meta_tasks_, self.adapted_tasks_])
        order = np.argsort(all_tasks, kind="stable")
        self.tasks_ = all_tasks[order]
        self.task_params_ = {
            k: np.concatenate([v, self._adapted_params[k]])[order]
            for k, v in self._fitted_params.items()
        }
        return self

    # -- predict -------------------------------------------------------------------
    def _outputs(self, X, task_ids):
        """Network outputs of every row under its task's parameters."""
        import torch

        check_is_fitted(self, "meta_params_")
        data = check_predict_data(self, X, task_ids)
        device = self._serving_device()
        # Evaluation mode: batch norm reads the task's stored statistics.
        module = self._module().to(device).eval()
        X_rows = self._tensor(self._standardized(data.X_rows), device)
        out = np.empty((data.n_rows, self.n_outputs_))
        with torch.no_grad():
            for t in np.unique(data.task_index):
                rows = np.flatnonzero(data.task_index == t)
                params = {
                    k: torch.as_tensor(v[t], device=device)
                    for k, v in self.task_params_.items()
                }
                out[rows] = _forward(module, params, X_rows[rows]).cpu().numpy()
        return data, out


class GradientMetaRegressor(MultiTaskRegressorMixin, _GradientMeta):
    __doc__ = f"""Gradient-based meta-learning of a neural regressor (MAML family).

    ``fit`` meta-learns an initialization ``theta`` of one MLP (trunk + linear
    head) from the training tasks by episodes: each meta-step draws
    ``meta_batch_size`` tasks, splits each task's rows into support and query
    sets, runs the inner loop ``phi_t = theta - inner_lr * grad L_support``
    (``inner_steps`` times) and updates ``theta`` to lower the mean query loss
    ``L_query(phi_t)`` (MAML, first-order MAML, ANIL) or moves it toward the
    ``phi_t`` (Reptile). The loss is the mean squared error on the
    standardized target. :meth:`adapt` runs the same inner loop on a new
    task's support rows; a task seen in fit is served by ``theta`` adapted on
    all its training rows.
{
        _COMMON_PARAMS_DOC.format(
            target_scale=" and target",
            task_column='''
    task_column : int or str, default=None
        Column of ``X`` holding each sample's task label, removed from the
        features. None: tasks come from ``task_ids`` or a 2-D ``y``.''',
        )
    }

    Attributes
    ----------{_ATTRS_DOC}

    See Also
    --------
    GradientMetaClassifier : The same for classification.
    LearnedPriorRegressor : A linear meta-learner (learned Gaussian prior).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_mtl.meta import GradientMetaRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.uniform(-2, 2, (200, 1))
    >>> t = np.repeat(np.arange(10), 20)
    >>> y = (1 + t / 10) * X[:, 0]
    >>> model = GradientMetaRegressor(hidden_layer_sizes=(16,), n_meta_iter=20,
    ...                               random_state=0, device="cpu")
    >>> model = model.fit(X, y, task_ids=t)
    >>> model = model.adapt(X[:5], 2 * X[:5, 0], task_ids=[99] * 5)
    >>> model.predict(X[:3], task_ids=[99] * 3).shape
    (3,)
    """

    _is_classifier_meta = False

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # A task's model is a few gradient steps from the meta-learned
        # initialization: made to learn new tasks from a few samples, not to
        # fit one task to the score the common checks demand.
        tags.regressor_tags.poor_score = True
        return tags

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, task_ids=None):
        """Meta-learn the initialization from the training tasks.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,) or (n_samples, n_tasks)
            Targets; a 2-D ``y`` without ``task_ids`` is one task per column.
        task_ids : array-like of shape (n_samples,), default=None
            Task label of each sample.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        data = check_fit_data(self, X, y, task_ids)
        y_rows = np.asarray(data.y, dtype=np.float64)
        self.y_mean_ = float(y_rows.mean())
        scale = float(y_rows.std())
        self.y_scale_ = scale if scale > 0 else 1.0
        self.n_outputs_ = 1
        return self._fit(data, (y_rows - self.y_mean_) / self.y_scale_)

    def predict(self, X, task_ids=None):
        """Predict each sample with its task's adapted network.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.
        task_ids : array-like of shape (n_samples,), default=None
            Task of each sample (fitted or adapted); not needed after a wide
            or single-task fit.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_tasks)
        """
        data, out = self._outputs(X, task_ids)
        return data.to_output(out[:, 0] * self.y_scale_ + self.y_mean_)


class GradientMetaClassifier(MultiTaskClassifierMixin, _GradientMeta):
    __doc__ = f"""Gradient-based meta-learning of a neural classifier (MAML family).

    As :class:`GradientMetaRegressor`, with one output per class of the union
    of the training tasks' classes (``classes_``) and the cross-entropy of
    their softmax as the loss. A task (training or new) may hold a subset of
    the classes, even one: its model still gives every class a probability.
{
        _COMMON_PARAMS_DOC.format(
            target_scale="",
            task_column='''
    task_column : int or str, default=None
        Column of ``X`` holding each sample's task label, removed from the
        features. None: tasks come from ``task_ids`` or a 2-D ``y``.''',
        )
    }

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Union of the training tasks' class labels.{_ATTRS_DOC}

    See Also
    --------
    GradientMetaRegressor : The same for regression.
    LearnedPriorClassifier : A linear meta-learner (learned Gaussian prior).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_mtl.meta import GradientMetaClassifier
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((200, 2))
    >>> t = np.repeat(np.arange(10), 20)
    >>> y = (X[:, 0] > 0).astype(int)
    >>> model = GradientMetaClassifier(hidden_layer_sizes=(16,), n_meta_iter=20,
    ...                                random_state=0, device="cpu")
    >>> model = model.fit(X, y, task_ids=t).adapt(X[:6], y[:6], task_ids=[99] * 6)
    >>> model.predict_proba(X[:3], task_ids=[99] * 3).shape
    (3, 2)
    """

    _is_classifier_meta = True

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.poor_score = True  # see GradientMetaRegressor
        return tags

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, task_ids=None):
        """Meta-learn the initialization from the training tasks.

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
        data = check_fit_data(
            self, X, y, task_ids, classifier=True, per_task_classes=False
        )
        self.classes_, targets = np.unique(data.y, return_inverse=True)
        self.n_outputs_ = len(self.classes_)
        return self._fit(data, targets.astype(np.int64))

    def predict_proba(self, X, task_ids=None):
        """Class probabilities (softmax), columns in the order of ``classes_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.
        task_ids : array-like of shape (n_samples,), default=None
            Task of each sample.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            After a wide fit, as :func:`sklearn_mtl._tasks.proba_output`
            arranges it.
        """
        data, out = self._outputs(X, task_ids)
        return proba_output(data.to_output(softmax(out, axis=1)))

    def predict(self, X, task_ids=None):
        """Most probable class of each sample under its task's network.

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
        data, out = self._outputs(X, task_ids)
        return data.to_output(self.classes_[np.argmax(out, axis=1)])
