"""Nearest-neighbour converters: KNeighborsClassifier to the model's `k_neighbors` object and
KNeighborsRegressor to `k_neighbors_regression` (docs/model-format-v2.md). The model stores the
training rows sklearn keeps (`_fit_X`, CSR in sklearn's stored order, or dense rows after a
`project` step), their classes or targets (`_y`), and the row norms sklearn's own functions
compute for them; the reader searches all rows by brute force with sklearn's formulas.

What sklearn computes (read in the sources of 1.2.1 and 1.9.1, and checked on their builds):

Distances, the ranking quantity r and the distance d (the same in both versions):
- euclidean, brute force: r = max(0, (‖x‖² + (−2 x·y)) + ‖y‖²), d = sqrt(r). ‖y‖² is computed
  once per training row by sklearn (a sequential sum over the CSR row in stored order; BLAS's
  ddot for dense rows) and stored in `fit_norms`; ‖x‖² and x·y are sums over the query row's
  entries in its stored order (scipy's csr_matmat in 1.9's pairwise_distances fallback, the
  SparseSparseMiddleTermComputer's loop in 1.2's ArgKmin: −2 x·y, the same bits). 1.2 clamps the
  surrogate at 0 before ranking too (checked: negative surrogates tie at 0).
- euclidean, kd_tree/ball_tree (dense rows only): r = Σ_j (x_j − y_j)², summed in column order,
  d = sqrt(r).
- cosine (always pairwise_distances' path): d = r = clip(1 − x̂·ŷ, 0, 2), x̂ and ŷ the rows
  divided by their l2 norm (sklearn's `normalize`: a sequential sum of squares, sqrt, divide;
  zero rows stay zero); ŷ's norms are stored in `fit_norms`.
- manhattan: d = r = Σ |x_j − y_j| over the union of both rows' columns in increasing column
  order. sklearn computes that on integer counts (its manhattan_distances sorts the indices
  first) and on dense rows; on sparse float rows its ArgKmin merges the columns as stored, which
  TfidfVectorizer and most transformers leave unsorted, so its distances depend on storage
  order: the converter refuses those.

Which neighbours (the k rows of smallest r): when r does not tie at the k-th place every path
agrees. When it ties, sklearn's choice depends on its path: its ArgKmin (1.2's sparse euclidean
on float rows, dense rows in both, manhattan on dense rows) keeps a max-heap of size k per query
(sklearn.utils._heap.heap_push: a candidate is refused when r >= the heap's top, else replaces
the top and sifts down) fed the training rows in index order by one thread, but with several
OpenMP threads and more than 256 training rows it merges per-thread heaps, which changes which
of the tied rows survive; 1.9's sparse euclidean, and in both versions cosine and integer
inputs (CountVectorizer's counts), go through pairwise_distances and numpy's argpartition, whose
choice among equal values depends on numpy's version and the CPU (introselect, or x86-simd-sort's
AVX-512 argselect); kd_tree/ball_tree take them in tree order. mod_classify always feeds the heap
in index order, as one thread does. sklearn 1.2's TfidfTransformer stores a row's columns in
decreasing order and sums them so, where the reader sums in increasing order: the same numbers
within a few units in the last place, which can only matter at such ties and at distance 0.

Answers (both versions):
- weights 'distance': w = 1/d, and a row with any infinite w (a zero distance) takes 1 for those
  and 0 for the others (_get_weights).
- classifier: predict_proba adds each neighbour's weight (1 for 'uniform') to its class in
  neighbour order from 0.0, then divides by the sum over classes (numpy's pairwise sum);
  predict is the first class with the most votes for 'uniform' (scipy's mode, or 1.9's argmax of
  predict_proba), and for 'distance' weighted_mode: per class in increasing order, the numpy sum
  of the k-vector of that class's weights (zeros elsewhere), the first strictly greatest winning.
- regressor: 'uniform' np.mean of the k targets in neighbour order (numpy's pairwise sum / k);
  'distance' np.sum(y·w) / np.sum(w).
Neighbour order is increasing r; among equal r sklearn's sorts are not stable, which only moves
sums of different values by a few units in the last place.
"""

