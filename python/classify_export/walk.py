"""Walking an estimator: Pipelines (any nesting, make_pipeline too) are flattened, containers that
stand for another estimator (GridSearchCV, FrozenEstimator) are replaced by it, and the resulting
sequence is read as

    front (a vectorizer, FeatureUnion or ColumnTransformer), steps..., classifier or regressor

with every element handed to its converter from the registry. FeatureUnion and ColumnTransformer
are converted here because their branches are small pipelines themselves. A wrapper's members go
through `convert_member`: steps and a classifier, never a vectorizer of their own, never a
regressor (a regressor is only ever the model's final estimator).

The result is a `Plan`: the model's parts, plus the sklearn objects in order, which verify.py uses
to compute what sklearn predicts.
"""

from collections import namedtuple

from . import classifiers, neighbors, regressors, steps, vectorizers, wrappers  # noqa: F401 - they fill the registry
from .base import Context, describe
from .registry import lookup, register, role_of, supported
from .vectorizers import tfidf_spec

# The text front: `parts` are the model's top-level fields (`vectorizer` and `tfidf`, or `union`),
# `steps` the steps a ColumnTransformer's single sub-pipeline adds, `width`/`dense` its output,
# `column` how to build a ColumnTransformer's 2-D input (None for plain text).
Front = namedtuple("Front", "parts steps width dense column")

# `Column`: the ColumnTransformer's selector (a column name or index) and the input it was fitted
# on: `feature_names_in_` (or None) and `n_features_in_`.
Column = namedtuple("Column", "selector names n_features")


class Plan:
    """A converted model and the sklearn objects it came from. `classifier` is the model's final
    estimator object (a classifier's, or a regressor's `linear_regression` or `tree_regression`)."""

    def __init__(self, parts, steps, classifier, width, transforms, final, column):
        self.parts = parts
        self.steps = steps
        self.classifier = classifier
        self.width = width
        self.transforms = transforms
        self.final = final
        self.column = column


def flatten(estimator, name=""):
    """[(name, estimator)]: nested Pipelines expanded (None and "passthrough" skipped), search CVs
    and FrozenEstimator replaced by the estimator they hold."""
    from sklearn.pipeline import Pipeline

    if estimator is None or (isinstance(estimator, str) and estimator == "passthrough"):
        return []
    if type(estimator) is Pipeline:
        sequence = []
        for step_name, step in estimator.steps:
            sequence += flatten(step, f"{name}__{step_name}" if name else step_name)
        return sequence
    unwrap = lookup(estimator, "unwrap")
    if unwrap is not None:
        return flatten(unwrap(estimator, Context(describe(name, estimator))), name)
    return [(name, estimator)]


def _unknown(name, estimator, expected):
    kind = type(estimator)
    what = {
        "front": "a vectorizer, FeatureUnion or ColumnTransformer",
        "step": "a transformer between the vectorizer and the classifier",
        "classifier": "a classifier or regressor",
    }[expected]
    roles = {
        "front": ("vectorizer", "union"),
        "step": ("step",),
        "classifier": ("classifier", "regressor"),
    }[expected]
    return Context(describe(name, estimator)).refuse(
        f"{kind.__module__}.{kind.__name__} is not supported as {what}; mod_classify reads "
        f"{supported(*roles)} (subclasses may change behaviour and are refused too)"
    )


def _is_tfidf_transformer(estimator):
    from sklearn.feature_extraction.text import TfidfTransformer

    return type(estimator) is TfidfTransformer


