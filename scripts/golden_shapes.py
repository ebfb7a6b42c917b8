"""The model shapes of docs/model-format-v2.md, for scripts/make_golden.py.

One small builder per shape, registered in definition order with @shape(description). A builder
gets make_golden's corpus samples (`samples`: split(), with_torture(), BINARY, TRI, MULTI), fits
one estimator on them and returns a Fitted: the estimator exactly as a user would hand it to
classify_export.to_model (a Pipeline, a search CV, ...), the held-out texts, and what make_golden
needs to record sklearn's view of them. The fixture's name is the builder's without `shape_`.

A builder that the running sklearn cannot build (a class or parameter that does not exist there,
a solver that refuses the task) raises; make_golden lists the shape as skipped, with the reason,
in manifest.json. A builder raises CannotBuild for such a condition it checks itself.

What make_golden records per text (see outputs() and multilabel_outputs() below for the
definitions):
  scores         per docs/model-format-v2.md's table: decision_function where sklearn has one,
                 predict_proba for calibrated, soft-voting and tree models, the weighted vote counts for
                 hard voting, the joint log-likelihood for naive Bayes, members' predict_proba[:, 1]
                 for a one-vs-rest without decision_function, negated centroid distances for a
                 NearestCentroid without decision_function; for a regressor [predict]
  probabilities  predict_proba when the estimator has it, else null
  label          str(predict), for classifiers that answer one class
  labels         for a multi-label model (OneVsRestClassifier or MultiOutputClassifier fitted on an
                 indicator matrix) instead of label: the labels of the columns its predict sets, as
                 str, in column order; its scores are each label's member score (decision value, or
                 predict_proba[:, 1] without decision_function) and its probabilities each label's
                 class-1 probability (null unless every member has predict_proba)
  value          predict, for regressors (kind linear_regression, tree_regression or svr), which
                 have no label
  analyzed       only when the exported model has a top-level vectorizer (Fitted.vectorizer)
  features       only when the exported model's rows are that vectorizer's (+ tf-idf) output:
                 no union and no steps (Fitted.plain)
"""

import dataclasses
import math
from typing import Any, Callable, Optional

import numpy as np
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.decomposition import TruncatedSVD
from sklearn.ensemble import (
    ExtraTreesClassifier,
    ExtraTreesRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
    VotingClassifier,
)
from sklearn.feature_extraction.text import (
    CountVectorizer,
    HashingVectorizer,
    TfidfTransformer,
    TfidfVectorizer,
)
from sklearn.feature_selection import (
    GenericUnivariateSelect,
    SelectFromModel,
    SelectKBest,
    SelectPercentile,
    VarianceThreshold,
    chi2,
    f_classif,
)
from sklearn.linear_model import (
    ElasticNet,
    ElasticNetCV,
    Lasso,
    LinearRegression,
    LogisticRegression,
    LogisticRegressionCV,
    Ridge,
    RidgeClassifier,
    RidgeClassifierCV,
    RidgeCV,
    SGDClassifier,
    SGDRegressor,
)
from sklearn.metrics import pairwise_distances
from sklearn.model_selection import GridSearchCV
from sklearn.multiclass import OneVsOneClassifier, OneVsRestClassifier
from sklearn.multioutput import MultiOutputClassifier
from sklearn.naive_bayes import BernoulliNB, ComplementNB, MultinomialNB
from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor, NearestCentroid
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import MaxAbsScaler, Normalizer, StandardScaler
from sklearn.svm import SVC, SVR, LinearSVC, LinearSVR, NuSVR
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

# Held-out texts per model (the torture list comes in front of them): fewer for character
# analyzers, whose fixtures are larger.
N_TEST_WORD = 60
N_TEST_CHAR = 30


class CannotBuild(Exception):
    """This sklearn (or this Python) cannot build the shape; the message says why."""


@dataclasses.dataclass
class Fitted:
    estimator: Any
    """The fitted estimator as a whole: what classify_export.to_model gets."""
    texts: list
    """Held-out texts (make_golden puts its torture list in front of them)."""
    to_input: Optional[Callable[[list], Any]] = None
    """texts → the input the estimator was fitted on (a 2-D array or a DataFrame for a
    ColumnTransformer); None: the list of texts itself."""
    vectorizer: Any = None
    """The fitted text vectorizer the exported model's top-level `vectorizer` is, if any."""
    plain: Optional[Callable[[list], Any]] = None
    """texts → that vectorizer's (+ TfidfTransformer) output rows, if the model has one."""
    labels: Any = None
    """A multi-label model's fitted MultiLabelBinarizer, which names its indicator columns
    (classify_export.to_model(labels=...)); None: the columns are named 0, 1, ..."""
    keep: Optional[Callable[[list], list]] = None
    """texts → the texts to record (the torture list included); None: all. A nearest-neighbour
    shape leaves out those whose answer depends on how sklearn breaks a distance tie."""

    def input(self, texts):
        return texts if self.to_input is None else self.to_input(texts)


SHAPES = []


def shape(description):
    def register(builder):
        name = builder.__name__[len("shape_"):]
        assert builder.__name__.startswith("shape_") and all(name != n for n, _, _ in SHAPES), name
        SHAPES.append((name, description, builder))
        return builder

    return register


def fit(estimator, samples, labels, n_train, *, n_test=N_TEST_WORD, int_labels=False,
        torture=False, to_input=None):
    """Fits `estimator` on make_golden's sample of `labels`; returns the held-out texts."""
    train_x, train_y, test_x = samples.split(labels, n_train, n_test, int_labels)
    if torture:
        train_x, train_y = samples.with_torture(train_x, train_y)
    # An array, not a list: sklearn 1.2's CalibratedClassifierCV counts a class's examples with
    # `y == class_`, which is False for a list.
    estimator.fit(train_x if to_input is None else to_input(train_x), np.asarray(train_y))
    return test_x


def pipeline_fitted(pipe, texts, n_plain=1):
    """A Pipeline whose first n_plain steps are the vectorizer (and its TfidfTransformer)."""
    return Fitted(pipe, texts, vectorizer=pipe[0], plain=pipe[:n_plain].transform)


def text_column(texts):
    """The 2-D object array of one text column a ColumnTransformer with selector 0 is fitted on."""
    column = np.empty((len(texts), 1), dtype=object)
    column[:, 0] = texts
    return column


def text_frame(texts):
    import pandas

    return pandas.DataFrame({"text": list(texts)})


# ----------------------------------------------------------------------------------------------
# Nested pipelines


@shape("Pipeline(Pipeline(CountVectorizer (1,2), TfidfTransformer sublinear), LinearSVC)")
def shape_pipeline_nested_count_tfidf_linearsvc(samples):
    features = Pipeline([
        ("vec", CountVectorizer(ngram_range=(1, 2), min_df=2, max_features=600)),
        ("tfidf", TfidfTransformer(sublinear_tf=True)),
    ])
    pipe = Pipeline([("features", features), ("clf", LinearSVC(random_state=0))])
    texts = fit(pipe, samples, samples.TRI, 100)
    return Fitted(pipe, texts, vectorizer=features[0], plain=features.transform)


@shape("Pipeline(TfidfVectorizer, Pipeline(SelectKBest(chi2, 200), LogisticRegression)), 6 classes")
def shape_pipeline_nested_select_logreg(samples):
    model = Pipeline([("select", SelectKBest(chi2, k=200)), ("clf", LogisticRegression(max_iter=2000))])
    pipe = Pipeline([("vec", TfidfVectorizer(max_features=800)), ("model", model)])
    return pipeline_fitted(pipe, fit(pipe, samples, samples.MULTI, 60))


# ----------------------------------------------------------------------------------------------
# FeatureUnion and ColumnTransformer


@shape("FeatureUnion(word (1,2) TfidfVectorizer, char_wb (2,4) TfidfVectorizer) with "
       "transformer_weights {word: 1, char: 0.5}, fitted with the torture texts; LinearSVC")
def shape_featureunion_word_char_weights_linearsvc(samples):
    union = FeatureUnion(
        [
            ("word", TfidfVectorizer(ngram_range=(1, 2), min_df=2, max_features=600)),
            ("char", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), min_df=2, max_features=800)),
        ],
        transformer_weights={"word": 1.0, "char": 0.5},
    )
    pipe = Pipeline([("union", union), ("clf", LinearSVC(random_state=0))])
    return Fitted(pipe, fit(pipe, samples, samples.TRI, 80, n_test=N_TEST_CHAR, torture=True))


