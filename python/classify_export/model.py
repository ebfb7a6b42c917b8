"""Assembling the model file: the converted parts with the metadata (which Python, sklearn and
numpy exported it, and the estimator's structure), the format version (1 when only version-1
fields are used, so older servers keep reading it, else 2), and the atomic write.
"""

import datetime
import json
import os
import platform
import unicodedata

from .base import Unsupported
from .walk import build, flatten, structure

FORMAT_NAME = "mod_classify-model"
EXPORTER_NAME = "mod-classify-export"
EXPORTER_VERSION = "2.0.0"

# The classifier kinds and linear probabilities of format version 1.
_V1_KINDS = ("linear", "svc")
_V1_PROBABILITIES = (None, "ovr_sigmoid", "softmax")


def to_model(estimator, source=None, *, labels=None):
    """The model dict of a fitted Pipeline (or search CV of one); `labels` names a multi-label
    model's indicator columns (a fitted MultiLabelBinarizer or a list)."""
    return from_sequence(flatten(estimator), estimator, source, labels=labels)


def from_sequence(sequence, estimator_for_structure, source=None, plan=None, *, labels=None):
    plan = plan or build(sequence, labels)
    return assemble(plan, sequence, structure(estimator_for_structure), source)


def assemble(plan, sequence, pipeline_structure, source=None):
    import numpy
    import sklearn

    first = sequence[0][1]
    metadata = {
        "exporter": EXPORTER_NAME,
        "exporter_version": EXPORTER_VERSION,
        "sklearn_version": sklearn.__version__,
        "numpy_version": numpy.__version__,
        "python_version": platform.python_version(),
        "python_unicode_version": unicodedata.unidata_version,
        "vectorizer_class": type(first).__name__,
        "classifier_class": type(plan.final).__name__,
        "pipeline": pipeline_structure,
        "exported_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }
    if len(sequence) > 2 and "vectorizer" in plan.parts and plan.parts.get("tfidf") is not None:
        second = sequence[1][1]
        if type(second).__name__ == "TfidfTransformer":
            metadata["tfidf_class"] = "TfidfTransformer"
    if source:
        metadata["source"] = source
    model = {"format": FORMAT_NAME, "format_version": 1, "metadata": metadata}
    model.update(plan.parts)
    if plan.steps:
        model["steps"] = plan.steps
    model["classifier"] = plan.classifier
    model["format_version"] = 2 if needs_version_2(model) else 1
    return model


def needs_version_2(model):
    """Whether the model uses any field of format version 2."""
    if "union" in model or model.get("steps"):
        return True
    return _classifier_needs_2(model["classifier"])


def _classifier_needs_2(spec):
    if spec["kind"] not in _V1_KINDS:
        return True
    return spec["kind"] == "linear" and spec.get("probability") not in _V1_PROBABILITIES


def n_features(model):
    """The width of the text front, for the summary line."""
    if "union" in model:
        return sum(_branch_width(b["vectorizer"]) for b in model["union"]["branches"])
    return _branch_width(model["vectorizer"])


def _branch_width(vectorizer):
    if vectorizer.get("vocabulary") is not None:
        return len(vectorizer["vocabulary"])
    return vectorizer.get("n_features")


FORMS = ("json", "binary")


def form_for(path):
    """The form a file name asks for: JSON for a name ending in .json, else binary."""
    return "json" if str(path).lower().endswith(".json") else "binary"


def write_model(model, path, form=None):
    """Writes the model atomically (a temporary file renamed over `path`), in the JSON or the
    binary form (`form`; by default from the name: .json is JSON, anything else binary). The
    binary form is what `classify convert` writes: it loads ten times faster."""
    form = form or form_for(path)
    if form not in FORMS:
        raise Unsupported(f"unknown model form {form!r} (expected one of {', '.join(FORMS)})")
    try:
        if form == "binary":
            from .binary import to_binary

            try:
                data = to_binary(model)
            except UnicodeEncodeError:
                raise
            except ValueError as e:
                raise Unsupported(f"cannot write {path} in the binary form: {e}")
        else:
            text = json.dumps(model, allow_nan=False, ensure_ascii=False, separators=(",", ":"))
            data = (text + "\n").encode("utf-8")
    except UnicodeEncodeError as e:
        raise Unsupported(
            f"the model holds text that is not valid Unicode ({e.reason}): "
            f"{e.object[e.start:e.end]!r}"
        )
    write_atomically(path, data)


def write_atomically(path, data):
    """Writes `data` to a temporary file next to `path`, then renames it over `path`."""
    tmp = f"{path}.tmp{os.getpid()}"
    try:
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except OSError as e:
        _remove(tmp)
        raise Unsupported(f"cannot write {path}: {e.strerror or e}")


def _remove(path):
    try:
        os.unlink(path)
    except OSError:
        pass
