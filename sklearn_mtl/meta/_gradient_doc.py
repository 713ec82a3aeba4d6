"""Docstring parts shared by GradientMetaRegressor and GradientMetaClassifier."""

_COMMON_PARAMS_DOC = """
    Parameters
    ----------
    algorithm : {{"maml", "fomaml", "reptile", "anil"}}, default="maml"
        "maml": second-order MAML (Finn et al. 2017), the meta-gradient
        differentiates through the inner loop. "fomaml": first-order MAML,
        the query gradient at the adapted parameters. "reptile" (Nichol et
        al. 2018): ``theta += meta_lr * mean(adapted - theta)`` over the
        meta-batch, the inner loop on all rows of each task. "anil" (Raghu
        et al. 2020): MAML whose inner loop (in fit, in :meth:`adapt` and for
        the fitted tasks) adapts the head only; the trunk is the meta-learned
        one for every task.
    network : callable or None, default=None
        None: an MLP trunk (``hidden_layer_sizes``, ``activation``) and a
        linear head. Otherwise an ``nn.Module`` class (or any factory) called
        as ``network(n_features, n_outputs)``, whose module maps a
        (n_samples, n_features) float tensor to (n_samples, n_outputs); for
        "anil" it must hold its head as a submodule named ``head`` (the
        parameters ``head.*`` are the ones adapted). Features arrive
        standardized unless ``standardize=False``; a module for images
        reshapes them itself, e.g. ``functools.partial(ConvNet,
        image_shape=(28, 28))`` (:class:`~sklearn_mtl.neural.ConvNet`).
        Batch norm: the inner loop normalizes with the statistics of the
        batch it is given (the support rows), as MAML does; each served
        task keeps its support rows' statistics at its adapted parameters
        and predicts with them in evaluation mode, so a prediction does not
        depend on the other rows predicted with it.
    hidden_layer_sizes : tuple of int, default=(40, 40)
        Widths of the MLP trunk's hidden layers (default network only).
    activation : {{"relu", "tanh", "gelu", "identity"}}, default="relu"
        Activation after each hidden layer.
    inner_steps : int, default=3
        Gradient steps of the inner loop (meta-training, :meth:`adapt`, and
        the fitted tasks' own models).
    inner_lr : float, default=0.05
        Step size of the inner loop (plain gradient descent), on standardized
        features{target_scale}.
    meta_lr : float, default=1e-3
        Adam learning rate of the outer loop; for "reptile", the outer step
        size ``epsilon`` of the interpolation toward the adapted parameters.
    meta_batch_size : int, default=4
        Tasks per meta-step (drawn without replacement; all tasks when fewer).
    n_meta_iter : int, default=100
        Meta-steps.
    support_fraction : float, default=0.5
        Share of each training task's rows drawn as the support set of an
        episode (the rest is the query set), at least one row each. Not used
        by "reptile".
    head_init : {{"meta", "zero"}}, default="meta"
        "meta": the head is meta-learned with the rest of the network.
        "zero": every task's inner loop starts from a head of zeros (the
        "zeroing trick", Kao et al. 2022) and only the trunk is
        meta-learned (``meta_params_`` keeps a zero head). Use it when a
        class label means nothing across tasks (N-way episodes whose
        labels are drawn anew per task, e.g. Omniglot): a meta-learned head
        is then noise every task must first undo, whereas one inner step
        from zero sets each class's weights to the mean of its (centred)
        support features, a prototype classifier that the trunk learns to
        serve. Needs a submodule named ``head`` in a custom ``network``.
    standardize : bool, default=True
        Standardize each feature on the training rows before the network;
        False passes them as they are (e.g. images with pixels in [0, 1]).
    random_state : int, RandomState instance or None, default=None
        Seeds the network initialization and the episode draws.
    device : str, default="auto"
        The torch device for training; "auto" takes a GPU when torch sees one.
        The fitted parameters are stored as numpy arrays, so a model fitted on
        a GPU predicts on a CPU-only machine after pickling.{task_column}"""

_ATTRS_DOC = """
    meta_params_ : dict of str to ndarray
        The meta-learned initialization (the network's parameters by name).
    task_params_ : dict of str to ndarray
        Each served task's adapted parameters, stacked along a first axis in
        the order of ``tasks_``. A task seen in fit is the meta-learned
        initialization adapted on all its training rows; a task learned by
        :meth:`adapt` is it adapted on the support rows. With batch norm it
        also holds each task's buffers (its rows' batch-norm statistics).
    tasks_ : ndarray of shape (n_tasks,)
        Sorted labels of every served task.
    meta_tasks_ : ndarray of shape (n_meta_tasks,)
        The tasks seen in fit.
    adapted_tasks_ : ndarray of shape (n_adapted,)
        Tasks learned by :meth:`adapt`, sorted.
    meta_loss_ : ndarray of shape (n_meta_iter,)
        Mean query loss of each meta-batch (MAML, first-order MAML, ANIL);
        all NaN for Reptile, which has no query loss.
    device_ : str
        The device the network was trained on.
    task_format_ : {"long", "wide"}
        How tasks were given in fit.
    n_features_in_ : int
        Number of columns of ``X`` in fit, task column included."""
