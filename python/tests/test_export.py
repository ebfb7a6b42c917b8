"""Self-test of classify_export: every converter on small fitted models.

Each shape is fitted on a few dozen texts of the Debian package corpus, exported with
classify_export.to_model, checked for its structure (format version, kinds, fields), and then
evaluated by the pure-Python reference evaluator (reference.py) from the model dict alone and
compared with what sklearn predicts: labels exactly, scores and probabilities within 1e-9 (a
regressor's number, its predict, within 1e-9). The refusals, the loaders and the command line
(with a stand-in `classify` built on the reference evaluator) are tested too.

Runs under pytest (python -m pytest python/tests), with any sklearn from 1.2 on; nothing here
needs the Rust build but test_regressors_verify_with_the_real_classify (conftest.py's
`classify_bin`: skipped without CLASSIFY_BIN, a failure with CLASSIFY_REQUIRE_BINARY=1). What this
sklearn or environment lacks (pandas, skops, a newer option) is skipped with the reason, never
passed unchecked.
"""

import io
import json
import os
import pickle
import random
import subprocess
import sys
import tempfile
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import reference  # noqa: E402
import sklearn  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402

import classify_export  # noqa: E402
from classify_export import Unsupported, compat, loading, verify, walk  # noqa: E402

warnings.simplefilter("ignore", ConvergenceWarning)
warnings.simplefilter("ignore", FutureWarning)
warnings.simplefilter("ignore", DeprecationWarning)

SKLEARN = compat.sklearn_version()
TOLERANCE = 1e-9
DATA = (
    "/work/shared/data/debian-sections.tsv",
    os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(HERE))), "shared", "data",
                 "debian-sections.tsv"),
)
FALLBACK = {
    "games": "a fast arcade game with levels puzzles player board strategy fun multiplayer",
    "science": "numerical library for physics chemistry astronomy data analysis simulation",
    "x11": "window manager desktop theme icons panel display X server fonts xterm",
}


def _corpus():
    for path in DATA:
        if os.path.exists(path):
            rows = []
            with open(path, encoding="utf-8") as f:
                for line in f:
                    label, _, text = line.rstrip("\n").partition("\t")
                    if label in FALLBACK:
                        rows.append((label, text[:300]))
            rng = random.Random(7)
            rng.shuffle(rows)
            by_label = {k: [t for l, t in rows if l == k] for k in FALLBACK}
            return by_label
    # No corpus file: synthetic texts, each class with its own words (and made-up ones, so the
    # vocabulary is large enough for the selectors) plus words every class uses.
    rng = random.Random(7)
    common = ["the", "and", "for", "with", "tool", "data", "free", "open"]
    texts = {}
    for label, seed in FALLBACK.items():
        own = seed.split() + [f"{label[:2]}{rng.randrange(10 ** 5)}" for _ in range(150)]
        texts[label] = [
            " ".join(rng.choice(own) if rng.random() < 0.7 else rng.choice(common) for _ in range(14))
            for _ in range(60)
        ]
    return texts


CORPUS = _corpus()


def data(labels=("games", "science", "x11"), n=24, test=16):
    """(train texts, train labels, test texts)."""
    x, y, held = [], [], []
    for label in labels:
        x += CORPUS[label][:n]
        y += [label] * n
        held += CORPUS[label][n:n + test // len(labels) + 1]
    held += ["", "zzz unknown words only", "game physics window"]
    return x, np.array(y), held


# ----------------------------------------------------------------------------------------------
# Helpers


def raw_rows(vectorizer, texts):
    """The vectorizer's own output (before any tf-idf weighting) as sparse rows."""
    from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer

    if type(vectorizer) is TfidfVectorizer:
        X = CountVectorizer.transform(vectorizer, texts)
    else:
        X = vectorizer.transform(texts)
    X = X.tocsr()
    X.sort_indices()
    return [
        list(zip(X.indices[a:b].tolist(), X.data[a:b].astype(np.float64).tolist()))
        for a, b in zip(X.indptr, X.indptr[1:])
    ]


def front_vectorizers(front):
    """The vectorizers of the model's front in the order of the model's branches."""
    kind = type(front).__name__
    if kind == "FeatureUnion":
        return [
            walk.flatten(t, n)[0][1]
            for n, t in front.transformer_list
            if t is not None and not (isinstance(t, str) and t == "drop")
        ]
    if kind == "ColumnTransformer":
        return [
            walk.flatten(t, n)[0][1]
            for n, t, c in front.transformers_
            if not isinstance(t, str) and not walk._empty_selection(c)
        ]
    return [front]


def close(a, b):
    return abs(a - b) <= TOLERANCE * max(1.0, abs(a), abs(b))


def same_numbers(a, b):
    if a is None or b is None:
        return a is None and b is None
    return len(a) == len(b) and all(close(x, y) for x, y in zip(a, b))


def check(estimator, texts, version=None, fitted_on=None, exact=False):
    """Exports `estimator`, evaluates the model with the reference evaluator and compares with
    sklearn (`exact`: scores and probabilities bit for bit). Returns the model."""
    model = classify_export.to_model(estimator)
    json.dumps(model, allow_nan=False)
    if version is not None:
        assert model["format_version"] == version, (model["format_version"], version)
    plan = walk.build(walk.flatten(estimator))
    expected = verify.sklearn_predictions(plan, texts)
    rows = [raw_rows(v, texts) for v in front_vectorizers(plan.transforms[0])]
    got = reference.evaluate(model, rows)
    problems = []
    same = (lambda a, b: a == b) if exact else same_numbers
    for i, (e, g) in enumerate(zip(expected, got)):
        if e["label"] != g["label"]:
            problems.append(f"text {i}: label sklearn {e['label']!r}, reference {g['label']!r}")
        if not same(e["scores"], g["scores"]):
            problems.append(f"text {i}: scores sklearn {e['scores']}, reference {g['scores']}")
        if not same(e["probabilities"], g["probabilities"]):
            problems.append(
                f"text {i}: probabilities sklearn {e['probabilities']}, reference "
                f"{g['probabilities']}"
            )
    assert not problems, "\n".join(problems[:8])
    return model


def refused(estimator, *needles):
    try:
        classify_export.to_model(estimator)
    except Unsupported as e:
        message = str(e)
        for needle in needles:
            assert needle in message, f"{needle!r} not in {message!r}"
        return message
    raise AssertionError(f"{type(estimator).__name__} was not refused")


def steps_of(model):
    return [s["kind"] for s in model.get("steps", [])]


# ----------------------------------------------------------------------------------------------
# Format 1 shapes (unchanged schema)

from sklearn.feature_extraction.text import (  # noqa: E402
    CountVectorizer,
    HashingVectorizer,
    TfidfTransformer,
    TfidfVectorizer,
)
from sklearn.linear_model import (  # noqa: E402
    LogisticRegression,
    LogisticRegressionCV,
    PassiveAggressiveClassifier,
    Perceptron,
    RidgeClassifier,
    RidgeClassifierCV,
    SGDClassifier,
)
from sklearn.naive_bayes import BernoulliNB, ComplementNB, MultinomialNB  # noqa: E402
from sklearn.pipeline import FeatureUnion, Pipeline, make_pipeline  # noqa: E402
from sklearn.svm import SVC, LinearSVC, NuSVC  # noqa: E402


def test_v1_linear_models():
    x, y, held = data()
    xb, yb, heldb = data(("games", "science"))
    for clf in (
        LinearSVC(),
        RidgeClassifier(),
        RidgeClassifierCV(),
        Perceptron(random_state=0),
        SGDClassifier(loss="log_loss", random_state=0),
        MultinomialNB(),
        ComplementNB(),
    ):
        for X, Y, H in ((x, y, held), (xb, yb, heldb)):
            model = check(make_pipeline(CountVectorizer(), TfidfTransformer(), clf).fit(X, Y), H, 1)
            assert model["classifier"]["kind"] == "linear"
            assert model["classifier"]["estimator"] == type(clf).__name__
            assert list(model)[:4] == ["format", "format_version", "metadata", "vectorizer"]
            assert "steps" not in model and "union" not in model


def test_passive_aggressive():
    x, y, held = data()
    check(make_pipeline(TfidfVectorizer(), PassiveAggressiveClassifier(random_state=0)).fit(x, y), held, 1)


def test_logistic_regression_probability_kind():
    """The bug of issue #17: binary models under 1.5-1.7 are one-vs-rest, not softmax."""
    xb, yb, heldb = data(("games", "science"))
    x, y, held = data()
    model = check(make_pipeline(TfidfVectorizer(), LogisticRegression()).fit(xb, yb), heldb, 1)
    assert model["classifier"]["probability"] == "ovr_sigmoid"
    model = check(make_pipeline(TfidfVectorizer(), LogisticRegression()).fit(x, y), held, 1)
    assert model["classifier"]["probability"] == "softmax"
    model = check(make_pipeline(TfidfVectorizer(), LogisticRegression(solver="liblinear")).fit(xb, yb), heldb, 1)
    assert model["classifier"]["probability"] == "ovr_sigmoid"
    if compat.has_init_parameter(LogisticRegression, "multi_class"):
        for multi_class, expected in (("ovr", "ovr_sigmoid"), ("multinomial", "softmax")):
            for X, Y, H in ((x, y, held), (xb, yb, heldb)):
                clf = LogisticRegression(multi_class=multi_class)
                model = check(make_pipeline(TfidfVectorizer(), clf).fit(X, Y), H, 1)
                assert model["classifier"]["probability"] == expected
    model = check(make_pipeline(TfidfVectorizer(), LogisticRegressionCV(cv=3)).fit(x, y), held, 1)
    assert model["classifier"]["estimator"] == "LogisticRegressionCV"


def test_logistic_probability_safety_net():
    """A formula that does not match predict_proba is refused, naming the sklearn version."""
    xb, yb, _ = data(("games", "science"))
    pipe = make_pipeline(TfidfVectorizer(), LogisticRegression()).fit(xb, yb)
    original = compat.logistic_probability
    compat.logistic_probability = lambda clf: "softmax"
    try:
        refused(pipe, "LogisticRegression.predict_proba", sklearn.__version__)
    finally:
        compat.logistic_probability = original


def test_naive_bayes_and_bernoulli():
    x, y, held = data()
    model = check(make_pipeline(CountVectorizer(binary=True), BernoulliNB(binarize=None)).fit(x, y), held, 1)
    assert model["classifier"]["estimator"] == "BernoulliNB"
    model = check(make_pipeline(CountVectorizer(), BernoulliNB()).fit(x, y), held, 2)
    assert model["steps"] == [{"kind": "binarize", "estimator": "BernoulliNB", "threshold": 0.0}]
    model = check(make_pipeline(TfidfVectorizer(), BernoulliNB(binarize=0.1)).fit(x, y), held, 2)
    assert model["steps"][0]["threshold"] == 0.1


def test_hashing_vectorizer():
    x, y, held = data()
    check(make_pipeline(HashingVectorizer(n_features=2**10), TfidfTransformer(), LinearSVC()).fit(x, y), held, 1)
    check(make_pipeline(HashingVectorizer(n_features=2**9, norm="l1", alternate_sign=False),
                        MultinomialNB()).fit(x, y), held, 1)


def test_kernel_svms():
    x, y, held = data()
    xb, yb, heldb = data(("games", "science"))
    for X, Y, H in ((x, y, held), (xb, yb, heldb)):
        model = check(make_pipeline(TfidfVectorizer(), SVC(probability=True, random_state=0)).fit(X, Y), H, 1)
        assert model["classifier"]["prob_a"] is not None
        check(make_pipeline(TfidfVectorizer(), SVC(kernel="poly", degree=2, decision_function_shape="ovo")).fit(X, Y), H, 1)
        check(make_pipeline(CountVectorizer(), NuSVC(kernel="sigmoid", nu=0.3)).fit(X, Y), H, 1)


# ----------------------------------------------------------------------------------------------
# Format 2: new classifier kinds


def test_sgd_modified_huber():
    x, y, held = data()
    xb, yb, heldb = data(("games", "science"))
    for X, Y, H in ((x, y, held), (xb, yb, heldb)):
        model = check(make_pipeline(TfidfVectorizer(), SGDClassifier(loss="modified_huber", random_state=0)).fit(X, Y), H, 2)
        assert model["classifier"]["probability"] == "modified_huber"


def test_nearest_centroid():
    from sklearn.neighbors import NearestCentroid

    x, y, held = data()
    xb, yb, heldb = data(("games", "science"))
    for X, Y, H in ((x, y, held), (xb, yb, heldb)):
        model = check(make_pipeline(TfidfVectorizer(), NearestCentroid()).fit(X, Y), H, 2)
        c = model["classifier"]
        assert c["kind"] == "nearest_centroid" and c["predict"] == "nearest"
        assert c["decision"] == ("discriminant" if SKLEARN >= (1, 6) else "distances")
        # CountVectorizer: sklearn < 1.5's TfidfTransformer leaves column indices unsorted, and
        # its pairwise_distances_argmin(metric="manhattan") then mispredicts (a sklearn bug).
        check(make_pipeline(CountVectorizer(), NearestCentroid(metric="manhattan")).fit(X, Y), H, 2)
    if SKLEARN >= (1, 6):
        xu, yu, heldu = x[:40], y[:40], held  # unequal classes: empirical priors are not uniform
        model = check(make_pipeline(TfidfVectorizer(), NearestCentroid(priors="empirical")).fit(xu, yu), heldu, 2)
        assert model["classifier"]["predict"] == "max_score"


def _tree_shape(model, estimator, combine, n_trees, n_classes):
    c = model["classifier"]
    assert (c["kind"], c["estimator"], c["combine"]) == ("trees", estimator, combine)
    assert len(c["trees"]) == n_trees and len(c["classes"]) == n_classes
    for tree in c["trees"]:
        n_nodes = len(tree["children_left"])
        assert all(len(tree[k]) == n_nodes for k in ("children_right", "feature", "threshold"))
        n_leaves = tree["children_left"].count(-1)
        assert len(tree["leaf_values"]) == len(tree["leaf_class"]) == n_leaves
        assert all(len(row) == n_classes for row in tree["leaf_values"])
        assert all(0 <= k < n_classes for k in tree["leaf_class"])


def test_trees():
    from sklearn.ensemble import ExtraTreesClassifier, RandomForestClassifier
    from sklearn.tree import DecisionTreeClassifier

    for labels in (("games", "science", "x11"), ("games", "science")):
        X, Y, H = data(labels, n=40, test=40)
        n = len(labels)
        pipe = make_pipeline(CountVectorizer(ngram_range=(1, 2)), DecisionTreeClassifier(random_state=0))
        model = check(pipe.fit(X, Y), H, 2, exact=True)
        _tree_shape(model, "DecisionTreeClassifier", "single", 1, n)
        tree = model["classifier"]["trees"][0]
        assert tree["feature"] == pipe[-1].tree_.feature.tolist()
        assert tree["threshold"] == pipe[-1].tree_.threshold.tolist()
        pipe = make_pipeline(TfidfVectorizer(), RandomForestClassifier(n_estimators=15, random_state=0))
        model = check(pipe.fit(X, Y), H, 2, exact=True)
        _tree_shape(model, "RandomForestClassifier", "mean", 15, n)
        pipe = make_pipeline(TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 3)),
                             ExtraTreesClassifier(n_estimators=15, min_samples_leaf=2, random_state=0))
        model = check(pipe.fit(X, Y), H, 2, exact=True)
        _tree_shape(model, "ExtraTreesClassifier", "mean", 15, n)
    # Integer labels, class weights, a best-first tree (max_leaf_nodes), no bootstrap.
    X, Y, H = data(n=40, test=40)
    Yi = np.array([{"games": 7, "science": -3, "x11": 12}[v] for v in Y])
    pipe = make_pipeline(CountVectorizer(), RandomForestClassifier(
        n_estimators=10, max_leaf_nodes=12, class_weight="balanced", bootstrap=False, random_state=1))
    model = check(pipe.fit(X, Yi), H, 2, exact=True)
    assert model["classifier"]["classes"] == [-3, 7, 12]
    pipe = make_pipeline(TfidfVectorizer(), DecisionTreeClassifier(max_depth=3, class_weight="balanced"))
    check(pipe.fit(X, Y), H, 2, exact=True)


