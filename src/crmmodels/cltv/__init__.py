"""Customer lifetime value: buy-till-you-die transaction models, spend, CLV.

* transaction models: :class:`BetaGeoModel` (BG/NBD), :class:`ParetoNBDModel`,
  :class:`ModifiedBetaGeoModel` (MBG/NBD), :class:`BetaGeoBetaBinomModel` (BG/BB,
  discrete time), with :class:`NaiveRateModel` as the no-dropout yardstick;
* spend and retention: :class:`GammaGammaModel`, :class:`ShiftedBetaGeoModel`;
* value: :class:`CLVModel` (margin x discounted expected purchases);
* evaluation: :func:`holdout_comparison`, :func:`purchase_tracking`;
* figures: :func:`plot_frequency_recency_matrix`, :func:`plot_probability_alive_matrix`,
  :func:`plot_holdout_by_frequency`, :func:`plot_tracking`, :func:`plot_survival`,
  :func:`plot_period_transactions` (with its numbers, :func:`period_transactions`).

Examples
--------
>>> from crmmodels.cltv import BetaGeoModel
>>> from crmmodels.datasets import load_cdnow_sample
>>> model = BetaGeoModel().fit(load_cdnow_sample())
>>> model.params_.index.tolist()
['r', 'alpha', 'a', 'b']
"""

from crmmodels.cltv._base import TransactionModel
from crmmodels.cltv.baseline import NaiveRateModel
from crmmodels.cltv.beta_geo import BetaGeoModel
from crmmodels.cltv.beta_geo_beta_binom import BetaGeoBetaBinomModel, validate_discrete_summary
from crmmodels.cltv.clv import CLVModel, period_discount_rate
from crmmodels.cltv.evaluation import HoldoutResult, holdout_comparison, purchase_tracking
from crmmodels.cltv.gamma_gamma import GammaGammaModel
from crmmodels.cltv.modified_beta_geo import ModifiedBetaGeoModel
from crmmodels.cltv.pareto_nbd import ParetoNBDModel
from crmmodels.cltv.plotting import (
    period_transactions,
    plot_frequency_recency_matrix,
    plot_holdout_by_frequency,
    plot_period_transactions,
    plot_probability_alive_matrix,
    plot_survival,
    plot_tracking,
)
from crmmodels.cltv.shifted_beta_geo import ShiftedBetaGeoModel, retention_frame_from_survivors

__all__ = [
    "BetaGeoBetaBinomModel",
    "BetaGeoModel",
    "CLVModel",
    "GammaGammaModel",
    "HoldoutResult",
    "ModifiedBetaGeoModel",
    "NaiveRateModel",
    "ParetoNBDModel",
    "ShiftedBetaGeoModel",
    "TransactionModel",
    "holdout_comparison",
    "period_discount_rate",
    "period_transactions",
    "plot_frequency_recency_matrix",
    "plot_holdout_by_frequency",
    "plot_period_transactions",
    "plot_probability_alive_matrix",
    "plot_survival",
    "plot_tracking",
    "purchase_tracking",
    "retention_frame_from_survivors",
    "validate_discrete_summary",
]
