"""Where translation time goes: TF's profiler, per op type, for `keras_s2s.Translator`.

Usage:
    .venv/bin/python benchmarks/op_profile.py --model runs/ctranslate2/transformer.keras
        [--method greedy|beam] [--batch-size 64] [--sentences 256] [--threads 1]
        [--replace-unknown]

Translates the bundled corpus' first test sentences (sorted by length, in
batches, as the CTranslate2 benchmark does: `min_length=0`, no n-gram ban,
no unknown-word copying unless `--replace-unknown`), once to trace and warm
up, once timed without the profiler and once under it. Then it prints the
kernel time of each op type, split into the encoder, the decoding loop
(`tf.while_loop` body) and the rest, with counts. The sum is below the
wall time: what is left is the executor's dispatch and Python.

This is the tool behind issue #18's profile (README, "Against CTranslate2"):
it found the TopK kernel's share of a beam step and that the matrix products
already run near this core's peak.
"""

from __future__ import annotations

import argparse
import collections
import glob
import os
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def region_of(op_name: str) -> str:
    """`encoder`, `loop` or `other`, from a node name the profiler reports."""
    node = op_name.split(":")[0]
    if node.startswith("while/"):
        return "loop"
    return "encoder" if "encoder" in node else "other"


def kernel_times(xplane_path: str) -> dict:
    """`{(region, op type): [count, milliseconds]}` of the compute-thread events."""
    from tensorflow.tsl.profiler.protobuf import xplane_pb2

    space = xplane_pb2.XSpace()
    with open(xplane_path, "rb") as file:
        space.ParseFromString(file.read())
    times = collections.defaultdict(lambda: [0, 0.0])
    for plane in space.planes:
        names = {key: value.name for key, value in plane.event_metadata.items()}
        for line in plane.lines:
            if "Compute" not in line.name:  # TF's executor threads only
                continue
            for event in line.events:
                name = names.get(event.metadata_id, "?")
                if name.startswith("ExecutorState"):  # the executor's loop, not a kernel
                    continue
                entry = times[region_of(name), name.split(":")[-1]]
                entry[0] += 1
                entry[1] += event.duration_ps / 1e9
    return times


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--method", choices=("greedy", "beam"), default="greedy")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--sentences", type=int, default=256)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--max-length", type=int, default=40)
    parser.add_argument("--replace-unknown", action="store_true")
    parser.add_argument("--top", type=int, default=12, help="op types shown per region")
    args = parser.parse_args()

    import numpy as np
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    import keras_s2s
    from keras_s2s.data import load_corpus

    model = keras_s2s.load(args.model)
    beam = dict(beam_width=4, length_penalty=0.0) if args.method == "beam" else {}
    translator = keras_s2s.Translator(
        model, method=args.method, max_length=args.max_length, min_length=0,
        no_repeat_ngram_size=0, replace_unknown=None if args.replace_unknown else False, **beam)
    sentences = sorted(load_corpus("bible-spa-eng", max_words=20).test.sources[: args.sentences],
                       key=len)
    batches = [np.array(sentences[i : i + args.batch_size], dtype=object)
               for i in range(0, len(sentences), args.batch_size)]

    def translate_all():
        start = time.perf_counter()
        for batch in batches:
            translator(batch)["length"].numpy()
        return time.perf_counter() - start

    translate_all()  # traces the graph
    plain = translate_all()
    with tempfile.TemporaryDirectory() as logdir:
        tf.profiler.experimental.start(logdir)
        profiled = translate_all()
        tf.profiler.experimental.stop()
        times = kernel_times(glob.glob(f"{logdir}/**/*.xplane.pb", recursive=True)[0])

    print(f"\n{args.method}, {len(sentences)} sentences, batch {args.batch_size}, "
          f"{args.threads} thread(s): {plain:.3f} s without the profiler, {profiled:.3f} s "
          "with it")
    for region in ("encoder", "loop", "other"):
        rows = sorted(((op, count, ms) for (where, op), (count, ms) in times.items()
                       if where == region), key=lambda row: -row[2])
        total = sum(ms for _, _, ms in rows)
        print(f"\n{region}: {total:,.1f} ms of kernel time")
        print(f"  {'op type':32s} {'count':>8s} {'ms':>9s} {'share':>6s}")
        for op, count, ms in rows[: args.top]:
            print(f"  {op:32s} {count:8,d} {ms:9.1f} {ms / max(total, 1e-9):6.1%}")
    kernels = sum(ms for _, ms in times.values())
    print(f"\nAll kernels: {kernels:,.1f} ms; wall time under the profiler {profiled * 1e3:,.1f} "
          "ms (the difference: dispatch, Python, waiting)")


if __name__ == "__main__":
    main()
