"""The binary model form the exporter writes (classify_export/binary.py), against the real
`classify` (conftest.py's `classify_bin`):

- for real sklearn pipelines of every shape whose arrays leave META (word analyzer with its
  stored index, char_wb, kernel SVM, stacked multi-label members) and one whose arrays stay in
  it, every section but META is byte for byte what `classify convert` writes from the exported
  JSON, META holds the same settings, both binaries convert back to the same JSON, answer
  `classify predict --scores` identically, and `classify inspect` says the word index was read
  from the file, not built;
- vocabularies that exercise the word index's corners (long tokens, terms no document can
  produce, prefixes that are not terms, both tables growing);
- the numpy XXH3-64 against classify's own check (a right checksum accepted, a wrong one
  refused) at lengths around its block boundaries, and against libxxhash where it is installed;
- the command line: -o NAME.json writes JSON, other names the binary form, --format decides,
  --verify passes on both.
"""

import ctypes
import ctypes.util
import json
import os
import subprocess
import sys
import tempfile
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer  # noqa: E402
from sklearn.pipeline import FeatureUnion, make_pipeline  # noqa: E402
from sklearn.svm import SVC, LinearSVC  # noqa: E402

import classify_export  # noqa: E402
from classify_export import binary  # noqa: E402
from test_export import data, multilabel_data  # noqa: E402

warnings.simplefilter("ignore", ConvergenceWarning)
warnings.simplefilter("ignore", FutureWarning)  # SVC(probability=True), deprecated in sklearn 1.9

ROOT = os.path.dirname(os.path.dirname(HERE))
SCRIPT = os.path.join(ROOT, "scripts", "export_sklearn.py")
EXTRA_TEXTS = ["", "zzz unknown words only", "game physics window", "Ünïcødé ΟΔΟΣ 東京",
               "the the the game game", "a fast arcade game with levels puzzles player board"]


def sections_of(data):
    """{tag: bytes} of a binary model file's bytes, checking the header's own fields."""
    assert data[:8] == b"MCLSMODL" and int.from_bytes(data[8:12], "little") == 1
    assert int.from_bytes(data[24:32], "little") == len(data)
    count = int.from_bytes(data[12:16], "little")
    out = {}
    for index in range(count):
        entry = 32 + 24 * index
        tag = data[entry:entry + 4].decode("ascii")
        offset = int.from_bytes(data[entry + 8:entry + 16], "little")
        length = int.from_bytes(data[entry + 16:entry + 24], "little")
        assert offset % 8 == 0 and tag not in out
        out[tag] = data[offset:offset + length]
    return out


def without_nulls(value):
    """JSON content with null members dropped (serde writes absent options as null)."""
    if isinstance(value, dict):
        return {k: without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [without_nulls(v) for v in value]
    return value


def run(*args):
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, check=True).stdout


class Compared:
    """One model dict written by the exporter both ways, and `classify convert` of its JSON."""

    def __init__(self, classify_bin, model, tmp, texts):
        self.classify_bin = classify_bin
        self.json = os.path.join(tmp, "exported.model.json")
        self.ours = os.path.join(tmp, "exported.model")
        self.theirs = os.path.join(tmp, "converted.model")
        classify_export.write_model(model, self.json)
        classify_export.write_model(model, self.ours)
        run(classify_bin, "convert", self.json, "-o", self.theirs)
        self.texts = os.path.join(tmp, "texts.txt")
        with open(self.texts, "w", encoding="utf-8") as f:
            f.write("".join(t.replace("\n", " ").replace("\r", " ") + "\n" for t in texts))
        with open(self.ours, "rb") as f:
            self.our_sections = sections_of(f.read())
        with open(self.theirs, "rb") as f:
            self.their_sections = sections_of(f.read())

    def check(self, expected_tags):
        ours, theirs = self.our_sections, self.their_sections
        # (a) the same sections, each but META byte for byte; META the same settings.
        assert list(ours) == list(theirs) == expected_tags
        for tag in expected_tags[1:]:
            assert ours[tag] == theirs[tag], f"section {tag} differs from classify convert's"
        assert without_nulls(json.loads(ours["META"])) == without_nulls(json.loads(theirs["META"]))
        # (b) both convert back to the same JSON form.
        back = []
        for name, path in (("ours", self.ours), ("theirs", self.theirs)):
            out = f"{path}.{name}.json"
            run(self.classify_bin, "convert", path, "-o", out, "--to", "json")
            with open(out, encoding="utf-8") as f:
                back.append(json.load(f))
        assert back[0] == back[1]
        # (c) the same answers, to the last digit, as the converted file and the JSON.
        answers = [run(self.classify_bin, "predict", "--scores", "--model", path, self.texts)
                   for path in (self.ours, self.theirs, self.json)]
        assert answers[0] == answers[1] == answers[2]
        assert answers[0].count("\n") == sum(1 for _ in open(self.texts, encoding="utf-8"))
        return answers[0]

    def word_index(self, path=None):
        shown = json.loads(run(self.classify_bin, "inspect", "--top", "1", path or self.ours))
        return shown["word_index"]