def build(sequence, labels=None):
    """The Plan of a flattened sequence [(name, estimator), ...]. `labels` names a multi-label
    model's indicator columns (a fitted MultiLabelBinarizer or a list, see
    wrappers.label_names); it is refused for any other model."""
    if labels is not None:
        labels = wrappers.label_names(labels)
    if not sequence:
        Context("pipeline").refuse("it holds no estimator")
    name, first = sequence[0]
    role = role_of(first)
    ctx = Context(describe(name, first))
    if role == "vectorizer":
        front = _vectorizer_front(first, ctx)
    elif role == "union":
        front = lookup(first, "union")(first, ctx)
    elif role in ("classifier", "regressor"):
        ctx.refuse(
            f"the model must start with a vectorizer (text to features), found a {role}; "
            f"export the Pipeline that holds the vectorizer and this {role}, or pass the "
            "vectorizer with --vectorizer"
        )
    else:
        _unknown(name, first, "front")
    parts, model_steps = dict(front.parts), list(front.steps)
    width, dense = front.width, front.dense
    rest = sequence[1:]
    if not rest:
        ctx.refuse("the model ends with the vectorizer; a classifier must follow it (or a regressor)")
    # A TfidfTransformer right after a plain vectorizer is version 1's top-level `tfidf`.
    if (
        "vectorizer" in parts
        and parts.get("tfidf") is None
        and not model_steps
        and _is_tfidf_transformer(rest[0][1])
        and len(rest) > 1
    ):
        step_name, step = rest[0]
        step_ctx = Context(describe(step_name, step), width, dense)
        step_ctx.check_width(step)
        parts["tfidf"] = tfidf_spec(step, step_ctx, width)
        rest = rest[1:]
    for step_name, step in rest[:-1]:
        converted = _step(step_name, step, Context(describe(step_name, step), width, dense))
        model_steps += converted.specs
        width, dense = converted.width, converted.dense
    last_name, last = rest[-1]
    last_ctx = Context(describe(last_name, last), width, dense, labels)
    classified = _classifier(last_name, last, last_ctx)
    if labels is not None and classified.spec["kind"] != "multi_label":
        last_ctx.refuse(
            "labels were given (labels= or --labels), but this model predicts one "
            f"{'number' if role_of(last) == 'regressor' else 'class'} per text, not a set of "
            "labels; leave them out (they name the indicator columns of a OneVsRestClassifier or "
            "MultiOutputClassifier fitted on a multi-label target)"
        )
    model_steps += classified.steps
    transforms = [estimator for _, estimator in sequence[:-1]]
    return Plan(parts, model_steps, classified.spec, width, transforms, last, front.column)


def _step(name, step, ctx):
    role = role_of(step)
    if role == "step":
        return lookup(step, "step")(step, ctx)
    if role == "classifier":
        ctx.refuse(
            "a classifier can only be the last step; mod_classify reads one classifier after the "
            "transformers (combine classifiers with VotingClassifier)"
        )
    if role == "regressor":
        ctx.refuse(
            "a regressor can only be the last step; mod_classify reads one regressor after the "
            "transformers (stacking regressors is not supported)"
        )
    if role in ("vectorizer", "union"):
        ctx.refuse(
            "a second text transformer after the first one; put vectorizers side by side in a "
            "FeatureUnion (or ColumnTransformer) at the start of the pipeline"
        )
    return _unknown(name, step, "step")


def _classifier(name, clf, ctx, member=False):
    """The final estimator: a classifier, or (at the top level only) a regressor."""
    role = role_of(clf)
    if role == "classifier":
        return lookup(clf, "classifier")(clf, ctx)
    if role == "regressor":
        if member:
            ctx.refuse(
                f"{type(clf).__name__} is a regressor; a classifier wrapper's member must be a "
                "classifier (mod_classify exports a regressor only as the model's final "
                "estimator, e.g. make_pipeline(TfidfVectorizer(), Ridge()))"
            )
        return lookup(clf, "regressor")(clf, ctx)
    if role == "step":
        ctx.refuse(
            "the model ends with a transformer; its last step must be a classifier or regressor"
        )
    return _unknown(name, clf, "classifier")


