"""Our decoding against CTranslate2 (Transformer) and KerasHub's samplers (attention GRU).

Usage:
    .venv/bin/pip install -e ".[bench]"
    .venv/bin/python benchmarks/ctranslate2_speed.py [--model T.keras | --train-minutes 3]
        [--attention-model A.keras] [--threads 1,2] [--sentences 256] [--rounds 5]
        [--work-dir runs/ctranslate2]

Without `--model`, trains `benchmarks/quality.py`'s Transformer (9.4M
parameters: hidden 256, 3 + 3 layers, 4 heads) for `--train-minutes` on the
bundled corpus (pairs of at most 20 words), and likewise its attention GRU
without `--attention-model`. Then:

1. converts the Transformer with `keras_s2s.ctranslate2_export` (float32 and
   int8) and counts test-split sentences whose greedy ids (and beam-4 ids, length
   penalty 0) are identical to `keras_s2s.translate`'s, per-sentence limits
   included; and how many stay identical with CTranslate2's default LayerNorm
   epsilon (1e-6) instead of ours (1e-3);
2. checks KerasHub's `GreedySampler` / `BeamSampler`, driven by the attention
   GRU's `decode_step`, against our greedy / beam search: identical ids, and
   whether KerasHub's translations have equal or lower log-probability;
3. times greedy and beam 4 (length penalty 0) at batch 1 and 64 for ours (the
   graph) and CTranslate2 float32 and int8, one fresh process per setting and
   thread count (`benchmarks/ctranslate2_worker.py`, whose docstring says why);
   ours compiled with XLA (`jit_compile=True`) in a process of its own beside
   CTranslate2 float32 again; and our search against KerasHub's at batch 64;
   in interleaved rounds (fastest kept), with one fixed `--max-length`;
4. prints both tables and the machine's load (the machine may be shared: a
   busy neighbour moves every number, which is why the rows take turns).
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import subprocess
import sys
import tempfile

HERE = pathlib.Path(__file__).resolve().parent
# Python puts a script's own directory first on sys.path, where this file's
# name would shadow the ctranslate2 package: look in benchmarks/ last.
sys.path[:] = [p for p in sys.path if pathlib.Path(p or ".").resolve() != HERE] + [str(HERE)]
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from keras_hub_search import (  # noqa: E402
    cut_at_end,
    encoder_ids,
    keras_hub_search,
    our_search,
    sequence_log_probs,
)
from quality import PLAIN_TRAINING, ROWS  # noqa: E402

import keras_s2s  # noqa: E402
from keras_s2s.data import load_corpus  # noqa: E402


def trained_model(row_name, splits, minutes, path):
    """quality.py's recipe `row_name`, trained for `minutes`, saved at `path`."""
    row = ROWS[row_name]
    keras.utils.set_random_seed(0)
    model = keras_s2s.build_model(splits.train, **row.build)
    print(f"Training {row.name} ({model.count_params():,} parameters) for {minutes:g} min",
          flush=True)
    keras_s2s.train(model, splits.train, splits.validation, epochs=1000, batch_size=64,
                    learning_rate=row.learning_rate, time_budget_seconds=60 * minutes,
                    early_stopping_patience=1000, verbose=2, **PLAIN_TRAINING)
    model.save(path)
    return str(path)


def our_ids(model, sentences, **options):
    """`keras_s2s.translate`'s search, chunked as it chunks: ids cut at [END]."""
    # Our defaults ban repeated n-grams and empty translations; CTranslate2's
    # conversion is compared without either (min_decoding_length=0, no ban).
    translator = keras_s2s.Translator(model, min_length=0, no_repeat_ngram_size=0, **options)
    search = tf.function(translator.search, input_signature=[tf.TensorSpec([None], tf.string)])
    ids = [None] * len(sentences)
    order = sorted(range(len(sentences)), key=lambda i: len(sentences[i]))
    for start in range(0, len(order), 64):
        chunk = order[start : start + 64]
        found = search(tf.constant([sentences[i] for i in chunk]))
        for row, index in enumerate(chunk):
            length = int(found["lengths"][row, 0])
            ids[index] = found["ids"][row, 0, :length].numpy().tolist()
    return ids


def ctranslate2_ids(model, directory, sentences, **options):
    import ctranslate2

    from keras_s2s.ctranslate2_translation import search_ctranslate2

    translator = ctranslate2.Translator(str(directory), device="cpu")
    return search_ctranslate2(translator, model, sentences, **options).ids


def same(first, second) -> int:
    return sum(a == b for a, b in zip(first, second))


