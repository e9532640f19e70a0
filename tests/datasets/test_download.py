"""``download_if_missing``: fetched from a real HTTP server on the loopback address."""

from __future__ import annotations

import dataclasses
import functools
import http.server
import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from crmmodels.datasets import DATASETS, load_telco_churn
from crmmodels.errors import DatasetError, DatasetNotFoundError

SOURCE = Path(os.environ.get("CRMMODELS_DATA_DIR", "~/crmmodels_data")).expanduser()
TELCO = SOURCE / DATASETS["telco_churn"].relpath


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """Serve a folder over HTTP on 127.0.0.1 (a free port) while the test runs."""
    root = tmp_path / "served"
    root.mkdir()

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Quiet, directory=str(root)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", root
    finally:
        httpd.shutdown()
        httpd.server_close()


def _point(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    info = DATASETS["telco_churn"]
    monkeypatch.setitem(DATASETS, "telco_churn", dataclasses.replace(info, url=url))


@pytest.mark.skipif(not TELCO.is_file(), reason="the Telco file is not in CRMMODELS_DATA_DIR")
def test_missing_file_fetched_checked_and_kept(server: tuple[str, Path], tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    base, root = server
    shutil.copyfile(TELCO, root / "telco.csv")
    _point(monkeypatch, f"{base}/telco.csv")
    home = tmp_path / "home"
    with pytest.raises(DatasetNotFoundError, match="download_if_missing=True"):
        load_telco_churn(home)  # off by default: nothing fetched
    assert not home.exists()
    got = load_telco_churn(home, download_if_missing=True)
    kept = home / DATASETS["telco_churn"].relpath
    assert kept.read_bytes() == TELCO.read_bytes()
    ref = load_telco_churn(SOURCE)
    pd.testing.assert_frame_equal(got.customers, ref.customers)
    assert [p.name for p in kept.parent.iterdir()] == [kept.name]  # no temporary left
    (root / "telco.csv").unlink()  # now read from disk, not fetched again
    assert load_telco_churn(home, download_if_missing=True).n_customers == 7043


def test_wrong_file_refused_and_not_kept(server: tuple[str, Path], tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    base, root = server
    (root / "telco.csv").write_text("customerID,Churn\na,No\n")
    _point(monkeypatch, f"{base}/telco.csv")
    home = tmp_path / "home"
    with pytest.raises(DatasetError, match="sha256") as info:
        load_telco_churn(home, download_if_missing=True)
    assert not isinstance(info.value, DatasetNotFoundError)
    folder = home / DATASETS["telco_churn"].relpath
    assert not folder.parent.exists() or not any(folder.parent.iterdir())


def test_unreachable_address_says_where_to_put_the_file(
        server: tuple[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    base, _ = server
    _point(monkeypatch, f"{base}/absent.csv")  # 404 from the server
    with pytest.raises(DatasetNotFoundError, match=r"fetching .*absent\.csv failed.*put the"):
        load_telco_churn(tmp_path / "home", download_if_missing=True)


def test_derived_file_is_not_fetched_and_says_how_it_was_made(tmp_path: Path) -> None:
    from crmmodels.datasets import load_hillstrom

    with pytest.raises(DatasetNotFoundError, match=r"derived: data/raw/hillstrom\.csv"):
        load_hillstrom(tmp_path, download_if_missing=True)
    assert DATASETS["hillstrom"].url is None
    published = [k for k, v in DATASETS.items() if v.url is not None]
    assert sorted(published) == ["groceries", "telco_churn", "vehicle_insurance_fraud"]
    assert all(v.url or v.derivation or v.bundled_with for v in DATASETS.values())
