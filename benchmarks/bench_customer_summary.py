"""Benchmark ``crmmodels.features.customer_summary`` against lifetimes.

One process generates a synthetic transaction log (fixed seed), then times and
measures the memory of

1. ``crmmodels.CRMData(transactions=df, observation_end=end)`` -- validation, paid
   once for every model;
2. ``crmmodels.features.customer_summary(data, freq=...)`` -- best of ``--repeat``;
3. ``lifetimes.utils.summary_data_from_transaction_data(...)`` -- best of
   ``--lifetimes-repeat``.

Peak memory is measured in a separate, untimed run of each step under
:mod:`tracemalloc` (which sees numpy and pandas buffers as well as Python
objects; it slows the step down, hence the separate run). The rise of the
process' peak resident set size during the timed run is reported as well, when
Linux lets the high-water mark be reset.

The two summaries are compared (same customers; ``frequency``, ``recency`` and
``T`` exactly equal; ``monetary_value`` within ``rtol=1e-9``). A speed ratio is
printed only when they agree; otherwise the script exits with status 1.

Run from the repository root::

    .venv/bin/python benchmarks/bench_customer_summary.py
    .venv/bin/python benchmarks/bench_customer_summary.py --rows 500000 --customers 100000
    .venv/bin/python benchmarks/bench_customer_summary.py --freq W --profile
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import os
import platform
import pstats
import resource
import sys
import time
import tracemalloc
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import crmmodels
from crmmodels.data import customer_summary

with warnings.catch_warnings():
    # lifetimes 0.11.3 sets a pandas option that pandas 3 deprecates, at import.
    warnings.simplefilter("ignore")
    import lifetimes
    from lifetimes.utils import summary_data_from_transaction_data

SUMMARY_COLUMNS = ("frequency", "recency", "T", "monetary_value")
EXACT_COLUMNS = ("frequency", "recency", "T")
MONETARY_RTOL = 1e-9
START = np.datetime64("2023-01-01T00:00:00", "s")
WINDOW_DAYS = 730
_CLEAR_REFS = Path("/proc/self/clear_refs")
_STATUS = Path("/proc/self/status")


# --------------------------------------------------------------------------- data
def make_transactions(n_rows: int, n_customers: int, seed: int = 20240601) -> pd.DataFrame:
    """Generate a synthetic transaction log.

    Every customer has at least one transaction; the other ``n_rows - n_customers``
    rows go to customers in proportion to a heavy-tailed (gamma, shape 0.3)
    purchase propensity, so most customers buy once or twice and a few buy
    hundreds of times. Each customer joins at a uniform moment of a two-year
    window and buys at uniform moments between joining and the end of the window
    (second resolution, so with time of day). Amounts are log-normal, rounded to
    cents. Rows are in time order, as a transaction log would be.

    Parameters
    ----------
    n_rows : int
        Number of transactions (at least ``n_customers``).
    n_customers : int
        Number of distinct customers.
    seed : int, default 20240601
        Seed of :func:`numpy.random.default_rng`.

    Returns
    -------
    DataFrame
        Columns ``customer_id`` (text such as ``"C0000123"``), ``timestamp``
        (``datetime64[ns]``) and ``amount`` (float64, > 0).
    """
    if n_customers < 1 or n_rows < n_customers:
        raise ValueError(f"need 1 <= customers <= rows, got {n_customers=} {n_rows=}")
    rng = np.random.default_rng(seed)
    propensity = rng.gamma(shape=0.3, scale=1.0, size=n_customers)
    extra = rng.multinomial(n_rows - n_customers, propensity / propensity.sum())
    counts = 1 + extra
    codes = np.repeat(np.arange(n_customers, dtype=np.int64), counts)
    window = WINDOW_DAYS * 86_400
    joined = rng.integers(0, window, size=n_customers)
    # First purchase at the joining moment, the others uniform until the window ends.
    offsets = joined[codes] + (rng.random(n_rows) * (window - joined[codes])).astype(np.int64)
    first_row = np.cumsum(counts) - counts
    offsets[first_row] = joined
    timestamp = (START + offsets.astype("timedelta64[s]")).astype("datetime64[ns]")
    amount = np.round(rng.lognormal(mean=3.0, sigma=0.9, size=n_rows), 2)
    amount = np.maximum(amount, 0.01)
    # Customer ids are assigned in random order, so id order != order of first purchase.
    id_of_code = rng.permutation(n_customers)
    labels = np.array([f"C{i:07d}" for i in range(n_customers)], dtype=object)
    order = np.argsort(timestamp, kind="stable")
    df = pd.DataFrame({
        "customer_id": pd.array(labels[id_of_code[codes[order]]], dtype="str"),
        "timestamp": timestamp[order],
        "amount": amount[order],
    })
    return df


def describe(df: pd.DataFrame) -> str:
    """Return a one-paragraph description of a transaction log.

    Parameters
    ----------
    df : DataFrame
        Output of :func:`make_transactions`.

    Returns
    -------
    str
        Rows, customers, date range and the distribution of rows per customer.
    """
    per = df["customer_id"].value_counts().to_numpy()
    q = np.percentile(per, [50, 90, 99, 99.9])
    return (
        f"{len(df):,} rows, {len(per):,} customers, {df['timestamp'].min()} .. "
        f"{df['timestamp'].max()}; rows per customer: median {q[0]:.0f}, p90 {q[1]:.0f}, "
        f"p99 {q[2]:.0f}, p99.9 {q[3]:.0f}, max {per.max()}; "
        f"{int((per == 1).sum()):,} one-time buyers; "
        f"memory {df.memory_usage(deep=True).sum() / 2**20:,.0f} MB"
    )


# --------------------------------------------------------------------------- measuring
@dataclass
class StepResult:
    """Timing and memory of one benchmark step.

    Attributes
    ----------
    name : str
        Step label for the table.
    times : list of float
        Wall-clock seconds of each timed run.
    peak_mb : float or None
        Peak memory traced by :mod:`tracemalloc` above the level at the start of
        the step, in MiB (``None`` when not measured).
    rss_mb : float or None
        Rise of the process' peak resident set size during the first timed run,
        in MiB (``None`` when it could not be measured).
    """

    name: str
    times: list[float] = field(default_factory=list)
    peak_mb: float | None = None
    rss_mb: float | None = None

    @property
    def best(self) -> float:
        """Fastest timed run, in seconds."""
        return min(self.times)


def _status_kb(key: str) -> int | None:
    try:
        for line in _STATUS.read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def _reset_peak_rss() -> bool:
    """Reset the kernel's peak-RSS mark of this process (Linux >= 4.0)."""
    try:
        _CLEAR_REFS.write_text("5")
    except OSError:
        return False
    return True