@shape("FeatureUnion(Pipeline(CountVectorizer, TfidfTransformer), HashingVectorizer 2**9 (1,2)) "
       "with transformer_weights {hashed: 2}; LogisticRegression, 6 classes")
def shape_featureunion_subpipelines_count_tfidf_hashing_logreg(samples):
    union = FeatureUnion(
        [
            ("counts", Pipeline([("vec", CountVectorizer(max_features=500)), ("tfidf", TfidfTransformer())])),
            ("hashed", HashingVectorizer(n_features=2**9, ngram_range=(1, 2))),
        ],
        transformer_weights={"hashed": 2.0},
    )
    pipe = Pipeline([("union", union), ("clf", LogisticRegression(C=5.0, max_iter=2000))])
    return Fitted(pipe, fit(pipe, samples, samples.MULTI, 60))


@shape("FeatureUnion(Pipeline(CountVectorizer, SelectKBest(chi2, 150), TfidfTransformer), "
       "Pipeline(HashingVectorizer no alternate_sign, MaxAbsScaler)): steps inside branches; LinearSVC")
def shape_featureunion_branch_steps_linearsvc(samples):
    union = FeatureUnion([
        ("words", Pipeline([
            ("vec", CountVectorizer(max_features=800)),
            ("select", SelectKBest(chi2, k=150)),
            ("tfidf", TfidfTransformer()),
        ])),
        ("hashed", Pipeline([
            ("vec", HashingVectorizer(n_features=2**8, alternate_sign=False, norm=None)),
            ("scale", MaxAbsScaler()),
        ])),
    ])
    pipe = Pipeline([("union", union), ("clf", LinearSVC(random_state=0))])
    return Fitted(pipe, fit(pipe, samples, samples.TRI, 100))


@shape("ColumnTransformer([(text, TfidfVectorizer, 0)]) on a 2-D object array of one column; LinearSVC")
def shape_columntransformer_text_linearsvc(samples):
    columns = ColumnTransformer([("text", TfidfVectorizer(ngram_range=(1, 2), min_df=2, max_features=600), 0)])
    pipe = Pipeline([("columns", columns), ("clf", LinearSVC(random_state=0))])
    texts = fit(pipe, samples, samples.TRI, 100, to_input=text_column)
    vectorizer = columns.named_transformers_["text"]
    return Fitted(pipe, texts, to_input=text_column, vectorizer=vectorizer, plain=vectorizer.transform)


@shape("ColumnTransformer([(text, TfidfVectorizer, 'text')]) on a pandas DataFrame; LogisticRegression")
def shape_columntransformer_dataframe_text_logreg(samples):
    try:
        import pandas  # noqa: F401
    except ImportError as e:
        raise CannotBuild(f"pandas is not importable ({e})")
    columns = ColumnTransformer([("text", TfidfVectorizer(max_features=600), "text")])
    pipe = Pipeline([("columns", columns), ("clf", LogisticRegression(max_iter=2000))])
    texts = fit(pipe, samples, samples.TRI, 100, to_input=text_frame)
    vectorizer = columns.named_transformers_["text"]
    return Fitted(pipe, texts, to_input=text_frame, vectorizer=vectorizer, plain=vectorizer.transform)


@shape("ColumnTransformer with two transformers on the same column 0 (word CountVectorizer, "
       "char_wb (3,4) TfidfVectorizer weighted 0.7); SGDClassifier hinge")
def shape_columntransformer_two_on_same_column_sgd(samples):
    columns = ColumnTransformer(
        [
            ("word", CountVectorizer(max_features=500), 0),
            ("char", TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 4), max_features=600), 0),
        ],
        transformer_weights={"char": 0.7},
    )
    pipe = Pipeline([("columns", columns), ("clf", SGDClassifier(random_state=0))])
    texts = fit(pipe, samples, samples.TRI, 80, n_test=N_TEST_CHAR, to_input=text_column)
    return Fitted(pipe, texts, to_input=text_column)


# ----------------------------------------------------------------------------------------------
# Feature selection


@shape("TfidfVectorizer (1,2), SelectKBest(chi2, k=150), LinearSVC, 6 classes")
def shape_selectkbest_chi2_linearsvc(samples):
    pipe = Pipeline([
        ("vec", TfidfVectorizer(ngram_range=(1, 2), min_df=2, max_features=1000)),
        ("select", SelectKBest(chi2, k=150)),
        ("clf", LinearSVC(random_state=0)),
    ])
    return pipeline_fitted(pipe, fit(pipe, samples, samples.MULTI, 60))


@shape("CountVectorizer, SelectPercentile(f_classif, 25), LogisticRegression")
def shape_selectpercentile_f_classif_logreg(samples):
    pipe = Pipeline([
        ("vec", CountVectorizer(min_df=2, max_features=800)),
        ("select", SelectPercentile(f_classif, percentile=25)),
        ("clf", LogisticRegression(max_iter=2000)),
    ])
    return pipeline_fitted(pipe, fit(pipe, samples, samples.TRI, 100))


@shape("CountVectorizer, GenericUnivariateSelect(chi2, mode='fpr', param=0.01), RidgeClassifier")
def shape_genericunivariate_fpr_chi2_ridge(samples):
    pipe = Pipeline([
        ("vec", CountVectorizer(max_features=800)),
        ("select", GenericUnivariateSelect(chi2, mode="fpr", param=0.01)),
        ("clf", RidgeClassifier()),
    ])
    return pipeline_fitted(pipe, fit(pipe, samples, samples.TRI, 100))


@shape("TfidfVectorizer, SelectFromModel(LinearSVC(penalty='l1', dual=False)), LogisticRegression")
def shape_selectfrommodel_l1_linearsvc_logreg(samples):
    pipe = Pipeline([
        ("vec", TfidfVectorizer(max_features=1000)),
        ("select", SelectFromModel(LinearSVC(penalty="l1", dual=False, C=0.5, random_state=0))),
        ("clf", LogisticRegression(max_iter=2000)),
    ])
    return pipeline_fitted(pipe, fit(pipe, samples, samples.TRI, 100))


@shape("CountVectorizer(binary=True), VarianceThreshold(0.01), MultinomialNB")
def shape_variancethreshold_binary_count_multinomialnb(samples):
    pipe = Pipeline([
        ("vec", CountVectorizer(binary=True, max_features=800)),
        ("select", VarianceThreshold(threshold=0.01)),
        ("clf", MultinomialNB()),
    ])
    return pipeline_fitted(pipe, fit(pipe, samples, samples.TRI, 100))


@shape("CountVectorizer (1,2), SelectKBest(chi2, 300), TfidfTransformer after the selection, LinearSVC")
def shape_select_then_tfidf_linearsvc(samples):
    pipe = Pipeline([
        ("vec", CountVectorizer(ngram_range=(1, 2), max_features=1200)),
        ("select", SelectKBest(chi2, k=300)),
        ("tfidf", TfidfTransformer()),
        ("clf", LinearSVC(random_state=0)),
    ])
    return pipeline_fitted(pipe, fit(pipe, samples, samples.TRI, 100))


# ----------------------------------------------------------------------------------------------
# Scaling and normalization


@shape("CountVectorizer, Normalizer(l1), LinearSVC")
def shape_normalizer_l1_count_linearsvc(samples):
    pipe = Pipeline([("vec", CountVectorizer(max_features=600)), ("norm", Normalizer(norm="l1")),
                     ("clf", LinearSVC(random_state=0))])
    return pipeline_fitted(pipe, fit(pipe, samples, samples.TRI, 100))


@shape("CountVectorizer (1,2), Normalizer(l2), SGDClassifier log_loss, 6 classes")
def shape_normalizer_l2_count_sgd_log(samples):
    pipe = Pipeline([("vec", CountVectorizer(ngram_range=(1, 2), max_features=600)),
                     ("norm", Normalizer(norm="l2")), ("clf", SGDClassifier(loss="log_loss", random_state=0))])
    return pipeline_fitted(pipe, fit(pipe, samples, samples.MULTI, 60))


@shape("CountVectorizer, Normalizer(max), LogisticRegression")
def shape_normalizer_max_count_logreg(samples):
    pipe = Pipeline([("vec", CountVectorizer(max_features=600)), ("norm", Normalizer(norm="max")),
                     ("clf", LogisticRegression(max_iter=2000))])
    return pipeline_fitted(pipe, fit(pipe, samples, samples.TRI, 100))


@shape("TfidfVectorizer, MaxAbsScaler, LinearSVC")
def shape_maxabsscaler_tfidf_linearsvc(samples):
    pipe = Pipeline([("vec", TfidfVectorizer(max_features=600)), ("scale", MaxAbsScaler()),
                     ("clf", LinearSVC(random_state=0))])
    return pipeline_fitted(pipe, fit(pipe, samples, samples.TRI, 100))


