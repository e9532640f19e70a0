"""Rich notebook display: ``_repr_html_`` of models, validation reports, identity resolutions.

Every built-in model is shown unfitted and fitted (fitted by the contract tests' cached
helpers, on their small data); the HTML must parse with balanced tags, name the class
and every hyper-parameter and, for the CLV models, show each fitted parameter and its
standard error exactly as :func:`crmmodels.core.display.format_value` formats the
model's own attributes. The display never raises, never changes the model, never
scores data, and escapes every text that comes from user data.
"""

from __future__ import annotations

import html
import pickle
from html.parser import HTMLParser
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import pytest

from crmmodels import CRMData, CRMModel
from crmmodels.core import HTMLCard, get_model, list_models
from crmmodels.core.display import format_value, model_html
from crmmodels.core.registry import _BUILTIN
from crmmodels.data import ValidationReport
from crmmodels.identity import resolve_identities
from tests.contract.test_wrong_types import fitted, unfitted

BUILTIN = sorted(_BUILTIN)
SCRIPT = "<script>alert(1)</script>"
ESCAPED = html.escape(SCRIPT)
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
         "source", "track", "wbr"}


class _TagChecker(HTMLParser):
    """Record every start tag; fail on an end tag that closes another element."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.tags: list[str] = []
        self.errors: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag not in _VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in _VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
        else:
            self.stack.pop()


def check_html(text: object) -> str:
    """Assert ``text`` is a string of balanced HTML without scripts; return it."""
    assert isinstance(text, str)
    assert text
    parser = _TagChecker()
    parser.feed(text)
    parser.close()
    assert not parser.errors, parser.errors[:3]
    assert not parser.stack, f"unclosed tags: {parser.stack}"
    assert "script" not in parser.tags
    return text


def shown(value: object) -> str:
    """Return ``value`` as the display writes it (formatted, then escaped)."""
    return html.escape(format_value(value))


def models_shown(model: Any, depth: int = 0) -> list[Any]:
    """Return the model and the fitted crmmodels sub-models the display shows."""
    found = [model]
    if depth < 2:
        for value in vars(model).values():
            if isinstance(value, CRMModel) and value.__sklearn_is_fitted__():
                found += models_shown(value, depth + 1)
    return found


def state_bytes(model: Any) -> bytes:
    return pickle.dumps(vars(model))


@pytest.fixture(scope="module")
def fitted_html() -> dict[str, str]:
    """Each built-in model, fitted once, shown once (shared by the tests below)."""
    return {name: fitted(name)._repr_html_() for name in BUILTIN}


def test_every_builtin_is_registered() -> None:
    assert set(BUILTIN) <= set(list_models())


# ------------------------------------------------------------------ models
@pytest.mark.parametrize("name", BUILTIN)
def test_unfitted_model_shows_class_and_parameters(name: str) -> None:
    model = unfitted(name)
    text = check_html(model._repr_html_())
    assert type(model).__name__ in text
    assert "not fitted" in text
    for param in model.get_params(deep=False):
        assert html.escape(param) in text, param
    assert ">Fit<" not in text  # no fitted state to show


@pytest.mark.parametrize("name", BUILTIN)
def test_fitted_model_shows_parameters_and_diagnostics(
        name: str, fitted_html: dict[str, str]) -> None:
    model = fitted(name)
    text = check_html(fitted_html[name])
    assert type(model).__name__ in text
    assert ">fitted<" in text
    assert "not fitted" not in text
    for param in model.get_params(deep=False):
        assert html.escape(param) in text, param
    for shown_model in models_shown(model):
        assert type(shown_model).__name__ in text
        for attr in ("n_customers_", "log_likelihood_", "converged_"):
            if hasattr(shown_model, attr):
                assert f"<th>{attr}</th><td>{shown(getattr(shown_model, attr))}</td>" in text
        if hasattr(shown_model, "params_"):  # the CLV models, also inside composites
            check_estimates(shown_model, text)


def check_estimates(model: Any, text: str) -> None:
    """Each fitted parameter in a row with its standard error (when the model has one)."""
    has_errors = hasattr(model, "covariance_")
    se = model.standard_errors_ if has_errors else None
    for param, value in model.params_.items():
        row = f"<th>{html.escape(str(param))}</th><td>{shown(value)}</td>"
        if se is not None:
            row += f"<td>{shown(se[param])}</td>"
        assert row in text, (type(model).__name__, param)
    if has_errors:
        assert "<th>se</th>" in text


CLV = [n for n in BUILTIN if get_model(n).__module__.startswith("crmmodels.cltv")]


@pytest.mark.parametrize("name", CLV)
def test_clv_models_show_estimates_and_standard_errors(
        name: str, fitted_html: dict[str, str]) -> None:
    text = fitted_html[name]
    with_params = [m for m in models_shown(fitted(name)) if hasattr(m, "params_")]
    assert with_params
    assert ">Estimates<" in text
    for model in with_params:
        check_estimates(model, text)


def test_clv_composite_shows_both_submodels(fitted_html: dict[str, str]) -> None:
    text = fitted_html["clv"]
    assert "transaction_model_: BetaGeoModel" in text
    assert "spend_model_: GammaGammaModel" in text


@pytest.mark.parametrize("name", BUILTIN)
def test_display_reads_only(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    model = fitted(name)
    params = repr(model.get_params(deep=False))
    before = state_bytes(model)

    def no_scoring(*args: object, **kwargs: object) -> None:
        raise AssertionError("the display scored data")

    monkeypatch.setattr(type(model), "_score", no_scoring)
    monkeypatch.setattr(type(model), "score", no_scoring)
    check_html(model._repr_html_())
    monkeypatch.undo()
    assert state_bytes(model) == before
    assert repr(model.get_params(deep=False)) == params


def test_plain_repr_is_unchanged() -> None:
    from crmmodels.cltv import BetaGeoModel

    assert repr(BetaGeoModel(horizon=26)) == "BetaGeoModel(horizon=26)"
    assert repr(fitted("bg_nbd")) == "BetaGeoModel()"


def test_mimebundle_carries_the_same_html() -> None:
    model = fitted("bg_nbd")
    bundle = model._repr_mimebundle_()
    assert bundle == {"text/plain": repr(model), "text/html": model._repr_html_()}


def test_hand_set_parameters_show_without_errors() -> None:
    from crmmodels.cltv import BetaGeoModel

    model = BetaGeoModel()
    model.params_ = pd.Series({"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426})
    text = check_html(model._repr_html_())
    assert "<th>alpha</th><td>4.414</td>" in text
    assert "could not be shown" not in text


def test_model_at_the_boundary_shows_the_warning() -> None:
    model = pickle.loads(pickle.dumps(fitted("bg_nbd")))
    model.boundary_ = {"b": "b -> infinity <means> nobody leaves"}
    text = check_html(model._repr_html_())
    assert "At the boundary" in text
    assert "b -&gt; infinity &lt;means&gt; nobody leaves" in text


# ------------------------------------------------------------------ never raises
class _Shown(CRMModel):
    """A model whose display holds user text everywhere."""

    _score_columns: ClassVar[tuple[str, ...]] = ("x",)

    def __init__(self, *, column: str = SCRIPT) -> None:
        self.column = column

    def _fit(self, data: Any) -> None:
        self.label_ = SCRIPT
        self.table_ = pd.DataFrame({SCRIPT: [1.5]}, index=pd.Index([SCRIPT], name=SCRIPT))

    def _html_diagnostics(self) -> list[tuple[str, pd.DataFrame | pd.Series | str]]:
        return [(SCRIPT, self.table_), ("Note", SCRIPT)]


class _BrokenHook(_Shown):
    def _html_diagnostics(self) -> list[tuple[str, pd.DataFrame | pd.Series | str]]:
        raise RuntimeError("no <diagnostics>")


class _BrokenParams(_Shown):
    def get_params(self, deep: bool = True) -> dict[str, Any]:
        raise RuntimeError("broken")


class _BrokenEverything(_BrokenParams):
    def __sklearn_is_fitted__(self) -> bool:
        raise RuntimeError("broken")

    def __repr__(self) -> str:
        raise RuntimeError("broken")


def test_user_text_in_a_model_is_escaped(tx: pd.DataFrame) -> None:
    model = _Shown().fit(CRMData(transactions=tx))
    text = check_html(model._repr_html_())
    assert SCRIPT not in text
    assert text.count(ESCAPED) >= 6  # parameter, heading, column, index name and label, note


def test_a_column_named_script_is_escaped_in_a_real_model() -> None:
    from crmmodels.targeting import ResponseModel

    text = check_html(ResponseModel(label=SCRIPT, id=SCRIPT)._repr_html_())
    assert SCRIPT not in text
    assert ESCAPED in text


def test_a_failing_hook_becomes_a_note(tx: pd.DataFrame) -> None:
    model = _BrokenHook().fit(CRMData(transactions=tx))
    text = check_html(model._repr_html_())
    assert "could not be shown (RuntimeError: no &lt;diagnostics&gt;)" in text
    assert "label_" in text  # the rest is still shown


def test_failing_parameters_become_a_note() -> None:
    text = check_html(_BrokenParams()._repr_html_())
    assert "_BrokenParams" in text
    assert "could not be shown" in text


def test_display_never_raises() -> None:
    model = _BrokenEverything()
    model.x_ = 1
    text = check_html(model._repr_html_())
    assert "_BrokenEverything" in text
    text = check_html(model_html(object()))  # not even a model
    assert "object" in text


# ------------------------------------------------------------------ values
@pytest.mark.parametrize(("value", "expected"), [
    (None, "None"), (True, "True"), (np.bool_(False), "False"), (2357, "2,357"),
    (np.int64(7), "7"), (0.242587, "0.2426"), (-2272.6, "-2,273"), (1e-7, "1e-07"),
    (0.0, "0"), (float("nan"), "NaN"), (float("-inf"), "-inf"),
    (pd.Timestamp("1998-06-30"), "1998-06-30"),
    (pd.Timestamp("1998-06-30 12:30"), "1998-06-30 12:30:00"),
    ((30, 90, 180), "(30, 90, 180)"), ((1,), "(1,)"), (["a", "b"], "[a, b]"),
    (frozenset({"y", "x"}), "{x, y}"), (list(range(10)), "list of 10 items"),
    ({"a": 1}, "{a: 1}"), ({str(i): i for i in range(9)}, "dict of 9 items"),
    (np.array([1.5, 2.0]), "[1.5, 2]"), (np.zeros((3, 2)), "array of shape (3, 2)"),
    (pd.DataFrame({"a": [1]}), "DataFrame, 1 row, 1 column"),
    (pd.Series([1, 2]), "Series, 2 values"),
])
def test_format_value(value: object, expected: str) -> None:
    assert format_value(value) == expected


def test_format_value_cuts_long_text_and_survives_bad_reprs() -> None:
    class Bad:
        def __repr__(self) -> str:
            raise RuntimeError("no")

    assert format_value("x" * 200) == "x" * 79 + "\u2026"
    assert format_value(Bad()) == "Bad object"


def test_card_limits_rows_and_escapes() -> None:
    frame = pd.DataFrame({SCRIPT: range(30)}, index=pd.Index(range(30), name="k"))
    text = check_html(HTMLCard(SCRIPT, SCRIPT, tone="bad").add_table("t", frame).render())
    assert SCRIPT not in text
    assert "first 20 of 30 rows" in text
    assert "<th>19</th>" in text
    assert "<th>20</th>" not in text


# ------------------------------------------------------------------ validation report
def test_validation_report_without_issues(tx: pd.DataFrame) -> None:
    report = CRMData(transactions=tx).report
    text = check_html(report._repr_html_())
    assert "ValidationReport" in text
    assert "no issues" in text
    assert "crm-ok" in text
    assert "<th>transactions</th><td>6</td><td>6</td><td>0</td><td>0</td>" in text


def test_validation_report_counts_issues() -> None:
    tx = pd.DataFrame({"customer_id": ["a", "a", "b", None],
                       "timestamp": ["2024-01-01", "2024-01-01", "2024-01-03", "2024-01-02"],
                       "amount": [5.0, 5.0, 7.0, 1.0]})
    report = CRMData(transactions=tx, on_duplicate="drop", on_invalid="drop").report
    text = check_html(report._repr_html_())
    n = len(report.entries)
    assert n > 1
    assert f"{n} issues, {report.n_dropped} rows dropped" in text
    assert "crm-bad" in text
    for entry in report.entries:
        assert f"<th>{entry.frame}</th><td class=\"crm-text\">{html.escape(entry.column)}" \
            in text
        assert html.escape(entry.rule) in text
        assert html.escape(entry.detail) in text


def test_validation_report_escapes_columns_and_rows() -> None:
    report = ValidationReport()
    report.add("transactions", SCRIPT, "not_null", "coerced", 1200, rows=[SCRIPT],
               detail=SCRIPT)
    report.rows_in[SCRIPT] = 3
    text = check_html(report._repr_html_())
    assert SCRIPT not in text
    assert text.count(ESCAPED) == 4
    assert "1 issue, 1,200 values coerced" in text
    assert "crm-warn" in text


def test_validation_report_lists_at_most_fifty_entries() -> None:
    report = ValidationReport()
    for i in range(60):
        report.add("transactions", f"c{i}", "rule", "info", 1)
    text = check_html(report._repr_html_())
    assert "first 50 of 60 entries" in text
    assert "c49" in text
    assert "c50" not in text


# ------------------------------------------------------------------ identity
def test_identity_resolution_shows_counts_and_clusters() -> None:
    people = pd.DataFrame({"customer_id": ["web-1", "shop-7", "app-3", "x"],
                           "email": ["Ann@x.com", " ann@X.com", None, "b@y.com"],
                           "phone": [None, "555 123 4567", "(555) 123-4567", None]})
    res = resolve_identities(people)
    text = check_html(res._repr_html_())
    assert "IdentityResolution" in text
    assert "2 people from 4 records" in text
    assert f"<th>records linked to another</th><td>{res.report.records_linked}</td>" in text
    for key in ("email", "phone"):
        assert f"<th>{key}</th>" in text
    assert "[app-3, shop-7, web-1]" in text  # the largest cluster's source ids
    assert repr(res).startswith("IdentityResolution(records=4")


def test_identity_resolution_escapes_ids_and_key_names() -> None:
    people = pd.DataFrame({"customer_id": [SCRIPT, "b"], SCRIPT: ["same", "same"]})
    res = resolve_identities(people, keys={SCRIPT: "text"})
    text = check_html(res._repr_html_())
    assert SCRIPT not in text
    assert ESCAPED in text
    assert "1 person from 2 records" in text
