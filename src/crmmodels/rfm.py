"""Old import path of the RFM model: see :mod:`crmmodels.segments`.

Kept so that code written against the earlier flat layout keeps working; new code
imports from the subpackage named here.
"""

from crmmodels.segments import (
    STANDARD_SEGMENTS,
    RFMModel,
    breakeven_response_rate,
    responses_from_interactions,
    rfm_change,
    wilson_interval,
)

__all__ = [
    "STANDARD_SEGMENTS",
    "RFMModel",
    "breakeven_response_rate",
    "responses_from_interactions",
    "rfm_change",
    "wilson_interval",
]
