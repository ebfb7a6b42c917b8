#!/usr/bin/env python3
"""Export a fitted scikit-learn text classifier to a mod_classify model file: the binary form,
or JSON for an output name ending in .json (--format json|binary decides regardless).

Usage:
  export_sklearn.py --vectorizer V.pickle --classifier C.pickle -o mine.model [--verify TEXTS.txt]
  export_sklearn.py --pipeline P.joblib -o mine.model [--verify TEXTS.txt] [--classify PATH]

A thin wrapper around the classify_export package in python/ (pip install ./python gives the same
command as `classify-export`); it runs from a checkout without installing anything. The format is
docs/model-format.md (version 1) and docs/model-format-v2.md.

Exit status: 0 ok, 1 verification found a difference, 2 usage error or unsupported model.

Other scripts import this file: export_model, write_model and Unsupported stay here for them.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "python"))

from classify_export import Unsupported, VerifyFailed  # noqa: E402
from classify_export.cli import main as _main  # noqa: E402
from classify_export.model import write_model  # noqa: E402,F401 - used by scripts/make_golden.py

__all__ = ["export_model", "write_model", "main", "Unsupported", "VerifyFailed"]


def export_model(vectorizer, transformer, classifier, source=None):
    """The model dict of a fitted vectorizer, optional TfidfTransformer and classifier (each may
    also be a Pipeline of steps), as scripts/make_golden.py builds them."""
    from classify_export import model, walk

    sequence = walk.flatten(vectorizer, "vectorizer")
    if transformer is not None:
        sequence += walk.flatten(transformer, "tfidf")
    sequence += walk.flatten(classifier, "classifier")
    plan = walk.build(sequence)
    shape = ", ".join(walk.structure(e) for e in (vectorizer, transformer, classifier) if e is not None)
    return model.assemble(plan, sequence, shape, source)


def main(argv=None):
    return _main(argv, prog=os.path.basename(sys.argv[0]) if argv is None else "export_sklearn.py")


if __name__ == "__main__":
    sys.exit(main())
