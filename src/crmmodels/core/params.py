"""Hyper-parameter constraints, declared once per model and checked by one function.

In the spirit of scikit-learn's ``_parameter_constraints``: a model lists, for each
hyper-parameter, the constraints a valid value satisfies (any one of them suffices)::

    _parameter_constraints = {
        "bins": [Interval(Integral, 2, 9, closed="both")],
        "method": [Options({"quantile", "fixed"})],
        "observation_end": [None, Date()],
    }

:func:`check_params` validates them at every ``fit`` and writes every message the same
way: ``RFMModel: bins must be an int in [2, 9], got 1.5``. numpy scalars pass wherever
the Python type does; a bool is not a number and ``52.0`` is not an int.

Examples
--------
>>> from numbers import Integral
>>> check_params("RFMModel", {"bins": 1.5}, {"bins": [Interval(Integral, 2, 9)]})
Traceback (most recent call last):
...
crmmodels.errors.InvalidParameterError: RFMModel: bins must be an int in [2, 9], got 1.5
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from numbers import Integral, Real
from typing import Any, Literal

import numpy as np
import pandas as pd

from crmmodels.errors import InvalidParameterError

__all__ = [
    "Boolean",
    "ColumnName",
    "Constraint",
    "Date",
    "HasMethods",
    "Interval",
    "Options",
    "Predicate",
    "RandomState",
    "TimeSpan",
    "check_params",
    "invalid_values",
]

_MISSING = object()


class Constraint:
    """One way a hyper-parameter's value can be valid."""

    def is_satisfied_by(self, value: Any) -> bool:
        """Return whether ``value`` satisfies the constraint."""
        raise NotImplementedError

    def description(self) -> str:
        """Describe valid values, e.g. ``"an int in [2, 9]"``."""
        raise NotImplementedError

    def invalid_examples(self) -> list[Any]:
        """Return values that break this constraint (for the contract checks)."""
        return ["__not_valid__"]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.description()!r})"


def _is_bool(value: Any) -> bool:
    return isinstance(value, bool | np.bool_)


def _is_int(value: Any) -> bool:
    return isinstance(value, Integral) and not _is_bool(value)


def _is_real(value: Any) -> bool:
    return isinstance(value, Real) and not _is_bool(value)


class Interval(Constraint):
    """A number in an interval: ``Interval(Integral, 1, None, closed="left")``.

    Parameters
    ----------
    kind : numbers.Integral or numbers.Real
        ``Integral`` admits Python and numpy integers (never floats such as ``52.0``,
        never bools); ``Real`` admits any finite real number, integers included.
    left, right : number or None
        Bounds; ``None`` is unbounded.
    closed : {"both", "left", "right", "neither"}, default "both"
        Which bounds belong to the interval.

    Examples
    --------
    >>> Interval(Real, 0, None, closed="neither").is_satisfied_by(np.float32(0.5))
    True
    >>> Interval(Integral, 1, None).is_satisfied_by(52.0)
    False
    """

    def __init__(self, kind: type, left: float | None, right: float | None, *,
                 closed: Literal["both", "left", "right", "neither"] = "both") -> None:
        if kind not in (Integral, Real):
            raise TypeError("kind must be numbers.Integral or numbers.Real")
        self.kind = kind
        self.left = left
        self.right = right
        self.closed = closed

    def is_satisfied_by(self, value: Any) -> bool:  # noqa: D102
        if self.kind is Integral:
            if not _is_int(value):
                return False
        elif not _is_real(value) or not math.isfinite(float(value)):
            return False
        v = float(value)
        if self.left is not None and (v < self.left or (
                v == self.left and self.closed in ("right", "neither"))):
            return False
        return not (self.right is not None and (v > self.right or (
            v == self.right and self.closed in ("left", "neither"))))

    def description(self) -> str:  # noqa: D102
        what = "an int" if self.kind is Integral else "a number"
        if self.left is None and self.right is None:
            return what
        lo = "-inf" if self.left is None else f"{self.left:g}"
        hi = "inf" if self.right is None else f"{self.right:g}"
        lb = "[" if self.left is not None and self.closed in ("both", "left") else "("
        rb = "]" if self.right is not None and self.closed in ("both", "right") else ")"
        return f"{what} in {lb}{lo}, {hi}{rb}"

    def invalid_examples(self) -> list[Any]:  # noqa: D102
        out: list[Any] = ["1", True, float("nan")]
        if self.kind is Integral:
            base = self.left if self.left is not None else 0
            out.append(float(base) + 0.5)
            out.append(float(base if self.left is not None else 1))  # 52.0 is not an int
        if self.left is not None:
            out.append(self.left - 1)
            if self.closed in ("right", "neither"):
                out.append(self.left)
        if self.right is not None:
            out.append(self.right + 1)
            if self.closed in ("left", "neither"):
                out.append(self.right)
        return out