import numpy as np

from .base import export_labels, finite_list
from .classifiers import Classified, nonnegative_rows
from .registry import register

TOLERANCE = 1e-9

# The kinds this module writes.
CLASSIFIER_KIND = "k_neighbors"
REGRESSOR_KIND = "k_neighbors_regression"

# Relative distance within which two candidates are treated as tied when deciding whether an
# answer depends on how sklearn breaks ties (sklearn's own rounding, e.g. BLAS on dense rows,
# moves r by a few units in the last place).
NEAR_TIE = 1e-12


# ----------------------------------------------------------------------------------------------
# The converter


def _metric(clf, ctx):
    """(the effective metric: "euclidean", "manhattan" or "cosine", sklearn's p or None)."""
    name = type(clf).__name__
    metric = clf.metric
    if callable(metric) or not isinstance(metric, str):
        ctx.refuse(
            f"{name}(metric={metric!r}): a callable or DistanceMetric metric is not supported; "
            "use metric='euclidean', 'cosine', 'manhattan' or 'minkowski' with p=1 or 2"
        )
    if metric == "precomputed":
        ctx.refuse(
            f"{name}(metric='precomputed') reads distances, not features; mod_classify computes "
            "the distances itself: fit it on the features with metric='euclidean', 'cosine' or "
            "'manhattan'"
        )
    if getattr(clf, "metric_params", None):
        ctx.refuse(
            f"{name}(metric_params={clf.metric_params!r}) is not supported; leave metric_params "
            "unset (give p as the p parameter)"
        )
    p = getattr(clf, "p", 2)
    if metric == "minkowski":
        if p == 2:
            return "euclidean", 2
        if p == 1:
            return "manhattan", 1
        ctx.refuse(
            f"{name}(metric='minkowski', p={p!r}) is not supported; mod_classify computes p=2 "
            "(euclidean) and p=1 (manhattan)"
        )
    if metric in ("euclidean", "manhattan", "cosine"):
        return metric, None
    aliases = {"l2": "euclidean", "l1": "manhattan", "cityblock": "manhattan"}
    if metric in aliases:
        ctx.refuse(
            f"{name}(metric={metric!r}): sklearn computes the alias through another path than "
            f"{aliases[metric]!r} (its generic metric, with other rounding); refit with "
            f"metric={aliases[metric]!r}"
        )
    ctx.refuse(
        f"{name}(metric={metric!r}) is not supported; use 'euclidean', 'cosine', 'manhattan' or "
        "'minkowski' with p=1 or 2"
    )


def _weights(clf, ctx):
    weights = clf.weights
    if weights is None or (isinstance(weights, str) and weights == "uniform"):
        return "uniform"
    if isinstance(weights, str) and weights == "distance":
        return "distance"
    ctx.refuse(
        f"{type(clf).__name__}(weights={weights!r}): a weight function is Python code, which "
        "mod_classify does not run; use weights='uniform' or 'distance'"
    )


