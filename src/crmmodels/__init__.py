"""crmmodels: customer relationship management analytics models.

Hand it customers, transactions and interactions (:class:`CRMData`) and get back,
per customer, segment, value, lifetime value, churn and fraud risk, cross-sell
offers and treatment.

Examples
--------
>>> import crmmodels
>>> from crmmodels.datasets import load_cdnow_sample
>>> data = load_cdnow_sample()
>>> summary = crmmodels.customer_summary(data, freq="W")
>>> summary.shape
(2357, 4)
"""

from importlib.metadata import PackageNotFoundError, version

from crmmodels.cltv import NaiveRateModel
from crmmodels.core import CRMModel, Model, get_model, list_models
from crmmodels.data import (
    CRMData,
    ReportEntry,
    ValidationReport,
    calibration_holdout,
    customer_summary,
)

try:
    __version__ = version("crmmodels")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

__all__ = [
    "CRMData",
    "CRMModel",
    "Model",
    "NaiveRateModel",
    "ReportEntry",
    "ValidationReport",
    "__version__",
    "calibration_holdout",
    "customer_summary",
    "get_model",
    "list_models",
]
