"""Classifier converters: linear models, naive Bayes, kernel SVMs, NearestCentroid and decision
trees and forests to the model's classifier objects (`linear`, `svc`, `nearest_centroid`,
`trees`).

Each converter returns the classifier object and the steps it needs in front of it (BernoulliNB's
`binarize`); at the top level those join the model's steps, inside a wrapper they make a
`pipeline` member. Probability formulas chosen from the estimator's settings are checked against
the estimator's own predict_proba on synthetic rows before anything is written, so a formula that
a new sklearn changed is refused instead of exported wrong; for trees, on a row made to reach each
leaf and on rows whose values only the float32 rounding sends left or right.
"""

from collections import namedtuple

from . import compat
from .base import close, export_labels, finite_list, float64_array
from .registry import register
from .trees import (
    fitted_trees,
    leaf_numbers,
    probe_trees,
    tree_leaves,
    tree_nodes,
    version_refusal,
)

# What a classifier converter returns: the classifier object and the steps it needs before it.
Classified = namedtuple("Classified", "spec steps")

PROBABILITY_TOLERANCE = 1e-9


def _classes(clf, ctx, minimum=2):
    if not hasattr(clf, "classes_"):
        ctx.refuse(f"{type(clf).__name__} is not fitted (it has no classes_)")
    classes = export_labels(clf.classes_, ctx.where)
    if len(classes) < minimum:
        ctx.refuse(
            f"{type(clf).__name__} was fitted on {len(classes)} class; at least {minimum} are needed"
        )
    return classes


def _linear_spec(clf, ctx, coef, intercept, probability):
    import numpy as np

    name = type(clf).__name__
    classes = _classes(clf, ctx)
    coef = float64_array(coef, ctx, f"{name} weights")
    if coef.ndim == 1:
        # sklearn >= 1.8 keeps a binary RidgeClassifier's coef_ one-dimensional.
        coef = coef[None, :]
    if coef.ndim != 2 or coef.shape[1] != ctx.width:
        ctx.refuse(
            f"{name} has weights of shape {coef.shape} but the previous step produces "
            f"{ctx.width} features; they were not fitted together"
        )
    expected_rows = 1 if len(classes) == 2 and coef.shape[0] == 1 else len(classes)
    if coef.shape[0] != expected_rows:
        ctx.refuse(f"{name} has {coef.shape[0]} weight rows for {len(classes)} classes")
    intercept = np.broadcast_to(
        np.atleast_1d(np.asarray(intercept, dtype=np.float64)), (coef.shape[0],)
    )
    return {
        "kind": "linear",
        "estimator": name,
        "classes": classes,
        "coef": finite_list(coef, "classifier.coef"),
        "intercept": finite_list(intercept, "classifier.intercept"),
        "probability": probability,
    }


def linear_probabilities(scores, kind):
    """predict_proba from decision values (n_samples x rows) as docs/model-format*.md define it;
    used to check the chosen formula against sklearn."""
    import numpy as np

    scores = np.asarray(scores, dtype=np.float64)
    if scores.ndim == 1:
        scores = scores[:, None]
    if kind == "ovr_sigmoid":
        p = 1.0 / (1.0 + np.exp(-scores))
        if p.shape[1] == 1:
            return np.hstack([1 - p, p])
        total = p.sum(axis=1, keepdims=True)
        return np.where(total == 0, 1.0 / p.shape[1], p / np.where(total == 0, 1, total))
    if kind == "softmax":
        if scores.shape[1] == 1:
            scores = np.hstack([-scores, scores])
        shifted = np.exp(scores - scores.max(axis=1, keepdims=True))
        return shifted / shifted.sum(axis=1, keepdims=True)
    if kind == "modified_huber":
        p = (np.clip(scores, -1, 1) + 1) / 2
        if p.shape[1] == 1:
            return np.hstack([1 - p, p])
        total = p.sum(axis=1, keepdims=True)
        return np.where(total == 0, 1.0 / p.shape[1], p / np.where(total == 0, 1, total))
    raise ValueError(kind)


def nonnegative_rows(width, n_rows=6, seed=0):
    """A few sparse rows of non-negative values (like tf-idf rows), one of them empty."""
    import numpy as np
    from scipy import sparse

    rng = np.random.RandomState(seed)
    dense = rng.uniform(0, 3, size=(n_rows, width)) * (rng.uniform(size=(n_rows, width)) < 0.3)
    dense[0] = 0.0
    return sparse.csr_matrix(dense)


