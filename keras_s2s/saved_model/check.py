"""`keras_s2s.check_export(path)` / `keras-s2s check-export PATH`: what to know
before deploying an export, in one report.

Checks, in order (the first failure is the one the summary names):

1. files: `saved_model.pb`, `variables/`, the export info, the warm-up file;
2. ops: every op in the graph is TensorFlow core or tensorflow-text (stock TF
   Serving links nothing else);
3. GPU kernels: every op inside a `while` loop (the decoding loop) has a GPU
   kernel in this TensorFlow build; a CPU-only op there would copy between
   host and device at every generated token. The pip wheel is built with
   CUDA, so this needs no GPU;
4. the C++ loader (`LoadSavedModel`, as `tensorflow_model_server`) and the
   TF2 loader (`tf.saved_model.load`) both load it and, on a few sentences,
   agree on every signature;
5. the warm-up requests replay through the C++-loaded model;
6. a timing: the median of three `serving_default` calls on a batch of 8.
"""

from __future__ import annotations

import dataclasses
import json
import pathlib
import statistics
import subprocess
import sys
import time

import numpy as np


@dataclasses.dataclass
class Check:
    name: str
    ok: bool
    detail: str


@dataclasses.dataclass
class ExportReport:
    """The checks run on one export version, in order."""

    path: pathlib.Path
    checks: list[Check] = dataclasses.field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks)

    def add(self, name: str, ok: bool, detail: str) -> bool:
        self.checks.append(Check(name, ok, detail))
        return ok

    def summary(self) -> str:
        """One line: passed, or the first failed check and why."""
        failed = [check for check in self.checks if not check.ok]
        if not failed:
            return f"{self.path}: every check passed ({len(self.checks)} checks)."
        return f"{self.path}: {failed[0].name} failed: {failed[0].detail}"

    def __str__(self) -> str:
        lines = [f"Export {self.path}"]
        for check in self.checks:
            mark = "ok  " if check.ok else "FAIL"
            body = check.detail.replace("\n", "\n       ")
            lines.append(f"  {mark} {check.name}: {body}")
        return "\n".join(lines)


def _graph_ops(version_dir: pathlib.Path):
    """(every op type in the graph, op types inside while-loop bodies and conditions)."""
    from tensorflow.core.protobuf import saved_model_pb2

    proto = saved_model_pb2.SavedModel()
    proto.ParseFromString((version_dir / "saved_model.pb").read_bytes())
    graph = proto.meta_graphs[0].graph_def
    functions = {f.signature.name: f for f in graph.library.function}

    def called(node):  # names of the functions a node calls
        names = [value.func.name for value in node.attr.values() if value.func.name]
        for value in node.attr.values():
            names += [f.name for f in value.list.func]
        return [name for name in names if name in functions]

    every = {n.op for n in graph.node} | {n.op for f in functions.values() for n in f.node_def}
    loop_roots = [name for f in [*functions.values()] for n in f.node_def
                  if n.op in ("While", "StatelessWhile") for name in called(n)]
    loop_roots += [name for n in graph.node if n.op in ("While", "StatelessWhile")
                   for name in called(n)]
    in_loops, seen, todo = set(), set(), list(loop_roots)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for node in functions[name].node_def:
            in_loops.add(node.op)
            todo += called(node)
    return every - set(functions), in_loops - set(functions)


def _registered_without_tensorflow_text(ops) -> set[str]:
    """Which of `ops` TensorFlow alone registers (asked in a fresh process,
    since this one has tensorflow-text loaded already)."""
    script = ("import json, sys\nimport tensorflow\n"
              "from tensorflow.python.framework import op_def_registry\n"
              "ops = json.loads(sys.stdin.read())\n"
              "print(json.dumps([op for op in ops if op_def_registry.get(op) is not None]))\n")
    completed = subprocess.run([sys.executable, "-c", script], input=json.dumps(sorted(ops)),
                               capture_output=True, text=True, timeout=300)
    if completed.returncode != 0:
        raise RuntimeError(completed.stderr.strip().splitlines()[-1])
    return set(json.loads(completed.stdout.strip().splitlines()[-1]))


def _check_files(report, version_dir) -> bool:
    from keras_s2s.saved_model import contract
    from keras_s2s.saved_model.warmup import read_warmup_requests

    variables = version_dir / "variables"
    if not report.add("files", (version_dir / "saved_model.pb").is_file()
                      and variables.is_dir() and any(variables.glob("variables.data-*"))
                      and (variables / "variables.index").is_file(),
                      "saved_model.pb and variables/ (index + data)"
                      if variables.is_dir() else f"{variables} is missing"):
        return False
    try:
        info = contract.ExportInfo.read(version_dir)
        default, n_best = info.decoding("serving_default"), info.decoding("translate_n_best")
        report.add("export info", True, f"serving_default {default.method}"
                   + (f" (beam {default.beam_width}, length penalty {default.length_penalty})"
                      if default.method == "beam" else "")
                   + f", translate_n_best returns {n_best.num_results}")
        requests = read_warmup_requests(version_dir)
        report.add("warm-up file", True, f"{len(requests)} requests")
    except ValueError as error:
        return report.add("export info / warm-up file", False, str(error))
    return True