def test_trees_after_truncated_svd():
    """Dense rows: every value is a generic double that sklearn rounds to float32."""
    from sklearn.decomposition import TruncatedSVD
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.tree import DecisionTreeClassifier

    X, Y, H = data(n=40, test=40)
    pipe = make_pipeline(TfidfVectorizer(), TruncatedSVD(15, random_state=0),
                         RandomForestClassifier(n_estimators=12, random_state=0))
    model = check(pipe.fit(X, Y), H, 2, exact=True)
    assert steps_of(model) == ["project"]
    _tree_shape(model, "RandomForestClassifier", "mean", 12, 3)
    pipe = make_pipeline(TfidfVectorizer(), TruncatedSVD(10, random_state=0), DecisionTreeClassifier(random_state=0))
    check(pipe.fit(X, Y), H, 2, exact=True)


def threshold_rows(forest):
    """One dense row per internal node of every tree: zeros, with the node's feature set to its
    threshold (a double between two float32s)."""
    rows = []
    for tree in forest.estimators_:
        for node in np.flatnonzero(tree.tree_.children_left != -1):
            row = np.zeros(forest.n_features_in_)
            row[tree.tree_.feature[node]] = tree.tree_.threshold[node]
            rows.append(row)
    return np.array(rows)


def test_trees_compare_the_float32_value():
    """Rows whose values are the trees' thresholds themselves (doubles between two float32s): the
    reference evaluator goes where sklearn goes, and float64 comparisons would not."""
    from sklearn.decomposition import TruncatedSVD
    from sklearn.ensemble import RandomForestClassifier

    X, Y, _ = data(n=40)
    pipe = make_pipeline(TfidfVectorizer(), TruncatedSVD(8, random_state=0),
                         RandomForestClassifier(n_estimators=5, random_state=0)).fit(X, Y)
    model = classify_export.to_model(pipe)
    forest = pipe[-1]
    rows = threshold_rows(forest)
    theirs = forest.predict_proba(rows)
    labels = forest.predict(rows)
    trees = model["classifier"]["trees"]
    float64_differs = 0
    for row, p, label in zip(rows, theirs, labels):
        index, scores, probabilities = reference.classify(model["classifier"], reference.Row(dense=list(row)))
        assert probabilities == p.tolist() and scores == probabilities
        assert model["classifier"]["classes"][index] == label
        leaves = [reference._leaf_row(t, dict(enumerate(row))) for t in trees]
        float64_differs += any(_float64_leaf(t, row) != leaf for t, leaf in zip(trees, leaves))
    assert float64_differs, "no row where the float32 rounding decides: the test proves nothing"


def _float64_leaf(tree, row):
    node = 0
    while tree["children_left"][node] != -1:
        go_left = row[tree["feature"][node]] <= tree["threshold"][node]
        node = tree["children_left"][node] if go_left else tree["children_right"][node]
    return tree["children_left"][:node].count(-1)


def test_trees_refusals():
    from sklearn.ensemble import ExtraTreesClassifier, RandomForestClassifier
    from sklearn.tree import DecisionTreeClassifier

    x, y, _ = data()
    two = np.column_stack([y, np.where(y == "games", "fun", "other")])
    for clf in (DecisionTreeClassifier(), RandomForestClassifier(n_estimators=3), ExtraTreesClassifier(n_estimators=3)):
        name = type(clf).__name__
        message = refused(make_pipeline(TfidfVectorizer(), clf).fit(x, two), "multi-output", "2 target columns", name)
        assert f"step {name.lower()!r}" in message, message
        refused(make_pipeline(TfidfVectorizer().fit(x), type(clf)()), "not fitted")
    vec = TfidfVectorizer().fit(x)
    other = RandomForestClassifier(n_estimators=3).fit(CountVectorizer(ngram_range=(1, 2)).fit_transform(x), y)
    refused(Pipeline([("vec", vec), ("clf", other)]), "step 'clf' (RandomForestClassifier)", "fitted on")


def test_trees_probability_safety_net():
    """A leaf formula that does not give predict_proba is refused, naming the sklearn version."""
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.tree import DecisionTreeClassifier

    x, y, _ = data()
    original = compat.tree_leaf_probabilities
    compat.tree_leaf_probabilities = lambda value: original(value)[:, ::-1]
    try:
        for clf in (DecisionTreeClassifier(random_state=0), RandomForestClassifier(n_estimators=3, random_state=0)):
            refused(make_pipeline(TfidfVectorizer(), clf).fit(x, y), f"{type(clf).__name__} of sklearn",
                    sklearn.__version__, "predict_proba")
    finally:
        compat.tree_leaf_probabilities = original
    assert compat.tree_value_is_fraction() == (SKLEARN >= (1, 4))


def test_trees_inside_wrappers():
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.ensemble import RandomForestClassifier, VotingClassifier
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.tree import DecisionTreeClassifier

    x, y, held = data(n=40, test=30)
    voting = VotingClassifier([("forest", RandomForestClassifier(n_estimators=8, random_state=0)),
                               ("lr", LogisticRegression())], voting="soft")
    model = check(make_pipeline(TfidfVectorizer(), voting).fit(x, y), held, 2)
    assert [m["kind"] for m in model["classifier"]["estimators"]] == ["trees", "linear"]
    calibrated = CalibratedClassifierCV(DecisionTreeClassifier(max_depth=4, random_state=0), cv=3)
    model = check(make_pipeline(TfidfVectorizer(), calibrated).fit(x, y), held, 2)
    assert model["classifier"]["members"][0]["response"] == "predict_proba"
    ovr = OneVsRestClassifier(DecisionTreeClassifier(max_depth=3, random_state=0))
    check(make_pipeline(TfidfVectorizer(), ovr).fit(x, y), held, 2)


# ----------------------------------------------------------------------------------------------
# Format 2: steps


def test_feature_selection_steps():
    from sklearn.feature_selection import (
        GenericUnivariateSelect,
        SelectFromModel,
        SelectKBest,
        SelectPercentile,
        VarianceThreshold,
        chi2,
    )

    x, y, held = data()
    for selector in (
        SelectKBest(chi2, k=50),
        SelectPercentile(chi2, percentile=20),
        GenericUnivariateSelect(chi2, mode="k_best", param=30),
        VarianceThreshold(0.001),
        SelectFromModel(LinearSVC(penalty="l1", dual=False, C=0.5)),
    ):
        model = check(make_pipeline(TfidfVectorizer(), selector, LinearSVC()).fit(x, y), held, 2)
        step = model["steps"][0]
        assert step["kind"] == "select" and step["estimator"] == type(selector).__name__
        assert step["support"] == sorted(step["support"])
        assert len(model["classifier"]["coef"][0]) == len(step["support"])


def test_scaling_and_normalizing_steps():
    from sklearn.preprocessing import MaxAbsScaler, Normalizer, StandardScaler

    x, y, held = data()
    for norm in ("l1", "l2", "max"):
        model = check(make_pipeline(CountVectorizer(), Normalizer(norm=norm), LinearSVC()).fit(x, y), held, 2)
        assert model["steps"] == [{"kind": "normalize", "estimator": "Normalizer", "norm": norm}]
    model = check(make_pipeline(CountVectorizer(), MaxAbsScaler(), LogisticRegression()).fit(x, y), held, 2)
    assert steps_of(model) == ["scale"]
    model = check(make_pipeline(CountVectorizer(), StandardScaler(with_mean=False), LinearSVC()).fit(x, y), held, 2)
    assert steps_of(model) == ["scale"]
    model = check(make_pipeline(CountVectorizer(), StandardScaler(with_mean=False, with_std=False),
                                LinearSVC()).fit(x, y), held, 1)
    assert "steps" not in model


def test_truncated_svd_then_centering():
    from sklearn.decomposition import TruncatedSVD
    from sklearn.preprocessing import Normalizer, StandardScaler

    x, y, held = data()
    pipe = make_pipeline(TfidfVectorizer(), TruncatedSVD(20, random_state=0), Normalizer(),
                         StandardScaler(), LogisticRegression())
    model = check(pipe.fit(x, y), held, 2)
    assert steps_of(model) == ["project", "normalize", "center", "scale"]
    assert model["steps"][0]["n_features_in"] == len(model["vectorizer"]["vocabulary"])
    pipe = make_pipeline(TfidfVectorizer(), TruncatedSVD(15, random_state=0), SVC(probability=True, random_state=0))
    check(pipe.fit(x, y), held, 2)


def test_tfidf_transformer_later_and_twice():
    from sklearn.feature_selection import SelectKBest, chi2

    x, y, held = data()
    model = check(make_pipeline(CountVectorizer(), SelectKBest(chi2, k=40), TfidfTransformer(), LinearSVC()).fit(x, y), held, 2)
    assert steps_of(model) == ["select", "tfidf"] and "tfidf" not in model
    model = check(make_pipeline(TfidfVectorizer(), TfidfTransformer(sublinear_tf=True), LinearSVC()).fit(x, y), held, 2)
    assert "tfidf" in model and steps_of(model) == ["tfidf"]


def test_binarizer_step():
    from sklearn.preprocessing import Binarizer

    x, y, held = data()
    model = check(make_pipeline(CountVectorizer(), Binarizer(threshold=1.0), MultinomialNB()).fit(x, y), held, 2)
    assert model["steps"] == [{"kind": "binarize", "estimator": "Binarizer", "threshold": 1.0}]


