"""Loading a fitted estimator from a pickle, a joblib file or a skops file, and explaining why a
file does not load.

Pickles only load with the library versions that wrote them (numpy 2 writes `numpy._core`, which
numpy 1 lacks; sklearn renames classes and attributes). When loading fails, or sklearn warns
that an estimator comes from another sklearn version, the message names the versions involved,
read from the file itself (every pickled sklearn estimator carries `_sklearn_version` in its
state; the pickle's opcodes are scanned for it, so this works even when unpickling fails), and
says what to do: run the exporter with the Python that fitted the model.

skops files are loaded with skops' safe loader, trusting only the types the exporter converts.
"""

import bz2
import gzip
import io
import lzma
import os
import pickle
import pickletools
import re
import warnings
import zlib

from . import compat
from .base import Unsupported

WHAT_TO_DO = (
    "run the exporter with the Python that fitted the model: pip install <repo>/python into that "
    "environment, then classify-export ..."
)

# Classes skops does not trust by default that the exporter needs (sklearn's private helpers of
# the estimators it converts).
SKOPS_HELPERS = (
    "sklearn.calibration._CalibratedClassifier",
    "sklearn.calibration._SigmoidCalibration",
    "sklearn.isotonic.IsotonicRegression",
    "sklearn.preprocessing._label.LabelBinarizer",
    "sklearn.preprocessing._label.LabelEncoder",
    "sklearn.frozen._frozen.FrozenEstimator",
    # What --labels reads: the MultiLabelBinarizer that made a multi-label target.
    "sklearn.preprocessing._label.MultiLabelBinarizer",
)


def load(path, what):
    """The object stored in `path` (pickle, joblib or .skops), or Unsupported saying why not."""
    if not os.path.isfile(path):
        try:
            open(path, "rb").close()
        except OSError as e:
            raise Unsupported(f"{what}: cannot read {path}: {e.strerror or e}")
        raise Unsupported(f"{what}: cannot read {path}: not a file")
    if path.endswith(".skops"):
        return _load_skops(path, what)
    return _load_pickle(path, what)


def _load_pickle(path, what):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            obj = _unpickle(path)
        except Exception as error:  # noqa: BLE001 - any failure is explained below
            raise Unsupported(_explain_failure(path, what, error)) from None
    _check_versions(path, what, caught)
    return obj


def _unpickle(path):
    """joblib.load when joblib is there (it reads plain pickles too), else pickle.load."""
    try:
        import joblib
    except ImportError:
        joblib = None
    if joblib is not None:
        return joblib.load(path)
    with open(path, "rb") as f:
        return pickle.load(f)


def _check_versions(path, what, caught):
    """Refuses an estimator that sklearn says another sklearn version pickled (a different major
    or minor version changes attributes; a patch release only gets a warning), and replays the
    other warnings."""
    import sys

    import sklearn

    mismatches = []
    for warning in caught:
        mismatch = compat.version_mismatch(warning)
        if mismatch is not None:
            mismatches.append(mismatch)
        elif not issubclass(warning.category, (DeprecationWarning, PendingDeprecationWarning)):
            warnings.showwarning(
                warning.message, warning.category, warning.filename, warning.lineno
            )
    if not mismatches:
        return
    estimators = sorted({m[0] for m in mismatches})
    written = sorted({m[1] for m in mismatches})
    running = sklearn.__version__
    same_minor = all(
        compat.version_tuple(v)[:2] == compat.version_tuple(running)[:2] for v in written
    )
    message = (
        f"{what}: {path} was written by scikit-learn {', '.join(written)} "
        f"({', '.join(estimators)}), this Python has scikit-learn {running}"
    )
    if same_minor:
        print(f"warning: {message}; exporting anyway (same minor version)", file=sys.stderr)
        return
    raise Unsupported(
        f"{message}: sklearn does not promise that an estimator behaves the same in another "
        f"version, and the exporter reads its fitted attributes; {WHAT_TO_DO}"
    )


