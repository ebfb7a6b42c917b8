"""Regressor converters: sklearn's linear regressors to the model's `linear_regression` object,
its tree regressors (DecisionTreeRegressor, RandomForestRegressor, ExtraTreesRegressor) to the
`tree_regression` object and its kernel regressors (SVR, NuSVR) to the `svr` object
(docs/model-format-v2.md): the final estimator of a model that answers a number per text.

Every supported linear regressor predicts with sklearn's `LinearModel._decision_function` (or the
equivalent of ElasticNet/Lasso and SGDRegressor for sparse input): `X @ coef_ + intercept_`,
which for a CSR row is scipy's csr_matvec, the products summed over the row's stored entries
from 0.0, then the intercept added; dense rows (after TruncatedSVD) go through numpy's matmul.
Read in the sources of sklearn 1.2 and 1.9. The converter checks that formula against the
estimator's own predict on synthetic rows before anything is written, so a sklearn that computes
otherwise is refused instead of exported wrong; the tree regressors are checked the same way
(see their section below).

Single-target only: a regressor fitted on a 2-D y (its coef_ is 2-D, or a tree's n_outputs_ is
more than 1) is refused. A regressor is the model's final estimator, never a member of a
classifier wrapper (walk.convert_member refuses it there).
"""

from .base import close, finite_list, float64_array
from .classifiers import Classified, support_vectors_csr, support_vectors_spec, svm_kernel
from .registry import register
from .trees import (
    fitted_trees,
    leaf_numbers,
    probe_trees,
    tree_leaves,
    tree_nodes,
    version_refusal,
)

PREDICT_TOLERANCE = 1e-9

# The final estimator kinds that answer a number per text (no classes, no label).
KINDS = ("linear_regression", "tree_regression", "svr", "k_neighbors_regression")


def _coef(clf, ctx):
    """coef_ as a 1-D float64 array of ctx.width weights; refuses multi-output regressors."""
    from scipy import sparse

    name = type(clf).__name__
    raw = clf.coef_
    sparsified = sparse.issparse(raw)  # SGDRegressor.sparsify(): a (1, n) sparse matrix
    coef = float64_array(raw, ctx, f"{name}.coef_")
    if sparsified and coef.ndim == 2 and coef.shape[0] == 1:
        coef = coef[0]
    if coef.ndim == 2:
        if coef.shape[0] == 1:
            what, todo = "a 2-D target of one column", "fit it on a 1-D y (y.ravel())"
        else:
            what, todo = f"{coef.shape[0]} target columns", "fit one regressor per column, on a 1-D y"
        ctx.refuse(
            f"{name} was fitted on {what} (coef_ of shape {coef.shape}); multi-output regression "
            f"is not supported: mod_classify answers one number per text; {todo}"
        )
    if coef.ndim != 1 or coef.shape[0] != ctx.width:
        ctx.refuse(
            f"{name} has weights of shape {coef.shape} but the previous step produces "
            f"{ctx.width} features; they were not fitted together"
        )
    return coef


def _intercept(clf, ctx):
    import numpy as np

    name = type(clf).__name__
    intercept = np.asarray(clf.intercept_)
    if intercept.size != 1:
        ctx.refuse(
            f"{name} has {intercept.size} intercepts (intercept_ of shape {intercept.shape}); "
            "multi-output regression is not supported"
        )
    if intercept.dtype.kind == "f" and intercept.dtype != np.float64:
        ctx.refuse(f"{name}.intercept_ is {intercept.dtype}; refit on float64 features")
    return finite_list([float(intercept.ravel()[0])], f"{ctx.where}.intercept")[0]


def signed_rows(width, n_rows=8, per_row=200, seed=0):
    """A few sparse rows (sorted columns, values of both signs), the first one empty."""
    import numpy as np
    from scipy import sparse

    rng = np.random.RandomState(seed)
    indptr, indices, data = [0], [], []
    for row in range(n_rows):
        count = 0 if row == 0 else min(width, int(rng.randint(1, per_row + 1)))
        columns = np.sort(rng.choice(width, size=count, replace=False))
        indices += columns.tolist()
        data += rng.uniform(-1.0, 3.0, size=count).tolist()
        indptr.append(len(indices))
    return sparse.csr_matrix(
        (np.asarray(data, dtype=np.float64), np.asarray(indices, dtype=np.int32),
         np.asarray(indptr, dtype=np.int32)),
        shape=(n_rows, width),
    )


