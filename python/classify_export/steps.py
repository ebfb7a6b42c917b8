"""Step converters: the transformers between the vectorizer and the classifier, each to one or
more `steps` objects of docs/model-format-v2.md (select, scale, center, normalize, tfidf, binarize,
project).

Each converter gets the context (the previous stage's width and whether its rows are dense),
checks that the step was fitted on that width, and returns its step objects with the width and
density of its output. sklearn's own rules decide density: TruncatedSVD makes rows dense, a
TfidfTransformer makes them sparse again, the others keep what they get.
"""

from collections import namedtuple

from .base import finite_list, float64_array
from .registry import register, register_family
from .vectorizers import norm, tfidf_spec

# What a step converter returns: a list of step objects (maybe empty), the output width and
# whether the output rows are dense.
Stepped = namedtuple("Stepped", "specs width dense")


def _step(kind, estimator, **fields):
    return {"kind": kind, "estimator": type(estimator).__name__, **fields}


@register("step", "sklearn.feature_extraction.text", "TfidfTransformer")
def tfidf_transformer(step, ctx):
    # A TfidfTransformer right after the vectorizer becomes the top-level (or branch) `tfidf`;
    # walk.py handles that. Anywhere else it is a step. sklearn turns dense input into CSR.
    ctx.check_width(step)
    return Stepped([_step("tfidf", step, **tfidf_spec(step, ctx, ctx.width))], ctx.width, False)


@register("step", "sklearn.preprocessing", "Normalizer")
def normalizer(step, ctx):
    ctx.check_width(step)
    value = norm(step.norm, ctx, "Normalizer", allowed=("l1", "l2", "max"))
    if value is None:
        ctx.refuse("Normalizer(norm=None) is not a valid sklearn setting")
    return Stepped([_step("normalize", step, norm=value)], ctx.width, ctx.dense)


def _scale(step, ctx, values):
    scale = float64_array(values, ctx, f"{type(step).__name__}.scale_")
    if scale.shape != (ctx.width,):
        ctx.refuse(f"{type(step).__name__}.scale_ has shape {scale.shape}, expected ({ctx.width},)")
    if (scale == 0).any():
        ctx.refuse(f"{type(step).__name__}.scale_ holds a zero (sklearn replaces those by 1)")
    return _step("scale", step, scale=finite_list(scale, f"{ctx.where}.scale"))


@register("step", "sklearn.preprocessing", "MaxAbsScaler")
def max_abs_scaler(step, ctx):
    ctx.check_width(step)
    if getattr(step, "clip", False):
        ctx.refuse(
            "MaxAbsScaler(clip=True) is not supported: the model format has no clipping step; "
            "refit with clip=False"
        )
    if not hasattr(step, "scale_"):
        ctx.refuse("MaxAbsScaler is not fitted (it has no scale_)")
    return Stepped([_scale(step, ctx, step.scale_)], ctx.width, ctx.dense)


@register("step", "sklearn.preprocessing", "StandardScaler")
def standard_scaler(step, ctx):
    ctx.check_width(step)
    specs = []
    if step.with_mean:
        if not ctx.dense:
            # sklearn itself refuses to center sparse rows; only a dense input (after
            # TruncatedSVD) can have been fitted.
            ctx.refuse(
                "StandardScaler(with_mean=True) on sparse features cannot be reproduced (sklearn "
                "refuses to center sparse matrices); use with_mean=False, or put it after a "
                "TruncatedSVD"
            )
        mean = float64_array(step.mean_, ctx, "StandardScaler.mean_")
        if mean.shape != (ctx.width,):
            ctx.refuse(f"StandardScaler.mean_ has shape {mean.shape}, expected ({ctx.width},)")
        specs.append(_step("center", step, mean=finite_list(mean, f"{ctx.where}.mean")))
    if step.with_std and getattr(step, "scale_", None) is not None:
        specs.append(_scale(step, ctx, step.scale_))
    return Stepped(specs, ctx.width, ctx.dense)


@register("step", "sklearn.preprocessing", "Binarizer")
def binarizer(step, ctx):
    ctx.check_width(step)
    threshold = float(step.threshold)
    if threshold < 0:
        ctx.refuse(
            f"Binarizer(threshold={threshold!r}) is not supported: a negative threshold turns "
            "absent features into ones; use a threshold >= 0"
        )
    return Stepped([_step("binarize", step, threshold=threshold)], ctx.width, ctx.dense)


@register("step", "sklearn.decomposition", "TruncatedSVD")
def truncated_svd(step, ctx):
    ctx.check_width(step)
    if not hasattr(step, "components_"):
        ctx.refuse("TruncatedSVD is not fitted (it has no components_)")
    components = float64_array(step.components_, ctx, "TruncatedSVD.components_")
    if components.ndim != 2 or components.shape[1] != ctx.width:
        ctx.refuse(
            f"TruncatedSVD.components_ has shape {components.shape}, expected (k, {ctx.width})"
        )
    spec = _step(
        "project",
        step,
        n_features_in=ctx.width,
        components=finite_list(components, f"{ctx.where}.components"),
    )
    return Stepped([spec], int(components.shape[0]), True)


def _is_selector(estimator):
    module = type(estimator).__module__
    return module.startswith("sklearn.feature_selection") and callable(
        getattr(estimator, "get_support", None)
    )


@register_family("step", "every selector of sklearn.feature_selection (get_support)", _is_selector)
def selector(step, ctx):
    ctx.check_width(step)
    try:
        mask = step.get_support()
        support = step.get_support(indices=True)
    except Exception as e:  # noqa: BLE001 - unfitted selectors raise various errors
        ctx.refuse(f"{type(step).__name__}.get_support() failed ({e}); is it fitted?")
    if len(mask) != ctx.width:
        ctx.refuse(
            f"{type(step).__name__} selects among {len(mask)} features but the previous step "
            f"produces {ctx.width}"
        )
    support = [int(i) for i in support]
    spec = _step("select", step, n_features_in=ctx.width, support=support)
    return Stepped([spec], len(support), ctx.dense)
