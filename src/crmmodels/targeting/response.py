"""Response propensity: who is likely to respond to a campaign.

:class:`ResponseModel` learns the probability of a response from a flat table of past
contacts (one row per contacted customer, a label column saying whether they
responded, every other column a candidate feature) with
:class:`crmmodels.propensity.PropensityClassifier` (its column screen, categoricals and
calibrated default classifier), and marks the customers worth a contact: those whose
probability reaches the break-even response rate, ``cost per contact / net revenue per
response`` (Hughes; :func:`crmmodels.segments.breakeven_response_rate`, as RFM's
campaign cells use it).

The table helpers here (reading the table, its ids and a 0/1 label) are shared with
:class:`crmmodels.targeting.UpliftModel`.
"""

from __future__ import annotations

from collections.abc import Sequence
from numbers import Integral, Real
from typing import Any, ClassVar, NamedTuple

import numpy as np
import pandas as pd

from crmmodels.core import (
    ColumnName,
    Constraint,
    CRMModel,
    HasMethods,
    Interval,
    Options,
    Predicate,
    RandomState,
)
from crmmodels.data import CRMData
from crmmodels.errors import DataValidationError, InvalidParameterError, MissingColumnError
from crmmodels.propensity import binary_labels, fit_threads, is_label_value

__all__ = ["ResponseModel"]

# ---------------------------------------------------------------------- shared helpers
class Table(NamedTuple):
    """A flat table with its rows labelled by their ids.

    ``kind`` is ``"table"`` for a DataFrame (index named ``id``) and ``"customers"``
    for the customers frame of a CRMData (index named ``customer_id``).
    """

    frame: pd.DataFrame
    kind: str


def n_jobs_ok(value: Any) -> bool:
    """Whether ``value`` is a valid thread count: a non-zero int (-1: all cores)."""
    return isinstance(value, Integral) and not isinstance(value, bool | np.bool_) and (
        int(value) != 0)


def flat_table(data: object, owner: str, id_column: str | None, needs: str) -> Table:
    """Read ``data`` as a flat table: a DataFrame, or the customers frame of a CRMData.

    The rows are labelled by ``id_column`` (default: the DataFrame's index, or
    ``customer_id`` for a customers frame), which must be unique and present. The
    caller's frame is not modified.

    Parameters
    ----------
    data : DataFrame or CRMData
        The input.
    owner : str
        The model's class name, for messages.
    id_column : str or None
        The id column.
    needs : str
        What the table must hold, for the message when a CRMData has no customers frame.
    """
    if isinstance(data, CRMData):
        if data.customers is None:
            raise DataValidationError(
                f"{owner}: the data must be a flat table (a DataFrame, or CRMData whose "
                f"customers frame holds {needs}); this CRMData has no customers frame. "
                "Campaign history in the interactions frame is not read: build one row "
                "per contacted customer with its outcome and pass that table",
                frame="customers", rule="required_frame")
        frame, kind, name = data.customers, "customers", "customers"
        id_column = id_column or "customer_id"
    elif isinstance(data, pd.DataFrame):
        frame, kind, name = data, "table", "table"
    else:
        raise DataValidationError(
            f"{owner}: data must be a DataFrame (a flat table) or CRMData, got "
            f"{type(data).__name__}", rule="type")
    if len(frame) == 0:
        raise DataValidationError(f"{owner}: the {name} has no rows", frame=name,
                                  rule="empty")
    if frame.columns.has_duplicates:
        repeated = frame.columns[frame.columns.duplicated()].unique().tolist()
        raise DataValidationError(f"{owner}: the {name} repeats the columns {repeated[:5]}",
                                  frame=name, rule="unique_columns")
    index_name = "customer_id" if kind == "customers" else "id"
    if id_column is not None:
        if id_column not in frame.columns:
            raise MissingColumnError(name, id_column, list(frame.columns))
        ids = frame[id_column]
        bad = ids.isna() | ids.duplicated(keep=False)
        if bad.any():
            raise DataValidationError(
                f"{owner}: the id column {id_column!r} has {int(ids.isna().sum())} missing "
                f"and {int(ids.duplicated().sum())} repeated values; each row needs its "
                "own id", frame=name, column=id_column, rule="unique_id",
                rows=ids[bad].iloc[:5].tolist())
        out = frame.set_index(id_column, drop=True)
    else:
        if frame.index.has_duplicates or frame.index.hasnans:
            raise DataValidationError(
                f"{owner}: the index has missing or repeated values; give id= (a column "
                "with one value per row)", frame=name, rule="unique_id",
                rows=frame.index[frame.index.duplicated()][:5].tolist())
        out = frame.copy(deep=False)
    out.index = pd.Index(out.index, name=index_name)
    return Table(out, kind)


