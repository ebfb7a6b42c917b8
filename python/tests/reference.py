"""A pure-Python reference evaluator of mod_classify model files (format 1 and 2).

It computes, from an exported model dict alone, what docs/model-format.md and
docs/model-format-v2.md say a reader answers: the label, the scores and the probabilities. Its
only input besides the model is the output of each vectorizer (the count, or hashing, rows before
any tf-idf weighting), which the tests take from sklearn's own vectorizers: the analyzers are the
Rust core's business and have their own golden tests; everything after them is evaluated here,
with plain floats and the math module, and compared with sklearn at 1e-9. That proves the
schema's semantics before the Rust reader of format 2 exists, and gives it a second opinion
afterwards.

A row is a `Row`: sparse (a list of (column, value), columns increasing) until a `project` step
makes it dense (a list of values).
"""

import bisect
import math
import struct


class Row:
    def __init__(self, entries=None, dense=None):
        self.entries = entries  # sparse: [(column, value)] in column order
        self.dense = dense  # dense: [value] * width

    @property
    def is_dense(self):
        return self.dense is not None

    def items(self):
        if self.is_dense:
            return [(j, v) for j, v in enumerate(self.dense) if v != 0.0]
        return self.entries


def evaluate(model, vectorizer_rows):
    """[{"label", "scores", "probabilities"}] for each text; for a regressor (`linear_regression`,
    `tree_regression`, `svr`) [{"value", "scores": [value], "probabilities": None}]; for a multi-label
    model (`multi_label`) [{"labels": [str of each set label], "scores", "probabilities"}].

    `vectorizer_rows`: one list per vectorizer (the top-level one, or each union branch in order),
    each holding one sparse row [(column, value)] per text."""
    n_texts = len(vectorizer_rows[0])
    answers = []
    for t in range(n_texts):
        if "union" in model:
            row = _union([rows[t] for rows in vectorizer_rows], model["union"]["branches"])
        else:
            row = Row(list(vectorizer_rows[0][t]))
            if model.get("tfidf") is not None:
                row = tfidf(row, model["tfidf"])
        for step in model.get("steps", []):
            row = apply_step(row, step)
        if model["classifier"]["kind"] == "multi_label":
            label_set, scores, probabilities = multi_label(model["classifier"], row)
            classes = model["classifier"]["classes"]
            answers.append(
                {
                    "labels": [str(classes[k]) for k in label_set],
                    "scores": scores,
                    "probabilities": probabilities,
                }
            )
            continue
        index, scores, probabilities = classify(model["classifier"], row)
        if model["classifier"]["kind"] in ("linear_regression", "tree_regression", "svr"):
            answers.append({"value": scores[0], "scores": scores, "probabilities": None})
            continue
        answers.append(
            {
                "label": str(model["classifier"]["classes"][index]),
                "scores": scores,
                "probabilities": probabilities,
            }
        )
    return answers


# ----------------------------------------------------------------------------------------------
# Features


def _union(branch_rows, branches):
    entries, offset = [], 0
    for raw, branch in zip(branch_rows, branches):
        row = Row(list(raw))
        width = _vectorizer_width(branch["vectorizer"])
        if branch.get("tfidf") is not None:
            row = tfidf(row, branch["tfidf"])
        for step in branch.get("steps", []):
            row, width = apply_step(row, step), _width_after(step, width)
        weight = branch["weight"]
        entries += [(offset + j, v * weight) for j, v in row.items()]
        offset += width
    return Row(entries)


def _vectorizer_width(vectorizer):
    if vectorizer.get("vocabulary") is not None:
        return len(vectorizer["vocabulary"])
    return vectorizer["n_features"]


def _width_after(step, width):
    if step["kind"] == "select":
        return len(step["support"])
    if step["kind"] == "project":
        return len(step["components"])
    return width


def _normalize(pairs, norm):
    """sklearn's row normalization of the (column, value) pairs."""
    if norm is None:
        return pairs
    if norm == "l1":
        total = sum(abs(v) for _, v in pairs)
    elif norm == "l2":
        total = math.sqrt(sum(v * v for _, v in pairs))
    else:  # max
        total = max((abs(v) for _, v in pairs), default=0.0)
    if total == 0:
        return pairs
    return [(j, v / total) for j, v in pairs]


def tfidf(row, spec):
    pairs = row.items()  # a dense row becomes sparse again, as sklearn's TfidfTransformer does
    if spec["sublinear_tf"]:
        pairs = [(j, math.log(v) + 1.0) for j, v in pairs]
    if spec["use_idf"]:
        pairs = [(j, v * spec["idf"][j]) for j, v in pairs]
    return Row(_normalize(pairs, spec["norm"]))


