"""Buttle's five-step CRM value chain.

* :class:`ValueChainModel` - customer portfolio analysis (current against future value,
  quadrants, strategically significant customers, concentration), customer intimacy,
  network development and value proposition per quadrant, lifecycle management
  (stages, transitions, actions); ``score`` per customer, ``report`` per step;
* :data:`QUADRANTS`, :data:`PROPOSITIONS`, :data:`STAGE_ACTIONS` - the tables it uses;
* figures (the plot extra): :func:`plot_portfolio`, :func:`plot_concentration`,
  :func:`plot_lifecycle`, also drawn by ``report(data, figures=True)``.

Examples
--------
>>> from crmmodels.value_chain import QUADRANTS
>>> QUADRANTS[(True, True)]
'strategic'
"""

from crmmodels.value_chain.model import (
    PROPOSITIONS,
    QUADRANTS,
    STAGE_ACTIONS,
    ValueChainModel,
)
from crmmodels.value_chain.plotting import plot_concentration, plot_lifecycle, plot_portfolio

__all__ = ["PROPOSITIONS", "QUADRANTS", "STAGE_ACTIONS", "ValueChainModel",
           "plot_concentration", "plot_lifecycle", "plot_portfolio"]