def fit_rows(clf, ctx, metric):
    """sklearn's training rows as a float64 CSR matrix in its stored order, and whether they are
    dense (every column stored) rows."""
    from scipy import sparse

    name = type(clf).__name__
    X = getattr(clf, "_fit_X", None)
    if X is None or not hasattr(clf, "_fit_method"):
        ctx.refuse(f"{name} is not fitted (it has no _fit_X)")
    if X.ndim != 2 or X.shape[1] != ctx.width:
        ctx.refuse(
            f"{name} was fitted on {X.shape[1]} features but the previous step produces "
            f"{ctx.width}; they were not fitted together"
        )
    dense = not sparse.issparse(X)
    if dense != bool(ctx.dense):
        ctx.refuse(
            f"{name} was fitted on {'dense' if dense else 'sparse'} rows but the previous step "
            f"produces {'dense' if ctx.dense else 'sparse'} ones; they were not fitted together"
        )
    kind = np.asarray(X.data if not dense else X).dtype
    if kind == np.float32 or kind.kind not in "fiu" or kind == np.float16:
        ctx.refuse(
            f"{name} was fitted on {kind} features; mod_classify computes in float64 (sklearn's "
            "float32 path rounds otherwise): refit on float64 (or integer count) features"
        )
    if dense:
        # Every column is stored, zeros too: a dense row's sums run over all of them.
        values = np.asarray(X, dtype=np.float64)
        n, width = values.shape
        rows = sparse.csr_matrix(
            (values.ravel(), np.tile(np.arange(width), n), np.arange(0, n * width + 1, width)),
            shape=(n, width),
        )
        return rows, True
    X = X.tocsr() if X.format != "csr" else X
    data = np.asarray(X.data)
    if kind.kind in "iu":
        as_float = data.astype(np.float64)
        if not np.array_equal(as_float.astype(data.dtype), data):
            ctx.refuse(f"{name} holds integer features too large for float64")
        data = as_float
    rows = sparse.csr_matrix((data, np.asarray(X.indices), np.asarray(X.indptr)), shape=X.shape)
    for i in range(rows.shape[0]):
        columns = rows.indices[rows.indptr[i]:rows.indptr[i + 1]]
        if len(np.unique(columns)) != len(columns):
            ctx.refuse(f"{name}'s training row {i} stores a column twice (run sum_duplicates())")
    if metric == "manhattan" and kind.kind == "f":
        ctx.refuse(
            f"{name}(metric='manhattan') on sparse float rows: sklearn's ArgKmin computes each "
            "distance by merging the two rows' column indices as stored, assuming them sorted, "
            "and TfidfVectorizer (like most transformers) leaves them unsorted, so sklearn's own "
            "distances depend on how the rows happen to be stored; mod_classify supports "
            "manhattan on integer counts (CountVectorizer, where sklearn sorts the indices "
            "first) and on dense rows (after TruncatedSVD), or use metric='euclidean' or "
            "'cosine'"
        )
    return rows, False


def _algorithm(clf, ctx, metric, dense):
    method = clf._fit_method
    if method not in ("brute", "kd_tree", "ball_tree"):
        ctx.refuse(f"{type(clf).__name__} searches with {method!r}, which is not supported")
    if method != "brute" and (not dense or metric == "cosine"):
        ctx.refuse(f"{type(clf).__name__} uses {method} on {'sparse rows' if not dense else metric}")
    return method


def fit_norms(X_sklearn, rows, metric, algorithm, dense):
    """What sklearn computes for the training rows once per call: the squared norms of its
    euclidean brute-force path, or the norms its `normalize` divides by for cosine; None when
    the ranking needs none."""
    from sklearn.utils.extmath import row_norms

    if metric == "euclidean" and algorithm == "brute":
        if dense:
            # EuclideanArgKmin's own function (BLAS ddot per row), as both versions call it.
            from sklearn.metrics._pairwise_distances_reduction import _dispatcher

            return np.asarray(
                _dispatcher.sqeuclidean_row_norms(np.ascontiguousarray(X_sklearn, dtype=np.float64), 1),
                dtype=np.float64,
            )
        # A sequential sum of the stored values' squares per row: row_norms (pairwise_distances)
        # and ArgKmin's _sqeuclidean_row_norms give the same bits on CSR.
        return row_norms(rows, squared=True)
    if metric == "cosine":
        if dense:
            return row_norms(np.ascontiguousarray(X_sklearn, dtype=np.float64))
        return row_norms(rows)
    return None


def _n_neighbors(clf, ctx, n_rows):
    k = clf.n_neighbors
    if not isinstance(k, (int, np.integer)) or isinstance(k, bool) or k < 1:
        ctx.refuse(f"{type(clf).__name__}(n_neighbors={k!r}) is not a positive integer")
    if k > n_rows:
        ctx.refuse(
            f"{type(clf).__name__}(n_neighbors={k}) is more than its {n_rows} training rows; "
            "sklearn refuses to predict with it"
        )
    return int(k)