def check_probability(clf, ctx, spec):
    """Refuses the model unless the formula in `spec["probability"]` gives clf.predict_proba."""
    import numpy as np
    import sklearn

    X = nonnegative_rows(ctx.width)
    coef = np.asarray(spec["coef"])
    scores = X @ coef.T + np.asarray(spec["intercept"])
    ours = linear_probabilities(scores, spec["probability"])
    try:
        theirs = np.asarray(clf.predict_proba(X), dtype=np.float64)
    except Exception as e:  # noqa: BLE001
        ctx.refuse(f"cannot check the probabilities ({type(clf).__name__}.predict_proba: {e})")
    if not close(ours, theirs, PROBABILITY_TOLERANCE):
        ctx.refuse(
            f"{type(clf).__name__}.predict_proba of sklearn {sklearn.__version__} does not follow "
            f"the {spec['probability']!r} formula the exporter chose for it; this sklearn version "
            "is not supported for this estimator (please report it)"
        )


def _linear_model(clf, ctx, probability=None):
    if not hasattr(clf, "coef_"):
        ctx.refuse(f"{type(clf).__name__} is not fitted (it has no coef_)")
    ctx.check_width(clf)
    spec = _linear_spec(clf, ctx, clf.coef_, clf.intercept_, probability)
    if probability is not None:
        check_probability(clf, ctx, spec)
    return Classified(spec, [])


@register("classifier", "sklearn.svm", "LinearSVC")
def linear_svc(clf, ctx):
    return _linear_model(clf, ctx)


@register("classifier", "sklearn.linear_model", "RidgeClassifier")
def ridge(clf, ctx):
    return _linear_model(clf, ctx)


@register("classifier", "sklearn.linear_model", "RidgeClassifierCV")
def ridge_cv(clf, ctx):
    return _linear_model(clf, ctx)


@register("classifier", "sklearn.linear_model", "Perceptron")
def perceptron(clf, ctx):
    return _linear_model(clf, ctx)


@register("classifier", "sklearn.linear_model", "PassiveAggressiveClassifier")
def passive_aggressive(clf, ctx):
    return _linear_model(clf, ctx)


@register("classifier", "sklearn.linear_model", "LogisticRegression")
def logistic_regression(clf, ctx):
    if not hasattr(clf, "classes_"):
        ctx.refuse("LogisticRegression is not fitted (it has no classes_)")
    return _linear_model(clf, ctx, compat.logistic_probability(clf))


@register("classifier", "sklearn.linear_model", "LogisticRegressionCV")
def logistic_regression_cv(clf, ctx):
    if not hasattr(clf, "classes_"):
        ctx.refuse("LogisticRegressionCV is not fitted (it has no classes_)")
    return _linear_model(clf, ctx, compat.logistic_probability(clf))


@register("classifier", "sklearn.linear_model", "SGDClassifier")
def sgd(clf, ctx):
    loss = clf.loss
    probability = None
    if loss in ("log_loss", "log"):
        probability = "ovr_sigmoid"
    elif loss == "modified_huber":
        probability = "modified_huber"
    return _linear_model(clf, ctx, probability)


def _naive_bayes(clf, ctx, coef, intercept):
    ctx.check_width(clf)
    spec = _linear_spec(clf, ctx, coef, intercept, "softmax")
    return spec


@register("classifier", "sklearn.naive_bayes", "MultinomialNB")
def multinomial_nb(clf, ctx):
    if not hasattr(clf, "feature_log_prob_"):
        ctx.refuse("MultinomialNB is not fitted (it has no feature_log_prob_)")
    return Classified(_naive_bayes(clf, ctx, clf.feature_log_prob_, clf.class_log_prior_), [])


@register("classifier", "sklearn.naive_bayes", "ComplementNB")
def complement_nb(clf, ctx):
    import numpy as np

    if not hasattr(clf, "feature_log_prob_"):
        ctx.refuse("ComplementNB is not fitted (it has no feature_log_prob_)")
    # ComplementNB._joint_log_likelihood adds the prior only for a single class (refused anyway).
    intercept = np.zeros(len(clf.classes_))
    return Classified(_naive_bayes(clf, ctx, clf.feature_log_prob_, intercept), [])


