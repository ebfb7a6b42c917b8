"""The binary model form (docs/model-format.md, "Binary form"): what `classify convert` writes,
written here straight from the exporter's model dict, so that an exported model loads as fast as
a converted one.

Every section but META is byte for byte what `classify convert` writes for the same model
(crates/classify-core/src/model/binary.rs): the vocabulary (VTXT, VEND), the word analyzer's
index of it (WIXP ... WPAR, built here exactly as crates/classify-core/src/featurize/word_index.rs
builds it), idf (IDF_), a linear model's or stacked multi-label members' weights (COEF) and a
kernel SVM's arrays (SVPT, SVIX, SVVL, DUAL). META is the model dict without those arrays, as
JSON: the same settings as convert's META, in Python's number formatting (which also reads back
bit-exactly).

The header's checksum is XXH3-64 (seed 0) of everything after the header: the `xxhash` package
computes it when installed, else `xxh3_64` below (numpy).
"""

import json

import numpy

MAGIC = b"MCLSMODL"
LAYOUT_VERSION = 1
HEADER_LEN = 32
ENTRY_LEN = 24

# word_index.rs: STORED_LAYOUT, NONE, INSERT_BATCH, FIRST_GRAM; token_table.rs: INLINE_BYTES.
STORED_LAYOUT = 1
NONE = 0xFFFF_FFFF
INSERT_BATCH = 64
FIRST_GRAM = 1 << 31
INLINE_BYTES = 16

# classifier kinds whose arrays leave META (binary.rs `write_to`), and linear.rs NAIVE_BAYES.
NAIVE_BAYES = ("MultinomialNB", "ComplementNB", "BernoulliNB")

_M64 = (1 << 64) - 1
_LOW32 = 0xFFFF_FFFF


# ----------------------------------------------------------------------------------------------
# Sections


def sections(model):
    """The binary form's sections of a model dict, in `classify convert`'s order: a list of
    (tag, bytes)."""
    meta = _copy_for_meta(model)
    out = [(b"META", None)]
    vectorizer, tfidf = _primary(meta)
    terms = vectorizer.pop("vocabulary", None)
    idf = tfidf.pop("idf", None) if tfidf is not None else None
    if vectorizer["kind"] == "count" and terms is not None:
        encoded = [_utf8(term) for term in terms]
        ends = numpy.cumsum([len(term) for term in encoded], dtype=numpy.int64)
        if len(ends) and ends[-1] > NONE:
            raise ValueError("the vocabulary's terms total 4 GiB or more")
        out.append((b"VTXT", b"".join(encoded)))
        out.append((b"VEND", _le(ends, "<u4")))
        if vectorizer["analyzer"] == "word":
            min_n, max_n = vectorizer["ngram_range"]
            out.extend(word_index_sections(encoded, min_n, max_n))
    if tfidf is not None and tfidf.get("use_idf") and idf is not None:
        out.append((b"IDF_", _le(idf, "<f8")))
    classifier = meta["classifier"]
    kind = classifier["kind"]
    if kind == "linear":
        out.append((b"COEF", _feature_major(classifier["coef"])))
        classifier["coef"] = []
    elif kind == "multi_label" and _stacks(classifier["estimators"]):
        rows = [member["coef"][0] for member in classifier["estimators"]]
        out.append((b"COEF", _feature_major(rows)))
        for member in classifier["estimators"]:
            member["coef"] = []
    elif kind in ("svc", "svr"):
        support = classifier["support_vectors"]
        dual = classifier["dual_coef"]
        out.append((b"SVPT", _le(support["indptr"], "<u8")))
        out.append((b"SVIX", _le(support["indices"], "<u4")))
        out.append((b"SVVL", _le(support["data"], "<f8")))
        out.append((b"DUAL", _le(numpy.asarray(dual, dtype=numpy.float64).ravel(), "<f8")))
        classifier["support_vectors"] = {"indptr": [], "indices": [], "data": []}
        classifier["dual_coef"] = []
    text = json.dumps(meta, allow_nan=False, ensure_ascii=False, separators=(",", ":"))
    out[0] = (b"META", _utf8(text))
    return out


def _copy_for_meta(model):
    """A copy of `model` deep enough to take the arrays out of: the dicts on the way to them
    are copied, the rest is shared."""
    meta = dict(model)
    if meta.get("vectorizer") is not None:
        meta["vectorizer"] = dict(meta["vectorizer"])
        if meta.get("tfidf") is not None:
            meta["tfidf"] = dict(meta["tfidf"])
    elif meta.get("union") is not None:
        union = meta["union"] = dict(meta["union"])
        branches = union["branches"] = list(union["branches"])
        first = branches[0] = dict(branches[0])
        first["vectorizer"] = dict(first["vectorizer"])
        if first.get("tfidf") is not None:
            first["tfidf"] = dict(first["tfidf"])
    classifier = meta["classifier"] = dict(meta["classifier"])
    if "estimators" in classifier:
        classifier["estimators"] = [dict(member) for member in classifier["estimators"]]
    return meta