def test_nested_pipelines_and_passthrough():
    from sklearn.feature_selection import SelectKBest, chi2

    x, y, held = data()
    pipe = Pipeline([
        ("text", make_pipeline(CountVectorizer(ngram_range=(1, 2)), TfidfTransformer())),
        ("skip", "passthrough"),
        ("nothing", None),
        ("model", make_pipeline(SelectKBest(chi2, k=60), LinearSVC())),
    ])
    model = check(pipe.fit(x, y), held, 2)
    assert "tfidf" in model and steps_of(model) == ["select"]
    assert model["metadata"]["pipeline"] == (
        "Pipeline(Pipeline(CountVectorizer, TfidfTransformer), passthrough, "
        "Pipeline(SelectKBest, LinearSVC))"
    )


def test_step_width_mismatch_is_refused():
    from sklearn.feature_selection import SelectKBest, chi2

    x, y, _ = data()
    selector = SelectKBest(chi2, k=10).fit(CountVectorizer(ngram_range=(1, 2)).fit_transform(x), y)
    vectorizer = CountVectorizer().fit(x)
    clf = LinearSVC().fit(selector.transform(CountVectorizer(ngram_range=(1, 2)).fit(x).transform(x)), y)
    pipe = Pipeline([("vec", vectorizer), ("select", selector), ("clf", clf)])
    refused(pipe, "step 'select' (SelectKBest)", "fitted on")


# ----------------------------------------------------------------------------------------------
# Format 2: unions


def test_feature_union():
    from sklearn.feature_selection import SelectKBest, chi2

    x, y, held = data()
    union = FeatureUnion(
        [
            ("words", TfidfVectorizer()),
            ("chars", make_pipeline(CountVectorizer(analyzer="char_wb", ngram_range=(2, 3)),
                                    TfidfTransformer(), SelectKBest(chi2, k=80))),
            ("gone", "drop"),
        ],
        transformer_weights={"words": 2.0, "chars": 0.5},
    )
    model = check(make_pipeline(union, LinearSVC()).fit(x, y), held, 2)
    branches = model["union"]["branches"]
    assert [b["name"] for b in branches] == ["words", "chars"]
    assert [b["weight"] for b in branches] == [2.0, 0.5]
    assert branches[1]["tfidf"] is not None and [s["kind"] for s in branches[1]["steps"]] == ["select"]
    assert "vectorizer" not in model and "tfidf" not in model
    union = FeatureUnion([("a", CountVectorizer()),
                          ("b", HashingVectorizer(n_features=256, alternate_sign=False))])
    model = check(make_pipeline(union, MultinomialNB(alpha=0.5)).fit(x, y), held, 2)
    assert model["union"]["branches"][1]["weight"] == 1.0


def test_column_transformer():
    from sklearn.compose import ColumnTransformer
    from sklearn.feature_selection import SelectKBest, chi2

    x, y, held = data()
    table = np.empty((len(x), 2), dtype=object)
    table[:, 0] = "ignored"
    table[:, 1] = x
    single = ColumnTransformer([("text", TfidfVectorizer(), 1)])
    model = check(make_pipeline(single, LinearSVC()).fit(table, y), held, 1)
    assert "vectorizer" in model
    single_steps = ColumnTransformer([("text", make_pipeline(CountVectorizer(), SelectKBest(chi2, k=30)), 1)])
    model = check(make_pipeline(single_steps, LinearSVC()).fit(table, y), held, 2)
    assert steps_of(model) == ["select"]
    double = ColumnTransformer(
        [("words", TfidfVectorizer(), 1), ("chars", TfidfVectorizer(analyzer="char", ngram_range=(2, 2)), 1)],
        transformer_weights={"chars": 0.3},
    )
    model = check(make_pipeline(double, LogisticRegression()).fit(table, y), held, 2)
    assert [b["name"] for b in model["union"]["branches"]] == ["words", "chars"]
    refused(make_pipeline(ColumnTransformer([("a", TfidfVectorizer(), 0), ("b", TfidfVectorizer(), 1)]),
                          LinearSVC()).fit(table, y), "same one")
    refused(make_pipeline(ColumnTransformer([("a", TfidfVectorizer(), 1)], remainder="passthrough"),
                          LinearSVC()), "not fitted")


def test_column_transformer_on_a_dataframe():
    from sklearn.compose import ColumnTransformer

    pandas = pytest.importorskip("pandas")
    x, y, held = data()
    frame = pandas.DataFrame({"title": ["t"] * len(x), "body": x})
    model = check(make_pipeline(ColumnTransformer([("body", TfidfVectorizer(), "body")]), LinearSVC()).fit(frame, y), held, 1)


# ----------------------------------------------------------------------------------------------
# Format 2: wrappers


def test_search_cv():
    from sklearn.model_selection import GridSearchCV, RandomizedSearchCV

    x, y, held = data()
    pipe = make_pipeline(TfidfVectorizer(), LinearSVC())
    search = GridSearchCV(pipe, {"linearsvc__C": [0.1, 1.0]}, cv=2).fit(x, y)
    model = check(search, held, 1)
    assert model["metadata"]["pipeline"].startswith("GridSearchCV(Pipeline(TfidfVectorizer")
    search = RandomizedSearchCV(pipe, {"linearsvc__C": [0.1, 1.0]}, n_iter=2, cv=2, random_state=0).fit(x, y)
    check(search, held, 1)
    inner = make_pipeline(TfidfVectorizer(), GridSearchCV(LogisticRegression(), {"C": [1, 10]}, cv=2)).fit(x, y)
    check(inner, held, 1)
    refused(GridSearchCV(pipe, {"linearsvc__C": [0.1, 1.0]}, cv=2, refit=False).fit(x, y), "refit=False")
    from sklearn.experimental import enable_halving_search_cv  # noqa: F401
    from sklearn.model_selection import HalvingGridSearchCV

    search = HalvingGridSearchCV(pipe, {"linearsvc__C": [0.1, 1.0]}, cv=2, min_resources=20).fit(x, y)
    check(search, held, 1)


def test_calibrated():
    from sklearn.calibration import CalibratedClassifierCV

    x, y, held = data()
    xb, yb, heldb = data(("games", "science"))
    for X, Y, H in ((x, y, held), (xb, yb, heldb)):
        for method in ("sigmoid", "isotonic"):
            for ensemble in (True, False):
                for base in (LinearSVC(), MultinomialNB()):
                    clf = CalibratedClassifierCV(base, method=method, cv=3, ensemble=ensemble)
                    model = check(make_pipeline(TfidfVectorizer(), clf).fit(X, Y), H, 2)
                    c = model["classifier"]
                    assert c["kind"] == "calibrated" and c["method"] == method
                    assert len(c["members"]) == (3 if ensemble else 1)
                    member = c["members"][0]
                    assert member["response"] == ("predict_proba" if type(base) is MultinomialNB else "decision_function")
                    assert member["class_indices"] == ([1] if len(set(Y)) == 2 else [0, 1, 2])


def test_calibrated_temperature_is_refused():
    from sklearn.calibration import CalibratedClassifierCV

    x, y, _ = data()
    try:  # sklearn >= 1.8
        fitted = make_pipeline(TfidfVectorizer(), CalibratedClassifierCV(LinearSVC(), method="temperature", cv=3)).fit(x, y)
    except ValueError as e:
        pytest.skip(f"sklearn {sklearn.__version__} has no method='temperature': {e}")
    refused(fitted, "method='temperature'")


def test_calibrated_prefit():
    from sklearn.calibration import CalibratedClassifierCV

    x, y, held = data()
    vec = TfidfVectorizer().fit(x)
    base = LinearSVC().fit(vec.transform(x), y)
    try:
        from sklearn.frozen import FrozenEstimator

        clf = CalibratedClassifierCV(FrozenEstimator(base))
    except ImportError:
        clf = CalibratedClassifierCV(base, cv="prefit")
    clf.fit(vec.transform(x), y)
    check(Pipeline([("vec", vec), ("clf", clf)]), held, 2)


