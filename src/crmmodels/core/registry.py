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
>>> crmmodels.get_model("naive_rate").__name__
'NaiveRateModel'
"""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points
from typing import Final

from crmmodels.core.protocol import is_model_class
from crmmodels.errors import CRMModelsError, InvalidParameterError, closest_name

__all__ = ["ENTRY_POINT_GROUP", "get_model", "list_models", "name_of", "register",
           "unregister"]

ENTRY_POINT_GROUP: Final = "crmmodels.models"

_BUILTIN: Final[dict[str, str]] = {
    "naive_rate": "crmmodels.cltv:NaiveRateModel",
    "bg_nbd": "crmmodels.cltv:BetaGeoModel",
    "pareto_nbd": "crmmodels.cltv:ParetoNBDModel",
    "mbg_nbd": "crmmodels.cltv:ModifiedBetaGeoModel",
    "bg_bb": "crmmodels.cltv:BetaGeoBetaBinomModel",
    "gamma_gamma": "crmmodels.cltv:GammaGammaModel",
    "sbg": "crmmodels.cltv:ShiftedBetaGeoModel",
    "clv": "crmmodels.cltv:CLVModel",
    "rfm": "crmmodels.segments:RFMModel",
    "abc": "crmmodels.segments:ABCModel",
    "lifecycle": "crmmodels.segments:LifecycleModel",
    "segmentation": "crmmodels.segments:SegmentationModel",
    "association_rules": "crmmodels.association:AssociationRulesModel",
    "churn": "crmmodels.propensity:ChurnModel",
    "fraud": "crmmodels.propensity:FraudModel",
    "response": "crmmodels.targeting:ResponseModel",
    "uplift": "crmmodels.targeting:UpliftModel",
    "idic": "crmmodels.idic:IDICModel",
    "value_chain": "crmmodels.value_chain:ValueChainModel",
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
    if not is_model_class(klass):
        raise CRMModelsError(f"model {name!r} ({target}) is not a crmmodels.CRMModel subclass")
    return klass  # type: ignore[return-value]


def name_of(klass: type) -> str:
    """Return the name ``klass`` is registered under.

    Saved model files record this name rather than a Python module path, so a file
    keeps loading when the class moves. Built-in names come first, then entry
    points, then names given to :func:`register`.

    Raises
    ------
    InvalidParameterError
        The class is not registered (register it with :func:`register` or an entry
        point first).

    Examples
    --------
    >>> from crmmodels.segments import RFMModel
    >>> name_of(RFMModel)
    'rfm'
    """
    # Targets naming a class of the same name first: resolving them imports least.
    def same_name_first(item: tuple[str, str | type]) -> bool:
        target = item[1]
        last = target.__name__ if isinstance(target, type) else target.rpartition(":")[2]
        return last.rpartition(".")[2] != klass.__name__

    for name, target in sorted(_targets().items(), key=same_name_first):
        if target is klass:
            return name
        if isinstance(target, str):
            try:
                if get_model(name) is klass:
                    return name
            except CRMModelsError:
                continue
    raise InvalidParameterError(
        f"{klass.__module__}.{klass.__qualname__} is not a registered model; register it "
        "(crmmodels.core.register or an entry point in the group "
        f"{ENTRY_POINT_GROUP!r}) so that its files can name it"
    )


def register(name: str, klass: type) -> None:
    """Register a model class under ``name`` for this process.

    Examples
    --------
    >>> from crmmodels.cltv import NaiveRateModel
    >>> register("my_rate", NaiveRateModel)
    >>> get_model("my_rate") is NaiveRateModel
    True
    >>> unregister("my_rate")
    """
    if not is_model_class(klass):
        raise InvalidParameterError(f"{klass!r} is not a crmmodels.CRMModel subclass")
    if name in _BUILTIN:
        raise InvalidParameterError(f"{name!r} is a built-in model name")
    _RUNTIME[name] = klass


def unregister(name: str) -> None:
    """Remove a model registered with :func:`register`."""
    _RUNTIME.pop(name, None)