def regression_values(spec, X):
    """What docs/model-format-v2.md says a `linear_regression` object answers for the rows of X
    (CSR or dense): per row, the products summed in column order from 0.0, then the intercept."""
    import numpy as np
    from scipy import sparse

    coef = spec["coef"]
    values = []
    if sparse.issparse(X):
        X = sparse.csr_matrix(X)
        X.sort_indices()
        for a, b in zip(X.indptr, X.indptr[1:]):
            total = 0.0
            for j, v in zip(X.indices[a:b].tolist(), X.data[a:b].tolist()):
                total += v * coef[j]
            values.append(total + spec["intercept"])
    else:
        for row in np.asarray(X, dtype=np.float64).tolist():
            total = 0.0
            for v, w in zip(row, coef):
                total += v * w
            values.append(total + spec["intercept"])
    return np.asarray(values, dtype=np.float64)


def check_predict(clf, ctx, spec):
    """Refuses the model unless clf.predict is x · coef + intercept (within 1e-9) on synthetic
    rows, sparse, or dense when the regressor reads dense rows (after TruncatedSVD)."""
    X = signed_rows(ctx.width)
    if ctx.dense:
        X = X.toarray()
    _refuse_unless_predicts(clf, ctx, X, regression_values(spec, X), "x · coef_ + intercept_")


def _predicted(clf, ctx, X):
    """clf.predict(X) as float64; the model is refused if sklearn cannot predict these rows."""
    import numpy as np

    try:
        return np.asarray(clf.predict(X), dtype=np.float64)
    except Exception as e:  # noqa: BLE001
        ctx.refuse(f"cannot check the predictions ({type(clf).__name__}.predict: {e})")


def _refuse_unless_predicts(clf, ctx, X, ours, formula):
    """Refuses the model unless clf.predict(X) is `ours` within 1e-9, i.e. this sklearn computes
    `formula` as the exporter expects."""
    import sklearn

    if not close(ours, _predicted(clf, ctx, X), PREDICT_TOLERANCE):
        ctx.refuse(
            f"{type(clf).__name__}.predict of sklearn {sklearn.__version__} does not compute "
            f"{formula} as the exporter expects; this sklearn version is not supported for this "
            "estimator (please report it)"
        )


def _linear_regressor(clf, ctx):
    name = type(clf).__name__
    if not hasattr(clf, "coef_"):
        ctx.refuse(f"{name} is not fitted (it has no coef_)")
    ctx.check_width(clf)
    coef = _coef(clf, ctx)
    spec = {
        "kind": "linear_regression",
        "estimator": name,
        "coef": finite_list(coef, f"{ctx.where}.coef"),
        "intercept": _intercept(clf, ctx),
    }
    check_predict(clf, ctx, spec)
    return Classified(spec, [])


for _module, _name in (
    ("sklearn.linear_model", "Ridge"),
    ("sklearn.linear_model", "RidgeCV"),
    ("sklearn.linear_model", "LinearRegression"),
    ("sklearn.linear_model", "SGDRegressor"),
    ("sklearn.linear_model", "ElasticNet"),
    ("sklearn.linear_model", "Lasso"),
    ("sklearn.linear_model", "ElasticNetCV"),
    ("sklearn.linear_model", "LassoCV"),
    ("sklearn.svm", "LinearSVR"),
):
    register("regressor", _module, _name)(_linear_regressor)
del _module, _name


# ----------------------------------------------------------------------------------------------
# Tree regressors: DecisionTreeRegressor, RandomForestRegressor, ExtraTreesRegressor (kind
# `tree_regression`)
#
# DecisionTreeRegressor.predict is tree_.predict(X)[:, 0]: the leaf's tree_.value[leaf, 0, 0],
# as stored, for every criterion (squared_error, friedman_mse, absolute_error, poisson: each
# stores the leaf's prediction in value; checked in sklearn 1.2.1 and 1.9.1). The walk is the
# classification trees' (float32 values against float64 thresholds). ForestRegressor.predict
# starts from zeros, adds each tree's predict (in the trees' order when n_jobs is 1; threads may
# add them in another order, hence the 1e-9 of the final check) and divides by the number of
# trees. Each tree's leaves are checked bit for bit on rows made to reach them, and the whole
# estimator's predict on synthetic rows and rows at the thresholds, before anything is written.


def _tree_regression_object(member, ctx, what):
    arrays, leaf_value = tree_nodes(member, 1, ctx, what)
    return {
        **arrays,
        "leaf_values": [[v] for v in finite_list(leaf_value[:, 0], f"{ctx.where} {what} leaf_values")],
    }


