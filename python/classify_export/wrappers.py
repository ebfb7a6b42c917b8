"""Wrapper converters: estimators that hold other estimators.

- unwrap: the search CVs (GridSearchCV, RandomizedSearchCV, HalvingGridSearchCV,
  HalvingRandomSearchCV) stand for their `best_estimator_`, FrozenEstimator for its `estimator`.
- classifier: CalibratedClassifierCV (`calibrated`), OneVsRestClassifier (`one_vs_rest`),
  OneVsOneClassifier (`one_vs_one`) and VotingClassifier (`voting`), whose members are converted
  with walk.convert_member: a classifier, or a Pipeline of steps and a classifier (`pipeline`).

Members keep the classes their sklearn objects have (sklearn fits one-vs-rest and one-vs-one
members on 0/1 targets and voting members on label-encoded targets), so each member predicts as it
does in sklearn. A wrapper's `response` says what sklearn asks its members for: their
decision_function when they have one, else predict_proba.
"""

from . import compat
from .base import export_labels, finite_list
from .classifiers import Classified
from .registry import register


def _best_estimator(search, ctx):
    name = type(search).__name__
    if not getattr(search, "refit", True):
        ctx.refuse(
            f"{name}(refit=False) kept no best_estimator_ to export; fit it with refit=True (the "
            "default), or export the estimator you chose from cv_results_ yourself"
        )
    if not hasattr(search, "best_estimator_"):
        ctx.refuse(f"{name} is not fitted (it has no best_estimator_)")
    return search.best_estimator_


for _module, _name, _setup in (
    ("sklearn.model_selection", "GridSearchCV", None),
    ("sklearn.model_selection", "RandomizedSearchCV", None),
    # The halving searches live in a private module; importing the experimental enabler first
    # makes them importable from sklearn.model_selection as users do.
    ("sklearn.model_selection", "HalvingGridSearchCV", "sklearn.experimental.enable_halving_search_cv"),
    ("sklearn.model_selection", "HalvingRandomSearchCV", "sklearn.experimental.enable_halving_search_cv"),
):
    register("unwrap", _module, _name, setup=_setup)(_best_estimator)


@register("unwrap", "sklearn.frozen", "FrozenEstimator")
def frozen(estimator, ctx):
    return estimator.estimator


def response_of(member):
    """What sklearn's wrappers call on a member: its decision_function if it has one."""
    return "decision_function" if hasattr(member, "decision_function") else "predict_proba"


def _members(clf, ctx, members, role):
    from .walk import convert_member

    specs = []
    for index, member in enumerate(members):
        where = f"{ctx.where} {role} {index} ({type(member).__name__})"
        specs.append(convert_member(member, ctx.child(where)))
    return specs


def _member_classes(spec, expected, ctx, index):
    if spec["classes"] != expected:
        ctx.refuse(
            f"member {index} has classes {spec['classes']!r}, expected {expected!r}; it was not "
            "fitted by this wrapper"
        )


@register("classifier", "sklearn.calibration", "CalibratedClassifierCV")
def calibrated(clf, ctx):
    import numpy as np

    method = clf.method
    if method not in ("sigmoid", "isotonic"):
        ctx.refuse(
            f"CalibratedClassifierCV(method={method!r}) is not supported: mod_classify reproduces "
            "'sigmoid' and 'isotonic'"
        )
    if not hasattr(clf, "calibrated_classifiers_"):
        ctx.refuse("CalibratedClassifierCV is not fitted (it has no calibrated_classifiers_)")
    classes = export_labels(clf.classes_, ctx.where)
    n_classes = len(classes)
    sorted_classes = np.asarray(clf.classes_)
    members = []
    for index, entry in enumerate(clf.calibrated_classifiers_):
        estimator, calibrators = compat.calibrated_member(entry)
        if estimator is None or calibrators is None:
            ctx.refuse(f"calibrated_classifiers_[{index}] has no estimator or calibrators")
        where = f"{ctx.where} member {index} ({type(estimator).__name__})"
        spec = _convert_one(estimator, ctx.child(where))
        member_classes = np.asarray(estimator.classes_)
        if len(member_classes) != n_classes:
            ctx.refuse(
                f"member {index} was fitted on {len(member_classes)} of the {n_classes} classes "
                "(a cross-validation fold lacked a class); refit with more examples per class or "
                "fewer folds"
            )
        # sklearn maps the member's classes to the wrapper's with a LabelEncoder (sorted classes).
        positions = [int(i) for i in np.searchsorted(sorted_classes, member_classes)]
        if n_classes == 2:
            # One calibrator, on the member's positive column, gives class 1; class 0 gets 1 - p.
            positions = [positions[0] + 1]
        expected_calibrators = 1 if n_classes == 2 else n_classes
        if len(calibrators) != expected_calibrators:
            ctx.refuse(
                f"member {index} has {len(calibrators)} calibrators, expected {expected_calibrators}"
            )
        members.append(
            {
                "classifier": spec,
                "response": response_of(estimator),
                "class_indices": positions,
                "calibrators": [
                    _calibrator(c, method, ctx, f"member {index} calibrator {k}")
                    for k, c in enumerate(calibrators)
                ],
            }
        )
    return Classified(
        {
            "kind": "calibrated",
            "estimator": "CalibratedClassifierCV",
            "classes": classes,
            "method": method,
            "members": members,
        },
        [],
    )


