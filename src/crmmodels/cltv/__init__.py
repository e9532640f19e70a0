"""Customer lifetime value: buy-till-you-die transaction models, spend, CLV."""

from crmmodels.cltv._base import TransactionModel
from crmmodels.cltv.beta_geo import BetaGeoModel
from crmmodels.cltv.clv import CLVModel, period_discount_rate
from crmmodels.cltv.gamma_gamma import GammaGammaModel

__all__ = [
    "BetaGeoModel",
    "CLVModel",
    "GammaGammaModel",
    "TransactionModel",
    "period_discount_rate",
]
