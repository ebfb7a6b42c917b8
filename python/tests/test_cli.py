"""The command line, scripts/export_sklearn.py, on the models of `make_golden.py --refused`
(conftest.py's `models`), run as a user runs it, by the Python running pytest:

- models it must refuse exit with status 2, a message naming the option at fault, and no file;
- usage errors exit with status 2;
- a supported Pipeline (joblib) and a two-pickle vectorizer + classifier export, linear and
  kernel SVMs, and a regressor (Ridge);
- --verify passes against a `classify` that answers like sklearn and fails (status 1) against
  one that does not, and passes with the real `classify` binary (conftest.py's `classify_bin`).
"""

import json
import os
import shlex
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXPORT = [sys.executable, os.path.join(ROOT, "scripts", "export_sklearn.py")]

# The supported models of make_golden.py --refused, as export_sklearn.py's source arguments.
SOURCES = {
    "pipeline": ["--pipeline", "good.pipeline.joblib"],
    "pickles": ["--vectorizer", "good.vectorizer.pickle", "--classifier", "good.classifier.pickle"],
    "svc": ["--pipeline", "good_svc.pipeline.joblib"],
    "nusvc_dense": ["--vectorizer", "good_nusvc_dense.vectorizer.pickle",
                    "--classifier", "good_nusvc_dense.classifier.pickle"],
    "ridge": ["--pipeline", "good_ridge.pipeline.joblib"],
}


