"""Old import path of the evaluation tools.

They now live in :mod:`crmmodels.cltv` (holdout comparison, purchase tracking) and
:mod:`crmmodels.propensity` (metrics, gains, costs).

Kept so that code written against the earlier flat layout keeps working; new code
imports from the subpackage named here.
"""

from crmmodels.cltv import HoldoutResult, holdout_comparison, purchase_tracking
from crmmodels.propensity import (
    backtest,
    calibration_table,
    card_precision_at_k,
    classification_metrics,
    cost_curve,
    fraud_time_split,
    gains_table,
    precision_at_k,
)

__all__ = [
    "HoldoutResult",
    "backtest",
    "calibration_table",
    "card_precision_at_k",
    "classification_metrics",
    "cost_curve",
    "fraud_time_split",
    "gains_table",
    "holdout_comparison",
    "precision_at_k",
    "purchase_tracking",
]
