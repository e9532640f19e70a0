"""Loaders for real public CRM data sets.

CDNOW ships inside crmmodels, compressed (the files lifetimes distributes; their
provenance is in ``crmmodels/datasets/data/PROVENANCE.md``). The other data sets are
read from ``data_home`` or, when that is not given, from the directory named by the
``CRMMODELS_DATA_DIR`` environment variable (default ``~/crmmodels_data``), in this
layout::

    <data_home>/online_retail/online_retail_uci.csv.gz
    <data_home>/groceries/groceries.csv
    <data_home>/telco_churn/WA_Fn-UseC_-Telco-Customer-Churn.csv
    <data_home>/vehicle_insurance_fraud/fraud_oracle.csv
    <data_home>/card_fraud_simulated/transactions_2018-04-01_2018-09-30.csv.gz
    <data_home>/card_fraud_simulated/transactions_2018-04-01_to_04-14_sample.csv.gz
    <data_home>/bank_marketing/bank-additional-full.csv
    <data_home>/hillstrom/hillstrom.csv.gz

Every file's sha256 is checked; a missing file raises
:class:`~crmmodels.errors.DatasetNotFoundError` naming the expected path and the
public source. The licences differ: see each loader and the source.

The loaders of files with text dates (CDNOW, Online Retail, the card transactions)
read them with the published file's own format and take ``datetime_format=`` and
``dayfirst=``, passed to :class:`~crmmodels.CRMData`, for a copy written another way.
"""

from crmmodels.datasets._loaders import (
    DATASETS,
    DatasetInfo,
    dataset_path,
    get_data_home,
    load_bank_marketing,
    load_card_transactions,
    load_cdnow,
    load_cdnow_sample,
    load_donations,
    load_groceries,
    load_hillstrom,
    load_online_retail,
    load_telco_churn,
    load_vehicle_insurance_fraud,
)
from crmmodels.datasets._simulate import simulate_bg_nbd, simulate_pareto_nbd, simulate_sbg
from crmmodels.datasets._simulate_campaign import simulate_campaign
from crmmodels.datasets._simulate_crm import simulate_identities, simulate_interactions
from crmmodels.datasets._simulate_discrete import simulate_bg_bb, simulate_mbg_nbd
from crmmodels.datasets._simulate_world import PLANTED_STAGES, SimulatedCRM, simulate_crm

__all__ = [
    "DATASETS",
    "PLANTED_STAGES",
    "DatasetInfo",
    "SimulatedCRM",
    "dataset_path",
    "get_data_home",
    "load_bank_marketing",
    "load_card_transactions",
    "load_cdnow",
    "load_cdnow_sample",
    "load_donations",
    "load_groceries",
    "load_hillstrom",
    "load_online_retail",
    "load_telco_churn",
    "load_vehicle_insurance_fraud",
    "simulate_bg_bb",
    "simulate_bg_nbd",
    "simulate_campaign",
    "simulate_crm",
    "simulate_identities",
    "simulate_interactions",
    "simulate_mbg_nbd",
    "simulate_pareto_nbd",
    "simulate_sbg",
]