def convert_member(member, ctx):
    """A wrapper's member: a classifier, or steps and a classifier (kind `pipeline`)."""
    sequence = flatten(member)
    if not sequence:
        ctx.refuse("the member is empty")
    for name, estimator in sequence:
        if role_of(estimator) in ("vectorizer", "union"):
            ctx.refuse(
                f"the member has its own text transformer {type(estimator).__name__}; "
                "mod_classify runs one text front for the whole model: put the vectorizers in a "
                "FeatureUnion before one classifier (or wrapper), e.g. "
                "make_pipeline(TfidfVectorizer(), VotingClassifier([...]))"
            )
    width, dense = ctx.width, ctx.dense
    member_steps = []
    for name, step in sequence[:-1]:
        converted = _step(name, step, ctx.child(f"{ctx.where} {describe(name, step)}", width, dense))
        member_steps += converted.specs
        width, dense = converted.width, converted.dense
    name, last = sequence[-1]
    where = ctx.where if len(sequence) == 1 else f"{ctx.where} {describe(name, last)}"
    classified = _classifier(name, last, ctx.child(where, width, dense), member=True)
    if classified.spec["kind"] == "multi_label":
        # A wrapper combines its members' single classes; a set of labels has no place there.
        ctx.refuse(
            f"{type(last).__name__} was fitted on a multi-label (indicator) target; a multi-label "
            "classifier can only be the model's final estimator, not a wrapper's member"
        )
    member_steps += classified.steps
    if not member_steps:
        return classified.spec
    return {
        "kind": "pipeline",
        "estimator": type(member).__name__,
        "classes": classified.spec["classes"],
        "steps": member_steps,
        "classifier": classified.spec,
    }


def _vectorizer_front(vectorizer, ctx):
    vectorized = lookup(vectorizer, "vectorizer")(vectorizer, ctx)
    parts = {"vectorizer": vectorized.spec}
    if vectorized.tfidf is not None:
        parts["tfidf"] = vectorized.tfidf
    return Front(parts, [], vectorized.width, False, None)


def _branch(name, transformer, weight, ctx):
    """One FeatureUnion/ColumnTransformer transformer: a vectorizer or a Pipeline starting with one."""
    sequence = flatten(transformer, name)
    if not sequence:
        ctx.refuse(f"transformer {name!r} is empty")
    first_name, first = sequence[0]
    first_ctx = Context(f"{ctx.where} transformer {describe(first_name, first)}")
    if role_of(first) != "vectorizer":
        if role_of(first) == "union":
            first_ctx.refuse("a FeatureUnion or ColumnTransformer inside another is not supported")
        first_ctx.refuse(
            "each transformer of a FeatureUnion or ColumnTransformer must be a vectorizer, or a "
            f"Pipeline that starts with one ({supported('vectorizer')})"
        )
    vectorized = lookup(first, "vectorizer")(first, first_ctx)
    tfidf, width, dense = vectorized.tfidf, vectorized.width, False
    rest = sequence[1:]
    if rest and tfidf is None and _is_tfidf_transformer(rest[0][1]):
        step_name, step = rest[0]
        step_ctx = Context(f"{ctx.where} transformer {describe(step_name, step)}", width)
        step_ctx.check_width(step)
        tfidf = tfidf_spec(step, step_ctx, width)
        rest = rest[1:]
    branch_steps = []
    for step_name, step in rest:
        step_ctx = Context(f"{ctx.where} transformer {describe(step_name, step)}", width, dense)
        if role_of(step) in ("classifier", "regressor"):
            step_ctx.refuse(f"a {role_of(step)} inside a FeatureUnion or ColumnTransformer")
        converted = _step(step_name, step, step_ctx)
        branch_steps += converted.specs
        width, dense = converted.width, converted.dense
    if weight is None:
        weight = 1.0
    try:
        weight = float(weight)
    except (TypeError, ValueError):
        ctx.refuse(f"transformer_weights[{name!r}] = {weight!r} is not a number")
    branch = {
        "name": name,
        "weight": weight,
        "vectorizer": vectorized.spec,
        "tfidf": tfidf,
        "steps": branch_steps,
    }
    return branch, width, dense


@register("union", "sklearn.pipeline", "FeatureUnion")
def feature_union(union, ctx):
    weights = union.transformer_weights or {}
    branches, width, all_dense = [], 0, True
    for name, transformer in union.transformer_list:
        if transformer is None or (isinstance(transformer, str) and transformer == "drop"):
            continue
        if isinstance(transformer, str):
            ctx.refuse(
                f"transformer {name!r} is {transformer!r}: the text itself cannot be a feature; "
                "use a vectorizer"
            )
        branch, branch_width, dense = _branch(name, transformer, weights.get(name), ctx)
        branches.append(branch)
        width += branch_width
        all_dense = all_dense and dense
    if not branches:
        ctx.refuse("every transformer is dropped")
    # sklearn hstacks sparse when any branch is sparse, dense only when all are.
    return Front({"union": {"branches": branches}}, [], width, all_dense, None)