def check_ctranslate2(model, directories, sentences):
    """Identical-ids counts against keras_s2s.translate (greedy and beam 4)."""
    greedy = our_ids(model, sentences, method="greedy")
    beam = our_ids(model, sentences, method="beam", beam_width=4, length_penalty=0.0)
    count = len(sentences)
    print(f"\nIdentical ids to keras_s2s.translate on {count} test sentences "
          "(per-sentence limits, length penalty 0):")
    for name, directory in directories.items():
        greedy_same = same(greedy, ctranslate2_ids(model, directory, sentences))
        beam_same = same(beam, ctranslate2_ids(model, directory, sentences, beam_size=4))
        print(f"  CTranslate2 {name:34s} greedy {greedy_same} of {count}, "
              f"beam 4 {beam_same} of {count}")


def export_with_epsilon(model, directory, epsilon):
    """A conversion whose only change is the LayerNorm epsilon in config.json."""
    from keras_s2s.ctranslate2_export import transformer_spec

    spec = transformer_spec(model)
    spec.config.layer_norm_epsilon = epsilon
    spec.validate()
    os.makedirs(directory, exist_ok=True)
    spec.save(str(directory))
    return directory


def check_keras_hub(model, sentences, max_length):
    """KerasHub's samplers vs our search on the attention GRU: ids and log-probs."""
    import keras_hub

    batches = [sentences[i : i + 64] for i in range(0, len(sentences), 64)]
    print(f"\nKerasHub's samplers on our attention GRU's decode_step, {len(sentences)} test "
          f"sentences, max length {max_length}, scored by one teacher-forced scorer:")
    for name, width, sampler in (("greedy", 1, keras_hub.samplers.GreedySampler()),
                                 ("beam 4", 4, keras_hub.samplers.BeamSampler(num_beams=4))):
        ours_search = our_search(model, width, max_length)
        theirs_search = keras_hub_search(model, sampler, max_length)
        gaps, identical = [], 0
        for batch in batches:
            inputs = encoder_ids(model, batch)
            ours = cut_at_end(ours_search(inputs).numpy())
            theirs = cut_at_end(theirs_search(inputs).numpy())
            identical += same(ours, theirs)
            gaps.extend(sequence_log_probs(model, inputs, theirs)
                        - sequence_log_probs(model, inputs, ours))
        gaps = np.array(gaps)
        print(f"  {name}: identical ids {identical} of {len(gaps)}; KerasHub's log-probability "
              f"equal (within 1e-4) {np.sum(np.abs(gaps) <= 1e-4)}, lower {np.sum(gaps < -1e-4)}"
              f" (mean {gaps[gaps < -1e-4].mean() if np.any(gaps < -1e-4) else 0:.2f} nats), "
              f"higher {np.sum(gaps > 1e-4)}")


def run_worker(threads, paths, args, engines, setting):
    """One worker process: the Transformer `engines` on `setting` ("search|batch"),
    or with `setting=""` the attention GRU against KerasHub."""
    command = [sys.executable, str(HERE / "ctranslate2_worker.py"), "--threads", str(threads),
               "--transformer", paths["transformer"], "--float32-dir", paths["float32"],
               "--int8-dir", paths["int8"], "--sentences", str(args.sentences),
               "--max-length", str(args.max_length), "--rounds", str(args.rounds),
               "--engines", ",".join(engines), "--settings", setting]
    if not setting:
        command += ["--attention-model", paths["attention"]]
    before = os.getloadavg()
    done = subprocess.run(command, capture_output=True, text=True)
    after = os.getloadavg()
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if done.returncode or not lines:
        raise RuntimeError(f"worker for {threads} threads failed:\n{done.stderr[-3000:]}")
    print(f"  {threads} thread(s), {setting or 'attention GRU'}: {', '.join(engines)}; load "
          f"average {before[0]:.2f} before, {after[0]:.2f} after", flush=True)
    return [(*row[:3], threads, *row[3:]) for row in json.loads(lines[-1][len("RESULT "):])]


TRANSFORMER_SETTINGS = ("greedy|1", "greedy|64", "beam|1", "beam|64")


def timed_rows(threads, paths, args):
    """Every timing of one thread count: one process per Transformer setting
    for ours and CTranslate2, one more per setting for our XLA search beside
    CTranslate2 float32 (renamed `ct2-float32@xla`: XLA's ratio is taken
    against its own process's CTranslate2), and one for the KerasHub table
    (why separate processes: the docstring of ctranslate2_worker.py)."""
    rows = []
    for setting in TRANSFORMER_SETTINGS:
        rows += run_worker(threads, paths, args, ["ours", "ct2-float32", "ct2-int8"], setting)
        for table, row_setting, engine, *rest in run_worker(
                threads, paths, args, ["ours-xla", "ct2-float32"], setting):
            rows.append((table, row_setting, engine if engine == "ours-xla" else
                         f"{engine}@xla", *rest))
    if paths.get("attention"):
        rows += run_worker(threads, paths, args, [], "")
    return rows