@shape("CountVectorizer, StandardScaler(with_mean=False), LogisticRegression, binary")
def shape_standardscaler_nomean_count_logreg(samples):
    pipe = Pipeline([("vec", CountVectorizer(max_features=600)), ("scale", StandardScaler(with_mean=False)),
                     ("clf", LogisticRegression(C=0.1, max_iter=2000))])
    return pipeline_fitted(pipe, fit(pipe, samples, samples.BINARY, 150))


# ----------------------------------------------------------------------------------------------
# TruncatedSVD: dense rows


@shape("TfidfVectorizer, TruncatedSVD(20), StandardScaler (centering), LogisticRegression, 6 classes")
def shape_truncatedsvd_standardscaler_logreg(samples):
    pipe = Pipeline([
        ("vec", TfidfVectorizer(max_features=400)),
        ("svd", TruncatedSVD(n_components=20, random_state=0)),
        ("scale", StandardScaler()),
        ("clf", LogisticRegression(max_iter=2000)),
    ])
    return pipeline_fitted(pipe, fit(pipe, samples, samples.MULTI, 60))


@shape("TfidfVectorizer, TruncatedSVD(20), Normalizer(l2), LinearSVC")
def shape_truncatedsvd_normalizer_linearsvc(samples):
    pipe = Pipeline([
        ("vec", TfidfVectorizer(max_features=400)),
        ("svd", TruncatedSVD(n_components=20, random_state=0)),
        ("norm", Normalizer()),
        ("clf", LinearSVC(random_state=0)),
    ])
    return pipeline_fitted(pipe, fit(pipe, samples, samples.TRI, 100))


@shape("TfidfVectorizer, TruncatedSVD(10), SVC rbf gamma='scale' (fitted on dense rows)")
def shape_truncatedsvd_svc_rbf(samples):
    pipe = Pipeline([
        ("vec", TfidfVectorizer(max_features=400, min_df=2)),
        ("svd", TruncatedSVD(n_components=10, random_state=0)),
        ("clf", SVC(C=10.0)),
    ])
    return pipeline_fitted(pipe, fit(pipe, samples, samples.TRI, 40))


# ----------------------------------------------------------------------------------------------
# Search CV


@shape("GridSearchCV(Pipeline(TfidfVectorizer, LinearSVC), ngram_range x C, cv=2)")
def shape_gridsearch_pipeline_tfidf_linearsvc(samples):
    pipe = Pipeline([("vec", TfidfVectorizer(max_features=600)), ("clf", LinearSVC(random_state=0))])
    search = GridSearchCV(pipe, {"vec__ngram_range": [(1, 1), (1, 2)], "clf__C": [0.1, 1.0]}, cv=2)
    texts = fit(search, samples, samples.TRI, 80)
    best = search.best_estimator_
    return Fitted(search, texts, vectorizer=best[0], plain=best[:1].transform)


# ----------------------------------------------------------------------------------------------
# Calibration


def _calibrated(samples, method, ensemble, labels):
    pipe = Pipeline([
        ("vec", TfidfVectorizer(max_features=600)),
        ("clf", CalibratedClassifierCV(LinearSVC(random_state=0), method=method, cv=3, ensemble=ensemble)),
    ])
    n_train = 120 if len(labels) == 2 else 80
    return pipeline_fitted(pipe, fit(pipe, samples, labels, n_train))


for _method in ("sigmoid", "isotonic"):
    for _ensemble in (True, False):
        for _classes in ("binary", "multi"):
            def _builder(samples, method=_method, ensemble=_ensemble, classes=_classes):
                return _calibrated(samples, method, ensemble, samples.BINARY if classes == "binary" else samples.TRI)

            _builder.__name__ = (f"shape_calibrated_linearsvc_{_method}_"
                                 f"{'ensemble' if _ensemble else 'single'}_{_classes}")
            shape(f"CalibratedClassifierCV(LinearSVC, method={_method!r}, cv=3, ensemble={_ensemble}), "
                  f"{'2' if _classes == 'binary' else '3'} classes")(_builder)
del _method, _ensemble, _classes, _builder


@shape("CalibratedClassifierCV(MultinomialNB, sigmoid, cv=3): members answer predict_proba; 6 classes")
def shape_calibrated_multinomialnb_sigmoid_multi(samples):
    pipe = Pipeline([
        ("vec", CountVectorizer(max_features=600)),
        ("clf", CalibratedClassifierCV(MultinomialNB(), method="sigmoid", cv=3)),
    ])
    return pipeline_fitted(pipe, fit(pipe, samples, samples.MULTI, 60))


# ----------------------------------------------------------------------------------------------
# One-vs-rest, one-vs-one


@shape("OneVsRestClassifier(LinearSVC), 6 classes")
def shape_ovr_linearsvc_multi(samples):
    pipe = Pipeline([("vec", TfidfVectorizer(max_features=600)), ("clf", OneVsRestClassifier(LinearSVC(random_state=0)))])
    return pipeline_fitted(pipe, fit(pipe, samples, samples.MULTI, 60))


@shape("OneVsRestClassifier(LinearSVC), 2 classes: one member")
def shape_ovr_linearsvc_binary(samples):
    pipe = Pipeline([("vec", TfidfVectorizer(max_features=600)), ("clf", OneVsRestClassifier(LinearSVC(random_state=0)))])
    return pipeline_fitted(pipe, fit(pipe, samples, samples.BINARY, 150))


@shape("OneVsRestClassifier(MultinomialNB): no decision_function, scores are members' p[:, 1]; 3 classes")
def shape_ovr_multinomialnb_multi(samples):
    pipe = Pipeline([("vec", CountVectorizer(max_features=600)), ("clf", OneVsRestClassifier(MultinomialNB()))])
    return pipeline_fitted(pipe, fit(pipe, samples, samples.TRI, 100))


@shape("OneVsRestClassifier(MultinomialNB), 2 classes: one member, threshold 0.5")
def shape_ovr_multinomialnb_binary(samples):
    pipe = Pipeline([("vec", CountVectorizer(max_features=600)), ("clf", OneVsRestClassifier(MultinomialNB()))])
    return pipeline_fitted(pipe, fit(pipe, samples, samples.BINARY, 150))


@shape("OneVsOneClassifier(LinearSVC), 2 classes")
def shape_ovo_linearsvc_binary(samples):
    pipe = Pipeline([("vec", TfidfVectorizer(max_features=600)), ("clf", OneVsOneClassifier(LinearSVC(random_state=0)))])
    return pipeline_fitted(pipe, fit(pipe, samples, samples.BINARY, 150))


@shape("OneVsOneClassifier(LinearSVC), 6 classes, integer labels")
def shape_ovo_linearsvc_multi_int(samples):
    pipe = Pipeline([("vec", TfidfVectorizer(max_features=600)), ("clf", OneVsOneClassifier(LinearSVC(random_state=0)))])
    return pipeline_fitted(pipe, fit(pipe, samples, samples.MULTI, 60, int_labels=True))


# ----------------------------------------------------------------------------------------------
# Multi-label (kind `multi_label`): several labels per text, from an indicator matrix derived from
# each training text's section and length


MULTILABEL_TAGS = ("games", "science", "x11", "desktop", "long")
LONG_WORDS = 50


def multilabel_tags(section, text):
    """A training text's labels: its section when it is games, science or x11 (the other sections
    have none), "desktop" for games and x11 (a second tag of the same sections), and "long" for
    more than LONG_WORDS whitespace-separated words. A text has 0 to 3 labels."""
    tags = set()
    if section in ("games", "science", "x11"):
        tags.add(section)
    if section in ("games", "x11"):
        tags.add("desktop")
    if len(text.split()) > LONG_WORDS:
        tags.add("long")
    return tags


def fit_multilabel(estimator, samples, n_train, *, mlb=None, n_test=N_TEST_WORD):
    """Fits `estimator` on make_golden's sample of the six MULTI sections with the indicator
    matrix of multilabel_tags (columns in MULTILABEL_TAGS order, or `mlb`'s sorted labels when a
    MultiLabelBinarizer is given, which it is fitted on); returns the held-out texts."""
    train_x, train_y, test_x = samples.split(samples.MULTI, n_train, n_test, False)
    sets = [multilabel_tags(section, text) for section, text in zip(train_y, train_x)]
    if mlb is not None:
        indicator = mlb.fit_transform(sets)
    else:
        indicator = np.array([[int(tag in tags) for tag in MULTILABEL_TAGS] for tags in sets])
    for column in range(indicator.shape[1]):
        if indicator[:, column].min() == indicator[:, column].max():
            raise CannotBuild(f"indicator column {column} is constant in the training sample")
    estimator.fit(train_x, indicator)
    return test_x


