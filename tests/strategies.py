"""Hypothesis strategies built from the record schemas."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from hypothesis import strategies as st

from crmmodels.schemas import Channel, InteractionKind, Transaction, required_fields

START = pd.Timestamp("2020-01-01")


def customer_ids(max_customers: int = 6) -> st.SearchStrategy[str]:
    """Non-empty ids as the Customer / Transaction schemas require."""
    return st.integers(0, max_customers - 1).map(lambda i: f"c{i}")


@st.composite
def transaction_rows(draw: st.DrawFn, max_customers: int = 6, days: int = 400) -> dict[str, Any]:
    """One valid transaction as a dict with the schema's required fields."""
    row = {
        "customer_id": draw(customer_ids(max_customers)),
        "timestamp": START + pd.Timedelta(minutes=draw(st.integers(0, days * 24 * 60))),
        "amount": draw(st.floats(0.0, 500.0, allow_nan=False).map(lambda x: round(x, 2))),
    }
    assert set(required_fields(Transaction)) <= set(row)
    return row


@st.composite
def transactions_frames(
    draw: st.DrawFn, min_rows: int = 1, max_rows: int = 40, max_customers: int = 6
) -> pd.DataFrame:
    """Draw valid transactions frames (random rows, ids, times, amounts)."""
    rows = draw(st.lists(transaction_rows(max_customers), min_size=min_rows, max_size=max_rows))
    df = pd.DataFrame(rows)
    if draw(st.booleans()):
        df["channel"] = draw(st.lists(st.sampled_from([c.value for c in Channel]),
                                      min_size=len(df), max_size=len(df)))
    return df


def interaction_kinds() -> st.SearchStrategy[str]:
    """Draw valid interaction kinds."""
    return st.sampled_from([k.value for k in InteractionKind])


def permutations(n: int) -> st.SearchStrategy[np.ndarray]:
    """Random row orders of length n."""
    return st.permutations(list(range(n))).map(np.asarray)
