#!/usr/bin/python3
"""Export a fitted scikit-learn text classifier to a mod_classify model file (JSON, format v1).

Usage:
  export_sklearn.py --vectorizer V.pickle --classifier C.pickle -o model.json [--verify TEXTS.txt]
  export_sklearn.py --pipeline P.pickle -o model.json [--verify TEXTS.txt]

The two-pickle form is what the classic Bottle/mod_wsgi recipe saves with pickle.dump; a pipeline
is a sklearn Pipeline of [vectorizer, optional TfidfTransformer, classifier] saved with pickle or
joblib. The schema written is the one of crates/classify-core/src/model/format.rs.

Only settings that mod_classify reproduces exactly are exported; anything else is refused with exit
status 2 and a message naming the option, so a model never silently predicts differently.

--verify TEXTS.txt predicts every line of TEXTS.txt (one text per line) with sklearn and with
`classify predict --model OUT TEXTS.txt` and compares the labels; any difference exits with status 1.

Exit status: 0 ok, 1 verification found a difference, 2 usage error or unsupported model.

Runs with Debian's /usr/bin/python3 (python3-sklearn); needs only sklearn, numpy and joblib.
"""

import argparse
import codecs
import datetime
import json
import os
import pickle
import platform
import subprocess
import sys
import unicodedata

EXPORTER_NAME = "scripts/export_sklearn.py"
EXPORTER_VERSION = 1
FORMAT_NAME = "mod_classify-model"
FORMAT_VERSION = 1

# The token patterns that TokenRule::from_pattern (crates/classify-core/src/featurize/analyzer.rs)
# reproduces exactly; each may also carry a leading "(?u)".
SUPPORTED_TOKEN_PATTERN_BODIES = (
    r"\b\w\w+\b",
    r"\b\w+\b",
    r"\w+",
    r"\b\w\w\w+\b",
    r"\S+",
    r"[^\s]+",
)


class Unsupported(Exception):
    """The model uses something mod_classify cannot reproduce exactly (exit status 2)."""


class VerifyFailed(Exception):
    """--verify found predictions that differ (exit status 1)."""


def _import_sklearn():
    try:
        import numpy  # noqa: F401
        import sklearn  # noqa: F401
    except ImportError as e:  # pragma: no cover - depends on the interpreter
        raise Unsupported(
            f"cannot import scikit-learn/numpy ({e}); run this script with the Python that "
            "trained the model (on Debian: /usr/bin/python3 with python3-sklearn installed)"
        )


# ----------------------------------------------------------------------------------------------
# Loading


def load_object(path, what):
    """pickle.load, falling back to joblib.load (joblib files with compression or memmaps)."""
    try:
        with open(path, "rb") as f:
            try:
                return pickle.load(f)
            except Exception as pickle_error:  # noqa: BLE001 - any failure: try joblib
                first_error = pickle_error
    except OSError as e:
        raise Unsupported(f"{what}: cannot read {path}: {e.strerror or e}")
    if isinstance(first_error, AttributeError) and "Can't get attribute" in str(first_error):
        raise Unsupported(
            f"{what}: {path} refers to a function or class defined in the training script itself "
            f"({first_error}); such custom Python code (a tokenizer, preprocessor or analyzer) "
            "cannot be exported: retrain with the built-in options (token_pattern, "
            "strip_accents, lowercase, ...)"
        )
    try:
        import joblib

        return joblib.load(path)
    except Exception as e:  # noqa: BLE001
        raise Unsupported(
            f"{what}: {path} is neither a pickle ({first_error!r}) nor a joblib file ({e!r})"
        )


