"""Fixtures of the exporter's tests: the models of `scripts/make_golden.py --refused`, and the
real `classify` binary.

`models` is one directory per test session, written by make_golden.py with the Python running
pytest (a pickle is only readable by the sklearn that wrote it): the pickles the exporter must
refuse, listed with the words their messages must name in expected_refusals.tsv (each row becomes
one case of test_cli.py's test_refused), the supported good*.pickle/joblib models and texts.txt.
It is built while the tests are collected, since the refusal cases are read from it.

`classify_bin` is the Rust `classify` binary named by CLASSIFY_BIN (cargo build -p classify-cli
builds target/debug/classify). Without it the tests that need it are skipped, saying why; with
CLASSIFY_REQUIRE_BINARY=1 (scripts/test sets it) they fail instead.
"""

import os
import shutil
import subprocess
import sys
import tempfile

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MAKE_GOLDEN = os.path.join(ROOT, "scripts", "make_golden.py")

_models_dir = None


def _models():
    """The --refused directory, written on first use."""
    global _models_dir
    if _models_dir is None:
        path = tempfile.mkdtemp(prefix="classify-export-tests.")
        result = subprocess.run([sys.executable, MAKE_GOLDEN, "--refused", path],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if result.returncode != 0:
            shutil.rmtree(path, ignore_errors=True)
            raise RuntimeError(f"cannot build the test models: {MAKE_GOLDEN} --refused exited with "
                               f"status {result.returncode}:\n{result.stdout}")
        _models_dir = path
    return _models_dir


def expected_refusals():
    """(name, needle) rows of expected_refusals.tsv; an empty list is an error, never zero cases."""
    path = os.path.join(_models(), "expected_refusals.tsv")
    with open(path, encoding="utf-8") as f:
        rows = [tuple(line.rstrip("\n").split("\t", 1)) for line in f if line.strip()]
    if not rows or any(len(row) != 2 for row in rows):
        raise RuntimeError(f"{path}: expected name<TAB>needle lines, got {rows!r}")
    return rows


def pytest_generate_tests(metafunc):
    if "refusal" in metafunc.fixturenames:
        rows = expected_refusals()
        metafunc.parametrize("refusal", rows, ids=[name for name, _ in rows])


def pytest_unconfigure(config):
    if _models_dir is not None:
        shutil.rmtree(_models_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def models():
    """Directory of the models and texts written by make_golden.py --refused."""
    return _models()


@pytest.fixture(scope="session")
def classify_bin():
    """Absolute path of the real `classify` binary (CLASSIFY_BIN)."""
    path = os.environ.get("CLASSIFY_BIN", "")
    if not path:
        problem = ("CLASSIFY_BIN is not set: build the binary (cargo build -p classify-cli) and run "
                   "with CLASSIFY_BIN=target/debug/classify")
    elif not (os.path.isfile(path) and os.access(path, os.X_OK)):
        problem = (f"CLASSIFY_BIN={path} is not an executable file (from {os.getcwd()}): "
                   "build it with cargo build -p classify-cli")
    else:
        return os.path.abspath(path)
    if os.environ.get("CLASSIFY_REQUIRE_BINARY") == "1":
        pytest.fail(f"{problem}; CLASSIFY_REQUIRE_BINARY=1 requires the real classify binary", pytrace=False)
    pytest.skip(f"{problem} (CLASSIFY_REQUIRE_BINARY=1 makes this a failure)")
