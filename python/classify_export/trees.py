"""What the tree converters share (kinds `trees` and `tree_regression`): the checked node arrays
of a fitted sklearn tree, the walk docs/model-format-v2.md defines (float32 values against double
thresholds), rows built to reach every leaf, and the check that sklearn's trees answer there as
the exported model will, before anything is written."""

from .base import finite_list

TREE_LEAF = -1


def fitted_trees(clf, ctx, forest):
    """(the fitted trees, "mean") of a forest, or ([the tree], "single") of a single tree."""
    name = type(clf).__name__
    if not forest:
        if not hasattr(clf, "tree_"):
            ctx.refuse(f"{name} is not fitted (it has no tree_)")
        return [clf], "single"
    if not hasattr(clf, "estimators_"):
        ctx.refuse(f"{name} is not fitted (it has no estimators_)")
    if not clf.estimators_:
        ctx.refuse(f"{name} has no trees")
    return list(clf.estimators_), "mean"


def tree_nodes(member, n_classes, ctx, what):
    """The checked node arrays of one fitted sklearn tree: (the model tree object's
    children_left, children_right, feature and threshold, tree_.value of its leaves in node order
    as an (n_leaves, n_classes) float64 array). A regression tree has n_classes 1."""
    import numpy as np

    tree = getattr(member, "tree_", None)
    if tree is None:
        ctx.refuse(f"{what} is not fitted (it has no tree_)")
    if int(tree.n_outputs) != 1:
        ctx.refuse(f"{what} has {int(tree.n_outputs)} outputs; one is supported")
    if [int(k) for k in np.atleast_1d(tree.n_classes)] != [n_classes]:
        ctx.refuse(f"{what} has {list(np.atleast_1d(tree.n_classes))} classes, expected {n_classes}")
    if int(tree.n_features) != ctx.width:
        ctx.refuse(
            f"{what} was fitted on {int(tree.n_features)} features but the previous step produces "
            f"{ctx.width}; they were not fitted together"
        )
    n_nodes = int(tree.node_count)
    left = np.asarray(tree.children_left, dtype=np.int64)
    right = np.asarray(tree.children_right, dtype=np.int64)
    feature = np.asarray(tree.feature, dtype=np.int64)
    threshold = np.asarray(tree.threshold)
    value = np.asarray(tree.value)
    if threshold.dtype != np.float64 or value.dtype != np.float64:
        ctx.refuse(f"{what} holds {threshold.dtype} thresholds and {value.dtype} values, not float64")
    shapes = [a.shape for a in (left, right, feature, threshold)]
    if n_nodes < 1 or shapes != [(n_nodes,)] * 4 or value.shape != (n_nodes, 1, n_classes):
        ctx.refuse(f"{what} has node arrays of shapes {shapes} and {value.shape} for {n_nodes} nodes")
    leaves = left == TREE_LEAF
    internal = ~leaves
    nodes = np.arange(n_nodes)
    if (
        not np.array_equal(leaves, right == TREE_LEAF)
        or (left[internal] <= nodes[internal]).any()
        or (right[internal] <= nodes[internal]).any()
        or (left[internal] >= n_nodes).any()
        or (right[internal] >= n_nodes).any()
    ):
        ctx.refuse(f"{what} is not a tree whose children follow their parents in node order")
    if ((feature[internal] < 0) | (feature[internal] >= ctx.width)).any():
        ctx.refuse(f"{what} splits on a feature outside 0..{ctx.width - 1}")
    arrays = {
        "children_left": left.tolist(),
        "children_right": right.tolist(),
        "feature": feature.tolist(),
        "threshold": finite_list(threshold, f"{ctx.where} {what} threshold"),
    }
    return arrays, value[leaves, 0, :]



