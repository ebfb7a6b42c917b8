"""What every converter shares: the two exceptions, the conversion context that says where in the
estimator a converter is (for messages) and how wide its input is, and the checks that turn
sklearn's arrays and labels into JSON-ready lists.

Every refusal is an `Unsupported` whose message starts with the place in the estimator (the step's
name and class) and says what to do, so the command line can print it as is, without a traceback.
"""


class Unsupported(Exception):
    """The model uses something mod_classify cannot reproduce exactly (exit status 2)."""


class VerifyFailed(Exception):
    """Verification found predictions that differ from sklearn's (exit status 1)."""


class Context:
    """Where a converter is and what comes in.

    `where` names the estimator in messages ("step 'clf' (LinearSVC)"), `width` is the number of
    columns the previous stage produces, and `dense` says whether those rows are dense (after a
    `project` step) or sparse, which decides what sklearn itself accepts (centering needs dense).
    `labels` are the names the user gave a multi-label model's indicator columns (to_model's
    `labels=`, classify-export's --labels), for the model's final estimator only: a child (a
    wrapper's member) never gets them, as members predict 0 or 1 for one column.
    """

    def __init__(self, where, width=None, dense=False, labels=None):
        self.where = where
        self.width = width
        self.dense = dense
        self.labels = labels

    def child(self, where, width=None, dense=None):
        return Context(
            where,
            self.width if width is None else width,
            self.dense if dense is None else dense,
        )

    def refuse(self, message):
        raise Unsupported(f"{self.where}: {message}")

    def check_width(self, estimator, what="features"):
        """Refuses an estimator fitted on another number of columns than the previous stage makes."""
        n_in = getattr(estimator, "n_features_in_", None)
        if n_in is not None and self.width is not None and int(n_in) != self.width:
            self.refuse(
                f"{type(estimator).__name__} was fitted on {int(n_in)} {what} but the previous "
                f"step produces {self.width}; the steps were not fitted together"
            )


def describe(name, estimator):
    """How messages name an estimator: its name in the pipeline and its class."""
    kind = type(estimator).__name__
    return f"step {name!r} ({kind})" if name else kind


def finite_list(values, field):
    """A float64 array as nested lists of Python floats, refusing NaN and infinities."""
    import numpy as np

    array = np.asarray(values, dtype=np.float64)
    bad = np.flatnonzero(~np.isfinite(array.ravel()))
    if bad.size:
        position = np.unravel_index(bad[0], array.shape)
        index = "".join(f"[{i}]" for i in position)
        raise Unsupported(
            f"{field}{index} is {array[position]!r}: the model holds a non-finite number; "
            "retrain it (check the training data for empty classes or the regularization)"
        )
    return array.tolist()


def float64_array(values, ctx, what):
    """The array as float64, refusing other float types (the decision values would differ)."""
    import numpy as np
    from scipy import sparse

    if sparse.issparse(values):
        values = values.toarray()
    array = np.asarray(values)
    if array.dtype != np.float64:
        ctx.refuse(
            f"{what} are {array.dtype}; mod_classify computes in float64 and the results "
            "would differ: refit on float64 features"
        )
    return array


def export_labels(classes, label="classifier"):
    """`classes_` as a list of str or int; anything else (floats, bools, bytes) is refused."""
    import numpy as np

    classes = np.asarray(classes)
    if classes.dtype.kind in "iu":
        return [int(c) for c in classes]
    if classes.dtype.kind in "US":
        if classes.dtype.kind == "S":
            raise Unsupported(f"{label}: classes_ are bytes ({classes.dtype}); retrain with str labels")
        return [str(c) for c in classes]
    if classes.dtype.kind == "O":
        if all(isinstance(c, str) for c in classes):
            return [str(c) for c in classes]
        if all(
            isinstance(c, (int, np.integer)) and not isinstance(c, (bool, np.bool_)) for c in classes
        ):
            return [int(c) for c in classes]
    kinds = sorted({type(c).__name__ for c in classes.tolist()})
    raise Unsupported(
        f"{label}: classes_ have dtype {classes.dtype} ({', '.join(kinds)}; e.g. "
        f"{classes[:3].tolist()!r}); mod_classify labels are strings or integers: retrain with "
        "str or int labels"
    )


def close(ours, theirs, tolerance):
    """Same shape, and every value within `tolerance` relative (absolute below 1)."""
    import numpy as np

    return ours.shape == theirs.shape and bool(
        (
            np.abs(ours - theirs)
            <= tolerance * np.maximum(1.0, np.maximum(np.abs(ours), np.abs(theirs)))
        ).all()
    )