@register("classifier", "sklearn.naive_bayes", "BernoulliNB")
def bernoulli_nb(clf, ctx):
    import numpy as np

    if not hasattr(clf, "feature_log_prob_"):
        ctx.refuse("BernoulliNB is not fitted (it has no feature_log_prob_)")
    # BernoulliNB._joint_log_likelihood: X · (flp - neg)ᵀ + (class_log_prior_ + Σ neg), with
    # neg = log(1 - exp(flp)); the same expressions give the same bits.
    flp = np.asarray(clf.feature_log_prob_)
    neg = np.log(1 - np.exp(flp))
    spec = _naive_bayes(clf, ctx, flp - neg, clf.class_log_prior_ + neg.sum(axis=1))
    steps = []
    if clf.binarize is not None:
        threshold = float(clf.binarize)
        if threshold < 0:
            ctx.refuse(f"BernoulliNB(binarize={threshold!r}) is not supported: use a threshold >= 0")
        steps.append({"kind": "binarize", "estimator": "BernoulliNB", "threshold": threshold})
    return Classified(spec, steps)


SVC_KERNELS = ("linear", "poly", "rbf", "sigmoid")


def svm_kernel(clf, ctx):
    """The kernel of a libsvm estimator (SVC, NuSVC, SVR, NuSVR), refusing the ones that cannot be
    exported: a callable (Python code) and 'precomputed' (needs the training documents)."""
    name = type(clf).__name__
    kernel = clf.kernel
    if callable(kernel):
        ctx.refuse(
            f"{name}(kernel={getattr(kernel, '__name__', kernel)!r}) is not supported: a "
            "callable kernel is custom Python code that cannot be exported; use kernel="
            + ", ".join(repr(k) for k in SVC_KERNELS)
        )
    if kernel not in SVC_KERNELS:
        ctx.refuse(
            f"{name}(kernel={kernel!r}) is not supported: a precomputed kernel needs the "
            "training documents at prediction time; use kernel="
            + ", ".join(repr(k) for k in SVC_KERNELS)
        )
    return kernel


def support_vectors_csr(clf, ctx):
    """support_vectors_ as a float64 CSR matrix with sorted indices, as libsvm's sparse kernels
    read them (dense support vectors become CSR: libsvm's dense kernels sum the same products in
    the same column order, up to BLAS's grouping of the sum)."""
    import numpy as np
    from scipy import sparse

    name = type(clf).__name__
    if not hasattr(clf, "support_vectors_"):
        ctx.refuse(f"{name} is not fitted (it has no support_vectors_)")
    ctx.check_width(clf)
    sv = clf.support_vectors_
    if sv.shape[1] != ctx.width:
        ctx.refuse(
            f"{name} has support vectors of {sv.shape[1]} features but the previous step "
            f"produces {ctx.width}; they were not fitted together"
        )
    if sparse.issparse(sv):
        sv = sparse.csr_matrix(sv)
        if not sv.has_sorted_indices:
            ctx.refuse(
                f"{name}.support_vectors_ has unsorted column indices; libsvm's sparse kernels "
                "depend on the stored order: refit on a matrix with sorted indices "
                "(X.sort_indices())"
            )
    else:
        # Fitted on a dense matrix (e.g. vectorizer.transform(texts).toarray()): libsvm's dense
        # kernels sum the same products in the same column order; zeros add nothing.
        sv = sparse.csr_matrix(np.asarray(sv))
    if sv.dtype != np.float64:
        ctx.refuse(f"{name}.support_vectors_ are {sv.dtype}; refit on float64 features")
    return sv


def support_vectors_spec(sv):
    """The model's CSR object of support vectors."""
    return {
        "indptr": [int(i) for i in sv.indptr],
        "indices": [int(i) for i in sv.indices],
        "data": finite_list(sv.data, "classifier.support_vectors.data"),
    }


