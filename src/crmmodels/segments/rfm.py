"""RFM scoring: recency, frequency and monetary scores, cells and named segments.

Per customer, at ``observation_end``:

* ``recency`` is the number of whole periods of ``freq`` (calendar days by default)
  between the period of the last purchase and the period of ``observation_end``;
* ``frequency`` is the number of distinct purchases: distinct ``transaction_id`` when
  the transactions have that column (a row without one counts as its own purchase),
  otherwise the number of rows;
* ``monetary`` is the total amount (``monetary="sum"``) or the amount per purchase
  (``monetary="mean"``, total / frequency).

Each value is cut into ``bins`` scores with edges learned at ``fit`` (``edges_``) and
reused by every later ``score``. A value equal to an edge goes to the lower bin, so
equal values always get equal scores: ties are never split. With quantile edges on
heavily tied data (most customers bought once) several edges coincide and the bins
between them stay empty; ``bin_counts_`` shows how many training customers got each
score. Frequency and monetary scores grow with the value; the recency score is
reversed, so the most recent customers get the highest ``r_score``.

The standard segment map names the 25 (R, FM) cells of a 5-bin grid, where
``FM = round-half-up((F + M) / 2)``. :func:`breakeven_response_rate` and
:meth:`RFMModel.campaign_cells` pick the cells worth mailing (Hughes); :func:`rfm_change`
finds customers whose scores fell between two snapshot dates.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from numbers import Integral
from typing import Any, ClassVar, Final, Literal

import numpy as np
import pandas as pd

from crmmodels.core import (
    Constraint,
    CRMModel,
    Date,
    Interval,
    Options,
    Predicate,
    check_params,
    numeric_array,
    renamed_argument,
    renamed_param,
)
from crmmodels.data import CRMData, customer_aggregates, period_numbers, wall_clock
from crmmodels.errors import DataValidationError, InvalidParameterError

__all__ = [
    "STANDARD_SEGMENTS",
    "RFMModel",
    "breakeven_response_rate",
    "responses_from_interactions",
    "rfm_change",
    "wilson_interval",
]

#: Segment -> (R, FM) cells ("RF" strings, R digit first) of the standard 5-bin map.
STANDARD_SEGMENTS: Final[dict[str, list[str]]] = {
    "Champions": ["55", "54", "45"],
    "Loyal Customers": ["53", "44", "35", "34"],
    "Potential Loyalists": ["52", "42", "33", "43"],
    "Recent Customers": ["51"],
    "Promising": ["41", "31"],
    "Customers Needing Attention": ["32", "23", "22"],
    "About to Sleep": ["21"],
    "At Risk": ["25", "24", "13"],
    "Can't Lose Them": ["15", "14"],
    "Hibernating": ["12"],
    "Lost": ["11"],
}

_VALUES: Final = ("recency", "frequency", "monetary")
_UNITS: Final = ("D", "W", "M", "h")
_Z95: Final = 1.959963984540054


def _is_int(v: Any) -> bool:
    return isinstance(v, numbers.Integral) and not isinstance(v, bool | np.bool_)


def _positive(v: Any) -> bool:
    return (isinstance(v, numbers.Real) and not isinstance(v, bool | np.bool_)
            and math.isfinite(float(v)) and float(v) > 0)


def breakeven_response_rate(cost_per_contact: float, net_revenue_per_response: float) -> float:
    """Response rate at which a contact pays for itself (Hughes).

    ``break-even = cost per contact / net revenue per response``; a cell whose
    response rate is above it makes money when mailed.

    Parameters
    ----------
    cost_per_contact : float
        Cost of one contact (mailing, call ...), positive.
    net_revenue_per_response : float
        Net revenue (margin) earned from one response, positive.

    Returns
    -------
    float

    Examples
    --------
    >>> round(breakeven_response_rate(0.62, 35.00), 5)
    0.01771
    """
    if not _positive(cost_per_contact):
        raise InvalidParameterError(
            f"cost_per_contact must be a positive number, got {cost_per_contact!r}")
    if not _positive(net_revenue_per_response):
        raise InvalidParameterError(
            "net_revenue_per_response must be a positive number, "
            f"got {net_revenue_per_response!r}")
    return float(cost_per_contact) / float(net_revenue_per_response)


def wilson_interval(successes: np.ndarray, trials: np.ndarray,
                    z: float = _Z95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval of a binomial proportion (95% by default).

    ``centre = (p + z²/2n) / (1 + z²/n)``,
    ``half = z √(p(1-p)/n + z²/4n²) / (1 + z²/n)``.

    Examples
    --------
    >>> lo, hi = wilson_interval(np.array([5]), np.array([100]))
    >>> round(float(lo[0]), 4), round(float(hi[0]), 4)
    (0.0215, 0.1118)
    """
    x = numeric_array(successes, "wilson_interval: successes")
    n = numeric_array(trials, "wilson_interval: trials")
    p = x / n
    denom = 1 + z**2 / n
    centre = (p + z**2 / (2 * n)) / denom
    half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / denom
    return np.clip(centre - half, 0.0, 1.0), np.clip(centre + half, 0.0, 1.0)