def split_pipeline(pipeline):
    """Pipeline → (vectorizer, tfidf transformer or None, classifier)."""
    from sklearn.feature_extraction.text import TfidfTransformer
    from sklearn.pipeline import Pipeline

    if not isinstance(pipeline, Pipeline):
        raise Unsupported(
            f"--pipeline: expected a sklearn Pipeline, found {type(pipeline).__name__}; "
            "for a separately pickled vectorizer and classifier use --vectorizer and --classifier"
        )
    steps = [(name, step) for name, step in pipeline.steps if step not in (None, "passthrough")]
    names = [f"{name}={type(step).__name__}" for name, step in steps]
    if len(steps) == 2:
        return steps[0][1], None, steps[1][1]
    if len(steps) == 3 and type(steps[1][1]) is TfidfTransformer:
        return steps[0][1], steps[1][1], steps[2][1]
    raise Unsupported(
        f"--pipeline: steps {names} are not supported; mod_classify reads "
        "[vectorizer, classifier] or [vectorizer, TfidfTransformer, classifier]"
    )


# ----------------------------------------------------------------------------------------------
# Vectorizer


def _token_pattern_supported(pattern):
    body = pattern[4:] if pattern.startswith("(?u)") else pattern
    return body in SUPPORTED_TOKEN_PATTERN_BODIES


def _finite_list(values, field):
    import numpy as np

    array = np.asarray(values, dtype=np.float64)
    bad = np.flatnonzero(~np.isfinite(array.ravel()))
    if bad.size:
        position = np.unravel_index(bad[0], array.shape)
        index = "".join(f"[{i}]" for i in position)
        raise Unsupported(
            f"{field}{index} is {array[position]!r}: the model holds a non-finite number; "
            "retrain it (check the training data for empty classes or the regularization)"
        )
    return array.tolist()


def export_vectorizer(vec, label="vectorizer"):
    """Returns (vectorizer spec, tfidf spec or None, n_features)."""
    import numpy as np
    from sklearn.feature_extraction.text import (
        CountVectorizer,
        HashingVectorizer,
        TfidfVectorizer,
    )

    kind_name = type(vec).__name__
    if type(vec) not in (CountVectorizer, TfidfVectorizer, HashingVectorizer):
        raise Unsupported(
            f"{label}: {type(vec).__module__}.{kind_name} is not supported; mod_classify reads "
            "sklearn's CountVectorizer, TfidfVectorizer and HashingVectorizer (subclasses may "
            "change behaviour and are refused too)"
        )

    def refuse(option, value, why):
        raise Unsupported(f"{label}: {kind_name}({option}={value!r}) is not supported: {why}")

    if vec.input != "content":
        refuse("input", vec.input, "only input='content' (the text itself) is served")
    try:
        encoding = codecs.lookup(vec.encoding).name
    except (LookupError, TypeError):
        encoding = vec.encoding
    if encoding != "utf-8":
        refuse("encoding", vec.encoding, "mod_classify decodes text as UTF-8 only")
    if vec.decode_error != "strict":
        refuse("decode_error", vec.decode_error, "only the default 'strict' is reproduced")
    if vec.preprocessor is not None:
        refuse("preprocessor", vec.preprocessor, "custom Python code cannot be exported")
    if vec.tokenizer is not None:
        refuse("tokenizer", vec.tokenizer, "custom Python code cannot be exported")
    if callable(vec.analyzer) or vec.analyzer not in ("word", "char", "char_wb"):
        refuse(
            "analyzer",
            vec.analyzer,
            "use 'word', 'char' or 'char_wb' (custom Python code cannot be exported)",
        )
    if vec.strip_accents not in (None, "ascii", "unicode"):
        refuse("strip_accents", vec.strip_accents, "use None, 'ascii' or 'unicode'")
    dtype = np.dtype(vec.dtype)
    if not (dtype == np.float64 or np.issubdtype(dtype, np.integer)):
        refuse(
            "dtype",
            vec.dtype,
            "features are computed in float64 by mod_classify; another float type changes the "
            "decision values (refit with the default dtype)",
        )
    min_n, max_n = (int(n) for n in vec.ngram_range)
    if not 1 <= min_n <= max_n:
        refuse("ngram_range", vec.ngram_range, "needs 1 <= min_n <= max_n")

    spec = {
        "kind": "hashing" if type(vec) is HashingVectorizer else "count",
        "analyzer": vec.analyzer,
        "ngram_range": [min_n, max_n],
        "lowercase": bool(vec.lowercase),
        "strip_accents": vec.strip_accents,
        "token_pattern": None,
        "stop_words": None,
        "binary": bool(vec.binary),
        # sklearn's analyzers classify, lowercase and decompose characters with this Python's
        # Unicode database; the core hides the characters its newer tables add.
        "unicode_version": unicodedata.unidata_version,
    }
    if vec.analyzer == "word":
        pattern = vec.token_pattern
        if not isinstance(pattern, str) or not _token_pattern_supported(pattern):
            refuse(
                "token_pattern",
                pattern,
                "mod_classify reproduces exactly only "
                + ", ".join(repr(p) for p in SUPPORTED_TOKEN_PATTERN_BODIES)
                + " (each optionally prefixed by '(?u)')",
            )
        spec["token_pattern"] = pattern
        try:
            stop = vec.get_stop_words()
        except ValueError as e:
            refuse("stop_words", vec.stop_words, str(e))
        if stop is not None:
            if not all(isinstance(w, str) for w in stop):
                refuse("stop_words", vec.stop_words, "every stop word must be a string")
            spec["stop_words"] = sorted(stop)

    tfidf = None
    if type(vec) is HashingVectorizer:
        spec["n_features"] = int(vec.n_features)
        spec["alternate_sign"] = bool(vec.alternate_sign)
        spec["norm"] = _norm(vec.norm, label, kind_name)
        n_features = int(vec.n_features)
    else:
        vocabulary = getattr(vec, "vocabulary_", None)
        if vocabulary is None:
            raise Unsupported(f"{label}: {kind_name} is not fitted (it has no vocabulary_)")
        terms = [None] * len(vocabulary)
        for term, index in vocabulary.items():
            index = int(index)
            if not 0 <= index < len(terms) or terms[index] is not None:
                raise Unsupported(
                    f"{label}: vocabulary_ maps {term!r} to {index}, which is not a distinct "
                    f"index in 0..{len(terms) - 1}"
                )
            terms[index] = term
        spec["vocabulary"] = terms
        n_features = len(terms)
        if type(vec) is TfidfVectorizer:
            tfidf = export_tfidf(vec, label, n_features)
    return spec, tfidf, n_features