WORD_TAGS = ["META", "VTXT", "VEND", "WIXP", "WTOK", "WLTX", "WLID", "WUNI", "WPAR"]


def _word_pipelines():
    yield CountVectorizer(), LinearSVC(), WORD_TAGS + ["COEF"]
    yield TfidfVectorizer(ngram_range=(1, 2)), LinearSVC(C=0.5), WORD_TAGS + ["IDF_", "COEF"]
    yield (TfidfVectorizer(ngram_range=(1, 3), sublinear_tf=True, min_df=1), LinearSVC(),
           WORD_TAGS + ["IDF_", "COEF"])
    yield (TfidfVectorizer(ngram_range=(2, 3), use_idf=False, lowercase=False), LinearSVC(),
           WORD_TAGS + ["COEF"])
    yield (TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4)), LinearSVC(),
           ["META", "VTXT", "VEND", "IDF_", "COEF"])
    yield (TfidfVectorizer(ngram_range=(1, 2)), SVC(kernel="rbf", gamma=0.7, probability=True, random_state=0),
           WORD_TAGS + ["IDF_", "SVPT", "SVIX", "SVVL", "DUAL"])
    yield CountVectorizer(), SVC(kernel="poly", degree=2), WORD_TAGS + ["SVPT", "SVIX", "SVVL", "DUAL"]


@pytest.mark.parametrize("case", range(7))
def test_pipelines_write_what_classify_convert_writes(classify_bin, case):
    vectorizer, classifier, tags = list(_word_pipelines())[case]
    labels = ("games", "science") if case == 2 else ("games", "science", "x11")
    x, y, held = data(labels, n=30)
    pipe = make_pipeline(vectorizer, classifier).fit(x, y)
    model = classify_export.to_model(pipe)
    with tempfile.TemporaryDirectory(prefix="exporter-bin.") as tmp:
        compared = Compared(classify_bin, model, tmp, held + EXTRA_TEXTS)
        answers = compared.check(tags)
        assert len(set(answers.splitlines())) > 2, "every text answered alike: a weak check"
        word = "WPAR" in tags
        assert compared.word_index() == ("stored (layout 1)" if word else None)
        if word:
            assert compared.word_index(compared.theirs) == "stored (layout 1)"
            assert compared.word_index(compared.json) == "built at load"


def test_multi_label_members_are_stacked_in_coef(classify_bin):
    from sklearn.multiclass import OneVsRestClassifier

    x, indicator, _, held, tags = multilabel_data()
    pipe = make_pipeline(TfidfVectorizer(ngram_range=(1, 2)), OneVsRestClassifier(LinearSVC())).fit(x, indicator)
    model = classify_export.to_model(pipe, labels=tags)
    assert model["classifier"]["kind"] == "multi_label"
    with tempfile.TemporaryDirectory(prefix="exporter-bin.") as tmp:
        compared = Compared(classify_bin, model, tmp, held)
        compared.check(WORD_TAGS + ["IDF_", "COEF"])
        members = json.loads(compared.our_sections["META"])["classifier"]["estimators"]
        assert [m["coef"] for m in members] == [[]] * len(tags)
        assert compared.word_index() == "stored (layout 1)"