def tree_regression_values(spec, X):
    """What docs/model-format-v2.md says a `tree_regression` object answers for the rows of X
    (CSR): "single" the leaf's number; "mean" the trees' numbers summed in order from 0.0,
    divided by the number of trees."""
    import numpy as np

    total = np.zeros(X.shape[0], dtype=np.float64)
    for tree in spec["trees"]:
        values = np.asarray(tree["leaf_values"], dtype=np.float64)[:, 0]
        total += values[leaf_numbers(tree)[tree_leaves(tree, X)]]
    if spec["combine"] == "mean":
        total /= len(spec["trees"])
    return total


def _check_tree_regression(clf, ctx, spec, members):
    """Refuses the model unless every tree sends a row made for each leaf to that leaf and
    predicts the leaf's number there (bit for bit), and the whole estimator's predict follows
    `combine` (within 1e-9) on synthetic rows and on rows at the thresholds."""
    import numpy as np

    unsupported = version_refusal(clf, ctx)

    def check_leaves(index, member, tree, rows, leaves):
        try:
            predicted = np.asarray(member.predict(rows), dtype=np.float64)
        except Exception as e:  # noqa: BLE001
            ctx.refuse(f"cannot check tree {index} ({type(member).__name__}: {e})")
        ours = np.asarray(tree["leaf_values"], dtype=np.float64)[leaves, 0]
        if not np.array_equal(ours, predicted):
            unsupported(f"tree {index}'s predict is not tree_.value of its leaves")

    X = probe_trees(members, spec, ctx, unsupported, signed_rows(ctx.width), check_leaves)
    ours = tree_regression_values(spec, X)
    theirs = _predicted(clf, ctx, X.toarray() if ctx.dense else X)
    if not close(ours, theirs, PREDICT_TOLERANCE):
        unsupported(f"predict does not follow combine={spec['combine']!r}")


def _tree_single_output(clf, ctx):
    n_outputs = int(getattr(clf, "n_outputs_", 1))
    if n_outputs != 1:
        ctx.refuse(
            f"{type(clf).__name__} was fitted on {n_outputs} target columns (multi-output); "
            "multi-output regression is not supported: mod_classify answers one number per "
            "text; fit one regressor per column, on a 1-D y"
        )


def _tree_regression(clf, ctx, forest):
    name = type(clf).__name__
    members, combine = fitted_trees(clf, ctx, forest)
    _tree_single_output(clf, ctx)
    ctx.check_width(clf)
    trees = [
        _tree_regression_object(member, ctx, f"tree {index}" if combine == "mean" else name)
        for index, member in enumerate(members)
    ]
    spec = {"kind": "tree_regression", "estimator": name, "combine": combine, "trees": trees}
    _check_tree_regression(clf, ctx, spec, members)
    return Classified(spec, [])


@register("regressor", "sklearn.tree", "DecisionTreeRegressor")
def decision_tree_regressor(clf, ctx):
    return _tree_regression(clf, ctx, forest=False)


@register("regressor", "sklearn.ensemble", "RandomForestRegressor")
def random_forest_regressor(clf, ctx):
    return _tree_regression(clf, ctx, forest=True)


@register("regressor", "sklearn.ensemble", "ExtraTreesRegressor")
def extra_trees_regressor(clf, ctx):
    return _tree_regression(clf, ctx, forest=True)


# ----------------------------------------------------------------------------------------------
# Kernel regressors: SVR, NuSVR (kind `svr`)
#
# BaseLibSVM.predict hands libsvm _dual_coef_ and _intercept_; sklearn negates the public
# dual_coef_ and intercept_ only for a two-class SVC/NuSVC, so for a regressor they are the
# same arrays (sklearn 1.2.1 and 1.9.1, svm/_base.py). libsvm's svm_predict_values for
# EPSILON_SVR and NU_SVR: sum = 0; sum += sv_coef[0][i] * k_function(x, SV[i]) for every support
# vector in order; sum -= rho, where rho = -intercept_ (libsvm_helper.c's copy_intercept and
# set_model negate it both ways, exactly). The kernel values are the SVC's (classifiers.py,
# crates/classify-core/src/model/kernel.rs): libsvm's sparse kernels on a sparse fit; on a dense
# fit (after TruncatedSVD) BLAS's ddot, whose grouping of the same sum differs in the last bits.
# The estimator's own predict is checked against that formula before anything is written.