def _norm(norm, label, kind_name):
    if norm not in (None, "l1", "l2"):
        raise Unsupported(f"{label}: {kind_name}(norm={norm!r}) is not supported: use 'l1', 'l2' or None")
    return norm


def export_tfidf(transformer, label, n_features):
    kind_name = type(transformer).__name__
    spec = {
        "norm": _norm(transformer.norm, label, kind_name),
        "use_idf": bool(transformer.use_idf),
        "smooth_idf": bool(transformer.smooth_idf),
        "sublinear_tf": bool(transformer.sublinear_tf),
        "idf": None,
    }
    if transformer.use_idf:
        try:
            idf = transformer.idf_
        except AttributeError:
            raise Unsupported(f"{label}: {kind_name} is not fitted (it has no idf_)")
        if len(idf) != n_features:
            raise Unsupported(
                f"{label}: {kind_name}.idf_ has {len(idf)} values but the vectorizer has "
                f"{n_features} features; the two were not fitted together"
            )
        spec["idf"] = _finite_list(idf, "tfidf.idf")
    return spec


# ----------------------------------------------------------------------------------------------
# Classifier


def export_labels(classes, label="classifier"):
    import numpy as np

    classes = np.asarray(classes)
    if classes.dtype.kind in "iu":
        return [int(c) for c in classes]
    if classes.dtype.kind in "US":
        if classes.dtype.kind == "S":
            raise Unsupported(
                f"{label}: classes_ are bytes ({classes.dtype}); retrain with str labels"
            )
        return [str(c) for c in classes]
    if classes.dtype.kind == "O":
        if all(isinstance(c, str) for c in classes):
            return [str(c) for c in classes]
        if all(isinstance(c, (int, np.integer)) and not isinstance(c, (bool, np.bool_)) for c in classes):
            return [int(c) for c in classes]
    kinds = sorted({type(c).__name__ for c in classes.tolist()})
    raise Unsupported(
        f"{label}: classes_ have dtype {classes.dtype} ({', '.join(kinds)}; e.g. {classes[:3].tolist()!r}); "
        "mod_classify labels are strings or integers: retrain with str or int labels"
    )


