"""Does a Transformer's decoding step cost follow the tokens generated, or the
size of its key/value buffer?

Usage:
    .venv/bin/python benchmarks/kv_cache.py --model runs/transformer.keras [--sentences 256]

Decodes the same test sentences (greedy and beam 4, batch 64, at most 40
tokens) with the model as trained and with the same weights in a model whose
buffer holds 256 slots (its position table padded: slots past the trained
ones are never reached), and, for each, with the cache as it was before
2026-12-02 (a fixed buffer: every step rewrote all of it and attended over
every slot under a mask; forced here by taking the XLA path without XLA). Interleaved rounds, the
fastest of each kept. Prints sentences/s and the 256/64 ratio.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import time
from unittest import mock

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import keras_s2s  # noqa: E402
from keras_s2s import decoding  # noqa: E402
from keras_s2s.data import load_corpus  # noqa: E402
from keras_s2s.decoding import beam, buffers, live_beams  # noqa: E402
from keras_s2s.models import key_value_cache, transformer  # noqa: E402
from keras_s2s.text import END_ID, PAD_ID, START_ID  # noqa: E402


def with_slots(model, slots):
    """The same weights in a model whose target buffer holds `slots` positions."""
    config = dict(model.get_config(), max_target_length=slots)
    bigger = type(model).from_config(config)
    for new, old in zip(bigger.weights, model.weights):
        value = old.numpy()
        if new.shape != old.shape:  # the position table: pad with zeros
            value = np.concatenate([value, np.zeros((new.shape[0] - value.shape[0],
                                                     value.shape[1]), value.dtype)])
        new.assign(value)
    return bigger


def searches(model, batches, old_cache):
    def run(ids, method):
        state = model.initial_state(ids)
        common = dict(start_id=START_ID, end_id=END_ID, max_length=40)
        if method == "beam":
            return decoding.beam_search(model.decode_step, state, beam_width=4,
                                        length_penalty=0.0, **common).ids
        return decoding.greedy_search(model.decode_step, state, **common).ids

    compiled = {}
    for method in ("greedy", "beam"):
        # The old cache is today's XLA path: a fixed buffer from the start.
        # Its loops must then keep the buffer's slot axis fixed (only the
        # number of rows changes), or the model would take the free axis for
        # a growing cache.
        with contextlib.ExitStack() as patches:
            for module in (key_value_cache, transformer):
                patches.enter_context(mock.patch.object(module, "inside_xla", lambda: old_cache))
            if old_cache:
                for module in (buffers, beam, live_beams):
                    patches.enter_context(mock.patch.object(module, "state_invariants",
                                                            rows_free_invariants))
            function = tf.function(lambda ids, method=method: run(ids, method))
            outputs = [function(batch).numpy() for batch in batches]  # trace here
        compiled[method] = (function, outputs)
    return compiled


def rows_free_invariants(state):
    """Shape invariants with only the first axis (rows, beams) free."""
    return tf.nest.map_structure(lambda t: buffers.with_free_batch_axis(t.shape), state)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--sentences", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    trained = keras_s2s.load(args.model)
    sources = sorted(load_corpus("bible-spa-eng", max_words=20).test.sources[: args.sentences],
                     key=len)
    models = {trained.target_encoder.max_length: trained, 256: with_slots(trained, 256)}
    rows = {}
    for slots, model in models.items():
        batches = [tf.pad(model.source_encoder.encode(tf.constant(sources[i : i + 64]))
                          .to_tensor(PAD_ID), [[0, 0], [0, 1]])
                   for i in range(0, len(sources), 64)]
        for old_cache in (False, True):
            for method, (function, outputs) in searches(model, batches, old_cache).items():
                rows[slots, old_cache, method] = (function, batches, outputs)
    small = min(models)
    for key, (_, _, outputs) in rows.items():  # the same token ids everywhere
        reference = rows[small, False, key[2]][2]
        same = all(np.array_equal(a, b) for a, b in zip(outputs, reference))
        print(f"{key}: {'identical ids' if same else 'DIFFERENT ids'}")
    fastest = {}
    for _ in range(args.rounds):
        for key, (function, batches, _) in rows.items():
            started = time.perf_counter()
            for batch in batches:
                function(batch).numpy()
            fastest[key] = min(fastest.get(key, 1e9), time.perf_counter() - started)
    print(f"\n{len(sources)} sentences, batch 64, at most 40 tokens; sentences/s "
          f"(fastest of {args.rounds} interleaved rounds)\n")
    print(f"{'cache':42s} {'search':7s} {small:>4d} slots {256:>4d} slots  256/{small} time")
    for old_cache in (False, True):
        name = ("before: fixed buffer, rewritten, all slots" if old_cache else
                "now: growing cache, attends over tokens")
        for method in ("greedy", "beam"):
            a, b = fastest[small, old_cache, method], fastest[256, old_cache, method]
            print(f"{name:42s} {method:7s} {len(sources) / a:10.1f} {len(sources) / b:10.1f}"
                  f"  {b / a:13.2f}")


if __name__ == "__main__":
    main()
