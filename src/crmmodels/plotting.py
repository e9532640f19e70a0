"""Old import path of the figures.

Each subpackage now holds its own: :mod:`crmmodels.cltv`, :mod:`crmmodels.segments`,
:mod:`crmmodels.association`, :mod:`crmmodels.propensity`.

Kept so that code written against the earlier flat layout keeps working; new code
imports from the subpackage named here.
"""

from crmmodels.association import plot_rule_network, top_rules
from crmmodels.cltv import (
    plot_frequency_recency_matrix,
    plot_holdout_by_frequency,
    plot_probability_alive_matrix,
    plot_survival,
    plot_tracking,
)
from crmmodels.propensity import (
    plot_calibration,
    plot_card_precision,
    plot_cost_curve,
    plot_gains,
    plot_lift,
)
from crmmodels.segments import (
    plot_pareto_curve,
    plot_rfm_heatmap,
    plot_segment_summary,
    plot_transition_matrix,
)

__all__ = [
    "plot_calibration",
    "plot_card_precision",
    "plot_cost_curve",
    "plot_frequency_recency_matrix",
    "plot_gains",
    "plot_holdout_by_frequency",
    "plot_lift",
    "plot_pareto_curve",
    "plot_probability_alive_matrix",
    "plot_rfm_heatmap",
    "plot_rule_network",
    "plot_segment_summary",
    "plot_survival",
    "plot_tracking",
    "plot_transition_matrix",
    "top_rules",
]
