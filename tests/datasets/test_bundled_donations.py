"""The bundled donations data: the file lifetimes ships, and the paper's estimates."""

from __future__ import annotations

import hashlib
from importlib.resources import files

import pandas as pd
import pytest

from crmmodels.cltv import BetaGeoBetaBinomModel
from crmmodels.datasets import dataset_path, load_donations


def test_donations_are_lifetimes_file_byte_for_byte() -> None:
    lifetimes = pytest.importorskip("lifetimes")
    theirs = (files(lifetimes) / "datasets" / "donations.csv").read_bytes()
    assert dataset_path("donations").read_bytes() == theirs
    assert hashlib.sha256(theirs).hexdigest() == (
        "82c25f26a201ff047e1cd5fe3d7967a45db92a025ecedee72ff8940e50104544")


def test_donors_and_patterns() -> None:
    donors, patterns = load_donations(), load_donations(patterns=True)
    assert len(donors) == patterns["n_customers"].sum() == 11_104  # the paper's cohort
    assert len(patterns) == 22
    assert donors.index.is_unique
    assert (donors["n_periods"] == 6).all()
    counted = donors.value_counts(["frequency", "recency"]).sort_index()
    expected = patterns.set_index(["frequency", "recency"])["n_customers"].sort_index()
    pd.testing.assert_series_equal(counted, expected, check_names=False)


def test_bgbb_on_donations_gives_the_published_estimates() -> None:
    # Fader, Hardie & Shang (2010), Table 1: alpha 1.204, beta 0.750, gamma 0.657,
    # delta 2.783, LL -33,225.6.
    model = BetaGeoBetaBinomModel(horizon=5).fit(load_donations())
    assert model.params_.round(3).to_dict() == {"alpha": 1.204, "beta": 0.750,
                                                "gamma": 0.657, "delta": 2.783}
    assert round(model.log_likelihood_, 1) == -33225.6
