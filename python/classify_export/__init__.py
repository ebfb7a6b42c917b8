"""Export fitted scikit-learn text classifiers (and regressors) to mod_classify model files.

    import classify_export
    classify_export.export(pipeline, "mine.model", verify_texts=["some text", ...])  # binary
    classify_export.export(pipeline, "mine.model.json")   # JSON (a name ending in .json)
    model = classify_export.to_model(pipeline)     # the model as a dict
    model = classify_export.to_model(multi_label_pipeline, labels=mlb)  # a MultiLabelBinarizer

One converter per sklearn class, looked up in a table (registry.py): vectorizers
(vectorizers.py), the transformers between vectorizer and classifier (steps.py), classifiers
(classifiers.py), linear and tree regressors (regressors.py), nearest neighbours, classifier
and regressor (neighbors.py), and the estimators that hold others (wrappers.py); walk.py walks Pipelines, FeatureUnions and ColumnTransformers generically;
model.py assembles and writes the file; verify.py compares with sklearn through
`classify predict`; loading.py reads pickle, joblib and skops files; compat.py reads attributes
the way the running sklearn defines them. The format is docs/model-format.md (version 1) and
docs/model-format-v2.md.

Anything mod_classify cannot reproduce exactly raises `Unsupported` naming the step and what to
do; a verification that finds a difference raises `VerifyFailed`.
"""

from .base import Unsupported, VerifyFailed

__version__ = "2.0.0"
__all__ = ["export", "to_model", "write_model", "Unsupported", "VerifyFailed", "__version__"]


def to_model(estimator, source=None, *, labels=None):
    """The model file of a fitted Pipeline (or search CV of one) as a dict. For a multi-label
    model (OneVsRestClassifier or MultiOutputClassifier fitted on an indicator matrix), `labels`
    names its columns: the fitted MultiLabelBinarizer that made the target, or a list of labels
    in column order; without it the labels are the column numbers 0, 1, ..."""
    from .model import to_model as build

    return build(estimator, source, labels=labels)


def write_model(model, path, form=None):
    """Writes a model dict (to_model's) to `path`, in the binary form or, for a name ending in
    .json, the JSON form; `form` ("json" or "binary") decides regardless of the name."""
    from .model import write_model as write

    write(model, path, form)


def export(estimator, path, verify_texts=None, *, classify_bin=None, labels=None, form=None):
    """Writes the model of `estimator` to `path`: in the binary form (what `classify convert`
    writes, fastest to load), or JSON when `path` ends in .json; `form` ("json" or "binary")
    decides regardless of the name. With `verify_texts` (a list of str), checks that
    `classify predict` on the written file answers like sklearn (raises VerifyFailed if not).
    `labels` as for to_model. Returns the model dict."""
    from . import model, verify, walk

    sequence = walk.flatten(estimator)
    plan = walk.build(sequence, labels)
    built = model.assemble(plan, sequence, walk.structure(estimator))
    model.write_model(built, path, form)
    if verify_texts is not None:
        verify.verify_texts(plan, path, list(verify_texts), classify_bin)
    return built
