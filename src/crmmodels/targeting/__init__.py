"""Targeting: who to contact, and whom the contact changes (uplift).

* :class:`ResponseModel` - probability of responding to a campaign, from a table of
  past contacts or from the campaign history in the interactions, with the
  break-even contact decision and gains;
* :func:`campaign_history`, :func:`response_features` - the campaign history as a
  training table (one row per contact, the customer as known just before it, and
  whether they responded), and the same features for every customer at a date;
* :class:`UpliftModel` - per-customer uplift from a randomised test (T-, S- and
  X-learner, class transformation; several treatments);
* evaluation of uplift scores (argument order ``(y_true, uplift, treatment)`` as in
  scikit-uplift, with its numbers): :func:`qini_curve`, :func:`uplift_curve`,
  :func:`perfect_qini_curve`, :func:`perfect_uplift_curve`, :func:`qini_auc`,
  :func:`uplift_auc` (normalised areas), :func:`uplift_at_k`,
  :func:`uplift_by_percentile`;
* :func:`make_uplift_scorer` - a scikit-learn scorer for grid search over an uplift
  model;
* figures: :func:`plot_qini_curve`, :func:`plot_uplift_curve`,
  :func:`plot_uplift_by_percentile`.

Examples
--------
>>> from crmmodels.targeting import qini_auc
>>> y, t = [1, 0, 1, 0, 1, 0], [1, 1, 1, 0, 0, 0]
>>> round(qini_auc(y, [0.9, 0.1, 0.8, 0.7, 0.3, 0.2], t), 6)
0.74359
"""

from crmmodels.targeting.history import campaign_history, response_features
from crmmodels.targeting.metrics import (
    make_uplift_scorer,
    perfect_qini_curve,
    perfect_uplift_curve,
    qini_auc,
    qini_curve,
    uplift_at_k,
    uplift_auc,
    uplift_by_percentile,
    uplift_curve,
)
from crmmodels.targeting.plotting import (
    plot_qini_curve,
    plot_uplift_by_percentile,
    plot_uplift_curve,
)
from crmmodels.targeting.response import ResponseModel
from crmmodels.targeting.uplift import UpliftModel

__all__ = [
    "ResponseModel",
    "UpliftModel",
    "campaign_history",
    "make_uplift_scorer",
    "perfect_qini_curve",
    "perfect_uplift_curve",
    "plot_qini_curve",
    "plot_uplift_by_percentile",
    "plot_uplift_curve",
    "qini_auc",
    "qini_curve",
    "response_features",
    "uplift_at_k",
    "uplift_auc",
    "uplift_by_percentile",
    "uplift_curve",
]
