#!/usr/bin/python3
"""Generate the golden parity fixtures of crates/classify-core/testdata/golden/ from real sklearn.

Trains many small models on a deterministic sample of a labelled corpus (--data, below) covering
every vectorizer/classifier option and every model shape mod_classify claims (the format v1 specs
here, the shapes of docs/model-format-v2.md in scripts/golden_shapes.py), exports each with
python/classify_export (classify_export.to_model; scripts/export_sklearn.py for the v1 specs while
that package does not exist), and records, for each test text (a Unicode torture list plus
held-out corpus lines), what sklearn computes at every stage:

  NAME.model.json    the exported model, metadata.exported_at fixed for reproducibility
  NAME.cases.jsonl   one JSON object per text: text, analyzed (build_analyzer()(text)), features
                     {indices, values} (the transformed row, explicit zeros removed), scores
                     (decision_function row; joint log-likelihood for naive Bayes; for the v2
                     kinds as docs/model-format-v2.md's table says), probabilities (predict_proba
                     row or null), label (str(predict)). analyzed and features are left out where
                     the model's rows are not the plain vectorizer's output (unions, steps). A
                     regressor's case (kind linear_regression, tree_regression or svr) has value
                     (predict), scores [value], probabilities null and no label. A multi-label
                     model's case (kind multi_label: OneVsRestClassifier or MultiOutputClassifier
                     fitted on an indicator matrix) has labels instead of label: the labels of
                     the columns predict sets (list of str, in the model's classes order, possibly
                     empty); scores one per label, its member's score (decision_function, or
                     predict_proba[:, 1] when the members have none); probabilities one per label,
                     its member's class-1 probability (predict_proba), or null when the wrapper
                     has no predict_proba.
  unicode.json       Python's own character tables (re's \\w, str.isspace, str.lower, NFKD,
                     unicodedata.combining) for every code point, compressed
  manifest.json      the list of models, the shapes skipped with this sklearn and why,
                     sklearn/numpy/Python versions and a digest of the inputs

  crates/classify-core/tests/golden.rs checks the Rust core against all of it (against another
  directory with CLASSIFY_GOLDEN_DIR=DIR).

Usage: scripts/make_golden.py [--data TSV] [--out DIR] [--check]
       scripts/make_golden.py --refused DIR   (write pickles the exporter must refuse; see
                                               python/tests/test_cli.py)
--out DIR writes a complete fixture set into DIR (default: the checked-in one, which is made with
Debian's /usr/bin/python3 and its sklearn); any sklearn from 1.2 on can write one, e.g. for CI:
  .venv-sklearn/bin/python scripts/make_golden.py --out /tmp/golden-new &&
  CLASSIFY_GOLDEN_DIR=/tmp/golden-new cargo test -p classify-core --test golden
A model this sklearn cannot build (a class or parameter it lacks, a solver that refuses the task)
or the exporter refuses is listed under "skipped" in manifest.json with the reason, and named on
stderr; never left out silently.
--data TSV: `label<TAB>text` lines. Default: /work/shared/data/debian-sections.tsv, else
../shared/data/debian-sections.tsv beside the repository, else a sample built from this machine's
Debian package descriptions by scripts/debian_corpus.py (the fixtures then differ: data_sha256).
--check regenerates into a temporary directory and exits 1 if anything differs from --out.

Deterministic: fixed seeds, fixed sampling, sorted output. Runs in well under a minute.
"""

import argparse
import atexit
import filecmp
import functools
import hashlib
import json
import os
import pickle
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import types
import unicodedata
import warnings

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from python_char_tables import char_tables  # noqa: E402

import export_sklearn  # noqa: E402
import golden_shapes  # noqa: E402

# The exporter package (python/classify_export): every model goes through it once it exists.
PACKAGE_DIR = os.path.join(ROOT, "python")
if os.path.isfile(os.path.join(PACKAGE_DIR, "classify_export", "__init__.py")):
    sys.path.insert(0, PACKAGE_DIR)
    import classify_export  # noqa: E402
else:
    classify_export = None

from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.feature_extraction.text import (  # noqa: E402
    CountVectorizer,
    HashingVectorizer,
    TfidfTransformer,
    TfidfVectorizer,
)
from sklearn.linear_model import (  # noqa: E402
    LogisticRegression,
    PassiveAggressiveClassifier,
    Perceptron,
    RidgeClassifier,
    SGDClassifier,
)
from sklearn.naive_bayes import ComplementNB, MultinomialNB  # noqa: E402
from sklearn.metrics.pairwise import linear_kernel  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402
from sklearn.svm import SVC, LinearSVC, NuSVC  # noqa: E402

DATA_CANDIDATES = (
    "/work/shared/data/debian-sections.tsv",
    os.path.join(os.path.dirname(ROOT), "shared", "data", "debian-sections.tsv"),
)
DEFAULT_OUT = os.path.join(ROOT, "crates", "classify-core", "testdata", "golden")

HELD_OUT_CHARS = 160
BINARY = ["games", "science"]
TRI = ["games", "science", "x11"]
MULTI = ["games", "science", "x11", "text", "admin", "net"]
INT_LABELS = {"games": 10, "science": -3, "x11": 7, "text": 0, "admin": 123456789012, "net": 2}

# ----------------------------------------------------------------------------------------------
# The Unicode torture list: texts chosen to hit every corner of Python's str/re semantics that the
# Rust analyzers must reproduce.

LONG_TEXT = " ".join(
    f"word{i % 37} Ünïcødé{i % 5} {'x' * (i % 9)} ½{i} ΟΔΟΣ" for i in range(25)
)

