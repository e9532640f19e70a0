"""Old import path of the base class: see :mod:`crmmodels.core`.

Kept so that code written against the earlier flat layout keeps working; new code
imports from the subpackage named here.
"""

from crmmodels.core import CRMModel, Model, ParamRule

__all__ = [
    "CRMModel",
    "Model",
    "ParamRule",
]
