"""Campaign history as a training table, and ResponseModel learning from it."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from crmmodels import CRMData
from crmmodels.datasets import simulate_crm
from crmmodels.errors import DataValidationError, InvalidParameterError
from crmmodels.identity import resolve_identities
from crmmodels.targeting import ResponseModel, campaign_history, response_features
from crmmodels.targeting.history import FEATURES
from tests.samples import key_of_person

YEAR = pd.Timedelta(days=365)


@pytest.fixture(scope="module")
def small() -> CRMData:
    world = simulate_crm(30, contacts=40, random_state=2)
    return world.data


def _brute_force(data: CRMData, window_days: int = 14) -> pd.DataFrame:
    """Every feature and label of every contact, by a loop over the raw frames."""
    tx, inter = data.transactions, data.interactions
    assert tx is not None
    assert inter is not None
    rows = []
    for _, c in inter[inter["kind"] == "campaign_sent"].iterrows():
        t, who, ch = c["timestamp"], c["customer_id"], c["channel"]
        mine_tx = tx[(tx["customer_id"] == who) & (tx["timestamp"] < t)]
        mine = inter[(inter["customer_id"] == who) & (inter["timestamp"] < t)]
        year_tx = mine_tx[mine_tx["timestamp"] >= t - YEAR]
        year = mine[mine["timestamp"] >= t - YEAR]
        sent = year[year["kind"] == "campaign_sent"]
        answered = year[year["kind"] == "response"]
        ch_sent = sent[sent["channel"] == ch]
        ch_answered = answered[answered["channel"] == ch]
        all_sent = mine[mine["kind"] == "campaign_sent"]
        all_answered = mine[mine["kind"] == "response"]

        def days(stamps: pd.Series, t: pd.Timestamp = t) -> float:
            return (t - stamps.max()).total_seconds() / 86_400 if len(stamps) else math.nan

        # The label: a response on this channel within the window, with no later contact
        # on this channel before it.
        later = inter[(inter["customer_id"] == who) & (inter["channel"] == ch)
                      & (inter["timestamp"] > t)
                      & (inter["timestamp"] <= t + pd.Timedelta(days=window_days))]
        response = False
        for _, r in later.sort_values("timestamp").iterrows():
            if r["kind"] == "campaign_sent":
                break
            if r["kind"] == "response":
                response = True
                break
        rows.append({
            "channel": ch, "days_since_purchase": days(mine_tx["timestamp"]),
            "purchases_365d": float(len(year_tx)), "spend_365d": year_tx["amount"].sum(),
            "contacts_365d": float(len(sent)), "responses_365d": float(len(answered)),
            "response_rate_365d": len(answered) / len(sent) if len(sent) else math.nan,
            "channel_contacts_365d": float(len(ch_sent)),
            "channel_responses_365d": float(len(ch_answered)),
            "channel_response_rate_365d": (len(ch_answered) / len(ch_sent) if len(ch_sent)
                                           else math.nan),
            "days_since_contact": days(all_sent["timestamp"]),
            "days_since_response": days(all_answered["timestamp"]),
            "complaints_365d": float((year["kind"] == "complaint").sum()),
            "response": response})
    return pd.DataFrame(rows)


def test_history_equals_a_loop_over_the_raw_frames(small: CRMData) -> None:
    table = campaign_history(small)
    expected = _brute_force(small)
    assert len(table) == len(expected) > 1_000
    assert list(table.columns) == ["customer_id", "timestamp", *FEATURES, "response"]
    got = table.drop(columns=["customer_id", "timestamp"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(got, expected, check_dtype=False, rtol=1e-9)
    assert 0.02 < table["response"].mean() < 0.5


def test_later_events_do_not_change_earlier_features(small: CRMData) -> None:
    inter = small.interactions
    assert inter is not None
    cut = inter["timestamp"].quantile(0.5)
    early = CRMData(transactions=small.transactions[small.transactions["timestamp"] < cut],
                    interactions=inter[inter["timestamp"] < cut],
                    observation_end=small.observation_end)
    full = campaign_history(small)
    part = campaign_history(early)
    features = ["customer_id", "timestamp", *FEATURES]
    pd.testing.assert_frame_equal(full.loc[full["timestamp"] < cut, features]
                                  .reset_index(drop=True), part[features])


def test_response_features_count_events_up_to_the_date(small: CRMData) -> None:
    inter = small.interactions
    assert inter is not None
    as_of = pd.Timestamp("2024-06-30")
    table = response_features(small, channel="sms", as_of=as_of)
    assert table.index.is_monotonic_increasing
    assert (table["channel"] == "sms").all()
    one = table.index[3]
    year = inter[(inter["customer_id"] == one) & (inter["timestamp"] <= as_of)
                 & (inter["timestamp"] > as_of - YEAR)]
    sms = year[year["channel"] == "sms"]
    assert table.loc[one, "channel_contacts_365d"] == (sms["kind"] == "campaign_sent").sum()
    assert table.loc[one, "channel_responses_365d"] == (sms["kind"] == "response").sum()


@pytest.fixture(scope="module")
def resolved() -> tuple[CRMData, pd.Series]:
    world = simulate_crm(1_500, contacts=80, random_state=1)
    res = resolve_identities(world.records, keys=["email", "phone"])
    key = key_of_person(world.records, res.mapping)
    rate = world.truth["rate_email"]
    rate.index = pd.Index(key.reindex(rate.index).to_numpy(), name="customer_id")
    return res.apply(world.data), rate


def test_response_model_from_history_recovers_the_planted_rates(
        resolved: tuple[CRMData, pd.Series]) -> None:
    data, rate = resolved
    model = ResponseModel(source="interactions", channel="email").fit(data)
    assert model.kind_ == "interactions"
    scores = model.score(data)
    assert scores.index.name == "customer_id"
    assert len(scores) == data.n_customers
    p = scores["response_probability"].reindex(rate.index)
    # Ranked and sized like the planted e-mail response rates of each person.
    assert np.corrcoef(p, rate)[0, 1] >= 0.7
    assert abs(p.mean() - rate.mean()) <= 0.02
    gains = model.gains(data)
    assert gains["lift"].iloc[0] > 2


def test_history_mode_refuses_bad_input(resolved: tuple[CRMData, pd.Series]) -> None:
    data, _ = resolved
    with pytest.raises(DataValidationError, match="campaign history of a CRMData"):
        ResponseModel(source="interactions").fit(pd.DataFrame({"a": [1]}))
    with pytest.raises(DataValidationError, match="has no campaign contact") as info:
        ResponseModel(source="interactions", channel="app").fit(data)
    assert info.value.rule == "unknown_channel"
    inter = data.interactions
    assert inter is not None
    no_contacts = CRMData(interactions=inter[inter["kind"] != "campaign_sent"])
    with pytest.raises(DataValidationError, match="no campaign contact") as info:
        ResponseModel(source="interactions").fit(no_contacts)
    assert info.value.rule == "no_contacts"
    with pytest.raises(InvalidParameterError, match="response_window"):
        ResponseModel(source="interactions", response_window=0).fit(data)
    with pytest.raises(InvalidParameterError, match="source"):
        ResponseModel(source="history").fit(data)
    with pytest.raises(InvalidParameterError, match="response_window"):
        campaign_history(data, response_window=1.5)  # type: ignore[arg-type]