def canonical_order(index: pd.Index) -> np.ndarray:
    """Positions that sort rows by their ids as text: the same rows in any order fit alike."""
    return np.argsort(index.astype(str).to_numpy(dtype=object).astype(str), kind="stable")


def take_columns(frame: pd.DataFrame, columns: Sequence[str], used: Sequence[str],
                 name: str) -> pd.DataFrame:
    """Return the columns a fitted model saw, in order; those it did not use may be absent.

    Raises :class:`~crmmodels.errors.MissingColumnError` for an absent column in
    ``used``.
    """
    for column in used:
        if column not in frame.columns:
            raise MissingColumnError(name, column, list(frame.columns))
    return frame.reindex(columns=list(columns))


# ---------------------------------------------------------------------- the model
class FlatTableModel(CRMModel):
    """A model of a flat table: scores are indexed by the table's ids.

    By ``id`` (index name ``"id"``) for a DataFrame, by ``customer_id`` for the
    customers frame of a CRMData (``kind_``, set in ``fit``).
    """

    @property
    def _score_index(self) -> str:  # type: ignore[override]
        return "id" if getattr(self, "kind_", "table") == "table" else "customer_id"


class ResponseModel(FlatTableModel):
    """Probability that a customer responds to a campaign, and whom to contact.

    Fitted on a flat table of a past campaign (``source="table"``: one row per contacted
    customer, a label column saying whether they responded and any number of feature
    columns) or on the campaign history in a CRMData's interactions
    (``source="interactions"``: every ``campaign_sent`` contact with the customer as
    known just before it, labelled by a ``response`` on its channel within
    ``response_window`` days; :func:`crmmodels.targeting.campaign_history`). The
    features go
    through :class:`crmmodels.propensity.PropensityClassifier`: identifier-like,
    datetime, constant and empty columns, columns named like a target and columns that
    alone give the label away are left out (``features_dropped_``), text becomes
    categories, and the default classifier
    (:func:`crmmodels.propensity.default_estimator`, spline logistic regression and
    gradient boosting blended on held-out rows) gives calibrated probabilities.

    Parameters
    ----------
    source : {"table", "interactions"}, default "table"
        What the model learns from: a flat table (a DataFrame, or the customers frame
        of a CRMData) or the campaign history in a CRMData's interactions. With
        ``"interactions"``, ``score`` gives each customer's probability of responding to
        a contact on ``channel`` made at the data's ``observation_end``
        (:func:`crmmodels.targeting.response_features`).
    label : str, default "response"
        Column holding the responses: bool, 0/1, true/false, t/f, yes/no or y/n (any
        case). A label of two other values needs ``pos_label``. (With
        ``source="interactions"`` the label is made from the history; leave the
        default.)
    pos_label : str, number or bool, optional
        The label value that means "responded".
    id : str, optional
        Column identifying the rows (unique); default the frame's index, or
        ``customer_id`` for a CRMData.
    estimator : scikit-learn classifier, optional
        Classifier with ``predict_proba``, calibrated by the
        :class:`~crmmodels.propensity.PropensityClassifier` (Platt scaling over 5
        folds). Default: :func:`crmmodels.propensity.default_estimator`.
    cost_per_contact, net_revenue_per_response : float, optional
        Give both to add the ``mail`` column: a customer is worth a contact when their
        response probability is at least the break-even rate
        ``cost_per_contact / net_revenue_per_response``
        (:func:`crmmodels.segments.breakeven_response_rate`).
    response_window : int, default 14
        With ``source="interactions"``: days after a contact in which a response on its
        channel counts.
    channel : str, default "email"
        With ``source="interactions"``: the channel of the contact ``score`` prices; it
        must be among the channels of the history.
    random_state : int or None, default 0
        Seed of the classifier (two fits give the same scores).
    n_jobs : int, optional
        Threads of the BLAS and OpenMP pools while the classifier fits. Default: one
        below 100,000 training rows, else the cores the process may use; ``-1`` all
        of them.

    Attributes
    ----------
    classifier_ : PropensityClassifier
        The fitted classifier (positive class: responded).
    features_used_ : list of str
        Feature columns, in order.
    features_dropped_ : dict
        Columns left out of the features, with the reason.
    columns_in_ : list of str
        Every column the classifier was given (the table without id and label); a
        scored table must hold ``features_used_``, the others may be absent.
    response_rate_ : float
        Share of responders in the training table.
    n_train_ : int
        Training rows.
    breakeven_rate_ : float or None
        ``cost_per_contact / net_revenue_per_response`` when both are given.
    kind_ : {"table", "customers", "interactions"}
        A DataFrame (scores indexed by ``id``), the customers frame of a CRMData or
        its interactions (indexed by ``customer_id``).

    Notes
    -----
    Leave out every column that is known only after the contact: in the UCI Bank
    Marketing data (:func:`crmmodels.datasets.load_bank_marketing`) ``duration``, the
    length of the call, lifts the 5-fold ROC AUC from 0.80 to 0.95, an accuracy no
    model has before it places the call. The screen drops only columns that alone
    separate the label almost perfectly (ROC AUC 0.99 or more), so such columns are
    the caller's to remove.

    With ``source="table"`` a CRMData input is read through its customers frame, which
    then holds the label and the features; the interactions are not read. With
    ``source="interactions"`` only the interactions and transactions are read.

    Examples
    --------
    >>> from crmmodels.datasets import load_bank_marketing
    >>> bank = load_bank_marketing().drop(columns="duration").iloc[:4000]
    >>> model = ResponseModel(label="y", cost_per_contact=2.0,
    ...                       net_revenue_per_response=40.0).fit(bank)
    >>> scores = model.score(bank)
    >>> scores.columns.tolist(), model.breakeven_rate_
    (['response_probability', 'mail'], 0.05)
    >>> bool(scores["response_probability"].between(0, 1).all())
    True
    """

    _parameter_constraints: ClassVar[dict[str, list[Constraint | None]]] = {
        "label": [ColumnName()],
        "pos_label": [None, Predicate(is_label_value, "a label value (str, number or bool)",
                                      [[1], {}])],
        "id": [None, ColumnName()],
        "estimator": [None, HasMethods(["fit", "predict_proba"], "a scikit-learn classifier")],
        "cost_per_contact": [None, Interval(Real, 0, None, closed="neither")],
        "net_revenue_per_response": [None, Interval(Real, 0, None, closed="neither")],
        "random_state": [None, RandomState()],
        "n_jobs": [None, Predicate(n_jobs_ok, "a non-zero int", [0, 1.5, True])],
        "source": [Options({"table", "interactions"})],
        "response_window": [Interval(Integral, 1, None, closed="left")],
        "channel": [Predicate(lambda v: isinstance(v, str) and bool(v.strip()),
                              "a channel name", [[""], {}, 3])],
    }
    _required_frames: ClassVar[tuple[str, ...]] = ("customers",)
    _bad_params: ClassVar[tuple[dict[str, Any], ...]] = (
        {"cost_per_contact": 1.0}, {"net_revenue_per_response": 10.0},
        {"label": "x", "id": "x"},
    )

    def __init__(self, *, label: str = "response", pos_label: Any = None,
                 id: str | None = None, estimator: Any = None,
                 cost_per_contact: float | None = None,
                 net_revenue_per_response: float | None = None,
                 random_state: int | None = 0, n_jobs: int | None = None,
                 source: str = "table", response_window: int = 14,
                 channel: str = "email") -> None:
        self.source = source
        self.response_window = response_window
        self.channel = channel
        self.label = label
        self.pos_label = pos_label
        self.id = id
        self.estimator = estimator
        self.cost_per_contact = cost_per_contact
        self.net_revenue_per_response = net_revenue_per_response
        self.random_state = random_state
        self.n_jobs = n_jobs

    @property
    def _score_columns(self) -> tuple[str, ...]:  # type: ignore[override]
        if getattr(self, "breakeven_rate_", None) is None:
            return ("response_probability",)
        return ("response_probability", "mail")

    def _check_params(self) -> None:
        super()._check_params()
        given = (self.cost_per_contact is None, self.net_revenue_per_response is None)
        if given[0] != given[1]:
            raise InvalidParameterError(
                "ResponseModel: give both cost_per_contact and net_revenue_per_response "
                "(the break-even rate is their ratio), or neither")
        if self.id is not None and self.id == self.label:
            raise InvalidParameterError(
                f"ResponseModel: id and label name the same column {self.id!r}")

    def _prepare(self, data: object) -> Any:
        if self.source == "interactions":
            if not isinstance(data, CRMData):
                raise DataValidationError(
                    f"ResponseModel(source='interactions') reads the campaign history of a "
                    f"CRMData, got {type(data).__name__}", rule="type")
            data.require("interactions")
            return data
        return flat_table(data, "ResponseModel", self.id,
                          f"the label column {self.label!r} and the features")

    def _history(self, data: CRMData) -> Table:
        """Read the campaign history as a table of features labelled in ``label``."""
        from crmmodels.targeting.history import FEATURES, campaign_history

        history = campaign_history(data, response_window=int(self.response_window))
        frame = history[list(FEATURES)].assign(**{self.label: history["response"]})
        frame.index = pd.Index(history["customer_id"], name="customer_id")
        return Table(frame, "interactions")

    # ------------------------------------------------------------------ fit
    def _labels(self, table: Table) -> np.ndarray:
        frame = table.frame
        if self.label not in frame.columns:
            raise MissingColumnError(table.kind, self.label, list(frame.columns))
        return binary_labels(frame[self.label], self.label, table.kind, "rows",
                             self.pos_label)

    def _fit(self, prepared: Any) -> None:
        from crmmodels.propensity import PropensityClassifier
        from crmmodels.segments import breakeven_response_rate

        if self.source == "interactions":
            table = self._history(prepared)
            seen = set(table.frame["channel"])
            if self.channel not in seen:
                raise DataValidationError(
                    f"ResponseModel: channel {self.channel!r} has no campaign contact in "
                    f"the history (channels {sorted(seen)}); score prices a contact on a "
                    "channel the model has seen", frame="interactions", column="channel",
                    rule="unknown_channel")
        else:
            table = prepared
        y = self._labels(table)
        counts = np.bincount(y, minlength=2)
        if counts.min() < 2:
            raise DataValidationError(
                f"ResponseModel: the label {self.label!r} has {int(counts[1])} responders "
                f"and {int(counts[0])} non-responders; at least 2 of each are needed",
                frame=table.kind, column=self.label, rule="one_class")
        order = canonical_order(table.frame.index)
        x = table.frame.drop(columns=[self.label]).iloc[order]
        if x.shape[1] == 0:
            raise DataValidationError("ResponseModel: the table has no feature column",
                                      frame=table.kind, rule="no_features")
        classifier = PropensityClassifier(estimator=self.estimator,
                                          random_state=self.random_state)
        try:
            with fit_threads(len(y), self.n_jobs):
                classifier.fit(x, y[order])
        except ValueError as exc:
            if "no usable feature column" in str(exc):
                raise DataValidationError(f"ResponseModel: {exc}", frame=table.kind,
                                          rule="no_features") from exc
            raise
        self.classifier_ = classifier
        self.features_used_ = list(classifier.features_used_)
        self.features_dropped_ = dict(classifier.features_dropped_)
        self.columns_in_ = [str(c) for c in x.columns]
        self.response_rate_ = float(y.mean())
        self.n_train_ = len(y)
        self.breakeven_rate_ = (
            None if self.cost_per_contact is None or self.net_revenue_per_response is None
            else breakeven_response_rate(self.cost_per_contact,
                                         self.net_revenue_per_response))
        self.kind_ = table.kind

    # ------------------------------------------------------------------ score
    def _probability(self, table: Table) -> np.ndarray:
        x = take_columns(table.frame, self.columns_in_, self.features_used_,
                         table.kind)
        p: np.ndarray = self.classifier_.predict_proba(x)[:, 1]
        return p

    def _score(self, prepared: Any) -> pd.DataFrame:
        if self.source == "interactions":
            from crmmodels.targeting.history import response_features

            table = Table(response_features(prepared, channel=self.channel), "interactions")
        else:
            table = prepared
        if table.kind != self.kind_:
            raise DataValidationError(
                f"this ResponseModel was fitted on a {self.kind_} frame; score takes the "
                f"same kind of data, got a {table.kind} frame", rule="type")
        p = self._probability(table)
        out = pd.DataFrame({"response_probability": p},
                           index=pd.Index(table.frame.index, name=self._score_index))
        if self.breakeven_rate_ is not None:
            out["mail"] = p >= self.breakeven_rate_
        return out

    def score(self, data: CRMData | pd.DataFrame, /) -> pd.DataFrame:
        """Response probability of each row, and whether a contact pays.

        Parameters
        ----------
        data : DataFrame or CRMData
            A table with the feature columns (``features_used_``); the label column
            may be absent. A CRMData is read through its customers frame; score takes
            the kind of data (DataFrame or CRMData) the model was fitted on.

        Returns
        -------
        DataFrame
            One row per input row, in input order, indexed by ``id`` (the ``id``
            column's values, else the input's index) or, for a CRMData,
            ``customer_id`` (every customer of the data with
            ``source="interactions"``): ``response_probability`` and, when
            ``cost_per_contact`` and ``net_revenue_per_response`` were given,
            ``mail`` (bool: ``response_probability >= breakeven_rate_``, the
            contact is expected to pay for itself).
        """
        return super().score(data)

    def gains(self, data: CRMData | pd.DataFrame, *, n_groups: int = 10) -> pd.DataFrame:
        """Gains and lift of the response probabilities on data with known responses.

        The rows are ranked by ``response_probability``, highest first, and cut into
        ``n_groups`` groups of equal size (:func:`crmmodels.propensity.gains_table`).

        Parameters
        ----------
        data : DataFrame or CRMData
            Rows with the features and the label column (e.g. a held-out part of the
            campaign); with ``source="interactions"``, a CRMData whose campaign
            contacts are ranked.
        n_groups : int, default 10
            Number of groups (deciles by default).

        Returns
        -------
        DataFrame
            Indexed by ``group`` (1 = highest probabilities): ``n``, ``positives``
            (responders), ``rate``, ``lift``, ``cumulative_share``,
            ``cumulative_gain`` and ``cumulative_lift``.

        Examples
        --------
        >>> from crmmodels.datasets import load_bank_marketing
        >>> bank = load_bank_marketing().drop(columns="duration").iloc[:4000]
        >>> model = ResponseModel(label="y").fit(bank.iloc[:3000])
        >>> table = model.gains(bank.iloc[3000:], n_groups=5)
        >>> table.index.tolist(), int(table["n"].sum())
        ([1, 2, 3, 4, 5], 1000)
        """
        from crmmodels.propensity import gains_table

        self._check_fitted()
        prepared = self._prepare(data)
        table = self._history(prepared) if self.source == "interactions" else prepared
        y = self._labels(table)
        return gains_table(y, self._probability(table), n_groups=n_groups)
