"""The converter table: one small function per sklearn class, registered with the class's public
import path and the role it plays, looked up by exact type (a subclass may change behaviour, so it
is refused like an unknown class).

Roles:
  vectorizer  text -> features (CountVectorizer, TfidfVectorizer, HashingVectorizer)
  union       several text transformers side by side (FeatureUnion, ColumnTransformer)
  step        features -> features (selection, scaling, TruncatedSVD, TfidfTransformer, ...)
  classifier  features -> scores and a label, including the wrappers that hold other classifiers
  regressor   features -> a number (the model's final estimator only, never a wrapper's member)
  unwrap      a container that stands for the estimator it holds (GridSearchCV's best_estimator_)

Adding an estimator is one converter function and one `@register` line in the module of its
role; `walk.py` never names a concrete class except Pipeline.
"""

import importlib

_TABLE = []
_FAMILIES = []


class _Entry:
    def __init__(self, role, module, name, convert, setup=None):
        self.role = role
        self.module = module
        self.name = name
        self.convert = convert
        self.setup = setup
        self._cls = False  # not resolved yet

    def cls(self):
        """The class in the running sklearn, or None when this version does not have it."""
        if self._cls is False:
            try:
                if self.setup:
                    importlib.import_module(self.setup)
                self._cls = getattr(importlib.import_module(self.module), self.name, None)
            except ImportError:
                self._cls = None
        return self._cls


def register(role, module, name, setup=None):
    """Decorator: `convert` handles instances of exactly `module.name` in `role`.

    `setup` is a module to import first (sklearn's experimental enablers)."""

    def decorate(convert):
        _TABLE.append(_Entry(role, module, name, convert, setup))
        return convert

    return decorate


def register_family(role, description, predicate):
    """Decorator for a family of classes recognised by `predicate(estimator)` (e.g. every selector
    of sklearn.feature_selection); consulted after the exact types."""

    def decorate(convert):
        _FAMILIES.append((role, description, predicate, convert))
        return convert

    return decorate


def lookup(estimator, role):
    """The converter of `estimator` in `role`, or None."""
    kind = type(estimator)
    for entry in _TABLE:
        if entry.role == role and entry.cls() is kind:
            return entry.convert
    for family_role, _, predicate, convert in _FAMILIES:
        if family_role == role and predicate(estimator):
            return convert
    return None


def role_of(estimator):
    """The role `estimator` can play, or None when no converter knows it."""
    for role in ("unwrap", "vectorizer", "union", "step", "classifier", "regressor"):
        if lookup(estimator, role) is not None:
            return role
    return None


def supported(*roles):
    """Names of what the running sklearn can export in these roles, for messages."""
    names = [e.name for e in _TABLE if e.role in roles and e.cls() is not None]
    names += [description for role, description, _, _ in _FAMILIES if role in roles]
    return ", ".join(sorted(set(names), key=str.lower))


def trusted_type_names():
    """Fully qualified names of every class the exporter converts (for skops' trusted list)."""
    names = set()
    for entry in _TABLE:
        cls = entry.cls()
        if cls is not None:
            names.add(f"{cls.__module__}.{cls.__qualname__}")
    return names