TORTURE = [
    "",
    "a",
    "Z",
    "é",
    " ",
    "ab",
    "  leading and trailing  ",
    "tabs\tbetween\twords\t\tand  runs   of \n\n whitespace",
    "line\rfeed\x0bvertical\x0cform",
    # precomposed vs decomposed accents, combining marks
    "café naïve résumé Ångström",
    "cafe\u0301 nai\u0308ve re\u0301sume\u0301 A\u030angstro\u0308m",
    "e\u0301\u0301 double marks x\u0327\u0301y",
    "\u0301leading mark and trailing mark\u0301",
    "Zalgo: Z\u0351\u036b\u0343a\u0360\u0362l\u0352g\u0315o\u035f",
    # numbers that are \w in Python
    "x² H₂O ½ ¾ ⅞ 10¹⁰",
    "Ⅻ ⅻ Ⅳ roman numerals ↀ",
    "① ② ⑳ circled ⓐ Ⓑ ❶",
    "٣٤٥ Arabic-Indic ۱۲۳ ߁߂ ०१२ Devanagari digits",
    # case mapping specials
    "ΟΔΟΣ ΣΊΣΥΦΟΣ Σ ΑΣ. ΌΣΟΣ",
    "İstanbul IŞIK ıi İi Iı",
    "Straße STRASSE ẞ ß",
    "ǅungla ǈ ǋ ǲ titlecase",
    "Ω ω Ω K Å ſ ﬅ",
    "ﬁnance ﬀ ﬂ ﬃ ligatures ﬆ",
    "ＦＵＬＬＷＩＤＴＨ ｆｕｌｌ １２３",
    # other scripts
    "東京 東京都 日本語のテキスト です",
    "한국어 텍스트 한글",
    "مرحبا بالعالم العَرَبِيَّة",
    "שָׁלוֹם עולם",
    "हिन्दी भाषा नमस्ते",
    "ไทย ภาษาไทย",
    "Ελληνικά ελληνικά άέήίόύώ",
    "Русский текст ЁЛКА ёлка",
    "ᚠᚢᚦ runes ꙮ 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𝐁𝐨𝐥𝐝",
    # emoji, ZWJ sequences, skin tones, variation selectors
    "I love 😀 emoji 👍🏽 and 👨\u200d👩\u200d👧\u200d👦 family",
    "flags 🇫🇷🇩🇪 keycap 1️⃣ heart ❤️",
    "😀😀😀",
    # invisible and control characters
    "zero\u200bwidth\u200cnon\u200djoiner\u2060word\ufeffbom",
    "nbsp\u00a0here ideographic\u3000space narrow\u202fnbsp em\u2003space",
    "ctrl\x00nul\x01soh\x07bel\x1bEsc\x7fdel",
    "sep\x1cfs\x1dgs\x1ers\x1fus end",
    "next\x85line\u2028ls\u2029ps",
    "soft\u00adhyphen bidi\u200emark\u202aembed\u202c",
    # underscores, digits, punctuation
    "snake_case __dunder__ _x_ a_b 123 4_5 007",
    "e-mail: user@example.com http://x.org/a?b=c#d",
    "C++ C# .NET node.js 3.14 1,000 -5",
    "don't can't o'clock rock'n'roll",
    "«quotes» “curly” ‘single’ „low“",
    "x",
    "I",
    "A B C D",
    "GPL-2+ LGPL v3.0",
    "Free Software GAME ENGINE for X11 and Wayland",
    # characters newer than Python 3.11's Unicode 14.0: unassigned there, so not \w and caseless
    # (U+1E030 modifier letter 15.0, U+1E4F0 Nag Mundari digit 15.0, U+1C89 TJE 16.0 with a
    # lowercase, U+11F00 Kawi mark 15.0)
    "new\U0001E030letters \U0001E4F1\U0001E4F2 digits ΑΣ\u1C89Σ Ab\u1C89Σ kawi\U00011F00mark",
    "\u1C89\u1C89 TJE\u1C89tje \U0001E030\U0001E030",
    LONG_TEXT,
]


def read_corpus(path):
    rows = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            label, _, text = line.rstrip("\n").partition("\t")
            rows.append((label, text))
    return rows


