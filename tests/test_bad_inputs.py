"""Every public estimator and transformer through a matrix of bad inputs.

Estimators are discovered, not listed: every class named in the ``__all__`` of
sklearn_mtl's public modules that is a scikit-learn estimator with ``fit`` and
``predict`` or ``transform`` is enrolled, so a new one is tested as soon as it
is exported. A class whose required constructor arguments are unknown here
makes ``test_every_public_estimator_is_enrolled`` fail: give it a default in
``_instances``.

Each case either asserts a clear error (ValueError or TypeError whose message
names the parameter or the task at fault) or a correct result. Cases that
fail because of code owned by another area are marked xfail with the owner in
the reason (see ``KNOWN_FAILURES``).
"""

import importlib
import importlib.util
import inspect
import pkgutil
import re

import numpy as np
import pytest
from sklearn.base import BaseEstimator, clone
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.utils import get_tags
from sklearn.utils._param_validation import (
    InvalidParameterError,
    generate_invalid_param_val,
    make_constraint,
)

import sklearn_mtl

HAS_TORCH = all(importlib.util.find_spec(m) for m in ("torch", "skorch"))
# Small and fast: a couple of epochs on a few rows is enough to reach the checks.
NEURAL_PARAMS = {
    "max_epochs": 2,
    "hidden_layer_sizes": (8,),
    "batch_size": 16,
    "device": "cpu",
    "random_state": 0,
}
N_SAMPLES, N_FEATURES, TARGET = 30, 4, 0


# -- discovery ----------------------------------------------------------------
def _public_modules():
    yield sklearn_mtl
    for info in pkgutil.walk_packages(sklearn_mtl.__path__, "sklearn_mtl."):
        if not any(part.startswith("_") for part in info.name.split(".")):
            yield importlib.import_module(info.name)


def _public_estimator_classes():
    found = {}
    for module in _public_modules():
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name)
            if (
                inspect.isclass(obj)
                and issubclass(obj, BaseEstimator)
                and not inspect.isabstract(obj)
                and hasattr(obj, "fit")
                and (hasattr(obj, "predict") or hasattr(obj, "transform"))
            ):
                found[obj.__name__] = obj
    return [found[name] for name in sorted(found)]


def _is_neural(cls):
    return cls.__module__.startswith(
        (
            "sklearn_mtl.neural",
            "sklearn_mtl.meta._gradient",
            "sklearn_mtl.meta._prototypes",
            "sklearn_mtl.transfer._deep",
        )
    ) or cls.__name__ in {"SharedRepresentation"}


def _instances(cls):
    """Instances of ``cls`` to test: defaults for what the constructor needs."""
    from sklearn_mtl import MultiTaskRegressor

    params = inspect.signature(cls).parameters
    required = [
        name
        for name, p in params.items()
        if p.default is p.empty and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
    ]
    kwargs = {}
    if "max_epochs" in params:
        kwargs.update(NEURAL_PARAMS)
    if "target" in params:
        kwargs["target"] = TARGET
    if "random_state" in params:
        kwargs["random_state"] = 0
    if "network" in required:
        kwargs["network"] = MultiTaskRegressor(**NEURAL_PARAMS)
        required.remove("network")
    if "estimator" in required:
        # Meta-estimators: one regressor and one classifier inside.
        required.remove("estimator")
        if required:
            raise TypeError(f"{cls.__name__} needs defaults for {required}")
        return [
            cls(estimator=Ridge(), **kwargs),
            cls(estimator=LogisticRegression(), **kwargs),
        ]
    if required:
        raise TypeError(f"{cls.__name__} needs defaults for {required}")
    return [cls(**kwargs)]


def _kind(estimator):
    estimator_type = get_tags(estimator).estimator_type
    return estimator_type if estimator_type else "transformer"


def _short_name(estimator):
    inner = getattr(estimator, "estimator", None)
    name = type(estimator).__name__
    if isinstance(inner, BaseEstimator) and not _is_neural(type(estimator)):
        name += f"({type(inner).__name__})"
    return name


