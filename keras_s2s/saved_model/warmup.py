"""TF Serving's SavedModel warm-up file: requests the server runs once at load.

A version's first request otherwise pays for the graph's first run (kernel
selection, memory pools, for beam search the first trip through the loop).
TF Serving replays `assets.extra/tf_serving_warmup_requests`, a TFRecord of
`PredictionLog` protos, before it marks the version available ("SavedModel
Warmup" in TF Serving's guide). We write two `PredictRequest`s per signature,
a batch of one and a batch of eight sentences, made of the model's own most
frequent source words, so the file suits any language pair.
"""

from __future__ import annotations

import pathlib

import numpy as np
import tensorflow as tf

from keras_s2s.saved_model import contract

WARMUP_BATCH_SIZES = (1, 8)


def warmup_texts(vocabulary, count: int = max(WARMUP_BATCH_SIZES)) -> list[str]:
    """`count` sentences of 3 to 10 of a vocabulary's most frequent words."""
    from keras_s2s.text import RESERVED_TOKENS

    words = [t for t in vocabulary if t not in RESERVED_TOKENS and not t.startswith("##")]
    words = words[:64] or ["warm-up"]
    return [" ".join(words[(3 * k) % len(words):][: 3 + k]) or words[0] for k in range(count)]


def warmup_inputs(model) -> dict:
    """A value for every input the contract knows: source sentences, target
    prefixes (one empty) and sentences, a seed."""
    targets = warmup_texts(model.target_vocabulary)
    return {contract.TEXT: warmup_texts(model.source_vocabulary),
            contract.PREFIX: ["", *[" ".join(t.split()[:2]) for t in targets[1:]]],
            contract.TARGET: targets, contract.SEED: 0}


def warmup_path(version_dir) -> pathlib.Path:
    return pathlib.Path(version_dir) / contract.ASSETS_EXTRA / contract.WARMUP_FILE


def write_warmup_requests(version_dir, inputs: dict, *, model_name: str) -> pathlib.Path:
    """Writes one request per (signature, batch size) of `inputs`' first values
    (see `warmup_inputs`). Every signature of the contract gets requests."""
    from tensorflow_serving.apis import model_pb2, predict_pb2, prediction_log_pb2

    path = warmup_path(version_dir)
    path.parent.mkdir(exist_ok=True)
    with tf.io.TFRecordWriter(str(path)) as records:
        for signature_name, signature in contract.SIGNATURES.items():
            for size in WARMUP_BATCH_SIZES:
                request = predict_pb2.PredictRequest(
                    model_spec=model_pb2.ModelSpec(name=model_name,
                                                   signature_name=signature_name))
                for key in signature.inputs:
                    dtype, shape = contract.INPUTS[key]
                    value = inputs[key][:size] if shape else inputs[key]
                    request.inputs[key].CopyFrom(tf.make_tensor_proto(value,
                                                                      dtype=getattr(tf, dtype)))
                log = prediction_log_pb2.PredictionLog(
                    predict_log=prediction_log_pb2.PredictLog(request=request))
                records.write(log.SerializeToString())
    return path


def read_warmup_requests(version_dir) -> list[tuple[str, dict[str, np.ndarray]]]:
    """`(signature_name, {input_key: array})` for every request in the file.

    Raises:
        ValueError: the file is missing or not a TFRecord of `PredictionLog`s.
    """
    from tensorflow_serving.apis import prediction_log_pb2

    path = warmup_path(version_dir)
    if not path.is_file():
        raise ValueError(f"{path} is missing: no warm-up requests for TF Serving.")
    requests = []
    try:
        for record in tf.data.TFRecordDataset(str(path)).as_numpy_iterator():
            log = prediction_log_pb2.PredictionLog.FromString(record)
            request = log.predict_log.request
            inputs = {key: tf.make_ndarray(proto) for key, proto in request.inputs.items()}
            requests.append((request.model_spec.signature_name, inputs))
    except (tf.errors.OpError, ValueError) as error:
        raise ValueError(f"{path} is not a TFRecord of PredictionLogs: {error}") from None
    return requests