def _k_neighbors(clf, ctx, regression):
    name = type(clf).__name__
    if not hasattr(clf, "_fit_X"):
        ctx.refuse(f"{name} is not fitted (it has no _fit_X)")
    # The metric first: a precomputed model's width is its number of training rows.
    metric, p = _metric(clf, ctx)
    ctx.check_width(clf)
    weights = _weights(clf, ctx)
    rows, dense = fit_rows(clf, ctx, metric)
    algorithm = _algorithm(clf, ctx, metric, dense)
    k = _n_neighbors(clf, ctx, rows.shape[0])
    spec = {
        "kind": REGRESSOR_KIND if regression else CLASSIFIER_KIND,
        "estimator": name,
    }
    y = np.asarray(clf._y)
    if regression:
        if y.ndim != 1:
            what = "a 2-D target of one column" if y.shape[1:] == (1,) else f"{y.shape[1]} target columns"
            ctx.refuse(
                f"{name} was fitted on {what} (_y of shape {y.shape}); multi-output regression is "
                "not supported: mod_classify answers one number per text; fit it on a 1-D y"
            )
        if y.dtype.kind not in "fiub" or y.dtype == np.float32:
            ctx.refuse(f"{name}'s targets are {y.dtype}; refit on float64 targets")
    else:
        if getattr(clf, "outputs_2d_", False) or y.ndim != 1:
            ctx.refuse(
                f"{name} was fitted on a 2-D y (several outputs or an indicator matrix); "
                "mod_classify answers one class per text: fit it on a 1-D y"
            )
        spec["classes"] = export_labels(clf.classes_, ctx.where)
        if len(spec["classes"]) < 2:
            ctx.refuse(f"{name} was fitted on {len(spec['classes'])} class; at least 2 are needed")
    if y.shape[0] != rows.shape[0]:
        ctx.refuse(f"{name} has {y.shape[0]} targets for {rows.shape[0]} training rows")
    spec.update({
        "n_neighbors": k,
        "weights": weights,
        "metric": metric,
        "p": p,
        "algorithm": algorithm,
        "fit_rows": {
            "indptr": rows.indptr.astype(np.int64).tolist(),
            "indices": rows.indices.astype(np.int64).tolist(),
            "data": finite_list(rows.data, f"{ctx.where}._fit_X"),
        },
    })
    norms = fit_norms(clf._fit_X, rows, metric, algorithm, dense)
    spec["fit_norms"] = None if norms is None else finite_list(norms, f"{ctx.where} row norms")
    if regression:
        spec["fit_targets"] = finite_list(y.astype(np.float64), f"{ctx.where}._y")
    else:
        spec["fit_labels"] = y.astype(np.int64).tolist()
    _check(clf, ctx, spec, rows, dense)
    return Classified(spec, [])


@register("classifier", "sklearn.neighbors", "KNeighborsClassifier")
def k_neighbors_classifier(clf, ctx):
    return _k_neighbors(clf, ctx, regression=False)


@register("regressor", "sklearn.neighbors", "KNeighborsRegressor")
def k_neighbors_regressor(clf, ctx):
    return _k_neighbors(clf, ctx, regression=True)


def _radius(clf, ctx):
    ctx.refuse(
        f"{type(clf).__name__} is not supported: its neighbours are every training row within a "
        "radius, so their number (and the answer for a text with none, the outlier label) varies; "
        "use KNeighborsClassifier or KNeighborsRegressor"
    )


register("classifier", "sklearn.neighbors", "RadiusNeighborsClassifier")(_radius)
register("regressor", "sklearn.neighbors", "RadiusNeighborsRegressor")(_radius)


# ----------------------------------------------------------------------------------------------
# What the model answers (docs/model-format-v2.md), computed here to check sklearn before writing
# and to tell which answers depend on how sklearn breaks a tie


def spec_rows(spec, width):
    from scipy import sparse

    rows = spec["fit_rows"]
    return sparse.csr_matrix(
        (np.asarray(rows["data"], dtype=np.float64), np.asarray(rows["indices"], dtype=np.int64),
         np.asarray(rows["indptr"], dtype=np.int64)),
        shape=(len(rows["indptr"]) - 1, width),
    )


def _sequential_sums(values):
    """Row sums of a 2-D array added left to right from 0.0 (np.cumsum is sequential)."""
    values = np.asarray(values, dtype=np.float64)
    if values.shape[1] == 0:
        return np.zeros(values.shape[0])
    return np.cumsum(values, axis=1)[:, -1]