def _check_ops(report, version_dir) -> bool:
    from tensorflow.python.framework import kernels, op_def_registry

    every, in_loops = _graph_ops(version_dir)
    unknown = sorted(op for op in every if op_def_registry.get(op) is None)
    text_ops = sorted(set(every) - set(unknown) - _registered_without_tensorflow_text(every))
    ok = report.add("ops", not unknown,
                    f"{len(every)} op types, tensorflow-text: {', '.join(text_ops) or 'none'}"
                    if not unknown else
                    f"ops outside TensorFlow core and tensorflow-text: {', '.join(unknown)}")
    # DEFAULT kernels (NoOp, ReadVariableOp, control flow) serve every device.
    cpu_only = sorted(op for op in in_loops if op_def_registry.get(op) is not None and not any(
        k.device_type in ("GPU", "DEFAULT")
        for k in kernels.get_registered_kernels_for_op(op).kernel))
    ok &= report.add("GPU kernels in the decoding loop", not cpu_only,
                     f"all {len(in_loops)} op types have one" if not cpu_only else
                     f"no GPU kernel for: {', '.join(cpu_only)}")
    return ok


def _first_line(error) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


def _compare(cpp_outputs, tf2_outputs, where) -> str | None:
    for key, expected in tf2_outputs.items():
        got, expected = cpp_outputs[key], np.asarray(expected)
        if expected.dtype == object:
            if got.tolist() != expected.tolist():
                return f"{where}: {key} differs between the C++ and TF2 loaders"
        elif not np.allclose(got, expected, rtol=1e-4, atol=1e-5):
            return f"{where}: {key} differs between the C++ and TF2 loaders"
    return None


def _signature_problems(served, loaded, names, requests):
    """Each signature's shape against the contract, then C++ vs TF2 outputs on
    its largest warm-up request; a list of problems (empty: they agree)."""
    import tensorflow as tf

    from keras_s2s.saved_model import contract

    problems = []
    for name in names:
        signature, spec = contract.SIGNATURES[name], served.signature_defs.get(name)
        if spec is None or sorted(spec.inputs) != sorted(signature.inputs) or sorted(
                spec.outputs) != sorted(signature.outputs):
            problems.append(f"{name}: expected inputs {signature.inputs} -> outputs "
                            f"{signature.outputs}")
    for name in names:
        if problems:
            break
        inputs = max((i for n, i in requests if n == name), key=lambda i: len(i[contract.TEXT]))
        try:
            cpp = served.run(name, inputs)
            tf2 = {k: v.numpy() for k, v in loaded.signatures[name](
                **{k: tf.constant(v) for k, v in inputs.items()}).items()}
        except Exception as error:  # noqa: BLE001
            problems.append(f"{name}: {_first_line(error)}")
            break
        problem = _compare(cpp, tf2, name)
        if problem:
            problems.append(problem)
    return problems


def _check_loaders(report, version_dir):
    import tensorflow as tf

    from keras_s2s.saved_model import contract
    from keras_s2s.saved_model.server_loader import CppSavedModel
    from keras_s2s.saved_model.warmup import read_warmup_requests

    try:
        served = CppSavedModel(version_dir)
    except Exception as error:  # noqa: BLE001  (any loading failure is the finding)
        return report.add("C++ loader (TF Serving)", False, _first_line(error))
    shown = sorted(name for name in served.signature_defs if not name.startswith("__"))
    report.add("C++ loader (TF Serving)", True, f"signatures {shown}")
    try:
        loaded = tf.saved_model.load(str(version_dir))
    except Exception as error:  # noqa: BLE001
        return report.add("TF2 loader", False, _first_line(error))
    requests = read_warmup_requests(version_dir)
    names = [n for n in contract.SIGNATURES if n in contract.ExportInfo.read(
        version_dir).signatures]
    problems = _signature_problems(served, loaded, names, requests)
    listing = "\n".join(f"{n} ({', '.join(s.inputs)}) -> ({', '.join(s.outputs)}): {s.description}"
                        for n, s in contract.SIGNATURES.items() if n in names)
    report.add("signatures, C++ == TF2 loader", not problems,
               "; ".join(problems) if problems else f"{len(names)} agree\n{listing}")
    return not problems and _replay_and_time(report, served, requests)


def _replay_and_time(report, served, requests) -> bool:
    from keras_s2s.saved_model import contract

    failures = []
    for name, inputs in requests:
        try:
            served.run(name, inputs)
        except Exception as error:  # noqa: BLE001
            failures.append(f"{name}: {_first_line(error)}")
    report.add("warm-up replay (C++ loader)", not failures,
               "; ".join(failures) or f"{len(requests)} requests ran")
    inputs = max((i for n, i in requests if n == "serving_default"),
                 key=lambda i: len(i[contract.TEXT]))
    timings = []
    for _ in range(3):
        started = time.perf_counter()
        served.run("serving_default", inputs)
        timings.append(time.perf_counter() - started)
    report.add("timing", True, f"serving_default, batch of {len(inputs[contract.TEXT])}: "
               f"{1000 * statistics.median(timings):.0f} ms (median of 3)")
    return not failures


def check_export(path) -> ExportReport:
    """Checks an export (a version directory, or a base path's highest version).

    Returns an `ExportReport`: `report.ok`, `report.summary()` (one line),
    `print(report)` for every check. Loading runs the export's graph: check
    only exports you trust.
    """
    from keras_s2s.saved_model.client import find_version_directory

    version_dir = find_version_directory(path)
    report = ExportReport(version_dir)
    if _check_files(report, version_dir) and _check_ops(report, version_dir):
        _check_loaders(report, version_dir)
    return report
