"""Wrapper converters: estimators that hold other estimators.

- unwrap: the search CVs (GridSearchCV, RandomizedSearchCV, HalvingGridSearchCV,
  HalvingRandomSearchCV) stand for their `best_estimator_`, FrozenEstimator for its `estimator`.
- classifier: CalibratedClassifierCV (`calibrated`), OneVsRestClassifier (`one_vs_rest`),
  OneVsOneClassifier (`one_vs_one`) and VotingClassifier (`voting`), whose members are converted
  with walk.convert_member: a classifier, or a Pipeline of steps and a classifier (`pipeline`).
- multi-label: OneVsRestClassifier fitted on an indicator matrix and MultiOutputClassifier
  (`multi_label`): one binary member per indicator column, named by the wrapper's column
  numbers or by the labels the user gives (`label_names`: a MultiLabelBinarizer or a list).

Members keep the classes their sklearn objects have (sklearn fits one-vs-rest and one-vs-one
members on 0/1 targets and voting members on label-encoded targets), so each member predicts as it
does in sklearn. A wrapper's `response` says what sklearn asks its members for: their
decision_function when they have one, else predict_proba.
"""

from . import compat
from .base import Unsupported, export_labels, finite_list
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
    y_type = getattr(clf.label_binarizer_, "y_type_", "multiclass")
    if y_type == "multilabel-indicator":
        return _one_vs_rest_multilabel(clf, ctx)
    if y_type not in ("multiclass", "binary"):
        ctx.refuse(
            f"OneVsRestClassifier was fitted on a {y_type!r} target; mod_classify reads one "
            "class per text, or several labels per text from an indicator matrix"
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


# ----------------------------------------------------------------------------------------------
# Multi-label: one binary member per indicator column


def label_names(labels, what="labels"):
    """The names of a multi-label model's indicator columns, in column order, from what the user
    gives: a fitted MultiLabelBinarizer (its `classes_`) or a sequence of str or int labels."""
    import numpy as np
    from sklearn.preprocessing import MultiLabelBinarizer

    if type(labels) is MultiLabelBinarizer:
        if not hasattr(labels, "classes_"):
            raise Unsupported(
                f"{what}: the MultiLabelBinarizer is not fitted (it has no classes_); pass the one "
                "that made the training target (its fit_transform)"
            )
        values = labels.classes_
    elif isinstance(labels, (list, tuple, np.ndarray)):
        values = labels
    else:
        raise Unsupported(
            f"{what} is a {type(labels).__name__}; expected a fitted MultiLabelBinarizer or a "
            "list of the labels in indicator column order"
        )
    array = np.asarray(values, dtype=object)
    if array.ndim != 1 or len(array) == 0:
        raise Unsupported(f"{what}: expected a non-empty list of labels, got shape {array.shape}")
    names = export_labels(array, what)
    seen = set()
    for name in names:
        if name in seen:
            raise Unsupported(
                f"{what}: the label {name!r} occurs twice; each column needs its own label"
            )
        seen.add(name)
    return names


def _column_names(ctx, n_columns, what):
    """The labels of the model's indicator columns: the user's (ctx.labels), else the column
    numbers 0 .. n-1, which is what sklearn's predict answers columns for."""
    if ctx.labels is None:
        return list(range(n_columns))
    if len(ctx.labels) != n_columns:
        ctx.refuse(
            f"{len(ctx.labels)} labels were given (labels= or --labels) but the {what} was fitted "
            f"on an indicator matrix of {n_columns} columns; give the MultiLabelBinarizer that "
            "made its training target (or its labels, one per column, in column order)"
        )
    return list(ctx.labels)


def _one_vs_rest_multilabel(clf, ctx):
    """OneVsRestClassifier on an indicator matrix (`label_binarizer_.y_type_` is
    "multilabel-indicator"): sklearn's predict sets column k when _predict_binary(member k) is
    above _threshold_for_binary_predict(estimators_[0]) (both identical in sklearn 1.2.1 and
    1.9.1): the member's decision value above 0 when estimators_[0] is a classifier with a
    decision_function, else its predict_proba[:, 1] above 0.5."""
    from sklearn.base import is_classifier

    n_columns = len(clf.estimators_)
    if len(clf.classes_) != n_columns:
        ctx.refuse(f"has {n_columns} members for {len(clf.classes_)} indicator columns")
    names = _column_names(ctx, n_columns, "OneVsRestClassifier")
    for index, member in enumerate(clf.estimators_):
        if type(member).__name__ == "_ConstantPredictor":
            import numpy as np

            value = int(np.ravel(member.y_)[0])
            present = "every" if value == 1 else "no"
            missing = "without" if value == 1 else "with"
            ctx.refuse(
                f"label {names[index]!r} (indicator column {index}) is set for {present} "
                "training text, so OneVsRestClassifier fitted no classifier for it (a "
                f"_ConstantPredictor that always answers {value}); drop that column from the "
                "target (and its label from the MultiLabelBinarizer), or add training texts "
                f"{missing} that label, and refit"
            )
    specs, response = _binary_members(clf, ctx)
    first = clf.estimators_[0]
    # sklearn decides the threshold from the first member alone and applies it to every one.
    threshold = 0.0 if hasattr(first, "decision_function") and is_classifier(first) else 0.5
    _check_multilabel_predict(clf, ctx, response, threshold)
    return _multi_label("OneVsRestClassifier", names, response, threshold, specs)


@register("classifier", "sklearn.multioutput", "MultiOutputClassifier")
def multi_output(clf, ctx):
    """MultiOutputClassifier on an indicator matrix: predict is each member's own predict, one
    column per member (no threshold). It has no decision_function; each label's score is its
    member's decision value, or its predict_proba[:, 1] when members have no decision_function."""
    if not hasattr(clf, "estimators_"):
        ctx.refuse("MultiOutputClassifier is not fitted (it has no estimators_)")
    names = _column_names(ctx, len(clf.estimators_), "MultiOutputClassifier")
    for index, member in enumerate(clf.estimators_):
        _binary_output(member, index, names[index], ctx)
    specs, response = _binary_members(clf, ctx)
    _check_multilabel_predict(clf, ctx, response, None)
    return _multi_label("MultiOutputClassifier", names, response, None, specs)


def _multi_label(estimator, names, response, threshold, specs):
    """A `multi_label` classifier (docs/model-format-v2.md): one binary member per label."""
    return Classified(
        {
            "kind": "multi_label",
            "estimator": estimator,
            "classes": names,
            "response": response,
            "threshold": threshold,
            "estimators": specs,
        },
        [],
    )


def _binary_output(member, index, name, ctx):
    """Refuses a MultiOutputClassifier output whose member was not fitted on a 0/1 column: the
    model sets a label when the member predicts class 1 of the classes [0, 1]."""
    import numpy as np

    classes = np.asarray(getattr(member, "classes_", []))
    values = classes.tolist()
    integers = all(
        isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_)) for v in values
    )
    if classes.ndim == 1 and integers and values == [0, 1]:
        return
    where = f"output {index} (label {name!r}, {type(member).__name__})"
    if classes.ndim == 1 and len(values) == 1:
        ctx.refuse(
            f"{where} holds the single value {values[0]!r} for every training text, so its "
            "member can only answer that; a multi-label output must hold both 0 and 1: drop that "
            "column from the target (and its label from the MultiLabelBinarizer), or add "
            "training texts with and without that label, and refit"
        )
    if classes.ndim == 1 and len(values) > 2:
        ctx.refuse(
            f"{where} has {len(values)} classes {values[:6]!r}: a multiclass output; mod_classify "
            "exports a MultiOutputClassifier as a multi-label model, every output a 0/1 indicator "
            "column (MultiLabelBinarizer().fit_transform(label sets) makes them); export one "
            "model per multiclass output instead"
        )
    ctx.refuse(
        f"{where} has classes {values!r}, expected [0, 1]: a multi-label output is a 0/1 integer "
        "indicator column; refit on Y.astype(int) (MultiLabelBinarizer().fit_transform makes one)"
    )