def test_wrappers_and_unions_keep_their_arrays_in_meta(classify_bin):
    """A union's first branch is the one whose arrays get sections; the other branches, a
    calibrated classifier's members and steps keep theirs in META."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.feature_selection import SelectKBest, chi2

    x, y, held = data(n=30)
    union = FeatureUnion([("words", TfidfVectorizer(ngram_range=(1, 2))),
                          ("chars", CountVectorizer(analyzer="char_wb", ngram_range=(2, 3)))])
    pipe = make_pipeline(union, SelectKBest(chi2, k=300),
                         CalibratedClassifierCV(LinearSVC(), cv=3)).fit(x, y)
    model = classify_export.to_model(pipe)
    with tempfile.TemporaryDirectory(prefix="exporter-bin.") as tmp:
        compared = Compared(classify_bin, model, tmp, held + EXTRA_TEXTS)
        compared.check(WORD_TAGS + ["IDF_"])
        meta = json.loads(compared.our_sections["META"])
        branches = meta["union"]["branches"]
        assert "vocabulary" not in branches[0]["vectorizer"] and "idf" not in branches[0]["tfidf"]
        assert len(branches[1]["vectorizer"]["vocabulary"]) == len(model["union"]["branches"][1]["vectorizer"]["vocabulary"])
        assert meta["steps"][0]["support"] and meta["classifier"]["members"]
        assert compared.word_index() == "stored (layout 1)"


def _vocabulary_model(terms, ngram_range, seed=0):
    rng = np.random.default_rng(seed)
    return {
        "format": "mod_classify-model", "format_version": 1, "metadata": {},
        "vectorizer": {"kind": "count", "analyzer": "word", "ngram_range": list(ngram_range),
                       "lowercase": True, "binary": False, "token_pattern": r"(?u)\b\w\w+\b",
                       "vocabulary": terms},
        "classifier": {"kind": "linear", "estimator": "LinearSVC", "classes": ["neg", "pos"],
                       "coef": [rng.normal(size=len(terms)).tolist()], "intercept": [0.25]},
    }


def _vocabularies():
    """(name, terms, ngram_range): the word index's corners."""
    rng = np.random.default_rng(3)
    words = [f"w{i}" for i in range(700)] + ["electroencephalography", "supercalifragilistic",
                                             "internationalization", "ab", "abcdefghijklmnop",
                                             "abcdefghijklmnopq", "ünïcødé", "東京都庁舎"]
    terms = set()
    while len(terms) < 6000:
        n = int(rng.integers(1, 4))
        terms.add(" ".join(words[int(i)] for i in rng.integers(0, len(words), n)))
    sorted_terms = sorted(terms)
    # Terms no document can produce: empty parts, more tokens than max_n, fewer than min_n.
    odd = ["", " w1", "w1  w2", "w1 w2 ", "w1 w2 w3 w4", "w5 w6 w7 w8 w9"]
    yield "mixed (1, 3), odd terms", sorted_terms + odd, (1, 3)
    yield "mixed (2, 3)", sorted_terms + odd, (2, 3)
    yield "unsorted (1, 2)", [t for t in sorted(terms, key=hash) if t.count(" ") < 2] + odd, (1, 2)
    # Trigrams whose first two tokens are no term: the pair table grows past its first size.
    yield "prefixes only (3, 3)", [f"a{i} b{i} c{i}" for i in range(3000)], (3, 3)
    # Only long tokens; and a table of exactly 512 short tokens, then repeats (the token
    # table makes room before looking a token up).
    yield "long tokens", [f"{'x' * 20}{i} {'y' * 17}" for i in range(50)], (1, 2)
    yield "exactly half full", [f"t{i}" for i in range(512)] + [f"t{i} t{i + 1}" for i in range(511)], (1, 2)


@pytest.mark.parametrize("case", range(6))
def test_word_index_corners(classify_bin, case):
    name, terms, ngram_range = list(_vocabularies())[case]
    model = _vocabulary_model(terms, ngram_range)
    texts = [" ".join(terms[i:i + 7]) for i in range(0, len(terms), 97)] + EXTRA_TEXTS
    with tempfile.TemporaryDirectory(prefix="exporter-bin.") as tmp:
        compared = Compared(classify_bin, model, tmp, texts)
        compared.check(WORD_TAGS + ["COEF"])
        assert compared.word_index() == "stored (layout 1)", name
    if name == "long tokens":
        assert compared.our_sections["WLTX"].count(b" ") == 50