class Corpus:
    def __init__(self, rows):
        self.by_label = {}
        for label, text in rows:
            self.by_label.setdefault(label, []).append(text)
        self.shuffled = {}
        for label in sorted(self.by_label):
            texts = list(dict.fromkeys(self.by_label[label]))  # dedupe, keep order
            random.Random(f"golden-{label}").shuffle(texts)
            self.shuffled[label] = texts

    def split(self, labels, n_train, n_test, int_labels=False):
        """(train texts, train labels, held-out texts): deterministic, disjoint."""
        train_x, train_y, test_x = [], [], []
        per_test = -(-n_test // len(labels))
        for label in labels:
            texts = self.shuffled[label]
            train_x += texts[:n_train]
            train_y += [INT_LABELS[label] if int_labels else label] * n_train
            test_x += [_prefix(t) for t in texts[n_train : n_train + per_test]]
        return train_x, train_y, test_x[:n_test]


def _prefix(text, limit=HELD_OUT_CHARS):
    """A held-out text cut at a space near `limit` characters, to keep the fixtures small."""
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit)
    return text[: cut if cut > limit // 2 else limit]


def with_torture(train_x, train_y, copies=2):
    """Adds the torture texts (twice, so min_df=2 keeps their tokens) with cycling labels."""
    classes = sorted(set(train_y), key=lambda c: (str(type(c)), c))
    extra_x, extra_y = [], []
    for copy in range(copies):
        for i, text in enumerate(TORTURE):
            extra_x.append(text)
            extra_y.append(classes[(i + copy) % len(classes)])
    return train_x + extra_x, train_y + extra_y


CUSTOM_STOP = ["game", "the", "and", "for", "of", "x11", "ΟΔΟΣ", "東京", "data"]


# ----------------------------------------------------------------------------------------------
# The format v1 models: a vectorizer, an optional TfidfTransformer and a classifier, each spec
# fitted on its sample by fit(). The vectorizer or the classifier may be a functools.partial that
# builds it, for estimators some sklearn version cannot even construct (the model is then skipped
# with that version, and the manifest says why). The shapes of model format v2 are in
# scripts/golden_shapes.py.


def spec(name, description, vectorizer, classifier, *, tfidf=None, labels=TRI, n_train=250,
         torture=False, int_labels=False, copies=2, dense=False):
    return dict(
        dense=dense,
        name=name,
        description=description,
        vectorizer=vectorizer,
        tfidf=tfidf,
        classifier=classifier,
        labels=labels,
        n_train=n_train,
        torture=torture,
        int_labels=int_labels,
        copies=copies,
    )


def model_specs():
    return [
        # --- word analyzer, CountVectorizer
        spec("count_word_linearsvc_binary", "CountVectorizer defaults, LinearSVC binary",
             CountVectorizer(min_df=2, max_features=750), LinearSVC(random_state=0), labels=BINARY),
        spec("count_word12_linearsvc_multi", "word (1,2)-grams, LinearSVC one-vs-rest 6 classes",
             CountVectorizer(ngram_range=(1, 2), min_df=3, max_features=600), LinearSVC(random_state=0),
             labels=MULTI, n_train=150),
        spec("count_word23_nolower_ridge", "word (2,3)-grams, lowercase=False, RidgeClassifier",
             CountVectorizer(ngram_range=(2, 3), lowercase=False, max_features=500), RidgeClassifier()),
        spec("count_word_ridge_binary", "RidgeClassifier binary, binary=True counts",
             CountVectorizer(binary=True, max_features=400), RidgeClassifier(alpha=0.5), labels=BINARY),
        spec("count_word_linearsvc_nointercept", "LinearSVC(fit_intercept=False): scalar intercept_",
             CountVectorizer(max_features=400), LinearSVC(fit_intercept=False, random_state=0), labels=BINARY),
        spec("count_word_crammer_singer", "LinearSVC(multi_class='crammer_singer')",
             CountVectorizer(max_features=400), LinearSVC(multi_class="crammer_singer", random_state=0)),
        # --- TfidfVectorizer variants with LogisticRegression
        spec("tfidf_unicode_english_sublinear_logreg_ovr",
             "TfidfVectorizer strip_accents=unicode, stop_words=english, sublinear_tf; LogisticRegression liblinear (ovr)",
             TfidfVectorizer(strip_accents="unicode", stop_words="english", sublinear_tf=True, min_df=2, max_features=750),
             LogisticRegression(solver="liblinear"), labels=MULTI, n_train=150),
        spec("tfidf_l1_ascii_nosmooth_logreg_multinomial",
             "TfidfVectorizer norm=l1, smooth_idf=False, strip_accents=ascii; LogisticRegression lbfgs (softmax)",
             TfidfVectorizer(norm="l1", smooth_idf=False, strip_accents="ascii", min_df=2, max_features=600),
             LogisticRegression(C=10.0, max_iter=2000), labels=MULTI, n_train=150),
        spec("tfidf_nonorm_noidf_binary_logreg_binary",
             "TfidfVectorizer norm=None, use_idf=False, binary=True; LogisticRegression binary",
             TfidfVectorizer(norm=None, use_idf=False, binary=True, max_features=500),
             LogisticRegression(max_iter=2000), labels=BINARY),
        spec("tfidf_logreg_multinomial_binary",
             "LogisticRegression(multi_class='multinomial') on 2 classes: softmax of [-d, d]",
             TfidfVectorizer(max_features=500), functools.partial(LogisticRegression, multi_class="multinomial", max_iter=2000),
             labels=BINARY),
        spec("tfidf_logreg_ovr_explicit", "LogisticRegression(multi_class='ovr', solver=lbfgs)",
             TfidfVectorizer(max_features=400, ngram_range=(1, 2)), functools.partial(LogisticRegression, multi_class="ovr", max_iter=2000)),
        # --- Pipelines with TfidfTransformer, SGD and friends
        spec("pipeline_count_tfidf_sgd_hinge",
             "Pipeline CountVectorizer(custom stop words) + TfidfTransformer + SGDClassifier(hinge)",
             CountVectorizer(stop_words=CUSTOM_STOP, max_features=600),
             SGDClassifier(loss="hinge", random_state=0), tfidf=TfidfTransformer()),
        spec("pipeline_count_tfidf_sublinear_sgd_log",
             "CountVectorizer(1,2) + TfidfTransformer(sublinear, l1) + SGDClassifier(log_loss) multi",
             CountVectorizer(ngram_range=(1, 2), max_features=600),
             SGDClassifier(loss="log_loss", random_state=0), tfidf=TfidfTransformer(sublinear_tf=True, norm="l1"),
             labels=MULTI, n_train=150),
        spec("tfidf_w1_sgd_log_binary", "token_pattern (?u)\\b\\w+\\b, SGDClassifier(log_loss) binary",
             TfidfVectorizer(token_pattern=r"(?u)\b\w+\b", max_features=500),
             SGDClassifier(loss="log_loss", random_state=0), labels=BINARY),
        spec("count_nonspace_perceptron", "token_pattern \\S+, Perceptron",
             CountVectorizer(token_pattern=r"\S+", min_df=2, max_features=750), Perceptron(random_state=0),
             torture=True, n_train=150),
        spec("count_w3_passive_aggressive", "token_pattern \\b\\w\\w\\w+\\b, PassiveAggressiveClassifier",
             CountVectorizer(token_pattern=r"\b\w\w\w+\b", max_features=500),
             PassiveAggressiveClassifier(random_state=0), labels=MULTI, n_train=150),
        spec("count_wplus_sgd_squared_hinge", "token_pattern (?u)\\w+, SGDClassifier(squared_hinge)",
             CountVectorizer(token_pattern=r"(?u)\w+", max_features=500),
             SGDClassifier(loss="squared_hinge", random_state=0)),
        spec("count_notspace_ridge", "token_pattern [^\\s]+, RidgeClassifier multi",
             CountVectorizer(token_pattern=r"[^\s]+", max_features=500, lowercase=False), RidgeClassifier(),
             labels=MULTI, n_train=150),
        # --- naive Bayes
        spec("count_word12_multinomialnb_multi_int", "MultinomialNB, word (1,2), integer labels",
             CountVectorizer(ngram_range=(1, 2), min_df=2, max_features=750), MultinomialNB(),
             labels=MULTI, n_train=150, int_labels=True),
        spec("count_multinomialnb_binary", "MultinomialNB binary (two rows), alpha=0.1",
             CountVectorizer(max_features=500), MultinomialNB(alpha=0.1), labels=BINARY),
        spec("tfidf_complementnb", "ComplementNB on TfidfVectorizer (intercept zero)",
             TfidfVectorizer(max_features=500), ComplementNB()),
        spec("tfidf_complementnb_norm_multi", "ComplementNB(norm=True), 6 classes",
             TfidfVectorizer(max_features=500, sublinear_tf=True), ComplementNB(norm=True),
             labels=MULTI, n_train=150),
        # --- integer labels
        spec("count_linearsvc_int_labels", "LinearSVC with integer labels (negative, large)",
             CountVectorizer(max_features=400), LinearSVC(random_state=0), int_labels=True, labels=MULTI,
             n_train=100),
        spec("tfidf_logreg_int_binary", "LogisticRegression binary with integer labels",
             TfidfVectorizer(max_features=400), LogisticRegression(max_iter=2000), int_labels=True, labels=BINARY),
        # --- character analyzers
        spec("count_char14_linearsvc", "char (1,4)-grams fitted with the torture texts, LinearSVC",
             CountVectorizer(analyzer="char", ngram_range=(1, 4), min_df=2, max_features=1500),
             LinearSVC(random_state=0), torture=True, n_train=60),
        spec("tfidf_char23_nolower_unicode", "char (2,3), lowercase=False, strip_accents=unicode, LinearSVC",
             TfidfVectorizer(analyzer="char", ngram_range=(2, 3), lowercase=False, strip_accents="unicode",
                             min_df=2, max_features=1000),
             LinearSVC(random_state=0), torture=True, n_train=60),
        spec("tfidf_charwb14_logreg", "char_wb (1,4) fitted with torture texts, LogisticRegression",
             TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 4), min_df=2, max_features=1500),
             LogisticRegression(max_iter=2000), torture=True, n_train=60),
        spec("count_charwb35_binary_multinomialnb", "char_wb (3,5), binary=True, strip_accents=ascii, MultinomialNB",
             CountVectorizer(analyzer="char_wb", ngram_range=(3, 5), binary=True, strip_accents="ascii",
                             min_df=2, max_features=1000),
             MultinomialNB(), torture=True, n_train=60),
        spec("count_char22_stopwords_ignored", "char (2,2) with stop_words set (sklearn ignores it for char)",
             CountVectorizer(analyzer="char", ngram_range=(2, 2), stop_words="english", max_features=500),
             RidgeClassifier(), labels=BINARY, n_train=100),
        # --- hashing
        spec("hashing_word_alt_l2_linearsvc", "HashingVectorizer 2**10, alternate_sign, l2, LinearSVC multi",
             HashingVectorizer(n_features=2**10), LinearSVC(random_state=0), labels=MULTI, n_train=150),
        spec("hashing_word12_noalt_none_binary_sgd", "HashingVectorizer 2**10 (1,2), no alternate_sign, norm None, binary",
             HashingVectorizer(n_features=2**10, ngram_range=(1, 2), alternate_sign=False, norm=None, binary=True),
             SGDClassifier(loss="hinge", random_state=0)),
        spec("hashing_word_alt_binary_collisions", "HashingVectorizer 2**6, alternate_sign, binary, norm None: cancelling collisions",
             HashingVectorizer(n_features=2**6, ngram_range=(1, 2), norm=None, binary=True),
             RidgeClassifier(), torture=True, n_train=100),
        spec("hashing_word_alt_nonorm_collisions", "HashingVectorizer 2**6, alternate_sign, norm None, counts",
             HashingVectorizer(n_features=2**6, ngram_range=(1, 2), norm=None),
             RidgeClassifier(), torture=True, n_train=100),
        spec("hashing_charwb_l1_tfidf_pipeline", "HashingVectorizer char_wb (2,4) 2**10 l1 + TfidfTransformer + LinearSVC",
             HashingVectorizer(analyzer="char_wb", ngram_range=(2, 4), n_features=2**10, norm="l1"),
             LinearSVC(random_state=0), tfidf=TfidfTransformer(), torture=True, n_train=60),
        spec("hashing_char13_unicode_torture", "HashingVectorizer char (1,3) 2**10, strip_accents=unicode, lowercase=False",
             HashingVectorizer(analyzer="char", ngram_range=(1, 3), n_features=2**10, strip_accents="unicode",
                               lowercase=False),
             LogisticRegression(max_iter=2000), torture=True, n_train=60),
        # --- word models whose vocabulary contains the torture tokens
        spec("torture_word_default", "word defaults fitted with the torture texts, LinearSVC",
             CountVectorizer(min_df=2), LinearSVC(random_state=0), torture=True, n_train=40),
        spec("torture_word_unicode_accents", "word, strip_accents=unicode, fitted with the torture texts",
             CountVectorizer(min_df=2, strip_accents="unicode"), LinearSVC(random_state=0), torture=True, n_train=40),
        spec("torture_word_ascii_nolower", "word, strip_accents=ascii, lowercase=False, torture texts",
             TfidfVectorizer(min_df=2, strip_accents="ascii", lowercase=False), LogisticRegression(max_iter=2000),
             torture=True, n_train=40),
        spec("torture_word_w1_12", "word \\w+ (1,2)-grams, custom stop words, torture texts, MultinomialNB",
             CountVectorizer(min_df=2, token_pattern=r"(?u)\b\w+\b", ngram_range=(1, 2), stop_words=CUSTOM_STOP),
             MultinomialNB(), torture=True, n_train=40),
        spec("torture_word_nonspace_nolower", "word \\S+, lowercase=False, torture texts, ComplementNB",
             CountVectorizer(min_df=2, token_pattern=r"(?u)\S+", lowercase=False), ComplementNB(),
             torture=True, n_train=40),
    ] + svc_specs()