def _same_kind(value: Any, option: Any) -> bool:
    """Whether ``value`` may stand for ``option`` (numpy scalars for Python ones)."""
    if isinstance(option, str):
        return isinstance(value, str)
    if _is_int(option):
        return _is_int(value)
    if _is_real(option):
        return _is_real(value)
    return type(value) is type(option)


class Options(Constraint):
    """One of a fixed set of values: ``Options({"D", "W", "M", "h"})``.

    Examples
    --------
    >>> Options({"sum", "mean"}).description()
    "one of 'mean', 'sum'"
    """

    def __init__(self, options: Iterable[Any]) -> None:
        self.options = frozenset(options)

    def is_satisfied_by(self, value: Any) -> bool:  # noqa: D102
        if isinstance(value, np.ndarray):
            return False
        try:
            return value in self.options and any(
                _same_kind(value, o) for o in self.options if o == value)
        except TypeError:  # unhashable
            return False

    def description(self) -> str:  # noqa: D102
        shown = sorted(repr(o) for o in self.options)
        return shown[0] if len(shown) == 1 else "one of " + ", ".join(shown)

    def invalid_examples(self) -> list[Any]:  # noqa: D102
        return ["__not_an_option__", 12345]


class Boolean(Constraint):
    """True or False (numpy bools too; not 0/1 nor ``"yes"``)."""

    def is_satisfied_by(self, value: Any) -> bool:  # noqa: D102
        return _is_bool(value)

    def description(self) -> str:  # noqa: D102
        return "True or False"

    def invalid_examples(self) -> list[Any]:  # noqa: D102
        return ["yes", 1]


class Date(Constraint):
    """A date: a ``Timestamp``, ``datetime``, ``datetime64`` or a parseable string."""

    def is_satisfied_by(self, value: Any) -> bool:  # noqa: D102
        if _is_bool(value) or isinstance(value, int | float | np.number):
            return False
        try:
            ts = pd.Timestamp(value)
        except (ValueError, TypeError):
            return False
        return not pd.isna(ts)

    def description(self) -> str:  # noqa: D102
        return "a date"

    def invalid_examples(self) -> list[Any]:  # noqa: D102
        return ["not a date", 3]


class TimeSpan(Constraint):
    """A positive time span: a ``Timedelta`` or a string such as ``"90D"``."""

    def is_satisfied_by(self, value: Any) -> bool:  # noqa: D102
        if not isinstance(value, str | pd.Timedelta):
            return False
        try:
            span = pd.Timedelta(value)
        except (ValueError, TypeError):
            return False
        return not pd.isna(span) and span > pd.Timedelta(0)

    def description(self) -> str:  # noqa: D102
        return "a positive time span such as '90D'"

    def invalid_examples(self) -> list[Any]:  # noqa: D102
        return ["-5D", "soon"]


class ColumnName(Constraint):
    """A non-empty string naming a column."""

    def is_satisfied_by(self, value: Any) -> bool:  # noqa: D102
        return isinstance(value, str) and len(value) > 0

    def description(self) -> str:  # noqa: D102
        return "a column name"

    def invalid_examples(self) -> list[Any]:  # noqa: D102
        return ["", 3]