def time_step(fn: Callable[[], Any], repeat: int, step: StepResult) -> Any:
    """Run ``fn`` ``repeat`` times, recording wall-clock seconds in ``step``.

    The first run also records the rise of peak RSS (``VmHWM`` after a reset,
    or ``ru_maxrss`` when the mark cannot be reset, which only shows a new
    process-wide high).

    Parameters
    ----------
    fn : callable
        The work to time; called with no argument.
    repeat : int
        Number of runs.
    step : StepResult
        Where to record the times and the RSS rise.

    Returns
    -------
    object
        The result of the last run.
    """
    gc.collect()
    rss0 = _status_kb("VmRSS")
    can_reset = _reset_peak_rss()
    maxrss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    result = fn()
    step.times.append(time.perf_counter() - t0)
    hwm = _status_kb("VmHWM")
    if can_reset and hwm is not None and rss0 is not None:
        step.rss_mb = (hwm - rss0) / 1024
    else:
        step.rss_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - maxrss0) / 1024
    for _ in range(repeat - 1):
        result = None
        gc.collect()
        t0 = time.perf_counter()
        result = fn()
        step.times.append(time.perf_counter() - t0)
    return result


def trace_peak(fn: Callable[[], Any]) -> float:
    """Peak memory allocated while ``fn`` runs, in MiB, as seen by tracemalloc.

    Parameters
    ----------
    fn : callable
        The work to measure; its result is discarded.

    Returns
    -------
    float
        Highest traced memory above the level at the start of the call.
    """
    gc.collect()
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base, _ = tracemalloc.get_traced_memory()
        result = fn()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    del result
    return (peak - base) / 2**20


