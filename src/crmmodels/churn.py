"""Old import path of the churn model: see :mod:`crmmodels.propensity`.

Kept so that code written against the earlier flat layout keeps working; new code
imports from the subpackage named here.
"""

from crmmodels.propensity import ChurnModel, default_estimator, identifier_columns

__all__ = [
    "ChurnModel",
    "default_estimator",
    "identifier_columns",
]
