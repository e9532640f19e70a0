"""Old import path of the record schemas: see :mod:`crmmodels.data`.

Kept so that code written against the earlier flat layout keeps working; new code
imports from the subpackage named here.
"""

from crmmodels.data.schemas import (
    SCHEMAS,
    Channel,
    Customer,
    FieldKind,
    Interaction,
    InteractionKind,
    Transaction,
    field_kinds,
    required_fields,
)

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
