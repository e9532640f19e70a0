"""The model protocol: what every crmmodels model, built-in or plug-in, provides."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Protocol, Self, runtime_checkable

if TYPE_CHECKING:
    import pandas as pd

    from crmmodels.data import CRMData

__all__ = ["Model", "is_model_class"]


@runtime_checkable
class Model(Protocol):
    """What every crmmodels model (built-in or plug-in) provides.

    Examples
    --------
    >>> from crmmodels.cltv import NaiveRateModel
    >>> isinstance(NaiveRateModel(), Model)
    True
    """

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Return the hyper-parameters."""
        ...

    def set_params(self, **params: Any) -> Self:
        """Set hyper-parameters and return the model."""
        ...

    def fit(self, data: CRMData | pd.DataFrame, /) -> Self:
        """Learn from data and return the model."""
        ...

    def score(self, data: CRMData | pd.DataFrame, /) -> pd.DataFrame:
        """Return one row of results per scored unit."""
        ...

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the fitted model to ``path``."""
        ...

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Self:
        """Read a model written by :meth:`save`."""
        ...


_MODEL_METHODS = ("get_params", "set_params", "fit", "score", "save", "load")


def is_model_class(klass: object) -> bool:
    """Return whether ``klass`` is a class that implements :class:`Model`.

    Examples
    --------
    >>> from crmmodels.cltv import NaiveRateModel
    >>> is_model_class(NaiveRateModel), is_model_class(dict)
    (True, False)
    """
    return isinstance(klass, type) and all(
        callable(getattr(klass, name, None)) for name in _MODEL_METHODS)
