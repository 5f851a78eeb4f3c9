"""Training speed at the course lab's model size: where the tokens per second go.

Usage:
    .venv/bin/python benchmarks/training_speed.py [--pairs 2560] [--batch-size 64]

One model size (the lab's: word level, 8k vocabularies, 256-d embeddings, GRU
1024 encoder and decoder), one sample of training pairs (at most 20 words),
several ways to feed and compile it. Every configuration first trains one
warm-up epoch on the sample (tracing, compiling); then the configurations take
turns, one timed epoch each, `--repeats` times, so a slow spell of this shared
machine hits them all alike. Printed: real target tokens per second (end
tokens included, padding not) from each configuration's fastest epoch, its
ratio to the lab recipe's, the median epoch, and the share of computed target
positions that are real tokens.

Configurations:
  lab        every batch padded to the corpus' longest pair, unmasked loss,
             Adam 1e-3 (the course lab's recipe);
  buckets    batches from length buckets 4 tokens wide (tf.data's
             bucket_by_sequence_length), masked loss and accuracy (our
             default until 2026-11-26);
  buckets+xla   the same, compiled with XLA (`jit_compile=True`);
  fine-buckets  length buckets 2 tokens wide;
  sorted     keras_s2s.train's input: pairs sorted by length every epoch, cut
             into batches of 64 (keras_s2s.data.batching), masked loss and
             accuracy;
  tokens     the same, but each batch as many pairs as fit in the lab's
             target positions per batch (64 x the longest pair), so a step
             computes as many positions as the lab's step, all of them real.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import keras_s2s  # noqa: E402
from keras_s2s.data import SentencePairs, load_corpus  # noqa: E402
from keras_s2s.data.pipeline import (  # noqa: E402
    BUCKETS_4_TOKENS_WIDE,
    make_dataset,
    teacher_forcing_arrays,
)
from keras_s2s.text import PAD_ID  # noqa: E402
from keras_s2s.training import MaskedAccuracy, masked_loss  # noqa: E402

LAB_SIZE = dict(architecture="gru", tokenization="word", embedding_dim=256, hidden_dim=1024,
                source_vocabulary_size=8000, target_vocabulary_size=8000)
FINE_BUCKETS = (*range(4, 42, 2), 48, 56, 64)


def arrays(model, pairs):
    return teacher_forcing_arrays(pairs.sources, pairs.targets,
                                  source_encoder=model.source_encoder,
                                  target_encoder=model.target_encoder)


def lab_dataset(model, pairs, width, batch_size):
    """Every batch padded to `width`, the corpus' longest pair (as the lab does)."""
    dense = [column.to_tensor(default_value=PAD_ID, shape=[None, width])
             for column in arrays(model, pairs)]
    dataset = tf.data.Dataset.from_tensor_slices(((dense[0], dense[1]), dense[2]))
    return dataset.shuffle(len(pairs), seed=0).batch(batch_size).prefetch(tf.data.AUTOTUNE)


class EpochTimes(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.seconds = []

    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self.start)


def timed_epoch(model, dataset):
    """Seconds of one epoch of `model.fit`."""
    times = EpochTimes()
    model.fit(dataset, epochs=1, verbose=0, callbacks=[times])
    return times.seconds[-1]


def computed_target_positions(dataset):
    return sum(int(tf.size(target)) for _, target in dataset)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=2560,
                        help="training pairs sampled from the corpus (one epoch each)")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--configurations", default="lab,buckets,sorted,tokens")
    parser.add_argument("--repeats", type=int, default=3,
                        help="timed epochs per configuration, taken in turns")
    args = parser.parse_args()

    train = load_corpus("bible-spa-eng", max_words=20).train
    keras.utils.set_random_seed(0)
    vocabulary_model = keras_s2s.build_model(train, **LAB_SIZE)
    sources, _, targets = arrays(vocabulary_model, train)
    corpus_width = int(max(sources.bounding_shape()[1], targets.bounding_shape()[1]))
    pick = np.random.default_rng(0).choice(len(train), size=min(args.pairs, len(train)),
                                           replace=False)
    sample = SentencePairs(sources=[train.sources[i] for i in pick],
                           targets=[train.targets[i] for i in pick])
    real_tokens = int(arrays(vocabulary_model, sample)[2].row_lengths().numpy().sum())
    print(f"{len(sample):,} pairs, {real_tokens:,} real target tokens per epoch; "
          f"the corpus' longest pair: {corpus_width} tokens.")

    setups = {}
    for name in args.configurations.split(","):
        keras.utils.set_random_seed(0)
        model = keras_s2s.build_model(train, **LAB_SIZE)
        encoders = dict(source_encoder=model.source_encoder, target_encoder=model.target_encoder,
                        batch_size=args.batch_size, seed=0)
        if name == "lab":
            dataset = lab_dataset(model, sample, corpus_width, args.batch_size)
            model.compile(optimizer=keras.optimizers.Adam(1e-3),
                          loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        elif name in ("buckets", "buckets+xla", "fine-buckets", "sorted", "tokens"):
            batching = "sorted" if name in ("sorted", "tokens") else "buckets"
            boundaries = FINE_BUCKETS if name == "fine-buckets" else BUCKETS_4_TOKENS_WIDE
            batch_tokens = args.batch_size * corpus_width if name == "tokens" else None
            dataset = make_dataset(sample, **encoders, batching=batching,
                                   bucket_boundaries=boundaries, batch_tokens=batch_tokens)
            model.compile(optimizer=keras.optimizers.Adam(2e-3, clipnorm=1.0),
                          loss=masked_loss(), metrics=[MaskedAccuracy()],
                          jit_compile=name.endswith("+xla"))
        else:
            raise SystemExit(f"unknown configuration {name!r}; choose from "
                             "lab, buckets, buckets+xla, fine-buckets, sorted, tokens")
        print(f"{name}: warm-up epoch...", flush=True)
        timed_epoch(model, dataset)
        setups[name] = (model, dataset, real_tokens / computed_target_positions(dataset))

    seconds = {name: [] for name in setups}
    for repeat in range(args.repeats):
        for name, (model, dataset, _) in setups.items():
            seconds[name].append(timed_epoch(model, dataset))
        print(f"timed round {repeat + 1} of {args.repeats}: "
              + ", ".join(f"{name} {seconds[name][-1]:.1f} s" for name in setups), flush=True)

    rates = {name: real_tokens / min(times) for name, times in seconds.items()}
    lab_rate = rates.get("lab")
    header = (f"{'configuration':16s} {'real tok/s':>10s} {'x lab':>6s} "
              f"{'real share':>10s} {'best epoch s':>12s} {'median s':>9s}")
    print("\n" + header + "\n" + "-" * len(header))
    for name, (_, _, share) in setups.items():
        ratio = f"{rates[name] / lab_rate:6.2f}" if lab_rate else "     -"
        print(f"{name:16s} {rates[name]:10,.0f} {ratio} {100 * share:9.0f}% "
              f"{min(seconds[name]):12.1f} {float(np.median(seconds[name])):9.1f}")


if __name__ == "__main__":
    main()
