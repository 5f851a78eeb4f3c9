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


def warmup_texts(source_vocabulary, count: int = max(WARMUP_BATCH_SIZES)) -> list[str]:
    """`count` sentences of 3 to 10 of the most frequent source words."""
    from keras_s2s.text import RESERVED_TOKENS

    words = [t for t in source_vocabulary if t not in RESERVED_TOKENS and not t.startswith("##")]
    words = words[:64] or ["warm-up"]
    return [" ".join(words[(3 * k) % len(words):][: 3 + k]) or words[0] for k in range(count)]


def warmup_path(version_dir) -> pathlib.Path:
    return pathlib.Path(version_dir) / contract.ASSETS_EXTRA / contract.WARMUP_FILE


def write_warmup_requests(version_dir, texts: list[str], *, model_name: str) -> pathlib.Path:
    """Writes one request per (signature, batch size) of `texts`' first sentences."""
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
                    request.inputs[key].CopyFrom(tf.make_tensor_proto(texts[:size],
                                                                      dtype=tf.string))
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
