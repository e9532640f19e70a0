"""Registry of models by name: built-ins plus plug-ins from entry points.

A third-party package registers a model by declaring an entry point in the group
``crmmodels.models``::

    [project.entry-points."crmmodels.models"]
    my_model = "my_package.module:MyModel"

Entry points are read lazily; a plug-in is imported only when asked for.

Examples
--------
>>> import crmmodels
>>> "naive_rate" in crmmodels.list_models()
True
>>> crmmodels.registry.get_model("naive_rate").__name__
'NaiveRateModel'
"""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points
from typing import Final

from crmmodels.errors import CRMModelsError, InvalidParameterError

__all__ = ["ENTRY_POINT_GROUP", "get_model", "list_models", "register", "unregister"]

ENTRY_POINT_GROUP: Final = "crmmodels.models"

_BUILTIN: Final[dict[str, str]] = {
    "naive_rate": "crmmodels.baseline:NaiveRateModel",
    "bg_nbd": "crmmodels.cltv.beta_geo:BetaGeoModel",
    "pareto_nbd": "crmmodels.cltv.pareto_nbd:ParetoNBDModel",
    "mbg_nbd": "crmmodels.cltv.modified_beta_geo:ModifiedBetaGeoModel",
    "bg_bb": "crmmodels.cltv.beta_geo_beta_binom:BetaGeoBetaBinomModel",
    "gamma_gamma": "crmmodels.cltv.gamma_gamma:GammaGammaModel",
    "sbg": "crmmodels.cltv.shifted_beta_geo:ShiftedBetaGeoModel",
    "clv": "crmmodels.cltv.clv:CLVModel",
    "rfm": "crmmodels.rfm:RFMModel",
    "abc": "crmmodels._abc:ABCModel",
    "lifecycle": "crmmodels._lifecycle:LifecycleModel",
    "segmentation": "crmmodels._clustering:SegmentationModel",
    "association_rules": "crmmodels.association:AssociationRulesModel",
    "churn": "crmmodels.churn:ChurnModel",
    "fraud": "crmmodels.fraud:FraudModel",
}
_RUNTIME: dict[str, type] = {}


def _targets() -> dict[str, str | type]:
    found: dict[str, str | type] = dict(_BUILTIN)
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name not in found:
            found[ep.name] = ep.value
    found.update(_RUNTIME)
    return found


def list_models() -> list[str]:
    """Names of every available model: built-ins, entry-point plug-ins, runtime ones.

    Returns
    -------
    list of str
        Sorted names; pass one to :func:`get_model`.
    """
    return sorted(_targets())


def get_model(name: str) -> type:
    """Return the model class registered under ``name``.

    Raises
    ------
    InvalidParameterError
        No model has that name (the message lists the close ones).
    CRMModelsError
        The plug-in could not be imported or is not a :class:`~crmmodels.CRMModel`.
    """
    from crmmodels.base import CRMModel
    from crmmodels.errors import closest_name

    targets = _targets()
    if name not in targets:
        hint = closest_name(name, list(targets))
        raise InvalidParameterError(
            f"no model named {name!r}" + (f"; did you mean {hint!r}?" if hint else "")
            + f" Available: {sorted(targets)}"
        )
    target = targets[name]
    if isinstance(target, type):
        klass: object = target
    else:
        module, _, qual = target.partition(":")
        try:
            klass = importlib.import_module(module)
            for part in qual.split("."):
                klass = getattr(klass, part)
        except (ImportError, AttributeError) as exc:
            raise CRMModelsError(
                f"model {name!r} ({target}) could not be loaded: {exc}"
            ) from exc
    if not (isinstance(klass, type) and issubclass(klass, CRMModel)):
        raise CRMModelsError(f"model {name!r} ({target}) is not a crmmodels.CRMModel subclass")
    return klass


def register(name: str, klass: type) -> None:
    """Register a model class under ``name`` for this process.

    Examples
    --------
    >>> from crmmodels.baseline import NaiveRateModel
    >>> register("my_rate", NaiveRateModel)
    >>> get_model("my_rate") is NaiveRateModel
    True
    >>> unregister("my_rate")
    """
    from crmmodels.base import CRMModel

    if not (isinstance(klass, type) and issubclass(klass, CRMModel)):
        raise InvalidParameterError(f"{klass!r} is not a crmmodels.CRMModel subclass")
    if name in _BUILTIN:
        raise InvalidParameterError(f"{name!r} is a built-in model name")
    _RUNTIME[name] = klass


def unregister(name: str) -> None:
    """Remove a model registered with :func:`register`."""
    _RUNTIME.pop(name, None)
