"""The command line: `classify-export` (and scripts/export_sklearn.py, which calls `main`).

  classify-export --pipeline P.joblib -o mine.model [--verify TEXTS.txt] [--classify PATH]
  classify-export --vectorizer V.pickle --classifier C.pickle -o mine.model [--verify TEXTS.txt]
  classify-export --pipeline P.joblib --labels MLB.pickle -o mine.model   (multi-label)

-o names the model file: a name ending in .json gets the JSON form (readable), any other name
the binary form, as `classify convert` writes it (loads about ten times faster); --format json
or --format binary decides regardless of the name.

--pipeline reads a pickle, a joblib file or a .skops file holding a Pipeline (or a search CV of
one). The two-pickle form is what the classic Bottle/mod_wsgi recipe saves with pickle.dump.
--labels names a multi-label model's indicator columns (OneVsRestClassifier or
MultiOutputClassifier fitted on an indicator matrix): the fitted MultiLabelBinarizer that made the
training target (pickle, joblib or .skops, or a pickled list of labels), or a .txt file with one
label per line in column order; without it the labels are the column numbers 0, 1, ...
--verify TEXTS.txt predicts every line (one text per line) with sklearn and with
`classify predict --scores` and compares labels, scores and probabilities (a regressor's
number).

Exit status: 0 ok, 1 verification found a difference, 2 usage error or unsupported model. A user
error is one message line, never a traceback.
"""

import argparse
import os
import sys

from .base import Unsupported, VerifyFailed
from .regressors import KINDS as REGRESSION_KINDS


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        # argparse exits with 2 too; keep its usage line and our prefix.
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {message}\n")


