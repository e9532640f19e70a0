"""Customer segments: RFM cells, ABC value tiers, lifecycle stages, behavioural clusters.

* :class:`RFMModel` - recency, frequency and monetary quintile scores, named segments,
  campaign break-even cells (Hughes), :func:`rfm_change` between dates;
* :class:`ABCModel` - Pareto (80/20) value tiers with concentration figures;
* :class:`LifecycleModel` - stage per customer at a date (prospect, new, growing,
  stable, declining, lapsed, churned) and stage transitions between two dates;
* :class:`SegmentationModel` - behavioural clusters (k-means on log-scaled,
  standardised RFM and optional category mix; k by silhouette);
* figures: :func:`plot_rfm_heatmap`, :func:`plot_segment_summary`,
  :func:`plot_pareto_curve`, :func:`plot_transition_matrix`.

Examples
--------
>>> from crmmodels.segments import ABCModel
>>> from crmmodels.datasets import load_cdnow_sample
>>> data = load_cdnow_sample()
>>> tiers = ABCModel().fit(data).score(data)["value_tier"]
>>> sorted(tiers.unique())
['A', 'B', 'C']
"""

from crmmodels.segments.abc import ABCModel, gini
from crmmodels.segments.clustering import SegmentationModel
from crmmodels.segments.lifecycle import STAGES, LifecycleModel
from crmmodels.segments.plotting import (
    plot_pareto_curve,
    plot_rfm_heatmap,
    plot_segment_summary,
    plot_transition_matrix,
)
from crmmodels.segments.rfm import (
    STANDARD_SEGMENTS,
    RFMModel,
    breakeven_response_rate,
    responses_from_interactions,
    rfm_change,
    wilson_interval,
)

__all__ = [
    "STAGES",
    "STANDARD_SEGMENTS",
    "ABCModel",
    "LifecycleModel",
    "RFMModel",
    "SegmentationModel",
    "breakeven_response_rate",
    "gini",
    "plot_pareto_curve",
    "plot_rfm_heatmap",
    "plot_segment_summary",
    "plot_transition_matrix",
    "responses_from_interactions",
    "rfm_change",
    "wilson_interval",
]
