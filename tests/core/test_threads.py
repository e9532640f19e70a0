"""Thread bounds: every fit runs with the BLAS and OpenMP pools bounded to the usable cores."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from typing import Any, ClassVar

import pandas as pd
import pytest
from threadpoolctl import threadpool_info, threadpool_limits

from crmmodels import CRMData
from crmmodels.core import CRMModel, limit_threads, usable_cores
from crmmodels.errors import InvalidParameterError


def _threads() -> dict[str, int]:
    """Threads of each loaded pool, by library file."""
    return {lib["filepath"]: int(lib["num_threads"]) for lib in threadpool_info()}


class _Recorder(CRMModel):
    """Records the pools' threads seen by ``_fit``; raises when told to."""

    _score_columns: ClassVar[tuple[str, ...]] = ("x",)

    def __init__(self, *, fail: bool = False) -> None:
        self.fail = fail

    def _fit(self, data: Any) -> None:
        self.seen_ = _threads()
        if self.fail:
            raise RuntimeError("boom")

    def _score(self, data: Any) -> pd.DataFrame:
        return pd.DataFrame({"x": [0.0]}, index=pd.Index(["a"], name="customer_id"))


@pytest.fixture(scope="module")
def data() -> CRMData:
    tx = pd.DataFrame({"customer_id": ["a", "b"],
                       "timestamp": pd.to_datetime(["2024-01-01", "2024-01-02"]),
                       "amount": [1.0, 2.0]})
    return CRMData(transactions=tx)


def test_pools_are_known() -> None:
    # The tests below are vacuous without a pool: numpy's BLAS is always one.
    assert any(lib["user_api"] == "blas" for lib in threadpool_info())


def test_usable_cores_is_the_affinity() -> None:
    expected = (len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                else os.cpu_count())
    assert usable_cores() == expected


def test_usable_cores_without_affinity(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(os, "sched_getaffinity", raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 3)
    assert usable_cores() == 3
    monkeypatch.setattr(os, "cpu_count", lambda: None)
    assert usable_cores() == 1


def test_fit_bounds_pools_raised_above_the_usable_cores(data: CRMData) -> None:
    cores = usable_cores()
    with threadpool_limits(limits=cores + 3):
        before = _threads()
        assert max(before.values()) > cores
        model = _Recorder().fit(data)
        assert _threads() == before  # restored after the fit
    assert set(model.seen_) == set(before)
    assert all(n <= cores for n in model.seen_.values())
    assert max(model.seen_.values()) == cores


def test_fit_keeps_a_smaller_pool(data: CRMData) -> None:
    # A limit the user (or joblib in a worker process) set below the cores stays.
    with threadpool_limits(limits=1):
        model = _Recorder().fit(data)
    assert set(model.seen_.values()) == {1}


def test_failed_fit_restores_the_pools(data: CRMData) -> None:
    cores = usable_cores()
    with threadpool_limits(limits=cores + 2):
        before = _threads()
        model = _Recorder(fail=True)
        with pytest.raises(RuntimeError, match="boom"):
            model.fit(data)
        assert _threads() == before
    assert not hasattr(model, "seen_")


def test_explicit_n_jobs_sets_every_pool() -> None:
    with threadpool_limits(limits=1):
        with limit_threads(n_jobs=2) as n:
            assert n == 2
            assert set(_threads().values()) == {2}
        assert set(_threads().values()) == {1}


def test_nested_fit_keeps_the_tighter_bound(data: CRMData) -> None:
    with threadpool_limits(limits=usable_cores() + 2), limit_threads(n_jobs=1):
        model = _Recorder().fit(data)
    assert set(model.seen_.values()) == {1}


def test_negative_n_jobs_counts_back_from_the_usable_cores() -> None:
    cores = usable_cores()
    with limit_threads(n_jobs=-1) as n:
        assert n == cores
    with limit_threads(n_jobs=-(cores + 5)) as n:
        assert n == 1
    with limit_threads(n_jobs=-2) as n:
        assert n == max(1, cores - 1)


@pytest.mark.parametrize("bad", [0, 1.5, 2.0, True, "2", [2]])
def test_n_jobs_validation(bad: Any) -> None:
    with pytest.raises(InvalidParameterError, match=r"limit_threads: n_jobs must be"):
        limit_threads(n_jobs=bad)


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="no CPU affinity here")
def test_restricted_affinity_bounds_fits() -> None:
    cpu = min(os.sched_getaffinity(0))
    code = textwrap.dedent(f"""
        import os
        os.sched_setaffinity(0, {{{cpu}}})
        import pandas as pd
        from threadpoolctl import threadpool_info, threadpool_limits
        from crmmodels import CRMData
        from crmmodels.cltv import NaiveRateModel
        from crmmodels.core import usable_cores

        seen = []
        class Probe(NaiveRateModel):
            def _fit(self, data):
                seen.append(max(lib["num_threads"] for lib in threadpool_info()))
                super()._fit(data)

        tx = pd.DataFrame({{"customer_id": ["a", "a", "b"],
                           "timestamp": pd.to_datetime(["2024-01-01", "2024-02-01",
                                                        "2024-01-05"]),
                           "amount": [1.0, 2.0, 3.0]}})
        with threadpool_limits(limits=4):
            Probe().fit(CRMData(transactions=tx))
        print(usable_cores(), seen[0])
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["1", "1"]
