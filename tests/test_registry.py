"""Registry: built-ins, runtime registration, and real entry-point plug-ins."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

import crmmodels
from crmmodels import NaiveRateModel
from crmmodels.errors import CRMModelsError, InvalidParameterError
from crmmodels.registry import get_model, list_models, register, unregister


def test_builtins_listed() -> None:
    assert "naive_rate" in crmmodels.list_models()
    assert get_model("naive_rate") is NaiveRateModel


def test_unknown_name_suggests() -> None:
    with pytest.raises(InvalidParameterError, match="did you mean 'naive_rate'"):
        get_model("naive_rates")


def test_runtime_register() -> None:
    register("rate_copy", NaiveRateModel)
    try:
        assert "rate_copy" in list_models()
        assert get_model("rate_copy") is NaiveRateModel
    finally:
        unregister("rate_copy")
    assert "rate_copy" not in list_models()
    with pytest.raises(InvalidParameterError):
        register("naive_rate", NaiveRateModel)
    with pytest.raises(InvalidParameterError):
        register("x", dict)


@pytest.fixture
def plugin_dist(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Install a distribution (dist-info on sys.path) declaring plug-ins."""
    pkg = tmp_path / "acme_crm"
    pkg.mkdir()
    (pkg / "__init__.py").write_text(textwrap.dedent('''
        from typing import ClassVar
        import pandas as pd
        from crmmodels import CRMModel

        class MeanSpendModel(CRMModel):
            _score_columns: ClassVar[tuple[str, ...]] = ("mean_spend",)
            _bad_params = ({"scale": -1},)
            _param_rules = {"scale": (lambda v: v > 0, "positive")}

            def __init__(self, *, scale: float = 1.0) -> None:
                self.scale = scale

            def _fit(self, data):
                self.overall_ = float(data.transactions["amount"].mean())

            def _score(self, data):
                m = data.transactions.groupby("customer_id")["amount"].mean()
                return pd.DataFrame({"mean_spend": m * self.scale})

        NotAModel = dict
    '''))
    dist = tmp_path / "acme_crm-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-crm\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        "[crmmodels.models]\nmean_spend = acme_crm:MeanSpendModel\n"
        "broken = acme_crm:DoesNotExist\nnot_a_model = acme_crm:NotAModel\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    sys.modules.pop("acme_crm", None)


def test_entry_point_plugins(plugin_dist: Path, cdnow_sample: crmmodels.CRMData) -> None:
    from crmmodels.testing import CHECKS, check_model

    names = list_models()
    assert {"mean_spend", "broken", "not_a_model", "naive_rate"} <= set(names)
    klass = get_model("mean_spend")
    assert klass.__name__ == "MeanSpendModel"
    assert check_model(klass(), cdnow_sample) == list(CHECKS)
    with pytest.raises(CRMModelsError, match="could not be loaded"):
        get_model("broken")
    with pytest.raises(CRMModelsError, match=r"not a crmmodels\.CRMModel"):
        get_model("not_a_model")