def profile_step(fn: Callable[[], Any], label: str, top: int) -> str:
    """Profile one run of ``fn`` with cProfile and format its top entries.

    Parameters
    ----------
    fn : callable
        The work to profile.
    label : str
        Heading of the report.
    top : int
        Number of functions to list, by own time and by cumulative time.

    Returns
    -------
    str
        The two pstats listings.
    """
    gc.collect()
    prof = cProfile.Profile()
    t0 = time.perf_counter()
    prof.enable()
    fn()
    prof.disable()
    wall = time.perf_counter() - t0
    buf = io.StringIO()
    buf.write(f"\n==== profile: {label} ({wall:.2f} s under cProfile) ====\n")
    stats = pstats.Stats(prof, stream=buf)
    stats.strip_dirs()
    buf.write("-- by cumulative time --\n")
    stats.sort_stats("cumulative").print_stats(top)
    buf.write("-- by own time --\n")
    stats.sort_stats("tottime").print_stats(top)
    return buf.getvalue()


# --------------------------------------------------------------------------- checking
@dataclass
class Comparison:
    """How the crmmodels and lifetimes summaries differ.

    Attributes
    ----------
    only_crm, only_lifetimes : int
        Customers present in one summary only.
    per_column : dict of str to int
        Customers (present in both) whose value differs, per column.
    mismatched_customers : int
        Customers with any difference (including being absent from one side).
    examples : DataFrame
        Up to five differing customers, side by side.
    """

    only_crm: int
    only_lifetimes: int
    per_column: dict[str, int]
    mismatched_customers: int
    examples: pd.DataFrame

    @property
    def agree(self) -> bool:
        """Whether the two summaries are the same."""
        return self.mismatched_customers == 0


def compare(crm: pd.DataFrame, ref: pd.DataFrame) -> Comparison:
    """Compare a crmmodels summary with lifetimes' one.

    Parameters
    ----------
    crm : DataFrame
        ``customer_summary`` output, indexed by customer id.
    ref : DataFrame
        ``summary_data_from_transaction_data`` output, indexed by customer id.

    Returns
    -------
    Comparison
        Counts of differing customers; ``frequency``, ``recency`` and ``T`` must be
        exactly equal, ``monetary_value`` equal within ``rtol=1e-9``.
    """
    crm_idx = pd.Index(crm.index.astype(str))
    ref_idx = pd.Index(ref.index.astype(str))
    only_crm = int((~crm_idx.isin(ref_idx)).sum())
    only_ref = int((~ref_idx.isin(crm_idx)).sum())
    common = crm_idx[crm_idx.isin(ref_idx)]
    a = crm.set_axis(crm_idx).loc[common]
    b = ref.set_axis(ref_idx).loc[common]
    bad = np.zeros(len(common), dtype=bool)
    per_column: dict[str, int] = {}
    for col in SUMMARY_COLUMNS:
        x = a[col].to_numpy(dtype=np.float64)
        y = b[col].to_numpy(dtype=np.float64)
        if col in EXACT_COLUMNS:
            diff = ~((x == y) | (np.isnan(x) & np.isnan(y)))
        else:
            diff = ~np.isclose(x, y, rtol=MONETARY_RTOL, atol=0.0, equal_nan=True)
        per_column[col] = int(diff.sum())
        bad |= diff
    examples = pd.concat({"crmmodels": a[bad].head(5), "lifetimes": b[bad].head(5)}, axis=1)
    return Comparison(only_crm, only_ref, per_column, int(bad.sum()) + only_crm + only_ref,
                      examples)


# --------------------------------------------------------------------------- report
def _fmt(value: float | None, spec: str) -> str:
    return "n/a" if value is None else format(value, spec)


