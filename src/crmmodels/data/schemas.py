"""Record schemas: the single source of truth for field names, types and constraints.

The pydantic models validate single records (a service call, ``CRMData.from_records``).
Whole frames are validated vectorised by :class:`crmmodels.CRMData`, which reads the
required and optional columns and their kinds from these models, so the two paths
cannot drift apart.

Each field carries a ``kind`` (in ``json_schema_extra``) telling the vectorised
validator how to check the column: ``id`` (non-empty text), ``datetime``, ``money``
(finite number; negative only for returns when allowed), ``number`` (finite, >= 0),
``bool``, ``channel`` / ``interaction_kind`` (enum values), ``text``.

Unknown fields are kept as free attributes (``extra="allow"``).

Examples
--------
>>> from crmmodels.data import Transaction
>>> t = Transaction(customer_id=17, timestamp="2024-03-01 10:00", amount="12.50",
...                 region="north")
>>> t.customer_id, t.amount, t.model_extra
('17', 12.5, {'region': 'north'})
"""

from __future__ import annotations

import math
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

__all__ = [
    "SCHEMAS",
    "Channel",
    "Customer",
    "FieldKind",
    "Interaction",
    "InteractionKind",
    "Transaction",
    "field_kinds",
    "required_fields",
]

FieldKind = Literal[
    "id", "datetime", "money", "number", "bool", "channel", "interaction_kind", "text"
]


class Channel(StrEnum):
    """Contact or sales channel."""

    EMAIL = "email"
    PHONE = "phone"
    SMS = "sms"
    WEB = "web"
    APP = "app"
    STORE = "store"
    SOCIAL = "social"
    MAIL = "mail"
    CALL_CENTER = "call_center"
    AGENT = "agent"
    OTHER = "other"


class InteractionKind(StrEnum):
    """What happened in an interaction."""

    CAMPAIGN_SENT = "campaign_sent"
    RESPONSE = "response"
    COMPLAINT = "complaint"
    SUPPORT = "support"
    VISIT = "visit"
    INQUIRY = "inquiry"
    FEEDBACK = "feedback"
    OTHER = "other"


def _kind(kind: FieldKind) -> dict[str, Any]:
    return {"kind": kind}


class _Record(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True, str_strip_whitespace=True)

    @field_validator("customer_id", mode="before", check_fields=False)
    @classmethod
    def _id_to_text(cls, value: Any) -> Any:
        if isinstance(value, bool):
            raise ValueError("customer_id must be text or an integer, not a boolean")
        if isinstance(value, float):
            if math.isnan(value):
                raise ValueError("customer_id must not be NaN")
            if value.is_integer():
                return str(int(value))
        if isinstance(value, int):
            return str(value)
        return value


class Customer(_Record):
    """One customer.

    Attributes
    ----------
    customer_id : str
        Non-empty identifier (integers are turned into text).
    signup_date : datetime, optional
        When the customer relationship started.
    churned : bool, optional
        Known churn label (contractual settings), ``None`` when unknown.

    Examples
    --------
    >>> Customer(customer_id="c1", churned=False, contract="monthly").model_extra
    {'contract': 'monthly'}
    """

    customer_id: str = Field(min_length=1, json_schema_extra=_kind("id"))
    signup_date: datetime | date | None = Field(default=None, json_schema_extra=_kind("datetime"))
    churned: bool | None = Field(default=None, json_schema_extra=_kind("bool"))


class Transaction(_Record):
    """One purchase (or, when the caller allows returns, a refund).

    A negative ``amount`` is accepted only when validation runs with the context
    ``{"allow_returns": True}`` (``CRMData(..., allow_returns=True)`` passes it).

    Examples
    --------
    >>> Transaction(customer_id="c1", timestamp="2024-01-05", amount=9.99).amount
    9.99
    >>> Transaction.model_validate(
    ...     {"customer_id": "c1", "timestamp": "2024-01-06", "amount": -9.99},
    ...     context={"allow_returns": True},
    ... ).amount
    -9.99
    """

    customer_id: str = Field(min_length=1, json_schema_extra=_kind("id"))
    timestamp: datetime = Field(json_schema_extra=_kind("datetime"))
    amount: float = Field(allow_inf_nan=False, json_schema_extra=_kind("money"))
    transaction_id: str | None = Field(default=None, json_schema_extra=_kind("text"))
    product_id: str | None = Field(default=None, json_schema_extra=_kind("text"))
    quantity: float | None = Field(
        default=None, ge=0, allow_inf_nan=False, json_schema_extra=_kind("number")
    )
    channel: Channel | None = Field(default=None, json_schema_extra=_kind("channel"))
    is_fraud: bool | None = Field(default=None, json_schema_extra=_kind("bool"))

    @field_validator("channel", mode="before")
    @classmethod
    def _normalise_channel(cls, value: Any) -> Any:
        return _enum_text(value)

    @field_validator("transaction_id", "product_id", mode="before")
    @classmethod
    def _ids_to_text(cls, value: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        return value

    @field_validator("amount")
    @classmethod
    def _returns_need_permission(cls, value: float, info: ValidationInfo) -> float:
        allow = bool(info.context and info.context.get("allow_returns"))
        if value < 0 and not allow:
            raise ValueError(
                "amount is negative; pass allow_returns=True if negative amounts are returns"
            )
        return value


def _enum_text(value: Any) -> Any:
    """Enum values are matched ignoring case and surrounding spaces (as in frames)."""
    return value.strip().lower() if isinstance(value, str) else value


class Interaction(_Record):
    """One contact between the company and a customer.

    Examples
    --------
    >>> Interaction(customer_id="c1", timestamp="2024-02-01", channel="email",
    ...             kind="campaign_sent", cost=0.62).kind
    <InteractionKind.CAMPAIGN_SENT: 'campaign_sent'>
    """

    customer_id: str = Field(min_length=1, json_schema_extra=_kind("id"))
    timestamp: datetime = Field(json_schema_extra=_kind("datetime"))
    channel: Channel = Field(json_schema_extra=_kind("channel"))
    kind: InteractionKind = Field(json_schema_extra=_kind("interaction_kind"))
    outcome: str | None = Field(default=None, json_schema_extra=_kind("text"))
    cost: float | None = Field(
        default=None, ge=0, allow_inf_nan=False, json_schema_extra=_kind("number")
    )

    @field_validator("channel", "kind", mode="before")
    @classmethod
    def _normalise_enums(cls, value: Any) -> Any:
        return _enum_text(value)


SCHEMAS: Final[dict[str, type[_Record]]] = {
    "transactions": Transaction,
    "customers": Customer,
    "interactions": Interaction,
}


def field_kinds(schema: type[BaseModel]) -> dict[str, FieldKind]:
    """Return ``{field name: kind}`` for a schema, in declaration order.

    Examples
    --------
    >>> field_kinds(Customer)
    {'customer_id': 'id', 'signup_date': 'datetime', 'churned': 'bool'}
    """
    out: dict[str, FieldKind] = {}
    for name, info in schema.model_fields.items():
        extra = info.json_schema_extra
        assert isinstance(extra, dict)
        out[name] = extra["kind"]  # type: ignore[assignment]
    return out


def required_fields(schema: type[BaseModel]) -> list[str]:
    """Return the names of the fields a record must have.

    Examples
    --------
    >>> required_fields(Transaction)
    ['customer_id', 'timestamp', 'amount']
    """
    return [name for name, info in schema.model_fields.items() if info.is_required()]