def _svc(clf, ctx):
    """SVC / NuSVC: support vectors (CSR), dual coefficients, one intercept per pair of classes.

    The arrays are sklearn's public attributes (dual_coef_ and intercept_ negated by sklearn for
    two classes); gamma is the fitted _gamma ('scale'/'auto' resolved). With probability=True,
    the Platt parameters are exported too and mod_classify computes predict_proba as libsvm does.
    """
    import numpy as np
    from scipy import sparse

    name = type(clf).__name__
    kernel = svm_kernel(clf, ctx)
    sv = support_vectors_csr(clf, ctx)
    classes = _classes(clf, ctx)
    n_classes = len(classes)
    if clf.decision_function_shape not in ("ovr", "ovo"):
        ctx.refuse(
            f"{name}(decision_function_shape={clf.decision_function_shape!r}) is not supported: "
            "use 'ovr' or 'ovo'"
        )
    if clf.break_ties and clf.decision_function_shape == "ovo":
        ctx.refuse(f"{name}(break_ties=True) with decision_function_shape='ovo' cannot predict")

    n_sv = sv.shape[0]
    n_support = [int(n) for n in clf.n_support_]
    if len(n_support) != n_classes or sum(n_support) != n_sv:
        ctx.refuse(
            f"{name}.n_support_ {n_support} does not match {n_sv} support vectors of "
            f"{n_classes} classes"
        )
    dual_coef = clf.dual_coef_
    dual_coef = dual_coef.toarray() if sparse.issparse(dual_coef) else np.asarray(dual_coef)
    if dual_coef.shape != (n_classes - 1, n_sv):
        ctx.refuse(f"{name}.dual_coef_ has shape {dual_coef.shape}, expected {(n_classes - 1, n_sv)}")
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
        "support_vectors": support_vectors_spec(sv),
        "dual_coef": finite_list(dual_coef, "classifier.dual_coef"),
        "intercept": finite_list(np.atleast_1d(clf.intercept_), "classifier.intercept"),
        "prob_a": None,
        "prob_b": None,
    }
    for field in ("gamma", "coef0"):
        finite_list([spec[field]], f"classifier.{field}")
    prob_a, prob_b = compat.svc_platt(clf)
    if clf.probability and prob_a is not None and np.size(prob_a) and np.size(prob_b):
        spec["prob_a"] = finite_list(prob_a, "classifier.prob_a")
        spec["prob_b"] = finite_list(prob_b, "classifier.prob_b")
    return Classified(spec, [])


@register("classifier", "sklearn.svm", "SVC")
def svc(clf, ctx):
    return _svc(clf, ctx)


@register("classifier", "sklearn.svm", "NuSVC")
def nu_svc(clf, ctx):
    return _svc(clf, ctx)


@register("classifier", "sklearn.neighbors", "NearestCentroid")
def nearest_centroid(clf, ctx):
    """Up to sklearn 1.5: nearest centroid by `metric`, no decision function (scores are the
    negated distances). From 1.6: a discriminant decision function on std-normalized distances
    with class priors (euclidean only), and `predict` takes the raw nearest centroid when the
    priors are uniform (np.isclose), else the arg-max of the discriminant."""
    import numpy as np

    if not hasattr(clf, "centroids_"):
        ctx.refuse("NearestCentroid is not fitted (it has no centroids_)")
    ctx.check_width(clf)
    metric = clf.metric
    if metric not in ("euclidean", "manhattan"):
        ctx.refuse(
            f"NearestCentroid(metric={metric!r}) is not supported: use 'euclidean' or 'manhattan'"
        )
    classes = _classes(clf, ctx)
    centroids = float64_array(clf.centroids_, ctx, "NearestCentroid.centroids_")
    if centroids.shape != (len(classes), ctx.width):
        ctx.refuse(
            f"NearestCentroid.centroids_ has shape {centroids.shape}, expected "
            f"({len(classes)}, {ctx.width})"
        )
    spec = {
        "kind": "nearest_centroid",
        "estimator": "NearestCentroid",
        "classes": classes,
        "centroids": finite_list(centroids, f"{ctx.where}.centroids"),
        "metric": metric,
        "class_prior": None,
        "within_class_std_dev": None,
        "decision": "distances",
        "predict": "nearest",
    }
    if compat.nearest_centroid_has_discriminant(clf):
        prior = np.asarray(clf.class_prior_, dtype=np.float64)
        uniform = bool(np.isclose(prior, 1 / len(classes)).all())
        if metric == "euclidean":
            if (prior <= 0).any():
                ctx.refuse("NearestCentroid has a class prior of 0 (its discriminant is -inf)")
            std = float64_array(clf.within_class_std_dev_, ctx, "within_class_std_dev_")
            spec["decision"] = "discriminant"
            spec["class_prior"] = finite_list(prior, f"{ctx.where}.class_prior")
            spec["within_class_std_dev"] = finite_list(std, f"{ctx.where}.within_class_std_dev")
            spec["predict"] = "nearest" if uniform else "max_score"
        elif not uniform:
            ctx.refuse(
                "NearestCentroid(metric='manhattan') with non-uniform priors predicts from a "
                "discriminant sklearn does not expose; use priors='uniform' or metric='euclidean'"
            )
    return Classified(spec, [])


# ----------------------------------------------------------------------------------------------
# Trees: DecisionTreeClassifier, RandomForestClassifier, ExtraTreesClassifier (kind `trees`)


def _single_output(clf, ctx):
    n_outputs = int(getattr(clf, "n_outputs_", 1))
    if n_outputs != 1:
        ctx.refuse(
            f"{type(clf).__name__} was fitted on {n_outputs} target columns (multi-output); "
            "mod_classify predicts one label per text: fit one classifier per target column"
        )