@shape("Multi-label: TfidfVectorizer word (1,2)-grams, OneVsRestClassifier(LinearSVC) on a 5-column "
       "indicator matrix (section tags, desktop, long): a label is set when its decision value is > 0")
def shape_multilabel_ovr_linearsvc_tfidf(samples):
    pipe = Pipeline([
        ("vec", TfidfVectorizer(ngram_range=(1, 2), min_df=2, max_features=800)),
        ("clf", OneVsRestClassifier(LinearSVC(random_state=0))),
    ])
    return pipeline_fitted(pipe, fit_multilabel(pipe, samples, 60))


@shape("Multi-label: CountVectorizer, OneVsRestClassifier(LogisticRegression): decision values > 0, "
       "and each label's own probability (not normalized across labels)")
def shape_multilabel_ovr_logreg_count(samples):
    pipe = Pipeline([
        ("vec", CountVectorizer(min_df=2, max_features=800)),
        ("clf", OneVsRestClassifier(LogisticRegression(max_iter=2000))),
    ])
    return pipeline_fitted(pipe, fit_multilabel(pipe, samples, 60))


@shape("Multi-label: CountVectorizer, OneVsRestClassifier(MultinomialNB): no decision_function, a label "
       "is set when its member's predict_proba[:, 1] is > 0.5")
def shape_multilabel_ovr_multinomialnb(samples):
    pipe = Pipeline([
        ("vec", CountVectorizer(max_features=800)),
        ("clf", OneVsRestClassifier(MultinomialNB())),
    ])
    return pipeline_fitted(pipe, fit_multilabel(pipe, samples, 60))


@shape("Multi-label: TfidfVectorizer, MultiOutputClassifier(LogisticRegression): each label is its "
       "member's own predict; scores its decision value")
def shape_multilabel_multioutput_logreg(samples):
    pipe = Pipeline([
        ("vec", TfidfVectorizer(max_features=800)),
        ("clf", MultiOutputClassifier(LogisticRegression(C=10.0, max_iter=2000))),
    ])
    return pipeline_fitted(pipe, fit_multilabel(pipe, samples, 60))


@shape("Multi-label: CountVectorizer, MultiOutputClassifier(RandomForestClassifier(n_estimators=10)): "
       "members' predict_proba[:, 1] as scores, a 5-against-5 tie of a member goes to class 0")
def shape_multilabel_multioutput_randomforest(samples):
    pipe = Pipeline([
        ("vec", CountVectorizer(max_features=600)),
        ("clf", MultiOutputClassifier(RandomForestClassifier(n_estimators=10, random_state=0))),
    ])
    return pipeline_fitted(pipe, fit_multilabel(pipe, samples, 60))


@shape("Multi-label: CountVectorizer, MultiOutputClassifier(DecisionTreeClassifier(max_depth=6))")
def shape_multilabel_multioutput_decisiontree(samples):
    pipe = Pipeline([
        ("vec", CountVectorizer(ngram_range=(1, 2), min_df=2, max_features=800)),
        ("clf", MultiOutputClassifier(DecisionTreeClassifier(max_depth=6, random_state=0))),
    ])
    return pipeline_fitted(pipe, fit_multilabel(pipe, samples, 60))


@shape("Multi-label after steps: TfidfVectorizer (1,2), SelectKBest(chi2, 200) scored on the "
       "indicator matrix, OneVsRestClassifier(LinearSVC)")
def shape_multilabel_selectkbest_ovr_linearsvc(samples):
    pipe = Pipeline([
        ("vec", TfidfVectorizer(ngram_range=(1, 2), min_df=2, max_features=1000)),
        ("select", SelectKBest(chi2, k=200)),
        ("clf", OneVsRestClassifier(LinearSVC(random_state=0))),
    ])
    return pipeline_fitted(pipe, fit_multilabel(pipe, samples, 60))


@shape("Multi-label on dense rows: TfidfVectorizer, TruncatedSVD(20), "
       "MultiOutputClassifier(LogisticRegression)")
def shape_multilabel_truncatedsvd_multioutput_logreg(samples):
    pipe = Pipeline([
        ("vec", TfidfVectorizer(max_features=600)),
        ("svd", TruncatedSVD(n_components=20, random_state=0)),
        ("clf", MultiOutputClassifier(LogisticRegression(C=10.0, max_iter=2000))),
    ])
    return pipeline_fitted(pipe, fit_multilabel(pipe, samples, 60))


@shape("Multi-label with a MultiLabelBinarizer's string labels (exported with labels=mlb): "
       "TfidfVectorizer, OneVsRestClassifier(SGDClassifier(loss='log_loss'))")
def shape_multilabel_mlb_ovr_sgd_log(samples):
    from sklearn.preprocessing import MultiLabelBinarizer

    pipe = Pipeline([
        ("vec", TfidfVectorizer(max_features=800)),
        ("clf", OneVsRestClassifier(SGDClassifier(loss="log_loss", random_state=0))),
    ])
    mlb = MultiLabelBinarizer()
    fitted = pipeline_fitted(pipe, fit_multilabel(pipe, samples, 60, mlb=mlb))
    fitted.labels = mlb
    return fitted


@shape("Multi-label with a MultiLabelBinarizer's string labels: CountVectorizer, "
       "MultiOutputClassifier(MultinomialNB): no decision_function, the members' own predict")
def shape_multilabel_mlb_multioutput_multinomialnb(samples):
    from sklearn.preprocessing import MultiLabelBinarizer

    pipe = Pipeline([
        ("vec", CountVectorizer(max_features=800)),
        ("clf", MultiOutputClassifier(MultinomialNB())),
    ])
    mlb = MultiLabelBinarizer()
    fitted = pipeline_fitted(pipe, fit_multilabel(pipe, samples, 60, mlb=mlb))
    fitted.labels = mlb
    return fitted


def final_estimator(estimator):
    """The last step of a Pipeline or search CV's best estimator (nested ones too)."""
    from sklearn.model_selection._search import BaseSearchCV

    while True:
        if isinstance(estimator, BaseSearchCV):
            estimator = estimator.best_estimator_
        elif isinstance(estimator, Pipeline):
            estimator = estimator.steps[-1][1]
        else:
            return estimator


def is_multilabel(estimator):
    """Whether the estimator answers a set of labels per text: a OneVsRestClassifier fitted on an
    indicator matrix, or a MultiOutputClassifier."""
    from sklearn.multioutput import MultiOutputClassifier

    final = final_estimator(estimator)
    if isinstance(final, OneVsRestClassifier):
        return final.label_binarizer_.y_type_.startswith("multilabel")
    return isinstance(final, MultiOutputClassifier)


def multilabel_outputs(estimator, X, names):
    """(scores, probabilities or None, label sets) of a multi-label estimator on X. Label sets:
    per row the names (str) of the columns predict sets, in column order. Scores: per label what
    sklearn's _predict_binary reads from the member (its decision_function, else its
    predict_proba[:, 1]); for one-vs-rest the wrapper's own decision_function. Probabilities:
    per label its member's class-1 probability (predict_proba of the wrapper: one-vs-rest's
    (n, labels) array, MultiOutputClassifier's list of (n, 2) arrays), when the wrapper has it."""
    from scipy import sparse

    for _, step in (estimator.steps[:-1] if isinstance(estimator, Pipeline) else []):
        if step is not None and step != "passthrough":
            X = step.transform(X)
    if not isinstance(estimator, Pipeline):
        raise CannotBuild("multilabel_outputs reads a Pipeline ending in the multi-label wrapper")
    wrapper = estimator.steps[-1][1]
    indicator = wrapper.predict(X)
    indicator = np.asarray(indicator.toarray() if sparse.issparse(indicator) else indicator)
    if indicator.shape[1] != len(names):
        raise CannotBuild(f"predict answers {indicator.shape[1]} columns for {len(names)} labels")
    label_sets = [[str(names[j]) for j in np.flatnonzero(row)] for row in indicator]
    if hasattr(wrapper, "decision_function"):
        scores = np.asarray(wrapper.decision_function(X), dtype=np.float64)
    else:
        members = wrapper.estimators_
        if all(hasattr(m, "decision_function") for m in members):
            scores = np.column_stack([np.ravel(m.decision_function(X)) for m in members])
        else:
            scores = np.column_stack([m.predict_proba(X)[:, 1] for m in members])
    probabilities = None
    if hasattr(wrapper, "predict_proba"):
        answered = wrapper.predict_proba(X)
        if isinstance(answered, list):
            answered = np.column_stack([p[:, 1] for p in answered])
        probabilities = np.asarray(answered, dtype=np.float64)
    return scores.reshape(len(label_sets), -1), probabilities, label_sets