ESTIMATORS = [
    pytest.param(
        estimator,
        id=_short_name(estimator),
        marks=[
            pytest.mark.skipif(
                _is_neural(cls) and not HAS_TORCH, reason="needs the neural extra"
            )
        ],
    )
    for cls in _public_estimator_classes()
    for estimator in _instances(cls)
]


def test_every_public_estimator_is_enrolled():
    names = {type(p.values[0]).__name__ for p in ESTIMATORS}
    # The ones known today; discovery must find at least these.
    assert {
        "CORAL",
        "FeatureAugmentation",
        "GraphMultiTaskClassifier",
        "GraphMultiTaskRegressor",
        "IndependentTasks",
        "MultiTaskClassifier",
        "MultiTaskRegressor",
        "PerTask",
        "PooledTasks",
        "SharedRepresentation",
        "TransferClassifier",
        "TransferRegressor",
    } <= names


# -- data and uniform calls ----------------------------------------------------
def _reads_source_classes(estimator):
    """Supervised domain transformers (JDA, ClassRegularizedOTMapping): fit
    reads the source rows' class labels, so their tags say y is required;
    they get class labels (0/1, valid for a y-reading transformer of any
    kind) instead of the regression data."""
    return (
        _kind(estimator) == "transformer"
        and not _is_neural(type(estimator))
        and get_tags(estimator).target_tags.required
    )