def test_one_vs_rest_and_one_vs_one():
    from sklearn.multiclass import OneVsOneClassifier, OneVsRestClassifier

    x, y, held = data()
    xb, yb, heldb = data(("games", "science"))
    for X, Y, H in ((x, y, held), (xb, yb, heldb)):
        for base in (LinearSVC(), LogisticRegression(), MultinomialNB(), SVC(kernel="linear")):
            model = check(make_pipeline(TfidfVectorizer(), OneVsRestClassifier(base)).fit(X, Y), H, 2)
            c = model["classifier"]
            assert c["kind"] == "one_vs_rest" and all(m["classes"] == [0, 1] for m in c["estimators"])
            assert len(c["estimators"]) == (1 if len(set(Y)) == 2 else 3)
            assert c["ties"] == ("lowest" if SKLEARN >= (1, 8) else "highest")
            model = check(make_pipeline(TfidfVectorizer(), OneVsOneClassifier(base)).fit(X, Y), H, 2)
            assert model["classifier"]["kind"] == "one_vs_one"
    # Fitted on an indicator matrix it is a multi-label model (tested below).
    multi = make_pipeline(TfidfVectorizer(), OneVsRestClassifier(LinearSVC())).fit(
        x, np.array([[1, 0], [0, 1], [1, 1]] * (len(x) // 3)))
    assert classify_export.to_model(multi)["classifier"]["kind"] == "multi_label"


def test_voting():
    from sklearn.ensemble import VotingClassifier
    from sklearn.feature_selection import SelectKBest, chi2

    x, y, held = data()
    members = [
        ("lr", LogisticRegression()),
        ("nb", MultinomialNB()),
        ("sel", make_pipeline(SelectKBest(chi2, k=40), LogisticRegression(C=10))),
        ("bnb", BernoulliNB()),
        ("off", "drop"),
    ]
    for voting, weights in (("soft", None), ("soft", [1, 2, 0.5, 1, 3]), ("hard", None), ("hard", [1, 2, 0.5, 1, 3])):
        clf = VotingClassifier(members, voting=voting, weights=weights)
        model = check(make_pipeline(TfidfVectorizer(), clf).fit(x, y), held, 2)
        c = model["classifier"]
        assert c["voting"] == voting and len(c["estimators"]) == 4
        assert c["weights"] == (None if weights is None else [1.0, 2.0, 0.5, 1.0])
        assert [m["kind"] for m in c["estimators"]] == ["linear", "linear", "pipeline", "pipeline"]
        assert all(m["classes"] == [0, 1, 2] for m in c["estimators"])
    clf = VotingClassifier([("svc", SVC(probability=True, random_state=0)), ("lr", LogisticRegression())], voting="soft")
    check(make_pipeline(TfidfVectorizer(), clf).fit(x, y), held, 2)
    bad = VotingClassifier([("a", make_pipeline(TfidfVectorizer(), LinearSVC())), ("b", make_pipeline(CountVectorizer(), LinearSVC()))])
    refused(bad.fit(x, y), "must start with a vectorizer")
    bad = make_pipeline(TfidfVectorizer(), VotingClassifier([("a", LinearSVC()), ("b", LinearSVC(C=2))]))
    check(bad.fit(x, y), held, 2)


def test_wrapper_member_with_vectorizer_is_refused():
    from sklearn.ensemble import VotingClassifier

    x, y, _ = data()
    voting = VotingClassifier([("a", make_pipeline(TfidfVectorizer(), LinearSVC())),
                               ("b", make_pipeline(CountVectorizer(), LinearSVC()))]).fit(x, y)
    message = refused(make_pipeline(TfidfVectorizer().fit(x), voting), "own text transformer", "FeatureUnion")
    assert "member 'a'" in message and "TfidfVectorizer" in message, message


# ----------------------------------------------------------------------------------------------
# Multi-label (kind `multi_label`): OneVsRestClassifier and MultiOutputClassifier fitted on an
# indicator matrix


def multilabel_data():
    """(train texts, indicator matrix, label sets, held-out texts, tags): each text's labels are
    derived from its section and length: "games" and "science" for those sections (x11 has no
    section label), "graphical" for games and x11, "long" for more words than the median
    training text. Columns in `tags` order."""
    x, y, held = data(n=30, test=24)
    median = sorted(len(t.split()) for t in x)[len(x) // 2]
    sets = []
    for section, text in zip(y, x):
        tags = {section} & {"games", "science"}
        if section in ("games", "x11"):
            tags.add("graphical")
        if len(text.split()) > median:
            tags.add("long")
        sets.append(tags)
    tags = ["games", "science", "graphical", "long"]
    indicator = np.array([[int(t in s) for t in tags] for s in sets])
    assert (indicator.min(axis=0) == 0).all() and (indicator.max(axis=0) == 1).all(), indicator.sum(axis=0)
    held = [t.replace("\n", " ").replace("\r", " ") for t in held] + ["Ünïcødé ΟΔΟΣ 東京", "game game game"]
    return x, indicator, sets, held, tags


def _multilabel_shapes():
    """(description, unfitted pipeline, threshold, response, with probabilities) for each shape."""
    from sklearn.decomposition import TruncatedSVD
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.feature_selection import SelectKBest, chi2
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.multioutput import MultiOutputClassifier
    from sklearn.preprocessing import MaxAbsScaler
    from sklearn.tree import DecisionTreeClassifier

    return [
        ("OvR LinearSVC", make_pipeline(TfidfVectorizer(ngram_range=(1, 2)), OneVsRestClassifier(LinearSVC())),
         0.0, "decision_function", False),
        ("OvR LogisticRegression", make_pipeline(CountVectorizer(), OneVsRestClassifier(LogisticRegression(C=10))),
         0.0, "decision_function", True),
        ("OvR MultinomialNB", make_pipeline(CountVectorizer(), OneVsRestClassifier(MultinomialNB())),
         0.5, "predict_proba", True),
        ("OvR SVC probability", make_pipeline(TfidfVectorizer(), OneVsRestClassifier(
            SVC(kernel="linear", probability=True, random_state=0))), 0.0, "decision_function", True),
        ("OvR Pipeline(MaxAbsScaler, LinearSVC) members", make_pipeline(
            TfidfVectorizer(), OneVsRestClassifier(make_pipeline(MaxAbsScaler(), LinearSVC()))),
         0.0, "decision_function", False),
        ("SelectKBest(chi2) then OvR LinearSVC", make_pipeline(
            TfidfVectorizer(), SelectKBest(chi2, k=60), OneVsRestClassifier(LinearSVC())),
         0.0, "decision_function", False),
        ("MultiOutput LogisticRegression", make_pipeline(
            TfidfVectorizer(), MultiOutputClassifier(LogisticRegression(C=10))), None, "decision_function", True),
        ("MultiOutput LinearSVC", make_pipeline(TfidfVectorizer(), MultiOutputClassifier(LinearSVC())),
         None, "decision_function", False),
        ("MultiOutput MultinomialNB", make_pipeline(CountVectorizer(), MultiOutputClassifier(MultinomialNB())),
         None, "predict_proba", True),
        ("MultiOutput RandomForest", make_pipeline(CountVectorizer(), MultiOutputClassifier(
            RandomForestClassifier(n_estimators=6, random_state=0))), None, "predict_proba", True),
        ("MultiOutput DecisionTree", make_pipeline(CountVectorizer(), MultiOutputClassifier(
            DecisionTreeClassifier(max_depth=5, random_state=0))), None, "predict_proba", True),
        ("TruncatedSVD then MultiOutput LogisticRegression", make_pipeline(
            TfidfVectorizer(), TruncatedSVD(12, random_state=0), MultiOutputClassifier(LogisticRegression(C=10))),
         None, "decision_function", True),
    ]


def check_multilabel(estimator, texts, labels=None):
    """Exports a multi-label `estimator`, evaluates the model with the reference evaluator and
    compares with sklearn's predict (label sets exactly), scores and probabilities (1e-9)."""
    model = classify_export.to_model(estimator, labels=labels)
    json.dumps(model, allow_nan=False)
    assert model["format_version"] == 2 and model["classifier"]["kind"] == "multi_label"
    plan = walk.build(walk.flatten(estimator), labels)
    expected = verify.sklearn_predictions(plan, texts)
    rows = [raw_rows(v, texts) for v in front_vectorizers(plan.transforms[0])]
    got = reference.evaluate(model, rows)
    problems = []
    for i, (e, g) in enumerate(zip(expected, got)):
        for field in ("labels", "scores", "probabilities"):
            same = e[field] == g[field] if field == "labels" else same_numbers(e[field], g[field])
            if not same:
                problems.append(f"text {i}: {field} sklearn {e[field]}, reference {g[field]}")
    assert len(expected) == len(got) == len(texts)
    assert not problems, "\n".join(problems[:8])
    return model, expected


@pytest.mark.filterwarnings("ignore:The `probability` parameter:FutureWarning")  # sklearn >= 1.9
def test_multilabel_shapes():
    from scipy import sparse

    x, indicator, _, held, tags = multilabel_data()
    for description, pipe, threshold, response, probabilities in _multilabel_shapes():
        pipe.fit(x, indicator)
        model, expected = check_multilabel(pipe, held)
        c = model["classifier"]
        assert c["estimator"] == type(pipe[-1]).__name__, description
        assert (c["threshold"], c["response"]) == (threshold, response), (description, c["threshold"], c["response"])
        assert c["classes"] == [0, 1, 2, 3] and len(c["estimators"]) == 4, description
        assert all(m["classes"] == [0, 1] for m in c["estimators"]), description
        # The label sets are sklearn's own predict, column by column.
        predicted = pipe.predict(held)
        predicted = np.asarray(predicted.toarray() if sparse.issparse(predicted) else predicted)
        assert [e["labels"] for e in expected] == [[str(j) for j in np.flatnonzero(r)] for r in predicted]
        assert (expected[0]["probabilities"] is not None) == probabilities, description
        sizes = {len(e["labels"]) for e in expected}
        assert min(sizes) <= 1 and max(sizes) >= 2, (description, sizes)


def test_multilabel_search_cv_and_names():
    from sklearn.model_selection import GridSearchCV, KFold
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.preprocessing import MultiLabelBinarizer

    x, indicator, sets, held, tags = multilabel_data()
    pipe = make_pipeline(TfidfVectorizer(), OneVsRestClassifier(LinearSVC()))
    # Shuffled folds: the texts come sorted by section, and a fold without games would make
    # OneVsRestClassifier fit a constant for it (and warn).
    folds = KFold(2, shuffle=True, random_state=0)
    search = GridSearchCV(pipe, {"onevsrestclassifier__estimator__C": [0.1, 1.0]}, cv=folds).fit(x, indicator)
    check_multilabel(search, held)
    # Names: a MultiLabelBinarizer's sorted labels, a list in column order, int labels.
    mlb = MultiLabelBinarizer().fit(sets)
    pipe = make_pipeline(TfidfVectorizer(), OneVsRestClassifier(LogisticRegression())).fit(x, mlb.transform(sets))
    model, expected = check_multilabel(pipe, held, labels=mlb)
    assert model["classifier"]["classes"] == ["games", "graphical", "long", "science"]
    assert {label for e in expected for label in e["labels"]} <= set(mlb.classes_)
    assert classify_export.to_model(pipe, labels=list(mlb.classes_))["classifier"]["classes"] == list(mlb.classes_)
    numbered = MultiLabelBinarizer().fit([{10 * len(s) + k for k in range(2)} for s in sets])
    pipe = make_pipeline(TfidfVectorizer(), OneVsRestClassifier(LinearSVC())).fit(x, numbered.transform(
        [{10 * len(s) + k for k in range(2)} for s in sets]))
    model, _ = check_multilabel(pipe, held, labels=numbered)
    assert model["classifier"]["classes"] == [int(c) for c in numbered.classes_]


def test_multilabel_refusals():
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.multioutput import MultiOutputClassifier
    from sklearn.preprocessing import MultiLabelBinarizer
    from sklearn.tree import DecisionTreeClassifier

    from classify_export import wrappers

    x, indicator, sets, held, tags = multilabel_data()
    mlb = MultiLabelBinarizer().fit(sets)
    pipe = make_pipeline(TfidfVectorizer(), OneVsRestClassifier(LinearSVC())).fit(x, mlb.transform(sets))
    _refused_with(pipe, list(mlb.classes_)[:3], "3 labels were given", "4 columns", "MultiLabelBinarizer")
    _refused_with(pipe, MultiLabelBinarizer(), "not fitted")
    _refused_with(pipe, ["a", "b", "a", "c"], "'a' occurs twice")
    _refused_with(pipe, {"a": 0}, "is a dict", "MultiLabelBinarizer")
    _refused_with(pipe, [1.5, 2.5, 3.5, 4.5], "classes_", "str or int")
    # Labels for a model that answers one class.
    xs, ys, _ = data()
    single = make_pipeline(TfidfVectorizer(), LinearSVC()).fit(xs, ys)
    _refused_with(single, ["a", "b", "c"], "predicts one class per text", "leave them out")
    # A label present in every (or no) training text: sklearn fits a _ConstantPredictor.
    constant = mlb.transform(sets)
    constant[:, 1] = 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        ovr = make_pipeline(TfidfVectorizer(), OneVsRestClassifier(LinearSVC())).fit(x, constant)
    message = _refused_with(ovr, mlb, "label 'graphical' (indicator column 1)", "every training text",
                            "_ConstantPredictor", "drop that column", "refit")
    assert "without that label" in message, message
    constant[:, 1] = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        ovr = make_pipeline(TfidfVectorizer(), OneVsRestClassifier(MultinomialNB())).fit(x, constant)
    refused(ovr, "label 1 (indicator column 1)", "set for no training text", "with that label")
    # MultiOutputClassifier: each output must be a 0/1 column.
    _, sections, _ = data(n=30, test=24)
    multiclass = np.column_stack([indicator[:, 0], np.unique(sections, return_inverse=True)[1]])
    moc = make_pipeline(TfidfVectorizer(), MultiOutputClassifier(LogisticRegression())).fit(x, multiclass)
    refused(moc, "output 1 (label 1, LogisticRegression)", "3 classes", "multiclass output")
    moc = make_pipeline(TfidfVectorizer(), MultiOutputClassifier(DecisionTreeClassifier())).fit(x, constant)
    refused(moc, "output 1 (label 1, DecisionTreeClassifier)", "single value 0", "drop that column")
    moc = make_pipeline(TfidfVectorizer(), MultiOutputClassifier(LinearSVC())).fit(x, indicator.astype(bool))
    refused(moc, "output 0", "[False, True]", "expected [0, 1]", "astype(int)")
    # A multi-label wrapper is only ever the final estimator, never a member.
    member = OneVsRestClassifier(LinearSVC()).fit(TfidfVectorizer().fit_transform(x), indicator)
    with pytest.raises(Unsupported, match="only be the model's final estimator"):
        walk.convert_member(member, classify_export.base.Context("member 0", member.n_features_in_))
    # The safety net: a sklearn whose predict does not follow the members' scores is refused.
    original = wrappers._binary_scores
    wrappers._binary_scores = lambda member, X, response: original(member, X, response) + 1e3
    try:
        refused(pipe, "OneVsRestClassifier.predict of sklearn", sklearn.__version__, "score > 0.0")
    finally:
        wrappers._binary_scores = original


def _refused_with(estimator, labels, *needles):
    with pytest.raises(Unsupported) as caught:
        classify_export.to_model(estimator, labels=labels)
    message = str(caught.value)
    for needle in needles:
        assert needle in message, f"{needle!r} not in {message!r}"
    return message


def _multilabel_texts_file(tmp, texts):
    path = os.path.join(tmp, "texts.txt")
    with open(path, "w", encoding="utf-8") as f:
        f.write("".join(t + "\n" for t in texts))
    return path


@pytest.mark.filterwarnings("ignore:The `probability` parameter:FutureWarning")  # sklearn >= 1.9
def test_multilabel_verify_with_the_real_classify(classify_bin, capsys):
    """Every multi-label shape through the real `classify`: --verify's comparison, the plain
    output (labels tab-separated), and a tampered model that verification must catch."""
    x, indicator, _, held, tags = multilabel_data()
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "m.json")
        texts_path = _multilabel_texts_file(tmp, held)
        for description, pipe, threshold, _, _ in _multilabel_shapes():
            pipe.fit(x, indicator)
            classify_export.export(pipe, out, verify_texts=held, classify_bin=classify_bin)
            assert f"verified {len(held)} texts: identical" in capsys.readouterr().out, description
            shown = subprocess.run([classify_bin, "predict", "--model", out, texts_path], capture_output=True,
                                   text=True, check=True).stdout.split("\n")[:-1]
            plan = walk.build(walk.flatten(pipe))
            expected = verify.sklearn_predictions(plan, held)
            assert shown == ["\t".join(e["labels"]) for e in expected], description
            # A threshold moved, or a member's intercept shifted, must not verify.
            model = json.load(open(out))
            c = model["classifier"]
            if threshold is not None:
                c["threshold"] = threshold + (0.3 if threshold == 0.0 else -0.3)
            else:
                member = c["estimators"][0]
                member = member.get("classifier", member)
                if member["kind"] == "linear":
                    member["intercept"][0] += 0.5
                else:
                    c["estimators"] = c["estimators"][1:] + c["estimators"][:1]
            with open(out, "w") as f:
                json.dump(model, f)
            with pytest.raises(classify_export.VerifyFailed):
                verify.verify(plan, out, texts_path, classify_bin)
            capsys.readouterr()


def test_multilabel_command_line_labels(classify_bin):
    """classify-export --labels with a pickled or joblib MultiLabelBinarizer, a pickled list and a
    .txt file, verified with the real classify; and its refusals."""
    import joblib
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.multioutput import MultiOutputClassifier
    from sklearn.preprocessing import MultiLabelBinarizer

    x, _, sets, held, _ = multilabel_data()
    mlb = MultiLabelBinarizer().fit(sets)
    script = os.path.join(os.path.dirname(os.path.dirname(HERE)), "scripts", "export_sklearn.py")
    with tempfile.TemporaryDirectory() as tmp:
        texts = _multilabel_texts_file(tmp, held)
        out = os.path.join(tmp, "m.json")
        for clf in (OneVsRestClassifier(LinearSVC()), MultiOutputClassifier(LogisticRegression())):
            pipe = make_pipeline(TfidfVectorizer(), clf).fit(x, mlb.transform(sets))
            pickled = os.path.join(tmp, "p.pickle")
            _pickle_to(pipe, pickled)
            _pickle_to(mlb, os.path.join(tmp, "mlb.pickle"))
            joblib.dump(mlb, os.path.join(tmp, "mlb.joblib"))
            _pickle_to(list(mlb.classes_), os.path.join(tmp, "list.pickle"))
            with open(os.path.join(tmp, "labels.txt"), "w", encoding="utf-8") as f:
                f.write("".join(f"{label}\n" for label in mlb.classes_))
            for name in ("mlb.pickle", "mlb.joblib", "list.pickle", "labels.txt"):
                run = [sys.executable, script, "--pipeline", pickled, "--labels", os.path.join(tmp, name),
                       "-o", out, "--verify", texts, "--classify", classify_bin]
                result = subprocess.run(run, capture_output=True, text=True)
                assert result.returncode == 0, (name, result.stdout + result.stderr)
                assert "identical" in result.stdout and "multi-label, 4 labels" in result.stderr, result.stderr
                model = json.load(open(out))
                assert model["classifier"]["classes"] == list(mlb.classes_), name
                assert model["metadata"]["source"]["labels"] == name
            shown = subprocess.run([classify_bin, "predict", "--model", out, "--scores", texts], capture_output=True,
                                   text=True, check=True).stdout.splitlines()
            first = json.loads(shown[0])
            assert set(first) >= {"labels", "scores"} and len(first["scores"]) == 4, first
        # Refusals: one line on stderr, exit status 2, no traceback.
        with open(os.path.join(tmp, "short.txt"), "w", encoding="utf-8") as f:
            f.write("games\nlong\n")
        with open(os.path.join(tmp, "blank.txt"), "w", encoding="utf-8") as f:
            f.write("games\n\nlong\nscience\n")
        xs, ys, _ = data()
        single = os.path.join(tmp, "single.pickle")
        _pickle_to(make_pipeline(TfidfVectorizer(), LinearSVC()).fit(xs, ys), single)
        for pipeline, labels, needle in (
            (pickled, "short.txt", "2 labels were given"),
            (pickled, "blank.txt", "line 2 is empty"),
            (pickled, "missing.pickle", "cannot read"),
            (single, "mlb.pickle", "predicts one class per text"),
        ):
            run = [sys.executable, script, "--pipeline", pipeline, "--labels", os.path.join(tmp, labels), "-o", out]
            result = subprocess.run(run, capture_output=True, text=True)
            assert result.returncode == 2 and "Traceback" not in result.stderr, (labels, result.stderr)
            assert needle in result.stderr, (labels, needle, result.stderr)


# ----------------------------------------------------------------------------------------------
# Refusals


def test_refusals():
    from sklearn.ensemble import GradientBoostingClassifier

    x, y, _ = data()
    unsupported = GradientBoostingClassifier(n_estimators=3, random_state=0)
    message = refused(make_pipeline(TfidfVectorizer(), unsupported).fit(x, y),
                      "GradientBoostingClassifier", "LinearSVC", "VotingClassifier")
    assert "gradientboostingclassifier" in message  # the step's name in the pipeline
    refused(make_pipeline(CountVectorizer(tokenizer=str.split), LinearSVC()).fit(x, y), "tokenizer=")
    refused(make_pipeline(CountVectorizer(token_pattern=r"[a-z]+"), LinearSVC()).fit(x, y), "token_pattern=")
    refused(make_pipeline(CountVectorizer(), LinearSVC()).fit(x, [1.0 if v == "games" else 2.0 for v in y]), "classes_")
    vec = TfidfVectorizer().fit(x)
    middle = Pipeline([("vec", vec), ("first", LinearSVC().fit(vec.transform(x), y)), ("second", LinearSVC())])
    refused(middle, "step 'first' (LinearSVC)", "last step")
    refused(LinearSVC().fit(vec.transform(x), y), "must start with a vectorizer")
    refused(make_pipeline(TfidfVectorizer()).fit(x), "classifier must follow")


# ----------------------------------------------------------------------------------------------
# Loading, command line, verification


def _pickle_to(obj, path):
    with open(path, "wb") as f:
        pickle.dump(obj, f)


def test_loading_and_version_scan():
    x, y, _ = data()
    pipe = make_pipeline(TfidfVectorizer(), LinearSVC()).fit(x, y)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "p.pickle")
        _pickle_to(pipe, path)
        assert loading.scan_versions(path)["sklearn"] == sklearn.__version__
        assert type(loading.load(path, "--pipeline")).__name__ == "Pipeline"
        # The same pickle claiming another sklearn version (same length, so still valid).
        data_bytes = open(path, "rb").read()
        major, minor = sklearn.__version__.split(".")[:2]
        other_minor = "0" if minor != "0" else "1"
        fake = sklearn.__version__.replace(f"{major}.{minor}", f"{major}.{other_minor}", 1)
        fake = fake[: len(sklearn.__version__)].ljust(len(sklearn.__version__), "0")
        with open(path, "wb") as f:
            f.write(data_bytes.replace(sklearn.__version__.encode(), fake.encode()))
        assert loading.scan_versions(path)["sklearn"] == fake
        try:
            loading.load(path, "--pipeline")
        except Unsupported as e:
            assert fake in str(e) and "pip install" in str(e), str(e)
        else:
            raise AssertionError("a pickle of another sklearn version was loaded")
        # A pickle of a class this sklearn lacks names the version that wrote it.
        with open(path, "wb") as f:
            f.write(b"(dp0\nV_sklearn_version\np1\nV0.20.4\np2\nsVobj\np3\n"
                    b"csklearn.linear_model\nNoSuchClassForTest\np4\ns.")
        try:
            loading.load(path, "--pipeline")
        except Unsupported as e:
            assert "scikit-learn 0.20.4" in str(e) and "pip install" in str(e), str(e)
        else:
            raise AssertionError("a pickle of a missing class was loaded")
        # numpy 2 pickles refer to numpy._core, which numpy 1 lacks.
        if not _importable("numpy._core"):  # numpy < 1.26
            with open(path, "wb") as f:
                f.write(b"cnumpy._core.multiarray\n_reconstruct\np0\n.")
            try:
                loading.load(path, "--pipeline")
            except Unsupported as e:
                assert "numpy >= 2" in str(e), str(e)
            else:
                raise AssertionError("a numpy 2 pickle was loaded by numpy 1")


def _importable(module):
    import importlib.util

    try:
        return importlib.util.find_spec(module) is not None
    except ImportError:
        return False


def test_skops():
    sio = pytest.importorskip("skops.io")
    from sklearn.calibration import CalibratedClassifierCV

    x, y, _ = data()
    pipe = make_pipeline(TfidfVectorizer(), CalibratedClassifierCV(LinearSVC(), cv=2)).fit(x, y)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "p.skops")
        sio.dump(pipe, path)
        assert type(loading.load(path, "--pipeline")).__name__ == "Pipeline"


STAND_IN = r'''
import json, os, pickle, sys
sys.path.insert(0, {python!r}); sys.path.insert(0, {tests!r})
import reference, test_export
args = sys.argv[1:]
model = json.load(open(args[args.index("--model") + 1]))
texts = [l[:-1] for l in open(args[-1], encoding="utf-8")]
estimator = pickle.load(open(os.environ["STAND_IN_PICKLE"], "rb"))
from classify_export import walk
plan = walk.build(walk.flatten(estimator))
rows = [test_export.raw_rows(v, texts) for v in test_export.front_vectorizers(plan.transforms[0])]
for answer in reference.evaluate(model, rows):
    if os.environ.get("STAND_IN_WRONG") and answer["scores"]:
        answer["scores"][0] += 1e-6
    if os.environ.get("STAND_IN_WRONG") and answer.get("value") is not None:
        answer["value"] += 1e-6
    print(json.dumps({{k: v for k, v in answer.items() if v is not None}}))
'''


def test_command_line_and_verify():
    from sklearn.feature_selection import SelectKBest, chi2

    x, y, held = data()
    pipe = make_pipeline(TfidfVectorizer(), SelectKBest(chi2, k=50), LogisticRegression()).fit(x, y)
    script = os.path.join(os.path.dirname(os.path.dirname(HERE)), "scripts", "export_sklearn.py")
    with tempfile.TemporaryDirectory() as tmp:
        pickled = os.path.join(tmp, "p.pickle")
        _pickle_to(pipe, pickled)
        texts = os.path.join(tmp, "texts.txt")
        with open(texts, "w", encoding="utf-8") as f:
            f.write("".join(t.replace("\n", " ") + "\n" for t in held))
        stand_in = os.path.join(tmp, "classify")
        with open(stand_in, "w") as f:
            f.write(f"#!{sys.executable}\n" + STAND_IN.format(python=os.path.dirname(HERE), tests=HERE))
        os.chmod(stand_in, 0o755)
        out = os.path.join(tmp, "m.json")
        env = dict(os.environ, STAND_IN_PICKLE=pickled)
        run = [sys.executable, script, "--pipeline", pickled, "-o", out, "--verify", texts, "--classify", stand_in]
        result = subprocess.run(run, capture_output=True, text=True, env=env)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "identical" in result.stdout and json.load(open(out))["format_version"] == 2
        result = subprocess.run(run, capture_output=True, text=True, env=dict(env, STAND_IN_WRONG="1"))
        assert result.returncode == 1 and "line 1" in result.stdout and "scores" in result.stdout, result
        result = subprocess.run([sys.executable, script, "--pipeline", pickled], capture_output=True, text=True)
        assert result.returncode == 2 and "Traceback" not in result.stderr
        result = subprocess.run([sys.executable, script, "--pipeline", texts, "-o", out], capture_output=True, text=True)
        assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
        # The API: export() with verify_texts.
        os.environ["STAND_IN_PICKLE"] = pickled
        try:
            sink = io.StringIO()
            stdout, sys.stdout = sys.stdout, sink
            try:
                model = classify_export.export(pipe, out, verify_texts=[t.replace("\n", " ") for t in held[:5]],
                                               classify_bin=stand_in)
            finally:
                sys.stdout = stdout
        finally:
            del os.environ["STAND_IN_PICKLE"]
        assert model["format_version"] == 2 and "identical" in sink.getvalue()


def test_metadata():
    x, y, _ = data()
    model = classify_export.to_model(make_pipeline(TfidfVectorizer(), LinearSVC()).fit(x, y))
    meta = model["metadata"]
    for key in ("sklearn_version", "numpy_version", "python_version", "python_unicode_version",
                "exporter", "exporter_version", "pipeline"):
        assert meta.get(key), key
    assert meta["sklearn_version"] == sklearn.__version__ and meta["numpy_version"] == np.__version__
    assert meta["pipeline"] == "Pipeline(TfidfVectorizer, LinearSVC)"


# ----------------------------------------------------------------------------------------------
# Regressors (kind `linear_regression`): a number per text


def regression_target(texts):
    """A numeric target derived from the text itself: log1p of its number of words, plus the share
    of its words that start with a capital letter."""
    values = []
    for text in texts:
        words = text.split()
        capitals = sum(1 for w in words if w[:1].isupper()) / len(words) if words else 0.0
        values.append(np.log1p(len(words)) + capitals)
    return np.array(values, dtype=np.float64)


def regression_data(n=30, test=24):
    """(train texts, numeric target, held-out texts)."""
    x, _, held = data(n=n, test=test)
    return x, regression_target(x), held


def check_regression(estimator, texts, estimator_name=None, kind="linear_regression", exact=False):
    """Exports a fitted regressor (a Pipeline, a search CV of one), evaluates the model with the
    reference evaluator and compares with sklearn's predict within 1e-9 (bit for bit if `exact`).
    Returns the model."""
    model = classify_export.to_model(estimator)
    json.dumps(model, allow_nan=False)
    assert model["format_version"] == 2
    c = model["classifier"]
    assert c["kind"] == kind and "classes" not in c, c.get("kind")
    if estimator_name is not None:
        assert c["estimator"] == estimator_name and model["metadata"]["classifier_class"] == estimator_name
    plan = walk.build(walk.flatten(estimator))
    if kind == "linear_regression":
        assert isinstance(c["intercept"], float)
        assert len(c["coef"]) == plan.width and all(isinstance(w, float) for w in c["coef"])
    predicted = np.asarray(estimator.predict(verify.sklearn_input(plan, texts)), dtype=np.float64)
    assert predicted.shape == (len(texts),)
    assert len(set(predicted.tolist())) > 1, "a constant prediction proves little: fit it better"
    expected = verify.sklearn_predictions(plan, texts)
    assert [e["value"] for e in expected] == predicted.tolist()
    rows = [raw_rows(v, texts) for v in front_vectorizers(plan.transforms[0])]
    got = reference.evaluate(model, rows)
    problems = [
        f"text {i}: sklearn {e!r}, reference {g['value']!r}"
        for i, (e, g) in enumerate(zip(predicted.tolist(), got))
        if not ((e == g["value"] if exact else close(e, g["value"]))
                and g["scores"] == [g["value"]] and g["probabilities"] is None)
    ]
    assert not problems, "\n".join(problems[:8])
    return model


def _regressors():
    from sklearn.linear_model import (
        ElasticNet,
        ElasticNetCV,
        Lasso,
        LassoCV,
        LinearRegression,
        Ridge,
        RidgeCV,
        SGDRegressor,
    )
    from sklearn.svm import LinearSVR

    return [
        Ridge(),
        Ridge(alpha=0.1, fit_intercept=False),
        RidgeCV(alphas=(0.1, 1.0, 10.0)),
        LinearRegression(),
        SGDRegressor(random_state=0),
        SGDRegressor(loss="huber", penalty="elasticnet", average=True, random_state=0),
        LinearSVR(dual=True, random_state=0, max_iter=20000),
        LinearSVR(dual=True, fit_intercept=False, random_state=0, max_iter=20000),
        ElasticNet(alpha=1e-3),
        Lasso(alpha=1e-3),
        ElasticNetCV(alphas=[1e-4, 1e-3], cv=3),
        LassoCV(alphas=[1e-4, 1e-3], cv=3),
    ]


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_regressors():
    x, target, held = regression_data()
    for regressor in _regressors():
        for vectorizer in (TfidfVectorizer(), CountVectorizer(max_features=60)):
            pipe = make_pipeline(vectorizer, regressor).fit(x, target)
            model = check_regression(pipe, held, type(regressor).__name__)
            assert model["classifier"]["coef"] == np.ravel(regressor.coef_).tolist()
            assert model["classifier"]["intercept"] == float(np.ravel(regressor.intercept_)[0])
    # Hashed columns of both signs, and SGDRegressor.sparsify()'s sparse coef_.
    from sklearn.linear_model import SGDRegressor

    pipe = make_pipeline(HashingVectorizer(n_features=2**10), SGDRegressor(random_state=0)).fit(x, target)
    check_regression(pipe, held, "SGDRegressor")
    pipe[-1].sparsify()
    try:
        pipe.predict(held)
    except Exception:  # noqa: BLE001 - sklearn 1.9 cannot predict with a sparsified SGDRegressor
        refused(pipe, "cannot check the predictions", "SGDRegressor.predict")
    else:
        check_regression(pipe, held, "SGDRegressor")


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_regressors_after_every_pipeline_shape():
    from sklearn.compose import ColumnTransformer
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_selection import SelectKBest, f_regression
    from sklearn.linear_model import Lasso, LinearRegression, Ridge
    from sklearn.model_selection import GridSearchCV
    from sklearn.preprocessing import MaxAbsScaler, Normalizer, StandardScaler

    x, target, held = regression_data()
    union = FeatureUnion(
        [("words", TfidfVectorizer(ngram_range=(1, 2))),
         ("chars", make_pipeline(CountVectorizer(analyzer="char_wb", ngram_range=(2, 3)), TfidfTransformer()))],
        transformer_weights={"chars": 0.5},
    )
    model = check_regression(make_pipeline(union, Ridge()).fit(x, target), held, "Ridge")
    assert [b["weight"] for b in model["union"]["branches"]] == [1.0, 0.5]
    pipe = make_pipeline(CountVectorizer(), SelectKBest(f_regression, k=40), MaxAbsScaler(), Ridge())
    model = check_regression(pipe.fit(x, target), held, "Ridge")
    assert steps_of(model) == ["select", "scale"]
    model = check_regression(make_pipeline(CountVectorizer(), Normalizer(), Lasso(alpha=1e-4)).fit(x, target), held)
    assert steps_of(model) == ["normalize"]
    # Dense rows after TruncatedSVD: numpy's matmul in sklearn, the column order in the model.
    pipe = make_pipeline(TfidfVectorizer(), TruncatedSVD(15, random_state=0), StandardScaler(), Ridge())
    model = check_regression(pipe.fit(x, target), held, "Ridge")
    assert steps_of(model) == ["project", "center", "scale"] and len(model["classifier"]["coef"]) == 15
    pipe = make_pipeline(TfidfVectorizer(), TruncatedSVD(10, random_state=0), LinearRegression())
    check_regression(pipe.fit(x, target), held, "LinearRegression")
    search = GridSearchCV(make_pipeline(TfidfVectorizer(), Ridge()), {"ridge__alpha": [0.1, 1.0]}, cv=2)
    model = check_regression(search.fit(x, target), held, "Ridge")
    assert model["metadata"]["pipeline"].startswith("GridSearchCV(Pipeline(TfidfVectorizer")
    inner = make_pipeline(TfidfVectorizer(), GridSearchCV(Lasso(), {"alpha": [1e-4, 1e-3]}, cv=2))
    check_regression(inner.fit(x, target), held, "Lasso")
    table = np.empty((len(x), 2), dtype=object)
    table[:, 0] = "ignored"
    table[:, 1] = x
    columns = ColumnTransformer([("text", TfidfVectorizer(), 1)])
    check_regression(make_pipeline(columns, Ridge()).fit(table, target), held, "Ridge")


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_multi_output_regression_is_refused():
    from sklearn.linear_model import ElasticNet, Lasso, LinearRegression, Ridge, RidgeCV

    x, target, _ = regression_data()
    two = np.column_stack([target, -target])
    for regressor in (Ridge(), RidgeCV(), LinearRegression(), ElasticNet(alpha=1e-3), Lasso(alpha=1e-3)):
        name = type(regressor).__name__
        message = refused(make_pipeline(TfidfVectorizer(), regressor).fit(x, two),
                          "multi-output regression is not supported", "2 target columns", name)
        assert f"step {name.lower()!r}" in message, message
    # A 2-D y of one column: LinearRegression keeps a (1, n) coef_ and predicts (n, 1) arrays.
    refused(make_pipeline(TfidfVectorizer(), LinearRegression()).fit(x, target[:, None]),
            "multi-output regression is not supported", "y.ravel()")


def test_regressor_refusals():
    from sklearn.ensemble import GradientBoostingRegressor
    from sklearn.linear_model import Ridge

    x, target, _ = regression_data()
    refused(make_pipeline(TfidfVectorizer().fit(x), Ridge()), "step 'ridge' (Ridge)", "not fitted")
    for other in (GradientBoostingRegressor(n_estimators=3, random_state=0),):
        refused(make_pipeline(TfidfVectorizer(), other).fit(x, target), type(other).__name__,
                "classifier or regressor", "Ridge", "LinearSVR", "LinearSVC")
    vec = TfidfVectorizer().fit(x)
    ridge = Ridge().fit(vec.transform(x), target)
    middle = Pipeline([("vec", vec), ("ridge", ridge), ("clf", LinearSVC())])
    refused(middle, "step 'ridge' (Ridge)", "a regressor can only be the last step")
    refused(Ridge().fit(vec.transform(x), target), "must start with a vectorizer", "found a regressor")
    other = Ridge().fit(CountVectorizer(ngram_range=(1, 2)).fit_transform(x), target)
    refused(Pipeline([("vec", vec), ("ridge", other)]), "step 'ridge' (Ridge)", "fitted on")


def test_regressor_inside_a_classifier_wrapper_is_refused():
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.ensemble import VotingClassifier
    from sklearn.feature_selection import SelectKBest, chi2
    from sklearn.linear_model import Ridge
    from sklearn.multiclass import OneVsOneClassifier, OneVsRestClassifier

    x, y, _ = data()
    for wrapper in (OneVsRestClassifier(Ridge()), OneVsOneClassifier(Ridge()),
                    OneVsRestClassifier(make_pipeline(SelectKBest(chi2, k=30), Ridge()))):
        pipe = make_pipeline(TfidfVectorizer(), wrapper).fit(x, y)
        sklearn_answers = pipe.predict(x[:3])  # sklearn itself predicts with it
        assert len(sklearn_answers) == 3
        message = refused(pipe, type(wrapper).__name__, "member 0", "Ridge is a regressor",
                          "a classifier wrapper's member must be a classifier")
        assert "Traceback" not in message
    # Wrappers that this sklearn lets hold a regressor at all.
    for wrapper in (VotingClassifier([("lr", LogisticRegression()), ("ridge", Ridge())]),
                    CalibratedClassifierCV(Ridge(), cv=3)):
        try:
            pipe = make_pipeline(TfidfVectorizer(), wrapper).fit(x, y)
        except Exception:  # noqa: BLE001 - sklearn refuses to fit it: nothing to export
            continue
        refused(pipe, type(wrapper).__name__, "Ridge is a regressor")


def test_regressor_predict_safety_net():
    """A formula that does not give the estimator's predict is refused, naming the sklearn version."""
    from classify_export import regressors
    from sklearn.linear_model import Ridge

    x, target, _ = regression_data()
    pipe = make_pipeline(TfidfVectorizer(), Ridge()).fit(x, target)
    original = regressors.regression_values
    regressors.regression_values = lambda spec, X: original(dict(spec, intercept=spec["intercept"] + 1e-6), X)
    try:
        refused(pipe, "Ridge.predict of sklearn", sklearn.__version__, "x · coef_ + intercept_")
    finally:
        regressors.regression_values = original


# ----------------------------------------------------------------------------------------------
# Tree regressors (kind `tree_regression`): each leaf holds one number


def _tree_regression_shape(model, estimator, combine, n_trees, fitted):
    c = model["classifier"]
    assert (c["estimator"], c["combine"], len(c["trees"])) == (estimator, combine, n_trees)
    members = [fitted] if combine == "single" else fitted.estimators_
    for tree, member in zip(c["trees"], members):
        left = member.tree_.children_left
        assert tree["children_left"] == left.tolist() and "leaf_class" not in tree
        assert tree["feature"] == member.tree_.feature.tolist()
        assert tree["threshold"] == member.tree_.threshold.tolist()
        assert tree["leaf_values"] == [[v] for v in member.tree_.value[left == -1, 0, 0].tolist()]


def _tree_regressors():
    from sklearn.ensemble import ExtraTreesRegressor, RandomForestRegressor
    from sklearn.tree import DecisionTreeRegressor

    return [
        (DecisionTreeRegressor(random_state=0), "single", 1),
        (DecisionTreeRegressor(max_depth=5, criterion="absolute_error", random_state=0), "single", 1),
        (DecisionTreeRegressor(criterion="poisson", min_samples_leaf=2, random_state=0), "single", 1),
        (DecisionTreeRegressor(max_leaf_nodes=10, random_state=0), "single", 1),
        (RandomForestRegressor(n_estimators=12, random_state=0), "mean", 12),
        (RandomForestRegressor(n_estimators=6, max_depth=4, bootstrap=False, max_features=0.5,
                               random_state=1), "mean", 6),
        (ExtraTreesRegressor(n_estimators=12, min_samples_leaf=2, random_state=0), "mean", 12),
    ]


def test_tree_regressors():
    x, target, held = regression_data(n=40, test=40)
    for regressor, combine, n_trees in _tree_regressors():
        name = type(regressor).__name__
        for vectorizer in (TfidfVectorizer(), CountVectorizer(ngram_range=(1, 2)),
                           TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 3))):
            pipe = make_pipeline(vectorizer, regressor).fit(x, target)
            model = check_regression(pipe, held, name, kind="tree_regression", exact=True)
            _tree_regression_shape(model, name, combine, n_trees, pipe[-1])
    # Hashed columns of both signs (negative thresholds), and a GridSearchCV.
    from sklearn.ensemble import RandomForestRegressor
    from sklearn.model_selection import GridSearchCV

    pipe = make_pipeline(HashingVectorizer(n_features=2**10), RandomForestRegressor(n_estimators=8, random_state=0))
    model = check_regression(pipe.fit(x, target), held, "RandomForestRegressor", kind="tree_regression", exact=True)
    assert any(t < 0 for tree in model["classifier"]["trees"] for t in tree["threshold"])
    search = GridSearchCV(make_pipeline(TfidfVectorizer(), RandomForestRegressor(n_estimators=5, random_state=0)),
                          {"randomforestregressor__max_depth": [3, None]}, cv=2)
    check_regression(search.fit(x, target), held, "RandomForestRegressor", kind="tree_regression", exact=True)


