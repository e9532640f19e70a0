"""Propensity models: churn and fraud, their point-in-time features and evaluation.

* :class:`ChurnModel` - probability of defection at a cut-off, drivers, defection
  cost, retention priority; :func:`churn_features`, :func:`churn_labels`;
* :class:`FraudModel` - fraud scores for card transactions and entity tables
  (claims), cost-optimal alerts, readable rules, anomaly mode;
  :func:`fraud_features`;
* :class:`PropensityClassifier` - a scikit-learn classifier for raw CRM tables (column
  screening, categoricals, calibration, class weights);
* :func:`default_estimator` - the classifier both use by default;
* :func:`screen_columns`, :func:`identifier_columns`, :func:`separation` - the one
  column screen of every tabular model (identifiers, dates, empty and constant
  columns, target-like names, columns that alone give the label away);
  :func:`binary_labels` - the one reader of 0/1 labels (bool, 0/1, yes/no, Y/N ... or
  ``pos_label``); :func:`fit_threads` - the thread bound of a classifier fit;
* evaluation: :func:`classification_metrics`, :func:`calibration_table`,
  :func:`gains_table`, :func:`churn_holdout`, :func:`precision_at_k`,
  :func:`cost_curve`, :func:`card_precision_at_k`, :func:`fraud_time_split`
  (:func:`backtest` is the deprecated name of :func:`churn_holdout`);
* figures: :func:`plot_gains`, :func:`plot_lift`, :func:`plot_calibration`,
  :func:`plot_cost_curve`, :func:`plot_card_precision`.

Examples
--------
>>> from crmmodels.propensity import gains_table
>>> gains_table([1, 0, 1, 0], [0.9, 0.1, 0.8, 0.3], n_groups=2)["lift"].tolist()
[2.0, 0.0]
"""

from crmmodels.propensity._tabular import (
    binary_labels,
    clipped_logit,
    fit_threads,
    identifier_columns,
    is_label_value,
    screen_columns,
    separation,
)
from crmmodels.propensity.churn import ChurnModel, default_estimator
from crmmodels.propensity.churn_features import churn_features, churn_labels, parse_horizon
from crmmodels.propensity.classifier import (
    BlendedClassifier,
    PropensityClassifier,
    WeightedPipeline,
)
from crmmodels.propensity.evaluation import (
    backtest,
    calibration_table,
    card_precision_at_k,
    churn_holdout,
    classification_metrics,
    cost_curve,
    fraud_time_split,
    gains_table,
    precision_at_k,
)
from crmmodels.propensity.fraud import FraudModel
from crmmodels.propensity.fraud_features import fraud_features
from crmmodels.propensity.plotting import (
    plot_calibration,
    plot_card_precision,
    plot_cost_curve,
    plot_gains,
    plot_lift,
)

__all__ = [
    "BlendedClassifier",
    "ChurnModel",
    "FraudModel",
    "PropensityClassifier",
    "WeightedPipeline",
    "backtest",
    "binary_labels",
    "calibration_table",
    "card_precision_at_k",
    "churn_features",
    "churn_holdout",
    "churn_labels",
    "classification_metrics",
    "clipped_logit",
    "cost_curve",
    "default_estimator",
    "fit_threads",
    "fraud_features",
    "fraud_time_split",
    "gains_table",
    "identifier_columns",
    "is_label_value",
    "parse_horizon",
    "plot_calibration",
    "plot_card_precision",
    "plot_cost_curve",
    "plot_gains",
    "plot_lift",
    "precision_at_k",
    "screen_columns",
    "separation",
]
