"""Verification: predict texts with sklearn and with `classify predict --scores` on the exported
model, and compare labels (exactly, as str), scores and probabilities (relative tolerance 1e-9:
|a - b| <= 1e-9 * max(1, |a|, |b|)); for a regressor (`linear_regression`, `tree_regression`),
the number sklearn's predict answers with the `value` classify prints, at the same tolerance; for
a multi-label model (`multi_label`), the set of labels sklearn's predict sets (as str, in column
order) with the `labels` classify prints, each label's member score and class-1 probability.

Scores are what docs/model-format-v2.md defines for each classifier kind: sklearn's
decision_function, the joint log-likelihood for naive Bayes, predict_proba for calibrated,
soft-voting and tree models, the negated distances of a NearestCentroid without a decision
function, the members' predict_proba[:, 1] for a one-vs-rest model whose members have no decision
function, the weighted vote counts of hard voting, and per label of a multi-label model its
member's decision value (or predict_proba[:, 1] when members have no decision function).
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile

from .base import Unsupported, VerifyFailed
from .regressors import KINDS as REGRESSION_KINDS

TOLERANCE = 1e-9
NAIVE_BAYES = ("MultinomialNB", "ComplementNB", "BernoulliNB")
SHOWN = 10


def read_texts(path):
    """One text per line (UTF-8; a trailing \\r is dropped, as classify does)."""
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
            raise Unsupported(
                f"--verify: {path} line {number} is not UTF-8 ({e.reason} at byte {e.start})"
            )
    if data.endswith(b"\n") or not data:
        texts.pop()  # the empty string after the final newline is not a line
    return texts


def find_classify(explicit=None):
    if explicit:
        return explicit
    if os.environ.get("CLASSIFY_BIN"):
        return os.environ["CLASSIFY_BIN"]
    # A checkout: python/classify_export/verify.py -> the repository's target/ directory.
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    for profile in ("release", "debug"):
        candidate = os.path.join(root, "target", profile, "classify")
        if os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which("classify")
    if found:
        return found
    raise Unsupported(
        "--verify: cannot find the `classify` binary; build it (cargo build --release -p "
        "classify-cli), or name it with --classify PATH or the CLASSIFY_BIN environment variable"
    )


def verify_texts(plan, model_path, texts, classify_bin=None, out=None):
    """Verifies a list of str (written to a temporary file, one per line)."""
    for index, text in enumerate(texts):
        if not isinstance(text, str):
            raise Unsupported(f"verify_texts[{index}] is a {type(text).__name__}, not a str")
        if "\n" in text or text.endswith("\r"):
            raise Unsupported(
                f"verify_texts[{index}] holds a line break; classify reads one text per line"
            )
    with tempfile.NamedTemporaryFile("w", encoding="utf-8", suffix=".txt", delete=False) as f:
        f.write("".join(t + "\n" for t in texts))
        path = f.name
    try:
        verify(plan, model_path, path, classify_bin, out, texts=texts)
    finally:
        os.unlink(path)


def verify(plan, model_path, texts_path, classify_bin=None, out=None, texts=None):
    out = out or sys.stdout
    if texts is None:
        texts = read_texts(texts_path)
    expected = sklearn_predictions(plan, texts) if texts else []
    got = classify_predictions(find_classify(classify_bin), model_path, texts_path)
    differences = []
    if len(got) != len(expected):
        print(f"classify printed {len(got)} predictions for {len(expected)} texts", file=out)
    if is_regression(plan):
        fields = ("value",)
    elif is_multilabel(plan):
        fields = ("labels", "scores", "probabilities")
    else:
        fields = ("label", "scores", "probabilities")
    for line, (e, g) in enumerate(zip(expected, got), start=1):
        for field in fields:
            if not _same(e[field], g.get(field)):
                differences.append((line, texts[line - 1], field, e[field], g.get(field)))
    if differences or len(got) != len(expected):
        for line, text, field, e, g in differences[:SHOWN]:
            shown = text if len(text) <= 120 else text[:117] + "..."
            print(f"line {line}: {shown!r}: {field}: sklearn {e!r}, classify {g!r}", file=out)
        if len(differences) > SHOWN:
            print(f"... and {len(differences) - SHOWN} more", file=out)
        lines = len({d[0] for d in differences})
        raise VerifyFailed(
            f"verification failed: {lines} of {len(expected)} texts predicted differently"
        )
    print(f"verified {len(texts)} texts: identical", file=out)


def is_regression(plan):
    """Whether the model answers a number (its final estimator is a regressor)."""
    return plan.classifier["kind"] in REGRESSION_KINDS


def is_multilabel(plan):
    """Whether the model answers a set of labels per text (kind `multi_label`)."""
    return plan.classifier["kind"] == "multi_label"


def _number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _same(expected, got):
    if isinstance(expected, str):
        return got is not None and str(got) == expected
    if isinstance(expected, LabelSet):
        return isinstance(got, list) and [str(label) for label in got] == list(expected)
    if expected is None or got is None:
        return expected is None and got is None
    if isinstance(expected, float):
        return _number(got) and abs(expected - got) <= TOLERANCE * max(1.0, abs(expected), abs(got))
    if len(expected) != len(got):
        return False
    for a, b in zip(expected, got):
        if not _number(b):
            return False
        if abs(a - b) > TOLERANCE * max(1.0, abs(a), abs(b)):
            return False
    return True


def classify_predictions(binary, model_path, texts_path):
    command = [binary, "predict", "--model", model_path, "--scores", texts_path]
    try:
        result = subprocess.run(command, capture_output=True, check=False)
    except OSError as e:
        raise Unsupported(f"--verify: cannot run {binary}: {e.strerror or e}")
    if result.returncode != 0:
        raise VerifyFailed(
            f"`{' '.join(command)}` failed with status {result.returncode}:\n"
            + result.stderr.decode("utf-8", "replace")
        )
    predictions = []
    for number, line in enumerate(result.stdout.decode("utf-8", "replace").splitlines(), 1):
        try:
            answer = json.loads(line)
            if not isinstance(answer, dict):
                raise ValueError("not an object")
        except ValueError as e:
            raise VerifyFailed(f"classify printed line {number} that is not a JSON object ({e}): {line[:200]!r}")
        predictions.append(answer)
    return predictions


def sklearn_input(plan, texts):
    """What the model's first sklearn object was fitted on: the list of texts, or for a
    ColumnTransformer a 2-D table with the texts in its column and "" elsewhere."""
    import numpy as np

    if plan.column is None:
        return list(texts)
    selector, names, n_features = plan.column
    if names is not None:
        try:
            import pandas
        except ImportError:
            pandas = None
        if pandas is not None:
            return pandas.DataFrame(
                {name: (list(texts) if name == selector else [""] * len(texts)) for name in names}
            )
        if isinstance(selector, str):
            raise Unsupported(
                "--verify: the ColumnTransformer was fitted on a pandas DataFrame and selects the "
                f"column {selector!r} by name; install pandas (pip install pandas) to verify"
            )
    table = np.empty((len(texts), n_features), dtype=object)
    table[:] = ""
    table[:, int(selector)] = list(texts)
    return table


def sklearn_predictions(plan, texts):
    """[{"label", "scores", "probabilities"}] as sklearn computes them for each text; for a
    regressor [{"value"}], its predict."""
    import numpy as np
    from scipy import sparse

    X = sklearn_input(plan, texts)
    for transformer in plan.transforms:
        X = transformer.transform(X)
    clf = plan.final
    if getattr(clf, "_sparse", None) is False and sparse.issparse(X):
        X = X.toarray()  # an SVC fitted on a dense matrix refuses sparse input
    if is_regression(plan):
        values = np.asarray(clf.predict(X), dtype=np.float64)
        return [{"value": float(v)} for v in values.reshape(len(texts))]
    if is_multilabel(plan):
        return multilabel_predictions(clf, plan.classifier, X)
    labels = [str(label) for label in clf.predict(X)]
    scores = np.asarray(sklearn_scores(clf, plan.classifier, X), dtype=np.float64)
    if scores.ndim == 1:
        scores = scores[:, None]
    probabilities = None
    if hasattr(clf, "predict_proba"):
        probabilities = np.asarray(clf.predict_proba(X), dtype=np.float64).tolist()
    return [
        {
            "label": labels[i],
            "scores": scores[i].tolist(),
            "probabilities": None if probabilities is None else probabilities[i],
        }
        for i in range(len(labels))
    ]


class LabelSet(list):
    """The labels (str) sklearn's predict sets for one text, compared as a whole, in order."""