def svc_specs():
    """Kernel SVMs: few training documents and a small vocabulary keep them at tens of support
    vectors. Empty and out-of-vocabulary texts give every pair its bare intercept (rbf: the
    kernel of an empty row), so tied votes are exercised too."""
    small_tfidf = dict(max_features=300, min_df=2)
    return [
        spec("svc_linear_binary_tfidf", "SVC(kernel='linear') binary on tf-idf",
             TfidfVectorizer(**small_tfidf), SVC(kernel="linear"), labels=BINARY, n_train=40),
        spec("svc_rbf_scale_tri_ovr_tfidf", "SVC rbf gamma='scale', 3 classes, ovr, tf-idf (1,2)",
             TfidfVectorizer(ngram_range=(1, 2), **small_tfidf), SVC(), n_train=30),
        spec("svc_rbf_auto_multi_ovo_count", "SVC rbf gamma='auto', C=10, 6 classes, ovo, counts",
             CountVectorizer(max_features=250, min_df=2), SVC(gamma="auto", C=10.0, decision_function_shape="ovo"),
             labels=MULTI, n_train=15),
        spec("svc_rbf_gamma_multi_ovr_int", "SVC rbf gamma=0.7, 6 classes, ovr, integer labels",
             TfidfVectorizer(sublinear_tf=True, **small_tfidf), SVC(gamma=0.7, C=3.0),
             labels=MULTI, n_train=15, int_labels=True),
        spec("svc_poly3_multi_ovr_count_int", "SVC poly degree 3 coef0=1 gamma=0.2, 6 classes, counts, int labels",
             CountVectorizer(max_features=250, min_df=2), SVC(kernel="poly", degree=3, coef0=1.0, gamma=0.2),
             labels=MULTI, n_train=15, int_labels=True),
        spec("svc_poly2_binary_count", "SVC poly degree 2 coef0=0.5 gamma='scale', binary, binary=True counts",
             CountVectorizer(binary=True, max_features=250, min_df=2), SVC(kernel="poly", degree=2, coef0=0.5),
             labels=BINARY, n_train=40),
        spec("svc_poly4_tri_ovo_tfidf", "SVC poly degree 4 coef0=0 gamma=2, 3 classes, ovo",
             TfidfVectorizer(**small_tfidf), SVC(kernel="poly", degree=4, gamma=2.0, coef0=0.0,
                                                 decision_function_shape="ovo"), n_train=30),
        spec("svc_sigmoid_tri_ovo_tfidf", "SVC sigmoid gamma=0.5 coef0=-0.2, 3 classes, ovo",
             TfidfVectorizer(**small_tfidf), SVC(kernel="sigmoid", gamma=0.5, coef0=-0.2,
                                                 decision_function_shape="ovo"), n_train=30),
        spec("svc_sigmoid_binary_int", "SVC sigmoid gamma='scale', binary, integer labels",
             TfidfVectorizer(**small_tfidf), SVC(kernel="sigmoid"), labels=BINARY, n_train=40, int_labels=True),
        spec("svc_linear_multi_ovr_count", "SVC(kernel='linear'), 6 classes, ovr, counts",
             CountVectorizer(max_features=250, min_df=2), SVC(kernel="linear", C=0.5), labels=MULTI, n_train=15),
        spec("nusvc_rbf_multi_ovr_tfidf", "NuSVC(nu=0.3) rbf, 6 classes, ovr",
             TfidfVectorizer(**small_tfidf), NuSVC(nu=0.3), labels=MULTI, n_train=15),
        spec("nusvc_linear_binary_count", "NuSVC(nu=0.5) linear, binary, counts",
             CountVectorizer(max_features=250, min_df=2), NuSVC(kernel="linear"), labels=BINARY, n_train=40),
        spec("nusvc_poly_tri_ovo_int", "NuSVC poly degree 2 coef0=1, 3 classes, ovo, integer labels",
             TfidfVectorizer(**small_tfidf), NuSVC(kernel="poly", degree=2, coef0=1.0, nu=0.4,
                                                   decision_function_shape="ovo"),
             n_train=30, int_labels=True),
        spec("nusvc_sigmoid_multi_ovr", "NuSVC sigmoid gamma=1 coef0=0, 6 classes, ovr",
             TfidfVectorizer(**small_tfidf), NuSVC(kernel="sigmoid", gamma=1.0, nu=0.5), labels=MULTI, n_train=15),
        spec("svc_rbf_break_ties_multi", "SVC rbf break_ties=True, 6 classes (predict = argmax of ovr)",
             CountVectorizer(max_features=250, min_df=2), SVC(gamma="auto", break_ties=True), labels=MULTI, n_train=15),
        spec("svc_rbf_probability_tri", "SVC rbf probability=True: libsvm pairwise coupling, 3 classes",
             TfidfVectorizer(**small_tfidf), SVC(probability=True, random_state=0), n_train=30),
        spec("svc_rbf_probability_multi_ovo", "SVC rbf probability=True, 6 classes, ovo",
             TfidfVectorizer(**small_tfidf), SVC(probability=True, random_state=0, C=5.0,
                                                 decision_function_shape="ovo"),
             labels=MULTI, n_train=15),
        spec("svc_linear_probability_binary_int", "SVC linear probability=True, binary, integer labels",
             TfidfVectorizer(**small_tfidf), SVC(kernel="linear", probability=True, random_state=0),
             labels=BINARY, n_train=40, int_labels=True),
        spec("nusvc_rbf_probability_binary", "NuSVC rbf probability=True, binary",
             CountVectorizer(max_features=250, min_df=2), NuSVC(probability=True, random_state=0),
             labels=BINARY, n_train=40),
        spec("svc_rbf_hashing_alt_tri", "SVC rbf on HashingVectorizer 2**8 (negative values)",
             HashingVectorizer(n_features=2**8), SVC(gamma=1.0), n_train=30),
        spec("svc_rbf_charwb_tri", "SVC rbf on char_wb (2,3) tf-idf with the torture texts",
             TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 3), min_df=2, max_features=400),
             SVC(gamma="scale"), torture=True, n_train=12, copies=1),
        spec("svc_rbf_dense_trained_tri", "SVC rbf fitted on X.toarray() (the classic recipe): dense libsvm",
             TfidfVectorizer(**small_tfidf), SVC(gamma="scale"), n_train=30, dense=True),
        spec("svc_poly_dense_trained_binary", "SVC poly fitted on X.toarray(), binary",
             CountVectorizer(max_features=250, min_df=2), SVC(kernel="poly", degree=3, gamma=0.1, coef0=1.0),
             labels=BINARY, n_train=40, dense=True),
    ]


