"""Old import path of the model registry: see :mod:`crmmodels.core`.

Kept so that code written against the earlier flat layout keeps working; new code
imports from the subpackage named here.
"""

from crmmodels.core import (
    ENTRY_POINT_GROUP,
    get_model,
    list_models,
    name_of,
    register,
    unregister,
)

__all__ = [
    "ENTRY_POINT_GROUP",
    "get_model",
    "list_models",
    "name_of",
    "register",
    "unregister",
]