def apply_step(row, step):
    kind = step["kind"]
    if kind == "select":
        if row.is_dense:
            return Row(dense=[row.dense[j] for j in step["support"]])
        position = {j: k for k, j in enumerate(step["support"])}
        return Row([(position[j], v) for j, v in row.entries if j in position])
    if kind == "scale":
        scale = step["scale"]
        if row.is_dense:
            return Row(dense=[v / scale[j] for j, v in enumerate(row.dense)])
        # sklearn scales sparse rows by the reciprocal (inplace_column_scale).
        return Row([(j, v * (1.0 / scale[j])) for j, v in row.entries])
    if kind == "center":
        assert row.is_dense, "center needs a dense row"
        return Row(dense=[v - m for v, m in zip(row.dense, step["mean"])])
    if kind == "normalize":
        if row.is_dense:
            pairs = _normalize(list(enumerate(row.dense)), step["norm"])
            return Row(dense=[v for _, v in pairs])
        return Row(_normalize(row.entries, step["norm"]))
    if kind == "tfidf":
        return tfidf(row, step)
    if kind == "binarize":
        t = step["threshold"]
        if row.is_dense:
            return Row(dense=[1.0 if v > t else 0.0 for v in row.dense])
        return Row([(j, 1.0) for j, v in row.entries if v > t])
    if kind == "project":
        out = []
        for component in step["components"]:
            total = 0.0
            for j, v in row.items():
                total += v * component[j]
            out.append(total)
        return Row(dense=out)
    raise ValueError(f"unknown step kind {kind!r}")


# ----------------------------------------------------------------------------------------------
# Classifiers: (class index, scores, probabilities or None)


def classify(spec, row):
    return _KINDS[spec["kind"]](spec, row)


def _argmax(values, ties="lowest"):
    best = 0
    for k, v in enumerate(values):
        if v > values[best] or (ties == "highest" and v == values[best]):
            best = k
    return best


def _expit(x):
    return 1.0 / (1.0 + math.exp(-x)) if x >= -700 else 0.0


def _softmax(scores):
    top = max(scores)
    exps = [math.exp(s - top) for s in scores]
    total = sum(exps)
    return [e / total for e in exps]


def _ovr_normalize(p):
    total = sum(p)
    if total == 0:
        return [1.0 / len(p)] * len(p)
    return [v / total for v in p]


def linear(spec, row):
    scores = []
    for coef, intercept in zip(spec["coef"], spec["intercept"]):
        total = 0.0
        for j, v in row.items():
            total += v * coef[j]
        scores.append(total + intercept)
    if len(scores) == 1:
        index = 1 if scores[0] > 0 else 0
    else:
        index = _argmax(scores)
    kind = spec.get("probability")
    probabilities = None
    if kind == "ovr_sigmoid":
        p = [_expit(s) for s in scores]
        probabilities = [1 - p[0], p[0]] if len(p) == 1 else _ovr_normalize(p)
    elif kind == "softmax":
        probabilities = _softmax([-scores[0], scores[0]] if len(scores) == 1 else scores)
    elif kind == "modified_huber":
        p = [(min(max(s, -1.0), 1.0) + 1.0) / 2.0 for s in scores]
        probabilities = [1 - p[0], p[0]] if len(p) == 1 else _ovr_normalize(p)
    return index, scores, probabilities


def linear_regression(spec, row):
    """A regressor's number: the products summed in column order from 0.0, then the intercept.
    No class: the index is None."""
    total = 0.0
    for j, v in row.items():
        total += v * spec["coef"][j]
    return None, [total + spec["intercept"]], None


def _kernel(spec, x, sv):
    """K(x, v) for sparse x and support vector v ({column: value})."""
    dot = sum(value * sv.get(j, 0.0) for j, value in x)
    kernel = spec["kernel"]
    if kernel == "linear":
        return dot
    if kernel == "poly":
        return (spec["gamma"] * dot + spec["coef0"]) ** spec["degree"]
    if kernel == "sigmoid":
        return math.tanh(spec["gamma"] * dot + spec["coef0"])
    xx = sum(v * v for _, v in x)
    vv = sum(v * v for v in sv.values())
    return math.exp(-spec["gamma"] * (xx + vv - 2 * dot))