def _primary(model):
    """The vectorizer whose arrays get sections, and its tf-idf: the model's vectorizer, else a
    union's first branch's (as ModelFile::primary_mut)."""
    if model.get("vectorizer") is not None:
        return model["vectorizer"], model.get("tfidf")
    branch = model["union"]["branches"][0]
    return branch["vectorizer"], branch.get("tfidf")


def _stacks(members):
    """Whether classify stacks a multi-label model's members into one weight matrix
    (multi_label.rs `MultiLabel::new`): all single-row linear models with a decision function
    that give probabilities the same way."""
    if not members:
        return False
    for member in members:
        if member["kind"] != "linear" or len(member["coef"]) != 1:
            return False
        if member["estimator"] in NAIVE_BAYES:
            return False
    return all(m.get("probability") == members[0].get("probability") for m in members)


def _feature_major(rows):
    """Weights as `COEF` stores them: the weight of feature f in row r at f * rows + r."""
    matrix = numpy.asarray(rows, dtype=numpy.float64)
    return _le(matrix.T.ravel(), "<f8")


def _le(values, dtype):
    return numpy.ascontiguousarray(numpy.asarray(values).astype(dtype, copy=False)).tobytes()


def _utf8(text):
    return text.encode("utf-8")


# ----------------------------------------------------------------------------------------------
# The word index (word_index.rs `WordIndex::new`, token_table.rs `TokenTableBuilder`)


class _TokenTable:
    """token_table.rs `TokenTableBuilder`: ids in order of first appearance; tokens of up to 16
    bytes in an open-addressing table of 4-word slots (power-of-two size, at most half full),
    longer ones apart."""

    def __init__(self):
        self.size = 1024
        self.slots = [-1] * self.size  # token id per slot, -1 for empty
        self.inline_len = 0
        self.ids = {}  # every token -> id
        self.hashes = []  # per token id: its inline hash before masking, None for a long token
        self.words = []  # per token id: (first word, second word, length) or None
        self.long = []  # the long tokens, in order of first appearance, with their ids

    def id(self, token):
        if len(token) > INLINE_BYTES:
            known = self.ids.get(token)
            if known is not None:
                return known
            new = len(self.hashes)
            self.ids[token] = new
            self.hashes.append(None)
            self.words.append(None)
            self.long.append((token, new))
            return new
        # The builder makes room before looking, whether the token is new or not.
        if (self.inline_len + 1) * 2 > self.size:
            self._grow()
        known = self.ids.get(token)
        if known is not None:
            return known
        new = len(self.hashes)
        padded = token.ljust(INLINE_BYTES, b"\0")
        first = int.from_bytes(padded[:8], "little")
        second = int.from_bytes(padded[8:], "little")
        length = len(token)
        rotated = ((second << 29) | (second >> 35)) & _M64
        mixed = ((first ^ rotated ^ ((length * 0x9E37_79B9_7F4A_7C15) & _M64))
                 * 0xBF58_476D_1CE4_E5B9) & _M64
        hashed = mixed ^ (mixed >> 31)
        self.ids[token] = new
        self.hashes.append(hashed)
        self.words.append((first, second, length))
        self._place(self.slots, new)
        self.inline_len += 1
        return new

    def _place(self, slots, token_id):
        mask = len(slots) - 1
        slot = self.hashes[token_id] & mask
        while slots[slot] != -1:
            slot = (slot + 1) & mask
        slots[slot] = token_id

    def _grow(self):
        self.size *= 2
        slots = [-1] * self.size
        for token_id in self.slots:
            if token_id != -1:
                self._place(slots, token_id)
        self.slots = slots

    def __len__(self):
        return len(self.hashes)

    def slot_words(self):
        """WTOK: per slot [first word, second word, length << 32 | (id + 1), 0]."""
        table = numpy.zeros((self.size, 4), dtype=numpy.uint64)
        ids = numpy.asarray(self.slots, dtype=numpy.int64)
        used = numpy.flatnonzero(ids >= 0)
        if len(used):
            words = numpy.zeros((len(self.words), 3), dtype=numpy.uint64)
            inline = [i for i, w in enumerate(self.words) if w is not None]
            words[inline] = numpy.asarray([self.words[i] for i in inline], dtype=numpy.uint64)
            held = ids[used]
            table[used, 0] = words[held, 0]
            table[used, 1] = words[held, 1]
            table[used, 2] = (words[held, 2] << numpy.uint64(32)) | (held + 1).astype(numpy.uint64)
        return table


