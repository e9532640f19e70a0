"""Run every benchmark and write ``benchmarks/RESULTS.md``.

Each script runs in its own process (so that memory and time of one do not weigh on the
next), prints Markdown, and exits with a non-zero status when its results disagree with
the reference it is compared with. This runner collects the outputs under one heading
per benchmark, after a description of the machine and the versions, and lists every
``Headline:`` line of the scripts at the top. A failing script is reported as FAILED in
its section, and the runner then exits with status 1 once every script has run.

Run from the repository root (``make bench`` installs the ``bench`` extra first)::

    .venv/bin/python benchmarks/run_all.py                  # full sizes, tens of minutes
    .venv/bin/python benchmarks/run_all.py --quick          # small sizes: a smoke run
    .venv/bin/python benchmarks/run_all.py --only rfm churn --output /tmp/results.md
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.metadata
import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


@dataclass(frozen=True)
class Bench:
    """One benchmark run: a script with its full-size and quick arguments."""

    key: str
    title: str
    script: str
    full: tuple[str, ...]
    quick: tuple[str, ...]


BENCHES: tuple[Bench, ...] = (
    Bench("summary", "Per-customer summary against lifetimes", "bench_customer_summary.py",
          (), ("--rows", "20000", "--customers", "4000", "--repeat", "1",
               "--lifetimes-repeat", "1", "--no-memory")),
    Bench("bgnbd", "BG/NBD fit and CLV scoring against lifetimes", "bench_cltv.py",
          (), ("--customers", "3000")),
    Bench("pareto", "Pareto/NBD fit against lifetimes", "bench_pareto_nbd.py",
          ("--plain-customers", "100000"), ("--customers", "2000")),
    Bench("mbg_bgbb", "MBG/NBD and BG/BB fits against lifetimes", "bench_mbg_bgbb.py",
          ("--customers", "100000"), ("--customers", "2000", "--repeat", "1")),
    Bench("rfm", "RFM end to end against the pandas recipe", "bench_rfm.py",
          (), ("--rows", "20000", "--customers", "2000", "--repeat", "1", "--no-memory")),
    Bench("association_groceries", "Frequent itemsets: Groceries", "bench_association.py",
          ("--groceries",), ("--groceries", "--repeat", "1", "--mlxtend-repeat", "1",
                             "--no-memory")),
    Bench("association_1m", "Frequent itemsets: 1,000,000 synthetic baskets",
          "bench_association.py", ("--baskets", "1000000"),
          ("--baskets", "3000", "--items", "200", "--min-support", "0.01", "--repeat", "1",
           "--mlxtend-repeat", "1", "--no-memory")),
    Bench("churn", "Churn: features, fit and score at 1,000,000 customers", "bench_churn.py",
          (), ("--customers", "2000", "--no-memory", "--repeat", "1")),
    Bench("fraud", "Card-transaction fraud features and scoring", "bench_fraud_features.py",
          (), ("--sample", "--customers", "40", "--no-score", "--no-memory", "--repeat", "1")),
    Bench("propensity", "Churn and fraud defaults against default gradient boosting",
          "bench_propensity.py", (), ("--seeds", "1", "--repeat", "1")),
    Bench("identity", "Identity resolution at 1,000,000 records", "bench_identity.py",
          (), ("--people", "2000", "--no-memory")),
    Bench("nba", "Next best action: a budgeted plan for 100,000 customers x 5 offers",
          "bench_nba.py", (), ("--customers", "2000", "--milp-seconds", "5")),
    Bench("engines", "Summary and RFM from a polars frame against a pandas frame",
          "bench_engines.py", (), ("--rows", "200000", "--customers", "10000", "--repeat", "1",
                                   "--no-memory")),
    Bench("analyze", "crmmodels analyze end to end: pandas, polars and Spark local",
          "bench_analyze.py", (), ("--sizes", "20000")),
)

_VERSIONS = ("numpy", "pandas", "scipy", "scikit-learn", "lifetimes", "mlxtend", "pyfim",
             "networkx", "pyarrow", "polars", "narwhals", "pyspark")


def _version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory_gb() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 2**20:.1f} GiB"
    except OSError:
        pass
    return "unknown"


def _git(*args: str) -> str:
    try:
        out = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True,
                             check=True)
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return out.stdout.strip()


def machine() -> str:
    """Describe the machine, the versions and the code measured, as Markdown."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    commit = _git("rev-parse", "--short", "HEAD")
    dirty = _git("status", "--porcelain", "--untracked-files=no")
    versions = [f"python {platform.python_version()}"]
    versions += [f"{name} {v}" for name in _VERSIONS if (v := _version(name))]
    absent = [name for name in ("pyfim", "pyarrow") if not _version(name)]
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    lines = [
        f"- Date: {dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- Machine: {cores} cores ({_cpu_model()}), {_memory_gb()} memory, "
        f"{platform.system()} {platform.machine()}"
        + (f"; load average {load[0]:.2f} at the start" if load else ""),
        f"- Versions: {', '.join(versions)}"
        + (f" ({' and '.join(absent)} not installed)" if absent else ""),
        f"- crmmodels {_version('crmmodels') or 'unknown'}, commit {commit}"
        + (" with uncommitted changes" if dirty else ""),
    ]
    return "\n".join(lines)