# ----------------------------------------------------------------------------------------------
# Recording what sklearn computes


def transform(vectorizer, tfidf, texts):
    X = vectorizer.transform(texts)
    if tfidf is not None:
        X = tfidf.transform(X)
    X = X.tocsr().astype(np.float64)
    X.eliminate_zeros()
    X.sort_indices()
    return X


def scores_of(classifier, X):
    if isinstance(classifier, (MultinomialNB, ComplementNB)):
        return classifier.predict_joint_log_proba(X)
    scores = classifier.decision_function(X)
    return scores.reshape(X.shape[0], -1)


def cases_for(vectorizer, tfidf, classifier, texts, n_analyzed):
    """n_analyzed: record the analyzer output for the first n texts only (keeps files small)."""
    X = transform(vectorizer, tfidf, texts)
    # An SVC fitted on a dense matrix predicts only dense input.
    X_clf = X.toarray() if getattr(classifier, "_sparse", True) is False else X
    scores = scores_of(classifier, X_clf)
    probabilities = classifier.predict_proba(X_clf) if hasattr(classifier, "predict_proba") and _has_proba(classifier) else None
    labels = classifier.predict(X_clf)
    analyze = vectorizer.build_analyzer()
    for i, text in enumerate(texts):
        row = X.getrow(i)
        yield {
            "text": text,
            "analyzed": analyze(text) if i < n_analyzed else None,
            "features": {"indices": row.indices.tolist(), "values": row.data.tolist()},
            "scores": scores[i].tolist(),
            "probabilities": None if probabilities is None else probabilities[i].tolist(),
            "label": str(labels[i]),
        }