# ----------------------------------------------------------------------------------------------
# Voting


@shape("VotingClassifier hard, weights [2, 1, 1]: LogisticRegression, MultinomialNB, "
       "Pipeline(SelectKBest(chi2, 100), LinearSVC); 6 classes")
def shape_voting_hard_weights_logreg_nb_select_linearsvc(samples):
    voting = VotingClassifier(
        [
            ("logreg", LogisticRegression(max_iter=2000)),
            ("nb", MultinomialNB()),
            ("svm", Pipeline([("select", SelectKBest(chi2, k=100)), ("clf", LinearSVC(random_state=0))])),
        ],
        voting="hard",
        weights=[2, 1, 1],
    )
    pipe = Pipeline([("vec", TfidfVectorizer(max_features=600)), ("clf", voting)])
    return pipeline_fitted(pipe, fit(pipe, samples, samples.MULTI, 60))


@shape("VotingClassifier hard without weights: LogisticRegression, MultinomialNB, LinearSVC; 2 classes")
def shape_voting_hard_binary(samples):
    voting = VotingClassifier(
        [("logreg", LogisticRegression(max_iter=2000)), ("nb", MultinomialNB()), ("svm", LinearSVC(random_state=0))],
        voting="hard",
    )
    pipe = Pipeline([("vec", CountVectorizer(max_features=600)), ("clf", voting)])
    return pipeline_fitted(pipe, fit(pipe, samples, samples.BINARY, 150))


@shape("VotingClassifier soft, weights [0.6, 0.4]: LogisticRegression, MultinomialNB; 3 classes, integer labels")
def shape_voting_soft_weights_logreg_nb_int(samples):
    voting = VotingClassifier(
        [("logreg", LogisticRegression(C=10.0, max_iter=2000)), ("nb", MultinomialNB(alpha=0.5))],
        voting="soft",
        weights=[0.6, 0.4],
    )
    pipe = Pipeline([("vec", TfidfVectorizer(max_features=600)), ("clf", voting)])
    return pipeline_fitted(pipe, fit(pipe, samples, samples.TRI, 100, int_labels=True))


# ----------------------------------------------------------------------------------------------
# More classifiers


@shape("CountVectorizer, BernoulliNB(binarize=0.0)")
def shape_bernoullinb_binarize0_count(samples):
    pipe = Pipeline([("vec", CountVectorizer(max_features=600)), ("clf", BernoulliNB(binarize=0.0))])
    return pipeline_fitted(pipe, fit(pipe, samples, samples.TRI, 100))


@shape("CountVectorizer(binary=True), BernoulliNB(binarize=None, alpha=0.5), 6 classes")
def shape_bernoullinb_binarize_none_binary_count(samples):
    pipe = Pipeline([("vec", CountVectorizer(binary=True, max_features=600)),
                     ("clf", BernoulliNB(binarize=None, alpha=0.5))])
    return pipeline_fitted(pipe, fit(pipe, samples, samples.MULTI, 60))


@shape("TfidfVectorizer, NearestCentroid (euclidean), 3 classes")
def shape_nearestcentroid_euclidean_tfidf(samples):
    pipe = Pipeline([("vec", TfidfVectorizer(max_features=600)), ("clf", NearestCentroid())])
    return pipeline_fitted(pipe, fit(pipe, samples, samples.TRI, 100))


@shape("TfidfVectorizer, NearestCentroid (euclidean), 2 classes")
def shape_nearestcentroid_euclidean_binary(samples):
    pipe = Pipeline([("vec", TfidfVectorizer(max_features=600)), ("clf", NearestCentroid())])
    return pipeline_fitted(pipe, fit(pipe, samples, samples.BINARY, 150))


# HashingVectorizer, not TfidfVectorizer: sklearn 1.2's NearestCentroid(metric='manhattan').predict
# (its pairwise_distances_argmin) answers wrong classes for a CSR matrix not flagged as having
# sorted indices, which is what TfidfTransformer returns there (14 of 86 texts with tf-idf rows);
# HashingVectorizer's rows are flagged sorted, and l2-normalized (raw counts make the length of a
# text decide, and every text went to one class).
@shape("char (1,2) HashingVectorizer 2**8 without alternate_sign, NearestCentroid(metric='manhattan'): "
       "centroids are medians (character n-grams, so that they are not all zero); 6 classes")
def shape_nearestcentroid_manhattan_char_hashing(samples):
    vectorizer = HashingVectorizer(analyzer="char", ngram_range=(1, 2), n_features=2**8, alternate_sign=False)
    pipe = Pipeline([("vec", vectorizer), ("clf", NearestCentroid(metric="manhattan"))])
    return pipeline_fitted(pipe, fit(pipe, samples, samples.MULTI, 60, n_test=N_TEST_CHAR))


@shape("TfidfVectorizer, LogisticRegressionCV(Cs=4, cv=3), 2 classes")
def shape_logregcv_binary(samples):
    pipe = Pipeline([("vec", TfidfVectorizer(max_features=600)),
                     ("clf", LogisticRegressionCV(Cs=4, cv=3, max_iter=2000))])
    return pipeline_fitted(pipe, fit(pipe, samples, samples.BINARY, 150))


@shape("TfidfVectorizer, LogisticRegressionCV(Cs=4, cv=3) lbfgs, 6 classes (softmax)")
def shape_logregcv_multi(samples):
    pipe = Pipeline([("vec", TfidfVectorizer(max_features=600)),
                     ("clf", LogisticRegressionCV(Cs=4, cv=3, max_iter=2000))])
    return pipeline_fitted(pipe, fit(pipe, samples, samples.MULTI, 60))


@shape("CountVectorizer, RidgeClassifierCV(alphas 0.1, 1, 10), 6 classes")
def shape_ridgeclassifiercv_multi(samples):
    pipe = Pipeline([("vec", CountVectorizer(max_features=600)),
                     ("clf", RidgeClassifierCV(alphas=(0.1, 1.0, 10.0)))])
    return pipeline_fitted(pipe, fit(pipe, samples, samples.MULTI, 60))


@shape("TfidfVectorizer, SGDClassifier(loss='modified_huber'), 2 classes")
def shape_sgd_modified_huber_binary(samples):
    pipe = Pipeline([("vec", TfidfVectorizer(max_features=600)),
                     ("clf", SGDClassifier(loss="modified_huber", random_state=0))])
    return pipeline_fitted(pipe, fit(pipe, samples, samples.BINARY, 150))


@shape("CountVectorizer, SGDClassifier(loss='modified_huber'), 6 classes (normalized, uniform when all 0)")
def shape_sgd_modified_huber_multi(samples):
    pipe = Pipeline([("vec", CountVectorizer(max_features=600)),
                     ("clf", SGDClassifier(loss="modified_huber", random_state=0))])
    return pipeline_fitted(pipe, fit(pipe, samples, samples.MULTI, 60))


@shape("TfidfVectorizer (1,2), LogisticRegression lbfgs defaults, 2 classes: predict_proba is a sigmoid")
def shape_logreg_lbfgs_binary_sigmoid(samples):
    pipe = Pipeline([("vec", TfidfVectorizer(ngram_range=(1, 2), max_features=600)),
                     ("clf", LogisticRegression(C=10.0))])
    return pipeline_fitted(pipe, fit(pipe, samples, samples.BINARY, 150))


@shape("CountVectorizer, LogisticRegression(solver='liblinear'), 3 classes: one-vs-rest")
def shape_logreg_liblinear_multi_ovr(samples):
    pipe = Pipeline([("vec", CountVectorizer(max_features=600)),
                     ("clf", LogisticRegression(solver="liblinear"))])
    return pipeline_fitted(pipe, fit(pipe, samples, samples.TRI, 100))


# ----------------------------------------------------------------------------------------------
# Trees (kind `trees`): sklearn compares float32 values with float64 thresholds


