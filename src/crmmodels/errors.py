"""Exceptions and warnings raised by crmmodels.

Every exception derives from :class:`CRMModelsError`, and each also derives from
the built-in (or scikit-learn) exception a user already catches, so
``except ValueError`` keeps working around a :class:`DataValidationError`.

Examples
--------
>>> import pandas as pd
>>> from crmmodels import CRMData
>>> from crmmodels.errors import DataValidationError
>>> frame = pd.DataFrame({"customer_id": ["a"], "timestamp": ["2024-01-01"]})
>>> try:
...     CRMData(transactions=frame)
... except DataValidationError as err:
...     print(err.frame, err.column, err.rule)
transactions amount required_column
"""

from __future__ import annotations

import difflib
import importlib
import inspect
import os
import warnings
from collections.abc import Hashable, Iterable, Sequence
from types import ModuleType
from typing import Any

from sklearn.exceptions import NotFittedError as _SklearnNotFittedError

__all__ = [
    "CRMModelsError",
    "ConvergenceError",
    "ConvergenceWarning",
    "DataQualityWarning",
    "DataValidationError",
    "DatasetError",
    "DatasetNotFoundError",
    "InvalidParameterError",
    "LeakageWarning",
    "MissingColumnError",
    "ModelFormatError",
    "ModelFormatWarning",
    "NotFittedError",
    "closest_name",
    "optional_dependency",
    "require_installed",
    "warn",
]

MAX_LABELS = 5


class CRMModelsError(Exception):
    """Root of every exception raised by crmmodels."""


class DataValidationError(CRMModelsError, ValueError):
    """Input data break a rule of the data model.

    Parameters
    ----------
    message : str
        What is wrong and what to do about it.
    frame : str, optional
        Which frame: ``"transactions"``, ``"customers"``, ``"interactions"`` or
        ``"summary"``.
    column : str, optional
        The offending column.
    rule : str, optional
        Short machine-readable name of the broken rule, e.g. ``"not_null"``.
    rows : sequence of hashable, optional
        Labels (index values) of offending rows; at most five are kept.
    n_rows : int, optional
        How many rows break the rule in total.

    Examples
    --------
    >>> err = DataValidationError("bad", frame="transactions", column="amount",
    ...                           rule="non_negative", rows=[3, 7], n_rows=2)
    >>> err.rows
    [3, 7]
    """

    def __init__(
        self,
        message: str,
        *,
        frame: str | None = None,
        column: str | None = None,
        rule: str | None = None,
        rows: Iterable[Hashable] = (),
        n_rows: int | None = None,
    ) -> None:
        self.frame = frame
        self.column = column
        self.rule = rule
        self.rows: list[Hashable] = list(rows)[:MAX_LABELS]
        self.n_rows = n_rows if n_rows is not None else len(self.rows)
        parts = []
        if frame is not None:
            parts.append(f"frame={frame!r}")
        if column is not None:
            parts.append(f"column={column!r}")
        if rule is not None:
            parts.append(f"rule={rule!r}")
        head = f"[{', '.join(parts)}] " if parts else ""
        tail = ""
        if self.rows:
            more = f" (showing {len(self.rows)} of {self.n_rows})" if self.n_rows > len(
                self.rows
            ) else ""
            tail = f" Offending rows: {self.rows!r}{more}."
        elif self.n_rows:  # counted where rows have no labels (a Spark DataFrame)
            tail = f" Offending rows: {self.n_rows}."
        super().__init__(f"{head}{message}{tail}")


class MissingColumnError(DataValidationError):
    """A required column is absent; the message suggests the closest existing name.

    Examples
    --------
    >>> err = MissingColumnError("transactions", "customer_id", ["CustomerID", "amount"])
    >>> err.suggestion
    'CustomerID'
    """

    def __init__(self, frame: str, column: str, available: Sequence[Hashable]) -> None:
        names = [str(c) for c in available]
        self.suggestion = closest_name(column, names)
        hint = f" Did you mean {self.suggestion!r}?" if self.suggestion else ""
        mapping = (
            f" Map your names with CRMData.from_frames(..., columns={{{column!r}: "
            f"{self.suggestion or '<your column>'!r}}})."
        )
        super().__init__(
            f"Required column {column!r} is missing (have {names[:10]!r}).{hint}{mapping}",
            frame=frame,
            column=column,
            rule="required_column",
        )


def closest_name(name: str, candidates: Sequence[str]) -> str | None:
    """Return the candidate closest to ``name`` ignoring case and ``_``, or None.

    Examples
    --------
    >>> closest_name("customer_id", ["CustomerID", "Amount"])
    'CustomerID'
    """

    def norm(s: str) -> str:
        return s.lower().replace("_", "").replace(" ", "").replace("-", "")

    normed = {norm(c): c for c in candidates}
    if norm(name) in normed:
        return normed[norm(name)]
    match = difflib.get_close_matches(norm(name), list(normed), n=1, cutoff=0.6)
    return normed[match[0]] if match else None


class InvalidParameterError(CRMModelsError, ValueError):
    """A hyper-parameter has a value the model cannot use."""