def _calibrator(calibrator, method, ctx, what):
    import numpy as np

    kind = type(calibrator).__name__
    if method == "sigmoid":
        if kind != "_SigmoidCalibration":
            ctx.refuse(f"{what} is a {kind}, expected sklearn's _SigmoidCalibration")
        a, b = finite_list([float(calibrator.a_), float(calibrator.b_)], f"{ctx.where} {what}")
        return {"a": a, "b": b}
    if kind != "IsotonicRegression":
        ctx.refuse(f"{what} is a {kind}, expected sklearn's IsotonicRegression")
    if calibrator.out_of_bounds != "clip":
        ctx.refuse(f"{what}: IsotonicRegression(out_of_bounds={calibrator.out_of_bounds!r}) is not supported")
    x = np.asarray(calibrator.X_thresholds_, dtype=np.float64)
    y = np.asarray(calibrator.y_thresholds_, dtype=np.float64)
    if x.ndim != 1 or x.shape != y.shape or len(x) == 0:
        ctx.refuse(f"{what}: X_thresholds_/y_thresholds_ have shapes {x.shape}, {y.shape}")
    if len(x) > 1 and not (np.diff(x) > 0).all():
        ctx.refuse(f"{what}: X_thresholds_ are not strictly increasing")
    return {"x": finite_list(x, f"{ctx.where} {what}.x"), "y": finite_list(y, f"{ctx.where} {what}.y")}


def _convert_one(member, ctx):
    from .walk import convert_member

    return convert_member(member, ctx)


@register("classifier", "sklearn.multiclass", "OneVsRestClassifier")
def one_vs_rest(clf, ctx):
    if not hasattr(clf, "estimators_"):
        ctx.refuse("OneVsRestClassifier is not fitted (it has no estimators_)")
    if getattr(clf.label_binarizer_, "y_type_", "multiclass") not in ("multiclass", "binary"):
        ctx.refuse(
            "OneVsRestClassifier was fitted for multilabel targets; mod_classify predicts one "
            "label per text"
        )
    classes = export_labels(clf.classes_, ctx.where)
    for index, member in enumerate(clf.estimators_):
        if type(member).__name__ == "_ConstantPredictor":
            ctx.refuse(
                f"member {index} is a _ConstantPredictor (its class was always or never present in "
                "the training data); refit on data where every class occurs and is not alone"
            )
    expected = 1 if len(classes) == 2 else len(classes)
    if len(clf.estimators_) != expected:
        ctx.refuse(f"has {len(clf.estimators_)} members for {len(classes)} classes")
    specs, response = _binary_members(clf, ctx)
    return Classified(
        {
            "kind": "one_vs_rest",
            "estimator": "OneVsRestClassifier",
            "classes": classes,
            "response": response,
            "ties": compat.ovr_ties(),
            "estimators": specs,
        },
        [],
    )


def _binary_members(clf, ctx):
    """The members of a one-vs-rest or one-vs-one wrapper, each fitted on classes 0 and 1, and
    what the wrapper reads from them (they must all have a decision_function, or none)."""
    specs = _members(clf, ctx, clf.estimators_, "member")
    for index, spec in enumerate(specs):
        _member_classes(spec, [0, 1], ctx, index)
    responses = {response_of(m) for m in clf.estimators_}
    if len(responses) != 1:
        ctx.refuse("members differ in having a decision_function; they must be of one kind")
    return specs, responses.pop()


@register("classifier", "sklearn.multiclass", "OneVsOneClassifier")
def one_vs_one(clf, ctx):
    if not hasattr(clf, "estimators_"):
        ctx.refuse("OneVsOneClassifier is not fitted (it has no estimators_)")
    if getattr(clf, "pairwise_indices_", None) is not None:
        ctx.refuse("OneVsOneClassifier of a pairwise (precomputed kernel) estimator is not supported")
    classes = export_labels(clf.classes_, ctx.where)
    n = len(classes)
    if len(clf.estimators_) != n * (n - 1) // 2:
        ctx.refuse(f"has {len(clf.estimators_)} members for {n} classes, expected {n * (n - 1) // 2}")
    specs, response = _binary_members(clf, ctx)
    return Classified(
        {
            "kind": "one_vs_one",
            "estimator": "OneVsOneClassifier",
            "classes": classes,
            "response": response,
            "estimators": specs,
        },
        [],
    )


@register("classifier", "sklearn.ensemble", "VotingClassifier")
def voting(clf, ctx):
    if not hasattr(clf, "estimators_"):
        ctx.refuse("VotingClassifier is not fitted (it has no estimators_)")
    if clf.voting not in ("hard", "soft"):
        ctx.refuse(f"VotingClassifier(voting={clf.voting!r}) is not supported")
    classes = export_labels(clf.classes_, ctx.where)
    # Weights of the members that were not dropped, as sklearn's _weights_not_none.
    weights = None
    if clf.weights is not None:
        weights = [
            float(w) for (_, est), w in zip(clf.estimators, clf.weights) if not _dropped(est)
        ]
        if len(weights) != len(clf.estimators_):
            ctx.refuse(f"has {len(weights)} weights for {len(clf.estimators_)} members")
        weights = finite_list(weights, f"{ctx.where}.weights")
    names = [name for name, est in clf.estimators if not _dropped(est)]
    specs = []
    from .walk import convert_member

    for name, member in zip(names, clf.estimators_):
        where = f"{ctx.where} member {name!r} ({type(member).__name__})"
        specs.append(convert_member(member, ctx.child(where)))
    expected = list(range(len(classes)))
    for index, spec in enumerate(specs):
        _member_classes(spec, expected, ctx, index)
    if clf.voting == "soft":
        for name, member in zip(names, clf.estimators_):
            if not hasattr(member, "predict_proba"):
                ctx.refuse(f"soft voting member {name!r} has no predict_proba")
    return Classified(
        {
            "kind": "voting",
            "estimator": "VotingClassifier",
            "classes": classes,
            "voting": clf.voting,
            "weights": weights,
            "estimators": specs,
        },
        [],
    )


def _dropped(estimator):
    return isinstance(estimator, str) and estimator == "drop"
