"""Vectorizer converters: sklearn's CountVectorizer, TfidfVectorizer and HashingVectorizer to the
model's `vectorizer` object (and `tfidf` for a TfidfVectorizer), plus the `tfidf` object of a
TfidfTransformer, which steps.py reuses.

Only settings mod_classify reproduces exactly are exported: the analyzer stages are re-implemented
in Rust, so any custom Python code (tokenizer, preprocessor, analyzer callables) or a token pattern
without an exact Rust equivalent is refused, naming the option.
"""

import codecs
import unicodedata
from collections import namedtuple

from .base import finite_list
from .registry import register

# The token patterns that TokenRule::from_pattern (crates/classify-core/src/featurize/analyzer.rs)
# reproduces exactly; each may also carry a leading "(?u)".
SUPPORTED_TOKEN_PATTERN_BODIES = (
    r"\b\w\w+\b",
    r"\b\w+\b",
    r"\w+",
    r"\b\w\w\w+\b",
    r"\S+",
    r"[^\s]+",
)

# What a vectorizer converter returns: the `vectorizer` object, the `tfidf` object or None, and
# the number of columns it produces.
Vectorized = namedtuple("Vectorized", "spec tfidf width")


def _token_pattern_supported(pattern):
    body = pattern[4:] if pattern.startswith("(?u)") else pattern
    return body in SUPPORTED_TOKEN_PATTERN_BODIES


def norm(value, ctx, kind_name, allowed=("l1", "l2")):
    if value is not None and value not in allowed:
        ctx.refuse(
            f"{kind_name}(norm={value!r}) is not supported: use "
            + ", ".join(repr(a) for a in allowed)
            + " or None"
        )
    return value


def _common(vec, ctx):
    """The settings CountVectorizer and HashingVectorizer share."""
    import numpy as np

    kind_name = type(vec).__name__

    def refuse(option, value, why):
        ctx.refuse(f"{kind_name}({option}={value!r}) is not supported: {why}")

    if vec.input != "content":
        refuse("input", vec.input, "only input='content' (the text itself) is served")
    try:
        encoding = codecs.lookup(vec.encoding).name
    except (LookupError, TypeError):
        encoding = vec.encoding
    if encoding != "utf-8":
        refuse("encoding", vec.encoding, "mod_classify decodes text as UTF-8 only")
    if vec.decode_error != "strict":
        refuse("decode_error", vec.decode_error, "only the default 'strict' is reproduced")
    if vec.preprocessor is not None:
        refuse("preprocessor", vec.preprocessor, "custom Python code cannot be exported")
    if vec.tokenizer is not None:
        refuse("tokenizer", vec.tokenizer, "custom Python code cannot be exported")
    if callable(vec.analyzer) or vec.analyzer not in ("word", "char", "char_wb"):
        refuse(
            "analyzer",
            vec.analyzer,
            "use 'word', 'char' or 'char_wb' (custom Python code cannot be exported)",
        )
    if vec.strip_accents not in (None, "ascii", "unicode"):
        refuse("strip_accents", vec.strip_accents, "use None, 'ascii' or 'unicode'")
    dtype = np.dtype(vec.dtype)
    if not (dtype == np.float64 or np.issubdtype(dtype, np.integer)):
        refuse(
            "dtype",
            vec.dtype,
            "features are computed in float64 by mod_classify; another float type changes the "
            "decision values (refit with the default dtype)",
        )
    min_n, max_n = (int(n) for n in vec.ngram_range)
    if not 1 <= min_n <= max_n:
        refuse("ngram_range", vec.ngram_range, "needs 1 <= min_n <= max_n")

    spec = {
        "kind": "count",
        "analyzer": vec.analyzer,
        "ngram_range": [min_n, max_n],
        "lowercase": bool(vec.lowercase),
        "strip_accents": vec.strip_accents,
        "token_pattern": None,
        "stop_words": None,
        "binary": bool(vec.binary),
        # sklearn's analyzers classify, lowercase and decompose characters with this Python's
        # Unicode database; the core hides the characters its newer tables add.
        "unicode_version": unicodedata.unidata_version,
    }
    if vec.analyzer == "word":
        pattern = vec.token_pattern
        if not isinstance(pattern, str) or not _token_pattern_supported(pattern):
            refuse(
                "token_pattern",
                pattern,
                "mod_classify reproduces exactly only "
                + ", ".join(repr(p) for p in SUPPORTED_TOKEN_PATTERN_BODIES)
                + " (each optionally prefixed by '(?u)')",
            )
        spec["token_pattern"] = pattern
        try:
            stop = vec.get_stop_words()
        except ValueError as e:
            refuse("stop_words", vec.stop_words, str(e))
        if stop is not None:
            if not all(isinstance(w, str) for w in stop):
                refuse("stop_words", vec.stop_words, "every stop word must be a string")
            spec["stop_words"] = sorted(stop)
    return spec


def _vocabulary(vec, ctx):
    vocabulary = getattr(vec, "vocabulary_", None)
    if vocabulary is None:
        ctx.refuse(f"{type(vec).__name__} is not fitted (it has no vocabulary_)")
    terms = [None] * len(vocabulary)
    for term, index in vocabulary.items():
        index = int(index)
        if not 0 <= index < len(terms) or terms[index] is not None:
            ctx.refuse(
                f"vocabulary_ maps {term!r} to {index}, which is not a distinct index in "
                f"0..{len(terms) - 1}"
            )
        terms[index] = term
    return terms


@register("vectorizer", "sklearn.feature_extraction.text", "CountVectorizer")
def count_vectorizer(vec, ctx):
    spec = _common(vec, ctx)
    spec["vocabulary"] = _vocabulary(vec, ctx)
    return Vectorized(spec, None, len(spec["vocabulary"]))


@register("vectorizer", "sklearn.feature_extraction.text", "TfidfVectorizer")
def tfidf_vectorizer(vec, ctx):
    spec = _common(vec, ctx)
    spec["vocabulary"] = _vocabulary(vec, ctx)
    width = len(spec["vocabulary"])
    return Vectorized(spec, tfidf_spec(vec, ctx, width), width)


@register("vectorizer", "sklearn.feature_extraction.text", "HashingVectorizer")
def hashing_vectorizer(vec, ctx):
    spec = _common(vec, ctx)
    spec["kind"] = "hashing"
    spec["n_features"] = int(vec.n_features)
    spec["alternate_sign"] = bool(vec.alternate_sign)
    spec["norm"] = norm(vec.norm, ctx, "HashingVectorizer")
    return Vectorized(spec, None, int(vec.n_features))


def tfidf_spec(transformer, ctx, width):
    """The version-1 `tfidf` object of a TfidfVectorizer or TfidfTransformer."""
    kind_name = type(transformer).__name__
    spec = {
        "norm": norm(transformer.norm, ctx, kind_name),
        "use_idf": bool(transformer.use_idf),
        "smooth_idf": bool(transformer.smooth_idf),
        "sublinear_tf": bool(transformer.sublinear_tf),
        "idf": None,
    }
    if transformer.use_idf:
        try:
            idf = transformer.idf_
        except AttributeError:
            ctx.refuse(f"{kind_name} is not fitted (it has no idf_)")
        if len(idf) != width:
            ctx.refuse(
                f"{kind_name}.idf_ has {len(idf)} values but the vectorizer has {width} "
                "features; the two were not fitted together"
            )
        spec["idf"] = finite_list(idf, "tfidf.idf")
    return spec