def _as_responses(responses: object) -> pd.Series:
    """Return a boolean Series from bool or 0/1 responses; a clear error otherwise."""
    if isinstance(responses, pd.Series):
        if pd.api.types.is_bool_dtype(responses.dtype) and not responses.isna().any():
            return responses.astype(bool)
        if (pd.api.types.is_numeric_dtype(responses.dtype)
                and responses.isin([0, 1]).all()):
            return responses.astype(bool)
    raise DataValidationError(
        "responses must be a Series of bool or 0/1 indexed by customer_id (no missing "
        "values)", frame="responses", rule="type")


def responses_from_interactions(data: CRMData) -> pd.Series:
    """Turn campaign interactions into a contacted / responded Series.

    Customers with a ``campaign_sent`` interaction were contacted; those with a
    ``response`` interaction responded (a response without a recorded contact counts
    as contacted too).

    Examples
    --------
    >>> import pandas as pd
    >>> from crmmodels import CRMData
    >>> inter = pd.DataFrame({"customer_id": ["a", "b", "b"], "channel": "mail",
    ...                       "kind": ["campaign_sent", "campaign_sent", "response"],
    ...                       "timestamp": "2024-03-01"})
    >>> responses_from_interactions(CRMData(interactions=inter)).to_dict()
    {'a': False, 'b': True}
    """
    if not isinstance(data, CRMData):
        raise TypeError("responses_from_interactions: data must be a CRMData with an "
                        f"interactions frame, got {type(data).__name__}")
    data.require("interactions")
    inter = data.interactions
    assert inter is not None
    kind = inter["kind"].astype(str)
    sent = set(inter.loc[kind == "campaign_sent", "customer_id"])
    responded = set(inter.loc[kind == "response", "customer_id"])
    ids = sorted(sent | responded)
    if not ids:
        raise DataValidationError("the interactions hold no campaign_sent or response rows",
                                  frame="interactions", column="kind", rule="non_empty")
    return pd.Series([i in responded for i in ids],
                     index=pd.Index(ids, name="customer_id"), dtype=bool, name="responded")


def _cells_of(spec: Any, bins: int, segment: object) -> list[str]:
    """Return the "RF" cells a segment map entry names (a list of cells or ranges)."""
    if isinstance(spec, Mapping):
        unknown = set(spec) - {"r", "fm"}
        ranges: dict[str, tuple[int, int]] = {}
        for key in ("r", "fm"):
            lo, hi = spec.get(key, (1, bins))
            if not (_is_int(lo) and _is_int(hi) and 1 <= lo <= hi <= bins):
                unknown.add(f"{key}={spec.get(key)!r}")
            ranges[key] = (int(lo), int(hi))
        if unknown:
            raise InvalidParameterError(
                f"RFMModel: segment_map[{segment!r}] ranges must look like "
                f"{{'r': (low, high), 'fm': (low, high)}} with 1 <= low <= high <= {bins}; "
                f"got {sorted(map(str, unknown))}")
        return [f"{r}{fm}" for r in range(ranges["r"][0], ranges["r"][1] + 1)
                for fm in range(ranges["fm"][0], ranges["fm"][1] + 1)]
    if isinstance(spec, str) or not isinstance(spec, Sequence):
        raise InvalidParameterError(
            f"RFMModel: segment_map[{segment!r}] must be a list of 'RF' cell strings or "
            f"score ranges {{'r': (low, high), 'fm': (low, high)}}, got {spec!r}")
    return [str(c) for c in spec]