def test_tree_regressors_after_truncated_svd():
    """Dense rows: every value is a generic double that sklearn rounds to float32."""
    from sklearn.decomposition import TruncatedSVD
    from sklearn.ensemble import ExtraTreesRegressor, RandomForestRegressor
    from sklearn.tree import DecisionTreeRegressor

    x, target, held = regression_data(n=40, test=40)
    for regressor, combine, n_trees in (
        (RandomForestRegressor(n_estimators=10, random_state=0), "mean", 10),
        (ExtraTreesRegressor(n_estimators=10, random_state=0), "mean", 10),
        (DecisionTreeRegressor(random_state=0), "single", 1),
    ):
        pipe = make_pipeline(TfidfVectorizer(), TruncatedSVD(12, random_state=0), regressor).fit(x, target)
        name = type(regressor).__name__
        model = check_regression(pipe, held, name, kind="tree_regression", exact=True)
        assert steps_of(model) == ["project"]
        _tree_regression_shape(model, name, combine, n_trees, pipe[-1])


def test_tree_regressors_compare_the_float32_value():
    """Rows whose values are the thresholds themselves: the reference evaluator rounds to float32
    as sklearn does, and answers sklearn's predict bit for bit."""
    from sklearn.decomposition import TruncatedSVD
    from sklearn.ensemble import RandomForestRegressor

    x, target, _ = regression_data(n=40)
    pipe = make_pipeline(TfidfVectorizer(), TruncatedSVD(8, random_state=0),
                         RandomForestRegressor(n_estimators=5, random_state=0)).fit(x, target)
    model = classify_export.to_model(pipe)
    forest = pipe[-1]
    rows = threshold_rows(forest)
    theirs = forest.predict(rows)
    trees = model["classifier"]["trees"]
    float64_differs = 0
    for row, value in zip(rows, theirs.tolist()):
        index, scores, probabilities = reference.classify(model["classifier"], reference.Row(dense=list(row)))
        assert (index, scores, probabilities) == (None, [value], None)
        leaves = [reference._leaf_row(t, dict(enumerate(row))) for t in trees]
        float64_differs += any(_float64_leaf(t, row) != leaf for t, leaf in zip(trees, leaves))
    assert float64_differs, "no row where the float32 rounding decides: the test proves nothing"


