"""The teaching notebooks in notebooks/.

Static checks (every `make test`): only the public API, no committed outputs,
an explanation before every code cell, the Colab install cell first and a
`keras_s2s.translate(...)` call last.

Execution (`make notebooks`, marker `notebooks`, deselected by default): each
notebook runs top to bottom in a fresh kernel of this virtual environment's
Python, in quick mode (`KERAS_S2S_QUICK=1`), in a temporary directory.
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

NOTEBOOK_DIR = Path(__file__).resolve().parent.parent / "notebooks"
NOTEBOOKS = (
    "01_encoder_decoder.ipynb",
    "02_attention_and_transformer.ipynb",
    "03_export_and_serve.ipynb",
)
# Outputs are cleared before committing; this bounds what a stray output could add.
MAX_NOTEBOOK_BYTES = 100_000
CELL_TIMEOUT_SECONDS = 600


def read(name: str) -> nbformat.NotebookNode:
    return nbformat.read(NOTEBOOK_DIR / name, as_version=4)


def code_cells(notebook) -> list[nbformat.NotebookNode]:
    return [cell for cell in notebook.cells if cell.cell_type == "code"]


def python_source(cell) -> str:
    """A code cell's source without IPython's `!shell` and `%magic` lines."""
    return "\n".join(
        "" if line.lstrip().startswith(("!", "%")) else line for line in cell.source.splitlines()
    )


def is_private(name: str) -> bool:
    """`_name` is private; dunders such as `__version__` are not."""
    return name.startswith("_") and not name.startswith("__")


def private_uses(source: str) -> list[str]:
    """Private names of keras_s2s (or private attributes of anything) in `source`."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names
                      if alias.name.startswith("keras_s2s")
                      and any(is_private(part) for part in alias.name.split("."))]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("keras_s2s"):
            if any(is_private(part) for part in node.module.split(".")):
                found.append(node.module)
            found += [f"{node.module}.{alias.name}" for alias in node.names
                      if is_private(alias.name)]
        elif isinstance(node, ast.Attribute) and is_private(node.attr):
            found.append(ast.unparse(node))
    return found


def test_the_notebook_directory_holds_exactly_the_listed_notebooks():
    assert sorted(path.name for path in NOTEBOOK_DIR.glob("*.ipynb")) == sorted(NOTEBOOKS)


def test_private_use_detector_catches_private_names():
    source = ("from keras_s2s.text import _WORD\nimport keras_s2s._secret\n"
              "from keras_s2s._hidden import thing\nvocabulary._tables()\n"
              "from keras_s2s.text import START_ID\nprint(keras_s2s.__version__)\n")
    assert private_uses(source) == [
        "keras_s2s.text._WORD", "keras_s2s._secret", "keras_s2s._hidden", "vocabulary._tables",
    ]


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_uses_only_the_public_api(name):
    for index, cell in enumerate(read(name).cells):
        if cell.cell_type == "code":
            assert private_uses(python_source(cell)) == [], f"{name}, cell {index}"


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_is_committed_without_outputs(name):
    assert (NOTEBOOK_DIR / name).stat().st_size < MAX_NOTEBOOK_BYTES
    for index, cell in enumerate(code_cells(read(name))):
        assert cell.outputs == [], f"{name}: code cell {index} has outputs; clear them"
        assert cell.execution_count is None, f"{name}: code cell {index} has an execution count"


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_every_code_cell_follows_an_explanation(name):
    cells = read(name).cells
    assert cells[0].cell_type == "markdown", f"{name} must open with a markdown cell"
    for index, cell in enumerate(cells):
        if cell.cell_type == "code":
            previous = cells[index - 1]
            assert previous.cell_type == "markdown" and previous.source.strip(), (
                f"{name}: code cell {index} is not preceded by a markdown explanation"
            )


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_installs_first_and_translates_last(name):
    cells = code_cells(read(name))
    install, device, quick = (cell.source for cell in cells[:3])
    assert "KERAS_S2S_SOURCE" in install
    assert 'f"tensorflow-text=={major}.{minor}.*"' in install
    assert 'list_physical_devices("GPU")' in device
    assert 'QUICK = os.environ.get("KERAS_S2S_QUICK") == "1"' in quick
    assert "keras_s2s.translate(" in cells[-1].source


# -- execution ------------------------------------------------------------------------


def run(notebook, working_directory) -> None:
    client = NotebookClient(
        notebook,
        timeout=CELL_TIMEOUT_SECONDS,
        kernel_name="python3",
        resources={"metadata": {"path": str(working_directory)}},
    )
    client.execute()


@pytest.fixture
def kernel_environment(monkeypatch):
    monkeypatch.setenv("KERAS_S2S_QUICK", "1")
    # Prefer this environment's kernelspec over one in the user's home directory.
    monkeypatch.setenv("JUPYTER_PREFER_ENV_PATH", "1")


@pytest.mark.notebooks
def test_kernel_runs_this_environments_python(kernel_environment, tmp_path):
    probe = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "import os, sys\nprint(sys.prefix)\nprint(os.environ['KERAS_S2S_QUICK'])"
    )])
    run(probe, tmp_path)
    prefix, quick = probe.cells[0].outputs[0]["text"].split()
    assert (prefix, quick) == (sys.prefix, "1")


@pytest.mark.notebooks
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_runs_top_to_bottom(name, kernel_environment, tmp_path):
    notebook = read(name)
    try:
        run(notebook, tmp_path)
    except CellExecutionError as error:
        for index, cell in enumerate(notebook.cells):
            errors = [o for o in cell.get("outputs", []) if o.output_type == "error"]
            if errors:
                pytest.fail(
                    f"{name}: cell {index} failed with {errors[0].ename}: {errors[0].evalue}\n"
                    f"--- cell source ---\n{cell.source}",
                    pytrace=False,
                )
        raise error
    # The last cell's value is the translation(s): at least one word, not just "".
    results = [output.data["text/plain"] for output in code_cells(notebook)[-1].outputs
               if output.output_type == "execute_result"]
    assert results and re.search(r"\w", results[0]), (
        f"{name}: the final keras_s2s.translate(...) call gave no words: {results}"
    )