def _empty_selection(columns):
    import numpy as np

    if isinstance(columns, slice):
        return False
    if isinstance(columns, (str, int, np.integer)):
        return False
    try:
        array = np.asarray(columns)
    except Exception:  # noqa: BLE001
        return False
    return array.size == 0 or (array.dtype == bool and not array.any())


@register("union", "sklearn.compose", "ColumnTransformer")
def column_transformer(ct, ctx):
    import numpy as np

    if not hasattr(ct, "transformers_"):
        ctx.refuse("ColumnTransformer is not fitted (it has no transformers_)")
    entries = []
    for name, transformer, columns in ct.transformers_:
        if isinstance(transformer, str) and transformer == "drop":
            continue
        if _empty_selection(columns):
            continue
        if isinstance(transformer, str):
            ctx.refuse(
                f"transformer {name!r} passes columns {columns!r} through; mod_classify reads one "
                "text column: use remainder='drop' and vectorizers only"
            )
        if not isinstance(columns, (str, int, np.integer)) or isinstance(columns, bool):
            ctx.refuse(
                f"transformer {name!r} selects {columns!r}; mod_classify reads one text column, "
                "selected by a scalar name or index (e.g. 'text', not ['text'])"
            )
        entries.append((name, transformer, columns))
    if not entries:
        ctx.refuse("no transformer is left after dropping")
    selectors = {c if isinstance(c, str) else int(c) for _, _, c in entries}
    if len(selectors) > 1:
        ctx.refuse(
            f"the transformers read columns {sorted(selectors, key=str)!r}; mod_classify reads one "
            "text column: every transformer must select the same one"
        )
    selector = selectors.pop()
    names = getattr(ct, "feature_names_in_", None)
    column = Column(
        selector,
        [str(n) for n in names] if names is not None else None,
        int(getattr(ct, "n_features_in_", 1)),
    )
    weights = ct.transformer_weights or {}
    if len(entries) == 1 and float(weights.get(entries[0][0], 1.0)) == 1.0:
        # One transformer: a plain vectorizer with its sub-pipeline's steps (format 1 when none).
        name, transformer, _ = entries[0]
        branch, width, branch_dense = _branch(name, transformer, None, ctx)
        parts = {"vectorizer": branch["vectorizer"]}
        if branch["tfidf"] is not None:
            parts["tfidf"] = branch["tfidf"]
        return Front(parts, branch["steps"], width, branch_dense, column)
    branches, width, all_dense = [], 0, True
    for name, transformer, _ in entries:
        branch, branch_width, dense = _branch(name, transformer, weights.get(name), ctx)
        branches.append(branch)
        width += branch_width
        all_dense = all_dense and dense
    # sklearn may hand the next step a dense matrix (sparse_threshold) even when the branches are
    # sparse; the values are the same, and the model format calls such rows sparse, so a centering
    # step after them is refused rather than written for a reader that needs dense rows.
    return Front({"union": {"branches": branches}}, [], width, all_dense, column)


def structure(estimator):
    """The nested class names, e.g. "Pipeline(TfidfVectorizer, CalibratedClassifierCV(LinearSVC))"."""
    name = type(estimator).__name__
    children = None
    if hasattr(estimator, "steps") and isinstance(getattr(estimator, "steps"), list):
        children = [s for _, s in estimator.steps]
    elif hasattr(estimator, "transformer_list"):
        children = [t for _, t in estimator.transformer_list]
    elif hasattr(estimator, "transformers_") or hasattr(estimator, "transformers"):
        items = getattr(estimator, "transformers_", None) or estimator.transformers
        children = [t for _, t, _ in items]
    elif hasattr(estimator, "best_estimator_"):
        children = [estimator.best_estimator_]
    elif isinstance(getattr(estimator, "estimators", None), list):
        children = [e for _, e in estimator.estimators]
    elif hasattr(estimator, "estimator") and hasattr(estimator.estimator, "get_params"):
        children = [estimator.estimator]
    if children is None:
        return name
    if isinstance(estimator, str):
        return estimator
    shown = [c if isinstance(c, str) else structure(c) for c in children if c is not None]
    return f"{name}({', '.join(shown)})"
