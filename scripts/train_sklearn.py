#!/usr/bin/python3
"""Train the classic recipe's model with scikit-learn and pickle it as that recipe does.

CountVectorizer(ngram_range=(1, 2)) + LinearSVC on a `label<TAB>text` file, with sklearn's other
defaults unless --min-df/--max-features say otherwise; prints held-out accuracy on a seeded 80/20
split, then refits on everything and writes two pickles (vectorizer and classifier), ready for
scripts/export_sklearn.py.
"""

import argparse
import pickle
import random
import time

from sklearn.feature_extraction.text import CountVectorizer
from sklearn.svm import LinearSVC


def read_tsv(path):
    labels, texts = [], []
    with open(path, encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            label, tab, text = line.rstrip("\n").partition("\t")
            if not tab or not label:
                raise SystemExit(f"{path}:{number}: expected label<TAB>text")
            labels.append(label)
            texts.append(text)
    return labels, texts


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True)
    parser.add_argument("--vectorizer-out", required=True)
    parser.add_argument("--classifier-out", required=True)
    parser.add_argument("--held-out-texts", help="write the held-out texts here, one per line")
    parser.add_argument("--min-df", type=int, default=1, help="CountVectorizer min_df (default 1)")
    parser.add_argument("--max-features", type=int, default=None,
                        help="CountVectorizer max_features (default: no limit)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    labels, texts = read_tsv(args.data)
    order = list(range(len(texts)))
    random.Random(args.seed).shuffle(order)
    cut = len(order) * 4 // 5
    train, test = order[:cut], order[cut:]

    def fit(indices):
        vectorizer = CountVectorizer(ngram_range=(1, 2), min_df=args.min_df,
                                     max_features=args.max_features)
        features = vectorizer.fit_transform([texts[i] for i in indices])
        classifier = LinearSVC().fit(features, [labels[i] for i in indices])
        return vectorizer, classifier

    started = time.perf_counter()
    vectorizer, classifier = fit(train)
    predicted = classifier.predict(vectorizer.transform([texts[i] for i in test]))
    accuracy = sum(p == labels[i] for p, i in zip(predicted, test)) / len(test)
    print(f"held-out accuracy {accuracy:.4f} on {len(test)} texts "
          f"({time.perf_counter() - started:.1f} s to fit {len(train)})")
    if args.held_out_texts:
        with open(args.held_out_texts, "w", encoding="utf-8") as out:
            out.writelines(texts[i] + "\n" for i in test[:2000])

    vectorizer, classifier = fit(order)
    with open(args.vectorizer_out, "wb") as out:
        pickle.dump(vectorizer, out)
    with open(args.classifier_out, "wb") as out:
        pickle.dump(classifier, out)
    print(f"fitted on all {len(texts)} texts: {len(vectorizer.vocabulary_)} features, "
          f"{len(classifier.classes_)} classes")


if __name__ == "__main__":
    main()