def _logistic_probability(clf):
    """sklearn 1.2's LogisticRegression.predict_proba: one-vs-rest sigmoid or softmax."""
    ovr = clf.multi_class in ("ovr", "warn") or (
        clf.multi_class == "auto"
        and (len(clf.classes_) <= 2 or clf.solver in ("liblinear", "newton-cholesky"))
    )
    return "ovr_sigmoid" if ovr else "softmax"


def export_classifier(clf, n_features, label="classifier"):
    import numpy as np
    from scipy import sparse
    from sklearn.linear_model import (
        LogisticRegression,
        PassiveAggressiveClassifier,
        Perceptron,
        RidgeClassifier,
        SGDClassifier,
    )
    from sklearn.naive_bayes import ComplementNB, MultinomialNB
    from sklearn.svm import SVC, LinearSVC, NuSVC

    kind = type(clf)
    name = kind.__name__
    if kind in (SVC, NuSVC):
        return export_svc(clf, n_features, label)
    supported = (
        LinearSVC,
        LogisticRegression,
        SGDClassifier,
        RidgeClassifier,
        Perceptron,
        PassiveAggressiveClassifier,
        MultinomialNB,
        ComplementNB,
    )
    if kind not in supported:
        raise Unsupported(
            f"{label}: {kind.__module__}.{name} is not supported; mod_classify reads "
            + ", ".join(k.__name__ for k in supported + (SVC, NuSVC))
        )
    if not hasattr(clf, "classes_"):
        raise Unsupported(f"{label}: {name} is not fitted (it has no classes_)")
    classes = export_labels(clf.classes_, label)
    if len(classes) < 2:
        raise Unsupported(f"{label}: {name} was fitted on {len(classes)} class; at least 2 are needed")

    probability = None
    if kind in (MultinomialNB, ComplementNB):
        coef = clf.feature_log_prob_
        if kind is MultinomialNB:
            intercept = clf.class_log_prior_
        else:  # ComplementNB._joint_log_likelihood adds the prior only for a single class
            intercept = np.zeros(len(classes))
        probability = "softmax"
    else:
        coef = clf.coef_
        if sparse.issparse(coef):
            coef = coef.toarray()
        intercept = np.broadcast_to(np.atleast_1d(np.asarray(clf.intercept_, dtype=np.float64)), (coef.shape[0],))
        if kind is LogisticRegression:
            probability = _logistic_probability(clf)
        elif kind is SGDClassifier:
            if clf.loss in ("log_loss", "log"):
                probability = "ovr_sigmoid"
            elif clf.loss == "modified_huber":
                raise Unsupported(
                    f"{label}: SGDClassifier(loss='modified_huber') is not supported yet: its "
                    "predict_proba (clipped decision values) is not in model format v1; "
                    "retrain with loss='log_loss' or 'hinge'"
                )
    coef = np.asarray(coef)
    if coef.dtype != np.float64:
        raise Unsupported(
            f"{label}: {name} weights are {coef.dtype}; mod_classify computes in float64 and "
            "the decision values would differ: refit on float64 features"
        )
    if coef.ndim != 2 or coef.shape[1] != n_features:
        raise Unsupported(
            f"{label}: {name} has weights of shape {coef.shape} but the vectorizer produces "
            f"{n_features} features; the vectorizer and classifier were not fitted together"
        )
    return {
        "kind": "linear",
        "estimator": name,
        "classes": classes,
        "coef": _finite_list(coef, "classifier.coef"),
        "intercept": _finite_list(intercept, "classifier.intercept"),
        "probability": probability,
    }


SVC_KERNELS = ("linear", "poly", "rbf", "sigmoid")


