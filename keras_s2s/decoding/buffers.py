"""The fixed-shape pieces every decoding loop carries: its bound, each row's
length limit, buffer writes, and shape invariants for rows that shrink."""

from __future__ import annotations

import tensorflow as tf

from keras_s2s.decoding import checks


def check_max_length(max_length):
    """A Python int >= 1 or a scalar int tensor (its value is checked by the loop)."""
    if not tf.is_tensor(max_length):
        if not checks.is_integer(max_length) or max_length < 1:
            raise ValueError(f"max_length must be an integer >= 1 (or a scalar int tensor), "
                             f"got {max_length!r}.")


def loop_bound(max_length):
    """`max_length` as the loop compares it: a Python int stays one (static
    buffer shapes, XLA-friendly); a tensor becomes an int32 scalar like the step."""
    if tf.is_tensor(max_length):
        return tf.cast(max_length, tf.int32)
    return int(max_length)


def batch_size_of(state) -> tf.Tensor:
    """Rows in a state nest: the first dimension of its first tensor."""
    return tf.shape(tf.nest.flatten(state)[0])[0]


def row_max_lengths(max_lengths, state, max_length) -> tf.Tensor:
    """Each row's length limit, int32 `[batch]`: `max_lengths` capped at
    `max_length`, or `max_length` for every row when it is None."""
    if max_lengths is None:
        return tf.fill([batch_size_of(state)], tf.cast(max_length, tf.int32))
    return tf.minimum(tf.cast(max_lengths, tf.int32), tf.cast(max_length, tf.int32))


def write_at(buffer: tf.Tensor, position, values: tf.Tensor, *, axis: int = -1) -> tf.Tensor:
    """`buffer` with `values` written at index `position` of `axis`, as a pure op.

    `position` is a scalar (the same index in every row) or int32 `[batch]`
    (one per row of axis 0). `values` has `buffer`'s shape without `axis`, or
    with size 1 there. A one-hot select instead of a scatter keeps every shape
    fixed, which `tf.while_loop` shape invariants and XLA both want.
    """
    rank = buffer.shape.rank
    axis %= rank
    position = tf.cast(position, tf.int32)
    hit = tf.equal(tf.range(tf.shape(buffer)[axis]), position[..., None])  # ([batch,] width)
    shape = [1] * rank
    shape[axis] = -1
    if position.shape.rank == 1:  # per row
        shape[0] = tf.shape(buffer)[0]
    hit = tf.reshape(hit, shape)
    if values.shape.rank < rank:
        values = tf.expand_dims(values, axis)
    return tf.where(hit, tf.cast(values, buffer.dtype), buffer)


def inside_xla() -> bool:
    """Whether the graph being traced will be compiled by XLA (jit_compile=True)."""
    try:  # not public API: if it moves, assume no XLA and let the caller say so
        from tensorflow.python.ops import control_flow_util

        return bool(control_flow_util.GraphOrParentsInXlaContext(tf.compat.v1.get_default_graph()))
    except Exception:  # noqa: BLE001
        return False


def with_free_batch_axis(shape: tf.TensorShape) -> tf.TensorShape:
    """A shape invariant for a loop variable whose batch axis may shrink."""
    return tf.TensorShape([None]).concatenate(shape[1:])


def free_state_shape(shape: tf.TensorShape) -> tf.TensorShape:
    """A shape invariant for a state tensor outside XLA: every axis but the
    last may change from step to step (the batch as rows finish or beams are
    dropped, a cache's time axis as it grows); the last, the features, may not."""
    if shape.rank is None or shape.rank < 2:
        return tf.TensorShape([None] * (shape.rank or 0)) if shape.rank else shape
    return tf.TensorShape([None] * (shape.rank - 1)).concatenate(shape[-1:])


def state_invariants(state):
    """The model state's shape invariants: free (`free_state_shape`) outside
    XLA, fixed under XLA, which needs every shape fixed."""
    shapes = tf.nest.map_structure(lambda t: t.shape, state)
    return shapes if inside_xla() else tf.nest.map_structure(free_state_shape, shapes)