def _sorted_csr(X):
    from scipy import sparse

    X = sparse.csr_matrix(X, dtype=np.float64, copy=True)
    X.sort_indices()
    return X


def ranking(spec, X, width, stored_order=False):
    """(r, d): the ranking quantity and the distance of every query row of X (CSR rows taken in
    increasing column order, as the reader's rows are, or with `stored_order` in the order X
    stores them, as sklearn sums them; or dense rows) to every training row."""
    from scipy import sparse

    Y = spec_rows(spec, width)
    metric, algorithm = spec["metric"], spec["algorithm"]
    dense = not sparse.issparse(X)
    if dense:
        X = np.asarray(X, dtype=np.float64)
        Yd = Y.toarray()
        if metric == "manhattan":
            r = np.stack([_sequential_sums(np.abs(x - Yd)) for x in X])
            return r, r
        if metric == "euclidean" and algorithm != "brute":
            r = np.stack([_sequential_sums((x - Yd) ** 2) for x in X])
            return r, np.sqrt(r)
        if metric == "euclidean":
            xx = _sequential_sums(X * X)
            dot = np.stack([_sequential_sums(x * Yd) for x in X])
            r = np.maximum((-2.0 * dot + xx[:, None]) + np.asarray(spec["fit_norms"])[None, :], 0.0)
            return r, np.sqrt(r)
        norms = np.asarray(spec["fit_norms"])
        Yn = Yd / np.where(norms == 0.0, 1.0, norms)[:, None]
        xn = np.sqrt(_sequential_sums(X * X))
        Xn = X / np.where(xn == 0.0, 1.0, xn)[:, None]
        dot = np.stack([_sequential_sums(x * Yn) for x in Xn])
        r = np.clip(-dot + 1.0, 0.0, 2.0)
        return r, r
    X = sparse.csr_matrix(X, dtype=np.float64, copy=True) if stored_order else _sorted_csr(X)
    if metric == "manhattan":
        # The merge in increasing column order (sklearn's manhattan_distances on sorted rows).
        from sklearn.metrics.pairwise import manhattan_distances

        Ys = _sorted_csr(Y)
        r = manhattan_distances(X, Ys)
        return r, r
    xx = np.array([_sequential_sums(X.data[a:b][None, :] ** 2)[0] for a, b in zip(X.indptr, X.indptr[1:])])
    if metric == "euclidean":
        # scipy's csr_matmat sums over the query row's entries in order, from 0.0.
        dot = np.asarray((X @ Y.T).toarray(), dtype=np.float64)
        r = np.maximum((-2.0 * dot + xx[:, None]) + np.asarray(spec["fit_norms"])[None, :], 0.0)
        return r, np.sqrt(r)
    norms = np.asarray(spec["fit_norms"])
    Yn = Y.copy()
    scale = np.repeat(np.where(norms == 0.0, 1.0, norms), np.diff(Y.indptr))
    Yn.data = Yn.data / scale
    Xn = X.copy()
    xn = np.sqrt(xx)
    Xn.data = Xn.data / np.repeat(np.where(xn == 0.0, 1.0, xn), np.diff(X.indptr))
    dot = np.asarray((Xn @ Yn.T).toarray(), dtype=np.float64)
    r = np.clip(-dot + 1.0, 0.0, 2.0)
    return r, r


def heap_push(values, indices, size, value, index):
    """sklearn.utils._heap.heap_push: a fixed-size max-heap of the k smallest values."""
    if value >= values[0]:
        return
    values[0] = value
    indices[0] = index
    current = 0
    while True:
        left = 2 * current + 1
        right = left + 1
        if left >= size:
            break
        if right >= size:
            if values[left] > value:
                swap = left
            else:
                break
        elif values[left] >= values[right]:
            if value < values[left]:
                swap = left
            else:
                break
        elif value < values[right]:
            swap = right
        else:
            break
        values[current] = values[swap]
        indices[current] = indices[swap]
        current = swap
    values[current] = value
    indices[current] = index


