#!/usr/bin/python3
"""The sklearn side of scripts/bench/micro: train the big bigram model, time sklearn per document.

  sklearn_micro.py train --data TSV --dir DIR [--texts N] [--words 20] [--ngram 1,2]
                         [--vectorizer count|hashing] [--classifier linearsvc|forest|knn]
                         [--analyzer word|char|char_wb] [--tfidf] [--sublinear-tf]
                         [--documents N]
      Fits CountVectorizer(ngram_range=(1, 2)) with no min_df/max_features (~740k features on
      the full Debian corpus; --ngram 1,3 gives > 1M), or with `--vectorizer hashing`
      HashingVectorizer(ngram_range=(1, 2), n_features=2**20), + LinearSVC on every line of TSV,
      (or, with `--classifier forest`, RandomForestClassifier(n_estimators=50, min_samples_leaf=3,
      random_state=0), fitted on all CPUs and then set to predict on one thread, as a server
      answering one document per call would), pickles both into DIR as the classic recipe does (vectorizer.pickle, classifier.pickle),
      and writes DIR/texts.txt: N real texts cut to their first `--words` words (one per line).
      `--analyzer char_wb` (or char) fits character n-grams instead of words, `--tfidf` a
      TfidfVectorizer (`--sublinear-tf` sets its sublinear_tf), `--documents N` fits on N texts
      of the corpus picked at random (seed 0) instead of every line. `--words 0` keeps the texts
      whole and puts the one of median length (in characters) first, so that "the first text
      alone" times the median document.

  sklearn_micro.py time --dir DIR [--seconds S] [--skip-dense]
      Loads the pickles (timed), then times, one document per call as a server would, on the
      texts of DIR/texts.txt: `clf.predict(vec.transform([text]))` (sparse) cycling through all
      texts and on the first text alone, and (unless --skip-dense) the classic recipe's
      `clf.predict(vec.transform([text]).toarray())` (dense) on a few texts.
      Also times sklearn's batch form, `clf.predict(vec.transform(texts))` over all the texts
      at once. Prints one JSON object with the numbers; never asserts on time.

Runs with Debian's /usr/bin/python3 (python3-sklearn).
"""

import argparse
import json
import os
import pickle
import random
import sys
import time

# The corpus reader of scripts/train_sklearn.py, one directory up.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from train_sklearn import read_tsv  # noqa: E402


def rss_kib():
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def feature_count(vectorizer):
    """Columns of the vectorizer's output: its vocabulary, or a hashing vectorizer's width."""
    vocabulary = getattr(vectorizer, "vocabulary_", None)
    return len(vocabulary) if vocabulary is not None else vectorizer.n_features


