"""Every registered model passes the public contract; broken models are caught."""

from __future__ import annotations

from numbers import Real
from typing import Any, ClassVar, Self

import pandas as pd
import pytest

from crmmodels import CRMData, CRMModel, list_models
from crmmodels.core import Constraint, Interval, ParamRule
from crmmodels.errors import InvalidParameterError
from crmmodels.registry import get_model
from crmmodels.testing import CHECKS, check_model
from tests.samples import (
    bank_contacts,
    campaign_test,
    cdnow_churn_sample,
    cdnow_with_interactions,
)


def _retention_data() -> CRMData:
    from crmmodels.datasets import simulate_sbg

    return CRMData(customers=simulate_sbg(3000, 8, 0.7, 1.2, random_state=0).reset_index())


def _basket_data() -> CRMData:
    from crmmodels.datasets import load_online_retail

    tx = load_online_retail().transactions
    assert tx is not None
    first = tx["customer_id"].drop_duplicates().iloc[:150]
    return CRMData(transactions=tx[tx["customer_id"].isin(first)])


def _card_data() -> CRMData:
    from crmmodels.datasets import load_card_transactions

    tx = load_card_transactions(subset="sample").transactions
    assert tx is not None
    # 40 defrauded card holders and 80 others over 14 days (3,566 transactions, 52 frauds).
    defrauded = tx.groupby("customer_id")["is_fraud"].any()
    chosen = [*defrauded[defrauded].index.sort_values()[:40],
              *defrauded[~defrauded].index.sort_values()[:80]]
    return CRMData(transactions=tx[tx["customer_id"].isin(chosen)])


# Models whose input is not a plain transaction log get their own data.
_DATA = {"sbg": _retention_data, "association_rules": _basket_data, "churn": cdnow_churn_sample,
         "fraud": _card_data, "response": lambda: bank_contacts(20),
         "uplift": lambda: campaign_test(2000),
         "idic": cdnow_with_interactions}
# Models of flat tables name the table's label and id columns.
_PARAMS = {"response": {"label": "y", "id": "customer_id"}, "uplift": {"id": "customer_id"}}


@pytest.mark.parametrize("name", list_models())
def test_registered_model_passes_contract(name: str, cdnow_sample: CRMData) -> None:
    model = get_model(name)(**_PARAMS.get(name, {}))
    if "random_state" in model.get_params():
        model.set_params(random_state=0)  # "refit equals fresh fit" needs a seed
    data = _DATA[name]() if name in _DATA else cdnow_sample
    assert check_model(model, data) == list(CHECKS)


class _GoodModel(CRMModel):
    """Spend per customer times a factor: satisfies the contract."""

    _score_columns: ClassVar[tuple[str, ...]] = ("spend",)
    _parameter_constraints: ClassVar[dict[str, list[Constraint | None]]] = {
        "factor": [Interval(Real, 0, None, closed="neither")]}
    _bad_params: ClassVar[tuple[dict[str, Any], ...]] = ({"factor": 0},)

    def __init__(self, *, factor: float = 1.0) -> None:
        self.factor = factor

    def _fit(self, data: CRMData) -> None:
        assert data.transactions is not None
        self.mean_ = float(data.transactions["amount"].mean())

    def _score(self, data: CRMData) -> pd.DataFrame:
        assert data.transactions is not None
        s = data.transactions.groupby("customer_id")["amount"].sum() * self.factor
        return pd.DataFrame({"spend": s / self.mean_})


class _MutatingModel(_GoodModel):
    def _fit(self, data: CRMData) -> None:
        super()._fit(data)
        assert data.transactions is not None
        data.transactions.loc[data.transactions.index[0], "amount"] += 1.0


class _ScoreChangesStateModel(_GoodModel):
    def _score(self, data: CRMData) -> pd.DataFrame:
        self.mean_ += 1.0
        return super()._score(data)


class _OrderDependentModel(_GoodModel):
    def _fit(self, data: CRMData) -> None:
        assert data.transactions is not None
        self.mean_ = float(data.transactions["amount"].iloc[0]) + 1.0


class _LambdaModel(_GoodModel):
    def _fit(self, data: CRMData) -> None:
        super()._fit(data)
        self.transform_ = lambda x: x