def svr(spec, row):
    """A kernel regressor's number: dual_coef[k] · K(x, sv k) summed in support-vector order from
    0.0, then the intercept (libsvm's sum − rho, with rho = −intercept). No class."""
    x = row.items()
    csr = spec["support_vectors"]
    total = 0.0
    for coef, a, b in zip(spec["dual_coef"], csr["indptr"], csr["indptr"][1:]):
        total += coef * _kernel(spec, x, dict(zip(csr["indices"][a:b], csr["data"][a:b])))
    return None, [total + spec["intercept"]], None


def _ovr_decision(predictions, confidences, n_classes):
    """sklearn's _ovr_decision_function for one row."""
    votes = [0.0] * n_classes
    sums = [0.0] * n_classes
    k = 0
    for i in range(n_classes):
        for j in range(i + 1, n_classes):
            sums[i] -= confidences[k]
            sums[j] += confidences[k]
            if predictions[k] == 0:
                votes[i] += 1
            else:
                votes[j] += 1
            k += 1
    return [v + s / (3 * (abs(s) + 1)) for v, s in zip(votes, sums)]


def svc(spec, row):
    x = row.items()
    csr = spec["support_vectors"]
    vectors = [
        dict(zip(csr["indices"][a:b], csr["data"][a:b]))
        for a, b in zip(csr["indptr"], csr["indptr"][1:])
    ]
    kernels = [_kernel(spec, x, v) for v in vectors]
    n = len(spec["classes"])
    starts = [0]
    for count in spec["n_support"]:
        starts.append(starts[-1] + count)
    values, k = [], 0
    for i in range(n):
        for j in range(i + 1, n):
            total = 0.0
            for v in range(starts[i], starts[i + 1]):
                total += spec["dual_coef"][j - 1][v] * kernels[v]
            for v in range(starts[j], starts[j + 1]):
                total += spec["dual_coef"][i][v] * kernels[v]
            values.append(total + spec["intercept"][k])
            k += 1
    probabilities = None
    if spec.get("prob_a") is not None:
        libsvm = [-values[0]] if n == 2 else values
        probabilities = _libsvm_probability(spec, libsvm, n)
    if n == 2:
        return (1 if values[0] >= 0 else 0), [values[0]], probabilities
    ovr = _ovr_decision([1 if d < 0 else 0 for d in values], [-d for d in values], n)
    if spec["break_ties"] and spec["decision_function_shape"] == "ovr":
        index = _argmax(ovr)
    else:
        votes = [0] * n
        k = 0
        for i in range(n):
            for j in range(i + 1, n):
                votes[i if values[k] > 0 else j] += 1
                k += 1
        index = _argmax(votes)
    scores = ovr if spec["decision_function_shape"] == "ovr" else values
    return index, scores, probabilities


def _libsvm_probability(spec, values, n):
    """libsvm's svm_predict_probability: Platt per pair, then multiclass_probability."""
    min_prob = 1e-7
    r = [[0.0] * n for _ in range(n)]
    k = 0
    for i in range(n):
        for j in range(i + 1, n):
            f = values[k] * spec["prob_a"][k] + spec["prob_b"][k]
            p = math.exp(-f) / (1.0 + math.exp(-f)) if f >= 0 else 1.0 / (1.0 + math.exp(f))
            r[i][j] = min(max(p, min_prob), 1 - min_prob)
            r[j][i] = 1 - r[i][j]
            k += 1
    # Wu, Lin and Weng's method 2, as libsvm's multiclass_probability.
    q = [[0.0] * n for _ in range(n)]
    p = [1.0 / n] * n
    for t in range(n):
        for j in range(t):
            q[t][t] += r[j][t] * r[j][t]
            q[t][j] = q[j][t]
        for j in range(t + 1, n):
            q[t][t] += r[j][t] * r[j][t]
            q[t][j] = -r[j][t] * r[t][j]
    eps = 0.005 / n
    for _ in range(max(100, n)):
        qp = [sum(q[t][j] * p[j] for j in range(n)) for t in range(n)]
        pqp = sum(p[t] * qp[t] for t in range(n))
        if max(abs(qp[t] - pqp) for t in range(n)) < eps:
            break
        for t in range(n):
            diff = (-qp[t] + pqp) / q[t][t]
            p[t] += diff
            pqp = (pqp + diff * (diff * q[t][t] + 2 * qp[t])) / (1 + diff) / (1 + diff)
            for j in range(n):
                qp[j] = (qp[j] + diff * q[t][j]) / (1 + diff)
                p[j] /= 1 + diff
    return p