def _explain_failure(path, what, error):
    import numpy
    import sklearn

    found = scan_versions(path)
    text = str(error)
    if isinstance(error, AttributeError) and "Can't get attribute" in text and (
        "__main__" in text or "on <module '__main__'" in text
    ):
        return (
            f"{what}: {path} refers to a function or class defined in the training script itself "
            f"({error}); such custom Python code (a tokenizer, preprocessor or analyzer) cannot be "
            "exported: retrain with the built-in options (token_pattern, strip_accents, "
            "lowercase, ...)"
        )
    if isinstance(error, ModuleNotFoundError) and error.name and error.name.split(".")[0] not in (
        "numpy",
        "scipy",
        "sklearn",
        "joblib",
    ):
        return (
            f"{what}: {path} refers to the module {error.name!r}, which this Python cannot "
            "import: custom Python code (a tokenizer, preprocessor or analyzer) cannot be "
            f"exported; if the module is a library, {WHAT_TO_DO}"
        )
    versions = []
    if found["sklearn"]:
        versions.append(
            f"it was written by scikit-learn {found['sklearn']} (this Python has "
            f"{sklearn.__version__})"
        )
    if found["numpy"] == 2 and numpy.__version__.startswith("1."):
        versions.append(f"with numpy >= 2 (this Python has numpy {numpy.__version__})")
    elif found["numpy"] == 1 and not numpy.__version__.startswith("1."):
        versions.append(f"with numpy 1 (this Python has numpy {numpy.__version__})")
    if versions or isinstance(error, (ModuleNotFoundError, AttributeError, ImportError)):
        cause = "; ".join(versions) if versions else "it needs a library version this Python lacks"
        return (
            f"{what}: cannot load {path} ({type(error).__name__}: {error}): {cause}; {WHAT_TO_DO}"
        )
    return f"{what}: {path} is neither a pickle nor a joblib file ({type(error).__name__}: {error})"


def scan_versions(path):
    """{"sklearn": version string or None, "numpy": 1, 2 or None} read from a pickle's opcodes
    (compressed joblib files are decompressed first), without unpickling anything."""
    found = {"sklearn": None, "numpy": None}
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return found
    data = _decompress(data)
    previous = None
    try:
        for opcode, arg, _ in pickletools.genops(io.BytesIO(data)):
            if isinstance(arg, str):
                if previous == "_sklearn_version" and found["sklearn"] is None:
                    found["sklearn"] = arg
                if arg.startswith("numpy._core"):
                    found["numpy"] = 2
                elif arg.startswith("numpy.core") and found["numpy"] is None:
                    found["numpy"] = 1
                previous = arg
            if opcode.name == "STOP":
                break
    except Exception:  # noqa: BLE001 - joblib's raw array bytes end the opcode stream
        pass
    # joblib writes each array's bytes between opcodes, which stops the walk above before the
    # first `_sklearn_version` (it ends each estimator's state); find the strings in the bytes.
    if found["sklearn"] is None:
        match = _VERSION_BYTES.search(data)
        if match:
            found["sklearn"] = match.group(1).decode("ascii")
    if found["numpy"] is None:
        if b"numpy._core" in data:
            found["numpy"] = 2
        elif b"numpy.core" in data:
            found["numpy"] = 1
    return found


# `_sklearn_version` then the version string, as protocols 2-5 (BINUNICODE, SHORT_BINUNICODE,
# with or without MEMOIZE/BINPUT) or protocol 0 (UNICODE lines) write them.
_VERSION_BYTES = re.compile(
    rb"_sklearn_version(?:\x94|q.|r....|\np\d+\n)?(?:\x8c.|X....|V)([0-9][0-9A-Za-z.+-]{0,30})",
    re.DOTALL,
)


def _decompress(data):
    for magic, opener in (
        (b"\x1f\x8b", lambda d: gzip.decompress(d)),
        (b"BZh", lambda d: bz2.decompress(d)),
        (b"\xfd7zXZ", lambda d: lzma.decompress(d)),
        (b"\x5d\x00\x00", lambda d: lzma.decompress(d)),  # .lzma (FORMAT_ALONE)
        (b"\x78", lambda d: zlib.decompressobj().decompress(d)),
        (b"ZF", lambda d: zlib.decompress(d[2 + 23:])),  # joblib < 0.10's zlib container
    ):
        if data.startswith(magic):
            try:
                return opener(data)
            except Exception:  # noqa: BLE001
                return data
    return data


def _load_skops(path, what):
    try:
        import skops.io as sio
    except ImportError:
        raise Unsupported(f"{what}: {path} is a skops file and skops is not installed: pip install skops")
    from .registry import trusted_type_names

    try:
        untrusted = sio.get_untrusted_types(file=path)
    except Exception as e:  # noqa: BLE001
        raise Unsupported(f"{what}: cannot read the skops file {path}: {e}")
    allowed = trusted_type_names() | set(SKOPS_HELPERS)
    refused = sorted(t for t in untrusted if t not in allowed)
    if refused:
        raise Unsupported(
            f"{what}: {path} holds types the exporter does not convert and will not load: "
            f"{', '.join(refused)}; export a model made of the supported estimators"
        )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            obj = sio.load(path, trusted=list(untrusted))
        except Exception as e:  # noqa: BLE001
            raise Unsupported(f"{what}: cannot load the skops file {path} ({type(e).__name__}: {e}); {WHAT_TO_DO}")
    _check_versions(path, what, caught)
    return obj