def train(args):
    from sklearn.feature_extraction.text import (CountVectorizer, HashingVectorizer,
                                                 TfidfVectorizer)
    from sklearn.svm import LinearSVC

    labels, texts = read_tsv(args.data)
    if args.documents:
        picked = sorted(random.Random(0).sample(range(len(texts)), min(args.documents, len(texts))))
        labels, texts = [labels[i] for i in picked], [texts[i] for i in picked]
    started = time.perf_counter()
    low, high = (int(n) for n in args.ngram.split(","))
    settings = f"ngram_range=({low}, {high})"
    if args.analyzer != "word":
        settings = f"analyzer={args.analyzer!r}, {settings}"
    if args.vectorizer == "hashing":
        vectorizer = HashingVectorizer(analyzer=args.analyzer, ngram_range=(low, high),
                                       n_features=2**20)
        described = f"HashingVectorizer({settings}, n_features=2**20)"
    elif args.tfidf:
        vectorizer = TfidfVectorizer(analyzer=args.analyzer, ngram_range=(low, high),
                                     sublinear_tf=args.sublinear_tf)
        if args.sublinear_tf:
            settings += ", sublinear_tf=True"
        described = f"TfidfVectorizer({settings})"
    else:
        vectorizer = CountVectorizer(analyzer=args.analyzer, ngram_range=(low, high))
        described = f"CountVectorizer({settings})"
    features = vectorizer.fit_transform(texts)
    if args.classifier == "forest":
        from sklearn.ensemble import RandomForestClassifier

        classifier_name = "RandomForestClassifier(n_estimators=50, min_samples_leaf=3)"
        classifier = RandomForestClassifier(n_estimators=50, min_samples_leaf=3, random_state=0,
                                            n_jobs=-1).fit(features, labels)
        classifier.n_jobs = None
    elif args.classifier == "knn":
        from sklearn.neighbors import KNeighborsClassifier

        # Brute force over every training row (sparse rows); n_jobs=None: one document per call
        # on one thread, as a server answers.
        classifier_name = "KNeighborsClassifier(n_neighbors=5)"
        classifier = KNeighborsClassifier(n_neighbors=5).fit(features, labels)
    else:
        classifier_name = "LinearSVC"
        classifier = LinearSVC().fit(features, labels)
    n_features = feature_count(vectorizer)
    print(f"fitted {described} + {classifier_name} on {len(texts)} texts in "
          f"{time.perf_counter() - started:.1f} s: {n_features} features, "
          f"{len(classifier.classes_)} classes", file=sys.stderr)
    if n_features < 1_000_000 and args.analyzer == "word":
        print(f"note: {n_features} features (< 1M); the issue's target is for >= 1M features "
              "(on the Debian corpus, bigrams give ~740k: use --ngram 1,3 or --vectorizer hashing)",
              file=sys.stderr)
    os.makedirs(args.dir, exist_ok=True)
    with open(os.path.join(args.dir, "vectorizer.pickle"), "wb") as out:
        pickle.dump(vectorizer, out)
    with open(os.path.join(args.dir, "classifier.pickle"), "wb") as out:
        pickle.dump(classifier, out)
    if args.words:
        long_enough = [t.split() for t in texts if len(t.split()) >= args.words]
        random.Random(0).shuffle(long_enough)
        timed = [" ".join(words[: args.words]) for words in long_enough[: args.texts]]
    else:
        # Whole texts (one line each, as the corpus has them), the median-length one first.
        timed = [t for t in texts if t.strip()]
        random.Random(0).shuffle(timed)
        timed = timed[: args.texts]
        median = sorted(timed, key=len)[len(timed) // 2]
        timed.remove(median)
        timed.insert(0, median)
    with open(os.path.join(args.dir, "texts.txt"), "w", encoding="utf-8") as out:
        for text in timed:
            out.write(text + "\n")
    with open(os.path.join(args.dir, "train.json"), "w", encoding="ascii") as out:
        json.dump({"ngram_range": [low, high], "vectorizer": args.vectorizer,
                   "analyzer": args.analyzer, "tfidf": args.tfidf,
                   "sublinear_tf": args.sublinear_tf, "described": described,
                   "words": args.words, "median_chars": len(timed[0]) if not args.words else None,
                   "classifier": classifier_name,
                   "n_features": n_features, "n_classes": len(classifier.classes_),
                   "n_documents": len(texts)}, out)


def per_doc(function, texts, seconds, min_rounds=1):
    """Mean seconds per call of function(text), cycling through texts for >= `seconds`."""
    calls = 0
    started = time.perf_counter()
    rounds = 0
    while True:
        for text in texts:
            function(text)
        calls += len(texts)
        rounds += 1
        elapsed = time.perf_counter() - started
        if rounds >= min_rounds and elapsed >= seconds:
            return elapsed / calls, calls


def time_sklearn(args):
    import numpy
    import sklearn

    rss_before = rss_kib()
    started = time.perf_counter()
    with open(os.path.join(args.dir, "vectorizer.pickle"), "rb") as f:
        vectorizer = pickle.load(f)
    with open(os.path.join(args.dir, "classifier.pickle"), "rb") as f:
        classifier = pickle.load(f)
    load_s = time.perf_counter() - started
    rss_after = rss_kib()
    with open(os.path.join(args.dir, "texts.txt"), encoding="utf-8") as f:
        texts = f.read().splitlines()

    def sparse(text):
        return classifier.predict(vectorizer.transform([text]))[0]

    def dense(text):
        return classifier.predict(vectorizer.transform([text]).toarray())[0]

    for text in texts[:20]:  # warm up
        sparse(text)
    sparse_s, sparse_calls = per_doc(sparse, texts, args.seconds)
    one_text_s, one_text_calls = per_doc(sparse, texts[:1], args.seconds / 2)
    batch_s, batch_calls = per_doc(lambda _: classifier.predict(vectorizer.transform(texts)),
                                   [None], args.seconds / 2)
    batch_s /= len(texts)
    dense_s, dense_calls = None, 0
    if not args.skip_dense:
        dense_s, dense_calls = per_doc(dense, texts[:20], min(args.seconds, 3.0))
    words = sum(len(t.split()) for t in texts) / len(texts)
    print(json.dumps({
        "sklearn_version": sklearn.__version__,
        "numpy_version": numpy.__version__,
        "python": sys.version.split()[0],
        "n_features": feature_count(vectorizer),
        "n_classes": len(classifier.classes_),
        "texts": len(texts),
        "mean_words": words,
        "pickle_load_s": load_s,
        "pickle_rss_kib": rss_after - rss_before,
        "process_rss_kib": rss_after,
        "sparse_ns_per_doc": sparse_s * 1e9,
        "sparse_calls": sparse_calls,
        "one_text_ns_per_doc": one_text_s * 1e9,
        "one_text_calls": one_text_calls,
        "batch_ns_per_doc": batch_s * 1e9,
        "batch_calls": batch_calls,
        "dense_ns_per_doc": dense_s * 1e9 if dense_s is not None else None,
        "dense_calls": dense_calls,
    }))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("train")
    p.add_argument("--data", required=True)
    p.add_argument("--dir", required=True)
    p.add_argument("--texts", type=int, default=500)
    p.add_argument("--words", type=int, default=20)
    p.add_argument("--ngram", default="1,2", help="ngram_range as MIN,MAX (default 1,2)")
    p.add_argument("--vectorizer", choices=["count", "hashing"], default="count")
    p.add_argument("--classifier", choices=["linearsvc", "forest", "knn"], default="linearsvc")
    p.add_argument("--analyzer", choices=["word", "char", "char_wb"], default="word")
    p.add_argument("--tfidf", action="store_true", help="a TfidfVectorizer (count vectorizers)")
    p.add_argument("--sublinear-tf", action="store_true", help="TfidfVectorizer(sublinear_tf=True)")
    p.add_argument("--documents", type=int, default=0,
                   help="fit on this many texts picked at random (default: every line)")
    p = sub.add_parser("time")
    p.add_argument("--dir", required=True)
    p.add_argument("--seconds", type=float, default=5.0)
    p.add_argument("--skip-dense", action="store_true",
                   help="do not time the recipe's dense predict (it takes up to 3 s)")
    args = parser.parse_args()
    if args.command == "train":
        train(args)
    else:
        time_sklearn(args)


if __name__ == "__main__":
    main()