class NotFittedError(CRMModelsError, _SklearnNotFittedError):  # type: ignore[misc]
    """``score`` or a prediction was called before ``fit``.

    Also a :class:`sklearn.exceptions.NotFittedError` (hence a ``ValueError`` and an
    ``AttributeError``).
    """


class ConvergenceError(CRMModelsError, ArithmeticError):
    """An optimiser did not converge.

    Parameters
    ----------
    message : str
        Explanation and advice.
    result : object, optional
        The optimiser's result object (e.g. :class:`scipy.optimize.OptimizeResult`).
    """

    def __init__(self, message: str, result: Any = None) -> None:
        super().__init__(message)
        self.result = result


class ModelFormatError(CRMModelsError, ValueError):
    """A saved model file is not a crmmodels file, or holds another model class."""


class DataQualityWarning(UserWarning):
    """Data are usable but suspicious (e.g. an id-like feature column)."""


class LeakageWarning(DataQualityWarning):
    """A feature column was left out because it gives the label away.

    Raised by the tabular models (churn, fraud, :class:`~crmmodels.propensity.
    PropensityClassifier`) for columns named like a target that are not the model's
    label, and for any single column that separates the label almost perfectly on its
    own. The columns are listed in the model's ``features_dropped_``.
    """


class ConvergenceWarning(UserWarning):
    """An optimiser stopped early but the result is still returned."""


class ModelFormatWarning(UserWarning):
    """A model file loads, but from an older format or another library version.

    Examples
    --------
    >>> issubclass(ModelFormatWarning, UserWarning)
    True
    """


class DatasetError(CRMModelsError, OSError):
    """A data file is unusable (e.g. its checksum differs from the published one)."""


class DatasetNotFoundError(DatasetError, FileNotFoundError):
    """A data file is absent; the message names the expected path and the public source."""


_PACKAGE_DIR = os.path.normcase(os.path.dirname(os.path.abspath(__file__))) + os.sep


def _inside_crmmodels(filename: str) -> bool:
    return os.path.isabs(filename) and os.path.normcase(filename).startswith(_PACKAGE_DIR)


def warn(message: str, category: type[Warning]) -> None:
    """Issue a warning attributed to the first caller outside crmmodels.

    However deep inside the library the warning arises, its file and line are the
    user's own call (as pandas' ``find_stack_level`` does), so the message points at
    the line to change.

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as record:
    ...     warnings.simplefilter("always")
    ...     warn("old is deprecated; use new", FutureWarning)
    >>> record[0].category.__name__, str(record[0].message)
    ('FutureWarning', 'old is deprecated; use new')
    """
    frame = inspect.currentframe()
    level = 1  # 1 is this function; each step outwards adds one
    try:
        while frame is not None and _inside_crmmodels(frame.f_code.co_filename):
            frame = frame.f_back
            level += 1
    finally:
        del frame
    warnings.warn(message, category, stacklevel=level)


def optional_dependency(module: str, *, needed_for: str, extra: str | None = None
                        ) -> ModuleType:
    """Import an optional dependency, or raise an ImportError that says what to install.

    Parameters
    ----------
    module : str
        The module to import (``"matplotlib.pyplot"``, ``"polars"``).
    needed_for : str
        What needs it, the start of the message (``"drawing a figure"``).
    extra : str, optional
        The crmmodels extra that brings it; without one the message names the
        package itself.

    Returns
    -------
    types.ModuleType
        The imported module.

    Raises
    ------
    ImportError
        ``needed_for needs <package>: pip install "crmmodels[<extra>]"``, chained to
        the original error, when the package is not installed. An ImportError raised
        inside an installed package (a broken install) passes unchanged.

    Examples
    --------
    >>> optional_dependency("json", needed_for="reading JSON").__name__
    'json'
    >>> optional_dependency("no_such_package", needed_for="the demo", extra="plot")
    Traceback (most recent call last):
    ...
    ImportError: the demo needs no_such_package: pip install "crmmodels[plot]"
    """
    package = module.partition(".")[0]
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        missing = exc.name or ""
        if missing != module and missing.partition(".")[0] != package \
                and not module.startswith(missing + "."):
            raise  # something the package itself imports is broken
        raise _missing(package, needed_for, extra) from exc


def require_installed(package: str, *, needed_for: str, extra: str | None = None) -> None:
    """Raise the ImportError of :func:`optional_dependency` unless ``package`` is installed.

    For a check before work that imports the package later (it is not imported here).

    Examples
    --------
    >>> require_installed("json", needed_for="reading JSON")
    >>> require_installed("no_such_package", needed_for="the demo")
    Traceback (most recent call last):
    ...
    ImportError: the demo needs no_such_package: pip install no_such_package
    """
    import importlib.util

    try:
        found = importlib.util.find_spec(package) is not None
    except (ImportError, ValueError):  # a package set to None in sys.modules
        found = False
    if not found:
        raise _missing(package, needed_for, extra)


def _missing(package: str, needed_for: str, extra: str | None) -> ImportError:
    install = f'"crmmodels[{extra}]"' if extra else package
    return ImportError(f"{needed_for} needs {package}: pip install {install}", name=package)