def _free_slot(keys, key):
    """The first empty slot of `keys` from `key`'s home slot on (linear probing, wrapping)."""
    size = len(keys)
    slot = _home_slot(key, size)
    while keys[slot] != 0:
        slot += 1
        if slot == size:
            slot = 0
    return slot


def _home_slot(key, size):
    mixed = ((key ^ (key >> 31)) * 0x9E37_79B9_7F4A_7C15) & _M64
    return ((mixed ^ (mixed >> 32)) * size) >> 64


class _PairTable:
    """word_index.rs `PairTable`: linear probing on [key, value] entries, grown by half when an
    insertion would pass 80 % load."""

    def __init__(self, count):
        self.size = max(count * 2, 16)
        self.keys = [0] * self.size
        self.values = [0] * self.size
        self.len = 0
        self.where = {}  # key -> slot, to find a key without probing

    def entry(self, key):
        """The slot of `key`, inserted with value u64::MAX if absent (`entry_by_key`)."""
        if (self.len + 1) * 5 > self.size * 4:
            self._grow()
        slot = self.where.get(key)
        if slot is not None:
            return slot
        slot = _free_slot(self.keys, key)
        self.keys[slot] = key
        self.values[slot] = _M64
        self.where[key] = slot
        self.len += 1
        return slot

    def _grow(self):
        old_keys, old_values = self.keys, self.values
        self.size = self.size * 3 // 2
        self.keys = keys = [0] * self.size
        self.values = values = [0] * self.size
        where = self.where
        for key, value in zip(old_keys, old_values):
            if key == 0:
                continue
            slot = _free_slot(keys, key)
            keys[slot] = key
            values[slot] = value
            where[key] = slot

    def entries(self):
        table = numpy.empty((self.size, 2), dtype=numpy.uint64)
        table[:, 0] = numpy.asarray(self.keys, dtype=numpy.uint64)
        table[:, 1] = numpy.asarray(self.values, dtype=numpy.uint64)
        return table


def _pair_key(gram, token):
    return ((gram + 1) << 32) | (token + 1)


def word_index_sections(terms, min_n, max_n):
    """The WIXP, WTOK, WLTX, WLID, WUNI and WPAR sections of a word analyzer's vocabulary
    (`terms`: UTF-8 bytes in feature-index order), as `classify convert` writes them."""
    tokens = _TokenTable()
    unreachable = {}
    reachable = []  # (feature, token ids) of the terms a document can produce
    unigram_count = 0
    # Of the previous term: its first tokens, with their ids (the Rust takes them from there
    # instead of asking the table, which decides when the table grows).
    previous = []
    for feature, term in enumerate(terms):
        ids = []
        same_beginning = True
        produced = True
        for position, part in enumerate(term.split(b" ")):
            if not part or position == max_n:
                produced = False
                previous = []
                break
            same_beginning = (same_beginning and position < len(previous)
                              and previous[position][0] == part)
            if same_beginning:
                ids.append(previous[position][1])
            else:
                del previous[position:]
                token_id = tokens.id(part)
                previous.append((part, token_id))
                ids.append(token_id)
        if not produced or len(ids) < min_n:
            if term in unreachable:
                raise _duplicate(terms, unreachable[term], feature)
            unreachable[term] = feature
            continue
        reachable.append((feature, ids))
        unigram_count += len(ids) == 1
    if len(tokens) >= FIRST_GRAM:
        raise ValueError("the vocabulary has over 2 billion tokens")

    unigram_features = [NONE] * len(tokens)
    pairs = _PairTable(len(reachable) - unigram_count)
    values = None
    next_gram = FIRST_GRAM
    previous_prefix, previous_gram = None, NONE
    for start in range(0, len(reachable), INSERT_BATCH):
        batch = []
        for feature, ids in reachable[start:start + INSERT_BATCH]:
            if len(ids) == 1:
                if unigram_features[ids[0]] != NONE:
                    raise _duplicate(terms, unigram_features[ids[0]], feature)
                unigram_features[ids[0]] = feature
                continue
            prefix = ids[:-1]
            if prefix == previous_prefix:
                gram = previous_gram
            else:
                gram = prefix[0]
                for token in prefix[1:]:
                    slot = pairs.entry(_pair_key(gram, token))
                    values = pairs.values
                    if values[slot] >> 32 == NONE:
                        values[slot] = (values[slot] & _LOW32) | (next_gram << 32)
                        next_gram += 1
                    gram = values[slot] >> 32
                previous_prefix, previous_gram = prefix, gram
            batch.append((_pair_key(gram, ids[-1]), feature))
        for key, feature in batch:
            slot = pairs.entry(key)
            values = pairs.values
            if values[slot] & _LOW32 != NONE:
                raise _duplicate(terms, values[slot] & _LOW32, feature)
            values[slot] = (values[slot] & ~_LOW32 & _M64) | feature
    if next_gram == NONE:
        raise ValueError("the vocabulary has over 2 billion n-grams")

    params = numpy.asarray([STORED_LAYOUT, min_n, max_n, len(tokens)], dtype="<u8")
    return [
        (b"WIXP", params.tobytes()),
        (b"WTOK", _le(tokens.slot_words(), "<u8")),
        (b"WLTX", b" ".join(token for token, _ in tokens.long)),
        (b"WLID", _le(numpy.asarray([i for _, i in tokens.long], dtype=numpy.int64), "<u4")),
        (b"WUNI", _le(numpy.asarray(unigram_features, dtype=numpy.int64), "<u4")),
        (b"WPAR", _le(pairs.entries(), "<u8")),
    ]