def multilabel_predictions(clf, spec, X):
    """[{"labels", "scores", "probabilities"}] of a OneVsRestClassifier or MultiOutputClassifier
    fitted on an indicator matrix: the columns its predict sets, named by the model's classes;
    per label, the member's score as sklearn's _predict_binary reads it (the wrapper's own
    decision_function for one-vs-rest) and the class-1 probability of its predict_proba."""
    import numpy as np
    from scipy import sparse

    names = [str(label) for label in spec["classes"]]
    indicator = clf.predict(X)
    indicator = np.asarray(indicator.toarray() if sparse.issparse(indicator) else indicator)
    n_texts = indicator.shape[0]
    if spec["response"] == "decision_function" and hasattr(clf, "decision_function"):
        scores = np.asarray(clf.decision_function(X), dtype=np.float64)
    else:
        columns = []
        for member in clf.estimators_:
            if spec["response"] == "decision_function":
                columns.append(np.ravel(member.decision_function(X)))
            else:
                columns.append(np.asarray(member.predict_proba(X))[:, 1])
        scores = np.column_stack(columns).astype(np.float64)
    probabilities = None
    if hasattr(clf, "predict_proba"):
        answered = clf.predict_proba(X)
        if isinstance(answered, list):  # MultiOutputClassifier: one (n, 2) array per output
            answered = np.column_stack([np.asarray(p)[:, 1] for p in answered])
        probabilities = np.asarray(answered, dtype=np.float64).reshape(n_texts, -1).tolist()
    scores = scores.reshape(n_texts, -1)
    return [
        {
            "labels": LabelSet(names[j] for j in np.flatnonzero(indicator[i])),
            "scores": scores[i].tolist(),
            "probabilities": None if probabilities is None else probabilities[i],
        }
        for i in range(n_texts)
    ]


def sklearn_scores(clf, spec, X):
    """The scores of docs/model-format-v2.md for the classifier object `spec` came from."""
    import numpy as np

    kind = spec["kind"]
    if kind == "linear" and spec["estimator"] in NAIVE_BAYES:
        if hasattr(clf, "predict_joint_log_proba"):
            return clf.predict_joint_log_proba(X)
        return clf._joint_log_likelihood(clf._check_X(X))
    if kind == "nearest_centroid" and spec["decision"] == "distances":
        from sklearn.metrics import pairwise_distances

        return -pairwise_distances(X, clf.centroids_, metric=clf.metric)
    if kind in ("calibrated", "trees", "k_neighbors") or (kind == "voting" and spec["voting"] == "soft"):
        return clf.predict_proba(X)
    if kind == "voting":
        votes = np.asarray(clf.transform(X))
        weights = spec["weights"]
        n_classes = len(spec["classes"])
        return np.array(
            [np.bincount(row, weights=weights, minlength=n_classes) for row in votes],
            dtype=np.float64,
        )
    if kind == "one_vs_rest" and spec["response"] == "predict_proba":
        columns = [member.predict_proba(X)[:, 1] for member in clf.estimators_]
        return np.column_stack(columns)
    return clf.decision_function(X)
