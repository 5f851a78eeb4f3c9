"""The library's defaults, read from its source, so `--help` can show them
without importing TensorFlow.

Options the user leaves unset are not passed on (argparse SUPPRESS): the
Python signature stays the one home of each default. `--help` still states
every default, by reading the signature's default values from the module's
source with `ast` instead of importing the module (which would load
TensorFlow and take seconds).

Example:
    >>> signature_defaults("keras_s2s.training", "train")["epochs"]
    10
"""

from __future__ import annotations

import ast
import functools
import importlib.util
import pathlib


@functools.cache
def signature_defaults(module: str, function: str) -> dict[str, object]:
    """`{parameter: default}` of `function` in `module` (`"Class.method"` for a
    method), for the parameters whose default is a literal.

    Args:
        module: a module name, such as `"keras_s2s.training"`.
        function: a function name, or `"ClassName.method_name"`.
    """
    spec = importlib.util.find_spec(module)
    tree = ast.parse(pathlib.Path(spec.origin).read_text(encoding="utf-8"))
    node = _find(tree.body, function.split("."))
    arguments = node.args
    positional = arguments.posonlyargs + arguments.args
    pairs = list(zip(positional[len(positional) - len(arguments.defaults):],
                     arguments.defaults))
    pairs += [(argument, default) for argument, default in
              zip(arguments.kwonlyargs, arguments.kw_defaults) if default is not None]
    defaults = {}
    for argument, default in pairs:
        try:
            defaults[argument.arg] = ast.literal_eval(default)
        except ValueError:  # not a literal (a constant's name): left out of the help
            continue
    return defaults


def _find(body, names: list[str]):
    for node in body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and node.name == names[0]:
            return node if len(names) == 1 else _find(node.body, names[1:])
    raise LookupError(f"{'.'.join(names)} is not defined at the top of its module.")