def _has_proba(classifier):
    try:
        getattr(classifier, "predict_proba")
        return True
    except AttributeError:
        return False


def fit(s, corpus):
    """Fits a v1 spec; returns (vectorizer, tfidf, classifier, the Pipeline of the three, test_x)."""
    # Character analyzers make large fixtures: fewer held-out lines for them.
    n_test = 100 if s["vectorizer"].analyzer == "word" else 30
    train_x, train_y, test_x = corpus.split(s["labels"], s["n_train"], n_test, s["int_labels"])
    if s["torture"]:
        train_x, train_y = with_torture(train_x, train_y, s["copies"])
    vectorizer, tfidf, classifier = (_built(s[key]) for key in ("vectorizer", "tfidf", "classifier"))
    steps = [("vec", vectorizer)] + ([("tfidf", tfidf)] if tfidf is not None else []) + [("clf", classifier)]
    pipeline = Pipeline(steps)
    if s["dense"]:
        X = vectorizer.fit_transform(train_x)
        if tfidf is not None:
            X = tfidf.fit_transform(X)
        classifier.fit(X.toarray(), train_y)
    else:
        pipeline.fit(train_x, train_y)
    return vectorizer, tfidf, classifier, pipeline, test_x


def _built(estimator):
    return estimator() if isinstance(estimator, functools.partial) else estimator


def dump_json(obj, path):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, allow_nan=False, ensure_ascii=False, separators=(",", ":"))
        f.write("\n")


def write_cases(path, cases):
    with open(path, "w", encoding="utf-8") as f:
        for case in cases:
            f.write(json.dumps(case, allow_nan=False, ensure_ascii=False, separators=(",", ":")))
            f.write("\n")


# ----------------------------------------------------------------------------------------------
# Exporting


class Skip(Exception):
    """This model is left out with this sklearn or exporter; the message says why."""


def exporter_name():
    if classify_export is not None:
        return "python/classify_export (classify_export.to_model)"
    return "scripts/export_sklearn.py (export_model; python/classify_export does not exist yet)"


def export(estimator, v1_parts=None, labels=None):
    """classify_export.to_model(estimator); before that package exists, export_sklearn's
    export_model(*v1_parts) for the v1 specs, and a Skip for the rest. A refusal is a Skip naming
    the exporter's message; any other error is a bug and propagates. `labels`: a multi-label
    model's MultiLabelBinarizer, passed as to_model's labels=."""
    if classify_export is not None:
        try:
            if labels is not None:
                return classify_export.to_model(estimator, labels=labels)
            return classify_export.to_model(estimator)
        except classify_export.Unsupported as e:
            raise Skip(f"classify_export.to_model refuses it: {e}")
    if v1_parts is None:
        raise Skip("needs python/classify_export (model format v2), which does not exist yet")
    try:
        return export_sklearn.export_model(*v1_parts)
    except export_sklearn.Unsupported as e:
        raise Skip(f"export_sklearn.export_model refuses it: {e}")


def fix_metadata(model, description):
    """Makes the exported model reproducible per sklearn version: the export time is fixed (the
    rest of metadata names versions, classes and parameters only)."""
    metadata = model["metadata"]
    if "exported_at" in metadata:
        metadata["exported_at"] = "fixed-for-golden-tests"
    metadata["golden_description"] = description
    return model


def build_error(e):
    import sklearn

    return f"sklearn {sklearn.__version__} cannot build it: {type(e).__name__}: {e}"


# ----------------------------------------------------------------------------------------------
# The fixtures


def v1_fixture(s, corpus, out):
    try:
        vectorizer, tfidf, classifier, pipeline, test_x = fit(s, corpus)
    except Exception as e:  # noqa: BLE001 - recorded in the manifest, printed on stderr
        raise Skip(build_error(e))
    model = fix_metadata(export(pipeline, (vectorizer, tfidf, classifier)), s["description"])
    is_char = vectorizer.analyzer != "word"
    n_analyzed = len(TORTURE) + (10 if is_char else 30)
    cases = list(cases_for(vectorizer, tfidf, classifier, TORTURE + test_x, n_analyzed))
    dump_json(model, os.path.join(out, s["name"] + ".model.json"))
    write_cases(os.path.join(out, s["name"] + ".cases.jsonl"), cases)