def format_table(steps: list[StepResult]) -> str:
    """Format the results as a Markdown table.

    Parameters
    ----------
    steps : list of StepResult
        The measured steps.

    Returns
    -------
    str
        One row per step: best seconds, runs, tracemalloc peak and RSS rise.
    """
    lines = [
        "| step | best s | runs | peak MB (tracemalloc) | peak RSS rise MB |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for s in steps:
        lines.append(
            f"| {s.name} | {s.best:.3f} | {len(s.times)} | {_fmt(s.peak_mb, ',.0f')} "
            f"| {_fmt(s.rss_mb, ',.0f')} |"
        )
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the command line.

    Parameters
    ----------
    argv : list of str, optional
        Arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    argparse.Namespace
        The options.
    """
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--rows", type=int, default=5_000_000, help="transactions (default 5M)")
    p.add_argument("--customers", type=int, default=1_000_000,
                   help="distinct customers (default 1M)")
    p.add_argument("--freq", choices=("D", "W"), default="D", help="summary period")
    p.add_argument("--seed", type=int, default=20240601, help="random seed")
    p.add_argument("--repeat", type=int, default=3, help="timed runs of customer_summary")
    p.add_argument("--validation-repeat", type=int, default=3,
                   help="timed runs of CRMData validation (default 3)")
    p.add_argument("--lifetimes-repeat", type=int, default=2,
                   help="timed runs of lifetimes (default 2)")
    p.add_argument("--no-memory", action="store_true",
                   help="skip the tracemalloc runs (faster)")
    p.add_argument("--profile", action="store_true",
                   help="also cProfile validation and customer_summary")
    p.add_argument("--profile-top", type=int, default=25, help="entries per profile listing")
    args = p.parse_args(argv)
    if min(args.repeat, args.validation_repeat, args.lifetimes_repeat) < 1:
        p.error("--repeat, --validation-repeat and --lifetimes-repeat must be >= 1")
    return args


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its report.

    Parameters
    ----------
    argv : list of str, optional
        Command-line arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        0 when the summaries agree, 1 otherwise.
    """
    args = parse_args(argv)
    print(
        f"python {platform.python_version()}, numpy {np.__version__}, pandas {pd.__version__}, "
        f"crmmodels {crmmodels.__version__}, lifetimes {lifetimes.__version__}; "
        f"{platform.machine()}, cpus {_cpu_count()}"
    )
    t0 = time.perf_counter()
    df = make_transactions(args.rows, args.customers, args.seed)
    print(f"\nGenerated in {time.perf_counter() - t0:.1f} s: {describe(df)}")
    end = pd.Timestamp(df["timestamp"].max())
    print(f"\nobservation_end = {end}, freq = {args.freq!r}\n")

    def validate() -> crmmodels.CRMData:
        return crmmodels.CRMData(transactions=df, observation_end=end)

    v_step = StepResult("CRMData(...) validation")
    data = time_step(validate, args.validation_repeat, v_step)
    print(f"- validation: {', '.join(f'{t:.2f}' for t in v_step.times)} s", flush=True)

    def summarise() -> pd.DataFrame:
        # Start from validated data without derived tables: each run aggregates the
        # transactions itself (a later call on the same data would reuse them).
        data.__dict__.pop("_derived", None)
        return customer_summary(data, freq=args.freq)

    s_step = StepResult(f"crmmodels customer_summary(freq={args.freq!r})")
    crm = time_step(summarise, args.repeat, s_step)
    print(f"- customer_summary: {', '.join(f'{t:.2f}' for t in s_step.times)} s", flush=True)

    def reference() -> pd.DataFrame:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out: pd.DataFrame = summary_data_from_transaction_data(
                df, "customer_id", "timestamp", monetary_value_col="amount", freq=args.freq,
                observation_period_end=end,
            )
        return out

    l_step = StepResult(f"lifetimes summary_data_from_transaction_data(freq={args.freq!r})")
    ref = time_step(reference, args.lifetimes_repeat, l_step)
    print(f"- lifetimes: {', '.join(f'{t:.2f}' for t in l_step.times)} s", flush=True)

    if not args.no_memory:
        v_step.peak_mb = trace_peak(validate)
        s_step.peak_mb = trace_peak(summarise)
        l_step.peak_mb = trace_peak(reference)

    cmp = compare(crm, ref)
    print()
    print(format_table([v_step, s_step, l_step]))
    print(
        f"\nAgreement: {len(crm):,} customers (crmmodels) vs {len(ref):,} (lifetimes); "
        f"only in crmmodels {cmp.only_crm}, only in lifetimes {cmp.only_lifetimes}; "
        f"differing values per column {cmp.per_column}; mismatches: {cmp.mismatched_customers}"
    )
    status = 0
    if cmp.agree:
        print(f"\nlifetimes / customer_summary on validated data: "
              f"{l_step.best / s_step.best:.1f}x")
        print(
            f"\nHeadline: customer summary end to end, {args.rows:,} rows / "
            f"{len(crm):,} customers (freq {args.freq!r}): lifetimes / (validation + "
            f"customer_summary) = **{l_step.best / (v_step.best + s_step.best):.1f}x**"
        )
    else:
        print("RESULTS DIFFER: no speed ratio reported. First differing customers:")
        print(cmp.examples.to_string())
        status = 1

    if args.profile:
        print(profile_step(validate, "CRMData(transactions=df, observation_end=end)",
                           args.profile_top))
        print(profile_step(summarise, f"customer_summary(data, freq={args.freq!r})",
                           args.profile_top))
    return status


def _cpu_count() -> int:
    """Return the number of CPUs this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


if __name__ == "__main__":
    sys.exit(main())