def _data(estimator):
    rng = np.random.RandomState(0)
    X = rng.standard_normal((N_SAMPLES, N_FEATURES))
    task_ids = np.repeat([0, 1, 2], N_SAMPLES // 3)
    if _kind(estimator) == "classifier" or _reads_source_classes(estimator):
        # Both classes in every task, and learnable from feature 0.
        y = np.tile([0, 1], N_SAMPLES // 2)
        X[:, 0] += 2.0 * y
    else:
        y = X @ np.array([1.0, -0.5, 0.25, 0.0]) + 0.1 * rng.standard_normal(N_SAMPLES)
    return X, y, task_ids


def _uses_y(estimator):
    return (
        _kind(estimator) != "transformer"
        or _is_neural(type(estimator))
        or _reads_source_classes(estimator)
    )


def _takes_weights(estimator):
    params = inspect.signature(estimator.fit).parameters
    return "sample_weight" in params or any(
        p.kind == p.VAR_KEYWORD for p in params.values()
    )


def _adapts_domains(estimator):
    """Domain adaptation: one target task learnt from sources (Transfer*, DANN*,
    DeepCORAL*, JDOT*, MEDA*, SPL*); they always serve their target and take no
    wide ``y``."""
    return type(estimator).__name__.startswith(
        ("Transfer", "DANN", "DeepCORAL", "JDOT", "MEDA", "SPL")
    )


def _ignores_tasks_at_predict(estimator):
    """Pooled models serve any task; transfer models always serve their target."""
    return type(estimator).__name__ == "PooledTasks" or _adapts_domains(estimator)


def _fit(estimator, X, y, task_ids, **kwargs):
    return clone(estimator).fit(X, y, task_ids=task_ids, **kwargs)


def _apply(model, X, task_ids):
    method = "predict" if hasattr(model, "predict") else "transform"
    return getattr(model, method)(X, task_ids=task_ids)


def _check_output(model, X, task_ids):
    """A correct-looking result: finite, one row per sample."""
    out = np.asarray(_apply(model, X, task_ids))
    assert out.shape[0] == X.shape[0]
    if out.dtype.kind in "fc":
        assert np.all(np.isfinite(out))
    return out


# -- the categories --------------------------------------------------------------
# Each takes an estimator and either raises (checked by the caller against the
# category's message) or returns having asserted a correct result.


def _nan_X(est):
    X, y, t = _data(est)
    X[3, 1] = np.nan
    _fit(est, X, y, t)


def _inf_X(est):
    X, y, t = _data(est)
    X[3, 1] = np.inf
    _fit(est, X, y, t)


def _nan_X_at_predict(est):
    X, y, t = _data(est)
    model = _fit(est, X, y, t)
    X[3, 1] = np.nan
    _apply(model, X, t)


def _nan_y(est):
    X, y, t = _data(est)
    y = y.astype(float)
    # Domain adaptation (Transfer*, DANN*, DeepCORAL*, JDOT*, MEDA*, and the
    # transformers reading source classes): a NaN target label marks an
    # unlabelled target row (valid); a NaN source label is the error.
    target_optional = _adapts_domains(est) or _reads_source_classes(est)
    y[N_SAMPLES - 1 if target_optional else 4] = np.nan
    _fit(est, X, y, t)


def _task_ids_wrong_length(est):
    X, y, t = _data(est)
    _fit(est, X, y, t[:-1])


def _task_ids_with_none(est):
    X, y, t = _data(est)
    t = t.astype(object)
    t[5] = None
    _fit(est, X, y, t)


def _task_ids_with_nan(est):
    X, y, t = _data(est)
    t = t.astype(float)
    t[5] = np.nan
    _fit(est, X, y, t)


def _task_ids_mixed_types(est):
    X, y, t = _data(est)
    # As a list, numpy would turn 1 and "1" into the same string.
    labels = [int(label) for label in t]
    labels[15:] = [str(label) for label in labels[15:]]
    _fit(est, X, y, labels)


def _unseen_task_at_predict(est):
    X, y, t = _data(est)
    model = _fit(est, X, y, t)
    unseen = np.where(np.arange(N_SAMPLES) % 2 == 0, 7, t)
    out = _apply(model, X, unseen)
    # Only estimators that ignore tasks at predict may get here: the labels
    # must then change nothing.
    reference = _apply(model, X, t)
    np.testing.assert_allclose(np.asarray(out, float), np.asarray(reference, float))


def _single_sample_task(est):
    X, y, t = _data(est)
    keep = np.r_[0, np.flatnonzero(t != 0)]
    model = _fit(est, X[keep], y[keep], t[keep])
    _check_output(model, X[keep], t[keep])


def _single_class_task(est):
    X, y, t = _data(est)
    y = y.copy()
    y[t == 0] = 0
    model = _fit(est, X, y, t)
    _check_output(model, X, t)


def _negative_sample_weight(est):
    X, y, t = _data(est)
    weights = np.ones(N_SAMPLES)
    weights[2] = -1.0
    _fit(est, X, y, t, sample_weight=weights)


def _sample_weight_wrong_shape(est):
    X, y, t = _data(est)
    _fit(est, X, y, t, sample_weight=np.ones(N_SAMPLES - 1))


def _zero_weight_task(est):
    X, y, t = _data(est)
    _fit(est, X, y, t, sample_weight=np.where(t == 1, 0.0, 1.0))


def _empty_X(est):
    X, y, t = _data(est)
    _fit(est, X[:0], y[:0], t[:0])


def _one_dimensional_X(est):
    X, y, t = _data(est)
    _fit(est, X[:, 0], y, t)


def _wrong_n_features_at_predict(est):
    X, y, t = _data(est)
    model = _fit(est, X, y, t)
    _apply(model, X[:, :3], t)


def _string_X(est):
    X, y, t = _data(est)
    _fit(est, np.full(X.shape, "abc"), y, t)


def _y_wrong_length(est):
    X, y, t = _data(est)
    _fit(est, X, y[:-1], t)


def _inf_y(est):
    X, y, t = _data(est)
    y = y.astype(float)
    y[4] = np.inf
    _fit(est, X, y, t)


def _nan_sample_weight(est):
    X, y, t = _data(est)
    weights = np.ones(N_SAMPLES)
    weights[2] = np.nan
    _fit(est, X, y, t, sample_weight=weights)


def _huge_scale_X(est):
    """Inputs on a 1e8 scale: a finite result or an error saying what diverged."""
    X, y, t = _data(est)
    try:
        model = _fit(est, 1e8 * X, y, t)
    except ValueError as exc:
        assert re.search(r"epoch", str(exc)), str(exc)
        return
    _check_output(model, 1e8 * X, t)


def _wide_y_task_without_labels(est):
    X, y, t = _data(est)
    Y = np.column_stack([y, y, y]).astype(float)
    Y[:, 1] = np.nan
    _fit(est, X, Y, None)


def _score_task_without_labels(est):
    """Wide score: a task with no label in y is left out of the mean."""
    X, y, t = _data(est)
    Y = np.column_stack([y, y[::-1], y]).astype(float)
    model = _fit(est, X, Y, None)
    Y_test = Y.copy()
    Y_test[:, 1] = np.nan
    pred = model.predict(X)
    metric = (
        (lambda a, b: np.mean(a == b))
        if _kind(est) == "classifier"
        else (lambda a, b: 1 - np.sum((a - b) ** 2) / np.sum((a - a.mean()) ** 2))
    )
    expected = np.mean([metric(Y[:, 0], pred[:, 0]), metric(Y[:, 2], pred[:, 2])])
    assert model.score(X, Y_test) == pytest.approx(expected)


def _takes_wide_y(est):
    return _kind(est) != "transformer" and not _adapts_domains(est)


def _valid_input(est):
    """The control: good data fits and gives a finite result."""
    X, y, t = _data(est)
    _check_output(_fit(est, X, y, t), X, t)


# category -> (function, message regex, applies to estimator)
CATEGORIES = {
    "valid_input": (_valid_input, None, lambda e: True),
    "nan_X": (_nan_X, r"Input X contains NaN", lambda e: True),
    "inf_X": (_inf_X, r"Input X contains infinity", lambda e: True),
    "nan_X_at_predict": (_nan_X_at_predict, r"Input X contains NaN", lambda e: True),
    "nan_y": (_nan_y, r"Input y contains NaN|y contains NaN", _uses_y),
    "task_ids_wrong_length": (
        _task_ids_wrong_length,
        r"task_ids has 29 entries but X has 30 samples",
        lambda e: True,
    ),
    "task_ids_with_none": (
        _task_ids_with_none,
        r"task_ids contains None",
        lambda e: True,
    ),
    "task_ids_with_nan": (
        _task_ids_with_nan,
        r"task_ids contains NaN",
        lambda e: True,
    ),
    "task_ids_mixed_types": (
        _task_ids_mixed_types,
        r"task_ids mixes label types \['int', 'str'\]",
        lambda e: True,
    ),
    "unseen_task_at_predict": (
        _unseen_task_at_predict,
        r"task_ids contains tasks not seen during fit: \[7\]",
        lambda e: True,
    ),
    "single_sample_task": (
        _single_sample_task,
        r"[Tt]ask 0 has 1 sample|at least 2 target rows, got 1",
        lambda e: True,
    ),
    "single_class_task": (
        _single_class_task,
        r"[Tt]ask 0 has only 1 class",
        lambda e: _kind(e) == "classifier",
    ),
    "negative_sample_weight": (
        _negative_sample_weight,
        r"sample_weight must be non-negative|[Nn]egative values in data passed "
        r"to sample_weight",
        _takes_weights,
    ),
    "sample_weight_wrong_shape": (
        _sample_weight_wrong_shape,
        r"sample_weight must have shape \(30,\)",
        _takes_weights,
    ),
    "zero_weight_task": (
        _zero_weight_task,
        r"Task 1 has zero total sample_weight",
        _takes_weights,
    ),
    "empty_X": (_empty_X, r"0 sample\(s\)", lambda e: True),
    "one_dimensional_X": (_one_dimensional_X, r"Expected 2D array", lambda e: True),
    "wrong_n_features_at_predict": (
        _wrong_n_features_at_predict,
        r"X has 3 features, but \w+ is expecting 4 features",
        lambda e: True,
    ),
    "string_X": (
        _string_X,
        r"could not convert string to float|not compatible with arrays of "
        r"bytes/strings",
        lambda e: True,
    ),
    "y_wrong_length": (
        _y_wrong_length,
        r"y has 29 samples but X has 30|inconsistent numbers of samples: \[30, 29\]",
        _uses_y,
    ),
    "inf_y": (
        _inf_y,
        r"Input y contains infinity|y contains NaN or infinity",
        lambda e: _uses_y(e) and _kind(e) != "classifier",
    ),
    "nan_sample_weight": (
        _nan_sample_weight,
        r"Input sample_weight contains NaN",
        _takes_weights,
    ),
    "huge_scale_X": (_huge_scale_X, None, lambda e: True),
    "wide_y_task_without_labels": (
        _wide_y_task_without_labels,
        r"Task 1 has 0 samples with a label",
        _takes_wide_y,
    ),
    "score_task_without_labels": (
        _score_task_without_labels,
        None,
        _takes_wide_y,
    ),
}

# Where the right answer is a result, not an error (the category's function
# asserts the result).
EXPECTED_RESULT = {
    ("PooledTasks", "unseen_task_at_predict"),
    ("TransferRegressor", "unseen_task_at_predict"),
    ("TransferClassifier", "unseen_task_at_predict"),
    ("DANNRegressor", "unseen_task_at_predict"),
    ("DANNClassifier", "unseen_task_at_predict"),
    ("DeepCORALRegressor", "unseen_task_at_predict"),
    ("DeepCORALClassifier", "unseen_task_at_predict"),
    ("JDOTRegressor", "unseen_task_at_predict"),
    ("JDOTClassifier", "unseen_task_at_predict"),
    ("MEDAClassifier", "unseen_task_at_predict"),
    ("SPLClassifier", "unseen_task_at_predict"),
    # One model for all tasks: a task's size or classes do not matter.
    ("PooledTasks", "single_sample_task"),
    ("PooledTasks", "single_class_task"),
    # A source task may be tiny; only the target (task 0 here) needs 2 rows.
    ("FeatureAugmentation", "single_sample_task"),
    # A target with one class: the sources bring the other classes.
    ("TransferClassifier", "single_class_task"),
    ("DANNClassifier", "single_class_task"),
    ("DeepCORALClassifier", "single_class_task"),
    # JDOT reads no target label: the target's classes come from the sources.
    ("JDOTClassifier", "single_class_task"),
    # MEDA neither: its classes come from the sources (and pseudo-labels).
    ("MEDAClassifier", "single_class_task"),
    ("SPLClassifier", "single_class_task"),
    # Meta-learners: the learned prior keeps a one-class task's model finite.
    ("LearnedPriorClassifier", "single_class_task"),
    ("CommonMeanRidgeClassifier", "single_class_task"),
    ("GradientMetaClassifier", "single_class_task"),
    ("PrototypicalClassifier", "single_class_task"),
}

# (estimator name, category) -> reason; failures in code another area owns.
KNOWN_FAILURES = {}


def _case_params():
    for param in ESTIMATORS:
        estimator = param.values[0]
        name = type(estimator).__name__
        for category, (_, _, applies) in CATEGORIES.items():
            if not applies(estimator):
                continue
            marks = list(param.marks)
            for key in [(param.id, category), (name, category)]:
                if key in KNOWN_FAILURES:
                    marks.append(
                        pytest.mark.xfail(reason=KNOWN_FAILURES[key], strict=False)
                    )
                    break
            yield pytest.param(
                estimator, category, id=f"{param.id}-{category}", marks=marks
            )


def _nan_passes_through(est, at_predict):
    """An estimator tagged allow_nan: NaN is data, kept where it was (a
    transformer's output of the same shape) and never an error."""
    X, y, t = _data(est)
    X_nan = X.copy()
    X_nan[3, 1] = np.nan
    model = _fit(est, X if at_predict else X_nan, y, t)
    out = np.asarray(_apply(model, X_nan, t), dtype=float)
    assert out.shape[0] == N_SAMPLES
    if out.shape == X.shape:
        np.testing.assert_array_equal(np.isnan(out), np.isnan(X_nan))


@pytest.mark.parametrize("estimator, category", list(_case_params()))
def test_bad_input(estimator, category):
    function, message, _ = CATEGORIES[category]
    name = type(estimator).__name__
    if (
        category in {"nan_X", "nan_X_at_predict"}
        and get_tags(estimator).input_tags.allow_nan
    ):
        _nan_passes_through(estimator, at_predict=category == "nan_X_at_predict")
        return
    if message is None or (name, category) in EXPECTED_RESULT:
        function(estimator)
        return
    with pytest.raises((ValueError, TypeError), match=message):
        function(estimator)


# -- every constrained hyperparameter, set to an invalid value ------------------
class _BadType:
    """A value of a type no parameter accepts."""

    def __repr__(self):
        return "_BadType()"


def _invalid_values(estimator):
    """(parameter, invalid value) pairs from the estimator's constraints."""
    constraints = getattr(type(estimator), "_parameter_constraints", {})
    params = estimator.get_params(deep=False)
    for name, spec in sorted(constraints.items()):
        if name not in params or spec == "no_validation":
            continue
        objects = [make_constraint(c) for c in spec]
        if not any(o.is_satisfied_by(_BadType()) for o in objects):
            yield name, _BadType()
        for constraint in objects:
            try:
                bad = generate_invalid_param_val(constraint)
            except NotImplementedError:
                continue
            # Invalid for this constraint may still be valid for another one.
            if not any(o.is_satisfied_by(bad) for o in objects):
                yield name, bad


def _param_cases():
    for param in ESTIMATORS:
        estimator = param.values[0]
        for name, value in _invalid_values(estimator):
            yield pytest.param(
                estimator,
                name,
                value,
                id=f"{param.id}-{name}={value!r}",
                marks=param.marks,
            )


# Values that pass the type constraints but are still invalid: each must raise
# a ValueError or TypeError naming the parameter.
EXTRA_INVALID = {
    "hidden_layer_sizes": [(0,), (-3,), (2.5,)],
    "target": [99, "0"],
    "candidates": [[], ["no_such_method"]],
    "network": [Ridge()],
    "n_experts": [0],
    "cv_folds": [1],
    # Graph objects' own constraints, checked when the estimator fits.
    "graph": [
        sklearn_mtl.graphs.KNNGraph(n_neighbors=0),
        sklearn_mtl.graphs.LearnedGraph(eps=0.0),
        sklearn_mtl.graphs.TreeGraph([0, 1]),
    ],
    # Fixed task-loss weights that are all zero would train nothing.
    "loss_weighting": [[0.0, 0.0, 0.0]],
}


def _extra_cases():
    for param in ESTIMATORS:
        estimator = param.values[0]
        params = estimator.get_params(deep=False)
        for name, values in EXTRA_INVALID.items():
            if name not in params:
                continue
            for value in values:
                yield pytest.param(
                    estimator,
                    name,
                    value,
                    id=f"{param.id}-{name}={value!r}",
                    marks=param.marks,
                )


@pytest.mark.parametrize("estimator, name, value", list(_extra_cases()))
def test_semantically_invalid_hyperparameter(estimator, name, value):
    X, y, t = _data(estimator)
    model = clone(estimator).set_params(**{name: value})
    with pytest.raises((ValueError, TypeError), match=re.escape(name)):
        model.fit(X, y, task_ids=t)


@pytest.mark.parametrize("estimator, name, value", list(_param_cases()))
def test_bad_hyperparameter(estimator, name, value):
    X, y, t = _data(estimator)
    model = clone(estimator).set_params(**{name: value})
    pattern = rf"'{re.escape(name)}' parameter of {type(estimator).__name__} must be"
    with pytest.raises(InvalidParameterError, match=pattern):
        model.fit(X, y, task_ids=t)
