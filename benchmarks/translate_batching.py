"""Long-list `translate`: length-sorted token-budget chunks against fixed 64-sentence batches.

Usage:
    .venv/bin/python benchmarks/translate_batching.py [--model saved_models/spa_eng]
        [--sentences 2000] [--rounds 3] [--method greedy|beam]

`keras_s2s.translate` sorts a long list by length and cuts it into chunks of at
most `batch_tokens` source tokens (padding included); before, it translated
the list in input order, 64 sentences at a time, each batch padded to its
longest sentence. The old path is reproduced here by calling `translate` on
each run of 64 sentences in input order with a budget large enough to keep
them in one chunk. Both paths give the same translations (each sentence has
its own length limit), which the script checks. The two take turns
(`--rounds`, alternating which goes first), and each keeps its fastest round.
The padded source tokens each path translates are printed too: the work the
sorting saves.
"""

from __future__ import annotations

import argparse
import os
import re
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras_s2s  # noqa: E402
from keras_s2s.data import load_corpus  # noqa: E402
from keras_s2s.translation import BATCH_TOKENS, length_sorted_chunks  # noqa: E402

FIXED_BATCH = 64


def fixed_batches(texts, model, options):
    """The old path: input order, 64 sentences per call, one chunk per call."""
    out = []
    for start in range(0, len(texts), FIXED_BATCH):
        out += keras_s2s.translate(texts[start:start + FIXED_BATCH], model,
                                   batch_tokens=10**9, **options)
    return out


def padded_tokens(chunks, texts) -> int:
    """Source positions a path feeds the encoder (each chunk padded to its longest),
    counted as `length_sorted_chunks` counts them: words and punctuation, + 1."""
    count = [len(re.findall(r"\w+|[^\w\s]", text)) + 1 for text in texts]
    return sum(len(chunk) * max(count[i] for i in chunk) for chunk in chunks)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="saved_models/spa_eng")
    parser.add_argument("--sentences", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--method", choices=["greedy", "beam"], default="greedy")
    args = parser.parse_args()
    # Training verses of every length: a long list as a user would bring.
    texts = list(load_corpus("bible-spa-eng").train.sources[:args.sentences])
    model = keras_s2s.load(args.model) if args.model.endswith(".keras") else args.model
    options = dict(method=args.method)
    paths = {"token budget (sorted)": lambda: keras_s2s.translate(texts, model, **options),
             f"fixed {FIXED_BATCH} (input order)": lambda: fixed_batches(texts, model, options)}
    results = {name: run() for name, run in paths.items()}  # warm-up: every shape traced
    first, second = results.values()
    assert first == second, "the two paths translated differently"
    best = dict.fromkeys(paths, float("inf"))
    for round_ in range(args.rounds):
        order = list(paths) if round_ % 2 == 0 else list(reversed(paths))
        for name in order:
            started = time.perf_counter()
            paths[name]()
            best[name] = min(best[name], time.perf_counter() - started)
            print(f"round {round_ + 1}: {name}: {time.perf_counter() - started:.1f} s",
                  flush=True)
    sorted_chunks = length_sorted_chunks(texts, batch_tokens=BATCH_TOKENS)
    fixed_chunks = [list(range(s, min(s + FIXED_BATCH, len(texts))))
                    for s in range(0, len(texts), FIXED_BATCH)]
    tokens = {"token budget (sorted)": padded_tokens(sorted_chunks, texts),
              f"fixed {FIXED_BATCH} (input order)": padded_tokens(fixed_chunks, texts)}
    print(f"\n{len(texts)} sentences, {args.method}, model {args.model}, best of "
          f"{args.rounds} rounds (identical translations)")
    print("| path | best s | sentences/s | padded source tokens |\n| --- | ---: | ---: | ---: |")
    for name in paths:
        print(f"| {name} | {best[name]:.1f} | {len(texts) / best[name]:,.0f} | "
              f"{tokens[name]:,} |")
    fixed, budget = best[f"fixed {FIXED_BATCH} (input order)"], best["token budget (sorted)"]
    print(f"token budget / fixed {FIXED_BATCH}: {fixed / budget:.2f}x the sentences per second")


if __name__ == "__main__":
    main()
