"""The notebooks of notebooks/: each runs without error, and each is stored as the site shows it.

The executing test (marked ``notebook`` and ``slow``) runs every notebook with nbclient.
The fast tests read the stored files: every notebook is stored with its outputs after a
clean top-to-bottom run, shows at least one figure, forces no matplotlib backend, names
no absolute path and reads its data through :mod:`crmmodels.datasets`.
"""

from __future__ import annotations

import ast
import json
import os
import re
import sys
from pathlib import Path
from typing import Any

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


# ---------------------------------------------------------------- stored notebooks
# The documentation site renders the notebooks as stored (mkdocs-jupyter, execute: false),
# so what is committed is what readers see. These checks read the stored files only; they
# run no kernel and are fast (no marker: ``make test-fast`` runs them).

#: Calls that read a file themselves: a notebook reads its data through crmmodels.datasets.
#: (Besides these, any call named ``read_*``: pd.read_csv, read_parquet, ...)
_FILE_READERS = frozenset({"open", "loadtxt", "genfromtxt", "fromfile", "files", "Path",
                           "PurePath"})
_ABSOLUTE_PATH = re.compile(r"^(?:/[\w.~-]|~[/\\]|[A-Za-z]:[/\\])")
_MAX_NOTEBOOK_BYTES = 1_500_000
_MAX_TOTAL_BYTES = 5_000_000


def _code_cells(path: Path) -> list[Any]:
    nb = nbformat.read(path, as_version=4)  # type: ignore[no-untyped-call]
    return [cell for cell in nb.cells if cell.cell_type == "code"]


def _python_source(cell: Any) -> str:
    """Return the cell's source as plain Python (IPython magics turned into calls)."""
    from IPython.core.inputtransformer2 import TransformerManager

    return str(TransformerManager().transform_cell(cell.source))  # type: ignore[no-untyped-call]


def _syntax_trees(path: Path) -> list[ast.Module]:
    trees = []
    for i, cell in enumerate(_code_cells(path)):
        try:
            trees.append(ast.parse(_python_source(cell)))
        except SyntaxError as exc:  # pragma: no cover - the message is the point
            pytest.fail(f"{path.name}: code cell {i} does not parse: {exc}")
    return trees


def _called_name(call: ast.Call) -> str | None:
    func = call.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def test_there_are_notebooks() -> None:
    assert NOTEBOOKS, f"no notebook in {NOTEBOOK_DIR}"


def test_notebooks_fit_in_the_site() -> None:
    sizes = {p.name: p.stat().st_size for p in NOTEBOOKS}
    large = {name: size for name, size in sizes.items() if size > _MAX_NOTEBOOK_BYTES}
    assert not large, f"notebooks over {_MAX_NOTEBOOK_BYTES:,} bytes (huge outputs?): {large}"
    assert sum(sizes.values()) <= _MAX_TOTAL_BYTES, f"notebooks total {sum(sizes.values()):,}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_is_stored_with_a_figure(path: Path) -> None:
    images = [
        output
        for cell in _code_cells(path)
        for output in cell.get("outputs", [])
        if "image/png" in output.get("data", {})
    ]
    assert images, (f"{path.name} is stored without a figure: execute it and store it with "
                    "its outputs")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_was_stored_after_a_clean_run(path: Path) -> None:
    cells = _code_cells(path)
    counts = [cell.get("execution_count") for cell in cells]
    assert counts == list(range(1, len(cells) + 1)), (
        f"{path.name}: execution counts {counts}; store it after one top-to-bottom run "
        "in a fresh kernel")
    errors = [i for i, cell in enumerate(cells)
              for output in cell.get("outputs", []) if output.get("output_type") == "error"]
    assert not errors, f"{path.name}: code cells {errors} are stored with an error"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_leaves_the_backend_alone(path: Path) -> None:
    forcing = [i for i, cell in enumerate(_code_cells(path))
               if re.search(r"\bmatplotlib\s*\.\s*use\s*\(", cell.source)
               or re.search(r"\buse\s*\(\s*['\"]agg['\"]", cell.source, re.IGNORECASE)]
    assert not forcing, (f"{path.name}: code cells {forcing} force a matplotlib backend; "
                         "the inline backend shows the figures")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_has_no_absolute_path(path: Path) -> None:
    found = []
    for tree in _syntax_trees(path):
        # The text after a replacement field of an f-string ("{folder}/file") is not
        # the start of a path.
        inner = {id(part) for node in ast.walk(tree) if isinstance(node, ast.JoinedStr)
                 for part in node.values[1:]}
        found += [node.value for node in ast.walk(tree)
                  if isinstance(node, ast.Constant) and isinstance(node.value, str)
                  and id(node) not in inner and _ABSOLUTE_PATH.match(node.value.strip())]
    assert not found, (f"{path.name} names absolute paths {found}; read data through "
                       "crmmodels.datasets (CRMMODELS_DATA_DIR says where the files are)")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_reads_data_through_crmmodels_datasets(path: Path) -> None:
    trees = _syntax_trees(path)
    readers = sorted({
        name
        for tree in trees
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and (name := _called_name(node)) is not None
        and (name.startswith("read_") or name in _FILE_READERS)
    })
    assert not readers, (f"{path.name} reads files itself ({readers}); use the loaders of "
                         "crmmodels.datasets")
    from_datasets = {
        alias.asname or alias.name
        for tree in trees
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module == "crmmodels.datasets"
        for alias in node.names
    }
    called = {name for tree in trees for node in ast.walk(tree)
              if isinstance(node, ast.Call) and (name := _called_name(node)) is not None}
    assert from_datasets & called, (f"{path.name} calls no loader or simulator of "
                                    "crmmodels.datasets")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_reads_as_a_page(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)  # type: ignore[no-untyped-call]
    assert nb.cells, f"{path.name} is empty"
    first = nb.cells[0]
    assert first.cell_type == "markdown", f"{path.name} does not open with text"
    assert first.source.lstrip().startswith("# "), f"{path.name} does not open with a title"
    kinds = [cell.cell_type for cell in nb.cells]
    assert kinds.count("markdown") >= 4, f"{path.name} has too little text between the steps"
    plots = {name for tree in _syntax_trees(path) for node in ast.walk(tree)
             if isinstance(node, ast.Call) and (name := _called_name(node)) is not None
             and name.startswith("plot_")}
    assert plots, f"{path.name} draws no figure with the plotting functions of crmmodels"
