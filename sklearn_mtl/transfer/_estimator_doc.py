"""The shared docstring of TransferRegressor and TransferClassifier."""

_DOC = """
    Two ways to give the source: (1) data — ``fit(X, y, task_ids=...)`` with
    ``target`` naming the target task, every other task a source (several
    sources work); (2) a model already fitted on the source —
    ``source_estimator`` (wrap it in ``sklearn.frozen.FrozenEstimator`` to
    keep it from being refitted), then ``fit(X_target, y_target)``.
    ``predict`` serves the target.

    Unlabelled target rows (the default, ``allow_unlabelled=True``): a target
    row whose label is missing — NaN in a float ``y`` (regression, or
    classification with float-coded classes), None or NaN in an object ``y``
    — is used for adaptation only: every domain adaptation (CORAL, KMM, ...)
    estimates the target distribution from every target row, labelled or
    not, and no supervised loss ever sees an unlabelled row. An integer ``y``
    has no marker (-1 is a real class). Zero labelled target rows is the
    unsupervised case, a few the semi-supervised one; a missing label in a
    source task raises, naming it. ``allow_unlabelled=False`` refuses a
    missing target label instead. ``use_target_labels=False`` treats every
    target row as unlabelled in ``fit`` even when ``y`` holds its label (so
    that a splitter can keep the labels for scoring, as skada masks them);
    ``score`` skips rows without a label and, given ``task_ids``, rows of
    other tasks (held-out source rows of a domain splitter).

    Methods (``method``, grid-searchable):

    - "target_only": ``estimator`` on the target alone (the baseline);
    - "source_only": the source model applied to the target;
    - "pooled": ``estimator`` on sources and target together;
    - "parameter": a linear model regularized toward the source model's
      coefficients, penalty ``(alpha/2) ||w - w_source||^2`` (squared loss in
      closed form, logistic loss by L-BFGS; intercept unpenalized). The
      source model is ``source_estimator``, else ``estimator`` (which must
      then be linear) fitted on the source data, as for "source_only";
    - "finetune": a :class:`~sklearn_mtl.MultiTask{kind}` ``estimator`` trained
      on the sources, its trunk copied into a fresh network trained on the
      target (``freeze_trunk``, ``trunk_learning_rate``);
    - "warm_start": ``estimator`` refitted on the target starting from the
      source model (``source_estimator``, else ``estimator`` fitted on the
      source data): from its coefficients through ``coef_init``, or with
      ``warm_start=True`` from a copy of its fitted state (same class) or its
      ``coef_`` / ``intercept_``;
    - "augment": feature augmentation (Daumé 2007), then ``estimator``;
    - "coral": CORAL alignment of the sources to the target, then ``estimator``;
    - "kmm": sources reweighted by kernel mean matching, then ``estimator``;
    - "kliep", "discriminator": sources reweighted by a density ratio
      (:func:`~sklearn_mtl.transfer.kliep_weights`,
      :func:`~sklearn_mtl.transfer.discriminator_weights`), then
      ``estimator``;
    - "linear_ot", "entropic_ot": sources moved onto the target by optimal
      transport (:class:`~sklearn_mtl.transfer.LinearOTMapping`,
      :class:`~sklearn_mtl.transfer.EntropicOTMapping`, which needs POT),
      then ``estimator``;
    - "subspace_alignment", "tca": sources and target projected to a shared
      subspace (:class:`~sklearn_mtl.transfer.SubspaceAlignment`,
      :class:`~sklearn_mtl.transfer.TCA`), ``estimator`` trained and
      predicting there;
    - "nearest_neighbors": sources reweighted by nearest-neighbour votes
      (:func:`~sklearn_mtl.transfer.nn_weights`), then ``estimator``;
    - "class_regularized_ot" (classification): sources moved by
      class-regularized optimal transport
      (:class:`~sklearn_mtl.transfer.ClassRegularizedOTMapping`), then
      ``estimator``;
    - "jda" (classification): joint distribution adaptation
      (:class:`~sklearn_mtl.transfer.JDA`, target pseudo-labels by
      ``estimator``), ``estimator`` trained and predicting in its subspace;
    - "jdot": joint distribution optimal transport with ``estimator`` as
      the model (:class:`~sklearn_mtl.transfer.JDOTClassifier`,
      :class:`~sklearn_mtl.transfer.JDOTRegressor`);
    - "meda" (classification): manifold embedded distribution alignment
      (:class:`~sklearn_mtl.transfer.MEDAClassifier`: GFK features and its
      own kernel classifier; ``estimator`` is unused unless it is a
      ``MEDAClassifier``, whose settings are then taken);
    - "spl" (classification): selective pseudo-labelling with structured
      prediction (:class:`~sklearn_mtl.transfer.SPLClassifier`: a supervised
      locality preserving projection, target pseudo-labels from class means
      and k-means clusters, the most confident kept per class; its own
      classifier, ``estimator`` unused unless it is an ``SPLClassifier``,
      whose settings are then taken; no ``sample_weight``; not an ``auto``
      candidate);
    - "dann", "deep_coral": deep domain adaptation on a
      :class:`~sklearn_mtl.MultiTask{kind}` ``estimator``'s trunk
      (:class:`~sklearn_mtl.transfer.DANN{kind}`,
      :class:`~sklearn_mtl.transfer.DeepCORAL{kind}`; the ``neural`` extra);
    - "tradaboost": {boosting};
    - "auto" (default): chooses among ``candidates`` by one of two documented
      rules, and reports the evidence in ``cv_results_`` and ``selection_``.

      *Enough target labels* (at least ``max(10, 2 * cv_folds)`` labelled
      target rows and, for classifiers, 2 of each class): repeated
      cross-validation — ``n_repeats`` x
      :class:`~sklearn_mtl.model_selection.TaskKFold` (``cv_folds`` folds,
      seeds 0, 1, ...; stratified by class for classifiers, at most the
      smallest class count of folds) on the labelled target rows, sources
      always in training; {metric}. A *tie*: a candidate whose mean gap to
      the best mean is at most the standard error of that gap over the
      paired fold scores (``std(ddof=1) / sqrt(n_scores)``). Among the tied
      candidates (the best included) the first in this order wins — the
      simplest method that uses the source: source_only, pooled, parameter,
      warm_start, augment, coral, linear_ot, subspace_alignment, kmm, kliep,
      discriminator, nearest_neighbors, tca, entropic_ot,
      class_regularized_ot, jda, meda, jdot, tradaboost, deep_coral, dann,
      finetune, then any other method, target_only last. Default
      candidates: the cheap methods — target_only, source_only, pooled,
      parameter, augment, coral — about
      one fit of ``estimator`` per fold each. What does not depend on the
      target labels (the source model, every adaptation's weights or fitted
      transformer) is computed once per ``fit`` and shared by the folds.

      *Few or no target labels*: a label-free scorer
      (``unlabelled_scoring``, default "auto": interpolation consistency,
      :func:`~sklearn_mtl.metrics.make_interpolation_consistency_scorer`,
      for a classifier, circular validation,
      :func:`~sklearn_mtl.metrics.make_circular_validation_scorer`, for a
      regressor), cross-fitted over ``n_repeats`` x ``cv_folds`` stratified
      folds of the source rows: each candidate is fitted on the other source
      folds and every target row's features (target labels unused) and
      scored on the held-out fold and every target row — circular
      validation's backward model adapts to every source row's features and
      is scored on the held-out fold's labels, which neither model read. The
      tie rule above decides (gap to the best at most its paired standard
      error over the fold scores -> the simplest tied method). Default
      candidates: source_only, jda and meda for a classifier (meda up to
      4,000 source and target rows: its fit grows as n^2), source_only,
      coral, linear_ot, subspace_alignment for a regressor; methods that
      train on target labels are skipped. The winner is refitted on every
      row (target labels included).

      List other methods in ``candidates`` to compare them too (kmm, kliep,
      discriminator, entropic_ot, tca, tradaboost, finetune, warm_start,
      ...).

    Parameters
    ----------
    estimator : estimator, default=None
        Base model of the methods that need one (default {default}).
    method : str, default="auto"
        See above.
    target : object, default=None
        Label of the target task (None: the only task).
    source_estimator : fitted estimator, default=None
        A model fitted on the source, for "source_only", "parameter" (linear)
        and "finetune" (multi-task network).
    alpha : float, default=1.0
        Strength of the pull toward the source coefficients ("parameter").
    n_estimators : int, default=10
        Boosting rounds ("tradaboost"{steps}).
    freeze_trunk : bool or int, default=False
        "finetune": True keeps the copied trunk fixed (only the head trains);
        an int k freezes the trunk's first k layers that hold parameters.
    trunk_learning_rate : float, default=None
        "finetune": the trunk's learning rate (None: the estimator's).
    candidates : list of str, default=None
        Methods "auto" compares (None: the default list above). An empty list,
        or one whose methods the given source cannot run, raises.
    cv_folds : int, default=3
        Folds of the target rows for "auto" (and the two-stage TrAdaBoost.R2).
    n_repeats : int, default=3
        Repeats of the ``cv_folds``-fold cross-validation of "auto".
    unlabelled_scoring : {{"auto", "circular", "deep_embedded", \
            "importance_weighted", "interpolation_consistency", \
            "prediction_entropy", "soft_neighborhood_density"}}, \
            default="auto"
        Label-free scorer of "auto" without enough target labels ("auto":
        interpolation consistency for a classifier, circular validation for
        a regressor).
    boosting_errors : {{"held_out", "training"}}, default="held_out"
        "tradaboost" (classification): which mistakes reweight the rows —
        "held_out": each row predicted by a learner fitted on the other half
        of the rows (2-fold cross-fitting, stratified by domain and class,
        seeded by ``random_state``), so a learner that interpolates its
        training rows still reweights; "training": Dai et al.'s in-sample
        mistakes (warns when the learner makes none).
    task_column : int or str, default=None
        Column of ``X`` holding the task label.
    allow_unlabelled : bool, default=True
        Keep target rows with a missing label as unlabelled rows (see above);
        False raises on them. Methods with a supervised loss on the target
        (target_only, parameter, finetune, warm_start, tradaboost) need at
        least 2 labelled target rows.
    use_target_labels : bool, default=True
        False: every target row is unlabelled in ``fit`` (its label withheld
        from training); see
        :class:`~sklearn_mtl.model_selection.LeaveOneDomainOut`.
    random_state : int, RandomState instance or None, default=None
        Seeds the fold shuffling of TrAdaBoost (held-out errors) and the
        two-stage TrAdaBoost.R2. "auto"'s folds and held-out source rows use
        fixed seeds, so ``fit`` is deterministic.

    Attributes
    ----------
    method_ : str
        The method used (the one chosen by "auto").
    cv_results_ : dict of ndarray
        "auto" only, one entry per candidate as in ``GridSearchCV``:
        "method", "mean_score", "std_score", "rank_score" (1 = best),
        "chosen" and "rule" (the selection rule, as ``selection_``); with
        cross-validation also "split<k>_score", "sem_score" (standard error
        of the fold scores), "gap_to_best", "gap_sem" and "tied_with_best".
    selection_ : str
        "auto" only: the rule that chose (repeated cross-validation on how
        many labelled target rows, or the label-free scorer).
    estimator_ : object
        The fitted target model.
    target_ : object
        The target task label.
    tasks_ : ndarray
        Task labels seen in fit.
    n_features_in_ : int
        Number of columns of ``X`` in fit."""
