"""Old import path of the fraud model: see :mod:`crmmodels.propensity`.

Kept so that code written against the earlier flat layout keeps working; new code
imports from the subpackage named here.
"""

from crmmodels.propensity import FraudModel

__all__ = ["FraudModel"]