def test_multi_output_tree_regression_is_refused():
    from sklearn.ensemble import ExtraTreesRegressor, RandomForestRegressor
    from sklearn.tree import DecisionTreeRegressor

    x, target, _ = regression_data()
    two = np.column_stack([target, -target])
    for regressor in (DecisionTreeRegressor(), RandomForestRegressor(n_estimators=3), ExtraTreesRegressor(n_estimators=3)):
        name = type(regressor).__name__
        message = refused(make_pipeline(TfidfVectorizer(), regressor).fit(x, two),
                          "multi-output regression is not supported", "2 target columns", name)
        assert f"step {name.lower()!r}" in message, message


def test_tree_regressor_refusals():
    from sklearn.ensemble import ExtraTreesRegressor, RandomForestRegressor
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.tree import DecisionTreeRegressor

    x, target, _ = regression_data()
    for regressor in (DecisionTreeRegressor(), RandomForestRegressor(n_estimators=3), ExtraTreesRegressor(n_estimators=3)):
        refused(make_pipeline(TfidfVectorizer().fit(x), regressor), type(regressor).__name__, "not fitted")
    vec = TfidfVectorizer().fit(x)
    other = RandomForestRegressor(n_estimators=3).fit(CountVectorizer(ngram_range=(1, 2)).fit_transform(x), target)
    refused(Pipeline([("vec", vec), ("reg", other)]), "step 'reg' (RandomForestRegressor)", "fitted on")
    X, Y, _ = data()
    pipe = make_pipeline(TfidfVectorizer(), OneVsRestClassifier(DecisionTreeRegressor())).fit(X, Y)
    refused(pipe, "OneVsRestClassifier", "DecisionTreeRegressor is a regressor")


