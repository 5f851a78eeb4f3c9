"""The package stays easy to read: small modules, short functions (DESIGN.md)."""

import ast
import pathlib

import pytest

PACKAGE = pathlib.Path(__file__).resolve().parents[1] / "keras_s2s"
MODULES = sorted(PACKAGE.rglob("*.py"))
MAX_MODULE_LINES = 300
MAX_FUNCTION_LINES = 60  # lines of code: docstrings, comments and blank lines aside
# None now: the command line's parser is one function per command (keras_s2s/cli/parser.py).
LONG_FUNCTIONS_ALLOWED: set[tuple[str, str]] = set()


def code_lines(source_lines, node) -> int:
    """Lines of `node` that hold code (not its docstring, a comment or blank)."""
    skip = set()
    body = getattr(node, "body", [])
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
            and isinstance(body[0].value.value, str):
        skip = set(range(body[0].lineno, body[0].end_lineno + 1))
    return sum(1 for number in range(node.lineno, node.end_lineno + 1)
               if number not in skip and source_lines[number - 1].strip()
               and not source_lines[number - 1].strip().startswith("#"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_module_is_at_most_300_lines_with_functions_of_at_most_60(path):
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines()
    assert len(lines) <= MAX_MODULE_LINES, f"{path.name}: {len(lines)} lines"
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            if (path.name, node.name) in LONG_FUNCTIONS_ALLOWED:
                continue
            count = code_lines(lines, node)
            assert count <= MAX_FUNCTION_LINES, f"{path.name}:{node.lineno} {node.name}: {count}"
