"""Loads and runs a SavedModel the way `tensorflow_model_server` does.

TF Serving does not use `tf.saved_model.load` (TensorFlow 2's Python loader,
which restores variables through the object graph). It calls TensorFlow's C++
`LoadSavedModel`: import the `serve` MetaGraph into a Session, run the saver's
restore op, then run a signature by the tensor names in its `signature_def`.
The pip wheel ships that loader as the C API's `TF_LoadSessionFromSavedModel`
(in `libtensorflow_cc.so.2`), so this module calls it through `ctypes`, and
feeds string tensors as a Predict request brings them.

This file imports only the standard library, NumPy, `tensorflow` and
`tensorflow_text` (which registers the text ops, as TF Serving links them in),
never keras_s2s, so it can run in a process that looks like a server:

    python keras_s2s/saved_model/server_loader.py VERSION_DIR SIGNATURE < texts.json

A second path, `loader="tf1"`, is TF1's Python session loader
(`tf.compat.v1.saved_model.loader.load`), which mirrors the C++ one; use it
where the C API library cannot be found.
"""

from __future__ import annotations

import ctypes
import json
import pathlib
import sys

import numpy as np
import tensorflow as tf
import tensorflow_text  # noqa: F401  (registers the text ops, as TF Serving links them)
from tensorflow.core.protobuf import meta_graph_pb2

# TF_DataType values (tensorflow/c/tf_datatype.h) for the dtypes signatures use.
_DTYPES = {1: np.float32, 2: np.float64, 3: np.int32, 9: np.int64, 10: np.bool_,
           19: np.float16}
_TF_STRING = 7
_TSTRING_BYTES = 24  # sizeof(TF_TString): a 24-byte union (tsl/platform/ctstring_internal.h)


class ServerLoaderUnavailable(RuntimeError):
    """This platform's TensorFlow has no C API library to call."""


class _Output(ctypes.Structure):
    _fields_ = [("oper", ctypes.c_void_p), ("index", ctypes.c_int)]


class _Buffer(ctypes.Structure):
    _fields_ = [("data", ctypes.c_void_p), ("length", ctypes.c_size_t),
                ("deallocator", ctypes.c_void_p)]


def _c_api():
    """The C API functions, typed. Both libraries are already loaded by
    `import tensorflow`; opening them again shares the same op registry."""
    folder = pathlib.Path(tf.__file__).parent
    try:
        cc = ctypes.CDLL(str(folder / "libtensorflow_cc.so.2"), mode=ctypes.RTLD_GLOBAL)
        framework = ctypes.CDLL(str(folder / "libtensorflow_framework.so.2"),
                                mode=ctypes.RTLD_GLOBAL)
    except OSError as error:
        raise ServerLoaderUnavailable(
            f"TensorFlow's C API library is not loadable: {error}") from None

    def find(name, restype, *argtypes):
        for library in (cc, framework):
            try:
                function = getattr(library, name)
            except AttributeError:
                continue
            function.restype, function.argtypes = restype, list(argtypes)
            return function
        raise ServerLoaderUnavailable(f"TensorFlow's C API has no {name}.")

    p, i, s = ctypes.c_void_p, ctypes.c_int, ctypes.c_size_t
    names = dict(
        TF_NewStatus=(p,), TF_GetCode=(i, p), TF_Message=(ctypes.c_char_p, p),
        TF_NewSessionOptions=(p,), TF_NewGraph=(p,), TF_NewBuffer=(ctypes.POINTER(_Buffer),),
        TF_LoadSessionFromSavedModel=(p, p, p, ctypes.c_char_p,
                                      ctypes.POINTER(ctypes.c_char_p), i, p,
                                      ctypes.POINTER(_Buffer), p),
        TF_GraphOperationByName=(p, p, ctypes.c_char_p),
        TF_SessionRun=(None, p, p, ctypes.POINTER(_Output), ctypes.POINTER(p), i,
                       ctypes.POINTER(_Output), ctypes.POINTER(p), i, p, i, p, p),
        TF_AllocateTensor=(p, i, ctypes.POINTER(ctypes.c_int64), i, s),
        TF_TensorData=(p, p), TF_TensorByteSize=(s, p), TF_TensorType=(i, p),
        TF_NumDims=(i, p), TF_Dim=(ctypes.c_int64, p, i), TF_DeleteTensor=(None, p),
        TF_StringInit=(None, p), TF_StringCopy=(None, p, ctypes.c_char_p, s),
        TF_StringGetDataPointer=(p, p), TF_StringGetSize=(s, p), TF_StringDealloc=(None, p),
        TF_CloseSession=(None, p, p), TF_DeleteSession=(None, p, p),
    )
    return {name: find(name, *types) for name, types in names.items()}


