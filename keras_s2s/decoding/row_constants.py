"""Per-row constants: state a beam search never copies per beam.

Part of a decoding state is the same for every hypothesis of a sentence and
never changes while it is translated: the encoder outputs an attention RNN
looks at, a Transformer's cross-attention keys and values, the source mask.
Repeating those for each of a row's `beam_width` beams, then gathering them
at every step so that they follow their beams, moves memory without changing
a single value (a beam never leaves its row).

A state type declares such fields by name, as a class attribute of its
NamedTuple:

    class TransformerState(NamedTuple):
        row_constants = ("cross_attention", "source_mask")
        ...

The beam loops then keep those fields at one entry per batch row, reorder
only the other fields, and call `step_fn(tokens, state, beams=BeamLayout)`:
`BeamLayout.slots` says, for each computed beam, which row it belongs to and
which of the row's `beam_width` slots it fills, so the model can attend with
all of a row's beams at once against that row's constants
(`attend_by_row`). States without the attribute (plain tuples, test fakes)
are gathered whole and `step_fn` is called with two arguments, as before.
Greedy search and sampling keep one hypothesis per row, so they never pass
`beams` and the constants are ordinary rows there.
"""

from __future__ import annotations

from typing import NamedTuple

import tensorflow as tf


class BeamLayout(NamedTuple):
    """Where each computed beam sits: `slots[i] = row * width + slot` for beam i."""

    slots: tf.Tensor  # int32 (m,), each in [0, rows * width)
    # int32 (): beam_width, slots per row (a tensor: Keras layers refuse a nest
    # that mixes tensors and Python values as a call argument)
    width: tf.Tensor


def constant_fields(state) -> tuple:
    """Names of `state`'s per-row constant fields (empty: none declared)."""
    return tuple(getattr(type(state), "row_constants", ()))


def _map_moving(fn, state):
    """`fn` applied to every tensor of the fields that follow the beams."""
    names = constant_fields(state)
    if not names:
        return tf.nest.map_structure(fn, state)
    return state._replace(**{field: tf.nest.map_structure(fn, getattr(state, field))
                             for field in state._fields if field not in names})


def repeat_for_beams(state, beam_width: int):
    """(batch, ...) -> (batch * beam_width, ...) for the fields that follow beams."""
    return _map_moving(lambda t: tf.repeat(t, beam_width, axis=0), state)


def reorder(state, indices):
    """The fields that follow beams, gathered at `indices`; constants untouched."""
    return _map_moving(lambda t: tf.gather(t, indices), state)


def step(step_fn, tokens, state, slots, width: int):
    """`step_fn` on the computed beams, told their layout if the state has constants."""
    if constant_fields(state):
        return step_fn(tokens, state, beams=BeamLayout(slots, tf.constant(width, tf.int32)))
    return step_fn(tokens, state)


def attend_by_row(queries, beams: BeamLayout | None, rows, attend):
    """Runs `attend` with each row's beams as that row's query positions.

    Args:
        queries: `(m, d)`, one per computed beam (or per row without `beams`).
        beams: the beams' layout, or None when query i belongs to row i.
        rows: the number of rows the constants hold (their first dimension).
        attend: `(rows, t, d) -> (rows, t, d_out)` attention against the
            constants; it sees `t = beam_width` queries per row (zeros in
            slots without a computed beam, whose outputs are dropped), or
            `t = 1` without `beams`.

    Returns `(m, d_out)`: each beam's output, as if its row's constants had
    been copied to it. Only queries and outputs (one vector per beam) are
    scattered and gathered; the constants are read once per row.
    """
    if beams is None:
        return attend(queries[:, None, :])[:, 0, :]
    width = beams.width
    size = tf.shape(queries)[-1]
    padded = tf.scatter_nd(beams.slots[:, None], queries, tf.stack([rows * width, size]))
    outputs = attend(tf.reshape(padded, tf.stack([rows, width, size])))
    outputs = tf.reshape(outputs, tf.stack([rows * width, tf.shape(outputs)[-1]]))
    return tf.gather(outputs, beams.slots)
