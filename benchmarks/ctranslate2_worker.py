"""One process's timings for `benchmarks/ctranslate2_speed.py`: some engines, some settings.

TensorFlow fixes its thread pools when it first runs an op, so each thread
count needs a fresh process: this script sets them first, then times every
configuration in interleaved rounds (each keeps its fastest round, as
`benchmarks/decoding.py` does) and prints one line `RESULT {json}`.

Usage (run by benchmarks/ctranslate2_speed.py, not by hand):
    python benchmarks/ctranslate2_worker.py --threads 1 --transformer T.keras
        --float32-dir D32 --int8-dir D8 [--attention-model A.keras]
        [--engines ours,ct2-float32,ct2-int8] [--settings "greedy|64"]

`benchmarks/ctranslate2_speed.py` runs one process per setting (search and
batch size), and our XLA search (`ours-xla`) in a process of its own, each
with CTranslate2 float32 beside it as that process's anchor. A process that
has run other settings, or XLA, runs our graph search slower: greedy at batch
64 took 0.84-0.91 s in a process that also timed batch 1 and beam search,
0.70-0.71 s alone (CTranslate2: 0.73-0.75 s and 0.65-0.69 s), 12:00-12:15
UTC 2026-12-03. The likely cause is oneDNN's primitive cache: every new
matrix-product shape (each step's attention has a new key count, each batch
its own row count) builds a primitive, and rounds that cycle through more
shapes than the cache holds miss every time; with `TF_ENABLE_ONEDNN_OPTS=0`
(TensorFlow's own kernels, no such cache) the mixed process ran greedy at
batch 64 in 0.73 s. The README says so beside the table.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import sys
import time

HERE = pathlib.Path(__file__).resolve().parent
# benchmarks/ctranslate2_speed.py would shadow the ctranslate2 package: benchmarks/ goes last.
sys.path[:] = [p for p in sys.path if pathlib.Path(p or ".").resolve() != HERE] + [str(HERE)]
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import tensorflow as tf  # noqa: E402


def set_threads(count: int):
    # Before anything runs: afterwards TensorFlow refuses to change them.
    tf.config.threading.set_intra_op_parallelism_threads(count)
    tf.config.threading.set_inter_op_parallelism_threads(count)


def batches_of(sentences, batch_size):
    """Sentences sorted by length and cut into batches, as keras_s2s.translate does."""
    ordered = sorted(sentences, key=len)
    return [ordered[i : i + batch_size] for i in range(0, len(ordered), batch_size)]


def ours_runner(model, method, max_length, jit_compile=False):
    import numpy as np

    import keras_s2s

    # CTranslate2 runs with min_decoding_length=0 and no n-gram ban: so do we. It
    # writes <unk> where the model does (replace_unknowns is off by default), while
    # our default copies a source word there, with one more (teacher-forced) pass
    # over the rows that hold one: so that pass is off too (its cost is in the README).
    beam = dict(beam_width=4, length_penalty=0.0) if method == "beam" else {}
    translator = keras_s2s.Translator(model, method=method, max_length=max_length, min_length=0,
                                      no_repeat_ngram_size=0, replace_unknown=False,
                                      jit_compile=jit_compile, **beam)

    def run(batches):
        tokens = 0
        for batch in batches:
            outputs = translator(np.array(batch, dtype=object))
            tokens += int(outputs["length"].numpy().sum())
        return tokens

    return run


def ctranslate2_runner(model, directory, beam_size, max_length, threads):
    import ctranslate2

    from keras_s2s.ctranslate2_translation import detokenize_ids, search_ctranslate2

    translator = ctranslate2.Translator(directory, device="cpu", inter_threads=1,
                                        intra_threads=threads)

    def run(batches):
        tokens = 0
        for batch in batches:  # the same work as ours: tokenise, search, detokenise
            found = search_ctranslate2(translator, model, batch, beam_size=beam_size,
                                       max_length=max_length)
            detokenize_ids(model, found.ids)
            tokens += sum(len(ids) for ids in found.ids)
        return tokens

    return run


def search_runner(model, search):
    """Encoder ids -> generated ids, per batch; counts tokens up to [END]."""
    from keras_hub_search import cut_at_end

    def run(batches):
        return sum(sum(len(row) for row in cut_at_end(search(batch).numpy()))
                   for batch in batches)

    return run


ENGINES = ("ours", "ours-xla", "ct2-float32", "ct2-int8")


def transformer_configurations(args, sentences):
    import keras_s2s

    model = keras_s2s.load(args.transformer)
    runners = {
        "ours": lambda method, beam_size: ours_runner(model, method, args.max_length),
        # XLA (jit_compile=True): its warm-up round compiles every shape.
        "ours-xla": lambda method, beam_size: ours_runner(model, method, args.max_length,
                                                          jit_compile=True),
        "ct2-float32": lambda method, beam_size: ctranslate2_runner(
            model, args.float32_dir, beam_size, args.max_length, args.threads),
        "ct2-int8": lambda method, beam_size: ctranslate2_runner(
            model, args.int8_dir, beam_size, args.max_length, args.threads),
    }
    configurations = []
    for setting in args.settings.split(","):  # "search|batch"
        method, batch_size = setting.split("|")
        count = args.batch_1_sentences if batch_size == "1" else len(sentences)
        batches = batches_of(sentences[:count], int(batch_size))
        configurations += [
            (("transformer", setting, engine),
             runners[engine](method, 4 if method == "beam" else 1), batches, count)
            for engine in args.engines.split(",")]
    return configurations


def attention_configurations(args, sentences):
    import keras_hub
    from keras_hub_search import encoder_ids, keras_hub_search, our_search

    import keras_s2s

    model = keras_s2s.load(args.attention_model)
    batches = [encoder_ids(model, batch) for batch in batches_of(sentences, 64)]
    searches = {
        "greedy|64|ours": our_search(model, 1, args.max_length),
        "greedy|64|keras-hub": keras_hub_search(
            model, keras_hub.samplers.GreedySampler(), args.max_length),
        "beam|64|ours": our_search(model, 4, args.max_length),
        "beam|64|keras-hub": keras_hub_search(
            model, keras_hub.samplers.BeamSampler(num_beams=4), args.max_length),
    }
    return [(("attention", *name.rsplit("|", 1)), search_runner(model, search), batches,
             len(sentences)) for name, search in searches.items()]


def time_in_rounds(configurations, rounds):
    """{key: (sentences, tokens, fastest seconds)}; configurations take turns."""
    tokens = {}
    for key, run, batches, _ in configurations:
        tokens[key] = run(batches)  # warm-up: traces graphs, loads models
    fastest = {}
    for _ in range(rounds):
        for key, run, batches, _ in configurations:
            start = time.perf_counter()
            run(batches)
            seconds = time.perf_counter() - start
            fastest[key] = min(seconds, fastest.get(key, seconds))
    return {key: (count, tokens[key], fastest[key]) for key, _, _, count in configurations}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, required=True)
    parser.add_argument("--transformer", required=True)
    parser.add_argument("--float32-dir", required=True)
    parser.add_argument("--int8-dir", required=True)
    parser.add_argument("--attention-model", default=None)
    parser.add_argument("--engines", default="ours,ct2-float32,ct2-int8",
                        help=f"Transformer engines timed here, from {', '.join(ENGINES)}")
    parser.add_argument("--settings", default="greedy|1,greedy|64,beam|1,beam|64",
                        help="Transformer settings timed here, search|batch")
    parser.add_argument("--sentences", type=int, default=256)
    parser.add_argument("--batch-1-sentences", type=int, default=32)
    parser.add_argument("--max-length", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    set_threads(args.threads)

    from keras_s2s.data import load_corpus

    sentences = list(load_corpus("bible-spa-eng", max_words=20).test.sources[: args.sentences])
    configurations = transformer_configurations(args, sentences) if args.settings else []
    if args.attention_model:
        configurations += attention_configurations(args, sentences)
    results = time_in_rounds(configurations, args.rounds)
    print("RESULT " + json.dumps([[*key, *value] for key, value in results.items()]),
          flush=True)


if __name__ == "__main__":
    main()
