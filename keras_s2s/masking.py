"""The one "never pick this" score, and the masked softmax built on it.

`NEG_INF` scores what must never be chosen: attention positions that are
padding (or in the future), beam-search slots that hold no hypothesis, tokens
a decoding control forbids. It is finite on purpose: `0 * -inf` and
`-inf - -inf` are NaN, and a row with nothing allowed (an empty source) must
give uniform weights, not NaNs.
"""

from __future__ import annotations

import tensorflow as tf

NEG_INF = -1e9


def masked_softmax(scores: tf.Tensor, allowed: tf.Tensor) -> tf.Tensor:
    """Softmax over the last axis where `allowed` (bool, broadcastable) is True.

    Computed in float32 whatever the compute dtype (-1e9 is -inf in float16),
    returned in the dtype of `scores`.
    """
    dtype = scores.dtype
    scores = tf.where(allowed, tf.cast(scores, tf.float32), NEG_INF)
    return tf.cast(tf.nn.softmax(scores, axis=-1), dtype)