@dataclass
class Outcome:
    """What one benchmark printed and how it ended."""

    bench: Bench
    args: tuple[str, ...]
    seconds: float
    status: int
    stdout: str
    stderr: str


def run(bench: Bench, quick: bool, timeout: float | None) -> Outcome:
    """Run one benchmark script in a fresh process."""
    args = bench.quick if quick else bench.full
    cmd = [sys.executable, str(HERE / bench.script), *args]
    print(f"[run_all] {bench.key}: {' '.join(cmd[1:])}", file=sys.stderr, flush=True)
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
        status, out, err = proc.returncode, proc.stdout, proc.stderr
    except subprocess.TimeoutExpired as exc:
        status = -1
        out = exc.stdout.decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        err = f"timed out after {timeout:.0f} s"
    seconds = time.perf_counter() - t0
    print(f"[run_all] {bench.key}: exit {status} after {seconds:.0f} s", file=sys.stderr,
          flush=True)
    return Outcome(bench, args, seconds, status, out, err)


def headlines(text: str) -> list[str]:
    """Return the ``Headline:`` lines of a script's output, without the prefix."""
    return [line.split("Headline:", 1)[1].strip() for line in text.splitlines()
            if line.startswith("Headline:")]


def report(outcomes: list[Outcome], quick: bool, total: float, setting: str) -> str:
    """Assemble RESULTS.md (``setting``: the machine and versions, from the start)."""
    parts = ["# Benchmark results", ""]
    parts.append("Written by `benchmarks/run_all.py`"
                 + (" with `--quick` (small sizes: a smoke run, not a measurement)"
                    if quick else " (`make bench`)")
                 + f"; {len(outcomes)} benchmarks in {total / 60:.1f} minutes. Every figure "
                 "in the documentation is quoted from this file. Each script ran in its own "
                 "process; times are wall-clock (`time.perf_counter`, `gc.collect()` before "
                 "each run, best of the runs shown), memory is traced in separate runs. "
                 "See `benchmarks/README.md` for what each script does.")
    parts += ["", setting, "", "## Headline ratios", ""]
    for o in outcomes:
        if o.status != 0:
            parts.append(f"- {o.bench.title}: **FAILED** (exit status {o.status})")
        for line in headlines(o.stdout):
            parts.append(f"- {line}")
    for o in outcomes:
        cmd = " ".join(["python", f"benchmarks/{o.bench.script}", *o.args])
        parts += ["", f"## {o.bench.title}", "",
                  f"`{cmd}`: {o.seconds:.0f} s" + ("" if o.status == 0 else
                                                     f", **FAILED** (exit status {o.status})"),
                  ""]
        parts.append(o.stdout.strip() or "(no output)")
        if o.status != 0:
            tail = "\n".join(o.stderr.strip().splitlines()[-30:])
            parts += ["", "```text", tail, "```"]
    return "\n".join(parts) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks; 1 when one of them failed."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes (a smoke run)")
    parser.add_argument("--output", type=Path, default=HERE / "RESULTS.md")
    parser.add_argument("--only", nargs="+", choices=[b.key for b in BENCHES],
                        help="run these benchmarks only")
    parser.add_argument("--timeout", type=float, default=None,
                        help="seconds allowed per script (default: no limit)")
    args = parser.parse_args(argv)
    chosen = [b for b in BENCHES if args.only is None or b.key in args.only]
    setting = machine()  # the date, load and commit at the start of the run
    t0 = time.perf_counter()
    outcomes: list[Outcome] = []
    for bench in chosen:
        outcomes.append(run(bench, args.quick, args.timeout))
        # Written after every script, so that an interrupted run keeps what it measured.
        args.output.write_text(report(outcomes, args.quick, time.perf_counter() - t0,
                                      setting))
    total = time.perf_counter() - t0
    args.output.write_text(report(outcomes, args.quick, total, setting))
    failed = [o.bench.key for o in outcomes if o.status != 0]
    print(f"[run_all] wrote {args.output} in {total / 60:.1f} min"
          + (f"; FAILED: {', '.join(failed)}" if failed else ""), file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