def export(*args):
    """Runs export_sklearn.py; returns (exit status, stdout and stderr interleaved)."""
    result = subprocess.run(EXPORT + list(args), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return result.returncode, result.stdout


def source(models, form):
    return [arg if arg.startswith("--") else os.path.join(models, arg) for arg in SOURCES[form]]


# ----------------------------------------------------------------------------------------------
# Refusals and usage errors


def test_refused(models, tmp_path, refusal):
    name, needle = refusal
    out = tmp_path / f"{name}.model.json"
    status, output = export("--vectorizer", os.path.join(models, f"{name}.vectorizer.pickle"),
                            "--classifier", os.path.join(models, f"{name}.classifier.pickle"), "-o", str(out))
    assert status == 2, f"exit status {status}, expected 2:\n{output}"
    assert needle in output, f"the message does not name {needle!r}:\n{output}"
    assert "Traceback" not in output, output
    assert not out.exists(), "refused, but still wrote a model file"


def test_missing_classifier_is_a_usage_error(models, tmp_path):
    status, output = export("--vectorizer", os.path.join(models, "good.vectorizer.pickle"),
                            "-o", str(tmp_path / "x.json"))
    assert status == 2, f"exit status {status}, expected 2:\n{output}"
    assert "--classifier" in output, output
    assert not (tmp_path / "x.json").exists()


def test_unreadable_pipeline_is_named(tmp_path):
    missing = tmp_path / "does-not-exist"
    status, output = export("--pipeline", str(missing), "-o", str(tmp_path / "x.json"))
    assert status == 2, f"exit status {status}, expected 2:\n{output}"
    assert "cannot read" in output and str(missing) in output, output
    assert "Traceback" not in output, output


# ----------------------------------------------------------------------------------------------
# Supported exports


@pytest.mark.parametrize("form", ["pipeline", "pickles"])
def test_linear_export(models, tmp_path, form):
    out = tmp_path / "model.json"
    status, output = export(*source(models, form), "-o", str(out))
    assert status == 0, output
    model = json.loads(out.read_text(encoding="utf-8"))
    assert model["format"] == "mod_classify-model" and model["format_version"] == 1, model.get("format")
    assert model["metadata"]["sklearn_version"]
    assert model["metadata"]["classifier_class"] == "LinearSVC"
    assert model["classifier"]["kind"] == "linear"
    assert model["classifier"]["classes"] == ["games", "science"]
    # The pipeline has a TfidfTransformer after its CountVectorizer; the two pickles do not.
    assert ("tfidf" in model) == (form == "pipeline")


@pytest.mark.parametrize("form, estimator", [("svc", "SVC"), ("nusvc_dense", "NuSVC")])
def test_kernel_svm_export(models, tmp_path, form, estimator):
    """An SVC pipeline (sparse fit, probability=True, ovo) and an NuSVC fitted on a dense matrix."""
    out = tmp_path / "model.json"
    status, output = export(*source(models, form), "-o", str(out))
    assert status == 0, output
    c = json.loads(out.read_text(encoding="utf-8"))["classifier"]
    assert (c["kind"], c["estimator"]) == ("svc", estimator)
    assert c["classes"] == ["games", "science"]
    assert len(c["dual_coef"]) == 1 and len(c["intercept"]) == 1
    assert len(c["support_vectors"]["indptr"]) == sum(c["n_support"]) + 1
    assert (c["prob_a"] is not None) == (estimator == "SVC")
    assert isinstance(c["gamma"], float)


def test_regressor_export(models, tmp_path):
    """A Ridge pipeline: kind linear_regression, no classes, and the summary line says so."""
    out = tmp_path / "model.json"
    status, output = export(*source(models, "ridge"), "-o", str(out))
    assert status == 0, output
    assert "Ridge, regression (one number per text)" in output and "classes" not in output, output
    model = json.loads(out.read_text(encoding="utf-8"))
    assert model["format_version"] == 2 and model["metadata"]["classifier_class"] == "Ridge"
    c = model["classifier"]
    assert (c["kind"], c["estimator"]) == ("linear_regression", "Ridge") and "classes" not in c
    assert len(c["coef"]) == len(model["vectorizer"]["vocabulary"]) and isinstance(c["intercept"], float)


# ----------------------------------------------------------------------------------------------
# --verify


@pytest.fixture(scope="module")
def stand_ins(models, tmp_path_factory):
    """Two stand-in `classify` binaries printing `classify predict --scores` JSON lines for the
    good pipeline and texts.txt (label and scores; LinearSVC has no probabilities): "good" prints
    sklearn's answers, "wrong" the same with the label of line 4 changed."""
    import joblib

    pipe = joblib.load(os.path.join(models, "good.pipeline.joblib"))
    with open(os.path.join(models, "texts.txt"), encoding="utf-8") as f:
        texts = [line[:-1] for line in f]
    labels = [str(label) for label in pipe.predict(texts)]
    scores = [[float(s)] for s in pipe.decision_function(texts)]
    wrong = list(labels)
    wrong[3] = "games" if wrong[3] != "games" else "science"
    directory = tmp_path_factory.mktemp("stand-ins")
    binaries = {}
    for name, answers in (("good", labels), ("wrong", wrong)):
        lines = directory / f"{name}.jsonl"
        lines.write_text("".join(json.dumps({"label": label, "scores": score}) + "\n"
                                 for label, score in zip(answers, scores)), encoding="utf-8")
        binary = directory / f"classify-{name}"
        binary.write_text(f"#!/bin/sh\ncat {shlex.quote(str(lines))}\n")
        binary.chmod(0o755)
        binaries[name] = str(binary)
    return binaries


def verify(models, tmp_path, form, classify):
    return export(*source(models, form), "-o", str(tmp_path / "model.json"),
                  "--verify", os.path.join(models, "texts.txt"), "--classify", classify)


def test_verify_accepts_identical_answers(models, tmp_path, stand_ins):
    status, output = verify(models, tmp_path, "pipeline", stand_ins["good"])
    assert status == 0, output
    assert "identical" in output, output


def test_verify_reports_a_difference(models, tmp_path, stand_ins):
    status, output = verify(models, tmp_path, "pipeline", stand_ins["wrong"])
    assert status == 1, f"exit status {status}, expected 1:\n{output}"
    assert "line 4" in output, output


@pytest.mark.parametrize("form", list(SOURCES))
def test_verify_with_the_real_classify(models, tmp_path, classify_bin, form):
    status, output = verify(models, tmp_path, form, classify_bin)
    assert status == 0, output
    assert "identical" in output, output
