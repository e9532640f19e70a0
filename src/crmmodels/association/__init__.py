"""Market-basket analysis: frequent itemsets, association rules, cross-sell offers.

* :class:`AssociationRulesModel` - exact frequent itemsets (our level-wise miner, or
  mlxtend's FP-Growth when asked), every mlxtend interest metric, cross-sell
  recommendations per customer;
* :func:`encode_baskets`, :func:`attribute_baskets`, :func:`rule_metrics`;
* :func:`top_rules` (a table) and :func:`plot_rule_network` (a network chart).

Examples
--------
>>> from crmmodels.association import rule_metrics
>>> import numpy as np
>>> round(float(rule_metrics(np.array([0.5]), np.array([0.4]), np.array([0.3]))["lift"][0]), 6)
1.5
"""

from crmmodels.association.model import (
    RULE_COLUMNS,
    AssociationRulesModel,
    attribute_baskets,
    encode_baskets,
    rule_metrics,
)
from crmmodels.association.plotting import plot_rule_network, top_rules

__all__ = [
    "RULE_COLUMNS",
    "AssociationRulesModel",
    "attribute_baskets",
    "encode_baskets",
    "plot_rule_network",
    "rule_metrics",
    "top_rules",
]
