"""Execute every notebook in notebooks/ with nbclient; each must run without error."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel
from nbclient import NotebookClient

NOTEBOOK_DIR = Path(__file__).resolve().parents[1] / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
KERNEL_NAME = "python3"


def _kernel_python(argv: list[str]) -> str:
    """Return the interpreter a kernelspec's argv starts.

    jupyter_client replaces a bare ``python`` (or ``python3``, ``python3.X``) with the
    interpreter running the client, so such a spec runs ``sys.executable``.
    """
    major, minor = sys.version_info[:2]
    if argv and argv[0] in {"python", f"python{major}", f"python{major}.{minor}"}:
        return sys.executable
    return argv[0] if argv else ""


def _uses_this_python() -> bool:
    try:
        spec = KernelSpecManager().get_kernel_spec(KERNEL_NAME)
    except NoSuchKernel:
        return False
    return os.path.abspath(_kernel_python(spec.argv)) == os.path.abspath(sys.executable)


def _use_private_kernelspec(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Point the python3 kernel at this interpreter, for this test only."""
    spec_dir = root / "kernels" / KERNEL_NAME
    spec_dir.mkdir(parents=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (crmmodels tests)",
        "language": "python",
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec), encoding="utf-8")
    monkeypatch.setenv("JUPYTER_PATH", str(root))


@pytest.mark.notebook
@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if not _uses_this_python():
        _use_private_kernelspec(tmp_path / "jupyter", monkeypatch)
    nb = nbformat.read(path, as_version=4)  # type: ignore[no-untyped-call]
    client = NotebookClient(
        nb,
        timeout=600,
        kernel_name=KERNEL_NAME,
        resources={"metadata": {"path": str(NOTEBOOK_DIR)}},
    )
    client.execute()  # raises CellExecutionError on the first failing cell

    code_cells = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert code_cells, f"{path.name} has no code cell"
    not_run = [i for i, cell in enumerate(code_cells) if cell.get("execution_count") is None]
    assert not not_run, f"{path.name}: code cells {not_run} did not run"
    errors = [
        output
        for cell in code_cells
        for output in cell.get("outputs", [])
        if output.get("output_type") == "error"
    ]
    assert not errors, f"{path.name}: {errors[0].get('ename')}: {errors[0].get('evalue')}"
