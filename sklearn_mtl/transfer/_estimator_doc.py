"""The shared docstring of TransferRegressor and TransferClassifier."""

_DOC = """
    Two ways to give the source: (1) data — ``fit(X, y, task_ids=...)`` with
    ``target`` naming the target task, every other task a source (several
    sources work); (2) a model already fitted on the source —
    ``source_estimator`` (wrap it in ``sklearn.frozen.FrozenEstimator`` to
    keep it from being refitted), then ``fit(X_target, y_target)``.
    ``predict`` serves the target.

    Unlabelled target rows (``allow_unlabelled=True``): a target row whose
    label is missing — NaN in a float ``y`` (regression, or classification
    with float-coded classes), None or NaN in an object ``y`` — is used for
    adaptation only: every domain adaptation (CORAL, KMM, ...) estimates the
    target distribution from every target row, labelled or not, and no
    supervised loss ever sees an unlabelled row. An integer ``y`` has no
    marker (-1 is a real class).
    Zero labelled target rows is the unsupervised case, a few the
    semi-supervised one; a missing label in a source task raises, naming it.
    ``score`` skips rows without a label.

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
    - "tradaboost": {boosting};
    - "auto" (default): each of ``candidates`` scored by ``cv_folds``-fold
      cross-validation on the target rows (sources always in training;
      {metric}), the best refitted. The default candidates are the cheap
      methods — target_only, source_only, pooled, parameter, augment, coral
      (those the given source allows), about one fit of ``estimator`` per
      fold each; list "kmm", "kliep", "discriminator", "linear_ot",
      "entropic_ot", "subspace_alignment", "tca", "tradaboost", "finetune" or
      "warm_start" in ``candidates`` to compare them too. What does not depend
      on the target labels is computed once per ``fit`` and shared by the
      folds and the final refit: the source model and every adaptation's
      weights or fitted transformer (from the source rows and the features of
      all target rows). The folds are
      :class:`~sklearn_mtl.model_selection.TaskKFold` on the labelled target
      rows (shuffled with a fixed seed, stratified by class for classifiers
      when every class has 2 labelled rows). With fewer than 2 labelled target
      rows there is nothing to cross-validate: "auto" takes the first of
      coral, kmm, source_only, pooled, augment among the candidates (a
      label-free rule; ``cv_results_`` then holds NaN scores). ``method_``,
      ``cv_results_`` and ``selection_`` tell what was chosen and why, so a
      source that does not help shows as "target_only" winning.

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
    task_column : int or str, default=None
        Column of ``X`` holding the task label.
    allow_unlabelled : bool, default=False
        Keep target rows with a missing label as unlabelled rows (see above)
        instead of raising. Methods with a supervised loss on the target
        (target_only, parameter, finetune, warm_start, tradaboost) need at
        least 2 labelled target rows.
    random_state : int, RandomState instance or None, default=None
        Seeds the fold shuffling of the two-stage TrAdaBoost.R2.

    Attributes
    ----------
    method_ : str
        The method used (the one chosen by "auto").
    cv_results_ : dict
        "auto" only: method -> (mean, std) of the cross-validated score (NaN
        when the label-free rule chose).
    selection_ : str
        "auto" only: how the method was chosen (cross-validation, and on how
        many labelled target rows, or the label-free rule).
    estimator_ : object
        The fitted target model.
    target_ : object
        The target task label.
    tasks_ : ndarray
        Task labels seen in fit.
    n_features_in_ : int
        Number of columns of ``X`` in fit."""