def test_tree_regressor_predict_safety_net():
    """A combination that does not give the estimator's predict is refused, naming the version."""
    from classify_export import regressors
    from sklearn.ensemble import RandomForestRegressor
    from sklearn.tree import DecisionTreeRegressor

    x, target, _ = regression_data()
    original = regressors.tree_regression_values
    regressors.tree_regression_values = lambda spec, X: original(spec, X) * (1 + 1e-6) + 1e-6
    try:
        for regressor in (DecisionTreeRegressor(random_state=0), RandomForestRegressor(n_estimators=3, random_state=0)):
            refused(make_pipeline(TfidfVectorizer(), regressor).fit(x, target), f"{type(regressor).__name__} of sklearn",
                    sklearn.__version__, "predict does not follow combine")
    finally:
        regressors.tree_regression_values = original

# ----------------------------------------------------------------------------------------------
# Kernel regressors (kind `svr`): libsvm's kernel sum over the support vectors


def _kernel_regressors():
    from sklearn.svm import SVR, NuSVR

    return [
        SVR(C=10.0),
        SVR(kernel="linear", C=0.5, epsilon=0.05),
        SVR(kernel="poly", degree=2, coef0=1.0, gamma="auto", C=100.0),
        SVR(kernel="sigmoid", gamma=0.1, coef0=-0.5),
        NuSVR(nu=0.3, C=10.0),
        NuSVR(kernel="poly", degree=3, gamma=0.5, coef0=0.5),
    ]


def _svr_shape(model, regressor):
    """The `svr` object holds the fitted regressor's own arrays."""
    from scipy import sparse

    c = model["classifier"]
    assert (c["estimator"], c["kernel"]) == (type(regressor).__name__, regressor.kernel)
    assert (c["gamma"], c["coef0"], c["degree"]) == (regressor._gamma, regressor.coef0, regressor.degree)
    sv = sparse.csr_matrix(regressor.support_vectors_)
    assert c["support_vectors"]["indptr"] == sv.indptr.tolist()
    assert c["support_vectors"]["indices"] == sv.indices.tolist()
    assert c["support_vectors"]["data"] == sv.data.tolist()
    dual = regressor.dual_coef_
    assert c["dual_coef"] == np.ravel(dual.toarray() if sparse.issparse(dual) else dual).tolist()
    assert c["intercept"] == float(regressor.intercept_[0]) and isinstance(c["intercept"], float)


def test_svr_and_nusvr_every_kernel():
    x, target, held = regression_data()
    for regressor in _kernel_regressors():
        for vectorizer in (TfidfVectorizer(ngram_range=(1, 2)), CountVectorizer(max_features=60)):
            pipe = make_pipeline(vectorizer, regressor).fit(x, target)
            model = check_regression(pipe, held, type(regressor).__name__, kind="svr")
            _svr_shape(model, pipe[-1])
            assert steps_of(model) == [] and model["format_version"] == 2


def test_svr_after_every_pipeline_shape():
    from sklearn.compose import ColumnTransformer
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_selection import SelectKBest, f_regression
    from sklearn.model_selection import GridSearchCV
    from sklearn.preprocessing import MaxAbsScaler, Normalizer, StandardScaler
    from sklearn.svm import SVR, NuSVR

    x, target, held = regression_data()
    # Dense rows after TruncatedSVD: libsvm's dense build, whose BLAS sums group differently.
    for regressor in (SVR(C=10.0), NuSVR(kernel="linear"), SVR(kernel="poly", degree=2, coef0=1.0)):
        pipe = make_pipeline(TfidfVectorizer(), TruncatedSVD(12, random_state=0), regressor).fit(x, target)
        model = check_regression(pipe, held, type(regressor).__name__, kind="svr")
        assert steps_of(model) == ["project"]
        _svr_shape(model, pipe[-1])
    pipe = make_pipeline(TfidfVectorizer(), TruncatedSVD(12, random_state=0), StandardScaler(), SVR())
    model = check_regression(pipe.fit(x, target), held, "SVR", kind="svr")
    assert steps_of(model) == ["project", "center", "scale"]
    pipe = make_pipeline(CountVectorizer(), SelectKBest(f_regression, k=40), MaxAbsScaler(), SVR(C=10.0))
    model = check_regression(pipe.fit(x, target), held, "SVR", kind="svr")
    assert steps_of(model) == ["select", "scale"]
    model = check_regression(make_pipeline(CountVectorizer(), Normalizer(), NuSVR()).fit(x, target), held, "NuSVR",
                             kind="svr")
    assert steps_of(model) == ["normalize"]
    # Hashed columns of both signs.
    pipe = make_pipeline(HashingVectorizer(n_features=2**10), SVR(kernel="sigmoid", gamma=0.5, coef0=0.1))
    check_regression(pipe.fit(x, target), held, "SVR", kind="svr")
    union = FeatureUnion(
        [("words", TfidfVectorizer(ngram_range=(1, 2))),
         ("chars", make_pipeline(CountVectorizer(analyzer="char_wb", ngram_range=(2, 3)), TfidfTransformer()))],
        transformer_weights={"chars": 0.5},
    )
    model = check_regression(make_pipeline(union, SVR(C=10.0)).fit(x, target), held, "SVR", kind="svr")
    assert [b["weight"] for b in model["union"]["branches"]] == [1.0, 0.5]
    search = GridSearchCV(make_pipeline(TfidfVectorizer(), SVR()), {"svr__C": [1.0, 10.0]}, cv=2)
    check_regression(search.fit(x, target), held, "SVR", kind="svr")
    table = np.empty((len(x), 2), dtype=object)
    table[:, 0] = "ignored"
    table[:, 1] = x
    columns = ColumnTransformer([("text", TfidfVectorizer(), 1)])
    check_regression(make_pipeline(columns, NuSVR(C=10.0)).fit(table, target), held, "NuSVR", kind="svr")


def test_svr_fitted_on_a_dense_matrix():
    """vectorizer.transform(texts).toarray(): sklearn predicts with its dense libsvm (which refuses
    sparse rows); the model stores the support vectors as CSR and answers the same numbers."""
    from sklearn.svm import SVR

    x, target, held = regression_data()
    vec = TfidfVectorizer().fit(x)
    regressor = SVR(C=10.0).fit(vec.transform(x).toarray(), target)
    assert regressor._sparse is False
    model = classify_export.to_model(Pipeline([("vec", vec), ("svr", regressor)]))
    _svr_shape(model, regressor)
    got = reference.evaluate(model, [raw_rows(vec, held)])
    theirs = regressor.predict(vec.transform(held).toarray()).tolist()
    assert len(set(theirs)) > 1
    assert all(close(e, g["value"]) for e, g in zip(theirs, got)), (theirs[:3], got[:3])


def dot_kernel(a, b):
    """A callable kernel: the plain dot product."""
    return np.asarray((a @ b.T).todense())


def test_svr_refusals():
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.svm import SVR, NuSVR

    x, target, _ = regression_data()
    for regressor in (SVR(kernel=dot_kernel), NuSVR(kernel=dot_kernel)):
        pipe = make_pipeline(TfidfVectorizer(), regressor).fit(x, target)
        assert len(pipe.predict(x[:2])) == 2  # sklearn itself predicts with it
        refused(pipe, f"{type(regressor).__name__}(kernel='dot_kernel') is not supported",
                "a callable kernel is custom Python code", "'rbf'")
    vec = TfidfVectorizer().fit(x)
    X = vec.transform(x)
    gram = np.asarray((X @ X.T).todense())
    for regressor in (SVR(kernel="precomputed"), NuSVR(kernel="precomputed")):
        fitted = regressor.fit(gram, target)
        refused(Pipeline([("vec", vec), ("reg", fitted)]), f"{type(regressor).__name__}(kernel='precomputed')",
                "needs the training documents", "'linear'")
    for regressor in (SVR(), NuSVR()):
        refused(make_pipeline(TfidfVectorizer().fit(x), regressor), type(regressor).__name__, "not fitted")
    other = SVR().fit(CountVectorizer(ngram_range=(1, 2)).fit_transform(x), target)
    refused(Pipeline([("vec", vec), ("reg", other)]), "step 'reg' (SVR)", "fitted on")
    X3, Y3, _ = data()
    pipe = make_pipeline(TfidfVectorizer(), OneVsRestClassifier(SVR())).fit(X3, Y3)
    refused(pipe, "OneVsRestClassifier", "SVR is a regressor")