def shape_fixture(name, description, builder, samples, out):
    try:
        fitted = builder(samples)
    except Exception as e:  # noqa: BLE001 - recorded in the manifest, printed on stderr
        raise Skip(build_error(e))
    texts = TORTURE + fitted.texts
    if fitted.keep is not None:
        texts = fitted.keep(texts)  # e.g. a nearest-neighbour shape leaves out tie-dependent texts
    multilabel = golden_shapes.is_multilabel(fitted.estimator)
    try:
        if multilabel:
            # The labels' names come from the shape (its MultiLabelBinarizer, else the column
            # numbers), not from the exported model, so that the fixture checks the export too.
            n_columns = len(golden_shapes.final_estimator(fitted.estimator).estimators_)
            names = list(fitted.labels.classes_) if fitted.labels is not None else list(range(n_columns))
            scores, probabilities, label_sets = golden_shapes.multilabel_outputs(
                fitted.estimator, fitted.input(texts), names)
            labels = None
        else:
            scores, probabilities, labels = golden_shapes.outputs(fitted.estimator, fitted.input(texts))
    except golden_shapes.CannotBuild as e:
        raise Skip(f"sklearn's answers cannot be recorded: {e}")
    model = fix_metadata(export(fitted.estimator, labels=fitted.labels), description)
    regression = labels is None and not multilabel
    if regression != (model["classifier"]["kind"] in ("linear_regression", "tree_regression", "svr",
                                                       "k_neighbors_regression")):
        raise RuntimeError(f"{name}: sklearn calls it a {'regressor' if regression else 'classifier'}, "
                           f"the exported model's kind is {model['classifier']['kind']!r}")
    if multilabel != (model["classifier"]["kind"] == "multi_label"):
        raise RuntimeError(f"{name}: sklearn {'sets several labels' if multilabel else 'answers one class'} "
                           f"per text, the exported model's kind is {model['classifier']['kind']!r}")
    # The core's analyzer and feature row are those of the model's one top-level vectorizer.
    analyze = fitted.vectorizer.build_analyzer() if fitted.vectorizer is not None and "vectorizer" in model else None
    rows = None
    if fitted.plain is not None and "vectorizer" in model and "union" not in model and not model.get("steps"):
        rows = fitted.plain(texts).tocsr().astype(np.float64)
        rows.eliminate_zeros()
        rows.sort_indices()
    is_char = any(_is_char(v) for v in _vectorizers_of(model))
    n_analyzed = len(TORTURE) + (10 if is_char else 30)
    cases = []
    for i, text in enumerate(texts):
        case = {"text": text}
        if analyze is not None:
            case["analyzed"] = analyze(text) if i < n_analyzed else None
        if rows is not None:
            row = rows.getrow(i)
            case["features"] = {"indices": row.indices.tolist(), "values": row.data.tolist()}
        if regression:
            case["value"] = float(scores[i][0])  # predict's number; a regressor has no label
        case["scores"] = scores[i].tolist()
        case["probabilities"] = None if probabilities is None else probabilities[i].tolist()
        if multilabel:
            case["labels"] = label_sets[i]
        elif not regression:
            case["label"] = str(labels[i])
        cases.append(case)
    dump_json(model, os.path.join(out, name + ".model.json"))
    write_cases(os.path.join(out, name + ".cases.jsonl"), cases)


def _vectorizers_of(model):
    if "vectorizer" in model:
        yield model["vectorizer"]
    for branch in (model.get("union") or {}).get("branches", []):
        yield branch["vectorizer"]


def _is_char(vectorizer):
    return vectorizer.get("analyzer") != "word"


def generate(out, data_path):
    warnings.simplefilter("ignore", ConvergenceWarning)
    warnings.simplefilter("ignore", FutureWarning)
    warnings.simplefilter("ignore", UserWarning)
    warnings.simplefilter("ignore", DeprecationWarning)
    warnings.simplefilter("ignore", RuntimeWarning)  # f_classif on constant columns, ...
    os.makedirs(out, exist_ok=True)
    corpus = Corpus(read_corpus(data_path))
    samples = types.SimpleNamespace(split=corpus.split, with_torture=with_torture, BINARY=BINARY, TRI=TRI,
                                    MULTI=MULTI)
    jobs = [(s["name"], functools.partial(v1_fixture, s, corpus, out)) for s in model_specs()]
    jobs += [(name, functools.partial(shape_fixture, name, description, builder, samples, out))
             for name, description, builder in golden_shapes.SHAPES]
    assert len({name for name, _ in jobs}) == len(jobs), "duplicate model names"
    names, skipped = [], []
    for name, job in jobs:
        try:
            job()
            names.append(name)
        except Skip as e:
            skipped.append({"name": name, "reason": str(e)})
            print(f"make_golden.py: skipped {name}: {e}", file=sys.stderr)
    # Fixtures of models not written this time (renamed, or skipped now) would disagree with the
    # manifest: a fixture directory is always one complete set.
    written = set(names)
    for file in os.listdir(out):
        for suffix in (".model.json", ".cases.jsonl"):
            if file.endswith(suffix) and file[: -len(suffix)] not in written:
                os.remove(os.path.join(out, file))
    dump_json(char_tables(), os.path.join(out, "unicode.json"))
    import sklearn

    with open(data_path, "rb") as f:
        data_digest = hashlib.sha256(f.read()).hexdigest()
    dump_json(
        {
            "generator": "scripts/make_golden.py",
            "exporter": exporter_name(),
            "sklearn_version": sklearn.__version__,
            "numpy_version": np.__version__,
            "scipy_version": _version_of("scipy"),
            "pandas_version": _version_of("pandas"),
            "python_version": platform.python_version(),
            "python_unicode_version": unicodedata.unidata_version,
            "data_sha256": data_digest,
            "models": names,
            "skipped": skipped,
        },
        os.path.join(out, "manifest.json"),
    )
    return names, skipped


def _version_of(module):
    try:
        return __import__(module).__version__
    except ImportError:
        return None


def default_data():
    """The shared corpus, else a sample of this machine's Debian package descriptions."""
    for path in DATA_CANDIDATES:
        if os.path.isfile(path):
            return path
    directory = tempfile.mkdtemp(prefix="make_golden-")
    atexit.register(shutil.rmtree, directory, True)
    path = os.path.join(directory, "debian-sections.tsv")
    print(f"make_golden.py: no {' or '.join(DATA_CANDIDATES)}; building {path} with "
          "scripts/debian_corpus.py", file=sys.stderr)
    subprocess.run([sys.executable, os.path.join(HERE, "debian_corpus.py"), "-o", path], check=True)
    return path


# ----------------------------------------------------------------------------------------------
# Models the exporter must refuse (python/tests/test_cli.py)


def _custom_tokenizer(text):
    return text.split()