def export_svc(clf, n_features, label="classifier"):
    """SVC / NuSVC: support vectors (CSR), dual coefficients, one intercept per pair of classes.

    The arrays are sklearn's public attributes (dual_coef_ and intercept_ negated by sklearn for
    two classes); gamma is the fitted _gamma ('scale'/'auto' resolved). With probability=True,
    probA_/probB_ are exported too and mod_classify computes predict_proba as libsvm does.
    """
    import numpy as np
    from scipy import sparse

    name = type(clf).__name__
    kernel = clf.kernel
    if callable(kernel):
        raise Unsupported(
            f"{label}: {name}(kernel={getattr(kernel, '__name__', kernel)!r}) is not supported: a "
            "callable kernel is custom Python code that cannot be exported; use kernel="
            + ", ".join(repr(k) for k in SVC_KERNELS)
        )
    if kernel not in SVC_KERNELS:
        raise Unsupported(
            f"{label}: {name}(kernel={kernel!r}) is not supported: a precomputed kernel needs the "
            "training documents at prediction time; use kernel="
            + ", ".join(repr(k) for k in SVC_KERNELS)
        )
    if not hasattr(clf, "support_vectors_"):
        raise Unsupported(f"{label}: {name} is not fitted (it has no support_vectors_)")
    classes = export_labels(clf.classes_, label)
    n_classes = len(classes)
    if n_classes < 2:
        raise Unsupported(f"{label}: {name} was fitted on {n_classes} class; at least 2 are needed")
    if clf.decision_function_shape not in ("ovr", "ovo"):
        raise Unsupported(
            f"{label}: {name}(decision_function_shape={clf.decision_function_shape!r}) is not "
            "supported: use 'ovr' or 'ovo'"
        )
    if clf.break_ties and clf.decision_function_shape == "ovo":
        raise Unsupported(f"{label}: {name}(break_ties=True) with decision_function_shape='ovo' cannot predict")

    sv = clf.support_vectors_
    if sv.shape[1] != n_features:
        raise Unsupported(
            f"{label}: {name} has support vectors of {sv.shape[1]} features but the vectorizer "
            f"produces {n_features}; the vectorizer and classifier were not fitted together"
        )
    if sparse.issparse(sv):
        sv = sparse.csr_matrix(sv)
        if not sv.has_sorted_indices:
            raise Unsupported(
                f"{label}: {name}.support_vectors_ has unsorted column indices; libsvm's sparse "
                "kernels depend on the stored order: refit on a matrix with sorted indices "
                "(X.sort_indices())"
            )
    else:
        # Fitted on a dense matrix (e.g. vectorizer.transform(texts).toarray()): libsvm's dense
        # kernels sum the same products in the same column order; zeros add nothing.
        sv = sparse.csr_matrix(np.asarray(sv))
    if sv.dtype != np.float64:
        raise Unsupported(f"{label}: {name}.support_vectors_ are {sv.dtype}; refit on float64 features")
    n_sv = sv.shape[0]
    n_support = [int(n) for n in clf.n_support_]
    if len(n_support) != n_classes or sum(n_support) != n_sv:
        raise Unsupported(
            f"{label}: {name}.n_support_ {n_support} does not match {n_sv} support vectors of "
            f"{n_classes} classes"
        )
    dual_coef = clf.dual_coef_
    dual_coef = dual_coef.toarray() if sparse.issparse(dual_coef) else np.asarray(dual_coef)
    if dual_coef.shape != (n_classes - 1, n_sv):
        raise Unsupported(f"{label}: {name}.dual_coef_ has shape {dual_coef.shape}, expected {(n_classes - 1, n_sv)}")
    spec = {
        "kind": "svc",
        "estimator": name,
        "classes": classes,
        "kernel": kernel,
        "gamma": float(clf._gamma),
        "coef0": float(clf.coef0),
        "degree": int(clf.degree),
        "decision_function_shape": clf.decision_function_shape,
        "break_ties": bool(clf.break_ties),
        "n_support": n_support,
        "support_vectors": {
            "indptr": [int(i) for i in sv.indptr],
            "indices": [int(i) for i in sv.indices],
            "data": _finite_list(sv.data, "classifier.support_vectors.data"),
        },
        "dual_coef": _finite_list(dual_coef, "classifier.dual_coef"),
        "intercept": _finite_list(np.atleast_1d(clf.intercept_), "classifier.intercept"),
        "prob_a": None,
        "prob_b": None,
    }
    for field in ("gamma", "coef0"):
        _finite_list([spec[field]], f"classifier.{field}")
    if clf.probability and np.size(clf.probA_) and np.size(clf.probB_):
        spec["prob_a"] = _finite_list(clf.probA_, "classifier.prob_a")
        spec["prob_b"] = _finite_list(clf.probB_, "classifier.prob_b")
    return spec