def main(argv=None, prog=None):
    parser = _Parser(
        prog=prog,
        description=(
            "Export a fitted sklearn text classifier or regressor to a mod_classify model file "
            "(binary, or JSON for a name ending in .json)."
        ),
    )
    parser.add_argument("--vectorizer", help="pickled CountVectorizer/TfidfVectorizer/HashingVectorizer")
    parser.add_argument(
        "--classifier",
        help="pickled classifier or regressor (LinearSVC, LogisticRegression, Ridge, ...)",
    )
    parser.add_argument(
        "--pipeline",
        help="pickled, joblib or .skops Pipeline (vectorizer, steps, classifier or regressor)",
    )
    parser.add_argument(
        "--labels",
        metavar="FILE",
        help="a multi-label model's label names: the pickled/joblib MultiLabelBinarizer that made "
        "the training target, or a .txt file with one label per line in column order",
    )
    parser.add_argument(
        "-o",
        "--output",
        required=True,
        help="model file to write: NAME.json for the JSON form, any other name (mine.model) for "
        "the binary form",
    )
    parser.add_argument(
        "--format",
        choices=("json", "binary"),
        help="the form to write, whatever the output's name says",
    )
    parser.add_argument("--verify", metavar="TEXTS", help="file with one text per line to re-predict and compare")
    parser.add_argument("--classify", metavar="PATH", help="the classify binary used by --verify")
    args = parser.parse_args(argv)
    prog = parser.prog

    try:
        return _run(args)
    except Unsupported as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        return 2
    except VerifyFailed as e:
        print(f"{prog}: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _run(args):
    if args.pipeline and (args.vectorizer or args.classifier):
        raise Unsupported("give either --pipeline or --vectorizer with --classifier, not both")
    if not args.pipeline and not (args.vectorizer and args.classifier):
        raise Unsupported("give --pipeline P, or both --vectorizer V and --classifier C")
    _import_sklearn()
    from . import loading, model, verify, walk

    if args.pipeline:
        estimator = loading.load(args.pipeline, "--pipeline")
        sequence = walk.flatten(estimator)
        shape = estimator
        source = {"pipeline": os.path.basename(args.pipeline)}
        files = [args.pipeline]
    else:
        vectorizer = loading.load(args.vectorizer, "--vectorizer")
        classifier = loading.load(args.classifier, "--classifier")
        if _has_text_front(classifier):
            raise Unsupported(
                "--classifier holds a Pipeline with its own vectorizer; pass it with --pipeline "
                "instead"
            )
        sequence = walk.flatten(vectorizer, "vectorizer") + walk.flatten(classifier, "classifier")
        shape = None
        source = {
            "vectorizer": os.path.basename(args.vectorizer),
            "classifier": os.path.basename(args.classifier),
        }
        files = [args.vectorizer, args.classifier]
    labels = None
    if args.labels:
        labels = _read_labels(args.labels)
        source["labels"] = os.path.basename(args.labels)
    try:
        plan = walk.build(sequence, labels)
    except Unsupported as e:
        raise Unsupported(_with_version_hint(str(e), files)) from None
    pipeline = walk.structure(shape) if shape is not None else ", ".join(
        walk.structure(est) for _, est in sequence
    )
    built = model.assemble(plan, sequence, pipeline, source)
    form = args.format or model.form_for(args.output)
    model.write_model(built, args.output, form)
    final = built["classifier"]
    if final["kind"] in REGRESSION_KINDS:
        answers = "regression (one number per text)"
    elif final["kind"] == "multi_label":
        answers = f"multi-label, {len(final['classes'])} labels"
    else:
        answers = f"{len(final['classes'])} classes"
    print(
        f"wrote {args.output}: {form} form, format {built['format_version']}, {final['estimator']}, "
        f"{answers}, {model.n_features(built)} features",
        file=sys.stderr,
    )
    if args.verify:
        verify.verify(plan, args.output, args.verify, args.classify)
    return 0


def _read_labels(path):
    """The label names --labels gives: a .txt file's lines (UTF-8, one label per line), else the
    MultiLabelBinarizer or list of labels stored in a pickle, joblib or .skops file."""
    from . import loading
    from .wrappers import label_names

    what = f"--labels {path}"
    if not path.endswith(".txt"):
        return label_names(loading.load(path, "--labels"), what)
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise Unsupported(f"--labels: cannot read {path}: {e.strerror or e}")
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()  # the empty string after the final newline is not a line
    names = []
    for number, line in enumerate(lines, start=1):
        if line.endswith(b"\r"):
            line = line[:-1]
        try:
            name = line.decode("utf-8")
        except UnicodeDecodeError as e:
            raise Unsupported(f"{what}: line {number} is not UTF-8 ({e.reason} at byte {e.start})")
        if not name.strip():
            raise Unsupported(
                f"{what}: line {number} is empty; write one label per line, no blank lines"
            )
        names.append(name)
    return label_names(names, what)


def _import_sklearn():
    try:
        import numpy  # noqa: F401
        import scipy  # noqa: F401
        import sklearn  # noqa: F401
    except ImportError as e:
        raise Unsupported(
            f"cannot import scikit-learn/numpy/scipy ({e}); run the exporter with the Python that "
            "fitted the model (pip install <repo>/python into that environment; on Debian: "
            "/usr/bin/python3 with python3-sklearn)"
        )


def _has_text_front(estimator):
    from .registry import role_of
    from .walk import flatten

    try:
        sequence = flatten(estimator, "classifier")
    except Unsupported:
        return False
    return len(sequence) > 1 and any(role_of(e) in ("vectorizer", "union") for _, e in sequence)


def _with_version_hint(message, files):
    """A model that looks unfitted or odd may come from another sklearn: say so."""
    import sklearn

    from . import compat, loading

    if "not fitted" not in message and "has no" not in message:
        return message
    for path in files:
        written = loading.scan_versions(path)["sklearn"]
        if written and compat.version_tuple(written) != compat.version_tuple(sklearn.__version__):
            return (
                f"{message} ({path} was written by scikit-learn {written}, this Python has "
                f"{sklearn.__version__}; {loading.WHAT_TO_DO})"
            )
    return message


if __name__ == "__main__":
    sys.exit(main())