class RFMModel(CRMModel):
    """Recency, frequency, monetary scores, 125 cells and named segments.

    Parameters
    ----------
    bins : int, default 5
        Number of scores per dimension, 2 to 9 (so a cell is a 3-digit string).
    method : {"quantile", "fixed"}, default "quantile"
        Learn edges from quantiles of the training customers, or take
        ``fixed_edges``.
    freq : {"D", "W", "M", "h"}, default "D"
        Time unit of ``recency``: calendar days, weeks (starting Monday), calendar
        months or hours between the last purchase and ``observation_end``.
    monetary : {"sum", "mean"}, default "sum"
        Total amount, or amount per purchase.
    segment_map : "standard" or dict, default "standard"
        ``"standard"`` (5 bins only) or ``{segment: cells}`` where ``cells`` is a list
        of "RF" strings (the R score digit followed by the FM score digit) or score
        ranges ``{"r": (low, high), "fm": (low, high)}`` (inclusive; a missing key
        means all scores); every one of the ``bins * bins`` cells must be assigned
        exactly once.
    observation_end : str or Timestamp, optional
        Date at which recency is measured, for ``fit`` and ``score``; later
        transactions are ignored. Default: each data's ``observation_end``.
    fixed_edges : dict, optional
        For ``method="fixed"``: ``{"recency": [...], "frequency": [...],
        "monetary": [...]}``, each ``bins - 1`` strictly increasing cut points. A
        value equal to a cut point goes to the lower bin (for recency: the higher
        score).
    recency_unit : {"D", "W", "M", "h"}, optional
        Deprecated name of ``freq``, removed in the next release: it still works, with
        a ``FutureWarning``; passing it with a ``freq`` other than the default raises
        ``InvalidParameterError``.

    Attributes
    ----------
    edges_ : dict of str to ndarray
        The ``bins - 1`` cut points of ``recency``, ``frequency`` and ``monetary``.
    bin_counts_ : DataFrame
        Training customers per score (index ``score`` 1..bins, columns ``r_score,
        f_score, m_score``); a zero marks a bin left empty by tied edges.
    n_customers_ : int
        Customers used in the fit.
    observation_end_ : Timestamp
        Date recency was measured at during the fit.
    rfm_cells_ : Series
        The ``rfm_cell`` of each training customer (for :meth:`campaign_cells`).

    Notes
    -----
    ``score`` returns, per ``customer_id``: ``recency, frequency, monetary, r_score,
    f_score, m_score, rfm_cell`` (e.g. ``"545"``), ``rfm_score`` (R + F + M),
    ``fm_score`` (round-half-up of (F + M) / 2) and ``segment``.

    Examples
    --------
    >>> from crmmodels.datasets import load_cdnow_sample
    >>> data = load_cdnow_sample()
    >>> model = RFMModel().fit(data)
    >>> scores = model.score(data)
    >>> scores.columns.tolist()[:4]
    ['recency', 'frequency', 'monetary', 'r_score']
    >>> sorted(model.edges_)
    ['frequency', 'monetary', 'recency']
    >>> int(model.bin_counts_.sum().iloc[0]) == model.n_customers_
    True
    """

    _parameter_constraints: ClassVar[dict[str, list[Constraint | None]]] = {
        "bins": [Interval(Integral, 2, 9)],
        "method": [Options({"quantile", "fixed"})],
        "freq": [Options(set(_UNITS))],
        "monetary": [Options({"sum", "mean"})],
        "segment_map": [Options({"standard"}), Predicate(lambda v: isinstance(v, Mapping),
                                                          "a dict", ["other"])],
        "observation_end": [None, Date()],
        "fixed_edges": [None, Predicate(lambda v: isinstance(v, Mapping), "a dict of edges",
                                        [[1, 2]])],
        "recency_unit": [None, Options(set(_UNITS))],  # deprecated name of freq
    }
    _score_columns: ClassVar[tuple[str, ...]] = (
        "recency", "frequency", "monetary", "r_score", "f_score", "m_score",
        "rfm_cell", "rfm_score", "fm_score", "segment",
    )
    _bad_params: ClassVar[tuple[dict[str, Any], ...]] = (
        {"bins": 1}, {"bins": 10}, {"bins": 4}, {"bins": "5"}, {"method": "kmeans"},
        {"freq": "year"}, {"monetary": "median"}, {"segment_map": "custom"},
        {"segment_map": {"All": ["11"]}}, {"method": "fixed"},
        {"method": "fixed", "fixed_edges": {"recency": [1, 2, 3, 4]}},
        {"fixed_edges": {"recency": [30, 90, 180, 365], "frequency": [1, 2, 3, 5],
                         "monetary": [10, 50, 100, 500]}},
        {"observation_end": "not a date"}, {"recency_unit": "year"},
        {"recency_unit": "W", "freq": "M"},
    )

    def __init__(
        self,
        *,
        bins: int = 5,
        method: str = "quantile",
        freq: str = "D",
        monetary: str = "sum",
        segment_map: str | Mapping[str, Sequence[str]] = "standard",
        observation_end: str | pd.Timestamp | None = None,
        fixed_edges: Mapping[str, Sequence[float]] | None = None,
        recency_unit: str | None = None,
    ) -> None:
        self.bins = bins
        self.method = method
        self.freq = freq
        self.monetary = monetary
        self.segment_map = segment_map
        self.observation_end = observation_end
        self.fixed_edges = fixed_edges
        self.recency_unit = recency_unit

    # ------------------------------------------------------------------ parameters
    def _check_params(self) -> None:
        super()._check_params()
        renamed_param(self, "recency_unit", "freq", when="fit")
        self._cell_segments()
        if self.method == "fixed":
            self._checked_fixed_edges()
        elif self.fixed_edges is not None:
            raise InvalidParameterError(
                "RFMModel: fixed_edges is only used with method='fixed'; "
                "drop it or set method='fixed'")

    def _checked_fixed_edges(self) -> dict[str, np.ndarray]:
        fe = self.fixed_edges
        if fe is None:
            raise InvalidParameterError(
                "RFMModel: method='fixed' needs fixed_edges={'recency': [...], "
                "'frequency': [...], 'monetary': [...]}")
        if set(fe) != set(_VALUES):
            raise InvalidParameterError(
                f"RFMModel: fixed_edges needs exactly the keys {list(_VALUES)}, "
                f"got {sorted(fe)}")
        out = {}
        for key in _VALUES:
            try:
                arr = np.asarray(fe[key], dtype=np.float64)
            except (TypeError, ValueError) as exc:
                raise InvalidParameterError(
                    f"RFMModel: fixed_edges[{key!r}] must be numbers") from exc
            if arr.shape != (self.bins - 1,) or not np.isfinite(arr).all() \
                    or not (np.diff(arr) > 0).all():
                raise InvalidParameterError(
                    f"RFMModel: fixed_edges[{key!r}] must be {self.bins - 1} strictly "
                    f"increasing finite numbers (bins={self.bins}), got {list(fe[key])}")
            out[key] = arr
        return out

    def _cell_segments(self) -> dict[str, str]:
        """Map every "RF" cell to its segment, checking the map covers each exactly once."""
        b = self.bins
        smap: Mapping[str, Sequence[str]]
        if isinstance(self.segment_map, str):
            if b != 5:
                raise InvalidParameterError(
                    f"RFMModel: the standard segment map is defined for bins=5 only, got "
                    f"bins={b}; pass segment_map={{segment: ['RF', ...]}} covering all "
                    f"{b * b} cells")
            smap = STANDARD_SEGMENTS
        else:
            smap = self.segment_map
        expected = {f"{r}{fm}" for r in range(1, b + 1) for fm in range(1, b + 1)}
        owner: dict[str, str] = {}
        twice: list[str] = []
        unknown: list[str] = []
        for segment, spec in smap.items():
            cells = _cells_of(spec, b, segment)
            for cell in cells:
                if cell not in expected:
                    unknown.append(repr(cell))
                elif cell in owner:
                    twice.append(f"{cell} ({owner[cell]!r} and {segment!r})")
                else:
                    owner[cell] = str(segment)
        missing = sorted(expected - set(owner))
        problems = []
        if missing:
            problems.append(f"cells not assigned: {', '.join(missing)}")
        if twice:
            problems.append(f"cells assigned twice: {', '.join(twice)}")
        if unknown:
            problems.append(f"not cells of a {b}x{b} grid: {', '.join(unknown)}")
        if problems:
            raise InvalidParameterError(
                "RFMModel: segment_map must assign every (R, FM) cell exactly once; "
                + "; ".join(problems))
        return owner

    # ------------------------------------------------------------------ values
    def _end_for(self, data: CRMData) -> pd.Timestamp:
        from crmmodels.data import align_timestamp

        if self.observation_end is None:
            return pd.Timestamp(data.observation_end)
        return align_timestamp(self.observation_end, data.timezone, "observation_end")

    def _freq(self, when: Literal["fit", "score", "internal"]) -> str:
        """Return the time unit of recency: ``freq``, or the deprecated ``recency_unit``."""
        return str(renamed_param(self, "recency_unit", "freq", when=when))

    def _values(self, data: CRMData, end: pd.Timestamp, freq: str) -> pd.DataFrame:
        """Recency, frequency, monetary of customers with a purchase at or before ``end``.

        Read from the shared per-customer aggregate (:func:`crmmodels.data.customer_aggregates`),
        which ``fit`` then ``score`` on the same data, and the other models, compute once.
        """
        agg = customer_aggregates(data, end=end, freq=None)
        if agg.empty:
            raise DataValidationError(
                f"no transaction at or before {end}", frame="transactions",
                column="timestamp", rule="min_customers")
        wall = end.tz_localize(None) if end.tzinfo is not None else end
        end_period = int(period_numbers(np.array([wall.to_datetime64()]), freq)[0])
        last_period = period_numbers(wall_clock(agg["last_timestamp"]), freq)
        purchases = agg["n_purchases"].to_numpy()
        monetary = agg["total_amount"].to_numpy()
        if self.monetary == "mean":
            monetary = monetary / np.maximum(purchases, 1)
        return pd.DataFrame(
            {"recency": (end_period - last_period).astype(np.int64),
             "frequency": purchases.astype(np.int64),
             "monetary": monetary},
            index=agg.index,
        )

    def _scores(self, values: pd.DataFrame) -> pd.DataFrame:
        b = self.bins
        r = b - np.searchsorted(self.edges_["recency"],
                                values["recency"].to_numpy(np.float64), side="left")
        f = 1 + np.searchsorted(self.edges_["frequency"],
                                values["frequency"].to_numpy(np.float64), side="left")
        m = 1 + np.searchsorted(self.edges_["monetary"],
                                values["monetary"].to_numpy(np.float64), side="left")
        r, f, m = (x.astype(np.int64) for x in (r, f, m))
        fm = (f + m + 1) // 2
        owner = self._cell_segments()
        names = np.array(sorted(set(owner.values())), dtype=object)
        lookup = np.zeros((b + 1) * (b + 1), dtype=np.int64)
        pos = {n: i for i, n in enumerate(names)}
        for cell, seg in owner.items():
            lookup[int(cell[0]) * (b + 1) + int(cell[1])] = pos[seg]
        out = values.copy()
        out["r_score"] = r
        out["f_score"] = f
        out["m_score"] = m
        cell_number = r * 100 + f * 10 + m
        # One text per distinct cell number, looked up (not one conversion per customer).
        texts = np.array([str(i) for i in range(int(cell_number.max(initial=0)) + 1)], dtype=object)
        out["rfm_cell"] = pd.array(texts[cell_number], dtype="str")
        out["rfm_score"] = r + f + m
        out["fm_score"] = fm
        out["segment"] = pd.array(names[lookup[r * (b + 1) + fm]], dtype="str")
        return out

    # ------------------------------------------------------------------ hooks
    def _fit(self, data: CRMData) -> None:
        end = self._end_for(data)
        values = self._values(data, end, self._freq("internal"))
        if self.method == "fixed":
            edges = self._checked_fixed_edges()
        else:
            q = np.arange(1, self.bins) / self.bins
            edges = {k: np.quantile(values[k].to_numpy(np.float64), q) for k in _VALUES}
        self.edges_ = edges
        scored = self._scores(values)
        counts = {c: np.bincount(scored[c].to_numpy(), minlength=self.bins + 1)[1:]
                  for c in ("r_score", "f_score", "m_score")}
        self.bin_counts_ = pd.DataFrame(
            counts, index=pd.Index(np.arange(1, self.bins + 1), name="score"))
        self.n_customers_ = len(values)
        self.observation_end_ = end
        self.rfm_cells_ = scored["rfm_cell"].copy()

    def _html_diagnostics(self) -> list[tuple[str, pd.DataFrame | pd.Series | str]]:
        """Show the customers per recency, frequency and monetary score."""
        return [("Customers per score", self.bin_counts_)]

    def _score(self, data: CRMData) -> pd.DataFrame:
        return self._scores(self._values(data, self._end_for(data), self._freq("score")))

    def _score_at(self, data: CRMData, end: pd.Timestamp, freq: str) -> pd.DataFrame:
        """Score with the fitted edges as of ``end`` (transactions after it ignored)."""
        return self._check_output(self._scores(self._values(data, end, freq)))

    # ------------------------------------------------------------------ campaigns
    def campaign_cells(
        self,
        responses: pd.Series,
        cost_per_contact: float,
        net_revenue_per_response: float,
        data: CRMData | pd.DataFrame | None = None,
        *,
        rule: str = "lower_bound",
    ) -> pd.DataFrame:
        """Response rate per RFM cell of a test mailing, and which cells to mail.

        Parameters
        ----------
        responses : Series of bool or 0/1, or CRMData
            Indexed by ``customer_id``: the contacted customers, True (or 1) for those
            who responded; or data whose interactions record the campaign (see
            :func:`responses_from_interactions`).
        cost_per_contact, net_revenue_per_response : float
            Economics of a contact; see :func:`breakeven_response_rate`.
        data : CRMData or DataFrame, optional
            Data to take the customers' cells from; default: the cells of the fit.
        rule : {"lower_bound", "point"}, default "lower_bound"
            When to mail a cell: when the lower end of its 95% interval is above the
            break-even rate (the test mailing is evidence the cell pays), or when its
            observed rate is (``"point"``: more cells, some of them by chance).

        Returns
        -------
        DataFrame
            Indexed by ``rfm_cell`` (contacted cells only, in cell order):
            ``contacts, responses, response_rate, ci_lower, ci_upper`` (Wilson 95%
            interval), ``expected_profit_per_contact`` (rate x net revenue - cost)
            and ``mail`` (by ``rule``).

        Examples
        --------
        >>> from crmmodels.datasets import load_cdnow_sample
        >>> model = RFMModel().fit(load_cdnow_sample())
        >>> ids = model.rfm_cells_.index[:200]
        >>> resp = pd.Series([i % 20 == 0 for i in range(200)], index=ids)
        >>> table = model.campaign_cells(resp, 0.62, 35.0)
        >>> int(table["contacts"].sum())
        200
        """
        self._check_fitted()
        check_params("RFMModel.campaign_cells", {"rule": rule},
                     {"rule": [Options({"lower_bound", "point"})]})
        breakeven = breakeven_response_rate(cost_per_contact, net_revenue_per_response)
        if isinstance(responses, CRMData):
            responses = responses_from_interactions(responses)
        responses = _as_responses(responses)
        if responses.index.has_duplicates:
            dup = responses.index[responses.index.duplicated()].unique()[:5].tolist()
            raise DataValidationError(
                f"responses has duplicated customer ids, e.g. {dup}",
                frame="responses", rule="unique")
        cells = self.rfm_cells_ if data is None else self.score(data)["rfm_cell"]
        ids = responses.index.astype(str)
        known = ids.isin(cells.index)
        if not known.all():
            bad = ids[~known][:5].tolist()
            raise DataValidationError(
                f"{int((~known).sum())} responding/contacted customers have no RFM cell, "
                f"e.g. {bad}", frame="responses", rule="known_customer")
        cell = cells.reindex(ids).to_numpy()
        hit = responses.to_numpy(dtype=bool)
        table = (pd.DataFrame({"rfm_cell": cell, "hit": hit})
                 .groupby("rfm_cell", sort=True)["hit"].agg(["size", "sum"]))
        n = table["size"].to_numpy(np.int64)
        x = table["sum"].to_numpy(np.int64)
        rate = x / n
        lower, upper = wilson_interval(x, n)
        return pd.DataFrame(
            {"contacts": n, "responses": x, "response_rate": rate,
             "ci_lower": lower, "ci_upper": upper,
             "expected_profit_per_contact": rate * float(net_revenue_per_response)
             - float(cost_per_contact),
             "mail": (lower if rule == "lower_bound" else rate) > breakeven},
            index=pd.Index(table.index.astype(str), name="rfm_cell"),
        )


