"""Interaction profile: planted channel preferences, fatigue, complaints, against hand counts."""

from __future__ import annotations

import pandas as pd
import pytest

from crmmodels import CRMData
from crmmodels.datasets import simulate_interactions
from crmmodels.errors import DataValidationError, InvalidParameterError
from crmmodels.idic import channel_responses, interaction_profile


@pytest.fixture(scope="module")
def simulated() -> tuple[CRMData, pd.DataFrame, pd.DataFrame]:
    # 30 contacts per channel: "enough contacts" for rates of 0.25-0.40 against 0.02-0.10
    # (with 20 per channel 95.2% are recovered, with 10 per channel 86.6%).
    inter, truth = simulate_interactions(2_000, contacts=120, random_state=3)
    data = CRMData(interactions=inter)
    return data, truth, interaction_profile(data)


def test_planted_preferred_channel_is_recovered_for_95_percent(
        simulated: tuple[CRMData, pd.DataFrame, pd.DataFrame]) -> None:
    _, truth, profile = simulated
    # Every simulated customer has 30 contacts per channel, above min_contacts = 5.
    assert (profile["preferred_by"] == "response rate").all()
    agree = (profile["preferred_channel"] == truth["preferred_channel"].reindex(profile.index))
    assert agree.mean() >= 0.95


def test_counts_equal_a_hand_count(simulated: tuple[CRMData, pd.DataFrame,
                                                    pd.DataFrame]) -> None:
    data, _, profile = simulated
    inter = data.interactions
    assert inter is not None
    one = profile.index[7]
    rows = inter[inter["customer_id"] == one]
    assert profile.loc[one, "contacts"] == (rows["kind"] == "campaign_sent").sum()
    assert profile.loc[one, "responses"] == (rows["kind"] == "response").sum()
    assert profile.loc[one, "last_contact"] == rows["timestamp"].max()
    per = channel_responses(data).loc[one]
    assert per["contacts"].sum() == profile.loc[one, "contacts"]
    # The preferred channel has the highest Wilson lower bound.
    assert per["ci_lower"].idxmax() == profile.loc[one, "preferred_channel"]


def test_fatigue_complaints_and_most_used_fallback() -> None:
    ts = pd.to_datetime(["2024-01-01", "2024-03-01", "2024-05-01", "2024-06-10",
                         "2024-06-15", "2024-06-20", "2024-06-25", "2024-06-26"])
    inter = pd.DataFrame({
        "customer_id": "a", "timestamp": ts,
        "channel": ["email", "email", "sms", "sms", "sms", "sms", "phone", "phone"],
        "kind": ["campaign_sent"] * 6 + ["complaint", "complaint"],
        "outcome": [None] * 6 + ["Resolved", "waiting"]})
    data = CRMData(interactions=inter, observation_end="2024-06-30")
    profile = interaction_profile(data, min_contacts=10)
    row = profile.loc["a"]
    # Fewer than 10 contacts on every channel: the most used channel (sms, 4 rows).
    assert row["preferred_channel"] == "sms"
    assert row["preferred_by"] == "most used"
    # 3 contacts in the last 30 days; 6 contacts over 181 days = 0.994 per 30 days.
    assert row["contacts_recent"] == 3
    span = (pd.Timestamp("2024-06-30") - ts[0]) / pd.Timedelta(days=30)
    assert row["contacts_norm"] == pytest.approx(6 / span)
    assert row["fatigue"] == pytest.approx(3 / (6 / span))
    assert (row["complaints"], row["open_complaints"]) == (2, 1)
    assert row["responses"] == 0
    assert row["response_rate"] == 0.0


def test_bad_input() -> None:
    tx = pd.DataFrame({"customer_id": ["a"], "timestamp": pd.to_datetime(["2024-01-01"]),
                       "amount": [1.0]})
    with pytest.raises(DataValidationError, match="interactions"):
        interaction_profile(CRMData(transactions=tx))
    with pytest.raises(TypeError, match="CRMData"):
        interaction_profile(tx)  # type: ignore[arg-type]
    inter = pd.DataFrame({"customer_id": ["a"], "timestamp": pd.to_datetime(["2024-01-01"]),
                          "channel": ["email"], "kind": ["campaign_sent"]})
    with pytest.raises(InvalidParameterError, match="min_contacts"):
        interaction_profile(CRMData(interactions=inter), min_contacts=0)


def test_as_of_leaves_later_interactions_out() -> None:
    inter = pd.DataFrame({
        "customer_id": ["a", "a", "a"], "channel": ["email", "email", "sms"],
        "kind": ["campaign_sent", "response", "campaign_sent"],
        "timestamp": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-03-05"])})
    profile = interaction_profile(CRMData(interactions=inter), as_of="2024-01-15")
    row = profile.loc["a"]
    assert (row["contacts"], row["responses"]) == (1, 1)
    assert row["last_contact"] == pd.Timestamp("2024-01-02")
    aware = CRMData(interactions=inter.assign(
        timestamp=inter["timestamp"].dt.tz_localize("Europe/Berlin")))
    assert interaction_profile(aware, as_of="2024-01-15").loc["a", "contacts"] == 1