def test_svr_predict_safety_net():
    """A formula that does not give the estimator's predict is refused, naming the sklearn version."""
    from classify_export import regressors
    from sklearn.svm import SVR, NuSVR

    x, target, _ = regression_data()
    original = regressors.svr_values
    # What a reader would answer if sklearn's intercept_ were −rho's opposite.
    regressors.svr_values = lambda spec, X, width: original(dict(spec, intercept=-spec["intercept"]), X, width)
    try:
        for regressor in (SVR(), NuSVR()):
            refused(make_pipeline(TfidfVectorizer(), regressor).fit(x, target), f"{type(regressor).__name__}.predict of sklearn",
                    sklearn.__version__, "dual_coef_ · K(support_vectors_, x) + intercept_")
    finally:
        regressors.svr_values = original


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_svr_verify_with_the_real_classify(classify_bin, capsys):
    """Every kernel, sparse and dense (after TruncatedSVD), through the real `classify`: --verify,
    the binary form (classify convert) answering the JSON form's numbers, and classify inspect."""
    from sklearn.decomposition import TruncatedSVD

    x, target, held = regression_data()
    texts = [t.replace("\n", " ").replace("\r", " ") for t in held] + ["", "Ünïcødé ΟΔΟΣ 東京"]
    with tempfile.TemporaryDirectory() as tmp:
        out, binary = os.path.join(tmp, "m.json"), os.path.join(tmp, "m.model")
        texts_file = os.path.join(tmp, "texts.txt")
        with open(texts_file, "w", encoding="utf-8") as f:
            f.write("".join(t + "\n" for t in texts))
        for regressor in _kernel_regressors():
            for front in ([TfidfVectorizer(ngram_range=(1, 2))], [CountVectorizer()],
                          [TfidfVectorizer(), TruncatedSVD(12, random_state=0)]):
                pipe = make_pipeline(*front, regressor).fit(x, target)
                classify_export.export(pipe, out, verify_texts=texts, classify_bin=classify_bin)
                assert "identical" in capsys.readouterr().out
                subprocess.run([classify_bin, "convert", out, "-o", binary, "--to", "binary"], check=True,
                               capture_output=True)
                answers = [
                    subprocess.run([classify_bin, "predict", "--model", path, texts_file], capture_output=True,
                                   text=True, check=True).stdout.split("\n")
                    for path in (out, binary)
                ]
                assert answers[0] == answers[1] and len(answers[0]) == len(texts) + 1
                theirs = pipe.predict(texts)
                assert all(close(float(a), e) for a, e in zip(answers[0], theirs.tolist()))
        shown = json.loads(subprocess.run([classify_bin, "inspect", binary], capture_output=True, text=True,
                                          check=True).stdout)
        kernel = shown["kernel"]
        assert (shown["task"], shown["estimator"], kernel["kernel"]) == ("regression", "NuSVR", "poly")
        assert kernel["support_vectors"] == pipe[-1].support_vectors_.shape[0] and "n_support" not in kernel
        assert (kernel["gamma"], kernel["degree"]) == (0.5, 3)


def _write_stand_in(tmp, pipe):
    pickled = os.path.join(tmp, "p.pickle")
    _pickle_to(pipe, pickled)
    stand_in = os.path.join(tmp, "classify")
    with open(stand_in, "w") as f:
        f.write(f"#!{sys.executable}\n" + STAND_IN.format(python=os.path.dirname(HERE), tests=HERE))
    os.chmod(stand_in, 0o755)
    return pickled, stand_in


def test_regressor_verify(capsys):
    """export(verify_texts=...) and --verify compare sklearn's predict with classify's "value"."""
    from sklearn.linear_model import Ridge

    x, target, held = regression_data()
    texts = [t.replace("\n", " ") for t in held]
    pipe = make_pipeline(TfidfVectorizer(), Ridge()).fit(x, target)
    script = os.path.join(os.path.dirname(os.path.dirname(HERE)), "scripts", "export_sklearn.py")
    with tempfile.TemporaryDirectory() as tmp:
        pickled, stand_in = _write_stand_in(tmp, pipe)
        out = os.path.join(tmp, "m.json")
        os.environ["STAND_IN_PICKLE"] = pickled
        try:
            classify_export.export(pipe, out, verify_texts=texts, classify_bin=stand_in)
            assert "verified" in capsys.readouterr().out
            os.environ["STAND_IN_WRONG"] = "1"
            with pytest.raises(classify_export.VerifyFailed, match=f"{len(texts)} of {len(texts)} texts"):
                classify_export.export(pipe, out, verify_texts=texts, classify_bin=stand_in)
            shown = capsys.readouterr().out
            assert "line 1:" in shown and ": value: sklearn " in shown and "more" in shown, shown
        finally:
            os.environ.pop("STAND_IN_PICKLE", None)
            os.environ.pop("STAND_IN_WRONG", None)
        texts_file = os.path.join(tmp, "texts.txt")
        with open(texts_file, "w", encoding="utf-8") as f:
            f.write("".join(t + "\n" for t in texts))
        run = [sys.executable, script, "--pipeline", pickled, "-o", out, "--verify", texts_file,
               "--classify", stand_in]
        env = dict(os.environ, STAND_IN_PICKLE=pickled)
        result = subprocess.run(run, capture_output=True, text=True, env=env)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "identical" in result.stdout and "Ridge, regression" in result.stderr, result.stderr
        result = subprocess.run(run, capture_output=True, text=True, env=dict(env, STAND_IN_WRONG="1"))
        assert result.returncode == 1 and "value: sklearn" in result.stdout, result


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_regressors_verify_with_the_real_classify(classify_bin, capsys):
    """Every regressor (linear and tree), sparse and dense (after TruncatedSVD), through the real
    `classify`."""
    from sklearn.decomposition import TruncatedSVD

    x, target, held = regression_data()
    texts = [t.replace("\n", " ").replace("\r", " ") for t in held] + ["", "Ünïcødé ΟΔΟΣ 東京"]
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "m.json")
        for regressor in _regressors():
            for front in ([TfidfVectorizer(ngram_range=(1, 2))], [TfidfVectorizer(), TruncatedSVD(12, random_state=0)]):
                pipe = make_pipeline(*front, regressor).fit(x, target)
                classify_export.export(pipe, out, verify_texts=texts, classify_bin=classify_bin)
                assert "identical" in capsys.readouterr().out
                shown = subprocess.run([classify_bin, "predict", "--model", out, "-"], input="a game\n",
                                       capture_output=True, text=True, check=True).stdout.strip()
                assert float(shown) == pytest.approx(float(pipe.predict(["a game"])[0]), rel=1e-9, abs=1e-9)
        for regressor, _, _ in _tree_regressors():
            for front in ([CountVectorizer(ngram_range=(1, 2))], [TfidfVectorizer(), TruncatedSVD(12, random_state=0)]):
                pipe = make_pipeline(*front, regressor).fit(x, target)
                classify_export.export(pipe, out, verify_texts=texts, classify_bin=classify_bin)
                assert "identical" in capsys.readouterr().out


# ----------------------------------------------------------------------------------------------
# Nearest neighbours (kinds `k_neighbors`, `k_neighbors_regression`)


def _neighbors_pipelines():
    """(pipeline, regressor?) pairs covering the metrics, weights and row kinds."""
    from sklearn.decomposition import TruncatedSVD
    from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor

    return [
        (make_pipeline(TfidfVectorizer(), KNeighborsClassifier(n_neighbors=5)), False),
        (make_pipeline(TfidfVectorizer(ngram_range=(1, 2)),
                       KNeighborsClassifier(n_neighbors=9, metric="cosine", weights="distance")), False),
        (make_pipeline(CountVectorizer(), KNeighborsClassifier(n_neighbors=3, metric="manhattan")), False),
        (make_pipeline(CountVectorizer(), KNeighborsClassifier(n_neighbors=4, weights="distance", p=1)), False),
        (make_pipeline(TfidfVectorizer(), TruncatedSVD(12, random_state=0),
                       KNeighborsClassifier(n_neighbors=5, algorithm="brute")), False),
        (make_pipeline(TfidfVectorizer(), TruncatedSVD(6, random_state=0),
                       KNeighborsClassifier(n_neighbors=4, weights="distance")), False),  # kd_tree
        (make_pipeline(TfidfVectorizer(), KNeighborsRegressor(n_neighbors=5)), True),
        (make_pipeline(TfidfVectorizer(), TruncatedSVD(8, random_state=0),
                       KNeighborsRegressor(n_neighbors=10, weights="distance", algorithm="ball_tree")), True),
    ]


def _decided_texts(pipe, texts):
    """The texts whose answer does not depend on how sklearn breaks a distance tie."""
    from classify_export import neighbors

    spec = classify_export.to_model(pipe)["classifier"]
    X = pipe[:-1].transform(texts)
    return [t for t, ok in zip(texts, neighbors.decided_rows(spec, X, X.shape[1])) if ok]


def test_neighbors_models_verify_with_the_real_classify(classify_bin, capsys):
    """Every kNN shape through the real `classify`: labels exactly, probabilities and numbers
    within 1e-9, on the texts whose answer no distance tie decides."""
    x, y, held = data(n=30)
    _, target, _ = regression_data(n=30)
    texts = [t.replace("\n", " ").replace("\r", " ") for t in held] + x[:6] + ["Ünïcødé ΟΔΟΣ 東京"]
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "m.json")
        for pipe, regression in _neighbors_pipelines():
            pipe.fit(x, target if regression else y)
            kept = _decided_texts(pipe, texts)
            assert len(kept) >= len(texts) // 2, (pipe, len(kept))
            model = classify_export.export(pipe, out, verify_texts=kept, classify_bin=classify_bin)
            assert "identical" in capsys.readouterr().out
            c = model["classifier"]
            assert model["format_version"] == 2
            assert c["kind"] == ("k_neighbors_regression" if regression else "k_neighbors")
            assert c["algorithm"] == pipe[-1]._fit_method
            assert len(c["fit_rows"]["indptr"]) == pipe[-1].n_samples_fit_ + 1


def test_neighbors_ties_go_as_sklearns_heap(classify_bin):
    """Training texts repeated with other labels make exact ties at the k-th place. On dense rows
    with the manhattan metric sklearn's ArgKmin sums exactly as the reader does, and on one
    OpenMP thread it feeds its heap in row order, as the reader does: every answer matches,
    the tied ones too."""
    from sklearn.decomposition import TruncatedSVD
    from sklearn.neighbors import KNeighborsClassifier
    from threadpoolctl import threadpool_limits

    x, y, held = data(n=20)
    labels = ["games", "science", "x11"]
    shifted = [[labels[(labels.index(v) + shift) % 3] for v in y[:30]] for shift in (1, 2, 0)]
    x = x + x[:30] * 3
    y = list(y) + shifted[0] + shifted[1] + shifted[2]
    texts = [t.replace("\n", " ") for t in held] + x[:30]
    for k in (1, 2, 3):
        pipe = make_pipeline(TfidfVectorizer(), TruncatedSVD(10, random_state=0),
                             KNeighborsClassifier(n_neighbors=k, metric="manhattan", algorithm="brute"))
        pipe.fit(x, np.array(y))
        plan = walk.build(walk.flatten(pipe))
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "m.json")
            classify_export.model.write_model(classify_export.to_model(pipe), out)
            path = os.path.join(tmp, "texts.txt")
            with open(path, "w", encoding="utf-8") as f:
                f.write("".join(t + "\n" for t in texts))
            with threadpool_limits(limits=1, user_api="openmp"):
                expected = verify.sklearn_predictions(plan, texts)
            got = verify.classify_predictions(classify_bin, out, path)
        undecided = len(texts) - len(_decided_texts(pipe, texts))
        assert undecided >= 10, f"k={k}: only {undecided} tie-dependent texts: the test proves little"
        for e, g, text in zip(expected, got, texts):
            assert e["label"] == g["label"], (k, text)
            assert same_numbers(e["probabilities"], g["probabilities"]), (k, text)


def test_neighbors_refusals():
    import numpy as np
    from sklearn.neighbors import (
        KNeighborsClassifier,
        KNeighborsRegressor,
        RadiusNeighborsClassifier,
        RadiusNeighborsRegressor,
    )

    x, y, _ = data(n=12)
    _, target, _ = regression_data(n=12)

    def fitted(clf, vectorizer=None, labels=None):
        return make_pipeline(vectorizer or TfidfVectorizer(), clf).fit(x, y if labels is None else labels)

    from sklearn.decomposition import TruncatedSVD

    def dense(clf):
        return make_pipeline(TfidfVectorizer(), TruncatedSVD(5, random_state=0), clf).fit(x, y)

    refused(dense(KNeighborsClassifier(metric="chebyshev")), "metric='chebyshev'", "not supported")
    refused(dense(KNeighborsClassifier(p=3)), "p=3", "p=2")
    refused(fitted(KNeighborsClassifier(metric="l1")), "metric='l1'", "metric='manhattan'")
    refused(fitted(KNeighborsClassifier(metric="minkowski", metric_params={"p": 2})), "metric_params")
    refused(fitted(KNeighborsClassifier(weights=lambda d: 1 / (1 + d))), "weight function", "'distance'")
    refused(fitted(KNeighborsClassifier(metric="manhattan")), "sparse float rows", "unsorted")
    refused(fitted(KNeighborsClassifier(n_neighbors=500)), "n_neighbors=500", "training rows")
    refused(fitted(KNeighborsClassifier(), TfidfVectorizer(dtype=np.float32)), "float32")
    refused(fitted(RadiusNeighborsClassifier(radius=2.0)), "RadiusNeighborsClassifier", "radius")
    refused(fitted(RadiusNeighborsRegressor(radius=2.0), labels=target), "RadiusNeighborsRegressor")
    two = np.column_stack([target, target])
    refused(fitted(KNeighborsRegressor(), labels=two), "2 target columns", "1-D y")
    refused(fitted(KNeighborsRegressor(), labels=target[:, None]), "2-D target of one column")
    refused(fitted(KNeighborsClassifier(), labels=np.column_stack([y, y])), "2-D y")
    precomputed = KNeighborsClassifier(metric="precomputed").fit(np.eye(len(y)), y)
    refused(make_pipeline(TfidfVectorizer().fit(x), precomputed), "precomputed")