def write_refused(out, data_path):
    """Pickles that export_sklearn.py must refuse, each with the words its message must name."""
    warnings.simplefilter("ignore")
    os.makedirs(out, exist_ok=True)
    corpus = Corpus(read_corpus(data_path))
    train_x, train_y, _ = corpus.split(BINARY, 40, 0)
    cases = {
        "custom_tokenizer": (CountVectorizer(tokenizer=str.split), LinearSVC(), train_y, "tokenizer="),
        # A function of the training script itself: the pickle cannot even be loaded elsewhere.
        "custom_tokenizer_main": (CountVectorizer(tokenizer=_custom_tokenizer), LinearSVC(), train_y,
                                  "defined in the training script"),
        "custom_preprocessor": (CountVectorizer(preprocessor=str.upper), LinearSVC(), train_y, "preprocessor="),
        "callable_analyzer": (CountVectorizer(analyzer=str.split), LinearSVC(), train_y, "analyzer="),
        "token_pattern_az": (CountVectorizer(token_pattern=r"[a-z]+"), LinearSVC(), train_y, "token_pattern="),
        "float_labels": (CountVectorizer(), LinearSVC(), [1.0 if y == "games" else 2.0 for y in train_y], "classes_"),
        "bool_labels": (CountVectorizer(), LinearSVC(), [y == "games" for y in train_y], "classes_"),
        "float32_dtype": (TfidfVectorizer(dtype=np.float32), LinearSVC(), train_y, "dtype="),
        "latin1_encoding": (CountVectorizer(encoding="latin-1"), LinearSVC(), train_y, "encoding="),
        "decode_error_ignore": (CountVectorizer(decode_error="ignore"), LinearSVC(), train_y, "decode_error="),
        "input_filename": (CountVectorizer(input="filename"), LinearSVC(), train_y, "input="),
        "unsupported_classifier": (CountVectorizer(), None, train_y, "GradientBoostingClassifier"),
        "svc_precomputed_kernel": (CountVectorizer(), SVC(kernel="precomputed"), train_y, "kernel='precomputed'"),
        "svc_callable_kernel": (CountVectorizer(), SVC(kernel=linear_kernel), train_y, "kernel='linear_kernel'"),
    }
    expectations = []
    for name, (vec, clf, y, needle) in sorted(cases.items()):
        if clf is None:
            from sklearn.ensemble import GradientBoostingClassifier

            clf = GradientBoostingClassifier(n_estimators=3, random_state=0)
        if name == "input_filename":
            vec.set_params(input="content")
            X = vec.fit_transform(train_x)
            vec.set_params(input="filename")
        else:
            X = vec.fit_transform(train_x)
        if name == "svc_precomputed_kernel":
            X = (X @ X.T).toarray()  # a precomputed kernel is fitted on the Gram matrix
        clf.fit(X, y)
        with open(os.path.join(out, f"{name}.vectorizer.pickle"), "wb") as f:
            pickle.dump(vec, f)
        with open(os.path.join(out, f"{name}.classifier.pickle"), "wb") as f:
            pickle.dump(clf, f)
        expectations.append(f"{name}\t{needle}")
    # A supported pipeline, for the positive checks of python/tests/test_cli.py.
    pipeline = Pipeline([("vec", CountVectorizer(ngram_range=(1, 2))), ("tfidf", TfidfTransformer()), ("clf", LinearSVC())])
    pipeline.fit(train_x, train_y)
    import joblib

    joblib.dump(pipeline, os.path.join(out, "good.pipeline.joblib"))
    with open(os.path.join(out, "good.vectorizer.pickle"), "wb") as f:
        pickle.dump(pipeline.named_steps["vec"], f)
    with open(os.path.join(out, "good.classifier.pickle"), "wb") as f:
        pickle.dump(LinearSVC().fit(pipeline.named_steps["vec"].transform(train_x), train_y), f)
    # Kernel SVMs for the positive checks: a pipeline (sparse fit, probability=True, ovo) and two
    # pickles of an NuSVC fitted on a dense matrix, as the classic recipe's .toarray() does.
    svc = Pipeline([("vec", TfidfVectorizer()), ("clf", SVC(decision_function_shape="ovo", probability=True,
                                                           random_state=0))])
    svc.fit(train_x, train_y)
    joblib.dump(svc, os.path.join(out, "good_svc.pipeline.joblib"))
    # A regressor (kind linear_regression) for the positive checks: Ridge on log1p(number of words).
    from sklearn.linear_model import Ridge

    ridge = Pipeline([("vec", TfidfVectorizer(ngram_range=(1, 2))), ("reg", Ridge())])
    ridge.fit(train_x, np.log1p([len(text.split()) for text in train_x]))
    joblib.dump(ridge, os.path.join(out, "good_ridge.pipeline.joblib"))
    dense_vec = CountVectorizer(ngram_range=(1, 2)).fit(train_x)
    dense_clf = NuSVC(kernel="poly", degree=2, coef0=1.0).fit(dense_vec.transform(train_x).toarray(), train_y)
    with open(os.path.join(out, "good_nusvc_dense.vectorizer.pickle"), "wb") as f:
        pickle.dump(dense_vec, f)
    with open(os.path.join(out, "good_nusvc_dense.classifier.pickle"), "wb") as f:
        pickle.dump(dense_clf, f)
    _, _, test_x = corpus.split(BINARY, 40, 30)
    with open(os.path.join(out, "texts.txt"), "w", encoding="utf-8") as f:
        for text in test_x + [t for t in TORTURE if "\n" not in t and "\r" not in t and "\x85" not in t
                              and "\u2028" not in t and "\u2029" not in t and "\x0b" not in t and "\x0c" not in t
                              and "\x1c" not in t and "\x1d" not in t and "\x1e" not in t]:
            f.write(text + "\n")
    with open(os.path.join(out, "expected_refusals.tsv"), "w", encoding="utf-8") as f:
        f.write("\n".join(expectations) + "\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", help="label<TAB>text corpus (default: the shared one, see above)")
    parser.add_argument("--out", default=DEFAULT_OUT, help="fixture directory to write (a complete set)")
    parser.add_argument("--check", action="store_true", help="exit 1 if the fixtures in --out are stale")
    parser.add_argument("--refused", metavar="DIR", help="write the pickles the exporter must refuse")
    args = parser.parse_args()
    data = args.data or default_data()
    if args.refused:
        write_refused(args.refused, data)
        return 0
    if args.check:
        with tempfile.TemporaryDirectory() as tmp:
            names, _ = generate(tmp, data)
            expected = sorted(os.listdir(tmp))
            present = sorted(f for f in os.listdir(args.out))
            match, mismatch, errors = filecmp.cmpfiles(tmp, args.out, expected, shallow=False)
            stale = sorted(set(mismatch) | set(errors) | (set(present) ^ set(expected)))
            if stale:
                print("golden fixtures are stale; run scripts/make_golden.py: " + ", ".join(stale), file=sys.stderr)
                return 1
            print(f"golden fixtures are up to date ({len(names)} models)")
            return 0
    names, skipped = generate(args.out, data)
    total = sum(os.path.getsize(os.path.join(args.out, f)) for f in os.listdir(args.out))
    print(f"wrote {len(names)} golden models to {args.out} ({total / 1e6:.1f} MB); "
          f"{len(skipped)} skipped (listed in manifest.json)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
