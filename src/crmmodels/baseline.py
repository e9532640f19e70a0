"""Old import path of the naive rate baseline: see :mod:`crmmodels.cltv`.

Kept so that code written against the earlier flat layout keeps working; new code
imports from the subpackage named here.
"""

from crmmodels.cltv import NaiveRateModel

__all__ = ["NaiveRateModel"]