class _NoParamChecksModel(_GoodModel):
    _parameter_constraints: ClassVar[dict[str, list[Constraint | None]]] = {}


class _OwnMessageModel(_GoodModel):
    """Checks its parameter by hand, with a message of its own."""

    def _check_params(self) -> None:
        if not (isinstance(self.factor, int | float) and self.factor > 0):
            raise InvalidParameterError("bad factor")


class _PositionalModel(_GoodModel):
    def __init__(self, factor: float = 1.0) -> None:
        self.factor = factor


class _NonAtomicModel(_GoodModel):
    """Forgets its fitted state before it knows the new fit will succeed."""

    def fit(self, data: Any, /) -> Self:
        self._check_params()
        prepared = self._prepare(data)
        self._reset()
        self._fit(prepared)
        return self


class _LegacyRulesModel(_GoodModel):
    """Declares its rule in the older predicate form plug-ins may still use."""

    _parameter_constraints: ClassVar[dict[str, list[Constraint | None]]] = {}
    _param_rules: ClassVar[dict[str, ParamRule]] = {"factor": (lambda v: v > 0, "positive")}


class _LaxModel(_GoodModel):
    """Trusts a raw DataFrame instead of validating it."""

    def _prepare(self, data: object) -> Any:
        return data if isinstance(data, pd.DataFrame) else super()._prepare(data)

    def _fit(self, data: Any) -> None:
        frame = data.transactions if isinstance(data, CRMData) else data
        self.mean_ = float(frame["amount"].mean()) if "amount" in frame else 0.0


class _StatefulConstructorModel(_GoodModel):
    def __init__(self, *, factor: float = 1.0) -> None:
        self.factor = factor
        self.cache_ = {"x": 1.0}


_TEST_MODELS = (_GoodModel, _MutatingModel, _ScoreChangesStateModel, _OrderDependentModel,
                _LambdaModel, _NoParamChecksModel, _LaxModel, _StatefulConstructorModel,
                _OwnMessageModel, _PositionalModel, _NonAtomicModel, _LegacyRulesModel)


@pytest.fixture(autouse=True)
def _registered() -> Any:
    """Register this module's test models (saved files name models by registry name)."""
    from crmmodels.core import register, unregister

    for klass in _TEST_MODELS:
        register(f"test_{klass.__name__.lower()}", klass)
    yield
    for klass in _TEST_MODELS:
        unregister(f"test_{klass.__name__.lower()}")


def test_good_model_passes(cdnow_sample: CRMData) -> None:
    assert check_model(_GoodModel(), cdnow_sample) == list(CHECKS)


@pytest.mark.parametrize(
    ("model", "check"),
    [
        (_MutatingModel(), "fit_no_mutation"),
        (_ScoreChangesStateModel(), "score_contract"),
        (_OrderDependentModel(), "row_order"),
        (_LambdaModel(), "save_load"),
        (_NoParamChecksModel(), "bad_params"),
        (_StatefulConstructorModel(), "clone"),
        (_LaxModel(), "bad_data"),
        (_OwnMessageModel(), "bad_params"),
        (_PositionalModel(), "keyword_only"),
        (_NonAtomicModel(), "atomic_fit"),
    ],
)
def test_broken_models_fail_the_right_check(model: CRMModel, check: str) -> None:
    from crmmodels.datasets import load_cdnow_sample

    data = load_cdnow_sample()  # fresh: a broken model may modify it
    with pytest.raises(AssertionError, match=f"check '{check}'"):
        check_model(model, data)


def test_legacy_rules_use_the_same_checker(cdnow_sample: CRMData) -> None:
    with pytest.raises(InvalidParameterError,
                       match=r"^_LegacyRulesModel: factor must be positive, got 0$"):
        _LegacyRulesModel(factor=0).fit(cdnow_sample)
    assert check_model(_LegacyRulesModel(), cdnow_sample) == list(CHECKS)


def test_unknown_check_name(cdnow_sample: CRMData) -> None:
    with pytest.raises(InvalidParameterError):
        check_model(_GoodModel(), cdnow_sample, checks=["nope"])
