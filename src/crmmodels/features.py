"""Old import path of the per-customer features.

They now live in :mod:`crmmodels.data` (the repeat-purchase summary) and
:mod:`crmmodels.propensity` (churn and fraud features).

Kept so that code written against the earlier flat layout keeps working; new code
imports from the subpackage named here.
"""

from crmmodels.data import (
    SUMMARY_COLUMNS,
    as_summary,
    calibration_holdout,
    customer_summary,
    period_numbers,
    validate_summary,
)
from crmmodels.propensity import churn_features, churn_labels, fraud_features

__all__ = [
    "SUMMARY_COLUMNS",
    "as_summary",
    "calibration_holdout",
    "churn_features",
    "churn_labels",
    "customer_summary",
    "fraud_features",
    "period_numbers",
    "validate_summary",
]