def _duplicate(terms, earlier, feature):
    term = terms[feature].decode("utf-8", "replace")
    return ValueError(f"vocabulary term {term!r} appears twice (indices {earlier} and {feature})")


# ----------------------------------------------------------------------------------------------
# The file


def layout(tagged):
    """The whole file (a bytearray) of these (tag, bytes) sections, as binary.rs
    `write_sections` lays it out: header, section table, each section at an 8-byte aligned
    offset after zero padding."""
    count = len(tagged)
    table_end = HEADER_LEN + ENTRY_LEN * count
    offsets = []
    offset = _align8(table_end)
    for _, content in tagged:
        offsets.append(offset)
        offset = _align8(offset + len(content))
    total = offsets[-1] + len(tagged[-1][1]) if tagged else table_end
    out = bytearray(total)
    out[0:8] = MAGIC
    out[8:12] = LAYOUT_VERSION.to_bytes(4, "little")
    out[12:16] = count.to_bytes(4, "little")
    out[24:32] = total.to_bytes(8, "little")
    for index, ((tag, content), at) in enumerate(zip(tagged, offsets)):
        entry = HEADER_LEN + ENTRY_LEN * index
        out[entry:entry + 4] = tag
        out[entry + 8:entry + 16] = at.to_bytes(8, "little")
        out[entry + 16:entry + 24] = len(content).to_bytes(8, "little")
        out[at:at + len(content)] = content
    out[16:24] = checksum(memoryview(out)[HEADER_LEN:]).to_bytes(8, "little")
    return out


def _align8(offset):
    return (offset + 7) // 8 * 8


def to_binary(model):
    """The binary form of a model dict: the file's bytes (a bytearray)."""
    tagged = sections(model)
    # XXH3's numpy path below is its long-input one (over 240 bytes). The section table and
    # META are always longer than that; if a model ever were not, META grows by JSON
    # whitespace, which changes nothing it says.
    short = 241 - (ENTRY_LEN * len(tagged) + sum(_align8(len(c)) for _, c in tagged))
    if short > 0:
        tagged[0] = (b"META", tagged[0][1] + b" " * short)
    return layout(tagged)


# ----------------------------------------------------------------------------------------------
# XXH3-64, seed 0


def checksum(data):
    """XXH3-64 (seed 0) of `data`: the `xxhash` package's when it is installed, else numpy's."""
    try:
        from xxhash import xxh3_64_intdigest
    except ImportError:  # no xxhash, or one older than XXH3 (python-xxhash 2.0)
        return xxh3_64(data)
    return xxh3_64_intdigest(bytes(data))


_SECRET = bytes.fromhex(
    "b8fe6c3923a44bbe7c01812cf721ad1cded46de9839097db7240a4a4b7b3671f"
    "cb79e64eccc0e578825ad07dccff7221b8084674f743248ee03590e6813a264c"
    "3c2852bb91c300cb88d0658b1b532ea371644897a20df94e3819ef46a9deacd8"
    "a8fa763fe39c343ff9dcbbc7c70b4f1d8a51e04bcdb45931c89f7ec9d9787364"
    "eac5ac8334d3ebc3c581a0fffa1363eb170ddd51b7f0da49d316552629d4689e"
    "2b16be587d47a1fc8ff8b8d17ad031ce45cb3a8f95160428afd7fbcabb4b407e"
)
_STRIPE = 64
_STRIPES_PER_BLOCK = (len(_SECRET) - _STRIPE) // 8  # 16
_BLOCK = _STRIPE * _STRIPES_PER_BLOCK  # 1024
_PRIME32_1 = 0x9E3779B1
_PRIME64_1 = 0x9E3779B185EBCA87
_INITIAL_ACC = (0xC2B2AE3D, 0x9E3779B185EBCA87, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9,
                0x85EBCA77C2B2AE63, 0x85EBCA77, 0x27D4EB2F165667C5, 0x9E3779B1)