# ----------------------------------------------------------------------------------------------
# The checksum


def _libxxhash():
    """libxxhash's XXH3_64bits, where the library is installed (Debian: libxxhash0)."""
    for name in (ctypes.util.find_library("xxhash"), "libxxhash.so.0"):
        if not name:
            continue
        try:
            function = ctypes.CDLL(name).XXH3_64bits
        except (OSError, AttributeError):
            continue
        function.restype = ctypes.c_uint64
        function.argtypes = [ctypes.c_char_p, ctypes.c_size_t]
        return lambda data: function(bytes(data), len(data))
    return None


# Around the long input's boundaries: 240/241, a stripe (64), a block (1024), a block and a
# stripe, several blocks and more than one numpy pass (8 MiB).
LENGTHS = [241, 242, 255, 256, 257, 319, 320, 1023, 1024, 1025, 1087, 1088, 1089, 2048, 2049,
           3 * 1024 + 63, 16 * 1024 + 1, 100_003]


def test_xxh3_against_libxxhash():
    reference = _libxxhash()
    rng = np.random.default_rng(11)
    for length in LENGTHS + [8 * 1024 * 1024 + 1024 + 65]:
        data = rng.integers(0, 256, length, dtype=np.uint8).tobytes()
        ours = binary.xxh3_64(data)
        assert ours == binary.xxh3_64(memoryview(bytearray(data))), length
        if reference is not None:
            assert ours == reference(data), length
    with pytest.raises(ValueError):
        binary.xxh3_64(b"x" * 240)


def test_the_xxhash_package_is_used_when_installed(monkeypatch):
    import types

    calls = []
    fake = types.ModuleType("xxhash")
    fake.xxh3_64_intdigest = lambda data: calls.append(bytes(data)) or 12345
    monkeypatch.setitem(sys.modules, "xxhash", fake)
    assert binary.checksum(b"y" * 300) == 12345 and calls == [b"y" * 300]
    monkeypatch.setitem(sys.modules, "xxhash", types.ModuleType("xxhash"))  # one without XXH3
    assert binary.checksum(b"y" * 300) == binary.xxh3_64(b"y" * 300)


def test_xxh3_against_classify(classify_bin):
    """Files whose hashed part has each length: classify accepts the checksum the numpy
    XXH3-64 wrote and refuses it changed by one bit."""
    x, y, _ = data(n=8)
    pipe = make_pipeline(TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 3), max_features=4), LinearSVC())
    model = classify_export.to_model(pipe.fit(x, y))
    model["metadata"] = {}
    tagged = binary.sections(model)
    # META goes last: the hashed part is the table, the other sections each padded to 8 bytes,
    # and META.
    smallest = 24 * len(tagged) + sum(binary._align8(len(c)) for _, c in tagged[1:]) + len(tagged[0][1])
    with tempfile.TemporaryDirectory(prefix="exporter-bin.") as tmp:
        path = os.path.join(tmp, "m.model")
        texts = os.path.join(tmp, "texts.txt")
        with open(texts, "w") as f:
            f.write("game\n")
        tested = 0
        for length in LENGTHS:
            extra = length - smallest
            if extra < 0:
                continue
            # META last, padded with JSON whitespace to the length wanted.
            meta = tagged[0][1] + b" " * extra
            data_ = binary.layout(tagged[1:] + [(b"META", meta)])
            assert len(data_) - 32 == length
            with open(path, "wb") as f:
                f.write(data_)
            run(classify_bin, "predict", "--model", path, texts)
            corrupted = bytearray(data_)
            corrupted[16 + length % 8] ^= 1 << (length % 7)
            with open(path, "wb") as f:
                f.write(corrupted)
            result = subprocess.run([classify_bin, "predict", "--model", path, texts], capture_output=True, text=True)
            assert result.returncode != 0 and "checksum mismatch" in result.stderr, result.stderr
            tested += 1
        assert tested >= len(LENGTHS) - 8, (smallest, tested)


