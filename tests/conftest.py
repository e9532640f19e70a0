"""Shared fixtures; points the dataset loaders at ../shared/datasets by default."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, settings

# Gradient boosting's OpenMP threads busy-wait: when another process holds a core, a fit
# can take many times longer. The suite measures results, not speed, so it runs them on
# one thread unless told otherwise (set before scikit-learn starts its thread pool).
os.environ.setdefault("OMP_NUM_THREADS", "1")

ROOT = Path(__file__).resolve().parents[1]
_default_data = ROOT.parent / "shared" / "datasets"
if not os.environ.get("CRMMODELS_DATA_DIR") and _default_data.is_dir():
    os.environ["CRMMODELS_DATA_DIR"] = str(_default_data)

settings.register_profile(
    "ci", derandomize=True, database=None, max_examples=60, deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", max_examples=40, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(scope="session")
def cdnow_sample():  # type: ignore[no-untyped-def]
    from crmmodels.datasets import load_cdnow_sample

    return load_cdnow_sample()


@pytest.fixture
def tx() -> pd.DataFrame:
    """Return a small valid transactions frame (3 customers)."""
    return pd.DataFrame({
        "customer_id": ["a", "a", "b", "c", "c", "c"],
        "timestamp": pd.to_datetime([
            "2024-01-01 10:00", "2024-01-15 12:00", "2024-01-03 09:00",
            "2024-01-02 08:00", "2024-01-02 18:00", "2024-02-01 11:00",
        ]),
        "amount": [10.0, 20.0, 5.0, 7.5, 2.5, 30.0],
    })


@pytest.fixture
def close_figures() -> Iterator[None]:
    """Close the matplotlib figures a test opened (``pytestmark`` of the plot tests)."""
    import matplotlib.pyplot as plt

    before = set(plt.get_fignums())
    yield
    for number in set(plt.get_fignums()) - before:
        plt.close(number)