def _binary_scores(member, X, response):
    """What the model reads from a member: its decision value or its predict_proba[:, 1]."""
    import numpy as np

    if response == "decision_function":
        return np.ravel(member.decision_function(X))
    return np.asarray(member.predict_proba(X))[:, 1]


def _check_multilabel_predict(clf, ctx, response, threshold):
    """Refuses the model unless the wrapper's own predict sets exactly the labels the format's
    rule sets on synthetic rows: a member's score above `threshold`, or (threshold None) its own
    predict answering class 1. The core computes that rule; a sklearn that decides otherwise is
    refused rather than exported wrong."""
    import numpy as np
    import sklearn
    from scipy import sparse

    from .classifiers import nonnegative_rows

    X = nonnegative_rows(ctx.width, n_rows=8)
    if ctx.dense:
        X = X.toarray()

    def compare(X):
        theirs = clf.predict(X)
        theirs = np.asarray(theirs.toarray() if sparse.issparse(theirs) else theirs) != 0
        if threshold is None:
            columns = [np.asarray(member.predict(X)) == 1 for member in clf.estimators_]
        else:
            columns = [
                _binary_scores(member, X, response) > threshold for member in clf.estimators_
            ]
        return theirs, np.column_stack(columns)

    try:
        try:
            theirs, ours = compare(X)
        except ValueError:
            if not sparse.issparse(X):
                raise
            # Members fitted on dense rows (an SVC after .toarray()) refuse sparse ones.
            theirs, ours = compare(X.toarray())
    except Exception as e:  # noqa: BLE001
        ctx.refuse(
            f"cannot check {type(clf).__name__}.predict on synthetic rows ({type(e).__name__}: {e})"
        )
    if theirs.shape != ours.shape or not (theirs == ours).all():
        rule = (
            "its member's own predict" if threshold is None else f"its member's score > {threshold}"
        )
        ctx.refuse(
            f"{type(clf).__name__}.predict of sklearn {sklearn.__version__} does not set each "
            f"label as {rule}, which the exporter writes; this sklearn version is not supported "
            "for this estimator (please report it)"
        )


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