def n_features_of(model):
    vectorizer = model["vectorizer"]
    if vectorizer.get("vocabulary") is not None:
        return len(vectorizer["vocabulary"])
    return vectorizer.get("n_features")


# ----------------------------------------------------------------------------------------------
# Whole model


def export_model(vectorizer, transformer, classifier, source=None):
    """Returns the model file as a dict (json.dump it with allow_nan=False)."""
    _import_sklearn()
    import sklearn

    vec_spec, tfidf, n_features = export_vectorizer(vectorizer)
    if transformer is not None:
        if tfidf is not None:
            raise Unsupported(
                "pipeline: a TfidfVectorizer followed by a TfidfTransformer weights twice; "
                "mod_classify reads one tf-idf stage"
            )
        tfidf = export_tfidf(transformer, "pipeline TfidfTransformer", n_features)
    metadata = {
        "exporter": EXPORTER_NAME,
        "exporter_version": EXPORTER_VERSION,
        "sklearn_version": sklearn.__version__,
        "python_version": platform.python_version(),
        "python_unicode_version": unicodedata.unidata_version,
        "vectorizer_class": type(vectorizer).__name__,
        "classifier_class": type(classifier).__name__,
        "exported_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }
    if transformer is not None:
        metadata["tfidf_class"] = type(transformer).__name__
    if source:
        metadata["source"] = source
    model = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "metadata": metadata,
        "vectorizer": vec_spec,
    }
    if tfidf is not None:
        model["tfidf"] = tfidf
    model["classifier"] = export_classifier(classifier, n_features)
    return model


def write_model(model, path):
    text = json.dumps(model, allow_nan=False, ensure_ascii=False, separators=(",", ":"))
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.write("\n")
    os.replace(tmp, path)


# ----------------------------------------------------------------------------------------------
# Verification


def sklearn_predict(vectorizer, transformer, classifier, texts):
    X = vectorizer.transform(texts)
    if transformer is not None:
        X = transformer.transform(X)
    if getattr(classifier, "_sparse", True) is False:
        X = X.toarray()  # an SVC fitted on a dense matrix refuses sparse input
    return [str(label) for label in classifier.predict(X)]


def find_classify(explicit):
    if explicit:
        return explicit
    if os.environ.get("CLASSIFY_BIN"):
        return os.environ["CLASSIFY_BIN"]
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    for profile in ("release", "debug"):
        candidate = os.path.join(root, "target", profile, "classify")
        if os.access(candidate, os.X_OK):
            return candidate
    raise Unsupported(
        "--verify: cannot find the `classify` binary; build it (cargo build --release -p "
        "classify-cli), or name it with --classify PATH or the CLASSIFY_BIN environment variable"
    )


def read_texts(path):
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise Unsupported(f"--verify: cannot read {path}: {e.strerror or e}")
    texts = []
    for number, line in enumerate(data.split(b"\n"), start=1):
        if line.endswith(b"\r"):
            line = line[:-1]
        try:
            texts.append(line.decode("utf-8"))
        except UnicodeDecodeError as e:
            raise Unsupported(f"--verify: {path} line {number} is not UTF-8 ({e.reason} at byte {e.start})")
    if data.endswith(b"\n") or not data:
        texts.pop()  # the empty string after the final newline is not a line
    return texts