def test_even_the_smallest_model_hashes_over_240_bytes(classify_bin):
    """The numpy XXH3-64 is the long-input one (over 240 bytes): the table and sections of about
    the smallest model there is (a one-feature hashing vectorizer, no metadata) are longer, and
    it loads. (to_binary would pad META with JSON whitespace if one ever were not.)"""
    model = {"format": "mod_classify-model", "format_version": 1,
             "vectorizer": {"kind": "hashing", "analyzer": "char", "ngram_range": [1, 1],
                            "lowercase": False, "n_features": 1},
             "classifier": {"kind": "linear", "estimator": "Y", "classes": [0, 1], "coef": [[2.0]],
                            "intercept": [-1.0]}}
    tagged = binary.sections(model)
    hashed = 24 * len(tagged) + sum(binary._align8(len(c)) for _, c in tagged[:-1]) + len(tagged[-1][1])
    data_ = binary.to_binary(model)
    assert len(data_) - 32 == hashed > 240
    with tempfile.TemporaryDirectory(prefix="exporter-bin.") as tmp:
        path = os.path.join(tmp, "m.model")
        with open(path, "wb") as f:
            f.write(data_)
        texts = os.path.join(tmp, "texts.txt")
        with open(texts, "w") as f:
            f.write("a\n\n")
        assert run(classify_bin, "predict", "--model", path, texts) == "1\n0\n"


# ----------------------------------------------------------------------------------------------
# The command line


def test_command_line_form_follows_the_name(classify_bin):
    import pickle

    x, y, held = data(n=30)
    pipe = make_pipeline(TfidfVectorizer(ngram_range=(1, 2)), LinearSVC()).fit(x, y)
    with tempfile.TemporaryDirectory(prefix="exporter-bin.") as tmp:
        pickled = os.path.join(tmp, "p.pickle")
        with open(pickled, "wb") as f:
            pickle.dump(pipe, f)
        texts = os.path.join(tmp, "texts.txt")
        with open(texts, "w", encoding="utf-8") as f:
            f.write("".join(t.replace("\n", " ").replace("\r", " ") + "\n" for t in held))
        expected = {"mine.model": b"MCLSMODL", "mine.model.json": b"{", "MINE.JSON": b"{"}
        forced = {("mine.json", "binary"): b"MCLSMODL", ("mine.model", "json"): b"{"}
        cases = [(name, None, start) for name, start in expected.items()]
        cases += [(name, form, start) for (name, form), start in forced.items()]
        answers = set()
        for name, form, start in cases:
            out = os.path.join(tmp, name)
            args = [sys.executable, SCRIPT, "--pipeline", pickled, "-o", out, "--verify", texts,
                    "--classify", classify_bin] + (["--format", form] if form else [])
            result = subprocess.run(args, capture_output=True, text=True)
            assert result.returncode == 0, result.stdout + result.stderr
            assert "identical" in result.stdout, result.stdout
            form_said = "binary" if start == b"MCLSMODL" else "json"
            assert f"{form_said} form" in result.stderr, result.stderr
            with open(out, "rb") as f:
                assert f.read(len(start)) == start, (name, form)
            answers.add(run(classify_bin, "predict", "--scores", "--model", out, texts))
            os.unlink(out)
        assert len(answers) == 1
        result = subprocess.run([sys.executable, SCRIPT, "--pipeline", pickled, "-o", os.path.join(tmp, "x"),
                                 "--format", "yaml"], capture_output=True, text=True)
        assert result.returncode == 2 and "--format" in result.stderr


def test_the_python_api_writes_either_form(classify_bin):
    x, y, held = data(n=30)
    pipe = make_pipeline(CountVectorizer(ngram_range=(1, 2)), LinearSVC()).fit(x, y)
    with tempfile.TemporaryDirectory(prefix="exporter-bin.") as tmp:
        for name, form, start in (("a.model", None, b"MCLSMODL"), ("a.json", None, b"{"),
                                  ("b.json", "binary", b"MCLSMODL")):
            out = os.path.join(tmp, name)
            classify_export.export(pipe, out, verify_texts=held[:5], classify_bin=classify_bin, form=form)
            with open(out, "rb") as f:
                assert f.read(len(start)) == start
        assert not [n for n in os.listdir(tmp) if ".tmp" in n]