def _squared_euclidean(x, c):
    """sklearn's euclidean_distances, squared: ||x||² - 2 x·c + ||c||², clipped at 0."""
    xx = sum(v * v for _, v in x)
    cc = sum(v * v for v in c)
    xc = sum(v * c[j] for j, v in x)
    return max(-2 * xc + xx + cc, 0.0)


def _distances(x, centroids, metric):
    if metric == "euclidean":
        return [math.sqrt(_squared_euclidean(x, c)) for c in centroids]
    dense = dict(x)
    return [sum(abs(dense.get(j, 0.0) - cj) for j, cj in enumerate(c)) for c in centroids]


def nearest_centroid(spec, row):
    x = row.items()
    raw = _distances(x, spec["centroids"], spec["metric"])
    nearest = min(range(len(raw)), key=lambda k: (raw[k], k))
    if spec["decision"] == "distances":
        return nearest, [-d for d in raw], None
    std = spec["within_class_std_dev"]
    xn = [(j, v / std[j] if std[j] != 0 else v) for j, v in x]
    discriminant = []
    for c, prior in zip(spec["centroids"], spec["class_prior"]):
        cn = [v / std[j] if std[j] != 0 else v for j, v in enumerate(c)]
        d = math.sqrt(_squared_euclidean(xn, cn))
        discriminant.append(-(d * d) + 2.0 * math.log(prior))
    top = max(discriminant)
    shifted = [s - top for s in discriminant]
    log_total = math.log(sum(math.exp(s) for s in shifted))
    probabilities = [math.exp(s - log_total) for s in shifted]
    index = nearest if spec["predict"] == "nearest" else _argmax(discriminant)
    if len(discriminant) == 2:
        scores = [discriminant[1] - discriminant[0]]
    else:
        scores = discriminant
    return index, scores, probabilities


def pipeline(spec, row):
    for step in spec["steps"]:
        row = apply_step(row, step)
    return classify(spec["classifier"], row)


def _response(member, row, response, binary_column):
    """What a wrapper feeds on: the member's scores, or its probabilities (column 1 alone when
    `binary_column`)."""
    index, scores, probabilities = classify(member, row)
    if response == "decision_function":
        return index, scores
    return index, [probabilities[1]] if binary_column else probabilities


def _isotonic(calibrator, t):
    x, y = calibrator["x"], calibrator["y"]
    if len(x) == 1:
        return y[0]
    t = min(max(t, x[0]), x[-1])
    hi = min(max(bisect.bisect_left(x, t), 1), len(x) - 1)
    lo = hi - 1
    slope = (y[hi] - y[lo]) / (x[hi] - x[lo])
    return slope * (t - x[lo]) + y[lo]


def calibrated(spec, row):
    n = len(spec["classes"])
    mean = [0.0] * n
    for member in spec["members"]:
        _, inputs = _response(member["classifier"], row, member["response"], n == 2)
        proba = [0.0] * n
        for k, (index, calibrator) in enumerate(zip(member["class_indices"], member["calibrators"])):
            t = inputs[k]
            if spec["method"] == "sigmoid":
                proba[index] = _expit(-(calibrator["a"] * t + calibrator["b"]))
            else:
                proba[index] = _isotonic(calibrator, t)
        if n == 2:
            proba[0] = 1.0 - proba[1]
        else:
            total = sum(proba)
            proba = [p / total for p in proba] if total != 0 else [1.0 / n] * n
        proba = [1.0 if 1.0 < p <= 1.0 + 1e-5 else p for p in proba]
        mean = [m + p for m, p in zip(mean, proba)]
    mean = [m / len(spec["members"]) for m in mean]
    return _argmax(mean), mean, mean


def _has_probabilities(spec):
    kind = spec["kind"]
    if kind == "linear":
        return spec.get("probability") is not None
    if kind == "svc":
        return spec.get("prob_a") is not None
    if kind == "nearest_centroid":
        return spec["decision"] == "discriminant"
    if kind == "pipeline":
        return _has_probabilities(spec["classifier"])
    if kind == "one_vs_rest":
        return all(_has_probabilities(m) for m in spec["estimators"])
    if kind == "voting":
        return spec["voting"] == "soft"
    return kind in ("calibrated", "trees")


def one_vs_rest(spec, row):
    values = [_response(m, row, spec["response"], True)[1][0] for m in spec["estimators"]]
    threshold = 0.0 if spec["response"] == "decision_function" else 0.5
    if len(spec["classes"]) == 2:
        index = 1 if values[0] > threshold else 0
    else:
        index = _argmax(values, spec["ties"])
    probabilities = None
    if all(_has_probabilities(m) for m in spec["estimators"]):
        p = [classify(m, row)[2][1] for m in spec["estimators"]]
        if len(p) == 1:
            probabilities = [1 - p[0], p[0]]
        else:
            total = sum(p)
            probabilities = [v / total for v in p] if total != 0 else p
    return index, values, probabilities