def _tree_object(member, n_classes, ctx, what):
    """One fitted sklearn tree as the model's tree object: sklearn's node arrays, and the
    predict_proba row and predicted class index of each leaf, leaves in node order."""
    import numpy as np

    nodes, leaf_value = tree_nodes(member, n_classes, ctx, what)
    return {
        **nodes,
        "leaf_values": finite_list(
            compat.tree_leaf_probabilities(leaf_value), f"{ctx.where} {what} leaf_values"
        ),
        "leaf_class": [int(k) for k in np.argmax(leaf_value, axis=1)],
    }


def trees_predict(spec, X):
    """(probabilities, class indices) of a `trees` classifier object for the rows of X."""
    import numpy as np

    total = None
    for tree in spec["trees"]:
        leaf = leaf_numbers(tree)[tree_leaves(tree, X)]
        rows = np.asarray(tree["leaf_values"], dtype=np.float64)[leaf]
        if spec["combine"] == "single":
            return rows, np.asarray(tree["leaf_class"])[leaf]
        total = rows.copy() if total is None else total + rows
    probabilities = total / len(spec["trees"])
    return probabilities, np.argmax(probabilities, axis=1)


def _check_trees(clf, ctx, spec, members):
    """Refuses the model unless every tree sends a row made for each leaf to that leaf, with the
    leaf's row as its predict_proba (bit for bit) and its class as its predict, and the whole
    estimator's predict_proba (within 1e-9: a forest with n_jobs may add its trees in another
    order) and predict follow `combine` on synthetic rows and on rows at the thresholds, where
    only the float32 rounding of the value decides the way."""
    import numpy as np

    name = type(clf).__name__
    unsupported = version_refusal(clf, ctx)

    def check_leaves(index, member, tree, rows, leaves):
        try:
            proba = np.asarray(member.predict_proba(rows), dtype=np.float64)
            predicted = np.asarray(member.predict(rows))
        except Exception as e:  # noqa: BLE001
            ctx.refuse(f"cannot check tree {index} ({type(member).__name__}: {e})")
        ours = np.asarray(tree["leaf_values"], dtype=np.float64)[leaves]
        # A lookup: the same numpy operations on the same numbers give the same bits.
        if not np.array_equal(ours, proba):
            unsupported(f"tree {index}'s predict_proba is not the leaf rows the exporter computed")
        classes = np.asarray(member.classes_)[np.asarray(tree["leaf_class"])[leaves]]
        if not np.array_equal(classes, predicted):
            unsupported(f"tree {index}'s predict is not the arg-max of its leaf values")

    X = probe_trees(members, spec, ctx, unsupported, nonnegative_rows(ctx.width), check_leaves)
    probabilities, indices = trees_predict(spec, X)
    try:
        theirs = np.asarray(clf.predict_proba(X), dtype=np.float64)
        labels = np.asarray(clf.predict(X))
    except Exception as e:  # noqa: BLE001
        ctx.refuse(f"cannot check the probabilities ({name}.predict_proba: {e})")
    if not close(probabilities, theirs, PROBABILITY_TOLERANCE):
        unsupported(f"predict_proba does not follow combine={spec['combine']!r}")
    if not np.array_equal(np.asarray(clf.classes_)[indices], labels):
        unsupported(f"predict does not follow combine={spec['combine']!r}")


def _trees(clf, ctx, forest):
    name = type(clf).__name__
    members, combine = fitted_trees(clf, ctx, forest)
    _single_output(clf, ctx)
    ctx.check_width(clf)
    classes = _classes(clf, ctx)
    trees = [
        _tree_object(member, len(classes), ctx, f"tree {index}" if combine == "mean" else name)
        for index, member in enumerate(members)
    ]
    spec = {
        "kind": "trees",
        "estimator": name,
        "classes": classes,
        "combine": combine,
        "trees": trees,
    }
    _check_trees(clf, ctx, spec, members)
    return Classified(spec, [])


@register("classifier", "sklearn.tree", "DecisionTreeClassifier")
def decision_tree(clf, ctx):
    return _trees(clf, ctx, forest=False)


@register("classifier", "sklearn.ensemble", "RandomForestClassifier")
def random_forest(clf, ctx):
    return _trees(clf, ctx, forest=True)


@register("classifier", "sklearn.ensemble", "ExtraTreesClassifier")
def extra_trees(clf, ctx):
    return _trees(clf, ctx, forest=True)
