"""Sentence pairs -> batched `tf.data` for teacher forcing.

Each element is `((encoder_token_ids, decoder_token_ids), target_ids)`:

    target sentence      "Where is it ?"
    decoder_token_ids    [START] Where is it ?          (what the decoder sees)
    target_ids                   Where is it ?  [END]   (what it must predict)

so at every position the decoder is given the true previous word (teacher
forcing) and asked for the next one. Batches group sentences of similar length
(sorted by length every epoch, see `keras_s2s.data.batching`; or fixed
length buckets),
so little compute goes to padding, and padding (id 0) is masked out of the
loss and the accuracy by `keras_s2s.training`.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from keras_s2s.data.batching import length_sorted_batches
from keras_s2s.text import END_ID, PAD_ID, START_ID, SentenceEncoder
from keras_s2s.training_settings import BATCHINGS

# Upper bounds (in tokens) of 4-token-wide length buckets, for
# `make_dataset(..., bucket_boundaries=BUCKETS_4_TOKENS_WIDE)`; longer pairs
# share the last bucket.
BUCKETS_4_TOKENS_WIDE = (8, 12, 16, 20, 24, 28, 32, 40, 48, 64)




def teacher_forcing_arrays(
    sources, targets, *, source_encoder: SentenceEncoder, target_encoder: SentenceEncoder
):
    """Tokenises whole lists of sentences at once (vectorised, in TF ops).

    Returns:
        Three ragged int32 tensors `[num_pairs, (time)]`: encoder inputs,
        decoder inputs (target shifted right, starting with START) and targets
        (ending with END).
    """
    source_ids = source_encoder.encode(tf.constant(list(sources), dtype=tf.string))
    # Leave room for the start/end marker so neither side exceeds max_length.
    target_ids = target_encoder.encode(tf.constant(list(targets), dtype=tf.string))
    target_ids = target_ids[:, : target_encoder.max_length - 1]
    batch = target_ids.nrows()
    start = tf.fill([batch, 1], START_ID)
    end = tf.fill([batch, 1], END_ID)
    decoder_inputs = tf.concat([start, target_ids], axis=1)
    decoder_targets = tf.concat([target_ids, end], axis=1)
    return source_ids, decoder_inputs, decoder_targets


def make_dataset(
    pairs,
    *,
    source_encoder: SentenceEncoder,
    target_encoder: SentenceEncoder,
    batch_size: int = 64,
    shuffle: bool = True,
    seed: int | None = 0,
    batching: str = "buckets",
    bucket_boundaries=BUCKETS_4_TOKENS_WIDE,
    batch_tokens: int | None = None,
) -> tf.data.Dataset:
    """Builds the training (or validation) dataset.

    Args:
        pairs: anything with `sources` and `targets` string sequences
            (e.g. `keras_s2s.data.SentencePairs`).
        source_encoder, target_encoder: the model's `SentenceEncoder`s.
        batch_size: sentences per batch.
        shuffle: reshuffle every epoch (off for evaluation).
        seed: shuffling seed, for reproducible runs.
        batching: how pairs of similar length are grouped: `"buckets"`
            (fixed length buckets, `bucket_boundaries`; each bucket ends with
            a partial batch) or `"sorted"` (all pairs sorted by length anew
            every epoch, cut into full batches of nearly equal lengths, in
            random order; see `keras_s2s.data.batching`).
        bucket_boundaries: the buckets' token-length upper bounds; `None`
            makes random batches padded to their own longest pair.
        batch_tokens: with `batching="sorted"`, batches of as many pairs as
            fit in this many target positions (padding included) instead of
            `batch_size` pairs: short pairs make big batches.

    Returns:
        A dataset of `((encoder_token_ids, decoder_token_ids), target_ids)`,
        int32 `[batch, time]`, zero-padded.

    Example:
        >>> dataset = make_dataset(splits.train, source_encoder=model.source_encoder,
        ...                        target_encoder=model.target_encoder)
    """
    if len(pairs.sources) == 0:
        raise ValueError("Cannot build a dataset from 0 sentence pairs.")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}.")
    sources, decoder_inputs, targets = teacher_forcing_arrays(
        pairs.sources, pairs.targets, source_encoder=source_encoder, target_encoder=target_encoder
    )
    # tf.data slices ragged tensors into ragged elements, which padded_batch
    # refuses; slice dense rows plus their lengths and cut each row instead.
    columns = [(r.to_tensor(default_value=PAD_ID), r.row_lengths()) for r in
               (sources, decoder_inputs, targets)]
    dataset = tf.data.Dataset.from_tensor_slices(tuple(columns)).map(
        _unpad, num_parallel_calls=tf.data.AUTOTUNE
    )
    # Cheap to keep the token ids in memory; cache so epochs after the first
    # skip the slicing work.
    dataset = dataset.cache()
    padded_shapes = (([None], [None]), [None])
    padding_values = ((PAD_ID, PAD_ID), PAD_ID)
    if batching not in BATCHINGS:
        raise ValueError(f"batching must be one of {', '.join(map(repr, BATCHINGS))}; "
                         f"got {batching!r}.")
    if batch_tokens is not None and batching != "sorted":
        raise ValueError(f"batch_tokens needs batching='sorted' (got batching={batching!r}).")
    if batching == "sorted":
        dataset, num_batches = length_sorted_batches(
            dataset, target_lengths=targets.row_lengths().numpy(), batch_size=batch_size,
            batch_tokens=batch_tokens, shuffle=shuffle, seed=seed)
    else:
        if shuffle:
            dataset = dataset.shuffle(len(pairs.sources), seed=seed,
                                      reshuffle_each_iteration=True)
        if bucket_boundaries:
            lengths = tf.maximum(sources.row_lengths(), targets.row_lengths()).numpy()
            num_batches = count_bucketed_batches(lengths, bucket_boundaries, batch_size)
            dataset = dataset.bucket_by_sequence_length(
                element_length_func=_pair_length,
                bucket_boundaries=list(bucket_boundaries),
                bucket_batch_sizes=[batch_size] * (len(bucket_boundaries) + 1),
                padded_shapes=padded_shapes,
                padding_values=padding_values,
            )
        else:
            num_batches = -(-len(pairs.sources) // batch_size)
            dataset = dataset.padded_batch(
                batch_size, padded_shapes=padded_shapes, padding_values=padding_values
            )
    # Bucketing hides the epoch length from Keras (no progress-bar total, and a
    # "ran out of data" warning); we know it, so state it.
    dataset = dataset.apply(tf.data.experimental.assert_cardinality(num_batches))
    # Under a multi-worker strategy every worker builds this same pipeline from
    # memory (there are no files to split), so shard by element: each worker
    # takes its share of every global batch. AUTO would try files, fail, and warn.
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return dataset.prefetch(tf.data.AUTOTUNE).with_options(options)


def count_bucketed_batches(lengths, bucket_boundaries, batch_size: int) -> int:
    """Batches `bucket_by_sequence_length` makes: each bucket's last batch may be
    partial (bucket i holds lengths in [boundaries[i-1], boundaries[i]))."""
    buckets = np.searchsorted(np.asarray(bucket_boundaries), lengths, side="right")
    counts = np.bincount(buckets, minlength=len(bucket_boundaries) + 1)
    return int(sum(-(-count // batch_size) for count in counts))


def _unpad(source, decoder_input, target):
    def cut(column):
        ids, length = column
        return ids[:length]

    return (cut(source), cut(decoder_input)), cut(target)


def _pair_length(inputs, target):
    source, _ = inputs
    return tf.maximum(tf.shape(source)[0], tf.shape(target)[0])
