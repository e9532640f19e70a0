"""The data layer: record schemas, the validated container, per-customer summaries.

* :class:`CRMData` holds up to three validated pandas frames (transactions,
  customers, interactions); :class:`ValidationReport` counts what validation coerced
  or dropped;
* :class:`Customer`, :class:`Transaction` and :class:`Interaction` are the pydantic
  record models behind the column names and rules;
* :func:`customer_aggregates` is the one per-customer aggregate of the transactions
  (first and last purchase, counts, amounts), computed once per data and arguments and
  shared by the summary and the segment and churn models;
* :func:`match_cancellations` removes cancellations together with the orders they
  cancel;
* :func:`customer_summary` and :func:`calibration_holdout` build the repeat-purchase
  summary (frequency, recency, T, monetary value) every transaction model uses;
* :func:`check_rows`, :func:`lazy_aggregates` and :func:`lazy_summary` run the row
  rules, the aggregate and the summary as queries of the frame's own library (polars,
  DuckDB, Spark) for data that stay where they are; :func:`ordered_sums` sums per
  group row after row, with the same bits in every library.

Examples
--------
>>> from crmmodels.data import customer_summary
>>> from crmmodels.datasets import load_cdnow_sample
>>> customer_summary(load_cdnow_sample(), freq="W").columns.tolist()
['frequency', 'recency', 'T', 'monetary_value']
"""

from crmmodels.data._validation import (
    BOOLEAN_TEXT,
    ReportEntry,
    ValidationReport,
    align_timestamp,
    argsort_text,
    whole_number,
)
from crmmodels.data.aggregates import (
    customer_aggregates,
    data_time,
    period_numbers,
    wall_clock,
)
from crmmodels.data.container import CRMData, as_transaction_data
from crmmodels.data.lazy import check_rows, lazy_aggregates, lazy_summary, ordered_sums
from crmmodels.data.returns import CancellationMatch, match_cancellations
from crmmodels.data.schemas import (
    SCHEMAS,
    Channel,
    Customer,
    Interaction,
    InteractionKind,
    Transaction,
)
from crmmodels.data.summary import (
    SUMMARY_COLUMNS,
    as_summary,
    calibration_holdout,
    customer_summary,
    validate_summary,
)

__all__ = [
    "BOOLEAN_TEXT",
    "SCHEMAS",
    "SUMMARY_COLUMNS",
    "CRMData",
    "CancellationMatch",
    "Channel",
    "Customer",
    "Interaction",
    "InteractionKind",
    "ReportEntry",
    "Transaction",
    "ValidationReport",
    "align_timestamp",
    "argsort_text",
    "as_summary",
    "as_transaction_data",
    "calibration_holdout",
    "check_rows",
    "customer_aggregates",
    "customer_summary",
    "data_time",
    "lazy_aggregates",
    "lazy_summary",
    "match_cancellations",
    "ordered_sums",
    "period_numbers",
    "validate_summary",
    "wall_clock",
    "whole_number",
]
