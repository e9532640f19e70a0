"""Customer segments: ABC value tiers, lifecycle stages, behavioural clusters.

* :class:`ABCModel` - Pareto (80/20) value tiers with concentration figures;
* :class:`LifecycleModel` - stage per customer at a date (prospect, new, growing,
  stable, declining, lapsed, churned) and stage transitions between two dates;
* :class:`SegmentationModel` - behavioural clusters (k-means on log-scaled,
  standardised RFM and optional category mix; k by silhouette).

Examples
--------
>>> from crmmodels.segments import ABCModel
>>> from crmmodels.datasets import load_cdnow_sample
>>> data = load_cdnow_sample()
>>> tiers = ABCModel().fit(data).score(data)["tier"]
>>> sorted(tiers.unique())
['A', 'B', 'C']
"""

from crmmodels._abc import ABCModel, gini
from crmmodels._clustering import SegmentationModel
from crmmodels._lifecycle import STAGES, LifecycleModel

__all__ = ["STAGES", "ABCModel", "LifecycleModel", "SegmentationModel", "gini"]
