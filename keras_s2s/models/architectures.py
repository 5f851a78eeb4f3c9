"""The architectures `build_model` (and `keras-s2s train --architecture`) offers,
by name, and the choices inside them. Plain data, no TensorFlow import: the
CLI offers these choices before it loads TensorFlow.

Each name is a preset: the model class's options it fixes.
"""

from __future__ import annotations

CELL_TYPES = ("gru", "lstm")
ATTENTION_TYPES = ("luong", "bahdanau")  # see models/attention_layers.py
# "word": one token per word or punctuation mark; "wordpiece": words cut into
# subword pieces (see keras_s2s.subwords).
TOKENIZATIONS = ("word", "wordpiece")

# name -> the RNNSeq2Seq options it fixes (None: the Transformer).
ARCHITECTURE_PRESETS = {
    "gru": dict(cell_type="gru", attention=None),
    "lstm": dict(cell_type="lstm", attention=None),
    "gru-attention": dict(cell_type="gru", attention="luong"),
    "lstm-attention": dict(cell_type="lstm", attention="luong"),
    "transformer": None,
}
ARCHITECTURES = tuple(ARCHITECTURE_PRESETS)