@shape("CountVectorizer word (1,2)-grams, DecisionTreeClassifier(min_samples_leaf=2), 3 classes")
def shape_decisiontree_count_bigrams(samples):
    pipe = Pipeline([
        ("vec", CountVectorizer(ngram_range=(1, 2), min_df=2, max_features=800)),
        ("clf", DecisionTreeClassifier(min_samples_leaf=2, random_state=0)),
    ])
    return pipeline_fitted(pipe, fit(pipe, samples, samples.TRI, 100))


@shape("TfidfVectorizer words, RandomForestClassifier(n_estimators=20, min_samples_leaf=2), 6 classes")
def shape_randomforest_tfidf_multi(samples):
    pipe = Pipeline([
        ("vec", TfidfVectorizer(max_features=800)),
        ("clf", RandomForestClassifier(n_estimators=20, min_samples_leaf=2, random_state=0)),
    ])
    return pipeline_fitted(pipe, fit(pipe, samples, samples.MULTI, 60))


@shape("char_wb (2,4) TfidfVectorizer, ExtraTreesClassifier(n_estimators=15, min_samples_leaf=2), "
       "fitted with the torture texts; 3 classes")
def shape_extratrees_char_wb(samples):
    pipe = Pipeline([
        ("vec", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), min_df=2, max_features=800)),
        ("clf", ExtraTreesClassifier(n_estimators=15, min_samples_leaf=2, random_state=0)),
    ])
    return pipeline_fitted(pipe, fit(pipe, samples, samples.TRI, 80, n_test=N_TEST_CHAR, torture=True))


@shape("CountVectorizer, RandomForestClassifier(n_estimators=16) grown to pure leaves, 2 classes, "
       "integer labels: probabilities are multiples of 1/16, and a tie of 8 against 8 (a few texts) "
       "goes to the first class")
def shape_randomforest_binary_int(samples):
    pipe = Pipeline([
        ("vec", CountVectorizer(max_features=600)),
        ("clf", RandomForestClassifier(n_estimators=16, random_state=1)),
    ])
    return pipeline_fitted(pipe, fit(pipe, samples, samples.BINARY, 150, int_labels=True))


@shape("TfidfVectorizer, TruncatedSVD(20), RandomForestClassifier(n_estimators=20, max_depth=8): "
       "dense rows of doubles that the trees round to float32; 3 classes")
def shape_truncatedsvd_randomforest(samples):
    pipe = Pipeline([
        ("vec", TfidfVectorizer(max_features=400)),
        ("svd", TruncatedSVD(n_components=20, random_state=0)),
        ("clf", RandomForestClassifier(n_estimators=20, max_depth=8, random_state=0)),
    ])
    return pipeline_fitted(pipe, fit(pipe, samples, samples.TRI, 100))


# ----------------------------------------------------------------------------------------------
# Linear regressors (kind `linear_regression`): the model answers a number per text, on a target
# derived from each training text itself (the corpus has no numeric column).


def words_target(text):
    """log1p of the number of whitespace-separated words: how long the description is, which the
    words' counts (and, less directly, their tf-idf weights) tell."""
    return math.log1p(len(text.split()))


def capitals_target(text):
    """The share of the words (whitespace-separated) that start with an upper-case letter, times
    10 (0 for a text without words): names, acronyms and sentence starts, which character n-grams
    that keep the case (lowercase=False) see."""
    words = text.split()
    return 10.0 * sum(1 for w in words if w[:1].isupper()) / len(words) if words else 0.0


def fit_regression(estimator, samples, target, n_train, *, labels=None, n_test=N_TEST_WORD,
                   torture=False):
    """Fits `estimator` on make_golden's sample of texts (n_train per section of `labels`,
    MULTI by default) with the numeric `target` of each text; returns the held-out texts."""
    train_x, _, test_x = samples.split(labels or samples.MULTI, n_train, n_test, False)
    if torture:
        train_x, _ = samples.with_torture(train_x, [0] * len(train_x))
    estimator.fit(train_x, np.array([target(t) for t in train_x], dtype=np.float64))
    return test_x


@shape("TfidfVectorizer word (1,2)-grams, Ridge; target: log1p(number of words)")
def shape_ridge_tfidf_words(samples):
    pipe = Pipeline([
        ("vec", TfidfVectorizer(ngram_range=(1, 2), min_df=2, max_features=1000)),
        ("reg", Ridge(alpha=1.0)),
    ])
    return pipeline_fitted(pipe, fit_regression(pipe, samples, words_target, 60))


@shape("CountVectorizer(max_features=300) on 480 texts, LinearRegression (well-posed: more texts "
       "than columns); target: log1p(number of words)")
def shape_linearregression_count_small_vocabulary(samples):
    pipe = Pipeline([("vec", CountVectorizer(max_features=300)), ("reg", LinearRegression())])
    return pipeline_fitted(pipe, fit_regression(pipe, samples, words_target, 80))


@shape("TfidfVectorizer, SGDRegressor(random_state=0); target: log1p(number of words)")
def shape_sgdregressor_tfidf(samples):
    pipe = Pipeline([("vec", TfidfVectorizer(max_features=800)),
                     ("reg", SGDRegressor(random_state=0))])
    return pipeline_fitted(pipe, fit_regression(pipe, samples, words_target, 60))


@shape("TfidfVectorizer sublinear_tf, LinearSVR(dual=True, random_state=0); target: log1p(number "
       "of words)")
def shape_linearsvr_tfidf(samples):
    pipe = Pipeline([("vec", TfidfVectorizer(sublinear_tf=True, max_features=800)),
                     ("reg", LinearSVR(dual=True, random_state=0, max_iter=20000))])
    return pipeline_fitted(pipe, fit_regression(pipe, samples, words_target, 60))


@shape("TfidfVectorizer, ElasticNet(alpha=1e-3, l1_ratio=0.5): some weights exactly 0; target: "
       "log1p(number of words)")
def shape_elasticnet_tfidf(samples):
    pipe = Pipeline([("vec", TfidfVectorizer(max_features=800)),
                     ("reg", ElasticNet(alpha=1e-3, l1_ratio=0.5, max_iter=10000))])
    return pipeline_fitted(pipe, fit_regression(pipe, samples, words_target, 60))


@shape("TfidfVectorizer (1,2), Lasso(alpha=5e-4): most weights exactly 0; target: share of "
       "capitalised words")
def shape_lasso_tfidf(samples):
    pipe = Pipeline([("vec", TfidfVectorizer(ngram_range=(1, 2), lowercase=False, min_df=2, max_features=1000)),
                     ("reg", Lasso(alpha=5e-4, max_iter=10000))])
    return pipeline_fitted(pipe, fit_regression(pipe, samples, capitals_target, 60))


@shape("char_wb (2,4) TfidfVectorizer lowercase=False, RidgeCV(alphas 0.1, 1, 10), fitted with the "
       "torture texts; target: share of capitalised words")
def shape_ridgecv_char_wb(samples):
    pipe = Pipeline([
        ("vec", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), lowercase=False, min_df=2,
                                max_features=1500)),
        ("reg", RidgeCV(alphas=(0.1, 1.0, 10.0))),
    ])
    return pipeline_fitted(pipe, fit_regression(pipe, samples, capitals_target, 40, n_test=N_TEST_CHAR,
                                                torture=True))


@shape("TfidfVectorizer, TruncatedSVD(20), Ridge: dense rows; target: log1p(number of words)")
def shape_truncatedsvd_ridge(samples):
    pipe = Pipeline([
        ("vec", TfidfVectorizer(max_features=600)),
        ("svd", TruncatedSVD(n_components=20, random_state=0)),
        ("reg", Ridge(alpha=0.1)),
    ])
    return pipeline_fitted(pipe, fit_regression(pipe, samples, words_target, 60))


@shape("GridSearchCV(Pipeline(FeatureUnion(word TfidfVectorizer, char_wb (2,3) TfidfVectorizer "
       "weighted 0.5), Ridge), alpha, cv=2); target: share of capitalised words")
def shape_gridsearch_union_ridge(samples):
    union = FeatureUnion(
        [
            ("word", TfidfVectorizer(lowercase=False, min_df=2, max_features=600)),
            ("char", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 3), lowercase=False, min_df=2,
                                     max_features=800)),
        ],
        transformer_weights={"char": 0.5},
    )
    pipe = Pipeline([("union", union), ("reg", Ridge())])
    search = GridSearchCV(pipe, {"reg__alpha": [0.3, 3.0]}, cv=2)
    return Fitted(search, fit_regression(search, samples, capitals_target, 40, n_test=N_TEST_CHAR))


@shape("HashingVectorizer 2**10 (1,2) (values of both signs), ElasticNetCV(l1_ratio=0.7, alphas "
       "1e-4, 1e-3, 1e-2, cv=3); target: log1p(number of words)")
