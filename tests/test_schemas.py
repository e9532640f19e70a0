"""Pydantic record schemas."""

from __future__ import annotations

import math

import pytest
from pydantic import ValidationError

from crmmodels.schemas import (
    Channel,
    Customer,
    Interaction,
    InteractionKind,
    Transaction,
    field_kinds,
    required_fields,
)


def test_required_fields_drive_validation() -> None:
    assert required_fields(Transaction) == ["customer_id", "timestamp", "amount"]
    assert required_fields(Customer) == ["customer_id"]
    assert required_fields(Interaction) == ["customer_id", "timestamp", "channel", "kind"]
    assert field_kinds(Transaction)["amount"] == "money"


def test_free_attributes_kept() -> None:
    c = Customer(customer_id=5, age_band="50-59", married=True)
    assert c.customer_id == "5"
    assert c.model_extra == {"age_band": "50-59", "married": True}


@pytest.mark.parametrize("bad", [math.nan, "", "   ", True, None])
def test_bad_customer_ids(bad: object) -> None:
    with pytest.raises(ValidationError):
        Transaction(customer_id=bad, timestamp="2024-01-01", amount=1)


def test_amount_rules() -> None:
    with pytest.raises(ValidationError, match="allow_returns"):
        Transaction(customer_id="a", timestamp="2024-01-01", amount=-2)
    with pytest.raises(ValidationError):
        Transaction(customer_id="a", timestamp="2024-01-01", amount=math.inf)
    with pytest.raises(ValidationError):
        Transaction(customer_id="a", timestamp="not a date", amount=1)
    with pytest.raises(ValidationError):
        Transaction(customer_id="a", timestamp="2024-01-01", amount=1, quantity=-1)


def test_enums() -> None:
    i = Interaction(customer_id="a", timestamp="2024-01-01", channel="web", kind="complaint")
    assert i.channel is Channel.WEB
    assert i.kind is InteractionKind.COMPLAINT
    with pytest.raises(ValidationError):
        Interaction(customer_id="a", timestamp="2024-01-01", channel="pigeon", kind="visit")
    with pytest.raises(ValidationError):
        Interaction(customer_id="a", timestamp="2024-01-01", channel="web", kind="dance")