def neighbours(r, k):
    """The k training rows the reader picks for ranking values r: the heap fed in row order,
    then sorted by (r, row)."""
    order = np.lexsort((np.arange(len(r)), r))
    if k == len(r) or r[order[k - 1]] != r[order[k]]:
        chosen = order[:k].tolist()
    else:
        values, indices = [np.inf] * k, [-1] * k
        for j, value in enumerate(r.tolist()):
            heap_push(values, indices, k, value, j)
        chosen = indices
    return sorted(chosen, key=lambda j: (r[j], j))


def numpy_sum(values):
    """numpy's add.reduce of a contiguous float64 row (pairwise_sum: sequential below 8 values,
    8 accumulators up to 128, halves above)."""
    n = len(values)
    if n < 8:
        total = 0.0
        for v in values:
            total += v
        return total
    if n <= 128:
        partial = list(values[:8])
        i = 8
        while i < n - n % 8:
            for j in range(8):
                partial[j] += values[i + j]
            i += 8
        total = ((partial[0] + partial[1]) + (partial[2] + partial[3])) + (
            (partial[4] + partial[5]) + (partial[6] + partial[7]))
        while i < n:
            total += values[i]
            i += 1
        return total
    half = n // 2
    half -= half % 8
    return numpy_sum(values[:half]) + numpy_sum(values[half:])


def _weights_of(distances, kind):
    if kind == "uniform":
        return [1.0] * len(distances)
    with np.errstate(divide="ignore"):
        w = [float(np.float64(1.0) / np.float64(d)) for d in distances]
    if any(np.isinf(v) for v in w):
        return [1.0 if np.isinf(v) else 0.0 for v in w]
    return w


def answer(spec, chosen, distances):
    """(class index or None, probabilities or None, number or None) for the chosen rows."""
    w = _weights_of(distances, spec["weights"])
    if spec["kind"] == REGRESSOR_KIND:
        y = [spec["fit_targets"][j] for j in chosen]
        if spec["weights"] == "uniform":
            return None, None, numpy_sum(y) / len(y)
        return None, None, numpy_sum([a * b for a, b in zip(y, w)]) / numpy_sum(w)
    n_classes = len(spec["classes"])
    labels = [spec["fit_labels"][j] for j in chosen]
    votes = [0.0] * n_classes
    for label, weight in zip(labels, w):
        votes[label] += weight
    total = numpy_sum(votes)
    probabilities = [v / total for v in votes]
    if spec["weights"] == "uniform":
        best = max(range(n_classes), key=lambda c: (votes[c], -c))
    else:
        best, best_count = 0, 0.0
        for c in range(n_classes):
            count = numpy_sum([weight if label == c else 0.0 for label, weight in zip(labels, w)])
            if count > best_count:
                best, best_count = c, count
    return best, probabilities, None


def answers(spec, X, width, stored_order=False):
    """Per query row: {"class", "probabilities", "value", "decided"}. `decided` is False when the
    k-th neighbour's distance ties (within NEAR_TIE) with a row left out and the tied rows do
    not all share one class (or target), so that which of them sklearn keeps changes the answer;
    also when weights are 'distance' and a neighbour is closer than NEAR_TIE without being at
    distance 0 exactly (its weight is then 1/d of sklearn's own rounding)."""
    r_all, d_all = ranking(spec, X, width, stored_order)
    k = spec["n_neighbors"]
    key = "fit_targets" if spec["kind"] == REGRESSOR_KIND else "fit_labels"
    out = []
    for r, d in zip(r_all, d_all):
        chosen = neighbours(r, k)
        cls, probabilities, value = answer(spec, chosen, [d[j] for j in chosen])
        boundary = r[chosen[-1]]
        window = NEAR_TIE * max(1.0, abs(boundary))
        sure = np.count_nonzero(r < boundary - window)
        tied = np.flatnonzero(np.abs(r - boundary) <= window)
        # More rows (about) as near as the k-th than places left for them: which ones sklearn
        # keeps matters unless they all have the same class or target.
        decided = len(tied) <= k - sure or len({spec[key][j] for j in tied}) == 1
        if spec["weights"] == "distance" and any(0.0 < r[j] <= NEAR_TIE for j in chosen):
            decided = False
        out.append({"class": cls, "probabilities": probabilities, "value": value,
                    "decided": decided})
    return out


