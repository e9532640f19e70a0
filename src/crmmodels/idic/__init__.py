"""IDIC (Peppers & Rogers): Identify, Differentiate, Interact, Customize.

* :class:`IDICModel` - the four steps in one model: one row per customer with value
  tier, needs segment, lifecycle stage, preferred channel, churn probability, CLV and
  the next best action with its channel, item, expected value and reason;
* :class:`NextBestAction` - Customize: each customer's next best action, from a budgeted
  plan (exact integer programme for small plans, Lagrangian relaxation with its gap to
  an upper bound for large ones) or from a rule table (:data:`DEFAULT_RULES`);
* :func:`solve_plan` and :class:`Plan` - the optimiser under it, on plain arrays;
* :func:`interaction_profile` and :func:`channel_responses` - Interact: contacts,
  responses and their Wilson intervals, preferred channel, contact fatigue, complaints.

Identify is :mod:`crmmodels.identity`; Differentiate uses :mod:`crmmodels.segments` and
:mod:`crmmodels.cltv`.

Examples
--------
>>> import numpy as np
>>> from crmmodels.idic import solve_plan
>>> solve_plan(np.array([[3.0, 1.0], [2.0, 2.5]]), np.array([1.0, 1.0]), budget=1.0).value
3.0
"""

from crmmodels.idic.model import DEFAULT_OFFERS, IDICModel
from crmmodels.idic.nba import DEFAULT_RULES, NO_ACTION, RULE_CONDITIONS, NextBestAction
from crmmodels.idic.plan import Plan, solve_plan
from crmmodels.idic.profile import PROFILE_COLUMNS, channel_responses, interaction_profile

__all__ = [
           "DEFAULT_OFFERS",
           "DEFAULT_RULES",
           "NO_ACTION",
           "PROFILE_COLUMNS",
           "RULE_CONDITIONS",
           "IDICModel",
           "NextBestAction",
           "Plan",
           "channel_responses",
           "interaction_profile",
           "solve_plan",
]
