"""Customer lifetime value: buy-till-you-die transaction models, spend, CLV."""

from crmmodels.cltv.beta_geo import BetaGeoModel

__all__ = ["BetaGeoModel"]