def decided_rows(spec, X, width):
    """Per row of X (as sklearn's transformers made it): whether sklearn's answer is the one the
    model gives whatever the tie-breaking: `answers` calls it decided both with X's rows in
    increasing column order (the reader's) and in X's stored order (sklearn's sums, e.g. sklearn
    1.2's TfidfTransformer stores a row's columns in decreasing order), and both give the same
    class and probabilities (number)."""
    from scipy import sparse

    ordered = answers(spec, X, width)
    stored = answers(spec, X, width, stored_order=True)
    if sparse.issparse(X) and spec["weights"] == "distance":
        # A row sklearn stores out of column order was also normalized in that order (sklearn
        # 1.2's tf-idf rows): the reader's features may differ from it in the last bit, which
        # matters where a neighbour is at distance 0 (its weight is then all or 1/d of rounding).
        X = sparse.csr_matrix(X)
        r_all, _ = ranking(spec, X, width, stored_order=True)
        for i, (a, b) in enumerate(zip(X.indptr, X.indptr[1:])):
            columns = X.indices[a:b]
            if (np.diff(columns) <= 0).any() and r_all[i].min() <= NEAR_TIE:
                ordered[i]["decided"] = False

    def same(a, b):
        if a["class"] != b["class"]:
            return False
        pairs = zip(a["probabilities"] or [], b["probabilities"] or [])
        if a["value"] is not None:
            pairs = [(a["value"], b["value"])]
        return all(abs(x - y) <= TOLERANCE * max(1.0, abs(x), abs(y)) for x, y in pairs)

    return [a["decided"] and b["decided"] and same(a, b) for a, b in zip(ordered, stored)]


# ----------------------------------------------------------------------------------------------
# The check against sklearn


def probe_rows(rows, dense, width):
    """Query rows like the estimator's input: the first training rows themselves (distance 0),
    scaled and summed pairs of them, and a few synthetic rows."""
    from scipy import sparse

    n = rows.shape[0]
    first = rows[: min(n, 8)]
    parts = [first, first * 1.5]
    if n > 1:
        m = min(n - 1, 6)
        parts.append(rows[:m] + rows[1:m + 1])
    parts.append(nonnegative_rows(width, n_rows=4))
    X = sparse.csr_matrix(sparse.vstack(parts), dtype=np.float64)
    X.sort_indices()
    if dense:
        return X.toarray()
    X.eliminate_zeros()
    return X


def _check(clf, ctx, spec, rows, dense):
    """Refuses the model unless sklearn's predict (and predict_proba) answer what the model says
    on rows made from the training rows, where the answer does not depend on a tie."""
    import sklearn

    name = type(clf).__name__
    X = probe_rows(rows, dense, ctx.width)
    ours = answers(spec, X, ctx.width)
    try:
        predicted = np.asarray(clf.predict(X))
        proba = None if spec["kind"] == REGRESSOR_KIND else np.asarray(clf.predict_proba(X), dtype=np.float64)
    except Exception as e:  # noqa: BLE001
        ctx.refuse(f"cannot check the predictions ({name}.predict: {e})")

    def differs(a, b):
        return abs(a - b) > TOLERANCE * max(1.0, abs(a), abs(b))

    for i, mine in enumerate(ours):
        if not mine["decided"]:
            continue
        if spec["kind"] == REGRESSOR_KIND:
            bad = differs(mine["value"], float(predicted[i]))
        else:
            label = spec["classes"][mine["class"]]
            bad = str(predicted[i]) != str(label) or any(
                differs(a, b) for a, b in zip(mine["probabilities"], proba[i])
            )
        if bad:
            ctx.refuse(
                f"{name}.predict of sklearn {sklearn.__version__} does not answer as the exporter "
                f"computes its neighbours (probe row {i}); this sklearn version is not supported "
                "for this estimator (please report it)"
            )
