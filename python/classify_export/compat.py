"""Reading fitted attributes the way the running sklearn defines them.

sklearn renames, deprecates and re-derives attributes between releases; every such difference the
exporter depends on is answered here, once, from the running version's own rules (read in
sklearn's sources of 1.2, 1.5, 1.6, 1.7, 1.8 and 1.9):

- LogisticRegression's probability formula: `multi_class` is a parameter up to 1.7 ("deprecated"
  from 1.5 on, meaning "auto") and is gone in 1.8, where binary is one-vs-rest and multiclass is
  softmax.
- SVC's `probA_`/`probB_` are deprecated properties in 1.9 over the private `_probA`/`_probB`,
  which every supported version has.
- `_CalibratedClassifier` holds its classifier as `estimator` (`base_estimator` before 1.2).
- OneVsRestClassifier.predict breaks ties to the highest index up to 1.7 and to the lowest from
  1.8 (it iterates in reverse to match numpy's argmax).
- NearestCentroid has a discriminant decision function, priors and `within_class_std_dev_`
  from 1.6 on.
- A classification tree's `tree_.value` holds weighted class counts up to 1.3, and
  DecisionTreeClassifier.predict_proba divides each row by its sum; from 1.4.0 it holds the
  fractions themselves and predict_proba returns them as they are (read in 1.2, 1.3.2, 1.4.0
  and 1.9).
"""

import inspect
import re
import warnings


def version_tuple(text):
    """"1.6.1" -> (1, 6, 1); "1.7.dev0" -> (1, 7, 0)."""
    numbers = [int(n) for n in re.findall(r"\d+", str(text).split("+")[0])[:3]]
    return tuple(numbers + [0] * (3 - len(numbers)))


def sklearn_version():
    import sklearn

    return version_tuple(sklearn.__version__)


def has_init_parameter(cls, name):
    try:
        return name in inspect.signature(cls.__init__).parameters
    except (TypeError, ValueError):
        return False


def logistic_probability(clf):
    """The formula this sklearn's LogisticRegression(CV).predict_proba applies: "ovr_sigmoid" or
    "softmax". The caller checks it against predict_proba itself."""
    binary = len(clf.classes_) <= 2
    if not has_init_parameter(type(clf), "multi_class"):
        # 1.8+: `is_binary = classes_.size <= 2` -> _predict_proba_lr, else softmax.
        return "ovr_sigmoid" if binary else "softmax"
    multi_class = getattr(clf, "multi_class", "auto")
    ovr = multi_class in ("ovr", "warn") or (
        multi_class in ("auto", "deprecated")
        and (binary or getattr(clf, "solver", None) in ("liblinear", "newton-cholesky"))
    )
    return "ovr_sigmoid" if ovr else "softmax"


def svc_platt(clf):
    """(probA, probB) of a fitted SVC/NuSVC without the 1.9 deprecation warning."""
    a = getattr(clf, "_probA", None)
    b = getattr(clf, "_probB", None)
    if a is None or b is None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            a, b = getattr(clf, "probA_", None), getattr(clf, "probB_", None)
    return a, b


def calibrated_member(member):
    """(classifier, calibrators) of one `calibrated_classifiers_` entry."""
    classifier = getattr(member, "estimator", None)
    if classifier is None:
        classifier = getattr(member, "base_estimator", None)
    calibrators = getattr(member, "calibrators", None)
    if calibrators is None:
        calibrators = getattr(member, "calibrators_", None)
    return classifier, calibrators


def ovr_ties():
    """Which index OneVsRestClassifier.predict picks among equal maxima."""
    return "lowest" if sklearn_version() >= (1, 8, 0) else "highest"


def nearest_centroid_has_discriminant(clf):
    """NearestCentroid of sklearn >= 1.6 (priors, std-normalized discriminant decision)."""
    return hasattr(clf, "within_class_std_dev_") and hasattr(clf, "class_prior_")


def tree_value_is_fraction():
    """Whether tree_.value holds class fractions (sklearn >= 1.4.0) rather than counts."""
    return sklearn_version() >= (1, 4, 0)


def tree_leaf_probabilities(value):
    """DecisionTreeClassifier.predict_proba's rows for the rows of `value` (an (n, n_classes)
    float64 array: tree_.value[nodes, 0, :]), with the numpy operations this sklearn applies to
    tree_.predict's output, so the numbers are the same bits. The caller checks them against
    predict_proba itself."""
    import numpy as np

    proba = np.array(value, dtype=np.float64, order="C")  # a copy: the tree is not modified
    if not tree_value_is_fraction():
        # sklearn < 1.4, DecisionTreeClassifier.predict_proba:
        normalizer = proba.sum(axis=1)[:, np.newaxis]
        normalizer[normalizer == 0.0] = 1.0
        proba /= normalizer
    return proba


def inconsistent_version_warning():
    """sklearn's InconsistentVersionWarning class (1.3+), or None."""
    try:
        from sklearn.exceptions import InconsistentVersionWarning
    except ImportError:
        return None
    return InconsistentVersionWarning


_OLD_VERSION_MESSAGE = re.compile(
    r"Trying to unpickle estimator (\w+) from version (\S+) when using version (\S+)\."
)


def version_mismatch(warning):
    """(estimator, pickled version, running version) from sklearn's unpickling warning, or None.

    1.3+ raises InconsistentVersionWarning with attributes; 1.2 a UserWarning with the same text."""
    message = warning.message
    if hasattr(message, "original_sklearn_version"):
        return (
            message.estimator_name,
            message.original_sklearn_version,
            message.current_sklearn_version,
        )
    match = _OLD_VERSION_MESSAGE.search(str(message))
    if match:
        return match.group(1), match.group(2), match.group(3)
    return None