def print_table(rows, table, engines, title, anchors=None):
    """rows: (table, 'search|batch', engine, threads, sentences, tokens, seconds).

    Each engine of ours (named ours...) is divided by the first peer, or by
    `anchors[engine]` (a peer timed in that engine's own process)."""
    anchors = anchors or {}
    rate = {(s, t, e): (n / sec, tok / sec) for tb, s, e, t, n, tok, sec in rows if tb == table}
    settings = sorted({(s, t) for s, t, _ in rate},
                      key=lambda k: (k[0].split("|")[0], int(k[0].split("|")[1]), k[1]))
    columns = " | ".join(f"{engine} sent/s | {engine} tok/s" for engine in engines)
    ours = [e for e in engines if e.startswith("ours")]
    peer = next(e for e in engines if not e.startswith("ours"))
    ratios = " | ".join(f"{e} / {anchors.get(e, peer)}" for e in ours)
    header = f"| search | batch | threads | {columns} | {ratios} |"
    print(f"\n{title}\n{header}\n|" + "---|" * (header.count("|") - 1))
    nan = (float("nan"),) * 2
    for setting, threads in settings:
        search, batch = setting.split("|")
        cells = {e: rate.get((setting, threads, e), nan) for e in engines}
        ratio = " | ".join(
            f"{cells[e][0] / rate.get((setting, threads, anchors.get(e, peer)), nan)[0]:.2f}"
            for e in ours)
        print(f"| {search} | {batch} | {threads} | "
              + " | ".join(f"{s:,.1f} | {t:,.0f}" for s, t in cells.values()) + f" | {ratio} |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="a Transformer .keras file (default: train one)")
    parser.add_argument("--attention-model", help="a gru-attention .keras file (default: train)")
    parser.add_argument("--no-attention", action="store_true", help="skip the KerasHub table")
    parser.add_argument("--train-minutes", type=float, default=3.0)
    parser.add_argument("--work-dir", help="keep models and conversions here (default: temp)")
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--sentences", type=int, default=256, help="timed test sentences")
    parser.add_argument("--check-sentences", type=int, default=None,
                        help="test sentences for the identical-ids check (default: all)")
    parser.add_argument("--max-length", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    from keras_s2s.ctranslate2_export import export_ctranslate2

    splits = load_corpus("bible-spa-eng", max_words=20)
    work = pathlib.Path(args.work_dir or tempfile.mkdtemp(prefix="ctranslate2_bench_"))
    work.mkdir(parents=True, exist_ok=True)
    paths = {"transformer": args.model or trained_model(
        "transformer", splits, args.train_minutes, work / "transformer.keras")}
    if not args.no_attention:
        paths["attention"] = args.attention_model or trained_model(
            "gru-attention", splits, args.train_minutes, work / "attention.keras")
    model = keras_s2s.load(paths["transformer"])
    for name, quantization in (("float32", None), ("int8", "int8")):
        paths[name] = str(export_ctranslate2(model, work / f"ct2_{name}",
                                             quantization=quantization, overwrite=True))
    sentences = list(splits.test.sources[: args.check_sentences])
    check_ctranslate2(model, {
        "float32": paths["float32"], "int8": paths["int8"],
        "float32, LayerNorm epsilon 1e-6": export_with_epsilon(model, work / "ct2_eps", 1e-6),
    }, sentences)
    if "attention" in paths:
        check_keras_hub(keras_s2s.load(paths["attention"]), sentences[: args.sentences],
                        args.max_length)

    print(f"\nTiming {args.sentences} test sentences (batch 1: the first 32), max length "
          f"{args.max_length}, {args.rounds} interleaved rounds; {os.cpu_count()} CPUs")
    rows = [row for threads in args.threads.split(",")
            for row in timed_rows(int(threads), paths, args)]
    print_table(rows, "transformer", ["ours", "ours-xla", "ct2-float32", "ct2-int8"],
                f"Transformer ({model.count_params():,} parameters): ours vs CTranslate2 "
                "(ours-xla: against the CTranslate2 float32 of its own process, "
                "ct2-float32@xla)", anchors={"ours-xla": "ct2-float32@xla"})
    if "attention" in paths:
        print_table(rows, "attention", ["ours", "keras-hub"],
                    "Attention GRU: our search vs KerasHub's samplers, same decode_step")
    print(f"\nLoad average at the end: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