# Blocks hashed per numpy pass (8 MiB of input).
_CHUNK_BLOCKS = 8192


def _secret_words(offset, count):
    return numpy.frombuffer(_SECRET, dtype="<u8", count=count, offset=offset).astype(numpy.uint64)


def _stripe_sums(stripes, keys):
    """What accumulating `stripes` (n × stripes × 8 lanes) with their secret `keys` (stripes × 8)
    adds to each lane, per n: each lane's products of its key's halves, plus the data of its
    neighbour lane (i ^ 1). Additions commute, so a block's stripes are summed at once."""
    data_key = stripes ^ keys
    products = (data_key & numpy.uint64(_LOW32)) * (data_key >> numpy.uint64(32))
    sums = products.sum(axis=-2, dtype=numpy.uint64)
    sums += stripes.sum(axis=-2, dtype=numpy.uint64)[..., [1, 0, 3, 2, 5, 4, 7, 6]]
    return sums


def xxh3_64(data):
    """XXH3-64 with seed 0 of `data` (bytes-like, over 240 bytes: the long-input algorithm), in
    numpy: the per-block accumulation vectorized, the per-block scrambles in sequence."""
    buffer = numpy.frombuffer(data, dtype=numpy.uint8)
    length = len(buffer)
    if length <= 240:
        raise ValueError("xxh3_64 here hashes inputs over 240 bytes only")
    # Stripe s of a block is keyed by the secret's words s .. s + 7.
    secret = _secret_words(0, 24)
    keys = numpy.stack([secret[s:s + 8] for s in range(_STRIPES_PER_BLOCK)])
    scramble = _secret_words(len(_SECRET) - _STRIPE, 8)
    prime = numpy.uint64(_PRIME32_1)
    shift = numpy.uint64(47)
    acc = numpy.array(_INITIAL_ACC, dtype=numpy.uint64)
    n_blocks = (length - 1) // _BLOCK
    with numpy.errstate(over="ignore"):
        for first in range(0, n_blocks, _CHUNK_BLOCKS):
            count = min(_CHUNK_BLOCKS, n_blocks - first)
            words = numpy.frombuffer(data, dtype="<u8", count=count * _BLOCK // 8,
                                     offset=first * _BLOCK).astype(numpy.uint64)
            sums = _stripe_sums(words.reshape(count, _STRIPES_PER_BLOCK, 8), keys)
            for block_sum in sums:
                acc += block_sum
                acc ^= acc >> shift
                acc ^= scramble
                acc *= prime
        start = n_blocks * _BLOCK
        n_stripes = (length - 1 - start) // _STRIPE
        if n_stripes:
            words = numpy.frombuffer(data, dtype="<u8", count=n_stripes * 8,
                                     offset=start).astype(numpy.uint64)
            acc += _stripe_sums(words.reshape(n_stripes, 8), keys[:n_stripes])
        last = numpy.frombuffer(data, dtype="<u8", count=8, offset=length - _STRIPE)
        lastacc = numpy.frombuffer(_SECRET[len(_SECRET) - _STRIPE - 7:][:_STRIPE], dtype="<u8")
        acc += _stripe_sums(last.astype(numpy.uint64).reshape(1, 8),
                            lastacc.astype(numpy.uint64).reshape(1, 8))
    lanes = [int(value) for value in acc]
    result = (length * _PRIME64_1) & _M64
    for pair in range(4):
        at = 11 + 16 * pair
        low = lanes[2 * pair] ^ int.from_bytes(_SECRET[at:at + 8], "little")
        high = lanes[2 * pair + 1] ^ int.from_bytes(_SECRET[at + 8:at + 16], "little")
        product = low * high
        result = (result + ((product & _M64) ^ (product >> 64))) & _M64
    result ^= result >> 37
    result = (result * 0x165667919E3779F9) & _M64
    return result ^ (result >> 32)


def write_binary(model, path):
    """Writes the binary form atomically (a temporary file renamed over `path`)."""
    from .model import write_atomically

    write_atomically(path, to_binary(model))