class _Status:
    def __init__(self, api):
        self.api, self.handle = api, api["TF_NewStatus"]()

    def check(self, doing: str):
        if self.api["TF_GetCode"](self.handle) != 0:
            message = self.api["TF_Message"](self.handle).decode("utf-8", "replace")
            raise RuntimeError(f"{doing}: {message}")


class CppSavedModel:
    """A SavedModel loaded by TensorFlow's C++ `LoadSavedModel`, as TF Serving loads it.

    Args:
        export_dir: a version directory (`.../1`).
        tags: the MetaGraph to load (`serve`, TF Serving's default).

    Call `run(signature_name, {input_key: array})` to get `{output_key: array}`.
    """

    def __init__(self, export_dir, tags=("serve",)):
        self.api = api = _c_api()
        self.export_dir = str(export_dir)
        status = _Status(api)
        self.graph = api["TF_NewGraph"]()
        meta_graph = api["TF_NewBuffer"]()
        tag_array = (ctypes.c_char_p * len(tags))(*[t.encode() for t in tags])
        self.session = api["TF_LoadSessionFromSavedModel"](
            api["TF_NewSessionOptions"](), None, self.export_dir.encode(), tag_array,
            len(tags), self.graph, meta_graph, status.handle)
        status.check(f"LoadSavedModel({self.export_dir})")
        proto = meta_graph_pb2.MetaGraphDef()
        proto.ParseFromString(ctypes.string_at(meta_graph.contents.data,
                                               meta_graph.contents.length))
        self.signature_defs = dict(proto.signature_def)

    def _output_of(self, tensor_name: str) -> _Output:
        op_name, _, index = tensor_name.partition(":")
        operation = self.api["TF_GraphOperationByName"](self.graph, op_name.encode())
        if not operation:
            raise RuntimeError(f"{self.export_dir}: no operation {op_name!r} in the graph.")
        return _Output(operation, int(index or 0))

    def _to_tensor(self, value: np.ndarray):
        api = self.api
        dims = (ctypes.c_int64 * value.ndim)(*value.shape)
        if value.dtype.kind in "OSU":  # strings: an array of TF_TStrings
            items = [v.encode("utf-8") if isinstance(v, str) else bytes(v)
                     for v in value.reshape(-1)]
            tensor = api["TF_AllocateTensor"](_TF_STRING, dims, value.ndim,
                                              _TSTRING_BYTES * len(items))
            data = api["TF_TensorData"](tensor)
            for k, item in enumerate(items):
                api["TF_StringInit"](data + k * _TSTRING_BYTES)
                api["TF_StringCopy"](data + k * _TSTRING_BYTES, item, len(item))
            return tensor
        codes = {np.dtype(v): k for k, v in _DTYPES.items()}
        value = np.asarray(value, order="C")  # (ascontiguousarray would make a scalar 1-d)
        tensor = api["TF_AllocateTensor"](codes[value.dtype], dims, value.ndim, value.nbytes)
        ctypes.memmove(api["TF_TensorData"](tensor), value.ctypes.data, value.nbytes)
        return tensor

    def _from_tensor(self, tensor) -> np.ndarray:
        api = self.api
        shape = [api["TF_Dim"](tensor, k) for k in range(api["TF_NumDims"](tensor))]
        data, dtype = api["TF_TensorData"](tensor), api["TF_TensorType"](tensor)
        if dtype == _TF_STRING:
            count = int(np.prod(shape, dtype=np.int64))
            items = [ctypes.string_at(api["TF_StringGetDataPointer"](data + k * _TSTRING_BYTES),
                                      api["TF_StringGetSize"](data + k * _TSTRING_BYTES))
                     for k in range(count)]
            return np.array(items, dtype=object).reshape(shape)
        if dtype not in _DTYPES:
            raise RuntimeError(f"output dtype code {dtype} is not handled here.")
        size = api["TF_TensorByteSize"](tensor)
        raw = ctypes.string_at(data, size)
        return np.frombuffer(raw, dtype=_DTYPES[dtype]).reshape(shape).copy()

    def run(self, signature_name: str, inputs: dict) -> dict:
        """Runs one signature by its tensor names, as a Predict request does."""
        if signature_name not in self.signature_defs:
            raise KeyError(f"{self.export_dir} has no signature {signature_name!r} "
                           f"(it has {sorted(self.signature_defs)}).")
        signature = self.signature_defs[signature_name]
        if set(inputs) != set(signature.inputs):
            raise KeyError(f"{signature_name} takes inputs {sorted(signature.inputs)}, "
                           f"got {sorted(inputs)}.")
        api, status = self.api, _Status(self.api)
        input_keys, output_keys = sorted(inputs), sorted(signature.outputs)
        feeds = (_Output * len(input_keys))(
            *[self._output_of(signature.inputs[k].name) for k in input_keys])
        values = (ctypes.c_void_p * len(input_keys))(
            *[self._to_tensor(np.asarray(inputs[k])) for k in input_keys])
        fetches = (_Output * len(output_keys))(
            *[self._output_of(signature.outputs[k].name) for k in output_keys])
        results = (ctypes.c_void_p * len(output_keys))()
        api["TF_SessionRun"](self.session, None, feeds, values, len(input_keys), fetches,
                             results, len(output_keys), None, 0, None, status.handle)
        for tensor in values:
            api["TF_DeleteTensor"](tensor)
        status.check(f"{self.export_dir}: running signature {signature_name!r}")
        outputs = {}
        for key, tensor in zip(output_keys, results):
            outputs[key] = self._from_tensor(tensor)
            api["TF_DeleteTensor"](tensor)
        return outputs

    def close(self):
        if self.session:
            status = _Status(self.api)
            self.api["TF_CloseSession"](self.session, status.handle)
            self.api["TF_DeleteSession"](self.session, status.handle)
            self.session = None