def leaf_rows(tree, width):
    """Float32 rows that reach the leaves of `tree` (a model tree object), one per leaf whose
    path admits a float32 value for every feature it tests: (CSR float32 rows, leaf node of each
    row, the same rows with each tested feature set to its last left-turn threshold as a float64
    value where there is one, which only the float32 rounding sends one way or the other)."""
    import numpy as np
    from scipy import sparse

    left, right = tree["children_left"], tree["children_right"]
    feature, threshold = tree["feature"], tree["threshold"]
    rows, at_threshold, reached = [], [], []
    stack = [(0, {})]  # node, {feature: (low exclusive, high inclusive)}
    with np.errstate(over="ignore"):  # a threshold beyond float32's range rounds to inf
        while stack:
            node, bounds = stack.pop()
            if left[node] != TREE_LEAF:
                f, t = feature[node], threshold[node]
                low, high = bounds.get(f, (-np.inf, np.inf))
                stack.append((right[node], {**bounds, f: (max(low, t), high)}))
                stack.append((left[node], {**bounds, f: (low, min(high, t))}))
                continue
            row, edge = {}, {}
            for f, (low, high) in bounds.items():
                if low < 0.0 <= high:
                    value = None  # an absent feature
                elif high < np.inf:
                    value = np.float32(high)
                    if float(value) > high:
                        value = np.nextafter(value, np.float32(-np.inf))
                else:
                    value = np.float32(low)
                    if float(value) <= low:
                        value = np.nextafter(value, np.float32(np.inf))
                if value is not None and not low < float(value) <= high:
                    break  # no float32 reaches this leaf
                if value is not None:
                    row[f] = value
                if high < np.inf:
                    edge[f] = high
                elif value is not None:
                    edge[f] = float(value)
            else:
                rows.append(row)
                at_threshold.append(edge)
                reached.append(node)

    def csr(dicts, dtype):
        indptr, indices, data = [0], [], []
        for d in dicts:
            for f in sorted(d):
                indices.append(f)
                data.append(d[f])
            indptr.append(len(indices))
        return sparse.csr_matrix(
            (np.asarray(data, dtype=dtype), np.asarray(indices, dtype=np.int32),
             np.asarray(indptr, dtype=np.int32)),
            shape=(len(dicts), width),
        )

    return csr(rows, np.float32), np.asarray(reached, dtype=np.int64), csr(at_threshold, np.float64)



def tree_leaves(tree, X):
    """The leaf node each row of X (CSR, float64) reaches, as docs/model-format-v2.md defines it:
    a value goes left when float(np.float32(value)) <= threshold; absent features are 0.0."""
    import numpy as np

    X = X.tocsr()
    left = np.asarray(tree["children_left"])
    right = np.asarray(tree["children_right"])
    feature = np.asarray(tree["feature"])
    threshold = np.asarray(tree["threshold"], dtype=np.float64)
    rows = np.arange(X.shape[0])
    node = np.zeros(X.shape[0], dtype=np.int64)
    active = left[node] != TREE_LEAF
    while active.any():
        at = node[active]
        values = np.asarray(X[rows[active], feature[at]], dtype=np.float64).ravel()
        rounded = values.astype(np.float32).astype(np.float64)
        node[active] = np.where(rounded <= threshold[at], left[at], right[at])
        active = left[node] != TREE_LEAF
    return node


def leaf_numbers(tree):
    """For each node of a model tree object, its index among the leaves (meaningful at leaves)."""
    import numpy as np

    return np.cumsum(np.asarray(tree["children_left"]) == TREE_LEAF) - 1


def version_refusal(clf, ctx):
    """The refusal for an sklearn whose trees do not answer as the model format says."""
    import sklearn

    name = type(clf).__name__

    def unsupported(what):
        ctx.refuse(
            f"{name} of sklearn {sklearn.__version__}: {what}; this sklearn version is not "
            "supported for this estimator (please report it)"
        )

    return unsupported


def probe_trees(members, spec, ctx, unsupported, synthetic, check_leaves):
    """Sends rows made for each leaf of each tree through that sklearn tree: `apply` must reach
    the leaf, then `check_leaves(index, member, tree, rows, leaf numbers reached)` compares the
    tree's own answers with the leaves'. Returns the rows the whole estimator is then checked on
    (CSR): `synthetic`, and the first trees' leaf rows and rows at their thresholds, where only
    the float32 rounding of a value decides the way."""
    import numpy as np
    from scipy import sparse

    probes = [synthetic]
    for index, (member, tree) in enumerate(zip(members, spec["trees"])):
        rows, reached, at_threshold = leaf_rows(tree, ctx.width)
        if index < 4:
            probes += [rows[:50].astype(np.float64), at_threshold[:50]]
        if rows.shape[0] == 0:
            continue
        try:
            applied = np.asarray(member.apply(rows))
        except Exception as e:  # noqa: BLE001
            ctx.refuse(f"cannot check tree {index} ({type(member).__name__}: {e})")
        if not np.array_equal(applied, reached):
            unsupported(f"tree {index} does not send values <= threshold to the left")
        check_leaves(index, member, tree, rows, leaf_numbers(tree)[reached])
    return sparse.vstack(probes, format="csr")

