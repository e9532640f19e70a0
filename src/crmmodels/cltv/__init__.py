"""Customer lifetime value: buy-till-you-die transaction models, spend, CLV."""

from crmmodels.cltv._base import TransactionModel
from crmmodels.cltv.beta_geo import BetaGeoModel
from crmmodels.cltv.beta_geo_beta_binom import BetaGeoBetaBinomModel, validate_discrete_summary
from crmmodels.cltv.clv import CLVModel, period_discount_rate
from crmmodels.cltv.gamma_gamma import GammaGammaModel
from crmmodels.cltv.modified_beta_geo import ModifiedBetaGeoModel
from crmmodels.cltv.pareto_nbd import ParetoNBDModel
from crmmodels.cltv.shifted_beta_geo import ShiftedBetaGeoModel, retention_frame_from_survivors

__all__ = [
    "BetaGeoBetaBinomModel",
    "BetaGeoModel",
    "CLVModel",
    "GammaGammaModel",
    "ModifiedBetaGeoModel",
    "ParetoNBDModel",
    "ShiftedBetaGeoModel",
    "TransactionModel",
    "period_discount_rate",
    "retention_frame_from_survivors",
    "validate_discrete_summary",
]