class TF1SessionSavedModel:
    """The same, through TF1's Python session loader (graph mode), which
    mirrors the C++ one: import the MetaGraph, run the saver's restore op."""

    def __init__(self, export_dir, tags=("serve",)):
        self.export_dir = str(export_dir)
        self.graph = tf.Graph()
        self.session = tf.compat.v1.Session(graph=self.graph)
        with self.graph.as_default():
            meta_graph = tf.compat.v1.saved_model.loader.load(
                self.session, list(tags), self.export_dir)
        self.signature_defs = dict(meta_graph.signature_def)

    def run(self, signature_name: str, inputs: dict) -> dict:
        signature = self.signature_defs[signature_name]
        feeds = {signature.inputs[k].name: np.asarray(v) for k, v in inputs.items()}
        fetches = {k: v.name for k, v in signature.outputs.items()}
        return self.session.run(fetches, feed_dict=feeds)

    def close(self):
        self.session.close()


def load_like_tf_serving(export_dir, *, loader: str = "c_api"):
    """`CppSavedModel` (`loader="c_api"`) or `TF1SessionSavedModel` (`"tf1"`)."""
    if loader == "c_api":
        return CppSavedModel(export_dir)
    if loader == "tf1":
        return TF1SessionSavedModel(export_dir)
    raise ValueError(f"loader must be 'c_api' or 'tf1', got {loader!r}.")


def _plain(value: np.ndarray):
    if value.dtype == object:
        return np.vectorize(lambda b: b.decode("utf-8"), otypes=[object])(value).tolist()
    return value.tolist()


def main(argv):
    """`server_loader.py VERSION_DIR [--loader c_api|tf1]` with a JSON request on
    stdin, `{"signature": name, "inputs": {key: list}}` or a list of them;
    prints one JSON line per request with the outputs (strings decoded)."""
    export_dir, loader = argv[0], "c_api"
    if "--loader" in argv:
        loader = argv[argv.index("--loader") + 1]
    requests = json.loads(sys.stdin.read())
    if isinstance(requests, dict):
        requests = [requests]
    model = load_like_tf_serving(export_dir, loader=loader)
    for request in requests:
        inputs = {k: np.array(v, dtype=object if _is_text(v) else None)
                  for k, v in request["inputs"].items()}
        outputs = model.run(request["signature"], inputs)
        print(json.dumps({k: _plain(v) for k, v in outputs.items()}), flush=True)
    assert "keras_s2s" not in sys.modules, "a served export must not need keras_s2s"


def _is_text(values) -> bool:
    flat = np.array(values, dtype=object).reshape(-1)
    return len(flat) == 0 or isinstance(flat[0], str)


if __name__ == "__main__":
    main(sys.argv[1:])