def multi_label(spec, row):
    """(indices of the set labels, one score per label, one class-1 probability per label or
    None). A label's score is its member's decision value or class-1 probability (`response`);
    it is set when the score is above `threshold`, or, without a threshold, when its member
    predicts class 1."""
    label_set, scores = [], []
    for k, member in enumerate(spec["estimators"]):
        index, values = _response(member, row, spec["response"], True)
        scores.append(values[0])
        threshold = spec["threshold"]
        if (values[0] > threshold) if threshold is not None else index == 1:
            label_set.append(k)
    probabilities = None
    if all(_has_probabilities(m) for m in spec["estimators"]):
        probabilities = [classify(m, row)[2][1] for m in spec["estimators"]]
    return label_set, scores, probabilities


def one_vs_one(spec, row):
    n = len(spec["classes"])
    predictions, confidences = [], []
    for member in spec["estimators"]:
        index, values = _response(member, row, spec["response"], True)
        predictions.append(index)
        confidences.append(values[0])
    scores = _ovr_decision(predictions, confidences, n)
    if n == 2:
        threshold = 0.0 if spec["response"] == "decision_function" else 0.5
        return (1 if scores[1] > threshold else 0), [scores[1]], None
    return _argmax(scores), scores, None


def voting(spec, row):
    n = len(spec["classes"])
    weights = spec["weights"] or [1.0] * len(spec["estimators"])
    if spec["voting"] == "hard":
        counts = [0.0] * n
        for member, weight in zip(spec["estimators"], weights):
            counts[classify(member, row)[0]] += weight
        return _argmax(counts), counts, None
    total = [0.0] * n
    for member, weight in zip(spec["estimators"], weights):
        probabilities = classify(member, row)[2]
        total = [t + p * weight for t, p in zip(total, probabilities)]
    average = [t / sum(weights) for t in total]
    return _argmax(average), average, average


def _float32(x):
    """x rounded to the nearest float32 (ties to even), as a float; inf beyond its range."""
    try:
        return struct.unpack("f", struct.pack("f", x))[0]
    except OverflowError:
        return math.copysign(math.inf, x)


def _leaf_row(tree, values):
    """The position, among the tree's leaves in node order, of the leaf a row reaches: left when
    the value rounded to float32 is <= the threshold, absent features 0.0."""
    left, right = tree["children_left"], tree["children_right"]
    node = 0
    while left[node] != -1:
        x = _float32(values.get(tree["feature"][node], 0.0))
        node = left[node] if x <= tree["threshold"][node] else right[node]
    return left[:node].count(-1)


def trees(spec, row):
    values = dict(row.items())
    if spec["combine"] == "single":
        (tree,) = spec["trees"]
        leaf = _leaf_row(tree, values)
        probabilities = list(tree["leaf_values"][leaf])
        return tree["leaf_class"][leaf], probabilities, probabilities
    total = [0.0] * len(spec["classes"])
    for tree in spec["trees"]:
        total = [t + v for t, v in zip(total, tree["leaf_values"][_leaf_row(tree, values)])]
    probabilities = [t / len(spec["trees"]) for t in total]
    return _argmax(probabilities), probabilities, probabilities


def tree_regression(spec, row):
    """A tree regressor's number: "single" the leaf's number; "mean" the trees' numbers summed in
    order from 0.0 and divided by the number of trees (ForestRegressor.predict). No class."""
    values = dict(row.items())
    if spec["combine"] == "single":
        (tree,) = spec["trees"]
        (number,) = tree["leaf_values"][_leaf_row(tree, values)]
        return None, [number], None
    total = 0.0
    for tree in spec["trees"]:
        (number,) = tree["leaf_values"][_leaf_row(tree, values)]
        total += number
    return None, [total / len(spec["trees"])], None


_KINDS = {
    "linear": linear,
    "svc": svc,
    "nearest_centroid": nearest_centroid,
    "pipeline": pipeline,
    "calibrated": calibrated,
    "one_vs_rest": one_vs_rest,
    "one_vs_one": one_vs_one,
    "voting": voting,
    "trees": trees,
    "linear_regression": linear_regression,
    "tree_regression": tree_regression,
    "svr": svr,
}