class RandomState(Constraint):
    """A seed: a whole number >= 0 (numpy integers too) or a ``numpy.random.Generator``."""

    def is_satisfied_by(self, value: Any) -> bool:  # noqa: D102
        return (_is_int(value) and 0 <= int(value) < 2**32) or isinstance(
            value, np.random.Generator | np.random.RandomState)

    def description(self) -> str:  # noqa: D102
        return "an int in [0, 2**32)"

    def invalid_examples(self) -> list[Any]:  # noqa: D102
        return [-1, 1.5, "0"]


class HasMethods(Constraint):
    """An object with the named methods, e.g. a scikit-learn classifier."""

    def __init__(self, methods: Sequence[str], what: str) -> None:
        self.methods = tuple(methods)
        self.what = what

    def is_satisfied_by(self, value: Any) -> bool:  # noqa: D102
        return not isinstance(value, type) and all(
            callable(getattr(value, m, None)) for m in self.methods)

    def description(self) -> str:  # noqa: D102
        return self.what

    def invalid_examples(self) -> list[Any]:  # noqa: D102
        return ["__not_an_estimator__"]


class Predicate(Constraint):
    """Any rule as a function, with the words that describe it.

    For rules the other constraints cannot express (a tuple of shares summing to one,
    a dict of edges). ``invalid`` lists values the contract checks try.

    Examples
    --------
    >>> even = Predicate(lambda v: isinstance(v, int) and v % 2 == 0, "an even int", [3])
    >>> even.is_satisfied_by(4), even.description()
    (True, 'an even int')
    """

    def __init__(self, check: Callable[[Any], bool], what: str,
                 invalid: Sequence[Any] = ("__not_valid__",)) -> None:
        self.check = check
        self.what = what
        self.invalid = list(invalid)

    def is_satisfied_by(self, value: Any) -> bool:  # noqa: D102
        try:
            return bool(self.check(value))
        except (TypeError, ValueError, KeyError, AttributeError):
            return False

    def description(self) -> str:  # noqa: D102
        return self.what

    def invalid_examples(self) -> list[Any]:  # noqa: D102
        return list(self.invalid)


ParamConstraints = Mapping[str, Sequence[Constraint | None]]


def _satisfied(value: Any, constraints: Sequence[Constraint | None]) -> bool:
    return any(value is None if c is None else c.is_satisfied_by(value) for c in constraints)


def _describe(constraints: Sequence[Constraint | None]) -> str:
    parts = ["None" if c is None else c.description() for c in constraints]
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " or " + parts[-1]


def check_params(owner: str, params: Mapping[str, Any], constraints: ParamConstraints) -> None:
    """Validate hyper-parameters against their declared constraints.

    Parameters
    ----------
    owner : str
        Name shown first in the message (the model's class name).
    params : mapping
        Current values (``get_params(deep=False)``).
    constraints : mapping
        For each parameter, the constraints of which one must hold; ``None`` in the
        list admits ``None``. Parameters without an entry are not checked.

    Raises
    ------
    InvalidParameterError
        ``"<owner>: <name> must be <description>, got <value>"``.

    Examples
    --------
    >>> check_params("M", {"freq": "W"}, {"freq": [Options({"D", "W"})]})
    """
    for name, allowed in constraints.items():
        value = params.get(name, _MISSING)
        if value is _MISSING:
            continue
        if not _satisfied(value, allowed):
            raise InvalidParameterError(
                f"{owner}: {name} must be {_describe(allowed)}, got {value!r}")


def invalid_values(constraints: Sequence[Constraint | None]) -> list[Any]:
    """Return values that satisfy none of ``constraints`` (for contract checks).

    Examples
    --------
    >>> invalid_values([Interval(Integral, 2, 9)])
    ['1', True, nan, 2.5, 2.0, 1, 10]
    """
    out: list[Any] = []
    for c in constraints:
        for v in ([] if c is None else c.invalid_examples()):
            if not _satisfied(v, constraints) and not any(
                    type(v) is type(w) and (v == w or (v != v and w != w)) for w in out):
                out.append(v)
    return out