def shape_elasticnetcv_hashing(samples):
    pipe = Pipeline([
        ("vec", HashingVectorizer(n_features=2**10, ngram_range=(1, 2))),
        ("reg", ElasticNetCV(l1_ratio=0.7, alphas=[1e-4, 1e-3, 1e-2], cv=3, max_iter=10000)),
    ])
    return pipeline_fitted(pipe, fit_regression(pipe, samples, words_target, 60))


# ----------------------------------------------------------------------------------------------
# Tree regressors (kind `tree_regression`): the trees' walk, one number per leaf, on the linear
# regressors' targets


@shape("CountVectorizer word (1,2)-grams, DecisionTreeRegressor(max_depth=8); target: log1p(number "
       "of words)")
def shape_decisiontreeregressor_count_bigrams(samples):
    pipe = Pipeline([
        ("vec", CountVectorizer(ngram_range=(1, 2), min_df=2, max_features=800)),
        ("reg", DecisionTreeRegressor(max_depth=8, random_state=0)),
    ])
    return pipeline_fitted(pipe, fit_regression(pipe, samples, words_target, 60))


@shape("TfidfVectorizer words, RandomForestRegressor(n_estimators=15, min_samples_leaf=2); target: "
       "log1p(number of words)")
def shape_randomforestregressor_tfidf(samples):
    pipe = Pipeline([
        ("vec", TfidfVectorizer(max_features=800)),
        ("reg", RandomForestRegressor(n_estimators=15, min_samples_leaf=2, random_state=0)),
    ])
    return pipeline_fitted(pipe, fit_regression(pipe, samples, words_target, 60))


@shape("char_wb (2,4) TfidfVectorizer lowercase=False, ExtraTreesRegressor(n_estimators=12, "
       "min_samples_leaf=3), fitted with the torture texts; target: share of capitalised words")
def shape_extratreesregressor_char_wb(samples):
    pipe = Pipeline([
        ("vec", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), lowercase=False, min_df=2,
                                max_features=800)),
        ("reg", ExtraTreesRegressor(n_estimators=12, min_samples_leaf=3, random_state=0)),
    ])
    return pipeline_fitted(pipe, fit_regression(pipe, samples, capitals_target, 40, n_test=N_TEST_CHAR,
                                                torture=True))


@shape("TfidfVectorizer, TruncatedSVD(20), RandomForestRegressor(n_estimators=15, max_depth=8): "
       "dense rows of doubles that the trees round to float32; target: log1p(number of words)")
def shape_truncatedsvd_randomforestregressor(samples):
    pipe = Pipeline([
        ("vec", TfidfVectorizer(max_features=600)),
        ("svd", TruncatedSVD(n_components=20, random_state=0)),
        ("reg", RandomForestRegressor(n_estimators=15, max_depth=8, random_state=0)),
    ])
    return pipeline_fitted(pipe, fit_regression(pipe, samples, words_target, 60))


# ----------------------------------------------------------------------------------------------
# Kernel regressors (kind `svr`): libsvm's kernel sum over the support vectors, on the linear
# regressors' targets


@shape("TfidfVectorizer word (1,2)-grams, SVR(C=10) rbf gamma='scale'; target: log1p(number of words)")
def shape_svr_rbf_tfidf(samples):
    pipe = Pipeline([
        ("vec", TfidfVectorizer(ngram_range=(1, 2), min_df=2, max_features=1000)),
        ("reg", SVR(C=10.0)),
    ])
    return pipeline_fitted(pipe, fit_regression(pipe, samples, words_target, 60))


@shape("CountVectorizer(max_features=500), SVR(kernel='linear', C=0.1, epsilon=0.05) on raw counts; "
       "target: log1p(number of words)")
def shape_svr_linear_count(samples):
    pipe = Pipeline([
        ("vec", CountVectorizer(max_features=500)),
        ("reg", SVR(kernel="linear", C=0.1, epsilon=0.05)),
    ])
    return pipeline_fitted(pipe, fit_regression(pipe, samples, words_target, 50))


@shape("TfidfVectorizer lowercase=False, SVR(kernel='poly', degree=3, gamma='auto', coef0=1, C=100); "
       "target: share of capitalised words")
def shape_svr_poly_tfidf(samples):
    pipe = Pipeline([
        ("vec", TfidfVectorizer(lowercase=False, min_df=2, max_features=800)),
        ("reg", SVR(kernel="poly", degree=3, gamma="auto", coef0=1.0, C=100.0)),
    ])
    return pipeline_fitted(pipe, fit_regression(pipe, samples, capitals_target, 50))


@shape("TfidfVectorizer sublinear_tf, SVR(kernel='sigmoid', gamma=0.5, coef0=-0.5); target: "
       "log1p(number of words)")
def shape_svr_sigmoid_tfidf(samples):
    pipe = Pipeline([
        ("vec", TfidfVectorizer(sublinear_tf=True, max_features=800)),
        ("reg", SVR(kernel="sigmoid", gamma=0.5, coef0=-0.5)),
    ])
    return pipeline_fitted(pipe, fit_regression(pipe, samples, words_target, 50))


@shape("char_wb (2,4) TfidfVectorizer lowercase=False, NuSVR(nu=0.4, C=10) rbf, fitted with the "
       "torture texts; target: share of capitalised words")
def shape_nusvr_rbf_char_wb(samples):
    pipe = Pipeline([
        ("vec", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), lowercase=False, min_df=2,
                                max_features=1500)),
        ("reg", NuSVR(nu=0.4, C=10.0)),
    ])
    return pipeline_fitted(pipe, fit_regression(pipe, samples, capitals_target, 40, n_test=N_TEST_CHAR,
                                                torture=True))


@shape("TfidfVectorizer, TruncatedSVD(20), SVR(C=10) rbf gamma='scale' (fitted on dense rows: "
       "libsvm's BLAS kernels); target: log1p(number of words)")
def shape_truncatedsvd_svr_rbf(samples):
    pipe = Pipeline([
        ("vec", TfidfVectorizer(max_features=600)),
        ("svd", TruncatedSVD(n_components=20, random_state=0)),
        ("reg", SVR(C=10.0)),
    ])
    return pipeline_fitted(pipe, fit_regression(pipe, samples, words_target, 60))


# ----------------------------------------------------------------------------------------------
# What sklearn answers


def outputs(estimator, X):
    """(scores, probabilities or None, labels) of `estimator` on X, as docs/model-format-v2.md
    defines them for the model exported from it; for a regressor ([predict] per row, None, None):
    its number, and no label."""
    if is_regressor(estimator):
        values = np.asarray(estimator.predict(X), dtype=np.float64)
        if values.ndim != 1:
            raise CannotBuild(f"predict answers an array of shape {values.shape}, not one number per text")
        return values[:, None], None, None
    labels = estimator.predict(X)
    probabilities = estimator.predict_proba(X) if hasattr(estimator, "predict_proba") else None
    scores = np.asarray(scores_of(estimator, X), dtype=np.float64).reshape(len(labels), -1)
    return scores, probabilities, labels


def is_regressor(estimator):
    """Whether sklearn calls the estimator (a Pipeline or search: its final step) a regressor."""
    from sklearn.base import is_regressor as sklearn_is_regressor

    return sklearn_is_regressor(estimator)


def scores_of(estimator, X):
    from sklearn.model_selection._search import BaseSearchCV

    if isinstance(estimator, BaseSearchCV):
        return scores_of(estimator.best_estimator_, X)
    if isinstance(estimator, Pipeline):
        for _, step in estimator.steps[:-1]:
            if step is not None and step != "passthrough":
                X = step.transform(X)
        return scores_of(estimator.steps[-1][1], X)
    if isinstance(estimator, (MultinomialNB, ComplementNB, BernoulliNB)):
        return estimator.predict_joint_log_proba(X)
    if isinstance(estimator, VotingClassifier):
        if estimator.voting == "soft":
            return estimator.predict_proba(X)
        return hard_vote_counts(estimator, X)
    if isinstance(estimator, (CalibratedClassifierCV, DecisionTreeClassifier, RandomForestClassifier,
                              ExtraTreesClassifier, KNeighborsClassifier)):
        return estimator.predict_proba(X)
    if isinstance(estimator, OneVsRestClassifier) and not hasattr(estimator, "decision_function"):
        return np.column_stack([member.predict_proba(X)[:, 1] for member in estimator.estimators_])
    if isinstance(estimator, NearestCentroid) and not hasattr(estimator, "decision_function"):
        distances = pairwise_distances(X, estimator.centroids_, metric=estimator.metric)
        predicted = estimator.predict(X)
        nearest = estimator.classes_[distances.argmin(axis=1)]
        if not np.array_equal(predicted, nearest):
            # sklearn 1.2's pairwise_distances_argmin on CSR rows not flagged sorted (see
            # shape_nearestcentroid_manhattan_char_hashing): a fixture must not record that.
            raise CannotBuild(f"NearestCentroid.predict disagrees with its own centroid distances on "
                              f"{int((predicted != nearest).sum())} of {len(nearest)} rows")
        return -distances
    if hasattr(estimator, "decision_function"):
        return estimator.decision_function(X)
    raise TypeError(f"no scores defined for {type(estimator).__name__}")


