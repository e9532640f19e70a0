"""The core: base class and protocol, registry, model files, shared figure helpers.

* :class:`CRMModel` is the base every model derives from; :class:`Model` is the
  protocol (``get_params``, ``set_params``, ``fit``, ``score``, ``save``, ``load``);
* :func:`get_model`, :func:`list_models`, :func:`register` name models by string
  (built-ins, entry-point plug-ins, runtime registrations), importing them lazily;
* :mod:`crmmodels.core.persistence` writes and reads model files (format 2: registry
  name, no module path, skops for scikit-learn sub-models);
* :func:`new_axes` and the argument checks every figure shares;
* :func:`limit_threads` and :func:`usable_cores` bound the BLAS and OpenMP thread
  pools (every model's ``fit`` runs inside :func:`limit_threads`);
* :mod:`crmmodels.core.display` renders models as escaped HTML in notebooks (every
  model's ``_repr_html_``); :class:`HTMLCard` is the card builder it and the identity
  resolution share.

Examples
--------
>>> from crmmodels.core import get_model
>>> get_model("rfm").__name__
'RFMModel'
"""

from crmmodels.core.base import CRMModel, ParamRule
from crmmodels.core.deprecation import renamed_argument, renamed_param, warn_deprecated
from crmmodels.core.display import HTMLCard
from crmmodels.core.figures import (
    check_column_name,
    check_count,
    check_frame,
    check_positive,
    is_number,
    new_axes,
    numeric_array,
    numeric_column,
    require_columns,
)
from crmmodels.core.params import (
    Boolean,
    ColumnName,
    Constraint,
    Date,
    HasMethods,
    Interval,
    Options,
    Predicate,
    RandomState,
    TimeSpan,
    check_params,
    invalid_values,
)
from crmmodels.core.persistence import FORMAT_VERSION, TRUSTED_TYPES, Trusted, learned_state
from crmmodels.core.protocol import Model, is_model_class
from crmmodels.core.registry import (
    ENTRY_POINT_GROUP,
    get_model,
    list_models,
    name_of,
    register,
    unregister,
)
from crmmodels.core.threads import limit_threads, usable_cores

__all__ = [
    "ENTRY_POINT_GROUP",
    "FORMAT_VERSION",
    "TRUSTED_TYPES",
    "Boolean",
    "CRMModel",
    "ColumnName",
    "Constraint",
    "Date",
    "HTMLCard",
    "HasMethods",
    "Interval",
    "Model",
    "Options",
    "ParamRule",
    "Predicate",
    "RandomState",
    "TimeSpan",
    "Trusted",
    "check_column_name",
    "check_count",
    "check_frame",
    "check_params",
    "check_positive",
    "get_model",
    "invalid_values",
    "is_model_class",
    "is_number",
    "learned_state",
    "limit_threads",
    "list_models",
    "name_of",
    "new_axes",
    "numeric_array",
    "numeric_column",
    "register",
    "renamed_argument",
    "renamed_param",
    "require_columns",
    "unregister",
    "usable_cores",
    "warn_deprecated",
]