def svr_values(spec, X, width):
    """What docs/model-format-v2.md says an `svr` object answers for the rows of X (CSR or
    dense): the dual coefficients times the kernel values, summed, plus the intercept (numpy's
    sums, in another order than libsvm's: equal within 1e-9, not bit for bit)."""
    import numpy as np
    from scipy import sparse

    vectors = spec["support_vectors"]
    sv = sparse.csr_matrix(
        (np.asarray(vectors["data"], dtype=np.float64), np.asarray(vectors["indices"]),
         np.asarray(vectors["indptr"])),
        shape=(len(vectors["indptr"]) - 1, width),
    )
    X = sparse.csr_matrix(X, dtype=np.float64)
    dot = np.asarray((X @ sv.T).todense(), dtype=np.float64)
    gamma, coef0, kernel = spec["gamma"], spec["coef0"], spec["kernel"]
    if kernel == "linear":
        values = dot
    elif kernel == "poly":
        values = (gamma * dot + coef0) ** spec["degree"]
    elif kernel == "sigmoid":
        values = np.tanh(gamma * dot + coef0)
    else:
        xx = np.asarray(X.multiply(X).sum(axis=1), dtype=np.float64)
        yy = np.asarray(sv.multiply(sv).sum(axis=1), dtype=np.float64).T
        values = np.exp(-gamma * np.maximum(xx + yy - 2 * dot, 0.0))
    return values @ np.asarray(spec["dual_coef"], dtype=np.float64) + spec["intercept"]


def _svr_probe_rows(sv):
    """Rows like the regressor's own input: an empty row, the first support vectors, and the
    midpoints of consecutive ones (where the kernel values are neither 1 nor vanishing)."""
    from scipy import sparse

    rows = [sparse.csr_matrix((1, sv.shape[1])), sv[:6]]
    pairs = min(5, sv.shape[0] - 1)
    if pairs > 0:
        rows.append((sv[:pairs] + sv[1:pairs + 1]) * 0.5)
    return sparse.csr_matrix(sparse.vstack(rows))


def _check_svr(clf, ctx, spec, sv):
    """Refuses the model unless clf.predict follows the `svr` formula within 1e-9 on rows made
    from its support vectors (dense ones when the regressor reads dense rows or was fitted on a
    dense matrix, as libsvm's dense build refuses sparse input)."""
    X = _svr_probe_rows(sv)
    ours = svr_values(spec, X, ctx.width)
    dense = ctx.dense or getattr(clf, "_sparse", None) is False
    formula = "dual_coef_ · K(support_vectors_, x) + intercept_"
    _refuse_unless_predicts(clf, ctx, X.toarray() if dense else X, ours, formula)


def _svr(clf, ctx):
    """SVR / NuSVR: support vectors (CSR), dual_coef_[0] (one per support vector), intercept_[0];
    gamma is the fitted _gamma ('scale'/'auto' resolved)."""
    import numpy as np
    from scipy import sparse

    name = type(clf).__name__
    kernel = svm_kernel(clf, ctx)
    sv = support_vectors_csr(clf, ctx)
    n_sv = sv.shape[0]
    dual_coef = clf.dual_coef_
    dual_coef = dual_coef.toarray() if sparse.issparse(dual_coef) else np.asarray(dual_coef)
    if dual_coef.shape != (1, n_sv):
        ctx.refuse(f"{name}.dual_coef_ has shape {dual_coef.shape}, expected {(1, n_sv)}")
    intercept = np.ravel(np.asarray(clf.intercept_, dtype=np.float64))
    if intercept.shape != (1,):
        ctx.refuse(f"{name}.intercept_ has shape {np.shape(clf.intercept_)}, expected (1,)")
    spec = {
        "kind": "svr",
        "estimator": name,
        "kernel": kernel,
        "gamma": finite_list([float(clf._gamma)], f"{ctx.where}.gamma")[0],
        "coef0": finite_list([float(clf.coef0)], f"{ctx.where}.coef0")[0],
        "degree": int(clf.degree),
        "support_vectors": support_vectors_spec(sv),
        "dual_coef": finite_list(dual_coef[0], f"{ctx.where}.dual_coef"),
        "intercept": finite_list(intercept, f"{ctx.where}.intercept")[0],
    }
    _check_svr(clf, ctx, spec, sv)
    return Classified(spec, [])


@register("regressor", "sklearn.svm", "SVR")
def svr(clf, ctx):
    return _svr(clf, ctx)


@register("regressor", "sklearn.svm", "NuSVR")
def nu_svr(clf, ctx):
    return _svr(clf, ctx)