def hard_vote_counts(voting, X):
    """VotingClassifier(voting='hard').predict's weighted counts: np.bincount of the members'
    (label-encoded) predictions with the weights of the members not dropped."""
    weights = None
    if voting.weights is not None:
        weights = [w for (_, member), w in zip(voting.estimators, voting.weights)
                   if not (isinstance(member, str) and member == "drop")]
        assert len(weights) == len(voting.estimators_)
    predictions = np.asarray([member.predict(X) for member in voting.estimators_]).T
    n_classes = len(voting.classes_)
    return np.array([np.bincount(row, weights=weights, minlength=n_classes) for row in predictions],
                    dtype=np.float64)


# ----------------------------------------------------------------------------------------------
# Nearest neighbours (kinds `k_neighbors`, `k_neighbors_regression`): brute force over the training
# rows with sklearn's distances. Scores are predict_proba (a regressor's, [predict]). Where the k-th
# nearest row ties (within 1e-12) with rows left out that differ in class or target, sklearn's
# answer depends on its thread count (ArgKmin's per-thread heaps) or on numpy's argpartition
# (its pairwise-distances path), not on the model: keep_decided leaves such texts out of the
# fixture, saying how many on stderr (classify_export.neighbors.decided_rows).


def keep_decided(pipe):
    """The Fitted.keep of a Pipeline ending in a nearest-neighbour estimator."""
    import sys

    def keep(texts):
        from classify_export import neighbors, to_model

        spec = to_model(pipe)["classifier"]
        X = pipe[:-1].transform(texts)
        decided = neighbors.decided_rows(spec, X, X.shape[1])
        left_out = decided.count(False)
        if left_out:
            print(f"golden_shapes: {spec['estimator']} ({spec['metric']}, k={spec['n_neighbors']}, "
                  f"{spec['weights']}): left out {left_out} of {len(texts)} texts whose answer "
                  "depends on how sklearn breaks a distance tie", file=sys.stderr)
        return [text for text, ok in zip(texts, decided) if ok]

    return keep


def knn_fitted(pipe, texts, n_plain=1):
    fitted = pipeline_fitted(pipe, texts, n_plain)
    fitted.keep = keep_decided(pipe)
    return fitted


@shape("TfidfVectorizer, KNeighborsClassifier(n_neighbors=5) (minkowski p=2: euclidean, uniform), "
       "3 classes")
def shape_knn_tfidf_euclidean_uniform(samples):
    pipe = Pipeline([("vec", TfidfVectorizer(max_features=1000)),
                     ("clf", KNeighborsClassifier(n_neighbors=5))])
    return knn_fitted(pipe, fit(pipe, samples, samples.TRI, 80))


@shape("TfidfVectorizer (1,2), KNeighborsClassifier(n_neighbors=9, metric='cosine', "
       "weights='distance'), 6 classes: numpy's 8-way sums of the weights")
def shape_knn_tfidf_cosine_distance(samples):
    pipe = Pipeline([("vec", TfidfVectorizer(ngram_range=(1, 2), min_df=2, max_features=1500)),
                     ("clf", KNeighborsClassifier(n_neighbors=9, metric="cosine", weights="distance"))])
    return knn_fitted(pipe, fit(pipe, samples, samples.MULTI, 50))


@shape("CountVectorizer (1,2) (max_features=3000), KNeighborsClassifier(n_neighbors=3, "
       "metric='manhattan'): integer counts, sklearn's sorted merge; 3 classes")
def shape_knn_counts_manhattan(samples):
    pipe = Pipeline([("vec", CountVectorizer(ngram_range=(1, 2), max_features=3000)),
                     ("clf", KNeighborsClassifier(n_neighbors=3, metric="manhattan"))])
    return knn_fitted(pipe, fit(pipe, samples, samples.TRI, 80))


@shape("TfidfVectorizer, KNeighborsClassifier(n_neighbors=1) fitted with 40 texts twice (same label): "
       "the two copies tie exactly; tested on held-out texts and on 20 of the duplicated ones")
def shape_knn_k1_duplicated_texts(samples):
    pipe = Pipeline([("vec", TfidfVectorizer(max_features=1000)),
                     ("clf", KNeighborsClassifier(n_neighbors=1))])
    train_x, train_y, test_x = samples.split(samples.TRI, 70, N_TEST_WORD, False)
    pipe.fit(train_x + train_x[:40], np.asarray(train_y + train_y[:40]))
    return knn_fitted(pipe, test_x + train_x[:20])


@shape("TfidfVectorizer, TruncatedSVD(20), KNeighborsClassifier(n_neighbors=5) (brute force: dense "
       "rows, BLAS's norms stored); 3 classes")
def shape_knn_truncatedsvd(samples):
    pipe = Pipeline([("vec", TfidfVectorizer(max_features=600)),
                     ("svd", TruncatedSVD(n_components=20, random_state=0)),
                     ("clf", KNeighborsClassifier(n_neighbors=5))])
    return knn_fitted(pipe, fit(pipe, samples, samples.TRI, 80))


@shape("TfidfVectorizer, TruncatedSVD(8), KNeighborsClassifier(n_neighbors=6, weights='distance') "
       "(algorithm 'auto' picks kd_tree for 8 columns: sums of squared differences); 3 classes")
def shape_knn_truncatedsvd_kd_tree(samples):
    pipe = Pipeline([("vec", TfidfVectorizer(max_features=600)),
                     ("svd", TruncatedSVD(n_components=8, random_state=0)),
                     ("clf", KNeighborsClassifier(n_neighbors=6, weights="distance"))])
    fitted = knn_fitted(pipe, fit(pipe, samples, samples.TRI, 80))
    if pipe[-1]._fit_method != "kd_tree":
        raise CannotBuild(f"algorithm='auto' chose {pipe[-1]._fit_method}, not kd_tree")
    return fitted


@shape("TfidfVectorizer, TruncatedSVD(10), KNeighborsClassifier(n_neighbors=5, algorithm='ball_tree', "
       "metric='minkowski', p=1): manhattan on dense rows; 3 classes")
def shape_knn_truncatedsvd_ball_tree_manhattan(samples):
    pipe = Pipeline([("vec", TfidfVectorizer(max_features=600)),
                     ("svd", TruncatedSVD(n_components=10, random_state=0)),
                     ("clf", KNeighborsClassifier(n_neighbors=5, algorithm="ball_tree", p=1))])
    return knn_fitted(pipe, fit(pipe, samples, samples.TRI, 80))


@shape("TfidfVectorizer, KNeighborsClassifier(n_neighbors=7), 2 classes, integer labels")
def shape_knn_binary_int(samples):
    pipe = Pipeline([("vec", TfidfVectorizer(max_features=800)),
                     ("clf", KNeighborsClassifier(n_neighbors=7))])
    return knn_fitted(pipe, fit(pipe, samples, samples.BINARY, 120, int_labels=True))


@shape("TfidfVectorizer, KNeighborsRegressor(n_neighbors=5) (uniform: the mean of the neighbours' "
       "targets); target: log1p(number of words)")
def shape_knn_regressor_uniform(samples):
    pipe = Pipeline([("vec", TfidfVectorizer(max_features=1000)),
                     ("reg", KNeighborsRegressor(n_neighbors=5))])
    return knn_fitted(pipe, fit_regression(pipe, samples, words_target, 60))


@shape("TfidfVectorizer (1,2), KNeighborsRegressor(n_neighbors=10, weights='distance'); target: share "
       "of capitalised words")
def shape_knn_regressor_distance(samples):
    pipe = Pipeline([("vec", TfidfVectorizer(ngram_range=(1, 2), lowercase=False, min_df=2, max_features=1500)),
                     ("reg", KNeighborsRegressor(n_neighbors=10, weights="distance"))])
    return knn_fitted(pipe, fit_regression(pipe, samples, capitals_target, 60))
