"""Renamed parameters: one release of overlap, then removal.

An old name keeps working for one release: using it gives a :class:`FutureWarning`
that names the new one and points at the caller's line (the first frame outside
crmmodels, as pandas' ``find_stack_level`` does), and passing both names raises
:class:`~crmmodels.errors.InvalidParameterError`. Constructors still only store their
arguments (scikit-learn's pattern), so the old keyword is resolved here, at ``fit`` and
``score``.
"""

from __future__ import annotations

import inspect
from typing import Any, Literal

from crmmodels.errors import InvalidParameterError, warn

__all__ = ["renamed_argument", "renamed_param", "warn_deprecated"]


def warn_deprecated(message: str) -> None:
    """Issue a ``FutureWarning`` attributed to the first caller outside crmmodels.

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as record:
    ...     warnings.simplefilter("always")
    ...     warn_deprecated("old is deprecated; use new")
    >>> record[0].category.__name__
    'FutureWarning'
    """
    warn(message, FutureWarning)


def renamed_param(model: Any, old: str, new: str, *,
                  when: Literal["fit", "score", "internal"]) -> Any:
    """Return the value to use for parameter ``new`` of ``model``.

    The deprecated parameter ``old`` (``None`` when not given) wins while ``new`` is at
    its default, with a ``FutureWarning`` at ``fit`` and ``score``; both given raises.
    An ``old`` equal to the default of ``new`` (what a model file saved before the
    rename holds, e.g. ``recency_unit="D"``) changes nothing: it warns at ``fit`` only,
    never at ``score``, and never conflicts with ``new``, so such files load and score
    quietly.

    Parameters
    ----------
    model : estimator
        The model whose parameters are read (its attributes and the ``__init__``
        defaults).
    old, new : str
        The deprecated and the current parameter names.
    when : {"fit", "score", "internal"}
        The public call being served; ``"internal"`` never warns (each public call
        warns once).

    Returns
    -------
    object
        The value of ``old`` when it is given, else the value of ``new``.

    Raises
    ------
    InvalidParameterError
        Both ``old`` (other than the default of ``new``) and ``new`` (other than its
        default) are given.
    """
    old_value = getattr(model, old)
    new_value = getattr(model, new)
    if old_value is None:
        return new_value
    owner = type(model).__name__
    declared = inspect.signature(type(model).__init__).parameters.get(new)
    default = None if declared is None else declared.default
    if default is not None and bool(old_value == default):
        if when == "fit":
            warn_deprecated(
                f"{owner}: the parameter {old} is deprecated and will be removed in the "
                f"next release; use {new} instead ({old}={old_value!r} is the default of "
                f"{new}: drop it, or set_params({old}=None) on a loaded model)")
        return new_value
    new_given = new_value is not None if default is None else bool(new_value != default)
    if new_given:
        raise InvalidParameterError(
            f"{owner}: {old} is the deprecated name of {new}; pass only {new}, got "
            f"{old}={old_value!r} and {new}={new_value!r}")
    if when != "internal":
        warn_deprecated(
            f"{owner}: the parameter {old} is deprecated and will be removed in the next "
            f"release; use {new}={old_value!r} instead")
    return old_value


def renamed_argument(owner: str, old: str, old_value: Any, new: str, new_value: Any, *,
                     default: Any = None) -> Any:
    """Return the value to use for the renamed argument ``new`` of a function or method.

    The counterpart of :func:`renamed_param` for call arguments: the deprecated
    argument ``old`` (``None`` when not given) wins, with a ``FutureWarning`` pointing
    at the caller's line, while ``new`` is at its ``default``; both given raises.

    Parameters
    ----------
    owner : str
        The function or method, as the messages name it (``"ChurnModel.score"``).
    old, new : str
        The deprecated and the current argument names.
    old_value, new_value : object
        The values the call received under each name.
    default : object, default None
        The default of ``new`` in the signature.

    Returns
    -------
    object
        ``old_value`` when the old name was used, else ``new_value``.

    Raises
    ------
    InvalidParameterError
        Both names were given (``new`` other than its default).

    Examples
    --------
    >>> renamed_argument("f", "unit", None, "freq", "D", default="W")
    'D'
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as record:
    ...     warnings.simplefilter("always")
    ...     renamed_argument("f", "unit", "D", "freq", "W", default="W")
    'D'
    >>> record[0].category.__name__, "use freq='D'" in str(record[0].message)
    ('FutureWarning', True)
    """
    if old_value is None:
        return new_value
    if new_value is not default and bool(new_value != default):
        raise InvalidParameterError(
            f"{owner}: {old} is the deprecated name of {new}; pass only {new}, got "
            f"{old}={old_value!r} and {new}={new_value!r}")
    warn_deprecated(f"{owner}: the argument {old} is deprecated and will be removed in the "
                    f"next release; use {new}={old_value!r} instead")
    return old_value