def rfm_change(model: RFMModel, data: CRMData | pd.DataFrame,
               cutoffs: Sequence[object] | None = None, k: int = 1, *,
               at: Sequence[object] | None = None) -> pd.DataFrame:
    """Find customers whose R, F or M score fell by at least ``k`` between two dates.

    The data are scored as of each of the two ``cutoffs`` (point in time: transactions
    after it are ignored and recency is measured to it) with the model's fitted edges.

    Parameters
    ----------
    model : RFMModel
        A fitted model.
    data : CRMData or DataFrame
        Transactions covering both dates.
    cutoffs : pair of dates
        ``[t1, t2]`` with ``t1 < t2``.
    k : int, default 1
        Smallest fall of a score that counts.
    at : pair of dates, optional
        Deprecated name of ``cutoffs``, removed in the next release: it still works,
        with a ``FutureWarning``; passing both raises ``InvalidParameterError``.

    Returns
    -------
    DataFrame
        Indexed by ``customer_id`` (customers with a purchase by ``t1`` whose score
        fell): ``r_score_1, f_score_1, m_score_1, rfm_cell_1, segment_1``, the same
        with ``_2``, and ``r_change, f_change, m_change`` (score at ``t2`` minus
        score at ``t1``).

    Examples
    --------
    >>> from crmmodels.datasets import load_cdnow_sample
    >>> data = load_cdnow_sample()
    >>> model = RFMModel().fit(data)
    >>> fell = rfm_change(model, data, cutoffs=["1997-06-30", "1998-06-30"])
    >>> bool((fell[["r_change", "f_change", "m_change"]].min(axis=1) <= -1).all())
    True
    """
    from crmmodels.data import align_timestamp

    cutoffs = renamed_argument("rfm_change", "at", at, "cutoffs", cutoffs)
    if not isinstance(model, RFMModel):
        raise InvalidParameterError(f"model must be an RFMModel, got {type(model).__name__}")
    if not _is_int(k) or k < 1:
        raise InvalidParameterError(f"k must be a positive integer, got {k!r}")
    if cutoffs is None or isinstance(cutoffs, str) or len(cutoffs) != 2:
        raise InvalidParameterError(f"cutoffs must be two dates [t1, t2], got {cutoffs!r}")
    model._check_fitted()
    freq = model._freq("score")
    prepared = model._prepare(data)
    t1, t2 = (align_timestamp(t, prepared.timezone, "cutoffs") for t in cutoffs)
    if not t1 < t2:
        raise InvalidParameterError(f"cutoffs must be increasing dates, got {list(cutoffs)}")
    first = model._score_at(prepared, t1, freq)
    second = model._score_at(prepared, t2, freq).reindex(first.index)
    cols = ["r_score", "f_score", "m_score", "rfm_cell", "segment"]
    out = pd.concat([first[cols].add_suffix("_1"), second[cols].add_suffix("_2")], axis=1)
    for s in ("r", "f", "m"):
        out[f"{s}_change"] = (second[f"{s}_score"] - first[f"{s}_score"]).astype(np.int64)
    fell = (out[["r_change", "f_change", "m_change"]] <= -int(k)).any(axis=1)
    return out.loc[fell]