def verify(vectorizer, transformer, classifier, model_path, texts_path, classify_bin, out=sys.stdout):
    texts = read_texts(texts_path)
    expected = sklearn_predict(vectorizer, transformer, classifier, texts) if texts else []
    binary = find_classify(classify_bin)
    command = [binary, "predict", "--model", model_path, texts_path]
    try:
        result = subprocess.run(command, capture_output=True, check=False)
    except OSError as e:
        raise Unsupported(f"--verify: cannot run {binary}: {e.strerror or e}")
    if result.returncode != 0:
        raise VerifyFailed(
            f"`{' '.join(command)}` failed with status {result.returncode}:\n"
            + result.stderr.decode("utf-8", "replace")
        )
    got = result.stdout.decode("utf-8", "replace").split("\n")
    if got and got[-1] == "":
        got.pop()
    differences = [
        (i, texts[i], e, g) for i, (e, g) in enumerate(zip(expected, got)) if e != g
    ]
    if len(got) != len(expected):
        print(
            f"classify printed {len(got)} labels for {len(expected)} texts",
            file=out,
        )
    if differences or len(got) != len(expected):
        for i, text, e, g in differences[:10]:
            shown = text if len(text) <= 120 else text[:117] + "..."
            print(f"line {i + 1}: {shown!r}: sklearn {e!r}, classify {g!r}", file=out)
        if len(differences) > 10:
            print(f"... and {len(differences) - 10} more", file=out)
        raise VerifyFailed(
            f"verification failed: {len(differences)} of {len(expected)} texts predicted differently"
        )
    print(f"verified {len(texts)} texts: identical", file=out)


# ----------------------------------------------------------------------------------------------


def main(argv=None):
    parser = argparse.ArgumentParser(
        description="Export a fitted sklearn text classifier to a mod_classify model (JSON v1).",
    )
    parser.add_argument("--vectorizer", help="pickled CountVectorizer/TfidfVectorizer/HashingVectorizer")
    parser.add_argument("--classifier", help="pickled classifier (LinearSVC, LogisticRegression, ...)")
    parser.add_argument("--pipeline", help="pickled or joblib Pipeline [vectorizer, (TfidfTransformer), classifier]")
    parser.add_argument("-o", "--output", required=True, help="model file to write")
    parser.add_argument("--verify", metavar="TEXTS", help="file with one text per line to re-predict and compare")
    parser.add_argument("--classify", metavar="PATH", help="the classify binary used by --verify")
    args = parser.parse_args(argv)

    try:
        if args.pipeline and (args.vectorizer or args.classifier):
            raise Unsupported("give either --pipeline or --vectorizer with --classifier, not both")
        _import_sklearn()
        if args.pipeline:
            vectorizer, transformer, classifier = split_pipeline(load_object(args.pipeline, "--pipeline"))
            source = {"pipeline": os.path.basename(args.pipeline)}
        elif args.vectorizer and args.classifier:
            vectorizer = load_object(args.vectorizer, "--vectorizer")
            classifier = load_object(args.classifier, "--classifier")
            from sklearn.pipeline import Pipeline

            if isinstance(classifier, Pipeline):
                raise Unsupported("--classifier holds a Pipeline; pass it with --pipeline instead")
            transformer = None
            source = {
                "vectorizer": os.path.basename(args.vectorizer),
                "classifier": os.path.basename(args.classifier),
            }
        else:
            raise Unsupported("give --pipeline P, or both --vectorizer V and --classifier C")
        model = export_model(vectorizer, transformer, classifier, source)
        try:
            write_model(model, args.output)
        except UnicodeEncodeError as e:
            raise Unsupported(f"the model holds text that is not valid Unicode ({e.reason}): {e.object[e.start:e.end]!r}")
        except OSError as e:
            raise Unsupported(f"-o: cannot write {args.output}: {e.strerror or e}")
        print(
            f"wrote {args.output}: {model['classifier']['estimator']}, "
            f"{len(model['classifier']['classes'])} classes, "
            f"{n_features_of(model)} features",
            file=sys.stderr,
        )
        if args.verify:
            verify(vectorizer, transformer, classifier, args.output, args.verify, args.classify)
    except Unsupported as e:
        print(f"export_sklearn.py: error: {e}", file=sys.stderr)
        return 2
    except VerifyFailed as e:
        print(f"export_sklearn.py: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
