"""Serving speed: the exported SavedModel's signature against `keras_s2s.translate`.

Usage:
    .venv/bin/python benchmarks/serving.py [--saved-model saved_models/spa_eng]
        [--model runs/spa_eng.keras]

Prints sentences/second at batch 1 and batch 64 for (1) `serving_default`
(beam 4) and `translate_greedy` called on the loaded SavedModel, as TF Serving
would run them, and (2) `keras_s2s.translate` on the Python model with the same
settings, when a `.keras` model is given.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import tensorflow as tf  # noqa: E402
import tensorflow_text  # noqa: E402,F401

import keras_s2s  # noqa: E402
from keras_s2s.data import load_corpus  # noqa: E402
from keras_s2s.saved_model.client import find_version_directory  # noqa: E402


def rate(function, batches) -> float:
    function(batches[0])  # warm up (tracing)
    start = time.perf_counter()
    for batch in batches:
        function(batch)
    return sum(len(b) for b in batches) / (time.perf_counter() - start)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--saved-model", default="saved_models/spa_eng")
    parser.add_argument("--model", default="runs/spa_eng.keras")
    parser.add_argument("--sentences", type=int, default=256)
    args = parser.parse_args()
    sentences = sorted(load_corpus(max_words=20).test.sources[: args.sentences], key=len)
    version = find_version_directory(args.saved_model)
    loaded = tf.saved_model.load(str(version))
    print(f"SavedModel {version}; {len(sentences)} test sentences\n")
    print(f"{'configuration':52s} {'batch 1':>10s} {'batch 64':>10s}")
    for method, signature in (("beam", "serving_default"), ("greedy", "translate_greedy")):
        serve = loaded.signatures[signature]
        rates = []
        for batch_size, count in ((1, 32), (64, len(sentences))):
            batches = [tf.constant(sentences[i : i + batch_size])
                       for i in range(0, count, batch_size)]
            rates.append(rate(lambda b, serve=serve: serve(text=b), batches))
        print(f"{'SavedModel ' + signature + ' (' + method + ')':52s} "
              f"{rates[0]:10.1f} {rates[1]:10.1f}")
        if os.path.exists(args.model):
            model = keras_s2s.load(args.model)
            rates = []
            for batch_size, count in ((1, 32), (64, len(sentences))):
                batches = [sentences[i : i + batch_size] for i in range(0, count, batch_size)]
                rates.append(rate(lambda b, m=method, k=model: keras_s2s.translate(b, k, method=m),
                                  batches))
            print(f"{'keras_s2s.translate on ' + args.model + ' (' + method + ')':52s} "
                  f"{rates[0]:10.1f} {rates[1]:10.1f}")
    print("\n(sentences per second; higher is better)")


if __name__ == "__main__":
    main()
